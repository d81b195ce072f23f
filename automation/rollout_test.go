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
	"github.com/flotilla-io/flotilla/internal/simtest"
)

// project copies Pulumi.yaml and the stack files into a directory of the test's own,
// so that the rollout's workspaces never touch the repository.
func project(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "stacks"), 0o755))
	copyFile(t, "../Pulumi.yaml", filepath.Join(dir, "Pulumi.yaml"))
	for _, env := range []string{"dev", "staging", "prod"} {
		copyFile(t, "../stacks/Pulumi."+env+".yaml", filepath.Join(dir, "stacks", "Pulumi."+env+".yaml"))
	}
	return dir
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dst, data, 0o644))
}

func collect(events chan automation.Event) func() []automation.Event {
	var got []automation.Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range events {
			got = append(got, e)
		}
	}()
	return func() []automation.Event { close(events); <-done; return got }
}

// TestRolloutPromotesInOrderAndStopsAtTheApprovalGate rolls the shipped stacks out on
// the simulator (lite mode) with the real CLI: dev and staging go up in order, prod
// waits for its approval, and a second run with the approval resumes where the first
// stopped without changing what is already up.
func TestRolloutPromotesInOrderAndStopsAtTheApprovalGate(t *testing.T) {
	t.Setenv("FLEETSIM_KUBE", "off") // the inline program runs in this process
	sim := simtest.Start(t)
	dir := project(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	opts := automation.Options{
		ProjectDir: dir,
		Backend:    sim.Backend,
		BinDir:     sim.Bin,
		TimeScale:  600,
		Env:        sim.Env(),
	}

	events := make(chan automation.Event, 1024)
	wait := collect(events)
	opts.Events = events
	res, err := automation.Rollout(ctx, opts)
	got := wait()
	require.Error(t, err)
	assert.True(t, automation.IsApprovalRequired(err), "%v", err)
	assert.Contains(t, err.Error(), "--approve prod")
	assert.Equal(t, []string{"dev", "staging"}, res.Environments)
	assert.Len(t, sim.State(t).Clusters, 3, "dev's one cluster and staging's two; prod untouched")

	var order []string
	var soaked, blocked bool
	for _, e := range got {
		switch e := e.(type) {
		case automation.EnvironmentStarted:
			order = append(order, e.Environment)
		case automation.Soaking:
			soaked = soaked || (e.Environment == "staging" && e.Wait == time.Second)
		case automation.GateBlocked:
			blocked = blocked || e.Environment == "prod"
		}
	}
	assert.Equal(t, []string{"dev", "staging"}, order)
	assert.True(t, soaked, "staging soaks 10m, scaled to 1s on the simulator")
	assert.True(t, blocked)

	events = make(chan automation.Event, 1024)
	wait = collect(events)
	opts.Events = events
	opts.Approve = []string{"prod"}
	res, err = automation.Rollout(ctx, opts)
	got = wait()
	require.NoError(t, err)
	assert.Equal(t, []string{"dev", "staging", "prod"}, res.Environments)
	assert.Len(t, sim.State(t).Clusters, 6)
	for _, e := range got {
		if u, ok := e.(automation.StackUpdated); ok && u.Environment != "prod" {
			assert.Zero(t, u.Changes["create"]+u.Changes["update"]+u.Changes["delete"],
				"%s was already up: resuming changes nothing there (%v)", u.Environment, u.Changes)
		}
	}
	assert.Contains(t, res.Outputs["prod"], "endpoints")
}

func TestRolloutRejectsBadInputBeforeAnythingChanges(t *testing.T) {
	t.Parallel()
	dir := project(t)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stacks", "Pulumi.prod.yaml"),
		[]byte("config:\n  flotilla:environment: prod\n  flotilla:verison: \"1.31\"\n"), 0o644)) //nolint:misspell // the typo is the point
	_, err := automation.Rollout(context.Background(), automation.Options{ProjectDir: dir, BinDir: "/nonexistent"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "flotilla:verison: unknown key") //nolint:misspell // the typo is the point
	assert.NoDirExists(t, filepath.Join(dir, ".flotilla"), "no workspace was created")

	_, err = automation.Rollout(context.Background(), automation.Options{ProjectDir: project(t), Environments: []string{"qa"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `unknown environment "qa"`)
}
