package spotpool

import (
	"fmt"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/pulumi/pulumi-azure-native-sdk/containerservice/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// azureBackend makes a spot pool AKS user-mode agent pools, one per instance type since an
// agent pool has a single VM size: Spot pools that are deleted on eviction and pay up to
// the on-demand price, and regular fallback pools with a minimum of 0. The cluster's
// priority expander ranks them by name.
type azureBackend struct{}

func (azureBackend) provision(ctx *pulumi.Context, p *SpotNodePool, s *spec) (*groups, error) {
	g := &groups{}
	// AKS runs one operation per cluster at a time, so the pools are created in turn.
	var previous pulumi.Resource
	add := func(capacity cluster.Capacity, index int, vmSize string, min, max int) (pulumi.StringOutput, error) {
		ap, err := newAgentPool(ctx, p, s, capacity, index, vmSize, min, max, previous)
		if err != nil {
			return pulumi.StringOutput{}, err
		}
		previous = ap
		return ap.Name, nil
	}
	for i, typ := range s.instanceTypes {
		name, err := add(cluster.Spot, i, typ, firstMin(i, s.minSize), s.maxSize)
		if err != nil {
			return nil, err
		}
		g.spot = append(g.spot, name)
	}
	if s.fallback {
		for i, typ := range s.fallbackTypes {
			name, err := add(cluster.OnDemand, i, typ, 0, s.fallbackMax)
			if err != nil {
				return nil, err
			}
			g.fallback = append(g.fallback, name)
		}
	}
	return g, nil
}

// newAgentPool registers the agent pool of one capacity and VM size.
func newAgentPool(ctx *pulumi.Context, p *SpotNodePool, s *spec, capacity cluster.Capacity, index int, vmSize string, min, max int, after pulumi.Resource) (*containerservice.AgentPool, error) {
	aks := s.cluster.Azure
	name := fmt.Sprintf("%s%s-%d", s.name, capacityName(capacity), index)
	var taints []string
	for _, t := range s.taints(capacity) {
		taints = append(taints, toleration(t))
	}
	args := &containerservice.AgentPoolArgs{
		AgentPoolName:       pulumi.String(cluster.GroupName(cluster.Azure, s.name, capacity, index)),
		ResourceGroupName:   aks.ResourceGroup.Name,
		ResourceName:        aks.Cluster.Name,
		Mode:                pulumi.String("User"),
		Type:                pulumi.String("VirtualMachineScaleSets"),
		OsType:              pulumi.String("Linux"),
		VmSize:              pulumi.String(vmSize),
		OrchestratorVersion: aks.Cluster.KubernetesVersion,
		EnableAutoScaling:   pulumi.Bool(true),
		Count:               pulumi.Int(min),
		MinCount:            pulumi.Int(min),
		MaxCount:            pulumi.Int(max),
		AvailabilityZones:   pulumi.ToStringArray(s.zones),
		VnetSubnetID:        aks.Subnet.ID(),
		NodeLabels:          pulumi.ToStringMap(s.labels(capacity)),
		NodeTaints:          pulumi.ToStringArray(taints),
		Tags:                pulumi.ToStringMap(s.cloudTags),
	}
	if capacity == cluster.Spot {
		args.ScaleSetPriority = pulumi.String("Spot")
		args.ScaleSetEvictionPolicy = pulumi.String("Delete")
		args.SpotMaxPrice = pulumi.Float64(-1) // up to the on-demand price: evicted for capacity only
	} else {
		args.ScaleSetPriority = pulumi.String("Regular")
	}
	opts := append(cloudOpts(p, s), pulumi.IgnoreChanges([]string{"count"}))
	if after != nil {
		opts = append(opts, pulumi.DependsOn([]pulumi.Resource{after}))
	}
	ap, err := containerservice.NewAgentPool(ctx, name, args, opts...)
	if err != nil {
		return nil, fmt.Errorf("agent pool %q: %w", name, err)
	}
	return ap, nil
}
