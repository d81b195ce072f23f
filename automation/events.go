package automation

import "time"

// Event is something a run reports while it runs. Every event carries the time it
// happened; Kind names its type for machine-readable output.
type Event interface {
	Kind() string
	When() time.Time
}

// At is the time an event happened; every event embeds it.
type At struct {
	Time time.Time `json:"time"`
}

// When returns the time the event happened.
func (a At) When() time.Time { return a.Time }

// RunStarted opens a run.
type RunStarted struct {
	At
	RunID   string `json:"runID"`
	Command string `json:"command"` // rollout, resume, retry, plan, drift, destroy
	Plan    Plan   `json:"plan"`
}

// StageStarted is sent when an environment's first wave starts.
type StageStarted struct {
	At
	Environment string     `json:"environment"`
	Waves       [][]string `json:"waves"`
}

// WaveStarted is sent when a wave's stacks start.
type WaveStarted struct {
	At
	Environment string   `json:"environment"`
	Wave        int      `json:"wave"` // from 1
	Stacks      []string `json:"stacks"`
}

// StepStarted is sent when a stack's step starts.
type StepStarted struct {
	At
	Stack StackRef `json:"stack"`
	Step  StepKind `json:"step"`
	// Detail says what the step is about, e.g. an upgrade round's clusters and versions.
	Detail string `json:"detail,omitempty"`
}

// StepDone is sent when a stack's step ends, with the resource changes the engine
// reported (for a preview, the changes it would make).
type StepDone struct {
	At
	Stack    StackRef       `json:"stack"`
	Step     StepKind       `json:"step"`
	Detail   string         `json:"detail,omitempty"`
	Changes  map[string]int `json:"changes,omitempty"`
	Duration time.Duration  `json:"duration"`
	Error    string         `json:"error,omitempty"`
}

// EngineOutput is one line of the engine's progress for a stack.
type EngineOutput struct {
	At
	Stack StackRef `json:"stack"`
	Line  string   `json:"line"`
}

// StackSkipped is sent for a stack that needs nothing: its inputs and state match its
// last successful update.
type StackSkipped struct {
	At
	Stack  StackRef `json:"stack"`
	Reason string   `json:"reason"`
}

// StackFailed is sent when a stack fails a step. SetAside says the stage's failure
// budget absorbed it and the run goes on without it.
type StackFailed struct {
	At
	Stack    StackRef `json:"stack"`
	Step     StepKind `json:"step"`
	Reason   string   `json:"reason"`
	SetAside bool     `json:"setAside,omitempty"`
}

// Cleared is sent when a run clears what a dead run left behind: a stack lock, a
// pending operation, a stale fleet lock.
type Cleared struct {
	At
	Stack StackRef `json:"stack,omitempty"`
	What  string   `json:"what"`
}

// Gate names.
const (
	GateApproval = "approval"
	GatePreview  = "preview-policy"
	GateHealth   = "health"
	GateSoak     = "soak"
	GateFreeze   = "freeze"             // the fleet is frozen
	GateWindow   = "maintenance-window" // an upgrade step outside its environment's window
)

// GateWaiting is sent when a gate starts waiting: for an approval, on health, or a soak.
type GateWaiting struct {
	At
	Environment string `json:"environment"`
	Gate        string `json:"gate"`
	Stack       string `json:"stack,omitempty"`
	Reason      string `json:"reason,omitempty"`
}

// GatePassed is sent when a gate opens.
type GatePassed struct {
	At
	Environment string `json:"environment"`
	Gate        string `json:"gate"`
	Stack       string `json:"stack,omitempty"`
	Detail      string `json:"detail,omitempty"`
}

// GateFailed is sent when a gate refuses.
type GateFailed struct {
	At
	Environment string `json:"environment"`
	Gate        string `json:"gate"`
	Stack       string `json:"stack,omitempty"`
	Reason      string `json:"reason"`
}

// SoakProgress is sent at every health check of a soak.
type SoakProgress struct {
	At
	Environment string        `json:"environment"`
	Elapsed     time.Duration `json:"elapsed"`   // simulated or real, as configured
	Soak        time.Duration `json:"soak"`      // as configured
	Remaining   time.Duration `json:"remaining"` // in real time
	Healthy     bool          `json:"healthy"`
}

// StageDone is sent when an environment's waves and soak are over.
type StageDone struct {
	At
	Environment string        `json:"environment"`
	Duration    time.Duration `json:"duration"`
	Skipped     bool          `json:"skipped,omitempty"` // every stack was unchanged
}

// RunDone closes a run.
type RunDone struct {
	At
	RunID    string        `json:"runID"`
	Status   RunStatus     `json:"status"`
	Duration time.Duration `json:"duration"`
	Error    string        `json:"error,omitempty"`
}

// Kind names the event type in machine-readable output.
func (RunStarted) Kind() string { return "run-started" }

// Kind names the event.
func (UpgradePlanned) Kind() string { return "upgrade-planned" }

// Kind implements Event.
func (StageStarted) Kind() string { return "stage-started" }

// Kind implements Event.
func (WaveStarted) Kind() string { return "wave-started" }

// Kind implements Event.
func (StepStarted) Kind() string { return "step-started" }

// Kind implements Event.
func (StepDone) Kind() string { return "step-done" }

// Kind implements Event.
func (EngineOutput) Kind() string { return "engine-output" }

// Kind implements Event.
func (StackSkipped) Kind() string { return "stack-skipped" }

// Kind implements Event.
func (StackFailed) Kind() string { return "stack-failed" }

// Kind implements Event.
func (Cleared) Kind() string { return "cleared" }

// Kind implements Event.
func (GateWaiting) Kind() string { return "gate-waiting" }

// Kind implements Event.
func (GatePassed) Kind() string { return "gate-passed" }

// Kind implements Event.
func (GateFailed) Kind() string { return "gate-failed" }

// Kind implements Event.
func (SoakProgress) Kind() string { return "soak-progress" }

// Kind implements Event.
func (StageDone) Kind() string { return "stage-done" }

// Kind implements Event.
func (RunDone) Kind() string { return "run-done" }
