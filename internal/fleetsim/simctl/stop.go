package simctl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/simapi"
	"github.com/flotilla-io/flotilla/internal/fleetsim/store"
	"github.com/flotilla-io/flotilla/internal/kubeplane"
)

// stopTimeout bounds a stop: the daemon stops its control planes (SIGTERM, then SIGKILL
// after 10 s each) before it exits.
const stopTimeout = 3 * time.Minute

// Stop stops the daemon and every control plane of the home, and returns once their
// processes are gone. The cloud's state and the planes' data stay in the home; the next
// daemon brings the clusters back and restarts their planes on that data.
//
// When no daemon answers (it was killed, or it hangs), Stop ends a hung daemon by the PID
// daemon.json records, then stops the planes left behind by the PIDs their state files
// record, each checked in /proc to still be that plane's binary before it is signalled.
func Stop(ctx context.Context, w io.Writer, t Target) error {
	c, err := t.client(false)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, stopTimeout)
	defer cancel()
	h, running := c.Running(ctx)
	home := c.Home()
	if running && h.Home != "" {
		home = h.Home
	}
	if home, err = filepath.Abs(home); err != nil {
		return err
	}
	before, err := kubeplane.Running(home)
	if err != nil {
		return err
	}

	daemonPID := 0
	if running {
		if err := c.Shutdown(ctx); err != nil {
			return fmt.Errorf("stopping the fleetsim daemon (pid %d): %w", h.PID, err)
		}
		daemonPID = h.PID
	} else if daemonPID, err = stopUnresponsive(ctx, home); err != nil {
		return err
	}
	if daemonPID != 0 && daemonPID != os.Getpid() && !waitExited(ctx, daemonPID) {
		return fmt.Errorf("the fleetsim daemon (pid %d) is still running after it was stopped", daemonPID)
	}

	// The daemon stopped its planes itself; what is left here was left by a daemon that
	// died, or one built before daemons stopped their planes.
	left, err := kubeplane.StopPlanes(ctx, home)
	if err != nil {
		return fmt.Errorf("stopping the control planes under %s: %w", home, err)
	}
	still, err := kubeplane.Running(home)
	if err != nil {
		return err
	}
	if len(still) > 0 {
		return fmt.Errorf("%s still running under %s after the stop", describePlanes(home, still), home)
	}
	stopped := mergePlanes(before, left)

	switch {
	case running && len(stopped) == 0:
		_, err = fmt.Fprintf(w, "stopped the fleetsim daemon (pid %d); no control plane was running\n", daemonPID)
	case running:
		_, err = fmt.Fprintf(w, "stopped the fleetsim daemon (pid %d) and %s\n", daemonPID, describePlanes(home, stopped))
	case daemonPID != 0 && len(stopped) == 0:
		_, err = fmt.Fprintf(w, "stopped the fleetsim daemon (pid %d), which no longer answered; no control plane was running\n", daemonPID)
	case daemonPID != 0:
		_, err = fmt.Fprintf(w, "stopped the fleetsim daemon (pid %d), which no longer answered, and %s\n", daemonPID, describePlanes(home, stopped))
	case len(stopped) > 0:
		_, err = fmt.Fprintf(w, "no fleetsim daemon was running (home %s); stopped %s it left behind\n", home, describePlanes(home, stopped))
	default:
		_, err = fmt.Fprintf(w, "no fleetsim daemon is running (home %s)\n", home)
	}
	return err
}

// stopUnresponsive ends a daemon that holds the home's lock but does not answer: SIGTERM,
// which makes it stop its planes and exit, then SIGKILL. It returns the daemon's PID, or
// 0 when no daemon holds the home.
func stopUnresponsive(ctx context.Context, home string) (int, error) {
	if _, err := os.Stat(home); errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	st, err := store.Open(home)
	if err != nil {
		return 0, err
	}
	if lock, err := st.Lock(); err == nil {
		_ = lock.Close()
		return 0, nil
	} else if !errors.Is(err, store.ErrLocked) {
		return 0, err
	}
	info, err := st.ReadDaemonInfo()
	if err != nil || !isDaemon(info.PID) {
		return 0, fmt.Errorf("a process holds %s but does not answer, and daemon.json names no fleetsim daemon; find it with `fuser %[1]s`", st.Path(store.LockFile))
	}
	_ = syscall.Kill(info.PID, syscall.SIGTERM)
	grace, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if waitExited(grace, info.PID) {
		return info.PID, nil
	}
	_ = syscall.Kill(info.PID, syscall.SIGKILL)
	if !waitExited(ctx, info.PID) {
		return 0, fmt.Errorf("the fleetsim daemon (pid %d) survived SIGKILL", info.PID)
	}
	return info.PID, nil
}

// isDaemon reports whether pid runs a fleetsim daemon: the plugin's or flotilla's
// `daemon` subcommand.
func isDaemon(pid int) bool {
	if pid <= 0 {
		return false
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return false
	}
	args := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
	bin := filepath.Base(args[0])
	return (bin == client.PluginBinary || bin == "flotilla") && slices.Contains(args, "daemon")
}

// waitExited waits until pid has exited (a zombie counts as exited) or ctx ends.
func waitExited(ctx context.Context, pid int) bool {
	for {
		if exited(pid) {
			return true
		}
		select {
		case <-ctx.Done():
			return exited(pid)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func exited(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name, which may itself hold spaces.
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && (stat[i+2] == 'Z' || stat[i+2] == 'X')
}

// mergePlanes joins two lists of stopped planes, by cluster.
func mergePlanes(a, b []simapi.StoppedPlane) []simapi.StoppedPlane {
	byID := map[string]map[string]int{}
	for _, p := range slices.Concat(a, b) {
		if byID[p.ClusterID] == nil {
			byID[p.ClusterID] = map[string]int{}
		}
		for c, pid := range p.PIDs {
			byID[p.ClusterID][c] = pid
		}
	}
	out := make([]simapi.StoppedPlane, 0, len(byID))
	for id, pids := range byID {
		out = append(out, simapi.StoppedPlane{ClusterID: id, PIDs: pids})
	}
	slices.SortFunc(out, func(x, y simapi.StoppedPlane) int { return strings.Compare(x.ClusterID, y.ClusterID) })
	return out
}

// describePlanes says which planes and processes these are: "2 control planes (etcd,
// kube-apiserver, ... of dev, staging)", naming clusters as the cloud's state does.
func describePlanes(home string, planes []simapi.StoppedPlane) string {
	names := map[string]string{}
	if st, err := store.Open(home); err == nil {
		if s, err := st.Load(); err == nil {
			for id, c := range s.Clusters {
				names[id] = c.Name
			}
		}
	}
	var clusters []string
	seen := map[string]bool{}
	for _, p := range planes {
		name := names[p.ClusterID]
		if name == "" {
			name = p.ClusterID
		}
		clusters = append(clusters, name)
		for c := range p.PIDs {
			seen[c] = true
		}
	}
	slices.Sort(clusters)
	var comps []string
	for _, c := range kubeplane.Components() {
		if seen[c] {
			comps = append(comps, c)
		}
	}
	noun := "control planes"
	if len(planes) == 1 {
		noun = "control plane"
	}
	return fmt.Sprintf("%d %s (%s of %s)", len(planes), noun, strings.Join(comps, ", "), strings.Join(clusters, ", "))
}
