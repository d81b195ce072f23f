// Package simtest runs end-to-end tests against the local simulated cloud: the real
// Pulumi CLI built by `make`, a file:// backend in a temporary directory, the fleetsim
// provider plugin found on PATH, and a fleetsim daemon of the test's own.
//
//	func TestUp(t *testing.T) {
//		sim := simtest.Start(t)
//		stack := simtest.Stack(t, sim, "dev", func(ctx *pulumi.Context) error {
//			_, err := fleetsim.NewCluster(ctx, "dev-east", &fleetsim.ClusterArgs{Region: pulumi.String("sim-east-1")})
//			return err
//		})
//		simtest.Up(t, stack)
//		st := sim.State(t) // what the simulated cloud holds
//	}
//
// The binaries come from $FLOTILLA_BIN (the Makefile exports it) or <repo>/bin; a test
// fails, and says to run `make`, when they are missing.
package simtest

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/store"
)

// Passphrase is the secrets passphrase of every test stack.
const Passphrase = "flotilla-simtest"

// FastDurations are the operation durations tests run with unless they ask otherwise:
// a fifth of the defaults, still in proportion.
var FastDurations = cloud.Durations{
	ClusterCreate:  300 * time.Millisecond,
	ClusterUpgrade: 200 * time.Millisecond,
	ClusterDelete:  100 * time.Millisecond,
	PoolCreate:     100 * time.Millisecond,
	PoolDelete:     50 * time.Millisecond,
}

// Sim is a fleetsim daemon started for one test, with a home, a backend and a
// PULUMI_HOME of its own.
type Sim struct {
	Home       string // FLEETSIM_HOME
	Addr       string // the daemon's loopback address
	Bin        string // the directory with pulumi and the plugins
	Backend    string // the file:// backend URL shared by the sim's stacks
	PulumiHome string
	Kube       bool // real control planes (WithKube) rather than lite mode
	Client     *client.Client

	cmd    *exec.Cmd
	env    []string
	exited chan struct{}
	logs   *syncBuffer
}

type options struct {
	kube      bool
	durations cloud.Durations
	timeScale float64
	env       map[string]string
}

// Option configures Start.
type Option func(*options)

// WithKube runs a real local control plane behind every cluster (FLEETSIM_KUBE on); it
// needs the binaries of `make kube`. Without it the sim runs in lite mode.
func WithKube() Option { return func(o *options) { o.kube = true } }

// WithDurations sets how long operations take (default FastDurations).
func WithDurations(d cloud.Durations) Option { return func(o *options) { o.durations = d } }

// WithTimeScale sets simulated seconds per real second (default 600).
func WithTimeScale(scale float64) Option { return func(o *options) { o.timeScale = scale } }

// WithEnv adds an environment variable to the daemon's environment.
func WithEnv(key, value string) Option {
	return func(o *options) { o.env[key] = value }
}

// BinDir returns the directory of the binaries built by `make`: $FLOTILLA_BIN, else
// <repo root>/bin. It fails the test when pulumi or the fleetsim plugin is missing.
func BinDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("FLOTILLA_BIN")
	if dir == "" {
		root, err := repoRoot()
		require.NoError(t, err)
		dir = filepath.Join(root, "bin")
	}
	for _, name := range []string{"pulumi", client.PluginBinary} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil || fi.Mode()&0o111 == 0 {
			t.Fatalf("%s is missing from %s: run `make` (or `make pulumi plugins`) to build it", name, dir)
		}
	}
	return dir
}

// repoRoot is the directory of the main module's go.mod above the working directory.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && bytes.Contains(b, []byte("module github.com/flotilla-io/flotilla\n")) {
			return dir, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod of github.com/flotilla-io/flotilla above %s; set FLOTILLA_BIN", wd)
		}
	}
}

// Start runs a fleetsim daemon as a subprocess of bin/pulumi-resource-fleetsim, on a
// free loopback port with a temporary home. At the end of the test it deletes whatever
// the test left in the simulated cloud (so that no control plane outlives it) and stops
// the daemon.
func Start(t testing.TB, opts ...Option) *Sim {
	t.Helper()
	o := options{durations: FastDurations, timeScale: cloud.DefaultTimeScale, env: map[string]string{}}
	for _, opt := range opts {
		opt(&o)
	}
	bin := BinDir(t)
	tmp := t.TempDir()
	s := &Sim{
		Home: filepath.Join(tmp, "fleetsim"), Bin: bin, Backend: "file://" + filepath.Join(tmp, "state"),
		PulumiHome: filepath.Join(tmp, "pulumi-home"), Kube: o.kube, logs: &syncBuffer{},
	}
	for _, dir := range []string{s.Home, strings.TrimPrefix(s.Backend, "file://"), s.PulumiHome} {
		require.NoError(t, os.MkdirAll(dir, 0o755))
	}

	env := withoutKeys(os.Environ(), "FLEETSIM_ADDR", "FLEETSIM_HOME", "FLEETSIM_KUBE")
	env = append(env,
		"FLOTILLA_BIN="+bin,
		"FLEETSIM_CLUSTER_CREATE="+o.durations.ClusterCreate.String(),
		"FLEETSIM_UPGRADE="+o.durations.ClusterUpgrade.String(),
		"FLEETSIM_CLUSTER_DELETE="+o.durations.ClusterDelete.String(),
		"FLEETSIM_POOL_CREATE="+o.durations.PoolCreate.String(),
		"FLEETSIM_POOL_DELETE="+o.durations.PoolDelete.String(),
		fmt.Sprintf("FLEETSIM_TIME_SCALE=%g", o.timeScale),
	)
	if !o.kube {
		env = append(env, "FLEETSIM_KUBE=off")
	}
	for k, v := range o.env {
		env = append(env, k+"="+v)
	}
	s.env = env
	s.spawn(t)

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := s.purge(ctx); err != nil {
			t.Errorf("cleaning up the simulated cloud: %v", err)
		}
		if err := s.Client.Shutdown(ctx); err != nil {
			t.Errorf("stopping the fleetsim daemon: %v", err)
			_ = s.cmd.Process.Kill()
		}
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.exited
		}
		if t.Failed() {
			t.Logf("fleetsim daemon log:\n%s", s.logs.String())
		}
	})
	return s
}

// spawn starts the daemon process on the sim's home and waits until it serves.
func (s *Sim) spawn(t testing.TB) {
	t.Helper()
	cmd := exec.Command(filepath.Join(s.Bin, client.PluginBinary), "daemon", "--home", s.Home, "--addr", "127.0.0.1:0")
	cmd.Env = s.env
	cmd.Stdout, cmd.Stderr = s.logs, s.logs
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited

	st, err := store.Open(s.Home)
	require.NoError(t, err)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if info, err := st.ReadDaemonInfo(); err == nil && info.PID == cmd.Process.Pid {
			s.Addr = info.Addr
			break
		}
		select {
		case <-exited:
			t.Fatalf("the fleetsim daemon exited at start:\n%s", s.logs.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("the fleetsim daemon did not start within 30s:\n%s", s.logs.String())
		}
	}
	s.Client, err = client.New(client.Options{Home: s.Home, Addr: s.Addr})
	require.NoError(t, err)
}

// Crash kills the daemon with SIGKILL, as a crash or an OOM kill would, and starts a
// new one on the same home. The new daemon listens on a new address: stacks created
// before the crash must be re-created with Stack to reach it.
func (s *Sim) Crash(t testing.TB) {
	t.Helper()
	require.NoError(t, s.cmd.Process.Kill())
	<-s.exited
	s.spawn(t)
}

// Restart stops the daemon and starts a new one on the same home, in kube mode (real
// control planes) or lite mode (FLEETSIM_KUBE=off), as a user who restarts the simulator
// in the other mode does. The new daemon listens on a new address: stacks created before
// must be re-created with Stack to reach it, and get fleetsim:kube set to the new mode.
func (s *Sim) Restart(t testing.TB, kube bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	require.NoError(t, s.Client.Shutdown(ctx))
	select {
	case <-s.exited:
	case <-ctx.Done():
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.env = withoutKeys(s.env, "FLEETSIM_KUBE")
	if !kube {
		s.env = append(s.env, "FLEETSIM_KUBE=off")
	}
	s.Kube = kube
	s.spawn(t)
}

// purge deletes every node pool, then every cluster, left in the simulated cloud.
func (s *Sim) purge(ctx context.Context) error {
	if _, err := s.Client.ClearFaults(ctx, cloud.FaultFilter{}); err != nil {
		return err
	}
	pools, err := s.Client.ListNodePools(ctx, "")
	if err != nil {
		return err
	}
	for _, p := range pools {
		if err := s.Client.DeleteNodePool(ctx, p.ID); err != nil {
			return err
		}
	}
	clusters, err := s.Client.ListClusters(ctx)
	if err != nil {
		return err
	}
	for _, c := range clusters {
		if err := s.Client.DeleteCluster(ctx, c.ID); err != nil {
			return err
		}
	}
	return nil
}

// State returns what the simulated cloud holds now.
func (s *Sim) State(t testing.TB) *cloud.State {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	st, err := s.Client.State(ctx)
	require.NoError(t, err)
	return st
}

// Env is the environment the Pulumi CLI runs with: bin/ first on PATH (so the engine
// finds the plugins there), this sim's daemon and home, a private PULUMI_HOME, the
// file:// backend and the passphrase secrets provider.
func (s *Sim) Env() map[string]string {
	kube := "off"
	if s.Kube {
		kube = "on"
	}
	return map[string]string{
		"PATH":                     s.Bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"FLOTILLA_BIN":             s.Bin,
		"FLEETSIM_ADDR":            s.Addr,
		"FLEETSIM_HOME":            s.Home,
		"FLEETSIM_KUBE":            kube,
		"PULUMI_HOME":              s.PulumiHome,
		"PULUMI_BACKEND_URL":       s.Backend,
		"PULUMI_CONFIG_PASSPHRASE": Passphrase,
		"PULUMI_SKIP_UPDATE_CHECK": "true",
	}
}

// syncBuffer collects a subprocess's output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func withoutKeys(env []string, keys ...string) []string {
	var out []string
outer:
	for _, kv := range env {
		for _, k := range keys {
			if strings.HasPrefix(kv, k+"=") {
				continue outer
			}
		}
		out = append(out, kv)
	}
	return out
}
