package automation_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/automationtest"
)

func writeLock(t *testing.T, state string, h automation.LockHolder) {
	t.Helper()
	data, err := json.Marshal(h)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(state, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(state, "lock.json"), data, 0o644))
}

func TestFleetLock(t *testing.T) {
	t.Parallel()
	host, err := os.Hostname()
	require.NoError(t, err)

	t.Run("a second rollout is refused, naming the holder", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		holding, release := make(chan struct{}), make(chan struct{})
		h.fake.OnCall = func(c automationtest.Call) error {
			if c.Key() == "up/dev" {
				close(holding)
				<-release
			}
			return nil
		}
		first := make(chan error, 1)
		go func() {
			_, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
			first <- err
		}()
		<-holding
		second := h.deployer()
		_, err := second.Rollout(t.Context(), automation.RolloutRequest{Approve: []string{"prod"}})
		var le *automation.LockedError
		require.ErrorAs(t, err, &le)
		assert.True(t, automation.IsLocked(err))
		assert.Empty(t, le.Stale, "the holder is alive")
		assert.Equal(t, host, le.Holder.Host)
		assert.Equal(t, os.Getpid(), le.Holder.PID)
		assert.NotEmpty(t, le.Holder.User)
		assert.Equal(t, "rollout", le.Holder.Command)
		assert.Contains(t, err.Error(), le.Holder.User+"@"+host)
		assert.Contains(t, err.Error(), "last heartbeat")

		holder, stale, err := second.Lock()
		require.NoError(t, err)
		require.NotNil(t, holder)
		assert.Empty(t, stale)

		close(release)
		require.NoError(t, <-first)
		holder, _, err = second.Lock()
		require.NoError(t, err)
		assert.Nil(t, holder, "the lock is released when the run ends")
	})

	t.Run("a dead process's lock on this host is taken over", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		dead := deadPID(t)
		old := time.Now().Add(-time.Minute)
		writeLock(t, h.state, automation.LockHolder{RunID: "old-run", Command: "rollout", User: "root", Host: host, PID: dead, Since: old, Heartbeat: old})
		holder, stale, err := h.d.Lock()
		require.NoError(t, err)
		require.NotNil(t, holder)
		assert.Contains(t, stale, "is gone from this host")

		_, err = h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
		require.NoError(t, err)
		var cleared []string
		for _, c := range eventsOf[automation.Cleared](h.drain()) {
			cleared = append(cleared, c.What)
		}
		require.Len(t, cleared, 1)
		assert.Contains(t, cleared[0], "old-run")
	})

	t.Run("an expired heartbeat from another host is stale and refused", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		old := time.Now().Add(-time.Hour)
		writeLock(t, h.state, automation.LockHolder{RunID: "far-run", Command: "rollout", User: "ci", Host: "runner-9", PID: 77, Since: old, Heartbeat: old})
		_, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
		var le *automation.LockedError
		require.ErrorAs(t, err, &le)
		assert.Contains(t, le.Stale, "heartbeat is")
		assert.Contains(t, err.Error(), "flotilla unlock")
		assert.Contains(t, err.Error(), "ci@runner-9 (pid 77")
		assert.Empty(t, h.fake.CallList())

		cleared, err := h.d.Unlock()
		require.NoError(t, err)
		require.NotNil(t, cleared)
		assert.Equal(t, "far-run", cleared.RunID)
		assert.Equal(t, "runner-9", cleared.Host)
		holder, _, err := h.d.Lock()
		require.NoError(t, err)
		assert.Nil(t, holder)
		_, err = h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
		require.NoError(t, err)
	})

	t.Run("a live lock from another host is not stale", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		now := time.Now()
		writeLock(t, h.state, automation.LockHolder{RunID: "r", Command: "rollout", User: "ci", Host: "runner-9", PID: 77, Since: now, Heartbeat: now})
		_, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
		var le *automation.LockedError
		require.ErrorAs(t, err, &le)
		assert.Empty(t, le.Stale)
	})

	t.Run("unlock of an unlocked fleet clears nothing", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		cleared, err := h.d.Unlock()
		require.NoError(t, err)
		assert.Nil(t, cleared)
	})
}
