package automation_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/automationtest"
	"github.com/flotilla-io/flotilla/components/envset"
)

func TestRolloutPromotesInOrderWithWaves(t *testing.T) {
	t.Parallel()
	h := newHarness(t, threeEnvs())
	h.fake.Delay["up"] = 5 * time.Millisecond
	j, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
	require.NoError(t, err)
	assert.Equal(t, automation.RunSucceeded, j.Status)

	ups := h.fake.Ops(automationtest.OpUp)
	require.Len(t, ups, 6)
	order := stacksOf(ups)
	assert.Equal(t, "dev", order[0])
	assert.ElementsMatch(t, []string{"staging-a", "staging-b"}, order[1:3])
	assert.Equal(t, "prod-canary", order[3])
	assert.ElementsMatch(t, []string{"prod-east", "prod-eu"}, order[4:])

	all := h.fake.CallList()
	// Every stage's ups start after the previous stage's last call (its health reads
	// included); every wave's after the previous wave's.
	steps := [][]string{{"dev"}, {"staging-a", "staging-b"}, {"prod-canary"}, {"prod-east", "prod-eu"}}
	for i := 1; i < len(steps); i++ {
		prev := callsOn(all, steps[i-1]...)
		next := callsOn(ups, steps[i]...)
		assert.False(t, firstStart(next).Before(lastEnd(prev)), "%v started before %v were done", steps[i], steps[i-1])
	}

	ev := h.drain()
	var stages []string
	for _, s := range eventsOf[automation.StageStarted](ev) {
		stages = append(stages, s.Environment)
	}
	assert.Equal(t, []string{"dev", "staging", "prod"}, stages)
	var waves []string
	for _, w := range eventsOf[automation.WaveStarted](ev) {
		waves = append(waves, fmt.Sprintf("%s/%d", w.Environment, w.Wave))
	}
	assert.Equal(t, []string{"dev/1", "staging/1", "prod/1", "prod/2"}, waves)

	// Health is read after each wave, before the next one starts.
	canaryHealthy := -1
	for i, e := range ev {
		if g, ok := e.(automation.GatePassed); ok && g.Gate == automation.GateHealth && g.Stack == "prod-canary" {
			canaryHealthy = i
		}
		if s, ok := e.(automation.StepStarted); ok && (s.Stack.Stack == "prod-east" || s.Stack.Stack == "prod-eu") {
			require.GreaterOrEqual(t, canaryHealthy, 0, "a second-wave stack started before the canary's health gate passed")
		}
	}
	for _, s := range []string{"dev", "staging-a", "prod-eu"} {
		assert.Equal(t, 1, h.health.Checks(s), s)
	}
}

func TestConcurrencyWithinAWave(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		limit     int
		selection int
		want      int
	}{
		{"one at a time", 1, 0, 1},
		{"two at once", 2, 0, 2},
		{"three at once", 3, 0, 3},
		{"capped by the selection", 4, 2, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			set := envset.Set{Environments: []envset.Environment{{Name: "dev", MaxConcurrency: tc.limit, Waves: [][]string{{"a", "b", "c", "d", "e", "f"}}}}}
			h := newHarness(t, set)
			h.fake.Delay["up"] = 50 * time.Millisecond
			_, err := h.rollout(automation.RolloutRequest{Selection: automation.Selection{MaxConcurrency: tc.selection}})
			require.NoError(t, err)
			ups := h.fake.Ops(automationtest.OpUp)
			require.Len(t, ups, 6)
			assert.Equal(t, tc.want, maxOverlap(ups), "stacks running at once")
		})
	}
}

func TestApprovalGate(t *testing.T) {
	t.Parallel()
	t.Run("missing in a non-interactive run refuses before any call", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		_, err := h.rollout(automation.RolloutRequest{})
		var ae *automation.ApprovalRequiredError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, "prod", ae.Environment)
		assert.True(t, automation.IsGateRefused(err))
		assert.Contains(t, err.Error(), "--approve prod")
		assert.Empty(t, h.fake.CallList())
	})
	t.Run("--approve passes", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		j, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
		require.NoError(t, err)
		assert.Equal(t, "--approve prod", j.Stage("prod").Approved)
	})
	t.Run("--to before prod needs none", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		_, err := h.rollout(automation.RolloutRequest{Selection: automation.Selection{To: "staging"}})
		require.NoError(t, err)
		assert.NotContains(t, h.fake.Stacks(automationtest.OpUp), "prod-canary")
	})
	for _, answer := range []bool{true, false} {
		t.Run(fmt.Sprintf("approver answers %v", answer), func(t *testing.T) {
			t.Parallel()
			var asked []string
			h := newHarness(t, threeEnvs(), automation.WithApprover(func(_ context.Context, env, summary string) (bool, error) {
				asked = append(asked, env+": "+summary)
				return answer, nil
			}))
			j, err := h.rollout(automation.RolloutRequest{})
			require.Equal(t, []string{"prod: prod: [prod-canary] then [prod-east, prod-eu]"}, asked)
			ups := h.fake.Stacks(automationtest.OpUp)
			if answer {
				require.NoError(t, err)
				assert.Equal(t, "prompt", j.Stage("prod").Approved)
				assert.Contains(t, ups, "prod-eu")
				return
			}
			var ae *automation.ApprovalRequiredError
			require.ErrorAs(t, err, &ae)
			assert.True(t, ae.Declined)
			assert.True(t, automation.IsGateRefused(err))
			assert.Equal(t, automation.RunGated, j.Status)
			assert.Equal(t, []string{"dev", "staging-a", "staging-b"}, sorted(ups))
		})
	}
}

func replaceIn(stack string) automation.OpResult {
	return automation.OpResult{
		Changes: map[string]int{"replace": 1, "delete": 1, "update": 1},
		Resources: []automation.ResourceChange{
			// The engine reports one replacement as three steps of one URN.
			{URN: "urn:pulumi:" + stack + "::flotilla::sim:index:Cluster::east", Type: "sim:index:Cluster", Op: "create-replacement"},
			{URN: "urn:pulumi:" + stack + "::flotilla::sim:index:Cluster::east", Type: "sim:index:Cluster", Op: "replace"},
			{URN: "urn:pulumi:" + stack + "::flotilla::sim:index:Cluster::east", Type: "sim:index:Cluster", Op: "delete-replaced"},
			{URN: "urn:pulumi:" + stack + "::flotilla::sim:index:NodePool::old", Type: "sim:index:NodePool", Op: "delete"},
			{URN: "urn:pulumi:" + stack + "::flotilla::sim:index:NodePool::keep", Type: "sim:index:NodePool", Op: "update"},
		},
	}
}

func TestPreviewPolicy(t *testing.T) {
	t.Parallel()
	t.Run("protected refuses replace and delete, naming each", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		h.fake.Previews["prod-canary"] = replaceIn("prod-canary")
		j, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
		var pe *automation.PreviewPolicyError
		require.ErrorAs(t, err, &pe)
		assert.True(t, automation.IsGateRefused(err))
		assert.Equal(t, []automation.PolicyViolation{
			{URN: "urn:pulumi:prod-canary::flotilla::sim:index:Cluster::east", Op: "replace"},
			{URN: "urn:pulumi:prod-canary::flotilla::sim:index:NodePool::old", Op: "delete"},
		}, pe.Violations, "a replaced resource is named once")
		assert.Contains(t, err.Error(), "would replace or delete 2 resource(s)")
		assert.Contains(t, err.Error(), "replace urn:pulumi:prod-canary::flotilla::sim:index:Cluster::east")
		assert.Contains(t, err.Error(), "delete urn:pulumi:prod-canary::flotilla::sim:index:NodePool::old")
		assert.NotContains(t, err.Error(), "::keep")
		assert.Equal(t, automation.RunGated, j.Status)
		assert.NotContains(t, h.fake.Stacks(automationtest.OpUp), "prod-canary")
		assert.NotContains(t, h.fake.Stacks(automationtest.OpPreview), "prod-east", "nothing after the refusal")
		assert.NotEmpty(t, eventsOf[automation.GateFailed](h.drain()))
	})
	t.Run("--allow-replace passes", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		h.fake.Previews["prod-canary"] = replaceIn("prod-canary")
		_, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}, AllowReplace: true})
		require.NoError(t, err)
		assert.Contains(t, h.fake.Stacks(automationtest.OpUp), "prod-canary")
	})
	t.Run("an unprotected environment is not affected", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		h.fake.Previews["staging-a"] = replaceIn("staging-a")
		_, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
		require.NoError(t, err)
		assert.Contains(t, h.fake.Stacks(automationtest.OpUp), "staging-a")
	})
}

func TestHealthGate(t *testing.T) {
	t.Parallel()
	t.Run("unhealthy fails the stack and halts", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		h.health.SetProblems("staging-b", "pool spot: 1/3 nodes ready")
		j, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
		var rf *automation.RunFailedError
		require.ErrorAs(t, err, &rf)
		assert.False(t, rf.WithExceptions)
		require.Len(t, rf.Failed, 1)
		assert.Equal(t, "staging-b", rf.Failed[0].Stack.Stack)
		assert.Equal(t, automation.StepHealth, rf.Failed[0].Step)
		assert.Contains(t, err.Error(), "pool spot: 1/3 nodes ready")
		assert.Equal(t, automation.RunFailed, j.Status)
		assert.Equal(t, automation.StatusFailed, j.Stacks["staging-b"].Status)
		assert.Equal(t, automation.StatusSucceeded, j.Stacks["staging-a"].Status)
		assert.NotContains(t, h.fake.Stacks(automationtest.OpPreview), "prod-canary")
		failed := eventsOf[automation.StackFailed](h.drain())
		require.Len(t, failed, 1)
		assert.Equal(t, automation.StepHealth, failed[0].Step)
	})
	t.Run("a stale reading never counts", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		h.health.SetStale(true)
		j, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
		require.True(t, automation.IsRunFailed(err), "%v", err)
		assert.Contains(t, err.Error(), "stale reading never counts")
		assert.Equal(t, automation.StatusFailed, j.Stacks["dev"].Status)
		assert.Equal(t, []string{"dev"}, h.fake.Stacks(automationtest.OpUp))
	})
	t.Run("an error reading health fails", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		h.health.SetErr("dev", errors.New("dial tcp 127.0.0.1:6443: connection refused"))
		_, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
		require.True(t, automation.IsRunFailed(err))
		assert.Contains(t, err.Error(), "connection refused")
	})
}

// soakSet is dev soaking 10 minutes, at a time scale that makes it 300ms, then prod.
func soakSet() envset.Set {
	return envset.Set{Environments: []envset.Environment{
		{Name: "dev", MaxConcurrency: 2, Soak: 10 * time.Minute, Waves: [][]string{{"dev-a", "dev-b"}}},
		{Name: "prod", MaxConcurrency: 1},
	}}
}

const soakScale = float64(10*time.Minute) / float64(300*time.Millisecond)

func TestSoak(t *testing.T) {
	t.Parallel()
	t.Run("health is re-checked during the soak", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, soakSet(), automation.WithTimeScale(soakScale))
		j, err := h.rollout(automation.RolloutRequest{})
		require.NoError(t, err)
		assert.GreaterOrEqual(t, h.health.Checks("dev-a"), 4, "the gate, and readings during the soak")
		ev := h.drain()
		progress := eventsOf[automation.SoakProgress](ev)
		require.NotEmpty(t, progress)
		assert.Equal(t, 10*time.Minute, progress[len(progress)-1].Elapsed)
		for _, p := range progress {
			assert.True(t, p.Healthy)
		}
		sr := j.Stage("dev")
		require.NotNil(t, sr.SoakStarted)
		assert.True(t, sr.SoakDone)
		// prod starts after the soak.
		prodUp := h.fake.Ops(automationtest.OpUp)[2]
		assert.Equal(t, "prod", prodUp.Stack.Stack)
		assert.GreaterOrEqual(t, prodUp.Start.Sub(*sr.SoakStarted), 300*time.Millisecond)
	})
	t.Run("unhealthy during the soak fails", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, soakSet(), automation.WithTimeScale(soakScale))
		h.health.OnCheck = func(s automation.StackRef, n int) {
			if s.Stack == "dev-b" && n == 2 {
				h.health.SetProblems("dev-b", "kube-system pod coredns is Pending")
			}
		}
		j, err := h.rollout(automation.RolloutRequest{})
		var rf *automation.RunFailedError
		require.ErrorAs(t, err, &rf)
		require.Len(t, rf.Failed, 1)
		assert.Equal(t, automation.StepSoak, rf.Failed[0].Step)
		assert.Contains(t, err.Error(), "coredns is Pending")
		assert.Equal(t, automation.StatusFailed, j.Stacks["dev-b"].Status)
		assert.NotContains(t, h.fake.Stacks(automationtest.OpUp), "prod")
		var soakFailed bool
		for _, g := range eventsOf[automation.GateFailed](h.drain()) {
			soakFailed = soakFailed || g.Gate == automation.GateSoak
		}
		assert.True(t, soakFailed)
	})
	t.Run("a resumed run serves only what is left", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, soakSet(), automation.WithTimeScale(soakScale))
		stop := make(chan struct{})
		h.health.OnCheck = func(s automation.StackRef, n int) {
			if s.Stack == "dev-a" && n == 1 { // the first reading during the soak
				close(stop)
			}
		}
		j, err := h.rollout(automation.RolloutRequest{Stop: stop})
		require.True(t, automation.IsInterrupted(err), "%v", err)
		assert.Equal(t, automation.RunInterrupted, j.Status)
		started := j.Stage("dev").SoakStarted
		require.NotNil(t, started)
		assert.False(t, j.Stage("dev").SoakDone)
		h.drain()
		h.health.OnCheck = nil

		time.Sleep(150 * time.Millisecond)
		served := time.Since(*started)
		j, err = h.d.Resume(context.Background(), nil, nil)
		require.NoError(t, err)
		assert.Equal(t, automation.RunSucceeded, j.Status)
		assert.True(t, started.Equal(*j.Stage("dev").SoakStarted), "the soak's start is kept")
		progress := eventsOf[automation.SoakProgress](h.drain())
		require.NotEmpty(t, progress)
		assert.GreaterOrEqual(t, progress[0].Elapsed, time.Duration(float64(served)*soakScale),
			"the resumed soak counts from when it first started")
		assert.Equal(t, []string{"dev-a", "dev-b", "prod"}, sorted(h.fake.Stacks(automationtest.OpUp)), "no stack is updated again")
	})
	t.Run("the last stage does not soak", func(t *testing.T) {
		t.Parallel()
		set := envset.Set{Environments: []envset.Environment{{Name: "dev", MaxConcurrency: 1, Soak: time.Hour}}}
		h := newHarness(t, set)
		_, err := h.rollout(automation.RolloutRequest{})
		require.NoError(t, err)
		assert.Empty(t, eventsOf[automation.SoakProgress](h.drain()))
	})
}

func budgetSet(maxFailures int) envset.Set {
	return envset.Set{Environments: []envset.Environment{
		{Name: "dev", MaxConcurrency: 2, MaxFailures: maxFailures, Waves: [][]string{{"s1", "s2", "s3", "s4"}, {"s5"}}},
		{Name: "prod", MaxConcurrency: 1},
	}}
}

func TestFailureBudget(t *testing.T) {
	t.Parallel()
	t.Run("zero halts: running stacks finish, nothing new starts", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, budgetSet(0))
		h.fake.Delay["up"] = 60 * time.Millisecond
		h.fake.Delay["up/s1"] = 0
		s2Running := make(chan struct{})
		h.fake.OnCall = func(c automationtest.Call) error {
			switch c.Key() {
			case "up/s2":
				close(s2Running)
			case "up/s1": // fails while s2 runs
				<-s2Running
				return errors.New("error: creating cluster: quota exceeded")
			}
			return nil
		}
		j, err := h.rollout(automation.RolloutRequest{})
		var rf *automation.RunFailedError
		require.ErrorAs(t, err, &rf)
		assert.False(t, rf.WithExceptions)
		require.Len(t, rf.Failed, 1)
		assert.Equal(t, "s1", rf.Failed[0].Stack.Stack)
		assert.Contains(t, err.Error(), "quota exceeded")
		assert.Equal(t, automation.RunFailed, j.Status)

		ups := h.fake.Ops(automationtest.OpUp)
		assert.Equal(t, []string{"s1", "s2"}, sorted(stacksOf(ups)), "s3, s4, s5 and prod never start")
		s1, s2 := callsOn(ups, "s1")[0], callsOn(ups, "s2")[0]
		assert.NoError(t, s2.Err, "the running stack finished")
		assert.True(t, s2.End.After(s1.End), "s2 was still running when s1 failed")
		assert.Equal(t, automation.StatusUpdated, j.Stacks["s2"].Status, "its health gate waits for a resume")
		assert.Equal(t, automation.StatusFailed, j.Stacks["s1"].Status)
		assert.Equal(t, automation.StatusPending, j.Stacks["s3"].Status)
		assert.Nil(t, j.Stage("prod").Started)
		for _, s := range eventsOf[automation.StageStarted](h.drain()) {
			assert.NotEqual(t, "prod", s.Environment)
		}
	})
	t.Run("one sets a stack aside and the run goes on", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, budgetSet(1))
		h.fake.NextErr["up/s2"] = errors.New("error: creating node pool: no capacity")
		j, err := h.rollout(automation.RolloutRequest{})
		var rf *automation.RunFailedError
		require.ErrorAs(t, err, &rf)
		assert.True(t, rf.WithExceptions)
		require.Len(t, rf.Failed, 1)
		assert.Equal(t, "s2", rf.Failed[0].Stack.Stack)
		assert.Equal(t, automation.RunFailedWithExceptions, j.Status)
		assert.Equal(t, automation.StatusSetAside, j.Stacks["s2"].Status)
		assert.Equal(t, []string{"prod", "s1", "s2", "s3", "s4", "s5"}, sorted(h.fake.Stacks(automationtest.OpUp)))
		failed := eventsOf[automation.StackFailed](h.drain())
		require.Len(t, failed, 1)
		assert.True(t, failed[0].SetAside)
	})
	t.Run("beyond the budget halts", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, budgetSet(1))
		h.fake.NextErr["up/s1"] = errors.New("error: one")
		h.fake.NextErr["up/s2"] = errors.New("error: two")
		j, err := h.rollout(automation.RolloutRequest{})
		var rf *automation.RunFailedError
		require.ErrorAs(t, err, &rf)
		assert.False(t, rf.WithExceptions)
		assert.Len(t, rf.Failed, 2)
		assert.Equal(t, automation.RunFailed, j.Status)
		assert.NotContains(t, h.fake.Stacks(automationtest.OpUp), "prod")
	})
}

func TestNoChangeRolloutSkipsEveryStack(t *testing.T) {
	t.Parallel()
	set := soakSet()
	h := newHarness(t, set, automation.WithTimeScale(float64(10*time.Minute)/float64(30*time.Millisecond)))
	first, err := h.rollout(automation.RolloutRequest{})
	require.NoError(t, err)
	h.fake.Reset()
	h.drain()

	second, err := h.rollout(automation.RolloutRequest{})
	require.NoError(t, err)
	assert.Equal(t, automation.RunSucceeded, second.Status)
	assert.Empty(t, h.fake.Ops(automationtest.OpUp))
	assert.Empty(t, h.fake.Ops(automationtest.OpPreview))
	ev := h.drain()
	skipped := eventsOf[automation.StackSkipped](ev)
	require.Len(t, skipped, 3)
	for _, s := range skipped {
		assert.Contains(t, s.Reason, first.RunID)
	}
	assert.Empty(t, eventsOf[automation.SoakProgress](ev), "an unchanged environment does not soak")
	for _, s := range []string{"dev-a", "dev-b", "prod"} {
		assert.Equal(t, automation.StatusSkipped, second.Stacks[s].Status)
	}
	for _, st := range eventsOf[automation.StageDone](ev) {
		assert.True(t, st.Skipped)
	}
	status, err := h.d.Status(context.Background())
	require.NoError(t, err)
	for _, s := range status.Stacks {
		require.NotNil(t, s.LastGood)
		assert.Equal(t, first.RunID, s.LastGood.RunID, "a skipped stack keeps its last good update")
	}

	t.Run("a changed stack file or state is not skipped", func(t *testing.T) {
		h.writeStackFile("dev-b", "config:\n  flotilla:environment: dev\n  x: 1\n")
		h.fake.Deployed("prod", time.Time{}, nil) // someone ran pulumi up on prod
		h.fake.Reset()
		third, err := h.rollout(automation.RolloutRequest{})
		require.NoError(t, err)
		assert.Equal(t, []string{"dev-b", "prod"}, sorted(h.fake.Stacks(automationtest.OpUp)))
		assert.Equal(t, automation.StatusSkipped, third.Stacks["dev-a"].Status)
	})
	t.Run("--refresh never skips", func(t *testing.T) {
		h.fake.Reset()
		_, err := h.rollout(automation.RolloutRequest{Refresh: true})
		require.NoError(t, err)
		assert.Len(t, h.fake.Ops(automationtest.OpUp), 3)
		for _, p := range h.fake.Ops(automationtest.OpPreview) {
			assert.True(t, p.Options.Refresh)
		}
	})
}

func TestPreflightStopsBeforeAnyChange(t *testing.T) {
	t.Parallel()
	h := newHarness(t, threeEnvs())
	h.invalid["prod-eu"] = errors.New("stacks/Pulumi.prod-eu.yaml: pool spot: minSize 5 is above maxSize 3")
	_, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
	require.True(t, automation.IsInputError(err), "%v", err)
	assert.Contains(t, err.Error(), "minSize 5 is above maxSize 3")
	assert.Empty(t, h.fake.CallList())

	h2 := newHarness(t, threeEnvs())
	h2.writeStackFile("orphan", "config: {}\n")
	_, err = h2.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
	require.True(t, automation.IsInputError(err))
	assert.Contains(t, err.Error(), `stack "orphan" is in no environment`)
	assert.Empty(t, h2.fake.CallList())

	_, err = h2.rollout(automation.RolloutRequest{Selection: automation.Selection{Environments: []string{"qa"}}})
	require.True(t, automation.IsInputError(err))
}

func TestStackLocks(t *testing.T) {
	t.Parallel()
	host, err := os.Hostname()
	require.NoError(t, err)
	dead := deadPID(t)
	t.Run("a dead update of ours is cleared and the op retried", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		h.fake.LockStack("staging-a", "root", host, dead)
		j, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
		require.NoError(t, err)
		assert.False(t, h.fake.Locked("staging-a"))
		assert.Equal(t, []string{"staging-a"}, h.fake.Stacks(automationtest.OpCancel))
		require.Len(t, j.Stacks["staging-a"].Cleared, 1)
		assert.Contains(t, j.Stacks["staging-a"].Cleared[0], fmt.Sprintf("root@%s (pid %d)", host, dead))
		var cleared []string
		for _, c := range eventsOf[automation.Cleared](h.drain()) {
			cleared = append(cleared, c.Stack.Stack)
		}
		assert.Equal(t, []string{"staging-a"}, cleared)
	})
	for _, tc := range []struct {
		name string
		host string
		pid  int
	}{
		{"a live update is never cleared", host, os.Getpid()},
		{"another host's is never cleared", "build-7.example.com", dead},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, threeEnvs())
			h.fake.LockStack("staging-a", "ci", tc.host, tc.pid)
			j, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
			var ce *automation.ConcurrentUpdateError
			require.ErrorAs(t, err, &ce)
			assert.True(t, automation.IsConcurrentUpdate(err))
			assert.Equal(t, "staging-a", ce.Stack.Stack)
			assert.Contains(t, err.Error(), fmt.Sprintf("ci@%s (pid %d)", tc.host, tc.pid))
			assert.Empty(t, h.fake.Ops(automationtest.OpCancel))
			assert.True(t, h.fake.Locked("staging-a"))
			assert.Equal(t, automation.RunFailed, j.Status)
		})
	}
}

// deadPID returns the PID of a process that has exited.
func deadPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	require.NoError(t, cmd.Run())
	return cmd.Process.Pid
}

func TestStopLetsRunningOpsFinish(t *testing.T) {
	t.Parallel()
	set := envset.Set{Environments: []envset.Environment{
		{Name: "dev", MaxConcurrency: 1, Waves: [][]string{{"dev-1", "dev-2"}}},
		{Name: "prod", MaxConcurrency: 1},
	}}
	h := newHarness(t, set)
	h.fake.Delay["up"] = 30 * time.Millisecond
	stop := make(chan struct{})
	h.fake.OnCall = func(c automationtest.Call) error {
		if c.Key() == "up/dev-1" {
			close(stop)
		}
		return nil
	}
	j, err := h.rollout(automation.RolloutRequest{Stop: stop})
	var ie *automation.InterruptedError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, j.RunID, ie.RunID)
	assert.Equal(t, automation.RunInterrupted, j.Status)
	ups := h.fake.Ops(automationtest.OpUp)
	require.Len(t, ups, 1, "nothing new starts")
	assert.NoError(t, ups[0].Err, "the running update finished")
	assert.Equal(t, automation.StatusPending, j.Stacks["dev-2"].Status)
	assert.Equal(t, automation.StatusUpdated, j.Stacks["dev-1"].Status)
	done := eventsOf[automation.RunDone](h.drain())
	require.Len(t, done, 1)
	assert.Equal(t, automation.RunInterrupted, done[0].Status)

	h.fake.OnCall = nil
	h.fake.Reset()
	j, err = h.d.Resume(context.Background(), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, automation.RunSucceeded, j.Status)
	assert.Equal(t, 1, j.Resumes)
	assert.Equal(t, []string{"dev-2", "prod"}, h.fake.Stacks(automationtest.OpUp), "dev-1 only needed its health gate")
	assert.Equal(t, 1, h.health.Checks("dev-1"))
	assert.Equal(t, automation.StatusSucceeded, j.Stacks["dev-1"].Status)
}

func TestStopDuringAPreviewStartsNoUp(t *testing.T) {
	t.Parallel()
	h := newHarness(t, threeEnvs())
	stop := make(chan struct{})
	h.fake.OnCall = func(c automationtest.Call) error {
		if c.Key() == "preview/dev" {
			close(stop)
		}
		return nil
	}
	j, err := h.rollout(automation.RolloutRequest{Stop: stop, Approve: []string{"prod"}})
	require.True(t, automation.IsInterrupted(err), "%v", err)
	assert.Empty(t, h.fake.Ops(automationtest.OpUp))
	assert.Equal(t, automation.StatusPending, j.Stacks["dev"].Status)
	assert.Empty(t, j.Failed())
}

func TestCancelledContextInterrupts(t *testing.T) {
	t.Parallel()
	h := newHarness(t, threeEnvs())
	h.fake.Delay["up/dev"] = time.Minute
	ctx, cancel := context.WithCancel(context.Background())
	h.fake.OnCall = func(c automationtest.Call) error {
		if c.Key() == "up/dev" {
			cancel()
		}
		return nil
	}
	j, err := h.d.Rollout(ctx, automation.RolloutRequest{Approve: []string{"prod"}})
	require.True(t, automation.IsInterrupted(err), "%v", err)
	assert.Equal(t, automation.RunInterrupted, j.Status)
	assert.Equal(t, automation.StatusPending, j.Stacks["dev"].Status)
	rec := j.Stacks["dev"].Steps
	require.NotEmpty(t, rec)
	assert.Equal(t, "interrupted", rec[len(rec)-1].Outcome)
}

func TestEvents(t *testing.T) {
	t.Parallel()
	t.Run("in order", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		j, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
		require.NoError(t, err)
		ev := h.drain()
		require.NotEmpty(t, ev)
		start, ok := ev[0].(automation.RunStarted)
		require.True(t, ok, "the first event is %T", ev[0])
		assert.Equal(t, j.RunID, start.RunID)
		assert.Equal(t, "rollout", start.Command)
		done, ok := ev[len(ev)-1].(automation.RunDone)
		require.True(t, ok, "the last event is %T", ev[len(ev)-1])
		assert.Equal(t, automation.RunSucceeded, done.Status)
		assert.Equal(t, []string{"run-started", "stage-started", "stage-done", "stage-started", "stage-done", "stage-started", "stage-done", "run-done"},
			kinds(ev, "run-started", "stage-started", "stage-done", "run-done"))
		// Every step that started is done, with its changes.
		started, finished := map[string]int{}, map[string]int{}
		for _, e := range ev {
			switch x := e.(type) {
			case automation.StepStarted:
				started[x.Stack.Stack+"/"+string(x.Step)]++
			case automation.StepDone:
				finished[x.Stack.Stack+"/"+string(x.Step)]++
				if x.Step == automation.StepUp {
					assert.Equal(t, map[string]int{"create": 1}, x.Changes)
				}
			}
		}
		assert.Equal(t, started, finished)
		assert.Equal(t, 1, started["prod-eu/up"])
		data, err := json.Marshal(ev)
		require.NoError(t, err)
		assert.Contains(t, string(data), `"step":"health"`)
	})
	t.Run("sending never blocks after cancellation", func(t *testing.T) {
		t.Parallel()
		unread := make(chan automation.Event) // nobody reads it
		h := newHarness(t, threeEnvs())
		d := h.deployer(automation.WithEvents(unread))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		begun := time.Now()
		_, err := d.Rollout(ctx, automation.RolloutRequest{Approve: []string{"prod"}})
		require.True(t, automation.IsInterrupted(err), "%v", err)
		assert.Less(t, time.Since(begun), time.Second)
	})
}

func TestSecretsNeverReachTheJournal(t *testing.T) {
	t.Parallel()
	const secret = "-----BEGIN PRIVATE KEY----- s3cr3t-kubeconfig-token"
	h := newHarness(t, threeEnvs())
	for _, s := range h.set.Stacks() {
		h.fake.StackOutputs[s] = automation.Outputs{
			"kubeconfigs": {Value: map[string]any{"east": secret}, Secret: true},
			"versions":    {Value: map[string]any{"east": "1.30"}},
		}
	}
	h.fake.NextErr["up/prod-eu"] = errors.New("error: " + "provider failed")
	_, runErr := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
	require.True(t, automation.IsRunFailed(runErr))
	walk := func(path string) {
		entries, err := os.ReadDir(path)
		require.NoError(t, err)
		for _, e := range entries {
			p := path + "/" + e.Name()
			if e.IsDir() {
				continue
			}
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			assert.NotContains(t, string(data), "s3cr3t", p)
		}
	}
	walk(h.state + "/runs")
	walk(h.state + "/stacks")
	data, err := json.Marshal(h.drain())
	require.NoError(t, err)
	assert.NotContains(t, string(data), "s3cr3t")
	assert.NotContains(t, runErr.Error(), "s3cr3t")
}

// cloudCredentials is a health checker that, like the simulator's, gets credentials
// from the cloud, and records the outputs it was handed.
type cloudCredentials struct {
	*automationtest.FakeHealth
	mu   sync.Mutex
	seen map[string]automation.Outputs
}

func (c *cloudCredentials) CredentialsFromCloud() bool { return true }

func (c *cloudCredentials) Check(ctx context.Context, s automation.StackRef, o automation.Outputs) (automation.HealthReport, error) {
	c.mu.Lock()
	c.seen[s.Stack] = o
	c.mu.Unlock()
	return c.FakeHealth.Check(ctx, s, o)
}

func TestNoChangeRolloutReadsNoOutputsWhenTheCloudHasTheCredentials(t *testing.T) {
	t.Parallel()
	health := &cloudCredentials{FakeHealth: automationtest.NewFakeHealth(), seen: map[string]automation.Outputs{}}
	set := envset.Set{Environments: []envset.Environment{{Name: "dev", MaxConcurrency: 2, Waves: [][]string{{"dev-a", "dev-b"}}}}}
	h := newHarness(t, set, automation.WithHealth(health))
	for _, s := range []string{"dev-a", "dev-b"} {
		h.fake.StackOutputs[s] = automation.Outputs{
			"clusters":    {Value: map[string]any{"east-1": map[string]any{"name": s + "-east-1"}}},
			"kubeconfigs": {Value: map[string]any{"east-1": "apiVersion: v1 # secret-" + s}, Secret: true},
		}
	}
	_, err := h.rollout(automation.RolloutRequest{})
	require.NoError(t, err)
	h.fake.Reset()

	second, err := h.rollout(automation.RolloutRequest{})
	require.NoError(t, err)
	assert.Equal(t, automation.RunSucceeded, second.Status)
	assert.Empty(t, h.fake.Ops(automationtest.OpOutputs), "an unchanged stack's recorded public outputs suffice")
	for _, s := range []string{"dev-a", "dev-b"} {
		got := health.seen[s]
		require.Contains(t, got, "clusters", "the public outputs of its last good update")
		assert.NotContains(t, got, "kubeconfigs", "secrets are never recorded")
	}
	assert.NotContains(t, readJournalFile(t, h.state), "secret-dev", "no secret in the journal")
	data, err := os.ReadFile(filepath.Join(h.state, "stacks", "dev-a.json"))
	require.NoError(t, err)
	assert.NotContains(t, string(data), "secret-dev", "no secret in the last-good record")
	assert.Contains(t, string(data), "dev-a-east-1")
}
