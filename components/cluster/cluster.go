package cluster

import (
	"fmt"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the Pulumi type of the Cluster component.
const TypeToken = "flotilla:cluster:Cluster"

// backend builds one cloud's cluster. Each cloud's backend lives in its own file, beside
// the resources it registers.
type backend interface {
	// provision registers the cloud's resources as children of c and sets its outputs
	// (Name, Endpoint, Version, NodeVersion, AutoUpgrade, Kubeconfig, KubeProvider,
	// NodePoolVersion, Provider and the cloud's handle).
	provision(ctx *pulumi.Context, c *Cluster, s *spec) error
}

// New creates a managed Kubernetes cluster on args.Cloud, with its network, its system
// node pool and, on AWS and Azure, the cluster-autoscaler set up to try spot pools first.
//
// Resources use the cloud provider for args.Region passed in opts (pulumi.Provider or
// pulumi.Providers), or inherited from a parent; when there is none the cluster creates
// one. Args are validated first: every problem is reported at once, as an
// *InvalidArgsError, and nothing is registered.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*Cluster, error) {
	s, err := resolve(name, args)
	if err != nil {
		return nil, err
	}
	b, err := backendFor(s.cloud)
	if err != nil {
		return nil, fmt.Errorf("cluster %q: %w", name, err)
	}

	c := &Cluster{
		Cloud:                s.cloud,
		Region:               s.region,
		Zones:                s.zones,
		Tags:                 s.tags,
		MaxNodeProvisionTime: s.maxNodeProvisionTime,
		Prod:                 s.prod,
	}
	if err := ctx.RegisterComponentResource(TypeToken, name, c, opts...); err != nil {
		return nil, fmt.Errorf("cluster %q: %w", name, err)
	}
	if err := b.provision(ctx, c, s); err != nil {
		return nil, fmt.Errorf("cluster %q (%s/%s): %w", name, s.cloud, s.region, err)
	}
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"name":        c.Name,
		"endpoint":    c.Endpoint,
		"version":     c.Version,
		"nodeVersion": c.NodeVersion,
		"autoUpgrade": c.AutoUpgrade,
		"kubeconfig":  c.Kubeconfig,
	}); err != nil {
		return nil, fmt.Errorf("cluster %q: register outputs: %w", name, err)
	}
	return c, nil
}

func backendFor(cloud Cloud) (backend, error) {
	switch cloud {
	case AWS:
		return awsBackend{}, nil
	case GCP:
		return gcpBackend{}, nil
	case Azure:
		return azureBackend{}, nil
	case Sim:
		return newSimBackend()
	}
	return nil, fmt.Errorf("cloud %q: no backend", cloud)
}

// inheritedProvider returns the provider for pkg ("aws", "gcp", "azure-native") that c's
// children would inherit: one passed to New in opts, or one from c's parent.
func inheritedProvider(c *Cluster, pkg string) pulumi.ProviderResource {
	return c.GetProvider(pkg + ":index:Provider")
}

// autoscalerDuration formats the --max-node-provision-time flag: whole minutes as "5m".
func autoscalerDuration(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return d.String()
}

// MinorOf returns the Kubernetes minor of a version as the clouds report it: "1.31" from
// "1.31", "v1.31.4", "1.31.4-eks-1b3e656" or "1.31.2-gke.1059000".
func MinorOf(v string) string {
	v = strings.TrimPrefix(v, "v")
	parts := strings.SplitN(v, ".", 3)
	if len(parts) < 2 {
		return v
	}
	return parts[0] + "." + strings.TrimRightFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' })
}
