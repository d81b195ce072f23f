package automation

import (
	"errors"
	"fmt"
)

// ApprovalRequiredError stops a rollout before an environment that needs an explicit
// approval it was not given.
type ApprovalRequiredError struct{ Environment string }

func (e *ApprovalRequiredError) Error() string {
	return fmt.Sprintf("promotion into %q requires approval: run again with --approve %s", e.Environment, e.Environment)
}

// IsApprovalRequired reports whether err stopped a rollout at an approval gate.
func IsApprovalRequired(err error) bool {
	var e *ApprovalRequiredError
	return errors.As(err, &e)
}

// StackError is a failed operation on one stack.
type StackError struct {
	Environment, Stack, Op string
	Err                    error
}

func (e *StackError) Error() string {
	return fmt.Sprintf("%s/%s: %s: %v", e.Environment, e.Stack, e.Op, e.Err)
}

func (e *StackError) Unwrap() error { return e.Err }
