package automation

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/components/envset"
)

// Plan is what a run will do, free of how it is executed: environments in promotion
// order (stages), each with its gates and its stacks in waves. Steps flattens it into
// the ordered steps an executor runs. A plan is plain data, so that it can be journaled
// and handed to another executor unchanged.
type Plan struct {
	Stages []Stage `json:"stages"`
}

// Stage is one environment of a plan.
type Stage struct {
	Environment      string        `json:"environment"`
	RequiresApproval bool          `json:"requiresApproval,omitempty"`
	Protected        bool          `json:"protected,omitempty"`
	Soak             time.Duration `json:"soak,omitempty"`
	MaxConcurrency   int           `json:"maxConcurrency"`
	MaxFailures      int           `json:"maxFailures,omitempty"`
	// Window is the environment's maintenance window: upgrade steps start only inside
	// it. Nil: any time.
	Window *envset.Window `json:"window,omitempty"`
	Waves  [][]string     `json:"waves"`
}

// StepKind is what a step does.
type StepKind string

// The kinds of step, in the order they run for one environment.
const (
	StepApproval StepKind = "approval" // the environment's approval gate
	StepPreview  StepKind = "preview"  // a stack's preview, and the preview policy in protected environments
	StepUp       StepKind = "up"       // a stack's update
	StepHealth   StepKind = "health"   // the health gate after a wave, fresh from each cluster
	StepSoak     StepKind = "soak"     // the soak after a healthy environment, health re-checked during it
	StepUpgrade  StepKind = "upgrade"  // one round of an upgrade: an update with new versions
)

// Step is one unit of a plan. Stack steps name their stack; the others their stage
// and wave. After lists the steps that must be done first.
type Step struct {
	ID          string   `json:"id"`
	Kind        StepKind `json:"kind"`
	Environment string   `json:"environment"`
	Wave        int      `json:"wave"`
	Stack       string   `json:"stack,omitempty"`
	After       []string `json:"after,omitempty"`
}

// Selection narrows a plan.
type Selection struct {
	// Environments keeps only these environments (in the set's order).
	Environments []string
	// To stops the plan after this environment.
	To string
	// Stacks keeps only these stacks; stages and waves left empty are dropped.
	Stacks []string
	// MaxConcurrency, when positive, caps every stage's concurrency.
	MaxConcurrency int
}

// BuildPlan turns an environment set and a selection into a plan. It refuses unknown
// environments and stacks, naming what is known.
func BuildPlan(set envset.Set, sel Selection) (Plan, error) {
	known := set.Names()
	for _, e := range sel.Environments {
		if !slices.Contains(known, e) {
			return Plan{}, &InputError{Msg: fmt.Sprintf("unknown environment %q: the environments are %s", e, strings.Join(known, ", "))}
		}
	}
	if sel.To != "" && !slices.Contains(known, sel.To) {
		return Plan{}, &InputError{Msg: fmt.Sprintf("unknown environment %q in --to: the environments are %s", sel.To, strings.Join(known, ", "))}
	}
	all := set.Stacks()
	for _, s := range sel.Stacks {
		if !slices.Contains(all, s) {
			return Plan{}, &InputError{Msg: fmt.Sprintf("unknown stack %q: the stacks are %s", s, strings.Join(all, ", "))}
		}
	}
	var p Plan
	for _, env := range set.Environments {
		if len(sel.Environments) == 0 || slices.Contains(sel.Environments, env.Name) {
			st := Stage{
				Environment: env.Name, RequiresApproval: env.RequiresApproval, Protected: env.Protected,
				Soak: env.Soak, MaxConcurrency: env.MaxConcurrency, MaxFailures: env.MaxFailures,
				Window: env.MaintenanceWindow,
			}
			if sel.MaxConcurrency > 0 && sel.MaxConcurrency < st.MaxConcurrency {
				st.MaxConcurrency = sel.MaxConcurrency
			}
			for _, w := range env.StackWaves() {
				var wave []string
				for _, s := range w {
					if len(sel.Stacks) == 0 || slices.Contains(sel.Stacks, s) {
						wave = append(wave, s)
					}
				}
				if len(wave) > 0 {
					st.Waves = append(st.Waves, wave)
				}
			}
			if len(st.Waves) > 0 {
				p.Stages = append(p.Stages, st)
			}
		}
		if env.Name == sel.To {
			break
		}
	}
	if len(p.Stages) == 0 {
		return Plan{}, &InputError{Msg: "the selection leaves nothing to do: no stack matches"}
	}
	return p, nil
}

// Stacks returns every stack of the plan, stage by stage and wave by wave.
func (p Plan) Stacks() []StackRef {
	var out []StackRef
	for _, st := range p.Stages {
		for _, w := range st.Waves {
			for _, s := range w {
				out = append(out, StackRef{Environment: st.Environment, Stack: s})
			}
		}
	}
	return out
}

// Stage returns the stage of an environment.
func (p Plan) Stage(env string) (Stage, bool) {
	for _, st := range p.Stages {
		if st.Environment == env {
			return st, true
		}
	}
	return Stage{}, false
}

// Steps flattens the plan into steps with their dependencies: a stage's approval after
// the previous stage's soak; each stack's preview and up after the previous wave's
// health gate (or the stage's approval); a wave's health gate after every up of the
// wave; the soak after the last wave's health gate.
func (p Plan) Steps() []Step {
	var steps []Step
	var prev []string // what the next step waits for
	for _, st := range p.Stages {
		if st.RequiresApproval {
			id := st.Environment + "/approval"
			steps = append(steps, Step{ID: id, Kind: StepApproval, Environment: st.Environment, After: prev})
			prev = []string{id}
		}
		for w, wave := range st.Waves {
			var ups []string
			for _, s := range wave {
				pid := st.Environment + "/" + s + "/preview"
				uid := st.Environment + "/" + s + "/up"
				steps = append(steps,
					Step{ID: pid, Kind: StepPreview, Environment: st.Environment, Wave: w, Stack: s, After: prev},
					Step{ID: uid, Kind: StepUp, Environment: st.Environment, Wave: w, Stack: s, After: []string{pid}})
				ups = append(ups, uid)
			}
			hid := fmt.Sprintf("%s/wave-%d/health", st.Environment, w+1)
			steps = append(steps, Step{ID: hid, Kind: StepHealth, Environment: st.Environment, Wave: w, After: ups})
			prev = []string{hid}
		}
		if st.Soak > 0 {
			id := st.Environment + "/soak"
			steps = append(steps, Step{ID: id, Kind: StepSoak, Environment: st.Environment, Wave: len(st.Waves) - 1, After: prev})
			prev = []string{id}
		}
	}
	return steps
}
