package automation

import "time"

// Event is something a rollout reports while it runs.
type Event interface{ event() }

// EnvironmentStarted is sent when an environment's stacks start updating.
type EnvironmentStarted struct {
	Environment string
	Stacks      []string
}

// EngineOutput is one line of the Pulumi engine's progress for a stack.
type EngineOutput struct {
	Environment, Stack string
	Line               string
}

// StackUpdated is sent when a stack's update finished.
type StackUpdated struct {
	Environment, Stack string
	// Changes counts the resources by operation ("create", "update", "same", ...).
	Changes  map[string]int
	Duration time.Duration
}

// Soaking is sent when a healthy environment starts its soak before the next one.
type Soaking struct {
	Environment string
	Soak        time.Duration // as configured
	Wait        time.Duration // as waited, after simulated-time scaling
}

// GateBlocked is sent when promotion into an environment needs an approval it lacks.
type GateBlocked struct {
	Environment string
	Reason      string
}

// EnvironmentDone is sent when an environment's stacks are all up and its soak is over.
type EnvironmentDone struct {
	Environment string
	Duration    time.Duration
}

func (EnvironmentStarted) event() {}
func (EngineOutput) event()       {}
func (StackUpdated) event()       {}
func (Soaking) event()            {}
func (GateBlocked) event()        {}
func (EnvironmentDone) event()    {}
