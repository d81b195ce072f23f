package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/fleetsim/daemon"
)

func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(context.Background())
	return out.String(), err
}

func TestSimCommands(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	d, err := daemon.New(daemon.Options{Home: home, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	require.NoError(t, d.Listen())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	target := []string{"--home", home, "--addr", d.Addr()}

	out, err := run(t, append([]string{"sim", "fault", "spot-shortage", "--region", "sim-eu-1"}, target...)...)
	require.NoError(t, err)
	assert.Contains(t, out, "spot capacity is short in sim-eu-1 (all zones)")

	out, err = run(t, append([]string{"sim", "fault", "api-errors", "--rate", "0.25"}, target...)...)
	require.NoError(t, err)
	assert.Contains(t, out, "25% of API requests now fail")

	out, err = run(t, append([]string{"sim", "status"}, target...)...)
	require.NoError(t, err)
	assert.Contains(t, out, "spot-shortage    sim-eu-1 (all zones)")
	assert.Contains(t, out, "api-errors       rate 0.25 (seed 1)")

	out, err = run(t, append([]string{"sim", "fault", "clear", "--kind", "api-errors"}, target...)...)
	require.NoError(t, err)
	assert.Equal(t, "cleared 1 fault(s)\n", out)

	_, err = run(t, append([]string{"sim", "drift", "pool", "nowhere/nothing", "--desired", "3"}, target...)...)
	assert.ErrorContains(t, err, `cluster "nowhere" not found`)
}

func TestSimFlagsAreChecked(t *testing.T) {
	t.Parallel()
	_, err := run(t, "sim", "fault", "spot-shortage")
	assert.ErrorContains(t, err, `required flag(s) "region" not set`)
	_, err = run(t, "sim", "fault", "unoffer", "--region", "sim-eu-1")
	assert.ErrorContains(t, err, `required flag(s) "version" not set`)
	_, err = run(t, "sim", "drift", "cluster", "dev", "--tag", "oops")
	assert.ErrorContains(t, err, `"oops": use key=value`)
	out, err := run(t, "sim", "--help")
	require.NoError(t, err)
	for _, sub := range []string{"status", "start", "stop", "fault", "drift"} {
		assert.Contains(t, out, sub)
	}
	assert.NotContains(t, out, "  daemon ", "the daemon subcommand is hidden")
}
