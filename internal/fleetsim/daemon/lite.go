package daemon

import (
	"context"
	"fmt"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/simapi"
)

// Lite returns the control-plane runner of lite mode: clusters have no Kubernetes API,
// EnsurePlane returns a zero Plane and nodes are only counted.
func Lite() simapi.Kube { return liteKube{} }

type liteKube struct{}

func (liteKube) EnsurePlane(context.Context, string) (simapi.Plane, error) {
	return simapi.Plane{}, nil
}
func (liteKube) SyncNodes(context.Context, string, []simapi.Node) error { return nil }
func (liteKube) DeletePlane(context.Context, string) error              { return nil }

// IsLite reports whether k is the lite runner.
func IsLite(k simapi.Kube) bool {
	_, ok := k.(liteKube)
	return ok || k == nil
}

// liteEndpoint and liteKubeconfig stand in for a plane in lite mode: the endpoint looks
// like a real cloud's, and the kubeconfig is well formed but reaches nothing.
func liteEndpoint(c *cloud.Cluster) string {
	return fmt.Sprintf("https://%s.%s.fleetsim.invalid", c.ID, c.Region)
}

func liteKubeconfig(c *cloud.Cluster) string {
	name := c.Region + "_" + c.Name
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: %[1]s
  cluster:
    server: %[2]s
    insecure-skip-tls-verify: true
contexts:
- name: %[1]s
  context:
    cluster: %[1]s
    user: %[1]s
current-context: %[1]s
users:
- name: %[1]s
  user:
    token: fleetsim-lite-mode-no-kubernetes-api
`, name, liteEndpoint(c))
}
