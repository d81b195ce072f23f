package automation_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/automationtest"
	"github.com/flotilla-io/flotilla/components/envset"
)

func TestPlan(t *testing.T) {
	t.Parallel()
	t.Run("previews every stack, flags what the policy would stop, changes nothing", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		h.fake.Previews["prod-canary"] = replaceIn("prod-canary")
		h.fake.Previews["staging-a"] = replaceIn("staging-a")
		res, err := h.d.Plan(context.Background(), automation.Selection{})
		require.NoError(t, err, "a plan needs no approval")
		require.Len(t, res.Stacks, 6)
		assert.Equal(t, "dev", res.Stacks[0].Stack.Stack)
		assert.Equal(t, map[string]int{"create": 1}, res.Stacks[0].Changes)
		byStack := map[string]automation.StackPlan{}
		for _, s := range res.Stacks {
			byStack[s.Stack.Stack] = s
		}
		assert.Equal(t, []automation.PolicyViolation{
			{URN: "urn:pulumi:prod-canary::flotilla::sim:index:Cluster::east", Op: "replace"},
			{URN: "urn:pulumi:prod-canary::flotilla::sim:index:NodePool::old", Op: "delete"},
		}, byStack["prod-canary"].Blocked)
		assert.Empty(t, byStack["staging-a"].Blocked, "staging is not protected")
		assert.Equal(t, 1, byStack["staging-a"].Changes["replace"])
		assert.Empty(t, byStack["dev"].Skip)

		assert.Len(t, h.fake.Ops(automationtest.OpPreview), 6)
		for _, op := range []string{automationtest.OpUp, automationtest.OpRefresh, automationtest.OpDestroy} {
			assert.Empty(t, h.fake.Ops(op))
		}
		_, err = os.Stat(filepath.Join(h.state, "runs"))
		assert.True(t, os.IsNotExist(err), "a plan journals nothing")
		ev := h.drain()
		assert.Equal(t, "plan", eventsOf[automation.RunStarted](ev)[0].Command)
		assert.Len(t, eventsOf[automation.StepDone](ev), 6)
	})
	t.Run("says why an unchanged stack would be skipped", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		j, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
		require.NoError(t, err)
		h.writeStackFile("dev", "config:\n  flotilla:environment: dev\n  changed: true\n")
		res, err := h.d.Plan(context.Background(), automation.Selection{})
		require.NoError(t, err)
		for _, s := range res.Stacks {
			if s.Stack.Stack == "dev" {
				assert.Empty(t, s.Skip)
			} else {
				assert.Contains(t, s.Skip, j.RunID, s.Stack.Stack)
			}
		}
	})
	t.Run("in parallel up to each stage's concurrency", func(t *testing.T) {
		t.Parallel()
		set := envset.Set{Environments: []envset.Environment{
			{Name: "dev", MaxConcurrency: 2, Waves: [][]string{{"a", "b"}, {"c", "d", "e"}}},
			{Name: "prod", MaxConcurrency: 1, Waves: [][]string{{"p1", "p2", "p3"}}},
		}}
		h := newHarness(t, set)
		h.fake.Delay["preview"] = 50 * time.Millisecond
		_, err := h.d.Plan(context.Background(), automation.Selection{})
		require.NoError(t, err)
		previews := h.fake.Ops(automationtest.OpPreview)
		assert.Equal(t, 2, maxOverlap(callsOn(previews, "a", "b", "c", "d", "e")))
		assert.Equal(t, 1, maxOverlap(callsOn(previews, "p1", "p2", "p3")))
	})
	t.Run("a failed preview is reported, the others still are", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		h.fake.NextErr["preview/staging-b"] = errors.New("error: program failed: invalid pool size")
		res, err := h.d.Plan(context.Background(), automation.Selection{})
		require.True(t, automation.IsStackError(err), "%v", err)
		assert.Contains(t, err.Error(), "invalid pool size")
		require.Len(t, res.Stacks, 6)
		for _, s := range res.Stacks {
			if s.Stack.Stack == "staging-b" {
				assert.Equal(t, "program failed: invalid pool size", s.Error)
			} else {
				assert.Empty(t, s.Error)
			}
		}
	})
	t.Run("pre-flight and selection first", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		h.invalid["prod-eu"] = errors.New("bad pod range")
		_, err := h.d.Plan(context.Background(), automation.Selection{})
		require.True(t, automation.IsInputError(err))
		_, err = h.d.Plan(context.Background(), automation.Selection{Environments: []string{"qa"}})
		require.True(t, automation.IsInputError(err))
		assert.Empty(t, h.fake.CallList())
	})
}

func TestStatus(t *testing.T) {
	t.Parallel()
	h := newHarness(t, threeEnvs())
	st, err := h.d.Status(context.Background())
	require.NoError(t, err)
	assert.Nil(t, st.Run)
	assert.Nil(t, st.Lock)
	require.Len(t, st.Stacks, 6)
	for _, s := range st.Stacks {
		assert.Nil(t, s.LastUpdate)
		assert.Nil(t, s.LastGood)
		assert.Equal(t, []string{"no successful update through the deploy program yet"}, s.Lag)
		assert.Empty(t, s.Versions)
		assert.Empty(t, s.Error)
	}
	assert.Empty(t, h.fake.Ops(automationtest.OpOutputs), "no outputs are read of a stack that does not exist")

	for _, s := range h.set.Stacks() {
		h.fake.StackOutputs[s] = automation.Outputs{
			"versions":    {Value: map[string]any{s + "-east": "1.30"}},
			"kubeconfigs": {Value: "secret", Secret: true},
		}
	}
	h.fake.NextErr["up/prod-eu"] = errors.New("error: boom")
	run, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
	require.True(t, automation.IsRunFailed(err))

	h.writeStackFile("staging-a", "config:\n  flotilla:environment: staging\n  newer: true\n")
	h.fake.Deployed("staging-b", time.Time{}, automation.Outputs{"versions": {Value: map[string]any{"staging-b-east": "1.31"}}})
	h.fake.NextErr["state/dev"] = errors.New("backend unreachable")
	st, err = h.d.Status(context.Background())
	require.NoError(t, err)
	require.NotNil(t, st.Run)
	assert.Equal(t, run.RunID, st.Run.RunID)
	assert.Equal(t, automation.RunFailed, st.Run.Status)
	got := map[string]automation.StackStatusReport{}
	for _, s := range st.Stacks {
		got[s.Stack.Stack] = s
	}
	assert.Contains(t, got["dev"].Error, "backend unreachable", "an unreadable stack is reported with its error")
	require.NotNil(t, got["dev"].LastGood, "and what is known of it still is")

	canary := got["prod-canary"]
	require.NotNil(t, canary.LastUpdate)
	require.NotNil(t, canary.LastGood)
	assert.Equal(t, run.RunID, canary.LastGood.RunID)
	assert.Empty(t, canary.Lag)
	assert.Equal(t, map[string]string{"prod-canary-east": "1.30"}, canary.Versions)

	assert.Equal(t, []string{"stacks/Pulumi.staging-a.yaml changed since its last successful update (run " + run.RunID + ")"}, got["staging-a"].Lag)
	require.Len(t, got["staging-b"].Lag, 1)
	assert.Contains(t, got["staging-b"].Lag[0], "its state changed outside the deploy program")
	assert.Equal(t, map[string]string{"staging-b-east": "1.31"}, got["staging-b"].Versions)
	assert.Nil(t, got["prod-eu"].LastGood)
	assert.Nil(t, got["prod-eu"].LastUpdate, "its up failed before anything changed")

	data, err := json.Marshal(st)
	require.NoError(t, err)
	assert.NotContains(t, string(data), `"secret"`)

	old := time.Now().Add(-time.Hour)
	writeLock(t, h.state, automation.LockHolder{RunID: "x", Command: "rollout", User: "ci", Host: "runner-9", PID: 7, Since: old, Heartbeat: old})
	st, err = h.d.Status(context.Background())
	require.NoError(t, err)
	require.NotNil(t, st.Lock)
	assert.Equal(t, "runner-9", st.Lock.Host)
	assert.Contains(t, st.LockStale, "heartbeat")
}

func TestDrift(t *testing.T) {
	t.Parallel()
	deployed := func(t *testing.T) *harness {
		h := newHarness(t, threeEnvs())
		_, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
		require.NoError(t, err)
		h.fake.Reset()
		h.drain()
		return h
	}
	t.Run("none", func(t *testing.T) {
		t.Parallel()
		h := deployed(t)
		res, err := h.d.Drift(context.Background(), automation.Selection{})
		require.NoError(t, err)
		require.Len(t, res.Stacks, 6)
		for _, s := range res.Stacks {
			assert.False(t, s.Drifted, s.Stack.Stack)
		}
		previews := h.fake.Ops(automationtest.OpPreview)
		require.Len(t, previews, 6)
		for _, p := range previews {
			assert.True(t, p.Options.Refresh)
			assert.True(t, p.Options.ExpectNoChanges)
		}
		assert.Empty(t, h.fake.Ops(automationtest.OpUp))
		holder, _, err := h.d.Lock()
		require.NoError(t, err)
		assert.Nil(t, holder, "the lock is released")
	})
	t.Run("a drifted stack", func(t *testing.T) {
		t.Parallel()
		h := deployed(t)
		change := automation.ResourceChange{URN: "urn:pulumi:staging-b::flotilla::sim:index:NodePool::spot", Type: "sim:index:NodePool", Op: "update"}
		h.fake.SetDrift("staging-b", change)
		res, err := h.d.Drift(context.Background(), automation.Selection{})
		var de *automation.DriftError
		require.ErrorAs(t, err, &de)
		assert.True(t, automation.IsDrift(err))
		assert.Equal(t, []string{"staging-b"}, de.Stacks)
		for _, s := range res.Stacks {
			assert.Equal(t, s.Stack.Stack == "staging-b", s.Drifted, s.Stack.Stack)
			if s.Drifted {
				assert.Equal(t, []automation.ResourceChange{change}, s.Resources)
			}
		}
	})
	t.Run("changes reported without the engine's refusal count too", func(t *testing.T) {
		t.Parallel()
		h := deployed(t)
		h.fake.SetPreview("dev", automation.OpResult{Changes: map[string]int{"update": 1},
			Resources: []automation.ResourceChange{{URN: "urn:x", Op: "update"}}})
		_, err := h.d.Drift(context.Background(), automation.Selection{Environments: []string{"dev"}})
		var de *automation.DriftError
		require.ErrorAs(t, err, &de)
		assert.Equal(t, []string{"dev"}, de.Stacks)
		assert.Len(t, h.fake.Ops(automationtest.OpPreview), 1)
	})
	t.Run("a stack that cannot be checked", func(t *testing.T) {
		t.Parallel()
		h := deployed(t)
		h.fake.NextErr["preview/dev"] = errors.New("error: provider unreachable")
		res, err := h.d.Drift(context.Background(), automation.Selection{})
		require.True(t, automation.IsStackError(err))
		assert.False(t, automation.IsDrift(err))
		assert.Equal(t, "provider unreachable", res.Stacks[0].Error)
	})
	t.Run("under the fleet lock", func(t *testing.T) {
		t.Parallel()
		h := deployed(t)
		now := time.Now()
		writeLock(t, h.state, automation.LockHolder{RunID: "x", Command: "rollout", User: "ci", Host: "runner-9", PID: 7, Since: now, Heartbeat: now})
		_, err := h.d.Drift(context.Background(), automation.Selection{})
		assert.True(t, automation.IsLocked(err))
		assert.Empty(t, h.fake.CallList())
	})
}

func TestDestroy(t *testing.T) {
	t.Parallel()
	deployed := func(t *testing.T) *harness {
		h := newHarness(t, threeEnvs())
		_, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
		require.NoError(t, err)
		h.fake.Reset()
		h.drain()
		return h
	}
	t.Run("refuses a protected environment", func(t *testing.T) {
		t.Parallel()
		h := deployed(t)
		_, err := h.d.Destroy(context.Background(), automation.DestroyRequest{Environment: "prod"})
		require.True(t, automation.IsInputError(err), "%v", err)
		assert.Contains(t, err.Error(), `environment "prod" is protected`)
		assert.Contains(t, err.Error(), "--allow-protected")
		_, err = h.d.Destroy(context.Background(), automation.DestroyRequest{Environment: "qa"})
		require.True(t, automation.IsInputError(err))
		assert.Empty(t, h.fake.CallList())
	})
	t.Run("last wave first, forgetting the last good updates", func(t *testing.T) {
		t.Parallel()
		h := deployed(t)
		h.fake.Delay["destroy"] = 10 * time.Millisecond
		res, err := h.d.Destroy(context.Background(), automation.DestroyRequest{Environment: "prod", AllowProtected: true})
		require.NoError(t, err)
		destroys := h.fake.Ops(automationtest.OpDestroy)
		require.Len(t, destroys, 3)
		assert.Equal(t, "prod-canary", destroys[2].Stack.Stack)
		assert.ElementsMatch(t, []string{"prod-east", "prod-eu"}, stacksOf(destroys[:2]))
		assert.False(t, destroys[2].Start.Before(lastEnd(destroys[:2])))
		assert.Equal(t, 1, maxOverlap(destroys[:2]), "prod destroys one stack at a time")
		require.Len(t, res.Stacks, 3)
		assert.Equal(t, map[string]int{"delete": 1}, res.Stacks[0].Changes)

		st, err := h.d.Status(context.Background())
		require.NoError(t, err)
		for _, s := range st.Stacks {
			if s.Stack.Environment == "prod" {
				assert.Nil(t, s.LastGood, s.Stack.Stack)
			} else {
				assert.NotNil(t, s.LastGood, s.Stack.Stack)
			}
		}
		require.NotNil(t, st.Run)
		assert.Equal(t, "destroy", st.Run.Command)
		assert.Equal(t, automation.RunSucceeded, st.Run.Status)
		for _, s := range []string{"prod-canary", "prod-east", "prod-eu"} {
			assert.Equal(t, automation.StatusSucceeded, st.Run.Stacks[s].Status)
			assert.Equal(t, automation.StepDestroy, st.Run.Stacks[s].Steps[0].Step)
		}
		_, err = h.d.Resume(context.Background(), nil, nil)
		assert.True(t, automation.IsNothingToResume(err))

		h.fake.Reset()
		_, err = h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"prod-canary", "prod-east", "prod-eu"}, h.fake.Stacks(automationtest.OpUp), "a destroyed stack is not skipped")
	})
	t.Run("a failure stops before the earlier waves", func(t *testing.T) {
		t.Parallel()
		h := deployed(t)
		h.fake.NextErr["destroy/prod-eu"] = errors.New("error: deleting cluster: still has node pools")
		_, err := h.d.Destroy(context.Background(), automation.DestroyRequest{Environment: "prod", AllowProtected: true})
		require.True(t, automation.IsStackError(err), "%v", err)
		assert.Contains(t, err.Error(), "still has node pools")
		assert.NotContains(t, h.fake.Stacks(automationtest.OpDestroy), "prod-canary")
		j, err := h.d.LatestRun()
		require.NoError(t, err)
		assert.Equal(t, automation.RunFailed, j.Status)
		assert.Equal(t, automation.StatusFailed, j.Stacks["prod-eu"].Status)
	})
	t.Run("an unprotected environment needs no flag", func(t *testing.T) {
		t.Parallel()
		h := deployed(t)
		_, err := h.d.Destroy(context.Background(), automation.DestroyRequest{Environment: "staging"})
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"staging-a", "staging-b"}, h.fake.Stacks(automationtest.OpDestroy))
	})
}
