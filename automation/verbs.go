package automation

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// This file holds the read-only and destructive verbs beside Rollout, Resume and Retry:
// their request and result types are the contract the command line renders.

// StepDestroy is a stack's destroy, in a destroy run's journal.
const StepDestroy StepKind = "destroy"

// PlanResult is a preview of every stack of a selection.
type PlanResult struct {
	Plan   Plan        `json:"plan"`
	Stacks []StackPlan `json:"stacks"`
}

// StackPlan is one stack's preview.
type StackPlan struct {
	Stack   StackRef       `json:"stack"`
	Changes map[string]int `json:"changes"`
	// Skip says the stack is unchanged since its last successful update, and why.
	Skip string `json:"skip,omitempty"`
	// Blocked lists what the preview policy would stop in a protected environment.
	Blocked []PolicyViolation `json:"blocked,omitempty"`
	Error   string            `json:"error,omitempty"`
}

// Plan previews every stack of the selection (after the same pre-flight as a rollout,
// approvals aside) and says what the preview policy would stop. It changes nothing.
// Stacks are previewed in parallel, up to each stage's concurrency; a stack whose
// preview fails is reported in its StackPlan and in the error, a *StackError per stack.
func (d *Deployer) Plan(ctx context.Context, sel Selection) (PlanResult, error) {
	plan, err := d.check(ctx, sel)
	if err != nil {
		return PlanResult{}, err
	}
	start := d.o.now()
	runID := newRunID(start)
	d.emit(ctx, RunStarted{At: d.at(), RunID: runID, Command: "plan", Plan: plan})
	r := &run{d: d, j: &Journal{RunID: runID}, outputs: map[string]Outputs{}, markers: map[string]string{}, same: map[string]bool{}}
	res := PlanResult{Plan: plan}
	errs := d.eachStack(plan, func(st Stage, ref StackRef) (StackPlan, error) {
		sp := StackPlan{Stack: ref}
		if reason, ok := d.skipReason(ctx, r, ref); ok {
			sp.Skip = reason
		}
		d.emit(ctx, StepStarted{At: d.at(), Stack: ref, Step: StepPreview})
		begun := d.o.now()
		out, err := d.o.ops.Preview(ctx, ref, OpOptions{Progress: func(line string) {
			d.emit(ctx, EngineOutput{At: d.at(), Stack: ref, Line: line})
		}})
		sp.Changes = out.Changes
		if st.Protected {
			sp.Blocked = violations(out)
		}
		done := StepDone{At: d.at(), Stack: ref, Step: StepPreview, Changes: out.Changes, Duration: d.o.now().Sub(begun)}
		if err != nil {
			sp.Error, done.Error = readable(err), readable(err)
		}
		d.emit(ctx, done)
		return sp, stackErr(ref, StepPreview, err)
	}, &res.Stacks)
	status := RunSucceeded
	if errs != nil {
		status = RunFailed
	}
	d.emit(ctx, RunDone{At: d.at(), RunID: runID, Status: status, Duration: d.o.now().Sub(start), Error: errString(errs)})
	return res, errs
}

// skipReason says why a rollout would skip a stack, if it would.
func (d *Deployer) skipReason(ctx context.Context, r *run, ref StackRef) (string, bool) {
	states, ok := d.o.ops.(StackStates)
	if !ok {
		return "", false
	}
	in, err := d.inputs(ref.Stack)
	if err != nil {
		return "", false
	}
	state, err := states.State(ctx, ref)
	if err != nil {
		return "", false
	}
	return r.unchanged(ref, in, state)
}

// eachStack runs f on every stack of the plan, in parallel up to each stage's
// concurrency (stages side by side: these verbs change nothing), and collects the
// results in plan order. It returns the errors joined.
func (d *Deployer) eachStack(plan Plan, f func(Stage, StackRef) (StackPlan, error), out *[]StackPlan) error {
	refs := plan.Stacks()
	results := make([]StackPlan, len(refs))
	errs := make([]error, len(refs))
	index := map[string]int{}
	for i, r := range refs {
		index[r.Stack] = i
	}
	var wg sync.WaitGroup
	for _, st := range plan.Stages {
		sem := make(chan struct{}, max(st.MaxConcurrency, 1))
		for _, wave := range st.Waves {
			for _, s := range wave {
				i := index[s]
				wg.Add(1)
				go func() {
					defer wg.Done()
					sem <- struct{}{}
					defer func() { <-sem }()
					results[i], errs[i] = f(st, refs[i])
				}()
			}
		}
	}
	wg.Wait()
	*out = results
	return errors.Join(errs...)
}

func stackErr(ref StackRef, step StepKind, err error) error {
	if err == nil {
		return nil
	}
	return &StackError{Stack: ref, Step: step, Reason: readable(err), Err: err}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// Status is where the fleet stands.
type Status struct {
	// Run is the last run's journal; nil when there has been none.
	Run *Journal `json:"run,omitempty"`
	// Lock is the fleet lock's holder; nil when unlocked. LockStale says why it is stale.
	Lock      *LockHolder         `json:"lock,omitempty"`
	LockStale string              `json:"lockStale,omitempty"`
	Stacks    []StackStatusReport `json:"stacks"`
	// Freeze is the freeze in force; nil when the fleet is not frozen.
	Freeze *Freeze `json:"freeze,omitempty"`
	// Windows are the environments' maintenance windows, and when each next opens.
	Windows []WindowStatus `json:"windows,omitempty"`
	// Target is the fleet's target Kubernetes minor: the last upgrade's, or else the
	// newest control plane of the fleet. Stacks report the clusters that lag it.
	Target string `json:"target,omitempty"`
}

// WindowStatus is an environment's maintenance window as it stands now.
type WindowStatus struct {
	Environment string    `json:"environment"`
	Window      string    `json:"window"`
	Open        bool      `json:"open"`
	Opens       time.Time `json:"opens"`           // now when open, else when it next opens
	Closes      time.Time `json:"closes,omitzero"` // when the window open at Opens closes; zero: never
}

// StackStatusReport is one stack's standing.
type StackStatusReport struct {
	Stack StackRef `json:"stack"`
	// LastUpdate is the state's last update; nil for a stack never deployed.
	LastUpdate *UpdateInfo `json:"lastUpdate,omitempty"`
	// LastGood is the last successful update through the deploy program.
	LastGood *LastGood `json:"lastGood,omitempty"`
	// Lag lists why the stack's inputs are newer than what it runs: its stack file or
	// the program build changed since its last successful update.
	Lag []string `json:"lag,omitempty"`
	// Versions are the clusters' Kubernetes versions, from the stack's outputs.
	Versions map[string]string `json:"versions,omitempty"`
	// Clusters are the clusters' control-plane and node-pool versions, from its state.
	Clusters []ClusterVersions `json:"clusters,omitempty"`
	// Behind lists the clusters that lag the fleet's target.
	Behind []string `json:"behind,omitempty"`
	Error  string   `json:"error,omitempty"`
}

// Status reports the last run and where it stopped, each stack's last update and lag,
// cluster versions, and who holds the lock. It changes nothing and takes no lock. A
// stack whose state cannot be read is reported with its error; the others still are.
func (d *Deployer) Status(ctx context.Context) (Status, error) {
	var st Status
	run, err := d.journal.Latest()
	if err != nil {
		return Status{}, fmt.Errorf("reading the last run's journal: %w", err)
	}
	st.Run = run
	if st.Lock, st.LockStale, err = d.Lock(); err != nil {
		return Status{}, fmt.Errorf("reading the fleet lock: %w", err)
	}
	set := *d.o.set
	states, _ := d.o.ops.(StackStates)
	st.Stacks = make([]StackStatusReport, 0, len(set.Stacks()))
	for _, env := range set.Environments {
		for _, s := range env.Stacks() {
			st.Stacks = append(st.Stacks, d.stackStatus(ctx, states, StackRef{Environment: env.Name, Stack: s}))
		}
	}
	if st.Freeze, err = d.Frozen(); err != nil {
		return Status{}, err
	}
	now := d.o.now().UTC()
	for _, env := range set.Environments {
		if w := env.MaintenanceWindow; w != nil {
			opens := w.Next(now)
			st.Windows = append(st.Windows, WindowStatus{Environment: env.Name, Window: w.String(), Open: w.Open(now), Opens: opens, Closes: w.Closes(opens)})
		}
	}
	st.Target = d.fleetTarget(st)
	if target, err := ParseMinor(st.Target); err == nil {
		for i := range st.Stacks {
			for _, c := range st.Stacks[i].Clusters {
				if c.ControlPlane.Less(target) || c.Nodes().Less(target) {
					st.Stacks[i].Behind = append(st.Stacks[i].Behind, fmt.Sprintf("%s (control plane %s, nodes %s)", c.Cluster, c.ControlPlane, c.Nodes()))
				}
			}
		}
	}
	return st, nil
}

// fleetTarget is the last upgrade's target, or else the newest control plane.
func (d *Deployer) fleetTarget(st Status) string {
	if ids, err := d.journal.Runs(); err == nil {
		for i := len(ids) - 1; i >= 0; i-- {
			if j, err := d.journal.Load(ids[i]); err == nil && j.Request.UpgradeTo != "" {
				return j.Request.UpgradeTo
			}
		}
	}
	var newest Minor
	for _, s := range st.Stacks {
		for _, c := range s.Clusters {
			if newest.Less(c.ControlPlane) {
				newest = c.ControlPlane
			}
		}
	}
	if newest.IsZero() {
		return ""
	}
	return newest.String()
}

func (d *Deployer) stackStatus(ctx context.Context, states StackStates, ref StackRef) StackStatusReport {
	rep := StackStatusReport{Stack: ref}
	var problems []string
	exists := true
	if states != nil {
		state, err := states.State(ctx, ref)
		if err != nil {
			problems = append(problems, "reading its state: "+readable(err))
		} else {
			exists = state.Exists
			if state.Exists {
				rep.LastUpdate = state.LastUpdate
			}
		}
	}
	good, err := d.journal.LastGood(ref.Stack)
	if err != nil {
		problems = append(problems, "reading its last good update: "+err.Error())
	}
	rep.LastGood = good
	in, err := d.inputs(ref.Stack)
	switch {
	case err != nil:
		problems = append(problems, "hashing its inputs: "+err.Error())
	case good == nil:
		rep.Lag = append(rep.Lag, "no successful update through the deploy program yet")
	default:
		if in.StackFile != good.Inputs.StackFile {
			rep.Lag = append(rep.Lag, fmt.Sprintf("stacks/Pulumi.%s.yaml changed since its last successful update (run %s)", ref.Stack, good.RunID))
		}
		if in.Program != good.Inputs.Program {
			rep.Lag = append(rep.Lag, fmt.Sprintf("the program build changed since its last successful update (run %s)", good.RunID))
		}
		if rep.LastUpdate != nil && rep.LastUpdate.Marker != good.Marker {
			rep.Lag = append(rep.Lag, fmt.Sprintf("its state changed outside the deploy program since run %s (a %s)", good.RunID, rep.LastUpdate.Kind))
		}
	}
	if exists {
		out, err := d.o.ops.Outputs(ctx, ref)
		if err != nil {
			problems = append(problems, "reading its outputs: "+readable(err))
		} else {
			rep.Versions = versionsOf(out)
			rep.Clusters, _ = versionsFromOutputs(ref, out)
		}
	}
	rep.Error = strings.Join(problems, "; ")
	return rep
}

// versionsOf reads the "versions" output: cluster name to Kubernetes version.
func versionsOf(out Outputs) map[string]string {
	o, ok := out["versions"]
	if !ok || o.Secret {
		return nil
	}
	vs := map[string]string{}
	switch v := o.Value.(type) {
	case map[string]any:
		for k, x := range v {
			vs[k] = fmt.Sprint(x)
		}
	case map[string]string:
		for k, x := range v {
			vs[k] = x
		}
	default:
		return nil
	}
	return vs
}

// DriftResult is a drift check of every stack of a selection.
type DriftResult struct {
	Stacks []StackDrift `json:"stacks"`
}

// StackDrift is one stack's drift: what a refresh-and-preview would change.
type StackDrift struct {
	Stack     StackRef         `json:"stack"`
	Drifted   bool             `json:"drifted"`
	Resources []ResourceChange `json:"resources,omitempty"`
	Error     string           `json:"error,omitempty"`
}

// DriftError reports stacks that drifted from their state.
type DriftError struct{ Stacks []string }

func (e *DriftError) Error() string {
	return "drift found in " + joinStacks(e.Stacks) + ": the clouds differ from the state; `flotilla rollout --refresh` brings them back"
}

// IsDrift reports whether err is drift found.
func IsDrift(err error) bool { var e *DriftError; return errors.As(err, &e) }

func joinStacks(s []string) string { return strings.Join(s, ", ") }

// expectNoChanges reports whether err is the engine refusing a preview that
// --expect-no-changes found changes in.
func expectNoChanges(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no changes were expected")
}

// Drift checks every stack of the selection against the clouds (preview --refresh
// --expect-no-changes), under the fleet lock. It returns a DriftError when any drifted,
// joined with a *StackError for each stack that could not be checked.
func (d *Deployer) Drift(ctx context.Context, sel Selection) (DriftResult, error) {
	set := *d.o.set
	plan, err := BuildPlan(set, sel)
	if err != nil {
		return DriftResult{}, err
	}
	start := d.o.now()
	runID := newRunID(start)
	cleared, err := d.lock.Acquire(runID, "drift", true)
	if err != nil {
		return DriftResult{}, err
	}
	defer func() { _ = d.lock.Release() }()
	d.emit(ctx, RunStarted{At: d.at(), RunID: runID, Command: "drift", Plan: plan})
	if cleared != nil {
		d.emit(ctx, Cleared{At: d.at(), What: "the fleet lock of a dead run: " + cleared.String()})
	}
	var mu sync.Mutex
	var res DriftResult
	var drifted []string
	var plans []StackPlan
	errs := d.eachStack(plan, func(_ Stage, ref StackRef) (StackPlan, error) {
		d.emit(ctx, StepStarted{At: d.at(), Stack: ref, Step: StepPreview})
		begun := d.o.now()
		out, err := d.o.ops.Preview(ctx, ref, OpOptions{Refresh: true, ExpectNoChanges: true})
		sd := StackDrift{Stack: ref, Resources: out.Resources}
		switch {
		case expectNoChanges(err):
			sd.Drifted, err = true, nil
		case err == nil:
			sd.Drifted = len(out.Resources) > 0 || changed(out.Changes)
		default:
			sd.Error = readable(err)
		}
		d.emit(ctx, StepDone{At: d.at(), Stack: ref, Step: StepPreview, Changes: out.Changes, Duration: d.o.now().Sub(begun), Error: sd.Error})
		mu.Lock()
		res.Stacks = append(res.Stacks, sd)
		if sd.Drifted {
			drifted = append(drifted, ref.Stack)
		}
		mu.Unlock()
		return StackPlan{Stack: ref}, stackErr(ref, StepPreview, err)
	}, &plans)
	order := map[string]int{}
	for i, r := range plan.Stacks() {
		order[r.Stack] = i
	}
	sort.Slice(res.Stacks, func(i, j int) bool { return order[res.Stacks[i].Stack.Stack] < order[res.Stacks[j].Stack.Stack] })
	sort.Slice(drifted, func(i, j int) bool { return order[drifted[i]] < order[drifted[j]] })
	if len(drifted) > 0 {
		errs = errors.Join(&DriftError{Stacks: drifted}, errs)
	}
	status := RunSucceeded
	if errs != nil {
		status = RunFailed
	}
	d.emit(ctx, RunDone{At: d.at(), RunID: runID, Status: status, Duration: d.o.now().Sub(start), Error: errString(errs)})
	return res, errs
}

// changed reports whether change counts hold anything but unchanged resources.
func changed(c map[string]int) bool {
	for op, n := range c {
		if op != "same" && n > 0 {
			return true
		}
	}
	return false
}

// DestroyRequest is what a destroy is asked to do.
type DestroyRequest struct {
	Environment string
	// AllowProtected must be set to destroy a protected environment.
	AllowProtected bool
}

// DestroyResult says what a destroy removed.
type DestroyResult struct {
	Stacks   []StackPlan   `json:"stacks"`
	Duration time.Duration `json:"duration"`
}

// Destroy destroys every stack of one environment, last wave first, under the fleet
// lock. It refuses a protected environment unless AllowProtected is set. The run is
// journaled (command "destroy"), and each destroyed stack's last good update is
// forgotten, so that the next rollout updates it. A wave with a failed stack stops the
// destroy before the earlier waves; the error holds a *StackError per failed stack.
func (d *Deployer) Destroy(ctx context.Context, req DestroyRequest) (DestroyResult, error) {
	set := *d.o.set
	env, ok := set.Get(req.Environment)
	if !ok {
		return DestroyResult{}, &InputError{Msg: fmt.Sprintf("unknown environment %q: the environments are %s", req.Environment, strings.Join(set.Names(), ", "))}
	}
	if env.Protected && !req.AllowProtected {
		return DestroyResult{}, &InputError{Msg: fmt.Sprintf("environment %q is protected: destroy refuses it unless you pass --allow-protected, and nothing was destroyed", env.Name)}
	}
	plan, err := BuildPlan(set, Selection{Environments: []string{env.Name}})
	if err != nil {
		return DestroyResult{}, err
	}
	j, err := d.newJournal("destroy", Request{Selection: Selection{Environments: []string{env.Name}}}, plan)
	if err != nil {
		return DestroyResult{}, &InputError{Err: err}
	}
	cleared, err := d.lock.Acquire(j.RunID, "destroy", true)
	if err != nil {
		return DestroyResult{}, err
	}
	defer func() { _ = d.lock.Release() }()
	r := &run{d: d, j: j, req: j.Request, stop: make(chan struct{}), outputs: map[string]Outputs{}, markers: map[string]string{}, same: map[string]bool{}}
	if err := r.save(); err != nil {
		return DestroyResult{}, err
	}
	start := d.o.now()
	d.emit(ctx, RunStarted{At: d.at(), RunID: j.RunID, Command: "destroy", Plan: plan})
	if cleared != nil {
		d.emit(ctx, Cleared{At: d.at(), What: "the fleet lock of a dead run: " + cleared.String()})
	}
	st := plan.Stages[0]
	sr := j.Stage(st.Environment)
	r.update(func(*Journal) { sr.Started = &start })
	d.emit(ctx, StageStarted{At: d.at(), Environment: st.Environment, Waves: st.Waves})

	results := map[string]StackPlan{}
	var mu sync.Mutex
	var errs []error
	for w := len(st.Waves) - 1; w >= 0 && len(errs) == 0; w-- {
		if ctx.Err() != nil {
			errs = append(errs, &InterruptedError{RunID: j.RunID})
			break
		}
		d.emit(ctx, WaveStarted{At: d.at(), Environment: st.Environment, Wave: w + 1, Stacks: st.Waves[w]})
		sem := make(chan struct{}, max(st.MaxConcurrency, 1))
		var wg sync.WaitGroup
		for _, s := range st.Waves[w] {
			ref := StackRef{Environment: st.Environment, Stack: s}
			wg.Add(1)
			go func() {
				defer wg.Done()
				sem <- struct{}{}
				defer func() { <-sem }()
				var changes map[string]int
				err := r.step(ctx, ref, StepDestroy, func() (map[string]int, error) {
					res, err := r.withLockRecovery(ctx, ref, func() (OpResult, error) {
						return d.o.ops.Destroy(ctx, ref, OpOptions{Progress: func(line string) {
							d.emit(ctx, EngineOutput{At: d.at(), Stack: ref, Line: line})
						}})
					})
					changes = res.Changes
					return res.Changes, err
				})
				sp := StackPlan{Stack: ref, Changes: changes}
				status := StatusSucceeded
				if err == nil {
					err = d.journal.ForgetLastGood(ref.Stack)
				}
				if err != nil {
					sp.Error, status = readable(err), StatusFailed
					d.emit(ctx, StackFailed{At: d.at(), Stack: ref, Step: StepDestroy, Reason: sp.Error})
				}
				r.update(func(j *Journal) { j.Stacks[ref.Stack].Status, j.Stacks[ref.Stack].Error = status, sp.Error })
				mu.Lock()
				results[s] = sp
				if err != nil {
					errs = append(errs, stackErr(ref, StepDestroy, err))
				}
				mu.Unlock()
			}()
		}
		wg.Wait()
	}
	var res DestroyResult
	for _, ref := range plan.Stacks() {
		if sp, ok := results[ref.Stack]; ok {
			res.Stacks = append(res.Stacks, sp)
		}
	}
	res.Duration = d.o.now().Sub(start)
	err = errors.Join(errs...)
	status := RunSucceeded
	switch {
	case IsInterrupted(err):
		status = RunInterrupted
	case err != nil:
		status = RunFailed
	default:
		now := d.o.now()
		r.update(func(*Journal) { sr.Finished = &now })
		d.emit(ctx, StageDone{At: d.at(), Environment: st.Environment, Duration: now.Sub(start)})
	}
	return res, r.finish(ctx, start, status, err)
}
