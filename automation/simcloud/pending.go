package simcloud

import (
	"context"
	"fmt"
	"strings"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/provider"
)

// PendingResolver finds the resources behind a killed update's pending creates: a
// simulated cluster by its name and region, a node pool by its name and cluster (the
// provider's resource ID is the cloud's id of either), and a Kubernetes object by its
// metadata, whose ID the Kubernetes provider reads back on refresh.
type PendingResolver struct{ c *client.Client }

// NewPendingResolver returns the resolver of pending creates on the simulator.
func NewPendingResolver(c *client.Client) *PendingResolver { return &PendingResolver{c: c} }

// Resolve returns the pending creates the cloud has. The others are left out, for the
// deploy program to clear.
func (r *PendingResolver) Resolve(ctx context.Context, s automation.StackRef, pending []automation.PendingOp) ([]automation.PendingCreate, error) {
	var out []automation.PendingCreate
	for _, p := range pending {
		if p.Kind != "creating" {
			continue
		}
		id, err := r.find(ctx, p)
		if err != nil {
			return nil, fmt.Errorf("%s: pending create of %s: %w", s, p.URN, err)
		}
		if id != "" {
			out = append(out, automation.PendingCreate{URN: p.URN, ID: id})
		}
	}
	return out, nil
}

// find returns the ID of the resource behind a pending create, or "" when the cloud
// does not have it.
func (r *PendingResolver) find(ctx context.Context, p automation.PendingOp) (string, error) {
	switch {
	case p.Type == provider.ClusterType:
		name, region := input(p.Inputs, "name"), input(p.Inputs, "region")
		if name == "" || region == "" {
			return "", nil
		}
		c, err := r.c.GetCluster(ctx, region+"/"+name)
		if cloud.IsNotFound(err) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		if c.Status == cloud.StatusDeleting {
			return "", nil
		}
		return c.ID, nil
	case p.Type == provider.NodePoolType:
		name, cluster := input(p.Inputs, "name"), input(p.Inputs, "cluster")
		if name == "" || cluster == "" {
			return "", nil
		}
		pools, err := r.c.ListNodePools(ctx, cluster)
		if cloud.IsNotFound(err) {
			return "", nil
		}
		if err != nil {
			return "", err
		}
		for _, np := range pools {
			if np.Name == name && np.Status != cloud.StatusDeleting {
				return np.ID, nil
			}
		}
		return "", nil
	case strings.HasPrefix(p.Type, "kubernetes:") && !strings.HasPrefix(p.Type, "pulumi:providers:"):
		return kubeID(p.Type, p.Inputs), nil
	}
	return "", nil
}

// input returns a string input; a value that is not a plain string (an unknown, or a
// secret the state holds encrypted) says nothing.
func input(in map[string]any, key string) string { return plain(in[key]) }

func plain(v any) string {
	s, _ := v.(string)
	return s
}

// clusterScoped are the kinds Flotilla creates that live outside any namespace.
var clusterScoped = map[string]bool{
	"Namespace": true, "ClusterRole": true, "ClusterRoleBinding": true, "CustomResourceDefinition": true,
	"PriorityClass": true, "StorageClass": true, "PersistentVolume": true, "Node": true,
	"MutatingWebhookConfiguration": true, "ValidatingWebhookConfiguration": true, "APIService": true,
	"ValidatingAdmissionPolicy": true, "ValidatingAdmissionPolicyBinding": true,
}

// kubeID is the Kubernetes provider's ID of an object: "<namespace>/<name>", or "<name>"
// for a cluster-scoped kind. A namespaced object without a namespace lands in
// "default", as the provider's kubeconfigs (with no namespace set) put it.
func kubeID(typ string, in map[string]any) string {
	meta, _ := in["metadata"].(map[string]any)
	name := plain(meta["name"])
	if name == "" {
		return ""
	}
	kind := typ[strings.LastIndex(typ, ":")+1:]
	if clusterScoped[kind] {
		return name
	}
	ns := plain(meta["namespace"])
	if ns == "" {
		ns = "default"
	}
	return ns + "/" + name
}
