package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
)

// killPoints are when the flotilla process is killed after it starts: spread over
// pre-flight, dev, staging and its soak. FLOTILLA_SOAK=1 (`make soak`) tries many more,
// up to prod's second wave.
func killPoints() []time.Duration {
	if os.Getenv("FLOTILLA_SOAK") == "" {
		return []time.Duration{500 * time.Millisecond, 1500 * time.Millisecond, 3 * time.Second, 5 * time.Second, 8 * time.Second, 12 * time.Second}
	}
	var out []time.Duration
	for at := 300 * time.Millisecond; at <= 26*time.Second; at += 700 * time.Millisecond {
		out = append(out, at)
	}
	return out
}

// TestKilledRolloutResumes SIGKILLs `flotilla rollout` at many points, then resumes
// the run: it completes, with every cluster and pool in the simulated cloud exactly
// once, no stack lock and no pending operation left in the state, and the fleet lock
// of the dead run cleared.
func TestKilledRolloutResumes(t *testing.T) {
	t.Parallel()
	bin := flotilla(t)
	for _, at := range killPoints() {
		t.Run(fmt.Sprintf("killed after %s", at), func(t *testing.T) {
			t.Parallel()
			f := newFleet(t)
			f.shareSimHome()
			// A file, not a pipe: waiting for the process never waits on what it started.
			out, err := os.Create(filepath.Join(t.TempDir(), "rollout.out"))
			require.NoError(t, err)
			defer out.Close()
			cmd := exec.Command(bin, "rollout", "--project", f.dir, "--backend", f.sim.Backend, "--bin", f.sim.Bin,
				"--sim", "--approve", "prod", "--output", "json")
			cmd.Env = cliEnv(f.sim)
			cmd.Stdout, cmd.Stderr = out, out
			require.NoError(t, cmd.Start())
			exited := make(chan error, 1)
			go func() { exited <- cmd.Wait() }()
			select {
			case err := <-exited:
				data, _ := os.ReadFile(out.Name())
				t.Fatalf("the rollout ended before it was killed after %s (%v):\n%s", at, err, data)
			case <-time.After(at):
			}
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			if err := <-exited; err == nil {
				t.Fatalf("the rollout exited cleanly although it was killed after %s", at)
			}
			output := func() string { data, _ := os.ReadFile(out.Name()); return string(data) }
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("the killed rollout's output:\n%s", output())
				}
			})
			f.assertNoOrphans()
			f.assertNoSecrets("the killed CLI's --output json", output())

			// A run killed before its journal existed is started again; any other is resumed.
			j, err := f.deployer(nil).LatestRun()
			require.NoError(t, err)
			var r run
			if j == nil {
				r = f.rollout(approveProd)
			} else {
				assert.Equal(t, automation.RunRunning, j.Status, "the journal of the killed run says it was running")
				r = f.resume()
			}
			logEvents(t, "resume", r)
			require.NoError(t, r.err)
			assert.Equal(t, automation.RunSucceeded, r.journal.Status)
			if j != nil {
				assert.Equal(t, j.RunID, r.journal.RunID, "resume continues the killed run")
				var tookOver bool
				for _, c := range eventsOf[automation.Cleared](r.events) {
					tookOver = tookOver || strings.Contains(c.What, "fleet lock of a dead run")
				}
				assert.True(t, tookOver, "resume says it cleared the dead run's fleet lock")
			}
			for _, s := range allStacks {
				assert.Contains(t, []automation.StackStatus{automation.StatusSucceeded, automation.StatusSkipped}, r.journal.Stacks[s].Status, s)
			}
			f.assertCloud(allStacks...)
			f.assertCleanState()
			assert.NoFileExists(t, filepath.Join(f.state, "lock.json"))
		})
	}
}

// shareSimHome points the CLI's --sim home (<project>/.flotilla/fleetsim) at the test's
// simulator.
func (f *fleet) shareSimHome() {
	f.t.Helper()
	require.NoError(f.t, os.MkdirAll(f.state, 0o755))
	require.NoError(f.t, os.Symlink(f.sim.Home, filepath.Join(f.state, "fleetsim")))
}

// assertCleanState checks the file backend: no stack is locked, and no stack's state
// holds a pending operation.
func (f *fleet) assertCleanState() {
	t := f.t
	t.Helper()
	root := filepath.Join(strings.TrimPrefix(f.sim.Backend, "file://"), ".pulumi")
	locks, _ := filepath.Glob(filepath.Join(root, "locks", "*", "*", "*", "*.json"))
	more, _ := filepath.Glob(filepath.Join(root, "locks", "*", "*", "*.json"))
	assert.Empty(t, append(locks, more...), "no stack lock is left behind")
	for _, s := range allStacks {
		data, err := os.ReadFile(filepath.Join(root, "stacks", "flotilla", s+".json"))
		require.NoError(t, err, s)
		var cp struct {
			Checkpoint struct {
				Latest struct {
					Pending []json.RawMessage `json:"pending_operations"`
				} `json:"latest"`
			} `json:"checkpoint"`
		}
		require.NoError(t, json.Unmarshal(data, &cp), s)
		assert.Empty(t, cp.Checkpoint.Latest.Pending, "%s: no pending operation is left in the state", s)
	}
}

// assertNoOrphans checks that no Pulumi CLI the killed run started outlives it, so
// that no update runs behind it: no pulumi process runs with the sim's PULUMI_HOME a
// few seconds after the kill, and none of the provider plugins it started either: the
// fleetsim plugin exits when its engine dies. Other plugins (the Kubernetes provider)
// exit at the SDK's next engine health check, minutes later, and are only logged.
func (f *fleet) assertNoOrphans() {
	t := f.t
	t.Helper()
	marker := []byte("PULUMI_HOME=" + f.sim.PulumiHome + "\x00")
	var cli, plugins []string
	deadline := time.Now().Add(10 * time.Second)
	for {
		cli, plugins = cli[:0], plugins[:0]
		procs, _ := filepath.Glob("/proc/[0-9]*")
		for _, p := range procs {
			env, err := os.ReadFile(filepath.Join(p, "environ"))
			if err != nil || !bytes.Contains(env, marker) {
				continue
			}
			if stat, err := os.ReadFile(filepath.Join(p, "stat")); err == nil && bytes.Contains(stat, []byte(") Z ")) {
				continue // a zombie: dead, waiting to be reaped
			}
			cmdline, _ := os.ReadFile(filepath.Join(p, "cmdline"))
			args := strings.Fields(string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
			desc := filepath.Base(p) + ": " + strings.Join(args, " ")
			if len(args) > 0 && filepath.Base(args[0]) == "pulumi" {
				cli = append(cli, desc)
			} else {
				plugins = append(plugins, desc)
			}
		}
		if len(cli) == 0 && !strings.Contains(strings.Join(plugins, " "), "pulumi-resource-fleetsim") || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	assert.Empty(t, cli, "Pulumi CLI processes of the killed run are still running 10s after it died")
	for _, p := range plugins {
		assert.NotContains(t, p, "pulumi-resource-fleetsim", "the fleetsim plugin outlived its engine by 10s")
	}
	if len(plugins) > 0 {
		t.Logf("provider plugins of the killed run still running (they exit at their next engine health check): %v", plugins)
	}
}
