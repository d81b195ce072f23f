package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
)

// KubeSetting is the stack configuration key that says a program's simulator mode:
// "off" runs the stack's clusters lite, anything else (or nothing) in kube mode.
const KubeSetting = "fleetsim:kube"

// kubeEnv is the daemon's environment variable that starts it lite.
const kubeEnv = "FLEETSIM_KUBE"

// planeWait bounds how long an update that gives a lite cluster its control plane waits
// for the daemon to start it.
const planeWait = 3 * time.Minute

// hasPlane reports whether a cluster's state says it has a Kubernetes control plane, or
// that the program last asked for one: its outputs' kubeVersion is set (which covers
// states written before the kube input existed), or its last inputs had kube true.
func hasPlane(olds, oldInputs resource.PropertyMap) bool {
	if v := unwrap(olds["kubeVersion"]); v.IsString() && v.StringValue() != "" {
		return true
	}
	v := unwrap(oldInputs["kube"])
	return v.IsBool() && v.BoolValue()
}

// refuseLite refuses a program that runs lite a cluster that has a control plane. A
// lite program builds nothing on the cluster's Kubernetes API, so the engine would
// delete every in-cluster resource of the stack once the program ends. The error comes
// from Diff, which the engine calls before it registers the cluster: the program then
// fails, and the engine deletes nothing, because it deletes resources the program no
// longer registers only after a program that succeeded.
func refuseLite(name string, olds, oldInputs resource.PropertyMap, newIn inputs) error {
	lite := newIn.kube()
	if lite == nil || *lite || !hasPlane(olds, oldInputs) {
		return nil
	}
	return fmt.Errorf("cluster %q has a Kubernetes control plane, but the program now runs it lite "+
		"(stack config %s is \"off\"): going on would delete every resource the stack deployed "+
		"in the cluster (namespaces, RBAC, resource quotas, network policies, the priority "+
		"expander's ConfigMap). Nothing was changed. To keep them, run the stack in kube mode: "+
		"`pulumi config rm %s` (or set it to \"on\"), with a fleetsim daemon started without "+
		"%s=off. To run the stack lite anyway, destroy it first (`pulumi destroy`) and deploy it again",
		name, KubeSetting, KubeSetting, kubeEnv)
}

// liteDaemonError is the refusal of a program that asks for a control plane from a
// daemon that runs lite, where the cluster would have no Kubernetes API to deploy to.
func liteDaemonError(name string, h cloud.Health) error {
	return fmt.Errorf("cluster %q asks for a Kubernetes control plane (stack config %s is not \"off\"), "+
		"but the fleetsim daemon at %s (home %s) runs lite: it was started with %s=off. Either run "+
		"the stack lite (`pulumi config set %s off`), or restart the daemon in kube mode "+
		"(`flotilla sim stop`, then start it without %s=off)",
		name, KubeSetting, h.Addr, h.Home, kubeEnv, KubeSetting, kubeEnv)
}

// daemonHealth returns the daemon's description, asked once per provider: its mode
// cannot change while it runs.
func (p *Provider) daemonHealth(ctx context.Context, c *client.Client) (cloud.Health, error) {
	p.mu.Lock()
	h, ok := p.health, p.healthKnown
	p.mu.Unlock()
	if ok {
		return h, nil
	}
	h, err := c.Health(ctx)
	if err != nil {
		return cloud.Health{}, err
	}
	p.mu.Lock()
	p.health, p.healthKnown = h, true
	p.mu.Unlock()
	return h, nil
}

// refuseLiteDaemon refuses a cluster whose program asks for a control plane (kube true)
// when the daemon runs lite.
func (p *Provider) refuseLiteDaemon(ctx context.Context, c *client.Client, name string, in inputs) error {
	if kube := in.kube(); kube == nil || !*kube {
		return nil
	}
	h, err := p.daemonHealth(ctx, c)
	if err != nil {
		return fmt.Errorf("fleetsim daemon: %w", err)
	}
	if h.Kube == "off" {
		return liteDaemonError(name, h)
	}
	return nil
}

// gainsPlane reports whether an update gives a cluster without a control plane the one
// its program asks for: the daemon starts it, and the cluster's endpoint, kubeconfig and
// kubeVersion change.
func gainsPlane(olds resource.PropertyMap, newIn inputs) bool {
	kube := newIn.kube()
	v := unwrap(olds["kubeVersion"])
	return kube != nil && *kube && (!v.IsString() || v.StringValue() == "")
}

// waitPlane waits until the daemon has started the cluster's control plane.
func waitPlane(ctx context.Context, c *client.Client, cl *cloud.Cluster) (*cloud.Cluster, error) {
	ctx, cancel := context.WithTimeout(ctx, planeWait)
	defer cancel()
	for cl.KubeVersion == "" {
		if cl.PlaneError != "" {
			return nil, fmt.Errorf("cluster %q: the control plane did not start: %s", cl.Name, cl.PlaneError)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("cluster %q: waiting for its control plane: %w", cl.Name, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
		var err error
		if cl, err = c.GetCluster(ctx, cl.ID); err != nil {
			return nil, err
		}
	}
	return cl, nil
}
