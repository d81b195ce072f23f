package automation_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/automationtest"
	"github.com/flotilla-io/flotilla/components/envset"
)

// harness is a Deployer over the fakes, in a project and state directory of its own.
type harness struct {
	t        *testing.T
	dir      string
	state    string
	set      envset.Set
	fake     *automationtest.Fake
	health   *automationtest.FakeHealth
	events   chan automation.Event
	d        *automation.Deployer
	opts     []automation.Option
	mu       sync.Mutex
	invalid  map[string]error // validator's answer per stack
	received []automation.Event
}

// threeEnvs is dev, staging (soaking a little, two stacks at once) and prod (approval,
// protected, a canary wave then two stacks one at a time).
func threeEnvs() envset.Set {
	return envset.Set{Environments: []envset.Environment{
		{Name: "dev", MaxConcurrency: 4},
		{Name: "staging", MaxConcurrency: 2, Waves: [][]string{{"staging-a", "staging-b"}}},
		{Name: "prod", RequiresApproval: true, Protected: true, MaxConcurrency: 1,
			Waves: [][]string{{"prod-canary"}, {"prod-east", "prod-eu"}}},
	}}
}

func newHarness(t *testing.T, set envset.Set, opts ...automation.Option) *harness {
	t.Helper()
	h := &harness{
		t: t, dir: t.TempDir(), state: t.TempDir(), set: set,
		fake: automationtest.NewFake(), health: automationtest.NewFakeHealth(),
		events: make(chan automation.Event, 100000), invalid: map[string]error{}, opts: opts,
	}
	require.NoError(t, os.MkdirAll(filepath.Join(h.dir, "stacks"), 0o755))
	for _, s := range set.Stacks() {
		env, _ := set.EnvironmentOf(s)
		h.writeStackFile(s, "config:\n  flotilla:environment: "+env.Name+"\n")
	}
	h.d = h.deployer()
	return h
}

// deployer builds a Deployer over the harness's fakes and directories: a second one
// stands for a second process on the same fleet.
func (h *harness) deployer(extra ...automation.Option) *automation.Deployer {
	h.t.Helper()
	opts := []automation.Option{
		automation.WithProjectDir(h.dir), automation.WithStateDir(h.state),
		automation.WithStackOps(h.fake), automation.WithHealth(h.health),
		automation.WithValidator(func(_ context.Context, s automation.StackRef, _ string) error {
			h.mu.Lock()
			defer h.mu.Unlock()
			return h.invalid[s.Stack]
		}),
		automation.WithEnvironments(h.set), automation.WithProgramHash("test"), automation.WithEvents(h.events),
	}
	d, err := automation.New(append(append(opts, h.opts...), extra...)...)
	require.NoError(h.t, err)
	return d
}

func (h *harness) writeStackFile(stack, content string) {
	h.t.Helper()
	require.NoError(h.t, os.WriteFile(filepath.Join(h.dir, "stacks", "Pulumi."+stack+".yaml"), []byte(content), 0o644))
}

func (h *harness) rollout(req automation.RolloutRequest) (*automation.Journal, error) {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return h.d.Rollout(ctx, req)
}

// drain returns every event sent so far (the channel is buffered, so every event of a
// finished run is in it).
func (h *harness) drain() []automation.Event {
	h.mu.Lock()
	defer h.mu.Unlock()
	for {
		select {
		case e := <-h.events:
			h.received = append(h.received, e)
		default:
			out := h.received
			h.received = nil
			return out
		}
	}
}

// kinds returns the kinds of events, keeping only those listed.
func kinds(events []automation.Event, keep ...string) []string {
	var out []string
	for _, e := range events {
		for _, k := range keep {
			if e.Kind() == k {
				out = append(out, e.Kind())
			}
		}
	}
	return out
}

func eventsOf[T automation.Event](events []automation.Event) []T {
	var out []T
	for _, e := range events {
		if x, ok := e.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

// maxOverlap is the most calls that ran at once.
func maxOverlap(calls []automationtest.Call) int {
	best := 0
	for _, c := range calls {
		n := 0
		for _, d := range calls {
			if !d.Start.After(c.Start) && d.End.After(c.Start) {
				n++
			}
		}
		best = max(best, n)
	}
	return best
}

func stacksOf(calls []automationtest.Call) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Stack.Stack)
	}
	return out
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

func readJournalFile(t *testing.T, state string) string {
	t.Helper()
	latest, err := os.ReadFile(filepath.Join(state, "runs", "latest"))
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(state, "runs", strings.TrimSpace(string(latest))+".json"))
	require.NoError(t, err)
	return string(data)
}

// lastEnd is when the last of the calls ended; firstStart when the first started.
func lastEnd(calls []automationtest.Call) time.Time {
	var t time.Time
	for _, c := range calls {
		if c.End.After(t) {
			t = c.End
		}
	}
	return t
}

func firstStart(calls []automationtest.Call) time.Time {
	var t time.Time
	for _, c := range calls {
		if t.IsZero() || c.Start.Before(t) {
			t = c.Start
		}
	}
	return t
}

func callsOn(calls []automationtest.Call, stacks ...string) []automationtest.Call {
	var out []automationtest.Call
	for _, c := range calls {
		for _, s := range stacks {
			if c.Stack.Stack == s {
				out = append(out, c)
			}
		}
	}
	return out
}
