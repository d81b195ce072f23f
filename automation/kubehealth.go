package automation

import (
	"context"
	"errors"
)

// NewKubeHealth returns the health checker that reads each cluster's Kubernetes API
// through the kubeconfigs in the stack's outputs.
func NewKubeHealth() HealthChecker {
	return HealthFunc(func(ctx context.Context, s StackRef, outputs Outputs) (HealthReport, error) {
		return HealthReport{}, errors.New("not built yet")
	})
}
