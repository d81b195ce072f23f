package client_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/daemon"
	"github.com/flotilla-io/flotilla/internal/fleetsim/store"
)

// The test binary doubles as the daemon that clients start on demand.
const daemonArg = "run-fleetsim-daemon"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == daemonArg {
		_ = os.Setenv("FLEETSIM_KUBE", "off")
		if err := daemon.Main(context.Background(), os.Args[2:], os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// stopDaemon stops the daemon serving home when the test ends: it runs in a session of
// its own and would outlive the test.
func stopDaemon(t *testing.T, home string) {
	t.Cleanup(func() {
		c, err := client.New(client.Options{Home: home})
		require.NoError(t, err)
		if _, ok := c.Running(context.Background()); ok {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			assert.NoError(t, c.Shutdown(ctx))
		}
	})
}

func TestStartsADaemonOnDemand(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	stopDaemon(t, home)
	c := clientFor(t, home)
	_, ok := c.Running(ctxT(t))
	require.False(t, ok)

	cl, err := c.CreateCluster(ctxT(t), cloud.ClusterSpec{Name: "dev", Region: "sim-east-1"}, "t")
	require.NoError(t, err, "the first request starts the daemon")
	assert.Equal(t, cloud.StatusActive, cl.Status)
	h, ok := c.Running(ctxT(t))
	require.True(t, ok)
	assert.NotEqual(t, os.Getpid(), h.PID)
	assert.FileExists(t, filepath.Join(home, store.LogFile))
}

// clientFor returns an auto-starting client of home that runs the test binary as daemon.
func clientFor(t *testing.T, home string) *client.Client {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	c, err := client.New(client.Options{Home: home, AutoStart: true, DaemonCommand: []string{exe, daemonArg}})
	require.NoError(t, err)
	return c
}

func TestClientsRacingToStartShareOneDaemon(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	stopDaemon(t, home)
	var wg sync.WaitGroup
	pids := make([]int, 4)
	errs := make([]error, 4)
	for i := range pids {
		wg.Go(func() {
			h, err := clientFor(t, home).Start(ctxT(t))
			pids[i], errs[i] = h.PID, err
		})
	}
	wg.Wait()
	for i := range pids {
		require.NoError(t, errs[i])
		assert.Equal(t, pids[0], pids[i], "every client found the same daemon")
	}
}

func TestAStaleDaemonFileIsIgnored(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	stopDaemon(t, home)
	st, err := store.Open(home)
	require.NoError(t, err)
	// A daemon that was killed left its file behind; nothing listens there any more.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := ln.Addr().String()
	require.NoError(t, ln.Close())
	require.NoError(t, st.WriteDaemonInfo(store.DaemonInfo{Addr: dead, PID: 1}))
	h, err := clientFor(t, home).Start(ctxT(t))
	require.NoError(t, err)
	assert.NotEqual(t, dead, h.Addr)
}

func TestNoAutoStartWithAFixedAddress(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c, err := client.New(client.Options{Home: t.TempDir(), Addr: addr, AutoStart: true})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err = c.ListClusters(ctx)
	require.Error(t, err)
	_, err = c.Start(ctxT(t))
	assert.ErrorContains(t, err, "FLEETSIM_ADDR="+addr+" is set but the fleetsim daemon at "+addr+" does not answer")
}

func TestShutdown(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	c := clientFor(t, home)
	h, err := c.Start(ctxT(t))
	require.NoError(t, err)
	require.NoError(t, c.Shutdown(ctxT(t)))
	_, ok := c.Running(ctxT(t))
	assert.False(t, ok)
	_, err = store.Open(home)
	require.NoError(t, err)
	_, err = os.Stat(filepath.Join(home, store.DaemonFile))
	assert.True(t, errors.Is(err, os.ErrNotExist), "daemon %d removed its file", h.PID)

	noStart, err := client.New(client.Options{Home: home})
	require.NoError(t, err)
	_, err = noStart.ListClusters(ctxT(t))
	assert.ErrorIs(t, err, client.ErrNotRunning)
}
