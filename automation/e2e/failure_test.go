package e2e_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
)

// TestApplyFailureInStagingHaltsBeforeProd: the cloud stops offering staging's version
// in one of its regions, so staging's up fails; the run halts before prod, and a retry
// after the fault is cleared completes it.
func TestApplyFailureInStagingHaltsBeforeProd(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	ctx := context.Background()
	// staging's west-1 is alone with dev's region untouched: dev goes up, staging fails.
	require.NoError(t, f.sim.Client.Unoffer(ctx, "sim-west-1", "1.31"))

	r := f.rollout(approveProd)
	logEvents(t, "rollout", r)
	require.Error(t, r.err)
	assert.True(t, automation.IsRunFailed(r.err), "%v", r.err)
	var rf *automation.RunFailedError
	require.True(t, errors.As(r.err, &rf))
	require.Len(t, rf.Failed, 1)
	assert.Equal(t, automation.StackRef{Environment: "staging", Stack: "staging"}, rf.Failed[0].Stack)
	assert.Equal(t, automation.StepUp, rf.Failed[0].Step)
	assert.Contains(t, rf.Failed[0].Reason, "1.31", "the reason names what the cloud refused: %s", rf.Failed[0].Reason)
	assert.NotContains(t, rf.Failed[0].Reason, "Updating (", "the engine's error is made readable, not its whole log")

	assertHaltedBeforeProd(t, f, r, "staging")
	failed := eventsOf[automation.StackFailed](r.events)
	require.Len(t, failed, 1)
	assert.Equal(t, "staging", failed[0].Stack.Stack)
	assert.Equal(t, automation.StepUp, failed[0].Step)
	assert.False(t, failed[0].SetAside, "prod's and staging's failure budget is 0")

	n, err := f.sim.Client.ClearFaults(ctx, cloud.FaultFilter{Kind: cloud.FaultUnoffer})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	retried := f.retry()
	logEvents(t, "retry", retried)
	require.NoError(t, retried.err)
	assert.Equal(t, automation.RunSucceeded, retried.journal.Status)
	assert.Equal(t, r.journal.RunID, retried.journal.RunID, "retry continues the same run")
	assertRetriedOnly(t, retried, "staging")
	f.assertCloud(allStacks...)
}

// TestHealthFailureInStagingHaltsBeforeProd: staging's spot pools have no fallback and
// spot runs out in one of its regions, so Nodes go missing; the health gate fails,
// the run halts before prod, and a retry once spot is back completes it.
func TestHealthFailureInStagingHaltsBeforeProd(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	ctx := context.Background()
	f.editStack("staging", func(s string) string {
		return strings.ReplaceAll(s, "fallback: {maxSize: 6, provisionTimeout: 5m}", "fallback: {disabled: true}")
	})
	f.noFallback["sim-east-1/staging-east-1"] = true
	f.noFallback["sim-west-1/staging-west-1"] = true
	require.NoError(t, f.sim.Client.SpotShortage(ctx, "sim-west-1", ""))

	r := f.rollout(approveProd)
	logEvents(t, "rollout", r)
	require.Error(t, r.err)
	assert.True(t, automation.IsRunFailed(r.err), "%v", r.err)
	var rf *automation.RunFailedError
	require.True(t, errors.As(r.err, &rf))
	require.Len(t, rf.Failed, 1)
	assert.Equal(t, "staging", rf.Failed[0].Stack.Stack)
	assert.Equal(t, automation.StepHealth, rf.Failed[0].Step)
	assert.Contains(t, rf.Failed[0].Reason, "staging-west-1", "the reason names the unhealthy cluster: %s", rf.Failed[0].Reason)
	assert.NotContains(t, rf.Failed[0].Reason, "staging-east-1", "east-1 has its spot nodes: %s", rf.Failed[0].Reason)

	assertHaltedBeforeProd(t, f, r, "staging")
	var gateFailed bool
	for _, g := range eventsOf[automation.GateFailed](r.events) {
		gateFailed = gateFailed || (g.Environment == "staging" && g.Gate == automation.GateHealth && g.Stack == "staging")
	}
	assert.True(t, gateFailed, "staging's health gate failed")
	_, soaked := gatePassed(r.events, "staging", automation.GateSoak, "")
	assert.False(t, soaked, "an unhealthy environment never soaks")
	for _, u := range eventsOf[automation.StepDone](r.events) {
		if u.Stack.Stack == "staging" && u.Step == automation.StepUp {
			assert.Empty(t, u.Error, "staging's up itself succeeded: only its health failed")
		}
	}

	_, err := f.sim.Client.ClearFaults(ctx, cloud.FaultFilter{Kind: cloud.FaultSpotShortage})
	require.NoError(t, err)
	waitSpotBack(t, f, "staging-west-1")
	retried := f.retry("staging")
	logEvents(t, "retry", retried)
	require.NoError(t, retried.err)
	assert.Equal(t, automation.RunSucceeded, retried.journal.Status)
	assertRetriedOnly(t, retried, "staging")
	f.assertCloud(allStacks...)
}

// assertHaltedBeforeProd checks that a run stopped at a failure in env: the journal
// says failed with prod's stacks pending, no prod step started, and the simulated cloud
// holds no prod cluster.
func assertHaltedBeforeProd(t *testing.T, f *fleet, r run, failed string) {
	t.Helper()
	require.NotNil(t, r.journal)
	assert.Equal(t, automation.RunFailed, r.journal.Status)
	assert.Equal(t, automation.StatusFailed, r.journal.Stacks[failed].Status)
	assert.Equal(t, automation.StatusSucceeded, r.journal.Stacks["dev"].Status)
	for _, s := range []string{"prod-canary", "prod-east", "prod-eu"} {
		assert.Equal(t, automation.StatusPending, r.journal.Stacks[s].Status, s)
	}
	for _, s := range eventsOf[automation.StepStarted](r.events) {
		assert.NotEqual(t, "prod", s.Stack.Environment, "no prod step starts after staging failed: %s %s", s.Stack, s.Step)
	}
	for _, s := range eventsOf[automation.StageStarted](r.events) {
		assert.NotEqual(t, "prod", s.Environment, "prod's stage never starts")
	}
	done := eventsOf[automation.RunDone](r.events)
	require.Len(t, done, 1)
	assert.Equal(t, automation.RunFailed, done[0].Status)
	for _, c := range f.sim.State(t).Clusters {
		assert.False(t, strings.HasPrefix(c.Name, "prod-"), "prod cluster %s/%s exists", c.Region, c.Name)
	}
}

// assertRetriedOnly checks that a retry ran only the given stacks (and the stages after
// them), never dev again.
func assertRetriedOnly(t *testing.T, r run, stacks ...string) {
	t.Helper()
	for _, s := range eventsOf[automation.StepStarted](r.events) {
		assert.NotEqual(t, "dev", s.Stack.Stack, "dev succeeded: the retry leaves it alone (%s)", s.Step)
	}
	ran := map[string]bool{}
	for _, s := range eventsOf[automation.StepStarted](r.events) {
		ran[s.Stack.Stack] = true
	}
	for _, s := range stacks {
		assert.True(t, ran[s], "the retry reran %s", s)
	}
	for _, s := range []string{"prod-canary", "prod-east", "prod-eu"} {
		assert.True(t, ran[s], "the retry went on to %s", s)
	}
}

// waitSpotBack waits until a cluster's spot pool has its nodes again.
func waitSpotBack(t *testing.T, f *fleet, cluster string) {
	t.Helper()
	require.Eventually(t, func() bool {
		st := f.sim.State(t)
		for _, p := range st.Pools {
			if p.Name == cluster+"-general-spot" {
				return p.ReadyNodes >= p.DesiredSize && p.DesiredSize > 0
			}
		}
		return false
	}, time.Minute, 100*time.Millisecond, "the spot pool of %s gets its nodes back once the shortage is over", cluster)
}
