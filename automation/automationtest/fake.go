// Package automationtest provides hand-written fakes of the deploy program's stack
// operations and health checks, so that ordering, gates, the journal and failure
// handling can be unit-tested in milliseconds, without the Pulumi CLI or a cloud.
//
// Fake implements automation.StackOps, automation.StackStates and
// automation.PendingResolver over a simulated state per stack; FakeHealth implements
// automation.HealthChecker. Both record every call and are safe for concurrent use.
//
//	fake := automationtest.NewFake()
//	fake.Delay["up"] = 20 * time.Millisecond
//	fake.NextErr["up/staging"] = errors.New("error: quota exceeded")
//	health := automationtest.NewFakeHealth()
//	d, err := automation.New(
//		automation.WithProjectDir(dir), automation.WithStateDir(stateDir),
//		automation.WithStackOps(fake), automation.WithHealth(health),
//		automation.WithValidator(func(context.Context, automation.StackRef, string) error { return nil }),
//		automation.WithProgramHash("test"))
//	_, err = d.Rollout(ctx, automation.RolloutRequest{})
//	// automation.IsRunFailed(err) is true, and fake.Ops("up") lists what ran.
package automationtest

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"

	"github.com/flotilla-io/flotilla/automation"
)

// The operations a Fake records, as Call.Op.
const (
	OpPreview = "preview"
	OpUp      = "up"
	OpRefresh = "refresh"
	OpOutputs = "outputs"
	OpDestroy = "destroy"
	OpState   = "state"
	OpCancel  = "cancel"
	OpResolve = "resolve"
)

// Call is one call of a Fake.
type Call struct {
	Op      string
	Stack   automation.StackRef
	Options automation.OpOptions
	Start   time.Time
	End     time.Time
	Err     error
}

// Key is the call's "op/stack", as NextErr and Delay are keyed.
func (c Call) Key() string { return c.Op + "/" + c.Stack.Stack }

// Fake is a hand-written automation.StackOps and automation.StackStates over a
// simulated state per stack: a successful up, refresh or destroy changes the state's
// marker and its last update, as a real backend would; a failed one changes nothing.
//
// Set the exported maps before a run starts; while it runs, change them only through
// the methods, which lock.
type Fake struct {
	mu sync.Mutex
	// Calls lists every call, in the order they started; End is zero while one runs.
	// Read it through CallList or Ops while a run is going.
	Calls []Call
	// NextErr fails the next call of "op/stack" (e.g. "up/staging") with its error,
	// once: the entry is removed when used.
	NextErr map[string]error
	// OnCall, when set, is called as every call starts (without the Fake's lock); an
	// error it returns fails the call. It can block to hold a call open.
	OnCall func(c Call) error
	// Delay holds calls for a while, keyed "op/stack" or "op" (the first found wins).
	// A delay ends early when the call's context is cancelled.
	Delay map[string]time.Duration
	// Previews are the per-stack results of preview and up: the resources they change.
	// A stack without one creates one resource before its first up, and changes
	// nothing after.
	Previews map[string]automation.OpResult
	// Drift are the per-stack resources a refreshing preview finds changed in the cloud.
	Drift map[string][]automation.ResourceChange
	// StackOutputs are the per-stack outputs after an up.
	StackOutputs map[string]automation.Outputs
	// Types are the per-stack resource types the state reports.
	Types map[string][]string
	// OutputsOf, when set, gives an up's outputs instead of StackOutputs: from the
	// stack file it ran with, say. It is called under the Fake's lock.
	OutputsOf func(s automation.StackRef, o automation.OpOptions) automation.Outputs
	// Cloud are resources the simulated cloud has, by URN to ID: Resolve adopts the
	// pending creates it finds here.
	Cloud map[string]string

	states  map[string]*stackSim
	version int
}

type stackSim struct {
	exists  bool
	last    *automation.UpdateInfo
	pending []automation.PendingOp
	outputs automation.Outputs
	lock    error // the concurrent update error every operation returns until cancelled
}

// NewFake returns a Fake with empty maps and no stack deployed.
func NewFake() *Fake {
	return &Fake{
		NextErr: map[string]error{}, Delay: map[string]time.Duration{},
		Previews: map[string]automation.OpResult{}, Drift: map[string][]automation.ResourceChange{},
		StackOutputs: map[string]automation.Outputs{}, Cloud: map[string]string{}, Types: map[string][]string{},
		states: map[string]*stackSim{},
	}
}

var (
	_ automation.StackOps        = (*Fake)(nil)
	_ automation.StackStates     = (*Fake)(nil)
	_ automation.PendingResolver = (*Fake)(nil)
)

func (f *Fake) sim(stack string) *stackSim {
	s := f.states[stack]
	if s == nil {
		s = &stackSim{}
		f.states[stack] = s
	}
	return s
}

// call records a call, runs the hook, the lock check, the delay and the injected error,
// then body under the Fake's lock when nothing failed.
func (f *Fake) call(ctx context.Context, op string, s automation.StackRef, o automation.OpOptions, body func(start time.Time) error) error {
	start := time.Now()
	f.mu.Lock()
	o.Progress = nil // a func is not comparable, and tests assert on the rest
	c := Call{Op: op, Stack: s, Options: o, Start: start}
	f.Calls = append(f.Calls, c)
	idx := len(f.Calls) - 1
	delay, ok := f.Delay[c.Key()]
	if !ok {
		delay = f.Delay[op]
	}
	hook := f.OnCall
	f.mu.Unlock()

	err := func() error {
		if hook != nil {
			if err := hook(c); err != nil {
				return err
			}
		}
		f.mu.Lock()
		var lock error
		switch op {
		case OpPreview, OpUp, OpRefresh, OpDestroy:
			lock = f.sim(s.Stack).lock
		}
		f.mu.Unlock()
		if lock != nil {
			return lock
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			case <-t.C:
			}
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		if err, ok := f.NextErr[c.Key()]; ok {
			delete(f.NextErr, c.Key())
			return err
		}
		if body != nil {
			return body(start)
		}
		return nil
	}()

	f.mu.Lock()
	f.Calls[idx].End = time.Now()
	f.Calls[idx].Err = err
	f.mu.Unlock()
	return err
}

// bump records a finished update of kind on a stack's simulated state. Under f.mu.
func (f *Fake) bump(stack, kind string, start time.Time) {
	f.version++
	s := f.sim(stack)
	s.exists = true
	s.last = &automation.UpdateInfo{Kind: kind, Result: "succeeded", Started: start, Ended: time.Now(),
		Marker: fmt.Sprintf("%s-v%d", stack, f.version)}
}

func (f *Fake) previewOf(stack string) automation.OpResult {
	if res, ok := f.Previews[stack]; ok {
		return copyResult(res)
	}
	if s := f.states[stack]; s != nil && s.exists {
		return automation.OpResult{Changes: map[string]int{"same": 1}}
	}
	urn := "urn:pulumi:" + stack + "::flotilla::pulumi:pulumi:Stack::flotilla-" + stack
	return automation.OpResult{Changes: map[string]int{"create": 1},
		Resources: []automation.ResourceChange{{URN: urn, Type: "pulumi:pulumi:Stack", Op: "create"}}}
}

func copyResult(r automation.OpResult) automation.OpResult {
	out := automation.OpResult{Changes: map[string]int{}, Resources: slices.Clone(r.Resources)}
	for k, v := range r.Changes {
		out.Changes[k] = v
	}
	return out
}

// Preview returns the stack's preview result. With Refresh, the stack's Drift is added;
// with ExpectNoChanges as well, drift fails the preview as the CLI does.
func (f *Fake) Preview(ctx context.Context, s automation.StackRef, o automation.OpOptions) (automation.OpResult, error) {
	var res automation.OpResult
	err := f.call(ctx, OpPreview, s, o, func(time.Time) error {
		res = f.previewOf(s.Stack)
		if !o.Refresh {
			return nil
		}
		if drift := f.Drift[s.Stack]; len(drift) > 0 {
			res.Resources = append(res.Resources, drift...)
			for _, d := range drift {
				res.Changes[d.Op]++
			}
			if o.ExpectNoChanges {
				return fmt.Errorf("failed to run preview: exit status 255\nstderr: error: no changes were expected but changes were proposed")
			}
		}
		return nil
	})
	return res, err
}

// Up applies the stack's preview: the state's marker changes and the outputs are set.
func (f *Fake) Up(ctx context.Context, s automation.StackRef, o automation.OpOptions) (automation.OpResult, error) {
	var res automation.OpResult
	err := f.call(ctx, OpUp, s, o, func(start time.Time) error {
		res = f.previewOf(s.Stack)
		f.bump(s.Stack, "update", start)
		st := f.sim(s.Stack)
		st.outputs = copyOutputs(f.StackOutputs[s.Stack])
		if f.OutputsOf != nil {
			st.outputs = f.OutputsOf(s, o)
		}
		res.Outputs = copyOutputs(st.outputs)
		return nil
	})
	return res, err
}

// Refresh reads the cloud: it adopts the pending creates in ImportPending and, with
// ClearPending, drops every other pending operation.
func (f *Fake) Refresh(ctx context.Context, s automation.StackRef, o automation.OpOptions) (automation.OpResult, error) {
	var res automation.OpResult
	err := f.call(ctx, OpRefresh, s, o, func(start time.Time) error {
		st := f.sim(s.Stack)
		var left []automation.PendingOp
		for _, p := range st.pending {
			imported := slices.ContainsFunc(o.ImportPending, func(c automation.PendingCreate) bool { return c.URN == p.URN })
			if !imported && !o.ClearPending {
				left = append(left, p)
			}
		}
		st.pending = left
		res = automation.OpResult{Changes: map[string]int{"same": 1}}
		f.bump(s.Stack, "refresh", start)
		return nil
	})
	return res, err
}

// Outputs returns the stack's outputs after its last up.
func (f *Fake) Outputs(ctx context.Context, s automation.StackRef) (automation.Outputs, error) {
	var out automation.Outputs
	err := f.call(ctx, OpOutputs, s, automation.OpOptions{}, func(time.Time) error {
		out = copyOutputs(f.sim(s.Stack).outputs)
		return nil
	})
	return out, err
}

// Destroy removes the stack's resources: its outputs go, its marker changes.
func (f *Fake) Destroy(ctx context.Context, s automation.StackRef, o automation.OpOptions) (automation.OpResult, error) {
	var res automation.OpResult
	err := f.call(ctx, OpDestroy, s, o, func(start time.Time) error {
		st := f.sim(s.Stack)
		n := 0
		if st.exists {
			n = 1
		}
		res = automation.OpResult{Changes: map[string]int{"delete": n}}
		st.outputs = nil
		f.bump(s.Stack, "destroy", start)
		return nil
	})
	return res, err
}

// State returns the stack's simulated state.
func (f *Fake) State(ctx context.Context, s automation.StackRef) (automation.StackState, error) {
	var state automation.StackState
	err := f.call(ctx, OpState, s, automation.OpOptions{}, func(time.Time) error {
		state = f.stateOf(s.Stack)
		return nil
	})
	return state, err
}

func (f *Fake) stateOf(stack string) automation.StackState {
	st := f.sim(stack)
	state := automation.StackState{Exists: st.exists, Pending: slices.Clone(st.pending), Types: slices.Clone(f.Types[stack])}
	if st.last != nil {
		u := *st.last
		state.LastUpdate = &u
	}
	return state
}

// CancelUpdate clears the stack's lock, as `pulumi cancel` does.
func (f *Fake) CancelUpdate(ctx context.Context, s automation.StackRef) error {
	return f.call(ctx, OpCancel, s, automation.OpOptions{}, func(time.Time) error {
		f.sim(s.Stack).lock = nil
		return nil
	})
}

// Resolve returns the pending creates whose URN the simulated Cloud has.
func (f *Fake) Resolve(ctx context.Context, s automation.StackRef, pending []automation.PendingOp) ([]automation.PendingCreate, error) {
	var out []automation.PendingCreate
	err := f.call(ctx, OpResolve, s, automation.OpOptions{}, func(time.Time) error {
		for _, p := range pending {
			if id, ok := f.Cloud[p.URN]; ok && p.Kind == "creating" {
				out = append(out, automation.PendingCreate{URN: p.URN, ID: id})
			}
		}
		return nil
	})
	return out, err
}

func copyOutputs(o automation.Outputs) automation.Outputs {
	if o == nil {
		return nil
	}
	out := automation.Outputs{}
	for k, v := range o {
		out[k] = v
	}
	return out
}

// CallList returns a copy of the calls so far.
func (f *Fake) CallList() []Call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.Calls)
}

// Ops returns the calls of one operation, in the order they started.
func (f *Fake) Ops(op string) []Call {
	var out []Call
	for _, c := range f.CallList() {
		if c.Op == op {
			out = append(out, c)
		}
	}
	return out
}

// Stacks returns the stacks that op was called on, in the order the calls started.
func (f *Fake) Stacks(op string) []string {
	var out []string
	for _, c := range f.Ops(op) {
		out = append(out, c.Stack.Stack)
	}
	return out
}

// Reset forgets the calls (not the states).
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls = nil
}

// Fail fails the next call of key ("op/stack") with err; safe while a run goes.
func (f *Fake) Fail(key string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.NextErr[key] = err
}

// SetPreview sets a stack's preview result; safe while a run goes.
func (f *Fake) SetPreview(stack string, res automation.OpResult) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Previews[stack] = res
}

// SetDrift sets what a refreshing preview of the stack finds changed in the cloud.
func (f *Fake) SetDrift(stack string, changes ...automation.ResourceChange) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Drift[stack] = changes
}

// Deployed makes a stack look deployed, as if an up outside the deploy program had
// finished at t (zero: now), with these outputs. The marker changes.
func (f *Fake) Deployed(stack string, t time.Time, outputs automation.Outputs) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if t.IsZero() {
		t = time.Now()
	}
	f.bump(stack, "update", t)
	f.sim(stack).outputs = copyOutputs(outputs)
}

// SetPending records operations a killed update started and never finished.
func (f *Fake) SetPending(stack string, ops ...automation.PendingOp) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sim(stack).pending = ops
}

// StateOf returns a stack's simulated state without recording a call.
func (f *Fake) StateOf(stack string) automation.StackState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stateOf(stack)
}

// Marker returns the marker of a stack's state ("" before its first update).
func (f *Fake) Marker(stack string) string {
	if u := f.StateOf(stack).LastUpdate; u != nil {
		return u.Marker
	}
	return ""
}

// LockStack leaves a stack locked, as an update by user@host (pid) that never finished
// would: preview, up, refresh and destroy fail with the CLI's concurrent update error
// until CancelUpdate clears it.
func (f *Fake) LockStack(stack, user, host string, pid int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sim(stack).lock = ConcurrentUpdateError(stack, user, host, pid)
}

// Locked reports whether a stack is still locked.
func (f *Fake) Locked(stack string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sim(stack).lock != nil
}

// ConcurrentUpdateError returns the error the automation API returns for an operation
// on a stack that a file backend has locked: auto.IsConcurrentUpdateError recognises
// it, and its text names the lock file, user, host and PID as the CLI does.
func ConcurrentUpdateError(stack, user, host string, pid int) error {
	stderr := fmt.Sprintf("error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.\n"+
		"  file:///x/.pulumi/locks/organization/flotilla/%s/abc.json: created by %s@%s (pid %d) at 2026-12-01T10:00:00Z\n", stack, user, host, pid)
	return autoError(stderr)
}

// autoError builds an error of the automation API's own type around stderr. The type is
// unexported, so it is made the way the API makes it: a workspace command that fails.
func autoError(stderr string) error {
	ws, err := auto.NewLocalWorkspace(context.Background(), auto.Pulumi(failingCLI{stderr: stderr}), auto.WorkDir(os.TempDir()))
	if err != nil {
		return fmt.Errorf("building the automation API error: %w", err)
	}
	_, err = ws.WhoAmI(context.Background())
	return err
}

// failingCLI is a Pulumi CLI whose every command fails with stderr.
type failingCLI struct{ stderr string }

func (c failingCLI) Run(context.Context, string, io.Reader, []io.Writer, []io.Writer, []string, ...string) (string, string, int, error) {
	return "", c.stderr, 255, fmt.Errorf("exit status 255: %s", strings.SplitN(c.stderr, "\n", 2)[0])
}

func (failingCLI) Version() semver.Version { return semver.MustParse("3.274.1") }
