package cluster

import (
	"fmt"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	fleetsim "github.com/flotilla-io/flotilla/internal/fleetsim/sdk"
)

// simSystemType is the system pool's machine type on the simulator when
// SystemPool.InstanceType is empty: 2 vCPUs and 8 GiB, like the other clouds' defaults.
const simSystemType = "sim.medium"

// simNameMax is the longest cluster or node pool name the simulator accepts.
const simNameMax = 40

// simBackend builds a cluster on fleetsim, Flotilla's local simulator: a fleetsim Cluster
// and an on-demand system NodePool, on the fleetsim provider for the region.
//
// The simulator plays the cluster-autoscaler itself (a spot pool's fallback takes over
// after the spot pool's provision timeout, which spotpool sets from the cluster's
// MaxNodeProvisionTime), so no autoscaler is installed. In kube mode, the default, every
// simulated cluster has a real local control plane: KubeProvider is built from the
// cluster's kubeconfig and the priority expander's ConfigMap records the same ranking
// as on AWS and Azure. In lite mode (Args.SimLite) the cluster has no Kubernetes API, its
// kubeconfig reaches nothing, and KubeProvider is nil. The mode is the caller's explicit
// choice, never the environment's or the stack config's: the fleetsim Cluster records it
// as its kube input, and the simulator refuses a lite program over a cluster that has a
// control plane (which would delete everything the stack deployed in it), and a kube
// program from a daemon started lite.
type simBackend struct{}

// checkSimLite checks Args.SimLite: lite mode is the simulator's only.
func checkSimLite(args *Args, errs *problems) bool {
	if args.SimLite && args.Cloud != Sim {
		errs.add("SimLite is set, but Cloud is %q: lite mode (no Kubernetes API) is the simulator's; leave SimLite false off Cloud %q", args.Cloud, Sim)
		return false
	}
	return args.SimLite
}

func newSimBackend() (backend, error) { return simBackend{}, nil }

func (simBackend) provision(ctx *pulumi.Context, c *Cluster, s *spec) error {
	p := inheritedProvider(c, "fleetsim")
	if p == nil {
		created, err := fleetsim.NewProvider(ctx, s.name+"-provider", &fleetsim.ProviderArgs{}, pulumi.Parent(c))
		if err != nil {
			return fmt.Errorf("provider: %w", err)
		}
		p = created
	}
	c.Provider = p
	opts := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Provider(p)}

	cl, err := fleetsim.NewCluster(ctx, s.name+"-cluster", &fleetsim.ClusterArgs{
		Name:        pulumi.String(dnsLabel(s.name, simNameMax)),
		Region:      pulumi.String(s.region),
		Zones:       pulumi.ToStringArray(s.zones),
		Version:     pulumi.String(s.version),
		VpcCidr:     pulumi.String(s.network.VPCCIDR),
		PodCidr:     pulumi.String(s.network.PodCIDR),
		ServiceCidr: pulumi.String(s.network.ServiceCIDR),
		// The simulator takes tags in the Kubernetes label form, as costtags gives it.
		Tags: pulumi.ToStringMap(s.kubeLabels),
		Kube: pulumi.Bool(!s.simLite),
	}, opts...)
	if err != nil {
		return fmt.Errorf("fleetsim cluster: %w", err)
	}

	// The pools follow their control plane through upgrades, as on the clouds, unless
	// the nodes run an older minor of their own.
	c.NodePoolVersion = cl.Version
	if s.nodeVersion != s.version {
		c.NodePoolVersion = pulumi.String(s.nodeVersion)
	}
	systemType := s.system.InstanceType
	if systemType == "" {
		systemType = simSystemType
	}
	system, err := fleetsim.NewNodePool(ctx, s.name+"-system", &fleetsim.NodePoolArgs{
		Name:          pulumi.String(SystemPoolName),
		Cluster:       cl.ID().ToStringOutput(),
		CapacityType:  pulumi.String(string(OnDemand)),
		InstanceTypes: pulumi.StringArray{pulumi.String(systemType)},
		Zones:         pulumi.ToStringArray(s.zones),
		MinSize:       pulumi.Int(s.system.MinSize),
		MaxSize:       pulumi.Int(s.system.MaxSize),
		DesiredSize:   pulumi.Int(s.system.MinSize),
		Version:       c.NodePoolVersion,
		Labels:        pulumi.ToStringMap(systemLabels()),
		Tags:          pulumi.ToStringMap(s.kubeLabels),
	}, append(opts,
		// The autoscaler owns the pool's size once it exists.
		pulumi.IgnoreChanges([]string{"desiredSize"}),
	)...)
	if err != nil {
		return fmt.Errorf("system node pool: %w", err)
	}

	c.Name = cl.Name
	c.Endpoint = cl.Endpoint
	c.Version = cl.Version
	c.NodeVersion = system.Version
	// The simulated cloud upgrades nothing on its own.
	c.AutoUpgrade = pulumi.String(AutoUpgradeNone).ToStringOutput()
	c.Kubeconfig = pulumi.ToSecret(cl.Kubeconfig).(pulumi.StringOutput)
	if s.simLite {
		return nil
	}
	if c.KubeProvider, err = kubernetes.NewProvider(ctx, s.name+"-k8s", &kubernetes.ProviderArgs{
		Kubeconfig: c.Kubeconfig,
	}, pulumi.Parent(c)); err != nil {
		return fmt.Errorf("kubernetes provider: %w", err)
	}
	if _, err := newPriorityExpander(ctx, c, s); err != nil {
		return err
	}
	return nil
}
