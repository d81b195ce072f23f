package automation

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// HealthChecker reads a stack's clusters fresh, every time it is asked. The deploy
// program calls it after each wave and during soaks; implementations read each
// cluster's Kubernetes API (client-go, with the kubeconfig from the stack's outputs),
// or the cloud's own pool status where a cluster has no Kubernetes API.
type HealthChecker interface {
	Check(ctx context.Context, s StackRef, outputs Outputs) (HealthReport, error)
}

// CloudCredentials is a HealthChecker that gets each cluster's credentials from the
// cloud itself, as `aws eks update-kubeconfig` or `gcloud container clusters
// get-credentials` do, when the outputs it is given carry no kubeconfigs. For a stack
// skipped as unchanged, the deploy program then hands it the public outputs recorded
// at the stack's last successful update (its state is unchanged since, so they are
// current) and reads nothing through the Pulumi CLI.
type CloudCredentials interface {
	HealthChecker
	CredentialsFromCloud() bool
}

// PublicOutputs keeps the outputs that are not secret, as plain values.
func PublicOutputs(o Outputs) map[string]any {
	out := map[string]any{}
	for k, v := range o {
		if !v.Secret {
			out[k] = v.Value
		}
	}
	return out
}

// HealthReport is one reading of a stack's clusters.
type HealthReport struct {
	Stack    StackRef        `json:"stack"`
	Checked  time.Time       `json:"checked"`
	Clusters []ClusterHealth `json:"clusters"`
}

// ClusterHealth is one cluster's reading.
type ClusterHealth struct {
	Name string `json:"name"`
	// Source says where the reading came from: "kubernetes" or "cloud".
	Source   string   `json:"source"`
	Problems []string `json:"problems,omitempty"`
	// Summary is a one-line account when healthy, e.g. "5/5 nodes ready in 3 pools".
	Summary string `json:"summary,omitempty"`
}

// Healthy reports whether every cluster is healthy.
func (r HealthReport) Healthy() bool {
	for _, c := range r.Clusters {
		if len(c.Problems) > 0 {
			return false
		}
	}
	return true
}

// Problems lists every cluster's problems, each prefixed with its cluster.
func (r HealthReport) Problems() []string {
	var out []string
	for _, c := range r.Clusters {
		for _, p := range c.Problems {
			out = append(out, c.Name+": "+p)
		}
	}
	return out
}

// Summary is a one-line account of the reading.
func (r HealthReport) Summary() string {
	var parts []string
	for _, c := range r.Clusters {
		s := c.Summary
		if len(c.Problems) > 0 {
			s = fmt.Sprintf("%d problem(s)", len(c.Problems))
		}
		parts = append(parts, fmt.Sprintf("%s %s", c.Name, s))
	}
	return strings.Join(parts, "; ")
}

// HealthFunc adapts a function to HealthChecker.
type HealthFunc func(ctx context.Context, s StackRef, outputs Outputs) (HealthReport, error)

// Check calls f.
func (f HealthFunc) Check(ctx context.Context, s StackRef, outputs Outputs) (HealthReport, error) {
	return f(ctx, s, outputs)
}
