package automation_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/automationtest"
)

func TestFreezeRefusesEveryRunUntilLifted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, threeEnvs())
	until := time.Now().Add(48 * time.Hour)
	f, err := h.d.Freeze("incident 4711: payments degraded", until)
	require.NoError(t, err)
	assert.Contains(t, f.By, "@")

	_, err = h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
	require.Error(t, err)
	assert.True(t, automation.IsFrozen(err), "%v", err)
	assert.True(t, automation.IsGateRefused(err), "a freeze is a gate: exit 3")
	assert.Contains(t, err.Error(), "incident 4711: payments degraded")
	assert.Contains(t, err.Error(), f.By)
	assert.Contains(t, err.Error(), until.UTC().Format(time.RFC3339))
	assert.Empty(t, h.fake.CallList(), "nothing ran")

	_, err = h.d.Upgrade(context.Background(), automation.UpgradeRequest{To: "1.33"})
	assert.True(t, automation.IsFrozen(err), "an upgrade is refused too: %v", err)
	_, err = h.d.Resume(context.Background(), nil, nil)
	assert.True(t, automation.IsFrozen(err), "and a resume: %v", err)

	st, err := h.d.Status(context.Background())
	require.NoError(t, err)
	require.NotNil(t, st.Freeze, "status shows the freeze")
	assert.Equal(t, "incident 4711: payments degraded", st.Freeze.Reason)

	lifted, err := h.d.Unfreeze()
	require.NoError(t, err)
	require.NotNil(t, lifted)
	assert.Equal(t, f.Reason, lifted.Reason)
	_, err = h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
	require.NoError(t, err)

	again, err := h.d.Unfreeze()
	require.NoError(t, err)
	assert.Nil(t, again, "nothing to lift")
}

func TestFreezeNeedsAReasonAndAFutureEnd(t *testing.T) {
	t.Parallel()
	h := newHarness(t, threeEnvs())
	_, err := h.d.Freeze("  ", time.Time{})
	assert.True(t, automation.IsInputError(err), "%v", err)
	_, err = h.d.Freeze("late", time.Now().Add(-time.Minute))
	assert.True(t, automation.IsInputError(err), "%v", err)
	assert.Contains(t, err.Error(), "in the past")
}

func TestExpiredFreezeNoLongerHolds(t *testing.T) {
	t.Parallel()
	now := time.Now()
	clock := func() time.Time { return now }
	h := newHarness(t, threeEnvs(), automation.WithClock(func() time.Time { return clock() }))
	_, err := h.d.Freeze("until lunch", now.Add(time.Hour))
	require.NoError(t, err)
	f, err := h.d.Frozen()
	require.NoError(t, err)
	require.NotNil(t, f)
	clock = func() time.Time { return now.Add(61 * time.Minute) }
	f, err = h.d.Frozen()
	require.NoError(t, err)
	assert.Nil(t, f, "the freeze ended at its --until")
}

// A freeze set while a run goes on stops it before its next stack; resume continues
// once it is lifted.
func TestFreezeStopsARunBeforeItsNextStack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, threeEnvs())
	h.fake.OnCall = func(c automationtest.Call) error {
		if c.Op == automationtest.OpUp && c.Stack.Stack == "dev" {
			if _, err := h.d.Freeze("change freeze", time.Time{}); err != nil {
				return err
			}
		}
		return nil
	}
	j, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
	require.Error(t, err)
	assert.True(t, automation.IsFrozen(err), "%v", err)
	assert.Equal(t, automation.RunGated, j.Status)
	assert.Equal(t, automation.StatusSucceeded, j.Stacks["dev"].Status, "the running stack finished")
	assert.Equal(t, []string{"dev"}, stacksOf(h.fake.Ops(automationtest.OpUp)), "nothing new started")

	h.fake.OnCall = nil
	_, err = h.d.Unfreeze()
	require.NoError(t, err)
	j, err = h.d.Resume(context.Background(), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, automation.RunSucceeded, j.Status)
}

func TestUnfreezeLiftsAnUnreadableFreeze(t *testing.T) {
	t.Parallel()
	h := newHarness(t, threeEnvs())
	require.NoError(t, os.WriteFile(filepath.Join(h.state, "freeze.json"), []byte("{not json"), 0o644))
	_, err := h.rollout(automation.RolloutRequest{})
	require.Error(t, err, "an unreadable freeze refuses rather than being ignored")
	_, err = h.d.Unfreeze()
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(h.state, "freeze.json"))
	assert.True(t, os.IsNotExist(err))
}
