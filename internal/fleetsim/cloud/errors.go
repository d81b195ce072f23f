package cloud

import (
	"errors"
	"fmt"
)

// Code classifies an error returned by the simulated cloud's API, as real clouds do.
type Code string

// The error codes of the simulated cloud.
const (
	// InvalidArgument: the request is malformed or names an unknown region, zone or type.
	InvalidArgument Code = "InvalidArgument"
	// NotFound: the cluster, node pool or operation does not exist.
	NotFound Code = "NotFound"
	// AlreadyExists: the name is taken (clusters per region, node pools per cluster).
	AlreadyExists Code = "AlreadyExists"
	// FailedPrecondition: the request is well formed but the cloud refuses it in the
	// current state: a version-skew violation, a version not offered, a cluster with pools.
	FailedPrecondition Code = "FailedPrecondition"
	// ResourceInUse: another operation on the same cluster is in progress; retry later.
	ResourceInUse Code = "ResourceInUse"
	// Throttling: the API refused the request for now (the api-errors fault); retry.
	Throttling Code = "Throttling"
	// OperationFailed: a long-running operation failed (the upgrade-failure fault).
	OperationFailed Code = "OperationFailed"
	// Internal: anything else.
	Internal Code = "Internal"
)

// Error is an error of the simulated cloud's API. Its message is meant for people: it
// names the resource and says what to do.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// CodeOf returns the code of the first *Error in err's chain, or "" if there is none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// IsNotFound reports whether err says a resource does not exist.
func IsNotFound(err error) bool { return CodeOf(err) == NotFound }

// IsAlreadyExists reports whether err says a name is already taken.
func IsAlreadyExists(err error) bool { return CodeOf(err) == AlreadyExists }

// IsFailedPrecondition reports whether err is a refusal such as a version-skew violation.
func IsFailedPrecondition(err error) bool { return CodeOf(err) == FailedPrecondition }

// IsResourceInUse reports whether err says another operation on the cluster is running.
func IsResourceInUse(err error) bool { return CodeOf(err) == ResourceInUse }

// IsThrottling reports whether err is a transient refusal that a retry may cure.
func IsThrottling(err error) bool { return CodeOf(err) == Throttling }

// IsOperationFailed reports whether err says a long-running operation failed.
func IsOperationFailed(err error) bool { return CodeOf(err) == OperationFailed }

// IsInvalidArgument reports whether err says the request itself is wrong.
func IsInvalidArgument(err error) bool { return CodeOf(err) == InvalidArgument }
