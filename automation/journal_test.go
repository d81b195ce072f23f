package automation_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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

func TestJournalContents(t *testing.T) {
	t.Parallel()
	h := newHarness(t, threeEnvs())
	h.fake.NextErr["up/prod-canary"] = errors.New("error: sim:index:Cluster resource 'canary' failed: region offers no version 1.29")
	before := time.Now()
	ret, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
	require.True(t, automation.IsRunFailed(err))

	var j automation.Journal
	require.NoError(t, json.Unmarshal([]byte(readJournalFile(t, h.state)), &j))
	assert.Equal(t, ret.RunID, j.RunID)
	assert.Equal(t, "rollout", j.Command)
	assert.Equal(t, automation.RunFailed, j.Status)
	require.NotNil(t, j.Finished)
	assert.Equal(t, os.Getpid(), j.PID)
	assert.Equal(t, []string{"prod"}, j.Request.Approve)
	assert.Contains(t, j.Error, "region offers no version 1.29")

	statuses := map[string]automation.StackStatus{}
	for s, rec := range j.Stacks {
		statuses[s] = rec.Status
	}
	assert.Equal(t, map[string]automation.StackStatus{
		"dev": automation.StatusSucceeded, "staging-a": automation.StatusSucceeded, "staging-b": automation.StatusSucceeded,
		"prod-canary": automation.StatusFailed, "prod-east": automation.StatusPending, "prod-eu": automation.StatusPending,
	}, statuses)

	data, err := os.ReadFile(filepath.Join(h.dir, "stacks", "Pulumi.staging-a.yaml"))
	require.NoError(t, err)
	sum := sha256.Sum256(data)
	assert.Equal(t, automation.Inputs{StackFile: "sha256:" + hex.EncodeToString(sum[:]), Program: "test"}, j.Stacks["staging-a"].Inputs)
	assert.Equal(t, 2, j.Stacks["prod-east"].Wave)

	var steps []automation.StepKind
	for _, s := range j.Stacks["dev"].Steps {
		steps = append(steps, s.Step)
		require.NotNil(t, s.Finished)
		assert.False(t, s.Started.Before(before))
		assert.False(t, s.Finished.Before(s.Started))
		assert.Equal(t, "ok", s.Outcome)
	}
	assert.Equal(t, []automation.StepKind{automation.StepPreview, automation.StepUp, automation.StepHealth}, steps)
	assert.Equal(t, map[string]int{"create": 1}, j.Stacks["dev"].Steps[1].Changes)

	canary := j.Stacks["prod-canary"]
	last := canary.Steps[len(canary.Steps)-1]
	assert.Equal(t, automation.StepUp, last.Step)
	assert.Equal(t, "failed", last.Outcome)
	assert.Contains(t, last.Error, "region offers no version 1.29")
	assert.Contains(t, canary.Error, "region offers no version 1.29")

	require.NotNil(t, j.Stage("dev").Finished)
	require.NotNil(t, j.Stage("prod").Started)
	assert.Nil(t, j.Stage("prod").Finished)
	assert.Equal(t, "--approve prod", j.Stage("prod").Approved)
	assert.Equal(t, []string{"prod-canary"}, names(j.Failed()))
}

func names(recs []*automation.StackRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Stack)
	}
	return out
}

// editJournal rewrites the latest journal as a killed process would have left it.
func editJournal(t *testing.T, state string, f func(j *automation.Journal)) {
	t.Helper()
	var j automation.Journal
	require.NoError(t, json.Unmarshal([]byte(readJournalFile(t, state)), &j))
	f(&j)
	data, err := json.Marshal(&j)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(state, "runs", j.RunID+".json"), data, 0o644))
}

func TestResumeReadsTheRealState(t *testing.T) {
	t.Parallel()
	h := newHarness(t, threeEnvs())
	h.fake.NextErr["up/staging-a"] = errors.New("error: killed")
	_, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
	require.True(t, automation.IsRunFailed(err))

	// As if the process was killed while staging-a's up ran, and the up finished after
	// the journal's last write.
	var upStarted time.Time
	editJournal(t, h.state, func(j *automation.Journal) {
		j.Status, j.Finished, j.Error = automation.RunRunning, nil, ""
		rec := j.Stacks["staging-a"]
		rec.Status, rec.Error = automation.StatusRunning, ""
		up := &rec.Steps[len(rec.Steps)-1]
		require.Equal(t, automation.StepUp, up.Step)
		up.Finished, up.Outcome, up.Error = nil, "", ""
		upStarted = up.Started
	})
	h.fake.Deployed("staging-a", upStarted.Add(100*time.Millisecond), nil)
	marker := h.fake.Marker("staging-a")
	h.fake.Reset()
	h.drain()

	j, err := h.d.Resume(context.Background(), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, automation.RunSucceeded, j.Status)
	ups := h.fake.Stacks(automationtest.OpUp)
	assert.NotContains(t, ups, "staging-a", "its update finished: it is not run again")
	assert.NotContains(t, ups, "dev")
	assert.Equal(t, []string{"prod-canary", "prod-east", "prod-eu"}, sorted(ups))
	assert.Equal(t, automation.StatusSucceeded, j.Stacks["staging-a"].Status)
	assert.GreaterOrEqual(t, h.health.Checks("staging-a"), 1, "its health gate still runs")
	var reasons []string
	for _, s := range eventsOf[automation.StackSkipped](h.drain()) {
		reasons = append(reasons, s.Stack.Stack+": "+s.Reason)
	}
	assert.Contains(t, reasons, "staging-a: its update finished after the journal's last write; checking its health")

	status, err := h.d.Status(context.Background())
	require.NoError(t, err)
	for _, s := range status.Stacks {
		if s.Stack.Stack == "staging-a" {
			require.NotNil(t, s.LastGood)
			assert.Equal(t, marker, s.LastGood.Marker)
		}
	}
}

func TestResumeClearsPendingOperations(t *testing.T) {
	t.Parallel()
	for _, withResolver := range []bool{true, false} {
		t.Run(map[bool]string{true: "imports what the cloud has", false: "clears without a resolver"}[withResolver], func(t *testing.T) {
			t.Parallel()
			set := envset.Set{Environments: []envset.Environment{{Name: "dev", MaxConcurrency: 1}}}
			var opts []automation.Option
			h := newHarness(t, set)
			if withResolver {
				opts = append(opts, automation.WithPendingResolver(h.fake))
			}
			h.d = h.deployer(opts...)
			h.fake.Deployed("dev", time.Now().Add(-time.Hour), nil)
			h.fake.SetPending("dev",
				automation.PendingOp{URN: "urn:pulumi:dev::flotilla::sim:index:Cluster::east", Type: "sim:index:Cluster", Kind: "creating"},
				automation.PendingOp{URN: "urn:pulumi:dev::flotilla::sim:index:NodePool::spot", Type: "sim:index:NodePool", Kind: "updating"})
			h.fake.Cloud["urn:pulumi:dev::flotilla::sim:index:Cluster::east"] = "sim-cl-123"

			j, err := h.rollout(automation.RolloutRequest{})
			require.NoError(t, err)
			refreshes := h.fake.Ops(automationtest.OpRefresh)
			require.Len(t, refreshes, 1)
			assert.True(t, refreshes[0].Options.ClearPending)
			assert.Empty(t, h.fake.StateOf("dev").Pending)
			cleared := j.Stacks["dev"].Cleared
			require.Len(t, cleared, 2)
			if withResolver {
				assert.Equal(t, []automation.PendingCreate{{URN: "urn:pulumi:dev::flotilla::sim:index:Cluster::east", ID: "sim-cl-123"}}, refreshes[0].Options.ImportPending)
				assert.Contains(t, cleared[0], "imported pending creating of urn:pulumi:dev::flotilla::sim:index:Cluster::east (the cloud has it as sim-cl-123)")
			} else {
				assert.Empty(t, refreshes[0].Options.ImportPending)
				assert.Contains(t, cleared[0], "cleared pending creating of urn:pulumi:dev::flotilla::sim:index:Cluster::east")
			}
			assert.Contains(t, cleared[1], "cleared pending updating of urn:pulumi:dev::flotilla::sim:index:NodePool::spot")
			assert.Len(t, eventsOf[automation.Cleared](h.drain()), 2)
			calls := h.fake.CallList()
			var order []string
			for _, c := range calls {
				if c.Op == automationtest.OpRefresh || c.Op == automationtest.OpUp {
					order = append(order, c.Op)
				}
			}
			assert.Equal(t, []string{"refresh", "up"}, order, "pending operations are resolved before the update")
		})
	}
}

func TestRetry(t *testing.T) {
	t.Parallel()
	t.Run("reruns only the failed stacks, then continues", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		h.fake.NextErr["up/staging-a"] = errors.New("error: quota exceeded")
		first, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
		require.True(t, automation.IsRunFailed(err))
		h.fake.Reset()

		j, err := h.d.Retry(context.Background(), nil, nil)
		require.NoError(t, err)
		assert.Equal(t, first.RunID, j.RunID)
		assert.Equal(t, automation.RunSucceeded, j.Status)
		assert.Equal(t, 1, j.Resumes)
		assert.Equal(t, []string{"prod-canary", "prod-east", "prod-eu", "staging-a"}, sorted(h.fake.Stacks(automationtest.OpUp)))

		_, err = h.d.Retry(context.Background(), nil, nil)
		assert.True(t, automation.IsNothingToResume(err), "%v", err)
	})
	t.Run("refuses when the stack file changed", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		h.fake.NextErr["up/staging-a"] = errors.New("error: quota exceeded")
		_, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
		require.True(t, automation.IsRunFailed(err))
		h.writeStackFile("staging-a", "config:\n  flotilla:environment: staging\n  fixed: true\n")
		h.fake.Reset()

		_, err = h.d.Retry(context.Background(), nil, nil)
		var ic *automation.InputsChangedError
		require.ErrorAs(t, err, &ic)
		require.Len(t, ic.Changes, 1)
		assert.Contains(t, ic.Changes[0], "stacks/Pulumi.staging-a.yaml changed")
		assert.Contains(t, err.Error(), "flotilla resume")
		assert.Empty(t, h.fake.CallList())

		j, err := h.d.Resume(context.Background(), nil, nil)
		require.NoError(t, err, "resume continues with the new inputs")
		assert.Equal(t, automation.RunSucceeded, j.Status)
	})
	t.Run("--stack reruns only that stack", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, budgetSet(2))
		h.fake.NextErr["up/s1"] = errors.New("error: one")
		h.fake.NextErr["up/s3"] = errors.New("error: three")
		_, err := h.rollout(automation.RolloutRequest{})
		var rf *automation.RunFailedError
		require.ErrorAs(t, err, &rf)
		require.True(t, rf.WithExceptions)
		h.fake.Reset()

		_, err = h.d.Retry(context.Background(), []string{"s2"}, nil)
		assert.True(t, automation.IsInputError(err))
		assert.Contains(t, err.Error(), "the failed stacks are s1, s3")

		j, err := h.d.Retry(context.Background(), []string{"s3"}, nil)
		require.ErrorAs(t, err, &rf)
		assert.True(t, rf.WithExceptions)
		assert.Equal(t, []string{"s3"}, h.fake.Stacks(automationtest.OpUp))
		assert.Equal(t, automation.StatusSucceeded, j.Stacks["s3"].Status)
		assert.Equal(t, automation.StatusSetAside, j.Stacks["s1"].Status)
		assert.Equal(t, []string{"s1"}, names(j.Failed()))
	})
	t.Run("nothing to retry without a run", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t, threeEnvs())
		_, err := h.d.Retry(context.Background(), nil, nil)
		assert.True(t, automation.IsNothingToResume(err))
		_, err = h.d.Resume(context.Background(), nil, nil)
		assert.True(t, automation.IsNothingToResume(err))
	})
}
