package e2e_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/internal/simtest"
)

// TestRolloutOfTheShippedFleet rolls the shipped stacks out on the simulator (lite
// mode) with the real CLI, and checks from the events' timestamps that stages, waves
// and the concurrency limits held; then a second rollout changes nothing.
func TestRolloutOfTheShippedFleet(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	r := f.rollout(approveProd)
	logEvents(t, "rollout", r)
	require.NoError(t, r.err)
	require.NotNil(t, r.journal)
	assert.Equal(t, automation.RunSucceeded, r.journal.Status)
	f.assertCloud(allStacks...)

	assertPromotionOrder(t, r.events)
	ivs := stackIntervals(t, r.events)
	require.Len(t, ivs, len(allStacks), "every stack ran")
	for _, st := range r.journal.Plan.Stages {
		assert.LessOrEqual(t, maxOverlap(ivs, st.Environment), st.MaxConcurrency,
			"%s: never more than maxConcurrency stacks at once", st.Environment)
	}
	// prod runs one stack at a time: its second wave's two stacks never overlap.
	assert.False(t, ivs["prod-eu"].start.Before(ivs["prod-east"].end) && ivs["prod-east"].start.Before(ivs["prod-eu"].end),
		"prod-east %v..%v and prod-eu %v..%v overlap under maxConcurrency 1", ivs["prod-east"].start, ivs["prod-east"].end, ivs["prod-eu"].start, ivs["prod-eu"].end)

	for _, d := range eventsOf[automation.StepDone](r.events) {
		assert.Empty(t, d.Error, "%s %s", d.Stack, d.Step)
		if d.Step == automation.StepUp {
			assert.Positive(t, d.Changes["create"], "%s: the engine's own events count what its up created", d.Stack)
		}
	}

	// The journal on disk says the same, stack by stack.
	j, err := f.deployer(nil).LatestRun()
	require.NoError(t, err)
	require.NotNil(t, j)
	assert.Equal(t, r.journal.RunID, j.RunID)
	assert.Equal(t, automation.RunSucceeded, j.Status)
	for _, s := range allStacks {
		rec := j.Stacks[s]
		require.NotNil(t, rec, s)
		assert.Equal(t, automation.StatusSucceeded, rec.Status, s)
		assert.True(t, strings.HasPrefix(rec.Inputs.StackFile, "sha256:"), "%s: the stack file's hash is recorded", s)
		assert.NotEmpty(t, rec.Inputs.Program, s)
		var steps []automation.StepKind
		for _, st := range rec.Steps {
			steps = append(steps, st.Step)
			assert.Equal(t, "ok", st.Outcome, "%s %s", s, st.Step)
			assert.NotNil(t, st.Finished, "%s %s", s, st.Step)
		}
		assert.Equal(t, []automation.StepKind{automation.StepPreview, automation.StepUp, automation.StepHealth}, steps, s)
	}
	staging := j.Stage("staging")
	require.NotNil(t, staging)
	assert.NotNil(t, staging.SoakStarted)
	assert.True(t, staging.SoakDone)
	assert.Equal(t, "--approve prod", j.Stage("prod").Approved)

	// Nothing changed since: the second rollout skips every stack and changes nothing.
	again := f.rollout(approveProd)
	logEvents(t, "second rollout", again)
	require.NoError(t, again.err)
	skipped := map[string]bool{}
	for _, s := range eventsOf[automation.StackSkipped](again.events) {
		skipped[s.Stack.Stack] = true
	}
	for _, s := range allStacks {
		assert.True(t, skipped[s], "%s is skipped by a no-change rollout", s)
	}
	for _, s := range eventsOf[automation.StepStarted](again.events) {
		assert.NotEqual(t, automation.StepUp, s.Step, "%s: no up in a no-change rollout", s.Stack)
	}
	f.assertCloud(allStacks...)
}

// assertPromotionOrder checks, from the events' times, that environments ran in order
// and behind their gates: no step of an environment starts before the previous one's
// health gates (and soak, when it has one) passed, and no step of a wave starts before
// the previous wave's health gate passed.
func assertPromotionOrder(t *testing.T, events []automation.Event) {
	t.Helper()
	var stages []string
	for _, s := range eventsOf[automation.StageStarted](events) {
		stages = append(stages, s.Environment)
	}
	assert.Equal(t, []string{"dev", "staging", "prod"}, stages)

	gate := func(env, name, stack string) time.Time {
		t.Helper()
		g, ok := gatePassed(events, env, name, stack)
		require.True(t, ok, "%s's %s gate passed (%s)", env, name, stack)
		return g.Time
	}
	devHealthy := gate("dev", automation.GateHealth, "dev")
	stagingHealthy := gate("staging", automation.GateHealth, "staging")
	stagingSoaked := gate("staging", automation.GateSoak, "")
	assert.True(t, stagingSoaked.After(stagingHealthy), "staging soaks after its health gate")
	canaryHealthy := gate("prod", automation.GateHealth, "prod-canary")
	approved := gate("prod", automation.GateApproval, "")

	for _, s := range eventsOf[automation.StepStarted](events) {
		switch s.Stack.Environment {
		case "staging":
			assert.True(t, s.Time.After(devHealthy), "staging's %s started at %v, before dev's health gate passed at %v", s.Step, s.Time, devHealthy)
		case "prod":
			assert.True(t, s.Time.After(stagingHealthy) && s.Time.After(stagingSoaked),
				"%s's %s started at %v, before staging's gates passed (health %v, soak %v)", s.Stack, s.Step, s.Time, stagingHealthy, stagingSoaked)
			assert.True(t, s.Time.After(approved), "%s's %s started before prod's approval", s.Stack, s.Step)
			if s.Stack.Stack != "prod-canary" {
				assert.True(t, s.Time.After(canaryHealthy), "%s's %s started at %v, before the canary's health gate passed at %v", s.Stack, s.Step, s.Time, canaryHealthy)
			}
		}
	}
}

var _ = simtest.WithKube
