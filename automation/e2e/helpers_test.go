package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/simcloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/simtest"
)

// runTimeout bounds one run of a test.
const runTimeout = 6 * time.Minute

// flotillaBin is the flotilla binary TestMain builds, for the tests that kill a run or
// read the CLI's output; buildErr says why it could not be built.
var flotillaBin, buildErr = "", error(nil)

func TestMain(m *testing.M) {
	os.Exit(func() int {
		tmp, err := os.MkdirTemp("", "flotilla-e2e-")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(tmp)
		flotillaBin = filepath.Join(tmp, "flotilla")
		// The flags of `make`, so that Go's cache serves this build.
		cmd := exec.Command("go", "build", "-trimpath", "-ldflags", "-w -s", "-o", flotillaBin, "../../cmd/flotilla")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("building cmd/flotilla: %w\n%s", err, out)
		}
		return m.Run()
	}())
}

// flotilla returns the flotilla binary, and fails the test when it could not be built.
func flotilla(t *testing.T) string {
	t.Helper()
	require.NoError(t, buildErr)
	return flotillaBin
}

// fleet is the shipped fleet in a project directory of the test's own, on a simulator
// of its own.
type fleet struct {
	t     *testing.T
	sim   *simtest.Sim
	dir   string // the project: Pulumi.yaml and stacks/
	state string // journals, the fleet lock, workspaces
	// noFallback lists the clusters ("<region>/<name>") whose spot pools were given no
	// fallback pool.
	noFallback map[string]bool
}

// newFleet starts a simulator (lite mode unless opts has simtest.WithKube) and copies
// Pulumi.yaml and stacks/*.yaml into a new project, so that the rollout's workspaces
// never touch the repository. Each stack file gets fleetsim:kube set to the sim's mode:
// the inline program runs in the test process, where the environment is shared by
// parallel tests.
func newFleet(t *testing.T, opts ...simtest.Option) *fleet {
	t.Helper()
	return newFleetOn(t, simtest.Start(t, opts...))
}

// newFleetOn is newFleet on a simulator the test already has.
func newFleetOn(t *testing.T, sim *simtest.Sim) *fleet {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "stacks"), 0o755))
	copyFile(t, "../../Pulumi.yaml", filepath.Join(dir, "Pulumi.yaml"))
	files, err := filepath.Glob("../../stacks/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	f := &fleet{t: t, sim: sim, dir: dir, state: filepath.Join(dir, ".flotilla"), noFallback: map[string]bool{}}
	for _, src := range files {
		dst := filepath.Join(dir, "stacks", filepath.Base(src))
		copyFile(t, src, dst)
		if strings.HasPrefix(filepath.Base(src), "Pulumi.") {
			f.editStack(strings.TrimSuffix(strings.TrimPrefix(filepath.Base(src), "Pulumi."), ".yaml"), func(s string) string {
				return strings.Replace(s, "config:\n", fmt.Sprintf("config:\n  fleetsim:kube: %q\n", kubeMode(sim)), 1)
			})
		}
	}
	return f
}

func kubeMode(sim *simtest.Sim) string {
	if sim.Kube {
		return "on"
	}
	return "off"
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dst, data, 0o644))
}

// stackFile is the path of a stack's file in the project.
func (f *fleet) stackFile(stack string) string {
	return filepath.Join(f.dir, "stacks", "Pulumi."+stack+".yaml")
}

// editStack rewrites a stack file of the project, and fails when edit changes nothing.
func (f *fleet) editStack(stack string, edit func(string) string) {
	f.t.Helper()
	path := f.stackFile(stack)
	data, err := os.ReadFile(path)
	require.NoError(f.t, err)
	out := edit(string(data))
	require.NotEqual(f.t, string(data), out, "the edit of %s changed nothing", path)
	require.NoError(f.t, os.WriteFile(path, []byte(out), 0o644))
}

// replaceInStack replaces the first occurrence of old in a stack file.
func (f *fleet) replaceInStack(stack, old, new string) {
	f.t.Helper()
	f.editStack(stack, func(s string) string { return strings.Replace(s, old, new, 1) })
}

// options are the Deployer options every test uses: the project, the sim's backend,
// CLI and environment, the simulator's health checker and pending resolver, and soaks
// scaled down as the sim scales time.
func (f *fleet) options(events chan<- automation.Event, extra ...automation.Option) []automation.Option {
	opts := []automation.Option{
		automation.WithProjectDir(f.dir),
		automation.WithStateDir(f.state),
		automation.WithBackend(f.sim.Backend),
		automation.WithBin(f.sim.Bin),
		automation.WithEnv(f.sim.Env()),
		automation.WithTimeScale(600),
		automation.WithHealth(simcloud.NewHealth(f.sim.Client)),
		automation.WithPendingResolver(simcloud.NewPendingResolver(f.sim.Client)),
	}
	if events != nil {
		opts = append(opts, automation.WithEvents(events))
	}
	return append(opts, extra...)
}

// deployer builds a Deployer over the fleet.
func (f *fleet) deployer(events chan<- automation.Event, extra ...automation.Option) *automation.Deployer {
	f.t.Helper()
	d, err := automation.New(f.options(events, extra...)...)
	require.NoError(f.t, err)
	return d
}

// run is what one call of the Deployer returned, with the events it sent.
type run struct {
	journal *automation.Journal
	events  []automation.Event
	err     error
}

// do runs one verb of a Deployer over the fleet and collects its events.
func (f *fleet) do(verb func(ctx context.Context, d *automation.Deployer) (*automation.Journal, error), extra ...automation.Option) run {
	f.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	rec := record()
	j, err := verb(ctx, f.deployer(rec.ch, extra...))
	return run{journal: j, events: rec.stop(), err: err}
}

// rollout runs a rollout over the fleet.
func (f *fleet) rollout(req automation.RolloutRequest, extra ...automation.Option) run {
	f.t.Helper()
	return f.do(func(ctx context.Context, d *automation.Deployer) (*automation.Journal, error) {
		return d.Rollout(ctx, req)
	}, extra...)
}

// resume resumes the last run.
func (f *fleet) resume(approve ...string) run {
	f.t.Helper()
	return f.do(func(ctx context.Context, d *automation.Deployer) (*automation.Journal, error) {
		return d.Resume(ctx, approve, nil)
	})
}

// retry retries the last run's failed stacks.
func (f *fleet) retry(stacks ...string) run {
	f.t.Helper()
	return f.do(func(ctx context.Context, d *automation.Deployer) (*automation.Journal, error) {
		return d.Retry(ctx, stacks, nil)
	})
}

// approveProd is the rollout of the whole fleet, prod approved.
var approveProd = automation.RolloutRequest{Approve: []string{"prod"}}

// recorder collects the events of one run.
type recorder struct {
	ch   chan automation.Event
	mu   sync.Mutex
	got  []automation.Event
	done chan struct{}
}

func record() *recorder {
	r := &recorder{ch: make(chan automation.Event, 256), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for e := range r.ch {
			r.mu.Lock()
			r.got = append(r.got, e)
			r.mu.Unlock()
		}
	}()
	return r
}

// stop ends the recording (the Deployer never closes the channel) and returns the events.
func (r *recorder) stop() []automation.Event {
	close(r.ch)
	<-r.done
	return r.got
}

// eventsOf returns the events of type T, in order.
func eventsOf[T automation.Event](events []automation.Event) []T {
	var out []T
	for _, e := range events {
		if x, ok := e.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

// gatePassed returns the first GatePassed of an environment's gate (of one stack, when
// stack is not empty).
func gatePassed(events []automation.Event, env, gate, stack string) (automation.GatePassed, bool) {
	for _, g := range eventsOf[automation.GatePassed](events) {
		if g.Environment == env && g.Gate == gate && (stack == "" || g.Stack == stack) {
			return g, true
		}
	}
	return automation.GatePassed{}, false
}

// interval is when a stack was busy with its preview and up in a run.
type interval struct {
	stack      automation.StackRef
	start, end time.Time
}

// stackIntervals returns, per stack, the span from its first step's start to its last
// step's end, health excepted (health is the wave's gate, read after every up).
func stackIntervals(t *testing.T, events []automation.Event) map[string]interval {
	t.Helper()
	out := map[string]interval{}
	for _, e := range events {
		switch e := e.(type) {
		case automation.StepStarted:
			if e.Step == automation.StepHealth {
				continue
			}
			iv, ok := out[e.Stack.Stack]
			if !ok || e.Time.Before(iv.start) {
				iv.start = e.Time
			}
			iv.stack = e.Stack
			out[e.Stack.Stack] = iv
		case automation.StepDone:
			if e.Step == automation.StepHealth {
				continue
			}
			iv := out[e.Stack.Stack]
			if e.Time.After(iv.end) {
				iv.end = e.Time
			}
			out[e.Stack.Stack] = iv
		}
	}
	for s, iv := range out {
		require.False(t, iv.end.IsZero(), "stack %s started a step that never ended", s)
	}
	return out
}

// maxOverlap is the largest number of intervals of env that are open at once.
func maxOverlap(ivs map[string]interval, env string) int {
	type edge struct {
		at    time.Time
		delta int
	}
	var edges []edge
	for _, iv := range ivs {
		if iv.stack.Environment == env {
			edges = append(edges, edge{iv.start, 1}, edge{iv.end, -1})
		}
	}
	sort.Slice(edges, func(i, j int) bool {
		if edges[i].at.Equal(edges[j].at) {
			return edges[i].delta < edges[j].delta // an end before a start at the same instant
		}
		return edges[i].at.Before(edges[j].at)
	})
	n, peak := 0, 0
	for _, e := range edges {
		n += e.delta
		peak = max(peak, n)
	}
	return peak
}

// wantClusters are the shipped fleet's clusters, as "<region>/<cluster name in the
// cloud>", by stack.
var wantClusters = map[string][]string{
	"dev":         {"sim-east-1/dev-east-1"},
	"staging":     {"sim-east-1/staging-east-1", "sim-west-1/staging-west-1"},
	"prod-canary": {"sim-west-1/prod-west-1"},
	"prod-east":   {"sim-east-1/prod-east-1"},
	"prod-eu":     {"sim-eu-1/prod-eu-1"},
}

// clustersOf lists the clusters the stacks should have.
func clustersOf(stacks ...string) []string {
	var out []string
	for _, s := range stacks {
		out = append(out, wantClusters[s]...)
	}
	sort.Strings(out)
	return out
}

var allStacks = []string{"dev", "staging", "prod-canary", "prod-east", "prod-eu"}

// assertCloud asserts that the simulated cloud holds exactly the clusters of stacks,
// each once, with exactly the node pools each cluster should have (no duplicate, no
// orphan), and no operation still running.
func (f *fleet) assertCloud(stacks ...string) {
	t := f.t
	t.Helper()
	st := f.sim.State(t)
	var got []string
	byID := map[string]string{}
	for id, c := range st.Clusters {
		got = append(got, c.Region+"/"+c.Name)
		byID[id] = c.Region + "/" + c.Name
	}
	sort.Strings(got)
	assert.Equal(t, clustersOf(stacks...), got, "the simulated cloud's clusters: exactly one of each, none extra")

	pools := map[string][]string{}
	for _, p := range st.Pools {
		owner, ok := byID[p.ClusterID]
		if !assert.True(t, ok, "node pool %s (%s) belongs to no cluster the cloud has", p.Name, p.ID) {
			continue
		}
		pools[owner] = append(pools[owner], p.Name)
	}
	for _, c := range got {
		names := pools[c]
		sort.Strings(names)
		assert.Equal(t, f.wantPools(c), names, "the node pools of %s: exactly one of each, none extra", c)
	}
	for id, op := range st.Operations {
		assert.NotEqual(t, cloud.OpRunning, op.Status, "operation %s (%s of %s) is still running", id, op.Kind, op.Target)
	}
}

// wantPools are the node pools of a shipped cluster ("<region>/<name>"): its system
// pool, and its spot pool with the on-demand pool that falls back for it.
func (f *fleet) wantPools(cluster string) []string {
	name := cluster[strings.IndexByte(cluster, '/')+1:]
	if f.noFallback[cluster] {
		return []string{name + "-general-spot", "system"}
	}
	return []string{name + "-general-fallback", name + "-general-spot", "system"}
}

// journalFiles returns the contents of every file the Deployer wrote under its state
// directory, except the Pulumi workspaces and backends.
func journalFiles(t *testing.T, state string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(state, func(path string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.IsDir() && (fi.Name() == "workspaces" || fi.Name() == "state") {
			return filepath.SkipDir
		}
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			out[path] = string(data)
		}
		return nil
	})
	require.NoError(t, err)
	return out
}

// mustJSON marshals events as the CLI's --output json would: one object per line.
func mustJSON(t *testing.T, events []automation.Event) string {
	t.Helper()
	var b strings.Builder
	for _, e := range events {
		data, err := json.Marshal(e)
		require.NoError(t, err)
		b.Write(data)
		b.WriteByte('\n')
	}
	return b.String()
}

// logEvents writes a run's events to the test log when the test fails.
func logEvents(t *testing.T, name string, r run) {
	t.Helper()
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		t.Logf("%s: err=%v", name, r.err)
		for _, e := range r.events {
			if _, ok := e.(automation.EngineOutput); ok {
				continue
			}
			data, _ := json.Marshal(e)
			t.Logf("  %s %s %s", e.When().Format("15:04:05.000"), e.Kind(), data)
		}
	})
}

// spotPool returns a cluster's spot pool as the simulated cloud has it.
func spotPool(t *testing.T, f *fleet, cluster string) *cloud.NodePool {
	t.Helper()
	var found *cloud.NodePool
	for _, p := range f.sim.State(t).Pools {
		if p.Name == cluster+"-general-spot" {
			require.Nil(t, found, "two spot pools named %s", p.Name)
			found = p
		}
	}
	require.NotNil(t, found, "no spot pool in %s", cluster)
	return found
}

// secrets are what must never leave the process: the passphrase, and every kubeconfig
// the simulated cloud handed out (and their credentials line by line).
func (f *fleet) secrets() []string {
	f.t.Helper()
	out := []string{simtest.Passphrase}
	for _, c := range f.sim.State(f.t).Clusters {
		if c.Kubeconfig == "" {
			continue
		}
		out = append(out, c.Kubeconfig)
		for _, line := range strings.Split(c.Kubeconfig, "\n") {
			k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
			if ok && len(strings.TrimSpace(v)) >= 16 && (strings.Contains(k, "data") || strings.Contains(k, "token") || strings.Contains(k, "password")) {
				out = append(out, strings.TrimSpace(v))
			}
		}
	}
	return out
}

// assertNoSecrets checks that text holds none of the fleet's secrets.
func (f *fleet) assertNoSecrets(what, text string) {
	f.t.Helper()
	for _, s := range f.secrets() {
		if strings.Contains(text, s) {
			f.t.Errorf("%s holds a secret (%.24q...)", what, s)
		}
	}
}
