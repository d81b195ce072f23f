package simctl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/daemon"
	"github.com/flotilla-io/flotilla/internal/fleetsim/simctl"
	"github.com/flotilla-io/flotilla/internal/fleetsim/store"
	"github.com/flotilla-io/flotilla/internal/simtest"
)

// The test binary doubles as the daemon, and as a stand-in for a control plane's
// processes, which lives until it is killed.
const (
	daemonArg    = "run-fleetsim-daemon"
	fakePlaneArg = "run-fake-plane-process"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case daemonArg:
			if err := daemon.Main(context.Background(), os.Args[2:], os.Stderr); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			os.Exit(0)
		case fakePlaneArg:
			time.Sleep(time.Hour)
			os.Exit(0)
		}
	}
	os.Exit(m.Run())
}

// child is a process the test started, reaped as soon as it exits.
type child struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) gone() bool {
	select {
	case <-c.exited:
		return true
	default:
		return false
	}
}

func startChild(t *testing.T, cmd *exec.Cmd) *child {
	t.Helper()
	require.NoError(t, cmd.Start())
	c := &child{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(c.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-c.exited
	})
	return c
}

// spawnDaemon runs a daemon of the test binary's own code on home, as `flotilla sim
// start` would, and returns it with a client once it serves.
func spawnDaemon(t *testing.T, home string, env ...string) (*child, *client.Client) {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe, daemonArg, "--home", home)
	cmd.Env = append(os.Environ(), env...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	d := startChild(t, cmd)
	st, err := store.Open(home)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		info, err := st.ReadDaemonInfo()
		return err == nil && info.PID == d.pid()
	}, 30*time.Second, 20*time.Millisecond, "the daemon did not start")
	c, err := client.New(client.Options{Home: home})
	require.NoError(t, err)
	_, ok := c.Running(context.Background())
	require.True(t, ok)
	return d, c
}

// fakePlane stands in for a plane's processes under <home>/planes/<id>: each is the test
// binary with the component's name as argv[0], working on the plane's directory, as
// plane.json records them.
func fakePlane(t *testing.T, home, id string, components []string, extra map[string]int) map[string]*child {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	dir := filepath.Join(home, "planes", id)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	procs := map[string]*child{}
	pids := map[string]int{}
	for _, c := range components {
		cmd := &exec.Cmd{Path: exe, Args: []string{filepath.Join(t.TempDir(), c), fakePlaneArg, "--data-dir=" + filepath.Join(dir, "data")}}
		procs[c] = startChild(t, cmd)
		pids[c] = procs[c].pid()
	}
	for c, pid := range extra {
		pids[c] = pid
	}
	b, err := json.Marshal(map[string]any{"clusterID": id, "pids": pids, "token": "t"})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "plane.json"), b, 0o600))
	return procs
}

var planeComponents = []string{"etcd", "kube-apiserver", "kube-scheduler", "kube-controller-manager", "kwok"}

// TestStopWithADeadDaemon kills a lite-mode daemon and leaves plane processes behind it:
// stop finds them through the planes' state files and kills each by PID, but only a PID
// that is still that plane's binary working on that plane.
func TestStopWithADeadDaemon(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	d, c := spawnDaemon(t, home, "FLEETSIM_KUBE=off")
	cl, err := c.CreateCluster(context.Background(), cloud.ClusterSpec{Name: "dev", Region: "sim-east-1", Version: "1.31"}, "")
	require.NoError(t, err)
	require.NoError(t, d.cmd.Process.Signal(syscall.SIGKILL))
	require.Eventually(t, d.gone, 10*time.Second, 10*time.Millisecond)

	// A PID recorded for kwok that now belongs to another program, and one recorded for
	// the orphan's etcd that is an etcd of some other directory: neither is the plane's.
	exe, err := os.Executable()
	require.NoError(t, err)
	stranger := startChild(t, &exec.Cmd{Path: exe, Args: []string{"sleeper", fakePlaneArg, "--data-dir=" + filepath.Join(home, "planes", cl.ID, "data")}})
	elsewhere := startChild(t, &exec.Cmd{Path: exe, Args: []string{"etcd", fakePlaneArg, "--data-dir=" + filepath.Join(t.TempDir(), "data")}})
	dev := fakePlane(t, home, cl.ID, planeComponents[:4], map[string]int{"kwok": stranger.pid()})
	orphan := fakePlane(t, home, "cl-orphan", planeComponents[1:], map[string]int{"etcd": elsewhere.pid()})

	var out bytes.Buffer
	require.NoError(t, simctl.Stop(context.Background(), &out, simctl.Target{Home: home}))
	assert.Equal(t, "no fleetsim daemon was running (home "+home+"); stopped 2 control planes "+
		"(etcd, kube-apiserver, kube-scheduler, kube-controller-manager, kwok of cl-orphan, dev) it left behind\n", out.String())
	for name, procs := range map[string]map[string]*child{"dev": dev, "orphan": orphan} {
		for comp, p := range procs {
			assert.Eventually(t, p.gone, 5*time.Second, 10*time.Millisecond, "%s's %s (pid %d) is alive", name, comp, p.pid())
		}
	}
	assert.False(t, stranger.gone(), "a PID that is no longer the plane's binary is never killed")
	assert.False(t, elsewhere.gone(), "a PID of another directory's etcd is never killed")
	assert.DirExists(t, filepath.Join(home, "planes", cl.ID), "the plane's data stays")

	out.Reset()
	require.NoError(t, simctl.Stop(context.Background(), &out, simctl.Target{Home: home}))
	assert.Equal(t, "no fleetsim daemon is running (home "+home+")\n", out.String(), "stopping again finds nothing")
}

// TestStopInLiteMode stops a lite daemon, which runs no plane.
func TestStopInLiteMode(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	d, _ := spawnDaemon(t, home, "FLEETSIM_KUBE=off")
	var out bytes.Buffer
	require.NoError(t, simctl.Stop(context.Background(), &out, simctl.Target{Home: home}))
	assert.Equal(t, fmt.Sprintf("stopped the fleetsim daemon (pid %d); no control plane was running\n", d.pid()), out.String())
	assert.Eventually(t, d.gone, 5*time.Second, 10*time.Millisecond, "the daemon exited")
}

// TestStopStopsTheControlPlanes runs a daemon with a real control plane behind a cluster,
// stops it with sim stop, and checks that no process of the plane is left and its ports
// are free; the next daemon restarts the plane on its data.
func TestStopStopsTheControlPlanes(t *testing.T) {
	t.Parallel()
	bin := simtest.BinDir(t)
	home := t.TempDir()
	env := []string{"FLEETSIM_KUBE=on", "FLOTILLA_BIN=" + bin, "FLEETSIM_CLUSTER_CREATE=200ms"}
	d, c := spawnDaemon(t, home, env...)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cl, err := c.CreateCluster(ctx, cloud.ClusterSpec{Name: "dev", Region: "sim-east-1", Version: "1.31"}, "")
	require.NoError(t, err, "the control-plane binaries come from `make kube`")
	_, err = kubeClient(t, cl.Kubeconfig).CoreV1().ConfigMaps("default").Create(ctx,
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "survivor"}, Data: map[string]string{"kept": "yes"}}, metav1.CreateOptions{})
	require.NoError(t, err)

	var plane struct {
		PIDs  map[string]int `json:"pids"`
		Ports map[string]int `json:"ports"`
	}
	b, err := os.ReadFile(filepath.Join(home, "planes", cl.ID, "plane.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &plane))
	require.Len(t, plane.PIDs, len(planeComponents))
	require.Len(t, plane.Ports, 6)

	var out bytes.Buffer
	require.NoError(t, simctl.Stop(ctx, &out, simctl.Target{Home: home}))
	assert.Equal(t, fmt.Sprintf("stopped the fleetsim daemon (pid %d) and 1 control plane (%s of dev)\n", d.pid(), strings.Join(planeComponents, ", ")), out.String())
	assert.Eventually(t, d.gone, 5*time.Second, 10*time.Millisecond, "the daemon exited")
	for comp, pid := range plane.PIDs {
		assert.True(t, errors.Is(syscall.Kill(pid, 0), syscall.ESRCH), "%s (pid %d) is still alive", comp, pid)
	}
	for name, port := range plane.Ports {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if assert.NoError(t, err, "the %s port %d is still in use", name, port) {
			l.Close()
		}
	}
	assert.Empty(t, processesUnder(t, home), "no process works on the home any more")

	// The next daemon brings the plane back on its data.
	_, c = spawnDaemon(t, home, env...)
	t.Cleanup(func() {
		if err := simctl.Stop(context.Background(), &bytes.Buffer{}, simctl.Target{Home: home}); err != nil {
			t.Errorf("stopping the second daemon: %v", err)
		}
	})
	var cm *corev1.ConfigMap
	require.Eventually(t, func() bool {
		again, err := c.GetCluster(ctx, cl.ID)
		if err != nil || !again.PlaneReady {
			return false
		}
		cm, err = kubeClient(t, again.Kubeconfig).CoreV1().ConfigMaps("default").Get(ctx, "survivor", metav1.GetOptions{})
		return err == nil
	}, 3*time.Minute, 200*time.Millisecond, "the restarted plane serves its old data")
	assert.Equal(t, "yes", cm.Data["kept"])
}

func kubeClient(t *testing.T, kubeconfig string) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(kubeconfig))
	require.NoError(t, err)
	cs, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	return cs
}

// processesUnder lists the live processes whose command line names dir or a path under it, as
// `ps` would show them.
func processesUnder(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !slices.ContainsFunc(strings.Split(string(raw), "\x00"), func(arg string) bool {
			return arg == dir || strings.Contains(arg, dir+string(filepath.Separator))
		}) {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			if i := bytes.LastIndexByte(stat, ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
				continue
			}
		}
		out = append(out, fmt.Sprintf("%d %s", pid, strings.ReplaceAll(string(raw), "\x00", " ")))
	}
	return out
}
