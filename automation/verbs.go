package automation

import (
	"context"
	"errors"
	"time"
)

// This file holds the read-only and destructive verbs beside Rollout, Resume and Retry:
// their request and result types are the contract the command line renders.

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
func (d *Deployer) Plan(ctx context.Context, sel Selection) (PlanResult, error) {
	return PlanResult{}, errors.New("plan: not built yet")
}

// Status is where the fleet stands.
type Status struct {
	// Run is the last run's journal; nil when there has been none.
	Run *Journal `json:"run,omitempty"`
	// Lock is the fleet lock's holder; nil when unlocked. LockStale says why it is stale.
	Lock      *LockHolder         `json:"lock,omitempty"`
	LockStale string              `json:"lockStale,omitempty"`
	Stacks    []StackStatusReport `json:"stacks"`
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
	Error    string            `json:"error,omitempty"`
}

// Status reports the last run and where it stopped, each stack's last update and lag,
// cluster versions, and who holds the lock. It changes nothing and takes no lock.
func (d *Deployer) Status(ctx context.Context) (Status, error) {
	return Status{}, errors.New("status: not built yet")
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

func (e *DriftError) Error() string { return "drift found in " + joinStacks(e.Stacks) }

// IsDrift reports whether err is drift found.
func IsDrift(err error) bool { var e *DriftError; return errors.As(err, &e) }

func joinStacks(s []string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}

// Drift checks every stack of the selection against the clouds (preview --refresh
// --expect-no-changes), under the fleet lock. It returns a DriftError when any drifted.
func (d *Deployer) Drift(ctx context.Context, sel Selection) (DriftResult, error) {
	return DriftResult{}, errors.New("drift: not built yet")
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
// lock. It refuses a protected environment unless AllowProtected is set.
func (d *Deployer) Destroy(ctx context.Context, req DestroyRequest) (DestroyResult, error) {
	return DestroyResult{}, errors.New("destroy: not built yet")
}
