package automation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"slices"
	"strings"
	"sync"
	"time"
)

// run is one execution of a plan by the local executor: stages in order, waves in
// order, up to a stage's concurrency of stacks at once within a wave, a health gate
// after each wave and a soak after each environment. It journals after every step.
type run struct {
	d    *Deployer
	j    *Journal
	req  Request
	stop <-chan struct{}

	mu      sync.Mutex
	outputs map[string]Outputs     // by stack, from this process's ups: never journaled
	markers map[string]string      // by stack, the state's marker after this run's up
	same    map[string]bool        // stacks this run found unchanged since their last good update
	gated   error                  // the first gate refusal
	errs    map[string]*StackError // by stack, this process's failures, with their causes
}

func (r *run) save() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.d.journal.Save(r.j)
}

// update changes the journal under its lock and saves it.
func (r *run) update(f func(j *Journal)) {
	r.mu.Lock()
	f(r.j)
	r.mu.Unlock()
	_ = r.save()
}

func (r *run) stopped() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

func (r *run) now() time.Time { return r.d.o.now() }

// status reads a stack's status under the journal's lock.
func (r *run) status(stack string) StackStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.j.Stacks[stack].Status
}

func (r *run) setStatus(stack string, s StackStatus) {
	r.update(func(j *Journal) { j.Stacks[stack].Status = s })
}

// interrupted reports whether the run was told to stop or its context is done.
func (r *run) interrupted(ctx context.Context) bool { return r.stopped() || ctx.Err() != nil }

// newJournal starts the journal of a new run over a plan.
func (d *Deployer) newJournal(command string, req Request, plan Plan) (*Journal, error) {
	now := d.o.now()
	host, _ := os.Hostname()
	u := "unknown"
	if cu, err := user.Current(); err == nil {
		u = cu.Username
	}
	j := &Journal{
		RunID: newRunID(now), Command: command, Status: RunRunning, Started: now,
		User: u, Host: host, PID: os.Getpid(), Request: req, Plan: plan, Stacks: map[string]*StackRecord{},
	}
	for _, st := range plan.Stages {
		j.Stages = append(j.Stages, &StageRecord{Environment: st.Environment})
		for w, wave := range st.Waves {
			for _, s := range wave {
				in, err := d.inputs(s)
				if err != nil {
					return nil, err
				}
				j.Stacks[s] = &StackRecord{StackRef: StackRef{Environment: st.Environment, Stack: s}, Wave: w + 1, Status: StatusPending, Inputs: in}
			}
		}
	}
	return j, nil
}

// execute runs the plan from wherever the journal says it is.
func (r *run) execute(ctx context.Context) error {
	d := r.d
	start := r.now()
	for i, st := range r.j.Plan.Stages {
		sr := r.j.Stage(st.Environment)
		if sr.Finished != nil {
			continue
		}
		if r.interrupted(ctx) {
			return r.finish(ctx, start, RunInterrupted, &InterruptedError{RunID: r.j.RunID})
		}
		if err := r.approve(ctx, st, sr); err != nil {
			return r.finish(ctx, start, RunGated, err)
		}
		stageStart := r.now()
		if sr.Started == nil {
			r.update(func(*Journal) { sr.Started = &stageStart })
		}
		d.emit(ctx, StageStarted{At: d.at(), Environment: st.Environment, Waves: st.Waves})
		for w, wave := range st.Waves {
			if r.stopped() || ctx.Err() != nil {
				return r.finish(ctx, start, RunInterrupted, &InterruptedError{RunID: r.j.RunID})
			}
			if err := r.wave(ctx, st, w, wave); err != nil {
				return r.finish(ctx, start, r.statusOf(err), err)
			}
		}
		allSkipped := r.allSkipped(st)
		if st.Soak > 0 && i < len(r.j.Plan.Stages)-1 && !sr.SoakDone && !allSkipped {
			if err := r.soak(ctx, st, sr); err != nil {
				return r.finish(ctx, start, r.statusOf(err), err)
			}
		}
		now := r.now()
		r.update(func(*Journal) { sr.Finished, sr.Skipped = &now, allSkipped })
		d.emit(ctx, StageDone{At: d.at(), Environment: st.Environment, Duration: now.Sub(stageStart), Skipped: allSkipped})
	}
	if failed := r.j.Failed(); len(failed) > 0 {
		return r.finish(ctx, start, RunFailedWithExceptions, r.failure(true))
	}
	return r.finish(ctx, start, RunSucceeded, nil)
}

func (r *run) statusOf(err error) RunStatus {
	switch {
	case IsGateRefused(err):
		return RunGated
	case IsInterrupted(err):
		return RunInterrupted
	}
	return RunFailed
}

// finish records how the run ended and sends RunDone.
func (r *run) finish(ctx context.Context, start time.Time, status RunStatus, err error) error {
	now := r.now()
	r.update(func(j *Journal) {
		j.Status = status
		j.Finished = &now
		j.Error = ""
		if err != nil {
			j.Error = err.Error()
		}
	})
	done := RunDone{At: r.d.at(), RunID: r.j.RunID, Status: status, Duration: now.Sub(start)}
	if err != nil {
		done.Error = err.Error()
	}
	// RunDone is sent even after cancellation, with a short grace, so that a renderer
	// that is still reading hears how the run ended; an unread channel costs the grace.
	if r.d.o.events != nil {
		select {
		case r.d.o.events <- done:
		case <-ctx.Done():
			select {
			case r.d.o.events <- done:
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return err
}

// approve passes a stage's approval gate, or refuses.
func (r *run) approve(ctx context.Context, st Stage, sr *StageRecord) error {
	d := r.d
	if !st.RequiresApproval || sr.Approved != "" {
		return nil
	}
	if slices.Contains(r.req.Approve, st.Environment) {
		r.update(func(*Journal) { sr.Approved = "--approve " + st.Environment })
		d.emit(ctx, GatePassed{At: d.at(), Environment: st.Environment, Gate: GateApproval, Detail: "approved on the command line (--approve " + st.Environment + ")"})
		return nil
	}
	if d.o.approver == nil {
		err := &ApprovalRequiredError{Environment: st.Environment}
		d.emit(ctx, GateFailed{At: d.at(), Environment: st.Environment, Gate: GateApproval, Reason: err.Error()})
		return err
	}
	d.emit(ctx, GateWaiting{At: d.at(), Environment: st.Environment, Gate: GateApproval, Reason: "waiting for an approval at the prompt"})
	ok, err := d.o.approver(ctx, st.Environment, r.stageSummary(st))
	if err != nil {
		return err
	}
	if !ok {
		e := &ApprovalRequiredError{Environment: st.Environment, Interactive: true, Declined: true}
		d.emit(ctx, GateFailed{At: d.at(), Environment: st.Environment, Gate: GateApproval, Reason: e.Error()})
		return e
	}
	r.update(func(*Journal) { sr.Approved = "prompt" })
	d.emit(ctx, GatePassed{At: d.at(), Environment: st.Environment, Gate: GateApproval, Detail: "approved at the prompt"})
	return nil
}

func (r *run) stageSummary(st Stage) string {
	var waves []string
	for _, w := range st.Waves {
		waves = append(waves, "["+strings.Join(w, ", ")+"]")
	}
	return fmt.Sprintf("%s: %s", st.Environment, strings.Join(waves, " then "))
}

func (r *run) allSkipped(st Stage) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, w := range st.Waves {
		for _, s := range w {
			if r.j.Stacks[s].Status != StatusSkipped {
				return false
			}
		}
	}
	return true
}

// wave runs one wave: its stacks up to the stage's concurrency, then the health gate.
func (r *run) wave(ctx context.Context, st Stage, w int, wave []string) error {
	d := r.d
	var todo []string
	updated := map[string]bool{}
	for _, s := range wave {
		switch status := r.status(s); status {
		case StatusSucceeded, StatusSkipped, StatusSetAside:
		default:
			todo = append(todo, s)
			updated[s] = status == StatusUpdated
		}
	}
	if len(todo) == 0 {
		return nil
	}
	d.emit(ctx, WaveStarted{At: d.at(), Environment: st.Environment, Wave: w + 1, Stacks: wave})

	limit := max(st.MaxConcurrency, 1)
	sem := make(chan struct{}, limit)
	var wg sync.WaitGroup
	var halted bool
	var hmu sync.Mutex
	for _, s := range todo {
		ref := StackRef{Environment: st.Environment, Stack: s}
		if updated[s] {
			continue // its up finished before a kill or a stop; only its health gate is left
		}
		sem <- struct{}{}
		hmu.Lock()
		stop := halted || r.interrupted(ctx)
		hmu.Unlock()
		if stop {
			<-sem
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			run := r.stack
			if r.req.UpgradeTo != "" {
				run = r.upgradeStack
			}
			if err := run(ctx, st, ref); err != nil {
				if IsInterrupted(err) || ctx.Err() != nil {
					// Stopped before or during its steps: nothing failed, resume runs it again.
					r.setStatus(ref.Stack, StatusPending)
					return
				}
				r.fail(ctx, st, ref, err)
				hmu.Lock()
				halted = halted || r.overBudget(st) || IsGateRefused(err)
				hmu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := r.halt(st); err != nil {
		return err
	}
	if r.interrupted(ctx) {
		return &InterruptedError{RunID: r.j.RunID}
	}
	r.healthGate(ctx, st, w, wave)
	if err := r.halt(st); err != nil {
		return err
	}
	if ctx.Err() != nil {
		return &InterruptedError{RunID: r.j.RunID}
	}
	return nil
}

// halt returns the error that stops the run after a wave: a gate refusal, a failure
// beyond the stage's budget, or an interruption.
func (r *run) halt(st Stage) error {
	r.mu.Lock()
	gated := r.gated
	r.mu.Unlock()
	if gated != nil {
		return gated
	}
	if r.overBudget(st) {
		return r.failure(false)
	}
	return nil
}

// failed counts the stage's failed and set-aside stacks.
func (r *run) failed(st Stage) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, w := range st.Waves {
		for _, s := range w {
			if s := r.j.Stacks[s].Status; s == StatusFailed || s == StatusSetAside {
				n++
			}
		}
	}
	return n
}

func (r *run) overBudget(st Stage) bool { return r.failed(st) > st.MaxFailures }

// fail records a stack's failure: set aside within the stage's budget, failed beyond it.
func (r *run) fail(ctx context.Context, st Stage, ref StackRef, err error) {
	var se *StackError
	if !errors.As(err, &se) {
		se = &StackError{Stack: ref, Step: StepUp, Reason: readable(err), Err: err}
	}
	gate := IsGateRefused(err)
	var setAside bool
	r.update(func(j *Journal) {
		if r.errs == nil {
			r.errs = map[string]*StackError{}
		}
		r.errs[ref.Stack] = se
		rec := j.Stacks[ref.Stack]
		rec.Error = se.Reason
		if gate {
			rec.Status = StatusFailed
			if r.gated == nil {
				r.gated = err
			}
			return
		}
		n := 0
		for _, w := range st.Waves {
			for _, s := range w {
				if s := j.Stacks[s].Status; s == StatusFailed || s == StatusSetAside {
					n++
				}
			}
		}
		setAside = n < st.MaxFailures
		rec.Status = StatusFailed
		if setAside {
			rec.Status = StatusSetAside
		}
	})
	r.d.emit(ctx, StackFailed{At: r.d.at(), Stack: ref, Step: se.Step, Reason: se.Reason, SetAside: setAside})
}

// failure builds the run's error from its failed stacks.
func (r *run) failure(withExceptions bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	e := &RunFailedError{RunID: r.j.RunID, WithExceptions: withExceptions}
	for _, rec := range r.j.Failed() {
		if se, ok := r.errs[rec.Stack]; ok {
			e.Failed = append(e.Failed, se) // with its cause, for errors.As
			continue
		}
		step := StepUp
		if n := len(rec.Steps); n > 0 {
			step = rec.Steps[n-1].Step
		}
		e.Failed = append(e.Failed, &StackError{Stack: rec.StackRef, Step: step, Reason: rec.Error})
	}
	return e
}

// step runs one step of a stack, journaling its start and end and sending events.
func (r *run) step(ctx context.Context, ref StackRef, kind StepKind, f func() (map[string]int, error)) error {
	return r.detailedStep(ctx, ref, kind, "", f)
}

// detailedStep is step, with what the step is about.
func (r *run) detailedStep(ctx context.Context, ref StackRef, kind StepKind, detail string, f func() (map[string]int, error)) error {
	d := r.d
	start := r.now()
	var idx int
	r.update(func(j *Journal) {
		rec := j.Stacks[ref.Stack]
		rec.Status = StatusRunning
		rec.Steps = append(rec.Steps, StepRecord{Step: kind, Started: start, Detail: detail})
		idx = len(rec.Steps) - 1
	})
	d.emit(ctx, StepStarted{At: d.at(), Stack: ref, Step: kind, Detail: detail})
	changes, err := f()
	end := r.now()
	ev := StepDone{At: d.at(), Stack: ref, Step: kind, Detail: detail, Changes: changes, Duration: end.Sub(start)}
	r.update(func(j *Journal) {
		s := &j.Stacks[ref.Stack].Steps[idx]
		s.Finished, s.Changes, s.Outcome = &end, changes, "ok"
		if err != nil {
			s.Outcome, s.Error = "failed", readable(err)
			if ctx.Err() != nil {
				s.Outcome = "interrupted"
			}
			ev.Error = s.Error
		}
	})
	d.emit(ctx, ev)
	if err != nil {
		var se *StackError
		if errors.As(err, &se) {
			return err
		}
		return &StackError{Stack: ref, Step: kind, Reason: readable(err), Err: err}
	}
	return nil
}

// stack runs one stack's steps: it skips a stack whose inputs and state match its last
// successful update; otherwise it clears what a dead run left, previews (the preview
// policy applies in protected environments) and updates.
func (r *run) stack(ctx context.Context, st Stage, ref StackRef) error {
	d := r.d
	if err := d.checkFrozen(); err != nil {
		d.emit(ctx, GateFailed{At: d.at(), Environment: ref.Environment, Gate: GateFreeze, Stack: ref.Stack, Reason: err.Error()})
		return &StackError{Stack: ref, Step: StepPreview, Reason: err.Error(), Err: err}
	}
	in, err := d.inputs(ref.Stack)
	if err != nil {
		return &StackError{Stack: ref, Step: StepPreview, Reason: err.Error(), Err: err}
	}
	r.update(func(j *Journal) { j.Stacks[ref.Stack].Inputs = in })

	states, _ := d.o.ops.(StackStates)
	var state *StackState
	if states != nil {
		s, err := states.State(ctx, ref)
		if err != nil {
			return &StackError{Stack: ref, Step: StepPreview, Reason: "reading its state: " + readable(err), Err: err}
		}
		state = &s
	}
	if state != nil && !r.req.Refresh {
		if reason, ok := r.unchanged(ref, in, *state); ok {
			r.mu.Lock()
			r.same[ref.Stack] = true
			r.mu.Unlock()
			r.update(func(j *Journal) { j.Stacks[ref.Stack].Status = StatusSkipped })
			d.emit(ctx, StackSkipped{At: d.at(), Stack: ref, Reason: reason})
			return nil
		}
		if r.finishedAfterKill(ref, *state) {
			r.mu.Lock()
			r.markers[ref.Stack] = state.LastUpdate.Marker
			r.mu.Unlock()
			r.update(func(j *Journal) { j.Stacks[ref.Stack].Status = StatusUpdated })
			d.emit(ctx, StackSkipped{At: d.at(), Stack: ref, Reason: "its update finished after the journal's last write; checking its health"})
			return nil
		}
	}
	if state != nil && len(state.Pending) > 0 {
		if err := r.step(ctx, ref, StepPreview, func() (map[string]int, error) { return nil, r.clearPending(ctx, ref, state.Pending) }); err != nil {
			return err
		}
	}

	progress := func(line string) { d.emit(ctx, EngineOutput{At: d.at(), Stack: ref, Line: line}) }
	if err := r.previewGated(ctx, st, ref, "", OpOptions{Refresh: r.req.Refresh, Progress: progress}); err != nil {
		return err
	}
	if r.interrupted(ctx) {
		return &InterruptedError{RunID: r.j.RunID}
	}
	if err := r.up(ctx, ref, StepUp, "", OpOptions{Progress: progress}); err != nil {
		return err
	}
	if states != nil {
		if s, err := states.State(ctx, ref); err == nil && s.LastUpdate != nil {
			r.mu.Lock()
			r.markers[ref.Stack] = s.LastUpdate.Marker
			r.mu.Unlock()
		}
	}
	r.update(func(j *Journal) { j.Stacks[ref.Stack].Status = StatusUpdated })
	return nil
}

// previewGated previews a stack and, in a protected environment, applies the preview
// policy: a replacement or deletion stops the stack unless the run allows it.
func (r *run) previewGated(ctx context.Context, st Stage, ref StackRef, detail string, o OpOptions) error {
	d := r.d
	var preview OpResult
	err := r.detailedStep(ctx, ref, StepPreview, detail, func() (map[string]int, error) {
		res, err := r.withLockRecovery(ctx, ref, func() (OpResult, error) { return d.o.ops.Preview(ctx, ref, o) })
		preview = res
		return res.Changes, err
	})
	if err != nil || !st.Protected || r.req.AllowReplace {
		return err
	}
	if v := violations(preview); len(v) > 0 {
		e := &PreviewPolicyError{Stack: ref, Violations: v}
		d.emit(ctx, GateFailed{At: d.at(), Environment: ref.Environment, Gate: GatePreview, Stack: ref.Stack, Reason: e.Error()})
		return &StackError{Stack: ref, Step: StepPreview, Reason: e.Error(), Err: e}
	}
	d.emit(ctx, GatePassed{At: d.at(), Environment: ref.Environment, Gate: GatePreview, Stack: ref.Stack, Detail: "no replacement or deletion"})
	return nil
}

// up updates a stack as a step of this kind and keeps its outputs for the health gate.
func (r *run) up(ctx context.Context, ref StackRef, kind StepKind, detail string, o OpOptions) error {
	return r.detailedStep(ctx, ref, kind, detail, func() (map[string]int, error) {
		res, err := r.withLockRecovery(ctx, ref, func() (OpResult, error) { return r.d.o.ops.Up(ctx, ref, o) })
		if err == nil {
			r.mu.Lock()
			r.outputs[ref.Stack] = res.Outputs
			r.mu.Unlock()
		}
		return res.Changes, err
	})
}

// unchanged reports whether a stack can be skipped: its inputs are those of its last
// successful update, and its state has not changed since.
func (r *run) unchanged(ref StackRef, in Inputs, state StackState) (string, bool) {
	g, err := r.d.journal.LastGood(ref.Stack)
	if err != nil || g == nil || !state.Exists || state.LastUpdate == nil || len(state.Pending) > 0 {
		return "", false
	}
	if g.Inputs != in || g.Marker != state.LastUpdate.Marker {
		return "", false
	}
	return fmt.Sprintf("unchanged since its last successful update (run %s, %s): same stack file, program and state",
		g.RunID, g.Finished.Format(time.RFC3339)), true
}

// finishedAfterKill reports whether the stack's up, started by this run before it was
// killed, finished after the journal's last write.
func (r *run) finishedAfterKill(ref StackRef, state StackState) bool {
	r.mu.Lock()
	rec := r.j.Stacks[ref.Stack]
	var upStart time.Time
	for _, s := range rec.Steps {
		if s.Step == StepUp && s.Finished == nil {
			upStart = s.Started
		}
	}
	r.mu.Unlock()
	u := state.LastUpdate
	return !upStart.IsZero() && u != nil && u.Kind == "update" && u.Result == "succeeded" &&
		!u.Started.Before(upStart.Add(-2*time.Second)) && len(state.Pending) == 0
}

// clearPending adopts the pending creates the cloud has and drops the other pending
// operations, recording each in the journal.
func (r *run) clearPending(ctx context.Context, ref StackRef, pending []PendingOp) error {
	d := r.d
	var imports []PendingCreate
	if d.o.resolver != nil {
		var err error
		if imports, err = d.o.resolver.Resolve(ctx, ref, pending); err != nil {
			return fmt.Errorf("finding pending creates in the cloud: %w", err)
		}
	}
	imported := map[string]string{}
	for _, p := range imports {
		imported[p.URN] = p.ID
	}
	if _, err := r.withLockRecovery(ctx, ref, func() (OpResult, error) {
		return d.o.ops.Refresh(ctx, ref, OpOptions{ImportPending: imports, ClearPending: len(imports) < len(pending)})
	}); err != nil {
		return fmt.Errorf("resolving %d pending operation(s): %w", len(pending), err)
	}
	var notes []string
	for _, p := range pending {
		if id, ok := imported[p.URN]; ok {
			notes = append(notes, fmt.Sprintf("imported pending %s of %s (the cloud has it as %s)", p.Kind, p.URN, id))
		} else {
			notes = append(notes, fmt.Sprintf("cleared pending %s of %s", p.Kind, p.URN))
		}
	}
	r.update(func(j *Journal) { j.Stacks[ref.Stack].Cleared = append(j.Stacks[ref.Stack].Cleared, notes...) })
	for _, n := range notes {
		d.emit(ctx, Cleared{At: d.at(), Stack: ref, What: n})
	}
	return nil
}

// withLockRecovery runs an operation; when the stack is locked by an update of ours
// that died (this host, its PID gone), it clears the lock, says so, and tries again. A
// live lock, or one from another host, is never touched.
func (r *run) withLockRecovery(ctx context.Context, ref StackRef, op func() (OpResult, error)) (OpResult, error) {
	res, err := op()
	if err == nil || !IsConcurrentUpdate(err) {
		return res, err
	}
	lock := ParseStackLock(err.Error())
	states, ok := r.d.o.ops.(StackStates)
	host, _ := os.Hostname()
	if !ok || lock == nil || lock.Host != host || pidAlive(lock.PID) {
		desc := "unknown holder"
		if lock != nil {
			desc = lock.String()
		}
		return res, &ConcurrentUpdateError{Stack: ref, Lock: desc, Err: err}
	}
	if cerr := states.CancelUpdate(ctx, ref); cerr != nil {
		return res, fmt.Errorf("clearing the lock a dead update left (%s): %w", lock, cerr)
	}
	note := fmt.Sprintf("cleared the stack lock of a dead update: %s", lock)
	r.update(func(j *Journal) { j.Stacks[ref.Stack].Cleared = append(j.Stacks[ref.Stack].Cleared, note) })
	r.d.emit(ctx, Cleared{At: r.d.at(), Stack: ref, What: note})
	return op()
}

// violations lists what a preview would replace or delete.
//
// The engine reports a replacement as up to three steps of one URN (replace,
// create-replacement, delete-replaced); each resource is named once, by its replace.
func violations(res OpResult) []PolicyViolation {
	replaced := map[string]bool{}
	for _, c := range res.Resources {
		if c.Op == "replace" {
			replaced[c.URN] = true
		}
	}
	var out []PolicyViolation
	for _, c := range res.Resources {
		switch c.Op {
		case "create-replacement", "delete-replaced", "discard-replaced", "import-replacement":
			if replaced[c.URN] {
				continue
			}
			out = append(out, PolicyViolation{URN: c.URN, Op: c.Op})
		case "replace", "delete", "discard":
			out = append(out, PolicyViolation{URN: c.URN, Op: c.Op})
		}
	}
	return out
}

// healthGate reads every stack of the wave fresh, after the wave finished, and fails
// the unhealthy ones.
func (r *run) healthGate(ctx context.Context, st Stage, w int, wave []string) {
	d := r.d
	var refs []StackRef
	skipped := map[string]bool{}
	for _, s := range wave {
		switch status := r.status(s); status {
		case StatusUpdated, StatusSkipped:
			refs = append(refs, StackRef{Environment: st.Environment, Stack: s})
			skipped[s] = status == StatusSkipped
		}
	}
	if len(refs) == 0 {
		return
	}
	waveDone := r.now()
	d.emit(ctx, GateWaiting{At: d.at(), Environment: st.Environment, Gate: GateHealth, Reason: fmt.Sprintf("wave %d: reading %d stack(s) fresh from their clusters", w+1, len(refs))})
	var wg sync.WaitGroup
	for _, ref := range refs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			before := r.status(ref.Stack)
			err := r.step(ctx, ref, StepHealth, func() (map[string]int, error) { return nil, r.checkHealth(ctx, ref, waveDone) })
			if err != nil && ctx.Err() != nil {
				r.setStatus(ref.Stack, before) // not read: resume reads it again
				return
			}
			if err != nil {
				d.emit(ctx, GateFailed{At: d.at(), Environment: st.Environment, Gate: GateHealth, Stack: ref.Stack, Reason: readable(err)})
				r.fail(ctx, st, ref, err)
				return
			}
			status := StatusSucceeded
			if skipped[ref.Stack] {
				status = StatusSkipped
			}
			r.setStatus(ref.Stack, status)
			if !skipped[ref.Stack] {
				r.recordGood(ctx, ref)
			}
		}()
	}
	wg.Wait()
}

// checkHealth reads a stack's clusters; a reading taken before notBefore never counts.
func (r *run) checkHealth(ctx context.Context, ref StackRef, notBefore time.Time) error {
	d := r.d
	r.mu.Lock()
	out, ok := r.outputs[ref.Stack]
	skipped := r.same[ref.Stack]
	r.mu.Unlock()
	if !ok && skipped {
		out, ok = r.recordedOutputs(ref)
	}
	if !ok {
		o, err := d.o.ops.Outputs(ctx, ref)
		if err != nil {
			return fmt.Errorf("reading its outputs: %w", err)
		}
		out = o
		r.mu.Lock()
		r.outputs[ref.Stack] = out
		r.mu.Unlock()
	}
	rep, err := d.o.health.Check(ctx, ref, out)
	if err != nil {
		return &HealthError{Stack: ref, Problems: []string{readable(err)}}
	}
	if rep.Checked.Before(notBefore) {
		return &HealthError{Stack: ref, Problems: []string{fmt.Sprintf("the health reading is from %s, before the wave finished at %s: a stale reading never counts",
			rep.Checked.Format(time.RFC3339Nano), notBefore.Format(time.RFC3339Nano))}}
	}
	if !rep.Healthy() {
		return &HealthError{Stack: ref, Problems: rep.Problems()}
	}
	d.emit(ctx, GatePassed{At: d.at(), Environment: ref.Environment, Gate: GateHealth, Stack: ref.Stack, Detail: rep.Summary()})
	return nil
}

// recordedOutputs returns the public outputs of an unchanged stack's last successful
// update, when the health checker gets credentials from the cloud and needs no more.
func (r *run) recordedOutputs(ref StackRef) (Outputs, bool) {
	if c, ok := r.d.o.health.(CloudCredentials); !ok || !c.CredentialsFromCloud() {
		return nil, false
	}
	g, err := r.d.journal.LastGood(ref.Stack)
	if err != nil || g == nil || len(g.Outputs) == 0 {
		return nil, false
	}
	out := Outputs{}
	for k, v := range g.Outputs {
		out[k] = Output{Value: v}
	}
	return out, true
}

// recordGood remembers a stack's successful, healthy update, for no-change rollouts.
func (r *run) recordGood(ctx context.Context, ref StackRef) {
	r.mu.Lock()
	marker, ok := r.markers[ref.Stack]
	in := r.j.Stacks[ref.Stack].Inputs
	outputs, haveOutputs := r.outputs[ref.Stack]
	r.mu.Unlock()
	if !ok {
		// Its up ran before a kill or a stop: read the state it left.
		states, is := r.d.o.ops.(StackStates)
		if !is {
			return // no state to compare with later
		}
		s, err := states.State(ctx, ref)
		if err != nil || s.LastUpdate == nil {
			return
		}
		marker = s.LastUpdate.Marker
	}
	g := LastGood{Stack: ref, Inputs: in, Marker: marker, RunID: r.j.RunID, Finished: r.now()}
	if haveOutputs {
		g.Outputs = PublicOutputs(outputs)
	}
	_ = r.d.journal.SetLastGood(g)
}

// soak waits the stage's soak (scaled by the time scale), re-reading health at
// intervals and at its end. A resumed run serves only what is left of it.
func (r *run) soak(ctx context.Context, st Stage, sr *StageRecord) error {
	d := r.d
	wait := st.Soak
	if d.o.timeScale > 1 {
		wait = time.Duration(float64(st.Soak) / d.o.timeScale)
	}
	started := r.now()
	if sr.SoakStarted != nil {
		started = *sr.SoakStarted
	} else {
		r.update(func(*Journal) { sr.SoakStarted = &started })
	}
	d.emit(ctx, GateWaiting{At: d.at(), Environment: st.Environment, Gate: GateSoak,
		Reason: fmt.Sprintf("soaking %s (%s real time) with health re-checked %d times", st.Soak, wait.Round(100*time.Millisecond), d.o.soakChecks)})
	interval := wait / time.Duration(max(d.o.soakChecks, 1))
	for {
		elapsed := r.now().Sub(started)
		remaining := wait - elapsed
		if remaining > 0 {
			sleep := min(interval, remaining)
			select {
			case <-ctx.Done():
				return &InterruptedError{RunID: r.j.RunID}
			case <-r.stop:
				return &InterruptedError{RunID: r.j.RunID}
			case <-time.After(sleep):
			}
		}
		elapsed = r.now().Sub(started)
		healthy := r.soakCheck(ctx, st)
		shown := elapsed
		if d.o.timeScale > 1 {
			shown = time.Duration(float64(elapsed) * d.o.timeScale)
		}
		d.emit(ctx, SoakProgress{At: d.at(), Environment: st.Environment, Elapsed: min(shown, st.Soak), Soak: st.Soak, Remaining: max(wait-elapsed, 0), Healthy: healthy})
		if err := r.halt(st); err != nil {
			d.emit(ctx, GateFailed{At: d.at(), Environment: st.Environment, Gate: GateSoak, Reason: "unhealthy during the soak"})
			return err
		}
		if ctx.Err() != nil {
			return &InterruptedError{RunID: r.j.RunID}
		}
		if elapsed >= wait {
			break
		}
	}
	r.update(func(*Journal) { sr.SoakDone = true })
	d.emit(ctx, GatePassed{At: d.at(), Environment: st.Environment, Gate: GateSoak, Detail: fmt.Sprintf("healthy through a %s soak", st.Soak)})
	return nil
}

// soakCheck re-reads every healthy stack of the stage; an unhealthy one fails.
func (r *run) soakCheck(ctx context.Context, st Stage) bool {
	healthy := true
	now := r.now()
	for _, w := range st.Waves {
		for _, s := range w {
			status := r.status(s)
			if status != StatusSucceeded && status != StatusSkipped {
				continue
			}
			ref := StackRef{Environment: st.Environment, Stack: s}
			if err := r.checkHealth(ctx, ref, now); err != nil {
				if ctx.Err() != nil {
					return healthy
				}
				healthy = false
				r.fail(ctx, st, ref, &StackError{Stack: ref, Step: StepSoak, Reason: readable(err), Err: err})
			}
		}
	}
	return healthy
}

// readable turns an engine error into the part a person needs: the diagnostics, not the
// whole progress log the automation API wraps into it.
func readable(err error) string {
	if err == nil {
		return ""
	}
	var se *StackError
	if errors.As(err, &se) && se.Reason != "" {
		return se.Reason
	}
	// A health failure's problems are the reason; they are not an engine log.
	var he *HealthError
	if errors.As(err, &he) {
		return fmt.Sprintf("%s is unhealthy: %s", he.Stack, strings.Join(he.Problems, "; "))
	}
	return EngineMessage(err.Error())
}
