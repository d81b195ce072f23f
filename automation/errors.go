package automation

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// InputError is bad input found before anything changed: an unknown environment or
// stack, a broken stack file, a stack in no environment, an invalid setting.
type InputError struct {
	Msg string
	Err error
}

func (e *InputError) Error() string {
	switch {
	case e.Msg != "" && e.Err != nil:
		return e.Msg + ": " + e.Err.Error()
	case e.Err != nil:
		return e.Err.Error()
	}
	return e.Msg
}

func (e *InputError) Unwrap() error { return e.Err }

// IsInputError reports whether err is bad input found before anything changed.
func IsInputError(err error) bool { var e *InputError; return errors.As(err, &e) }

// ApprovalRequiredError stops a run before an environment that needs an approval it
// was not given.
type ApprovalRequiredError struct {
	Environment string
	// Interactive is false when the run had no terminal to ask on.
	Interactive bool
	Declined    bool
}

func (e *ApprovalRequiredError) Error() string {
	if e.Declined {
		return fmt.Sprintf("promotion into %q was not approved", e.Environment)
	}
	return fmt.Sprintf("promotion into %q requires approval, and this run is not interactive: run again with --approve %s", e.Environment, e.Environment)
}

// IsApprovalRequired reports whether err stopped a run at an approval gate.
func IsApprovalRequired(err error) bool { var e *ApprovalRequiredError; return errors.As(err, &e) }

// PolicyViolation is one resource a preview would replace or delete.
type PolicyViolation struct {
	URN string `json:"urn"`
	Op  string `json:"op"`
}

// PreviewPolicyError is a preview in a protected environment that would replace or
// delete resources, without --allow-replace.
type PreviewPolicyError struct {
	Stack      StackRef
	Violations []PolicyViolation
}

func (e *PreviewPolicyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s is protected, and its preview would replace or delete %d resource(s); run again with --allow-replace to allow it:", e.Stack, len(e.Violations))
	for _, v := range e.Violations {
		fmt.Fprintf(&b, "\n  - %s %s", v.Op, v.URN)
	}
	return b.String()
}

// IsPreviewPolicy reports whether err is a preview-policy refusal.
func IsPreviewPolicy(err error) bool { var e *PreviewPolicyError; return errors.As(err, &e) }

// IsGateRefused reports whether a gate refused the run: an approval missing or
// declined, the preview policy, a fleet freeze or a closed maintenance window.
func IsGateRefused(err error) bool {
	return IsApprovalRequired(err) || IsPreviewPolicy(err) || IsFrozen(err) || IsWindowClosed(err)
}

// WindowClosedError stops an upgrade before a step outside its environment's
// maintenance window.
type WindowClosedError struct {
	Environment string
	Window      string    // the window, e.g. "Sat, Sun 02:00–06:00 UTC"
	Opens       time.Time // when it next opens
}

func (e *WindowClosedError) Error() string {
	return fmt.Sprintf("upgrade steps in %q start only inside its maintenance window (%s), which next opens at %s: run `flotilla resume` then, or with --wait-for-window to wait for it",
		e.Environment, e.Window, e.Opens.UTC().Format(time.RFC3339))
}

// IsWindowClosed reports whether err stopped an upgrade outside a maintenance window.
func IsWindowClosed(err error) bool { var e *WindowClosedError; return errors.As(err, &e) }

// LockHolder is who holds the fleet lock.
type LockHolder struct {
	RunID     string    `json:"runID"`
	Command   string    `json:"command"`
	User      string    `json:"user"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	Since     time.Time `json:"since"`
	Heartbeat time.Time `json:"heartbeat"`
}

func (h LockHolder) String() string {
	return fmt.Sprintf("%s@%s (pid %d, %s, run %s) since %s, last heartbeat %s",
		h.User, h.Host, h.PID, h.Command, h.RunID, h.Since.Format(time.RFC3339), h.Heartbeat.Format(time.RFC3339))
}

// LockedError refuses a run while another holds the fleet lock.
type LockedError struct {
	Holder LockHolder
	// Stale says the holder is gone (its PID is dead on this host) or its heartbeat
	// expired, and why.
	Stale string
}

func (e *LockedError) Error() string {
	if e.Stale != "" {
		return fmt.Sprintf("the fleet is locked by a stale lock of %s: %s; run `flotilla unlock` to clear it", e.Holder, e.Stale)
	}
	return fmt.Sprintf("the fleet is locked by another run: %s; wait for it to finish (`flotilla status` shows its progress)", e.Holder)
}

// IsLocked reports whether err refused a run because of the fleet lock.
func IsLocked(err error) bool { var e *LockedError; return errors.As(err, &e) }

// ConcurrentUpdateError is a stack locked by an update that is not ours to clear: a live
// one, or one from another host.
type ConcurrentUpdateError struct {
	Stack StackRef
	Lock  string // the lock as the CLI described it
	Err   error
}

func (e *ConcurrentUpdateError) Error() string {
	return fmt.Sprintf("%s is locked by another update (%s): wait for it, or if you are sure it is dead, run `pulumi cancel` on it", e.Stack, e.Lock)
}

func (e *ConcurrentUpdateError) Unwrap() error { return e.Err }

// IsConcurrentUpdate reports whether err is a stack locked by another update.
func IsConcurrentUpdate(err error) bool {
	var e *ConcurrentUpdateError
	return errors.As(err, &e) || auto.IsConcurrentUpdateError(err)
}

// StackError is a failed step of one stack.
type StackError struct {
	Stack StackRef
	Step  StepKind
	// Reason is the engine's error made readable: its diagnostics, not its whole log.
	Reason string
	Err    error
}

func (e *StackError) Error() string { return fmt.Sprintf("%s: %s: %s", e.Stack, e.Step, e.Reason) }
func (e *StackError) Unwrap() error { return e.Err }

// IsStackError reports whether err is a failed stack step.
func IsStackError(err error) bool { var e *StackError; return errors.As(err, &e) }

// HealthError is a health gate that failed.
type HealthError struct {
	Stack    StackRef
	Problems []string
}

func (e *HealthError) Error() string {
	return fmt.Sprintf("%s is unhealthy:\n  - %s", e.Stack, strings.Join(e.Problems, "\n  - "))
}

// IsHealthError reports whether err is a failed health gate.
func IsHealthError(err error) bool { var e *HealthError; return errors.As(err, &e) }

// RunFailedError ends a run in which stacks failed: beyond a stage's failure budget
// (the run halted), or within it (the failed stacks were set aside).
type RunFailedError struct {
	RunID  string
	Failed []*StackError
	// WithExceptions is true when every failure was within its stage's budget and the
	// run went on without them.
	WithExceptions bool
}

func (e *RunFailedError) Error() string {
	var b strings.Builder
	if e.WithExceptions {
		fmt.Fprintf(&b, "run %s finished with exceptions: %d stack(s) set aside; `flotilla retry` reruns them", e.RunID, len(e.Failed))
	} else {
		fmt.Fprintf(&b, "run %s failed: %d stack(s) failed; fix the cause, then `flotilla retry` (same inputs) or `flotilla resume`", e.RunID, len(e.Failed))
	}
	for _, f := range e.Failed {
		fmt.Fprintf(&b, "\n  - %s", f.Error())
	}
	return b.String()
}

// Unwrap returns the stack errors.
func (e *RunFailedError) Unwrap() []error {
	out := make([]error, len(e.Failed))
	for i, f := range e.Failed {
		out[i] = f
	}
	return out
}

// IsRunFailed reports whether err is a run that ended with failed stacks.
func IsRunFailed(err error) bool { var e *RunFailedError; return errors.As(err, &e) }

// InputsChangedError refuses a retry whose stacks' inputs changed since the journal
// recorded them.
type InputsChangedError struct {
	Changes []string
}

func (e *InputsChangedError) Error() string {
	return "retry reruns a failed stack with the inputs it failed with, and they changed:\n  - " +
		strings.Join(e.Changes, "\n  - ") + "\nuse `flotilla resume` to continue with the new inputs"
}

// IsInputsChanged reports whether err refused a retry because its inputs changed.
func IsInputsChanged(err error) bool { var e *InputsChangedError; return errors.As(err, &e) }

// NothingToResumeError is resume or retry without a run to continue.
type NothingToResumeError struct{ Msg string }

func (e *NothingToResumeError) Error() string { return e.Msg }

// IsNothingToResume reports whether err is resume or retry with nothing to continue.
func IsNothingToResume(err error) bool { var e *NothingToResumeError; return errors.As(err, &e) }

// InterruptedError is a run stopped by a signal (Ctrl-C) before it finished.
type InterruptedError struct{ RunID string }

func (e *InterruptedError) Error() string {
	return fmt.Sprintf("run %s was interrupted; `flotilla resume` continues it", e.RunID)
}

// IsInterrupted reports whether err is an interrupted run.
func IsInterrupted(err error) bool { var e *InterruptedError; return errors.As(err, &e) }
