package automation

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// RolloutRequest is what a rollout is asked to do.
type RolloutRequest struct {
	Selection
	// Approve lists the environments whose approval gate is granted.
	Approve []string
	// AllowReplace lets protected environments replace and delete resources.
	AllowReplace bool
	// Refresh reads the clouds before each preview, and never skips a stack.
	Refresh bool
	// Stop, when closed, stops new work: running operations finish, nothing new
	// starts, and the run ends as interrupted. Cancelling the context cancels the
	// running operations too.
	Stop <-chan struct{}
}

// Rollout runs a new rollout: pre-flight over every stack of the plan before anything
// changes, then the plan, stage by stage. It returns the run's journal with any error;
// the error's type says why it stopped (IsInputError, IsGateRefused, IsLocked,
// IsRunFailed, IsInterrupted).
func (d *Deployer) Rollout(ctx context.Context, req RolloutRequest) (*Journal, error) {
	if err := d.checkFrozen(); err != nil {
		return nil, err
	}
	plan, err := d.preflight(ctx, req.Selection, req.Approve)
	if err != nil {
		return nil, err
	}
	r := Request{Selection: req.Selection, Approve: req.Approve, AllowReplace: req.AllowReplace, Refresh: req.Refresh}
	j, err := d.newJournal("rollout", r, plan)
	if err != nil {
		return nil, err
	}
	return d.start(ctx, j, req.Stop)
}

// Resume continues the last run where it stopped: after a kill, a gate, a failure or an
// interruption. It re-reads each stack's state rather than trusting the journal alone.
// A new approval can be given in approve.
func (d *Deployer) Resume(ctx context.Context, approve []string, stop <-chan struct{}) (*Journal, error) {
	if err := d.checkFrozen(); err != nil {
		return nil, err
	}
	j, err := d.resumable("resume")
	if err != nil {
		return nil, err
	}
	if _, err := d.preflight(ctx, Selection{Stacks: stackNames(j.Plan)}, append(j.Request.Approve, approve...)); err != nil {
		return nil, err
	}
	j.Request.Approve = append(j.Request.Approve, approve...)
	for _, rec := range j.Stacks {
		switch rec.Status {
		case StatusRunning, StatusFailed, StatusSetAside:
			rec.Status = StatusPending
			rec.Error = ""
		}
	}
	d.reopen(j)
	return d.start(ctx, j, stop)
}

// Retry reruns the failed or set-aside stacks of the last run (only those in stacks,
// when given) with the inputs the journal recorded, then continues the run. It refuses
// when those inputs changed since.
func (d *Deployer) Retry(ctx context.Context, stacks []string, stop <-chan struct{}) (*Journal, error) {
	if err := d.checkFrozen(); err != nil {
		return nil, err
	}
	j, err := d.resumable("retry")
	if err != nil {
		return nil, err
	}
	failed := j.Failed()
	if len(failed) == 0 {
		return nil, &NothingToResumeError{Msg: fmt.Sprintf("run %s has no failed or set-aside stack to retry (it is %s); `flotilla resume` continues it", j.RunID, j.Status)}
	}
	var names []string
	for _, f := range failed {
		names = append(names, f.Stack)
	}
	for _, s := range stacks {
		if !slices.Contains(names, s) {
			return nil, &InputError{Msg: fmt.Sprintf("stack %q did not fail in run %s: the failed stacks are %s", s, j.RunID, strings.Join(names, ", "))}
		}
	}
	var changed []string
	for _, f := range failed {
		if len(stacks) > 0 && !slices.Contains(stacks, f.Stack) {
			continue
		}
		in, err := d.inputs(f.Stack)
		if err != nil {
			return nil, &InputError{Err: err}
		}
		if in.StackFile != f.Inputs.StackFile {
			changed = append(changed, fmt.Sprintf("%s: stacks/Pulumi.%s.yaml changed (%s, was %s)", f.StackRef, f.Stack, short(in.StackFile), short(f.Inputs.StackFile)))
		}
		if in.Program != f.Inputs.Program {
			changed = append(changed, fmt.Sprintf("%s: the program build changed (%s, was %s)", f.StackRef, short(in.Program), short(f.Inputs.Program)))
		}
		f.Status, f.Error = StatusPending, ""
	}
	if len(changed) > 0 {
		return nil, &InputsChangedError{Changes: changed}
	}
	d.reopen(j)
	return d.start(ctx, j, stop)
}

func short(h string) string {
	h = strings.TrimPrefix(h, "sha256:")
	if len(h) > 12 {
		return h[:12]
	}
	return h
}

// resumable loads the last run for resume or retry.
func (d *Deployer) resumable(verb string) (*Journal, error) {
	j, err := d.journal.Latest()
	if err != nil {
		return nil, err
	}
	if j == nil {
		return nil, &NothingToResumeError{Msg: fmt.Sprintf("there is no run to %s under %s: start one with `flotilla rollout`", verb, d.o.stateDir)}
	}
	if j.Status == RunSucceeded {
		return nil, &NothingToResumeError{Msg: fmt.Sprintf("the last run, %s, succeeded: there is nothing to %s", j.RunID, verb)}
	}
	if j.Command != "rollout" && j.Command != "upgrade" && j.Command != "resume" && j.Command != "retry" {
		return nil, &NothingToResumeError{Msg: fmt.Sprintf("the last run, %s, was a %s: only rollouts and upgrades are resumed", j.RunID, j.Command)}
	}
	return j, nil
}

// reopen marks the stages that hold stacks still to do as unfinished.
func (d *Deployer) reopen(j *Journal) {
	j.Resumes++
	j.Status, j.Finished, j.Error = RunRunning, nil, ""
	for _, st := range j.Plan.Stages {
		sr := j.Stage(st.Environment)
		for _, w := range st.Waves {
			for _, s := range w {
				if j.Stacks[s].Status == StatusPending {
					sr.Finished = nil
				}
			}
		}
	}
}

// start takes the fleet lock and runs the journal's plan.
func (d *Deployer) start(ctx context.Context, j *Journal, stop <-chan struct{}) (*Journal, error) {
	cleared, err := d.lock.Acquire(j.RunID, j.Command, true)
	if err != nil {
		return j, err
	}
	defer func() { _ = d.lock.Release() }()
	if stop == nil {
		stop = make(chan struct{})
	}
	r := &run{d: d, j: j, req: j.Request, stop: stop, outputs: map[string]Outputs{}, markers: map[string]string{}, same: map[string]bool{}}
	if err := r.save(); err != nil {
		return j, err
	}
	d.emit(ctx, RunStarted{At: d.at(), RunID: j.RunID, Command: j.Command, Plan: j.Plan})
	if cleared != nil {
		d.emit(ctx, Cleared{At: d.at(), What: "the fleet lock of a dead run: " + cleared.String()})
	}
	return j, r.execute(ctx)
}

// preflight checks everything before anything changes: the environment set, the
// selection, every stack file in stacks/ against the environment it is listed under,
// each selected stack's file and program, and the approvals a non-interactive run needs.
func (d *Deployer) preflight(ctx context.Context, sel Selection, approve []string) (Plan, error) {
	plan, err := d.check(ctx, sel)
	if err != nil {
		return Plan{}, err
	}
	if d.o.approver == nil {
		for _, st := range plan.Stages {
			if st.RequiresApproval && !slices.Contains(approve, st.Environment) {
				return Plan{}, &ApprovalRequiredError{Environment: st.Environment}
			}
		}
	}
	return plan, nil
}

// check is the pre-flight without the approvals: the environment set, the selection,
// the stack files and each selected stack's file and program.
func (d *Deployer) check(ctx context.Context, sel Selection) (Plan, error) {
	set := *d.o.set
	if err := set.Validate(); err != nil {
		return Plan{}, &InputError{Msg: "the environment set", Err: err}
	}
	plan, err := BuildPlan(set, sel)
	if err != nil {
		return Plan{}, err
	}
	if err := d.checkStackFiles(); err != nil {
		return Plan{}, err
	}
	var problems []string
	for _, ref := range plan.Stacks() {
		if err := d.o.validate(ctx, ref, d.StackFile(ref.Stack)); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if len(problems) > 0 {
		return Plan{}, &InputError{Msg: "pre-flight found problems before anything changed:\n" + strings.Join(problems, "\n")}
	}
	if d.o.fleetCheck != nil {
		// Every stack of the set, not only the selected ones: an environment's stacks
		// share its address space and its cluster names.
		files := map[string]string{}
		for _, s := range set.Stacks() {
			files[s] = d.StackFile(s)
		}
		if err := d.o.fleetCheck(files); err != nil {
			return Plan{}, err
		}
	}
	return plan, nil
}

// checkStackFiles refuses a stack file that no environment lists, and a listed stack
// without a file.
func (d *Deployer) checkStackFiles() error {
	set := *d.o.set
	files, err := filepath.Glob(filepath.Join(d.o.projectDir, "stacks", "Pulumi.*.yaml"))
	if err != nil {
		return err
	}
	var problems []string
	have := map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml")
		have[name] = true
		if _, ok := set.EnvironmentOf(name); !ok {
			problems = append(problems, fmt.Sprintf("%s: stack %q is in no environment: list it under its environment's stacks or waves in stacks/environments.yaml, or remove the file", rel(d.o.projectDir, f), name))
		}
	}
	for _, s := range set.Stacks() {
		if !have[s] {
			env, _ := set.EnvironmentOf(s)
			problems = append(problems, fmt.Sprintf("stacks/environments.yaml lists stack %q under %q, but stacks/Pulumi.%s.yaml does not exist", s, env.Name, s))
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		return &InputError{Msg: strings.Join(problems, "\n")}
	}
	return nil
}

func rel(base, path string) string {
	if r, err := filepath.Rel(base, path); err == nil {
		return r
	}
	return path
}

func stackNames(p Plan) []string {
	var out []string
	for _, r := range p.Stacks() {
		out = append(out, r.Stack)
	}
	return out
}

// Unlock clears the fleet lock, whoever holds it, and returns what it cleared (nil when
// the fleet was not locked).
func (d *Deployer) Unlock() (*LockHolder, error) { return d.lock.Clear() }

// Lock returns the fleet lock's holder (nil when unlocked) and why it is stale ("" when
// live).
func (d *Deployer) Lock() (*LockHolder, string, error) {
	h, err := d.lock.Read()
	if err != nil || h == nil {
		return nil, "", err
	}
	return h, d.lock.Staleness(*h), nil
}

// LatestRun returns the last run's journal; nil when there is none.
func (d *Deployer) LatestRun() (*Journal, error) { return d.journal.Latest() }
