package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/automationtest"
)

// tty is input that the commands take for a terminal.
type tty struct{ *strings.Reader }

// onATerminal makes input of type tty count as a terminal for the test. Tests that use
// it are not parallel: it swaps a package variable.
func onATerminal(t *testing.T) {
	old := isTerminal
	isTerminal = func(f any) bool { _, ok := f.(tty); return ok }
	t.Cleanup(func() { isTerminal = old })
}

func TestApprovalIsAskedOnATerminal(t *testing.T) {
	onATerminal(t)

	f := newFixture(t)
	inv := f.runWith(t, context.Background(), nil, tty{strings.NewReader("y\n")}, "rollout")
	require.Equal(t, 0, inv.code, inv.stdout+inv.stderr)
	assert.Contains(t, inv.stderr, "==> prod requires approval before it changes: prod: [prod-canary] then [prod-east]")
	assert.Contains(t, inv.stderr, "promote into prod? [y/N]")
	assert.Contains(t, inv.stdout, "==> prod: approved at the prompt")
	assert.Equal(t, []string{"dev", "staging", "prod-canary", "prod-east"}, f.fake.Stacks(automationtest.OpUp))

	f = newFixture(t)
	inv = f.runWith(t, context.Background(), nil, tty{strings.NewReader("n\n")}, "rollout")
	assert.Equal(t, exitGate, inv.code, inv.stdout+inv.stderr)
	assert.Contains(t, inv.stdout, `promotion into "prod" was not approved`)
	assert.Contains(t, inv.stdout, "next:        flotilla resume --project "+f.dir+" --approve prod")
	assert.Equal(t, []string{"dev", "staging"}, f.fake.Stacks(automationtest.OpUp), "prod is not entered")
}

func TestDestroyAsksToTypeTheEnvironmentOnATerminal(t *testing.T) {
	onATerminal(t)
	f := newFixture(t)
	require.Equal(t, 0, f.run(t, "rollout", "--to", "staging").code)

	inv := f.runWith(t, context.Background(), nil, tty{strings.NewReader("yes\n")}, "destroy", "--env", "staging")
	assert.Equal(t, exitUsage, inv.code)
	assert.Contains(t, inv.stderr, `type "staging" to confirm`)
	assert.Contains(t, inv.stderr, "not confirmed: nothing was destroyed")
	assert.Empty(t, f.fake.Ops(automationtest.OpDestroy))

	inv = f.runWith(t, context.Background(), nil, tty{strings.NewReader("staging\n")}, "destroy", "--env", "staging")
	require.Equal(t, 0, inv.code, inv.stdout+inv.stderr)
	assert.Equal(t, []string{"staging"}, f.fake.Stacks(automationtest.OpDestroy))
	assert.Contains(t, inv.stdout, "staging/staging  destroyed (1 deleted)")
}

func TestLiveProgressOnATerminal(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := &progress{w: &buf, live: true, run: newRunTrack()}
	now := time.Now()
	ref := automation.StackRef{Environment: "staging", Stack: "staging"}
	p.event(automation.RunStarted{At: automation.At{Time: now}, RunID: "r1", Command: "rollout",
		Plan: automation.Plan{Stages: []automation.Stage{{Environment: "staging", MaxConcurrency: 1, Waves: [][]string{{"staging"}}}}}})
	p.event(automation.StepStarted{At: automation.At{Time: now.Add(-2 * time.Second)}, Stack: ref, Step: automation.StepUp})
	assert.Contains(t, buf.String(), "    staging   up  2.", "the running step and its elapsed time")
	assert.Equal(t, 1, p.drawn)

	buf.Reset()
	p.tick()
	assert.True(t, strings.HasPrefix(buf.String(), "\x1b[1A\r\x1b[2K"), "redrawn in place: %q", buf.String())
	assert.Contains(t, buf.String(), "staging   up  2.")

	buf.Reset()
	p.event(automation.StepDone{At: automation.At{Time: now}, Stack: ref, Step: automation.StepUp, Duration: 14200 * time.Millisecond,
		Changes: map[string]int{"update": 3, "same": 40}})
	assert.Equal(t, "\x1b[1A\r\x1b[2K    staging   up done in 14.2s (3 updated, 40 unchanged)\n", buf.String(), "the live line gives way to the permanent one")
	assert.Equal(t, 0, p.drawn)
}

func TestPlainProgressListsLongSteps(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := &progress{w: &buf, run: newRunTrack()}
	ref := automation.StackRef{Environment: "dev", Stack: "dev"}
	p.event(automation.StepStarted{At: automation.At{Time: time.Now().Add(-90 * time.Second)}, Stack: ref, Step: automation.StepUp})
	p.tick()
	assert.Equal(t, "    dev       up started\n    ... still running: dev up 1m30s\n", buf.String())
	assert.NotContains(t, buf.String(), "\x1b")
}

func TestStatusReport(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	started := now.Add(-10 * time.Minute)
	soak := now.Add(-5 * time.Minute)
	j := &automation.Journal{
		RunID: "20261201-115000-abcdef", Command: "rollout", Status: automation.RunRunning, Started: started,
		User: "alice", Host: "laptop", PID: 4242,
		Plan: automation.Plan{Stages: []automation.Stage{
			{Environment: "dev", Waves: [][]string{{"dev"}}},
			{Environment: "staging", Soak: 10 * time.Minute, Waves: [][]string{{"staging"}}},
			{Environment: "prod", RequiresApproval: true, Waves: [][]string{{"prod-canary"}}},
		}},
		Stages: []*automation.StageRecord{
			{Environment: "dev", Started: &started, Finished: &started},
			{Environment: "staging", Started: &started, SoakStarted: &soak},
			{Environment: "prod"},
		},
		Stacks: map[string]*automation.StackRecord{
			"dev":         {StackRef: automation.StackRef{Environment: "dev", Stack: "dev"}, Status: automation.StatusSucceeded},
			"staging":     {StackRef: automation.StackRef{Environment: "staging", Stack: "staging"}, Status: automation.StatusSucceeded},
			"prod-canary": {StackRef: automation.StackRef{Environment: "prod", Stack: "prod-canary"}, Status: automation.StatusPending},
		},
	}
	st := automation.Status{
		Run:       j,
		Lock:      &automation.LockHolder{RunID: j.RunID, Command: "rollout", User: "alice", Host: "laptop", PID: 4242, Since: started, Heartbeat: now.Add(-3 * time.Minute)},
		LockStale: "its heartbeat is 3m0s old (it expires after 2m0s)",
		Stacks: []automation.StackStatusReport{
			{Stack: automation.StackRef{Environment: "dev", Stack: "dev"},
				LastUpdate: &automation.UpdateInfo{Kind: "update", Result: "succeeded", Started: started, Ended: started.Add(time.Minute)},
				LastGood:   &automation.LastGood{RunID: j.RunID},
				Lag:        []string{"stacks/Pulumi.dev.yaml changed since its last successful update (run 20261201-115000-abcdef)"},
				Versions:   map[string]string{"west": "1.32", "east": "1.33"}},
			{Stack: automation.StackRef{Environment: "prod", Stack: "prod-canary"}},
		},
	}
	var buf bytes.Buffer
	printStatus(&buf, st, now, " --sim")
	out := buf.String()
	for _, want := range []string{
		"lock:      STALE, held by alice@laptop (pid 4242, rollout, run 20261201-115000-abcdef)",
		"it is stale: its heartbeat is 3m0s old (it expires after 2m0s); `flotilla unlock --sim` clears it",
		"last run:  20261201-115000-abcdef (rollout, by alice@laptop)",
		"stopped without finishing (its process died); `flotilla resume` continues it",
		"stopped at staging, during its soak\n",
		"next: flotilla resume --sim",
		"BEHIND (below)",
		"dev is behind its inputs: stacks/Pulumi.dev.yaml changed since its last successful update",
		"east 1.33, west 1.32",
		"never deployed",
	} {
		assert.Contains(t, out, want)
	}

	st.LockStale = ""
	buf.Reset()
	printStatus(&buf, st, now, "")
	assert.Contains(t, buf.String(), "lock:      a run is in progress: alice@laptop (pid 4242, rollout, run 20261201-115000-abcdef)")
	assert.Contains(t, buf.String(), ": in progress\n")
	assert.NotContains(t, buf.String(), "next:")
}

func TestStatusOverTheFake(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv := f.run(t, "status")
	require.Equal(t, 0, inv.code, inv.stderr)
	assert.Contains(t, inv.stdout, "lock:      free: no run is in progress")
	assert.Contains(t, inv.stdout, "last run:  none yet")

	f.fake.Fail("up/staging", errors.New("error: quota exceeded"))
	require.Equal(t, exitFailed, f.run(t, "rollout", "--approve", "prod").code)
	inv = f.run(t, "status")
	require.Equal(t, 0, inv.code, inv.stderr)
	assert.Contains(t, inv.stdout, ": failed after ")
	assert.Contains(t, inv.stdout, "stopped at staging")
	assert.Contains(t, inv.stdout, "staging failed: quota exceeded")

	inv = f.run(t, "status", "--output", "json")
	require.Equal(t, 0, inv.code)
	objs := jsonLines(t, inv.stdout)
	require.Len(t, objs, 1)
	fleet, ok := objs[0]["fleet"].(map[string]any)
	require.True(t, ok, "the result carries the status: %v", objs[0])
	assert.NotEmpty(t, fleet["run"])
}

func TestPlanFlagsWhatThePreviewPolicyWouldStop(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.fake.Previews["prod-east"] = automation.OpResult{Changes: map[string]int{"delete": 1, "same": 4},
		Resources: []automation.ResourceChange{{URN: "urn:pulumi:prod-east::flotilla::fleetsim:index:NodePool::east-spot", Op: "delete"}}}
	inv := f.run(t, "plan")
	require.Equal(t, 0, inv.code, inv.stdout+inv.stderr)
	assert.Contains(t, inv.stdout, "prod-east    prod         1 to delete, 4 unchanged  (stopped by the preview policy)")
	assert.Contains(t, inv.stdout, "- delete urn:pulumi:prod-east::flotilla::fleetsim:index:NodePool::east-spot")
	assert.Contains(t, inv.stdout, "the preview policy would stop 1 stack(s)")
	assert.Empty(t, f.fake.Ops(automationtest.OpUp), "plan changes nothing")
}

func TestDriftExitsOneWhenAStackDrifted(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	require.Equal(t, 0, f.run(t, "rollout", "--to", "dev").code)
	f.fake.Previews["dev"] = automation.OpResult{Changes: map[string]int{"same": 43}}
	inv := f.run(t, "drift", "--env", "dev")
	require.Equal(t, 0, inv.code, inv.stdout+inv.stderr)
	assert.Contains(t, inv.stdout, "dev/dev  no drift")

	f.fake.SetDrift("dev", automation.ResourceChange{URN: "urn:pulumi:dev::flotilla::fleetsim:index:NodePool::east-spot", Op: "update"})
	inv = f.run(t, "drift", "--env", "dev", "-o", "json")
	assert.Equal(t, exitFailed, inv.code)
	objs := jsonLines(t, inv.stdout)
	last := objs[len(objs)-1]
	assert.Equal(t, "drifted", last["status"])
	assert.Contains(t, last["next"], "--refresh")
}

// TestChangesNameAReplacementOnce: the engine's three counts of one replacement read as
// one replacement; its JSON keeps them.
func TestChangesNameAReplacementOnce(t *testing.T) {
	t.Parallel()
	c := map[string]int{"replace": 1, "create-replacement": 1, "delete-replaced": 1, "same": 43}
	assert.Equal(t, "1 to replace, 43 unchanged", changes(c, false))
	assert.Equal(t, "1 replaced, 43 unchanged", changes(c, true))
	assert.Equal(t, "1 create-replacement", changes(map[string]int{"create-replacement": 1}, true),
		"a step without its replace is still shown")
}
