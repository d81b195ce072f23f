package automation

import (
	"context"
	"time"
)

// StackRef names one stack of the fleet and the environment it belongs to.
type StackRef struct {
	Environment string `json:"environment"`
	Stack       string `json:"stack"`
}

func (r StackRef) String() string { return r.Environment + "/" + r.Stack }

// StackOps are the operations the deploy program runs on a stack. The real
// implementation (PulumiOps) drives the Pulumi automation API, one workspace per
// stack; automationtest.Fake stands in for it in unit tests.
type StackOps interface {
	Preview(ctx context.Context, s StackRef, o OpOptions) (OpResult, error)
	Up(ctx context.Context, s StackRef, o OpOptions) (OpResult, error)
	Refresh(ctx context.Context, s StackRef, o OpOptions) (OpResult, error)
	Outputs(ctx context.Context, s StackRef) (Outputs, error)
	Destroy(ctx context.Context, s StackRef, o OpOptions) (OpResult, error)
}

// StackStates reads what the backend holds for a stack, and clears a lock a dead
// update left behind. StackOps implementations that can, implement it too; without it
// the deploy program trusts its journal alone.
type StackStates interface {
	State(ctx context.Context, s StackRef) (StackState, error)
	// CancelUpdate clears the stack's lock, as `pulumi cancel` does.
	CancelUpdate(ctx context.Context, s StackRef) error
}

// OpOptions tune one operation.
type OpOptions struct {
	// Refresh reads the clouds before the operation (preview --refresh).
	Refresh bool
	// ExpectNoChanges fails the operation when it would change anything (drift check).
	ExpectNoChanges bool
	// ImportPending adopts resources that a killed update created but never recorded
	// (refresh --import-pending-creates); ClearPending drops the rest.
	ImportPending []PendingCreate
	ClearPending  bool
	// Progress receives the engine's progress output, one line at a time.
	Progress func(line string)
	// StackFile, when set, is the stack file the operation runs with instead of the
	// project's: an upgrade step's settings, written to the project only once the step's
	// update succeeded.
	StackFile string
}

// ResourceChange is one resource an operation changes (or would change).
type ResourceChange struct {
	URN  string `json:"urn"`
	Type string `json:"type"`
	Op   string `json:"op"` // create, update, replace, delete, ...
}

// OpResult is what an operation did, or for a preview would do.
type OpResult struct {
	// Changes counts resources by operation: create, update, replace, delete, same.
	Changes map[string]int `json:"changes"`
	// Resources are the resources that are not unchanged.
	Resources []ResourceChange `json:"resources,omitempty"`
	// Outputs are the stack's outputs after an up.
	Outputs Outputs `json:"-"`
}

// Output is one stack output.
type Output struct {
	Value  any
	Secret bool
}

// Outputs are a stack's outputs by name.
type Outputs map[string]Output

// StackState is what the backend holds for a stack.
type StackState struct {
	Exists bool
	// LastUpdate is the last update of any kind recorded in the state, if any.
	LastUpdate *UpdateInfo
	// Pending are operations a killed update started and never finished.
	Pending []PendingOp
	// Types are the resource types the state holds, sorted, each once.
	Types []string
}

// UpdateInfo is one entry of a stack's update history.
type UpdateInfo struct {
	Kind    string    `json:"kind"`   // update, refresh, destroy, ...
	Result  string    `json:"result"` // succeeded, failed, in-progress
	Started time.Time `json:"started"`
	Ended   time.Time `json:"ended"`
	// Marker identifies this state: equal markers mean no update happened in between.
	Marker string `json:"marker"`
}

// PendingOp is an operation recorded as started in a stack's state and never finished.
type PendingOp struct {
	URN    string         `json:"urn"`
	Type   string         `json:"type"`
	Kind   string         `json:"kind"` // creating, updating, deleting, reading, ...
	Inputs map[string]any `json:"-"`
}

// PendingCreate adopts a pending create: the resource the cloud already has.
type PendingCreate struct {
	URN string `json:"urn"`
	ID  string `json:"id"`
}

// PendingResolver finds, in the cloud, the resources behind pending creates, so that
// resume adopts them instead of creating them twice. Unresolved ones are cleared.
type PendingResolver interface {
	Resolve(ctx context.Context, s StackRef, pending []PendingOp) ([]PendingCreate, error)
}
