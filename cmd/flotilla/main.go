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
	"sync/atomic"
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

// interrupts handles Ctrl-C. For a command that honours the stopper (a rollout, resume
// or retry), the first closes its channel (running operations finish, nothing new
// starts, and the command says so) and the second cancels the context (running
// operations are interrupted). For any other command, and for SIGTERM, the context is
// cancelled at once.
func interrupts() (context.Context, *stopper, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	stop := newStopper()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case sig := <-sigs:
				if sig == os.Interrupt && stop.taken.Load() && !stop.closed() {
					close(stop.ch)
					continue
				}
				if stop.closed() {
					fmt.Fprintln(os.Stderr, "\ninterrupted again: cancelling the running operations; `flotilla resume` continues the run")
				} else {
					fmt.Fprintln(os.Stderr, "\ninterrupted: cancelling")
				}
				signal.Stop(sigs)
				cancel()
				return
			}
		}
	}()
	return ctx, stop, func() { signal.Stop(sigs); cancel() }
}

// stopper is the channel the first Ctrl-C closes. A command that honours it takes it
// (stopOf); for the others the first Ctrl-C cancels.
type stopper struct {
	ch    chan struct{}
	taken atomic.Bool
}

func newStopper() *stopper { return &stopper{ch: make(chan struct{})} }

func (s *stopper) closed() bool {
	select {
	case <-s.ch:
		return true
	default:
		return false
	}
}

type stopKey struct{}

// withStop gives commands the stopper.
func withStop(ctx context.Context, s *stopper) context.Context {
	return context.WithValue(ctx, stopKey{}, s)
}

// stopOf takes the context's stop channel, so that the first Ctrl-C closes it instead
// of cancelling; nil (never closed) when there is none.
func stopOf(ctx context.Context) <-chan struct{} {
	s, _ := ctx.Value(stopKey{}).(*stopper)
	if s == nil {
		return nil
	}
	s.taken.Store(true)
	return s.ch
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
