package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/automationtest"
)

// fixtures are the fake clouds of the tests' projects, by project directory.
var fixtures sync.Map

func TestMain(m *testing.M) {
	newDeployer = func(project string, opts ...automation.Option) (*automation.Deployer, error) {
		v, ok := fixtures.Load(project)
		if !ok {
			return nil, fmt.Errorf("no test fixture for project %s", project)
		}
		f := v.(*fixture)
		return automation.New(append(opts,
			automation.WithStackOps(f.fake), automation.WithHealth(f.health),
			automation.WithValidator(func(context.Context, automation.StackRef, string) error { return nil }),
			automation.WithProgramHash("test-build"), automation.WithTimeScale(6000))...)
	}
	os.Exit(m.Run())
}

const testEnvironments = `environments:
  - name: dev
    maxConcurrency: 2
  - name: staging
    soak: 10m
    maxConcurrency: 2
  - name: prod
    requiresApproval: true
    protected: true
    maxConcurrency: 1
    waves:
      - [prod-canary]
      - [prod-east]
`

var testStacks = map[string]string{"dev": "dev", "staging": "staging", "prod-canary": "prod", "prod-east": "prod"}

// secretKubeconfig is an output every stack has; it must never be printed.
const secretKubeconfig = "apiVersion: v1\nkind: Config\ntoken: s3cr3t-t0ken"

type fixture struct {
	dir    string
	fake   *automationtest.Fake
	health *automationtest.FakeHealth
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), []byte("name: flotilla\nruntime: go\n"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "stacks"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stacks", "environments.yaml"), []byte(testEnvironments), 0o644))
	f := &fixture{dir: dir, fake: automationtest.NewFake(), health: automationtest.NewFakeHealth()}
	for stack, env := range testStacks {
		body := fmt.Sprintf("config:\n  flotilla:environment: %s\n", env)
		require.NoError(t, os.WriteFile(filepath.Join(dir, "stacks", "Pulumi."+stack+".yaml"), []byte(body), 0o644))
		f.fake.StackOutputs[stack] = automation.Outputs{"kubeconfig": {Value: secretKubeconfig, Secret: true}}
		f.fake.Previews[stack] = automation.OpResult{Changes: map[string]int{"update": 3, "same": 40}}
	}
	fixtures.Store(dir, f)
	return f
}

// invocation is one run of the command line.
type invocation struct {
	stdout, stderr string
	err            error
	code           int
}

// run runs flotilla in-process, as main does: the stop channel in the context, the
// error on stderr unless the command reported it, the exit code from the error.
func (f *fixture) run(t *testing.T, args ...string) invocation {
	t.Helper()
	return f.runWith(t, context.Background(), nil, nil, args...)
}

func (f *fixture) runWith(t *testing.T, ctx context.Context, stop *stopper, stdin io.Reader, args ...string) invocation {
	t.Helper()
	cmd := newRootCmd()
	var out, errOut bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errOut)
	if stdin != nil {
		cmd.SetIn(stdin)
	} else {
		cmd.SetIn(strings.NewReader(""))
	}
	if f != nil {
		args = append(args, "--project", f.dir)
	}
	cmd.SetArgs(args)
	if stop == nil {
		stop = newStopper()
	}
	err := cmd.ExecuteContext(withStop(ctx, stop))
	var shown *reportedError
	if err != nil && !errors.As(err, &shown) {
		fmt.Fprintln(&errOut, "error:", err)
	}
	return invocation{stdout: out.String(), stderr: errOut.String(), err: err, code: exitCode(err)}
}

func TestRolloutShowsProgressAndSummary(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv := f.run(t, "rollout", "--approve", "prod")
	require.Equal(t, 0, inv.code, "stdout:\n%s\nstderr:\n%s", inv.stdout, inv.stderr)
	out := inv.stdout
	for _, want := range []string{
		"==> dev: wave 1/1: dev",
		"==> prod: wave 2/2: prod-east",
		"    staging      preview  ",
		"(3 to update, 40 unchanged)",
		"up done in",
		"(3 updated, 40 unchanged)",
		"healthy: staging-cluster 3/3 nodes ready in 1 pool",
		"==> prod: approved on the command line (--approve prod)",
		"preview policy passed",
		"==> staging: soak done: healthy through a 10m0s soak",
		"succeeded in",
		"updated:     dev (3 updated, 40 unchanged), staging (3 updated, 40 unchanged), prod-canary",
	} {
		assert.Contains(t, out, want)
	}
	assert.NotContains(t, out, "s3cr3t", "no secret is printed")
	assert.NotContains(t, out, "\x1b[", "no cursor movement off a terminal")
	assert.Empty(t, inv.stderr)

	// Nothing changed: every stack is skipped, and the output says so.
	inv = f.run(t, "rollout", "--approve", "prod")
	require.Equal(t, 0, inv.code, inv.stdout+inv.stderr)
	assert.Contains(t, inv.stdout, "prod-east    skipped: unchanged since its last successful update (run ")
	assert.Contains(t, inv.stdout, "skipped:     dev, staging, prod-canary, prod-east")
	assert.Contains(t, inv.stdout, "==> staging: unchanged, nothing to do")
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(t *testing.T, f *fixture)
		args  []string
		code  int
		want  []string // in stdout or stderr
	}{
		{
			name: "a missing approval in a non-interactive run is a refused gate",
			args: []string{"rollout"},
			code: exitGate,
			want: []string{`promotion into "prod" requires approval`, "refused before anything changed", "--approve prod"},
		},
		{
			name: "an upgrade without a target is bad usage",
			args: []string{"upgrade"},
			code: exitUsage,
			want: []string{"--to is required"},
		},
		{
			name: "an upgrade to something that is not a minor is bad input",
			args: []string{"upgrade", "--to", "1.33.2", "--approve", "prod"},
			code: exitUsage,
			want: []string{`--to "1.33.2": name a Kubernetes minor such as "1.33"`},
		},
		{
			name: "a freeze without a reason is bad usage",
			args: []string{"freeze"},
			code: exitUsage,
			want: []string{"--reason is required"},
		},
		{
			name:  "a frozen fleet refuses a rollout, saying why",
			setup: func(t *testing.T, f *fixture) { f.run(t, "freeze", "--reason", "year-end freeze", "--until", "48h") },
			args:  []string{"rollout", "--approve", "prod"},
			code:  exitGate,
			want:  []string{"the fleet is frozen by", "year-end freeze", "flotilla unfreeze"},
		},
		{
			name: "an unknown environment is bad input",
			args: []string{"rollout", "--env", "qa"},
			code: exitUsage,
			want: []string{`unknown environment "qa": the environments are dev, staging, prod`},
		},
		{
			name: "an unknown environment to approve is bad input",
			args: []string{"rollout", "--approve", "production"},
			code: exitUsage,
			want: []string{`unknown environment "production"`},
		},
		{
			name: "a failed up fails the run",
			setup: func(_ *testing.T, f *fixture) {
				f.fake.Fail("up/staging", errors.New("error: quota exceeded in sim-east-1"))
			},
			args: []string{"rollout", "--approve", "prod"},
			code: exitFailed,
			want: []string{"staging      FAILED at up: ", "quota exceeded", "failed:      staging:", "not run:     prod-canary, prod-east", "next:        fix the cause, then `flotilla retry"},
		},
		{
			name:  "a failed health gate fails the run",
			setup: func(_ *testing.T, f *fixture) { f.health.SetProblems("dev", "pool dev-spot: 1/3 nodes ready") },
			args:  []string{"rollout", "--approve", "prod"},
			code:  exitFailed,
			want:  []string{"dev          unhealthy, FAILED: ", "pool dev-spot: 1/3 nodes ready", "failed:      dev:"},
		},
		{
			name: "the preview policy stops a replace in prod",
			setup: func(_ *testing.T, f *fixture) {
				f.fake.Previews["prod-canary"] = automation.OpResult{Changes: map[string]int{"replace": 1},
					Resources: []automation.ResourceChange{{URN: "urn:pulumi:prod-canary::flotilla::fleetsim:index:Cluster::east", Op: "replace"}}}
			},
			args: []string{"rollout", "--approve", "prod"},
			code: exitGate,
			want: []string{"stopped by the preview policy", "replace urn:pulumi:prod-canary::flotilla::fleetsim:index:Cluster::east", "--allow-replace"},
		},
		{
			name: "a live fleet lock refuses the run",
			setup: func(t *testing.T, f *fixture) {
				writeLock(t, f.dir, os.Getpid(), time.Now())
			},
			args: []string{"rollout", "--approve", "prod"},
			code: exitLocked,
			want: []string{"the fleet is locked by another run", "run-other"},
		},
		{
			name:  "a stack locked by a live update elsewhere refuses the run",
			setup: func(_ *testing.T, f *fixture) { f.fake.LockStack("dev", "ci", "build-host-7", 4242) },
			args:  []string{"rollout", "--approve", "prod"},
			code:  exitLocked,
			want:  []string{"is locked by another update", "ci@build-host-7 (pid 4242)", "wait for the other update to finish"},
		},
		{
			name: "resume without a run is bad input",
			args: []string{"resume"},
			code: exitUsage,
			want: []string{"there is no run to resume"},
		},
		{
			name: "retry without a run is bad input",
			args: []string{"retry"},
			code: exitUsage,
			want: []string{"there is no run to retry"},
		},
		{
			name: "a project without Pulumi.yaml is bad input",
			setup: func(t *testing.T, f *fixture) {
				require.NoError(t, os.Remove(filepath.Join(f.dir, "Pulumi.yaml")))
			},
			args: []string{"status"},
			code: exitUsage,
			want: []string{"has no Pulumi.yaml"},
		},
		{name: "an unknown flag", args: []string{"rollout", "--aprove", "prod"}, code: exitUsage, want: []string{"unknown flag: --aprove"}},
		{name: "a bad output format", args: []string{"plan", "--output", "yaml"}, code: exitUsage, want: []string{`--output "yaml": use text or json`}},
		{name: "a negative concurrency", args: []string{"rollout", "--max-concurrency", "-1"}, code: exitUsage, want: []string{"--max-concurrency -1"}},
		{name: "a non-numeric concurrency", args: []string{"rollout", "--max-concurrency", "two"}, code: exitUsage, want: []string{"invalid argument"}},
		{name: "a positional argument", args: []string{"status", "prod"}, code: exitUsage, want: []string{"unknown command"}},
		{name: "destroy without --env", args: []string{"destroy", "--yes"}, code: exitUsage, want: []string{"destroy needs --env"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			if tt.setup != nil {
				tt.setup(t, f)
			}
			inv := f.run(t, tt.args...)
			all := inv.stdout + inv.stderr
			assert.Equal(t, tt.code, inv.code, all)
			for _, w := range tt.want {
				assert.Contains(t, all, w)
			}
			if tt.code == exitUsage || strings.Contains(tt.name, "approval") {
				assert.Empty(t, f.fake.Ops(automationtest.OpUp), "bad input changes nothing")
			}
		})
	}
}

func writeLock(t *testing.T, project string, pid int, heartbeat time.Time) {
	t.Helper()
	host, _ := os.Hostname()
	h := automation.LockHolder{RunID: "run-other", Command: "rollout", User: "alice", Host: host, PID: pid, Since: heartbeat, Heartbeat: heartbeat}
	data, err := json.Marshal(h)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Join(project, ".flotilla"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(project, ".flotilla", "lock.json"), data, 0o644))
}

func TestRetryAfterAFailureAndRefusalWhenInputsChanged(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.fake.Fail("up/staging", errors.New("error: transient cloud error"))
	inv := f.run(t, "rollout", "--approve", "prod")
	require.Equal(t, exitFailed, inv.code, inv.stdout)

	// The stack file changed: retry refuses and says to resume.
	path := filepath.Join(f.dir, "stacks", "Pulumi.staging.yaml")
	orig, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, append(orig, []byte("  flotilla:note: changed\n")...), 0o644))
	inv = f.run(t, "retry")
	assert.Equal(t, exitUsage, inv.code, inv.stdout+inv.stderr)
	assert.Contains(t, inv.stdout+inv.stderr, "stacks/Pulumi.staging.yaml changed")
	assert.Contains(t, inv.stdout+inv.stderr, "flotilla resume")

	require.NoError(t, os.WriteFile(path, orig, 0o644))
	inv = f.run(t, "retry", "--stack", "staging")
	require.Equal(t, 0, inv.code, inv.stdout+inv.stderr)
	assert.Contains(t, inv.stdout, "done before: dev")
	assert.Contains(t, inv.stdout, "updated:     staging")
}

func TestJSONOutputIsOneObjectPerLineEndingWithAResult(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		args   []string
		code   int
		status string
	}{
		{"success", []string{"rollout", "--approve", "prod", "--output", "json"}, 0, "succeeded"},
		{"gate", []string{"rollout", "--output", "json"}, exitGate, "gated"},
		{"nothing to resume", []string{"resume", "-o", "json"}, exitUsage, "invalid"},
		{"unknown environment", []string{"plan", "--env", "qa", "-o", "json"}, exitUsage, "invalid"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			inv := f.run(t, tt.args...)
			require.Equal(t, tt.code, inv.code, inv.stdout+inv.stderr)
			assert.NotContains(t, inv.stdout, "s3cr3t")
			objs := jsonLines(t, inv.stdout)
			require.NotEmpty(t, objs)
			last := objs[len(objs)-1]
			assert.Equal(t, "result", last["type"])
			assert.Equal(t, float64(tt.code), last["exitCode"])
			assert.Equal(t, tt.status, last["status"])
			if tt.code != 0 {
				assert.NotEmpty(t, last["error"])
			}
			types := map[string]bool{}
			for _, o := range objs[:len(objs)-1] {
				typ, _ := o["type"].(string)
				require.NotEmpty(t, typ, "every object has a type: %v", o)
				assert.NotEqual(t, "result", typ, "the result comes last, once")
				types[typ] = true
			}
			if tt.code == 0 {
				assert.NotEmpty(t, last["runID"])
				for _, want := range []string{"run-started", "stage-started", "wave-started", "step-started", "step-done", "gate-passed", "soak-progress", "stage-done", "run-done"} {
					assert.True(t, types[want], "an event of type %s", want)
				}
			}
		})
	}
}

func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var m map[string]any
		require.NoError(t, json.Unmarshal(sc.Bytes(), &m), "line %q", sc.Text())
		out = append(out, m)
	}
	return out
}

func TestEngineOutputOnlyWithVerbose(t *testing.T) {
	t.Parallel()
	ev := automation.EngineOutput{At: automation.At{Time: time.Now()}, Stack: automation.StackRef{Environment: "dev", Stack: "dev"}, Line: "+ fleetsim:index:Cluster east creating"}
	for _, tt := range []struct {
		output  string
		verbose bool
		shown   bool
	}{
		{"text", false, false}, {"text", true, true}, {"json", false, false}, {"json", true, true},
	} {
		var buf bytes.Buffer
		p := &progress{w: &buf, json: tt.output == "json", verbose: tt.verbose, run: newRunTrack()}
		p.event(ev)
		if !tt.shown {
			assert.Empty(t, buf.String(), "%s verbose=%v", tt.output, tt.verbose)
			continue
		}
		assert.Contains(t, buf.String(), "fleetsim:index:Cluster east creating", "%s verbose=%v", tt.output, tt.verbose)
		if tt.output == "json" {
			objs := jsonLines(t, buf.String())
			require.Len(t, objs, 1)
			assert.Equal(t, "engine-output", objs[0]["type"])
		}
	}
}

func TestFirstInterruptStopsNewWorkThenResumeFinishes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	stop := newStopper()
	var once sync.Once
	f.fake.OnCall = func(c automationtest.Call) error {
		if c.Key() == "up/dev" {
			assert.True(t, stop.taken.Load(), "rollout honours the first Ctrl-C")
			once.Do(func() { close(stop.ch) }) // Ctrl-C while dev's up runs
		}
		return nil
	}
	inv := f.runWith(t, context.Background(), stop, nil, "rollout", "--approve", "prod")
	assert.Equal(t, exitFailed, inv.code, inv.stdout+inv.stderr)
	assert.True(t, automation.IsInterrupted(inv.err))
	assert.Contains(t, inv.stdout, "==> interrupted: letting the running operations finish and starting nothing new")
	assert.Contains(t, inv.stdout, "dev          up done in", "the running operation finishes")
	assert.Contains(t, inv.stdout, "next:        flotilla resume")
	assert.Equal(t, []string{"dev"}, f.fake.Stacks(automationtest.OpUp), "nothing new starts")

	f.fake.OnCall = nil
	inv = f.run(t, "resume")
	require.Equal(t, 0, inv.code, inv.stdout+inv.stderr)
	assert.Equal(t, []string{"dev", "staging", "prod-canary", "prod-east"}, f.fake.Stacks(automationtest.OpUp))
}

func TestDestroyRefusals(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv := f.run(t, "destroy", "--env", "dev")
	assert.Equal(t, exitUsage, inv.code)
	assert.Contains(t, inv.stderr, "this run is not interactive: run again with --yes")

	inv = f.run(t, "destroy", "--env", "prod", "--yes")
	assert.Equal(t, exitUsage, inv.code)
	assert.Contains(t, inv.stderr, "prod is protected: destroying it needs --allow-protected")

	inv = f.run(t, "destroy", "--env", "qa", "--yes")
	assert.Equal(t, exitUsage, inv.code)
	assert.Contains(t, inv.stderr, `unknown environment "qa"`)
	assert.Empty(t, f.fake.Ops(automationtest.OpDestroy), "nothing was destroyed")
}

func TestUnlock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	inv := f.run(t, "unlock")
	require.Equal(t, 0, inv.code, inv.stderr)
	assert.Contains(t, inv.stdout, "the fleet was not locked")

	writeLock(t, f.dir, os.Getpid(), time.Now())
	inv = f.run(t, "unlock")
	assert.Equal(t, exitLocked, inv.code)
	assert.Contains(t, inv.stderr, "unlock refuses a live lock; pass --force")
	_, err := os.Stat(filepath.Join(f.dir, ".flotilla", "lock.json"))
	require.NoError(t, err, "a live lock stays")

	writeLock(t, f.dir, deadPID(t), time.Now())
	inv = f.run(t, "unlock")
	require.Equal(t, 0, inv.code, inv.stderr)
	assert.Contains(t, inv.stdout, "cleared the stale fleet lock of alice@")
	assert.Contains(t, inv.stdout, "is gone from this host")
	_, err = os.Stat(filepath.Join(f.dir, ".flotilla", "lock.json"))
	assert.ErrorIs(t, err, os.ErrNotExist)

	// A stale lock of a dead run of this host is taken over by the next rollout.
	writeLock(t, f.dir, deadPID(t), time.Now())
	inv = f.run(t, "rollout", "--to", "dev")
	require.Equal(t, 0, inv.code, inv.stdout+inv.stderr)
	assert.Contains(t, inv.stdout, "cleared the fleet lock of a dead run: alice@")
}

// deadPID returns a PID no process has.
func deadPID(t *testing.T) int {
	t.Helper()
	for pid := 4_000_000; pid > 3_000_000; pid -= 7919 {
		if _, err := os.FindProcess(pid); err == nil && !pidExists(pid) {
			return pid
		}
	}
	t.Fatal("no free PID found")
	return 0
}

func pidExists(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return err == nil
}

func TestHelpSaysWhatEachCommandDoesAndItsGates(t *testing.T) {
	t.Parallel()
	gates := []string{"approval", "preview policy", "health", "soak", "failure budget", "lock"}
	for _, tt := range []struct {
		verb string
		want []string
	}{
		{"rollout", append(gates, "--approve", "--allow-replace", "Ctrl-C")},
		{"resume", append(gates, "re-reads each stack's real state")},
		{"retry", append(gates, "inputs the journal recorded")},
		{"plan", []string{"preview policy", "--allow-replace", "changes nothing"}},
		{"status", []string{"lag", "lock", "stale", "versions"}},
		{"drift", []string{"--expect-no-changes", "lock"}},
		{"destroy", []string{"--yes", "--allow-protected", "protected", "lock", "confirm"}},
		{"unlock", []string{"stale", "--force", "heartbeat"}},
		{"upgrade", append(gates, "--to", "--plan-only", "one minor at a time", "maintenanceWindow", "--wait-for-window", "fallback")},
		{"freeze", []string{"--reason", "--until", "unfreeze"}},
	} {
		inv := (*fixture)(nil).runWith(t, context.Background(), nil, nil, tt.verb, "--help")
		require.NoError(t, inv.err, tt.verb)
		for _, w := range append(tt.want, "Examples:", "--project", "--backend", "--sim", "--bin", "--output") {
			assert.Contains(t, inv.stdout, w, "flotilla %s --help", tt.verb)
		}
	}
}

func TestExitCodeOfEachErrorClass(t *testing.T) {
	t.Parallel()
	ref := automation.StackRef{Environment: "prod", Stack: "prod-eu"}
	for _, tt := range []struct {
		err  error
		code int
	}{
		{nil, 0},
		{&automation.RunFailedError{RunID: "r"}, 1},
		{&automation.HealthError{Stack: ref}, 1},
		{&automation.DriftError{Stacks: []string{"dev"}}, 1},
		{&automation.InterruptedError{RunID: "r"}, 1},
		{errors.New("something else"), 1},
		{&automation.InputError{Msg: "bad"}, 2},
		{&automation.NothingToResumeError{Msg: "none"}, 2},
		{&automation.InputsChangedError{Changes: []string{"x"}}, 2},
		{usagef("--output %q", "yaml"), 2},
		{&automation.ApprovalRequiredError{Environment: "prod"}, 3},
		{&automation.StackError{Stack: ref, Err: &automation.PreviewPolicyError{Stack: ref}}, 3},
		{&automation.LockedError{}, 4},
		{&automation.ConcurrentUpdateError{Stack: ref}, 4},
		{&reportedError{err: &automation.LockedError{}}, 4},
		{fmt.Errorf("wrapped: %w", &automation.ApprovalRequiredError{Environment: "prod"}), 3},
	} {
		assert.Equal(t, tt.code, exitCode(tt.err), "%T %v", tt.err, tt.err)
	}
}

// TestPreviewRefusalIsListedOnce: a stopped stack's resources are named once, by the
// preview gate, and neither its failure line nor the summary repeat the list.
func TestPreviewRefusalIsListedOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	urn := "urn:pulumi:prod-canary::flotilla::fleetsim:index:Cluster::east"
	f.fake.Previews["prod-canary"] = automation.OpResult{Changes: map[string]int{"replace": 1},
		Resources: []automation.ResourceChange{{URN: urn, Op: "create-replacement"}, {URN: urn, Op: "replace"}, {URN: urn, Op: "delete-replaced"}}}
	inv := f.run(t, "rollout", "--approve", "prod")
	require.Equal(t, exitGate, inv.code, inv.stdout+inv.stderr)
	assert.Equal(t, 2, strings.Count(inv.stdout, "- replace "+urn), "once at the gate, once in the summary:\n%s", inv.stdout)
	assert.NotContains(t, inv.stdout, "create-replacement")
	assert.Contains(t, inv.stdout, "FAILED at preview: stopped by its preview policy (above)")
	assert.NotContains(t, inv.stdout, "why:")
	assert.Contains(t, inv.stdout, "would replace or delete 1 resource(s)")
}
