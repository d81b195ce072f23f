package automationtest

import (
	"context"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/automation"
)

// FakeHealth is a hand-written automation.HealthChecker: every stack is healthy unless
// given problems, and a reading is taken at the time of the call, unless Stale is set.
type FakeHealth struct {
	mu       sync.Mutex
	problems map[string][]string
	errs     map[string]error
	stale    bool
	checks   map[string]int
	// OnCheck, when set, is called (without the lock) at every check with the stack and
	// how many checks of it came before; it may change problems, e.g. to turn a stack
	// unhealthy during a soak.
	OnCheck func(s automation.StackRef, n int)
	// Clock, when set, stamps the readings (default time.Now): set it with the
	// Deployer's clock when a test moves time.
	Clock func() time.Time
}

// NewFakeHealth returns a FakeHealth under which every stack is healthy.
func NewFakeHealth() *FakeHealth {
	return &FakeHealth{problems: map[string][]string{}, errs: map[string]error{}, checks: map[string]int{}}
}

var _ automation.HealthChecker = (*FakeHealth)(nil)

// Check reads a stack's one simulated cluster.
func (h *FakeHealth) Check(ctx context.Context, s automation.StackRef, _ automation.Outputs) (automation.HealthReport, error) {
	h.mu.Lock()
	n := h.checks[s.Stack]
	h.checks[s.Stack]++
	hook := h.OnCheck
	h.mu.Unlock()
	if hook != nil {
		hook(s, n)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.errs[s.Stack]; err != nil {
		return automation.HealthReport{}, err
	}
	checked := time.Now()
	if h.Clock != nil {
		checked = h.Clock()
	}
	if h.stale {
		checked = checked.Add(-time.Hour)
	}
	c := automation.ClusterHealth{Name: s.Stack + "-cluster", Source: "cloud", Summary: "3/3 nodes ready in 1 pool"}
	if p := h.problems[s.Stack]; len(p) > 0 {
		c.Problems, c.Summary = append([]string(nil), p...), ""
	}
	return automation.HealthReport{Stack: s, Checked: checked, Clusters: []automation.ClusterHealth{c}}, nil
}

// SetProblems makes a stack unhealthy with these problems; none makes it healthy.
func (h *FakeHealth) SetProblems(stack string, problems ...string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.problems[stack] = problems
}

// SetErr makes reading a stack's health fail; nil undoes it.
func (h *FakeHealth) SetErr(stack string, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.errs[stack] = err
}

// SetStale makes every reading an hour old, as a cached reading would be.
func (h *FakeHealth) SetStale(stale bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.stale = stale
}

// Checks returns how many times a stack's health was read.
func (h *FakeHealth) Checks(stack string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.checks[stack]
}

// Total returns how many readings were taken, of every stack.
func (h *FakeHealth) Total() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, c := range h.checks {
		n += c
	}
	return n
}
