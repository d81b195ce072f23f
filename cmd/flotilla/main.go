// Command flotilla drives Flotilla's fleet: rollouts across dev, staging and prod, their
// status, resume, retry, drift checks and destroys, and the local simulator.
//
//	flotilla plan
//	flotilla rollout --sim --approve prod
//	flotilla status
//	flotilla sim fault spot-shortage --region sim-east-1
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/flotilla-io/flotilla/automation"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // a run failed, a health gate or a drift check failed, or a run was interrupted
	exitUsage  = 2 // bad usage or input, found before anything changed
	exitGate   = 3 // a gate refused: approval missing or declined, or the preview policy
	exitLocked = 4 // locked by another run: the fleet lock, or a stack's lock
)

func main() {
	ctx, stop, cancel := interrupts()
	err := newRootCmd().ExecuteContext(withStop(ctx, stop))
	cancel()
	code := exitCode(err)
	var shown *reportedError
	if err != nil && !errors.As(err, &shown) {
		fmt.Fprintln(os.Stderr, "error:", err)
	}
	os.Exit(code)
}

// interrupts handles Ctrl-C in two steps: the first closes stop (running operations
// finish, nothing new starts), the second cancels the context (running operations are
// interrupted). SIGTERM cancels at once.
func interrupts() (context.Context, <-chan struct{}, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	stop := make(chan struct{})
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		stopped := false
		for {
			select {
			case <-ctx.Done():
				return
			case sig := <-sigs:
				switch {
				case sig == syscall.SIGTERM || stopped:
					fmt.Fprintln(os.Stderr, "\ninterrupted again: cancelling the running operations; `flotilla resume` continues the run")
					signal.Stop(sigs)
					cancel()
					return
				default:
					stopped = true
					close(stop)
					fmt.Fprintln(os.Stderr, "\ninterrupted: letting the running operations finish and starting nothing new; press Ctrl-C again to cancel them")
				}
			}
		}
	}()
	return ctx, stop, func() { signal.Stop(sigs); cancel() }
}

type stopKey struct{}

// withStop gives commands the channel whose closing asks a run to stop new work.
func withStop(ctx context.Context, stop <-chan struct{}) context.Context {
	return context.WithValue(ctx, stopKey{}, stop)
}

// stopOf returns the context's stop channel; nil (never closed) when there is none.
func stopOf(ctx context.Context) <-chan struct{} {
	stop, _ := ctx.Value(stopKey{}).(<-chan struct{})
	return stop
}

// exitCode maps an error to the exit code: the typed errors of package automation
// decide it.
func exitCode(err error) int {
	var usage *usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &usage), isCobraUsage(err):
		return exitUsage
	case automation.IsLocked(err), automation.IsConcurrentUpdate(err):
		return exitLocked
	case automation.IsGateRefused(err):
		return exitGate
	case automation.IsRunFailed(err), automation.IsHealthError(err), automation.IsDrift(err), automation.IsInterrupted(err):
		return exitFailed
	case automation.IsInputError(err), automation.IsNothingToResume(err), automation.IsInputsChanged(err):
		return exitUsage
	}
	return exitFailed
}

// isCobraUsage recognises the errors cobra returns for unknown commands, which it does
// not type.
func isCobraUsage(err error) bool {
	msg := err.Error()
	return strings.HasPrefix(msg, "unknown command ") || strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "unknown shorthand flag") || strings.HasPrefix(msg, "required flag(s)") ||
		strings.HasPrefix(msg, "invalid argument ") || strings.HasPrefix(msg, "flag needs an argument")
}

// usageError is bad usage of the command line: a flag or an argument.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// reportedError is an error the command already told its user about, in its summary:
// main only turns it into an exit code.
type reportedError struct{ err error }

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }
