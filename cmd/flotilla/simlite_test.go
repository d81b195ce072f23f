package main

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/daemon"
	"github.com/flotilla-io/flotilla/internal/fleetsim/simapi"
)

// planesNow is a Kube whose control planes start at once: a daemon in kube mode
// without the control-plane binaries.
type planesNow struct{}

func (planesNow) EnsurePlane(context.Context, string) (simapi.Plane, error) {
	return simapi.Plane{Endpoint: "https://127.0.0.1:6443", Kubeconfig: "apiVersion: v1\n", BinaryVersion: "v1.31.4"}, nil
}
func (planesNow) SyncNodes(context.Context, string, []simapi.Node) error { return nil }
func (planesNow) DeletePlane(context.Context, string) error              { return nil }

// TestSimLite: --sim runs its stacks lite when the daemon that answers runs lite, and
// when none answers, when the daemon it starts will (FLEETSIM_KUBE=off).
func TestSimLite(t *testing.T) {
	serve := func(kube simapi.Kube) *client.Client {
		home := t.TempDir()
		d, err := daemon.New(daemon.Options{Home: home, Kube: kube, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		require.NoError(t, err)
		require.NoError(t, d.Listen())
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); _ = d.Serve(ctx) }()
		t.Cleanup(func() { cancel(); <-done })
		c, err := client.New(client.Options{Home: home, Addr: d.Addr()})
		require.NoError(t, err)
		return c
	}
	t.Setenv(client.EnvAddr, "")
	t.Setenv("FLEETSIM_KUBE", "")
	assert.True(t, simLite(serve(nil)), "a lite daemon")
	assert.False(t, simLite(serve(planesNow{})), "a kube-mode daemon")
	t.Setenv("FLEETSIM_KUBE", "off")
	assert.False(t, simLite(serve(planesNow{})), "the running daemon's mode wins")

	none, err := client.New(client.Options{Home: t.TempDir()})
	require.NoError(t, err)
	assert.True(t, simLite(none), "no daemon, FLEETSIM_KUBE=off: the one started runs lite")
	t.Setenv("FLEETSIM_KUBE", "")
	assert.False(t, simLite(none), "no daemon: the one started runs kube mode")
}
