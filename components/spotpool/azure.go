package spotpool

import (
	"fmt"
	"slices"

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
	// AKS runs one operation per cluster at a time, so the pools are created in turn, after
	// every agent pool registered on the cluster before them (by this pool or another):
	// the fallback pools first, then the spot pools, each of which also waits for every
	// fallback pool.
	var fallback []pulumi.Resource
	add := func(capacity cluster.Capacity, index int, vmSize string, min, max int) (*containerservice.AgentPool, error) {
		return s.cluster.Azure.AddAgentPool(func(last []pulumi.Resource) (*containerservice.AgentPool, error) {
			after := slices.Clone(fallback)
			for _, r := range last {
				if !slices.Contains(after, r) {
					after = append(after, r)
				}
			}
			return newAgentPool(ctx, p, s, capacity, index, vmSize, min, max, after)
		})
	}
	if s.fallback {
		for i, typ := range s.fallbackTypes {
			ap, err := add(cluster.OnDemand, i, typ, 0, s.fallbackMax)
			if err != nil {
				return nil, err
			}
			g.fallback = append(g.fallback, ap.Name)
			g.fallbackVersions = append(g.fallbackVersions, agentPoolVersion(ap))
			fallback = append(fallback, ap)
		}
	}
	for i, typ := range s.instanceTypes {
		ap, err := add(cluster.Spot, i, typ, firstMin(i, s.minSize), s.maxSize)
		if err != nil {
			return nil, err
		}
		g.spot = append(g.spot, ap.Name)
		g.spotVersions = append(g.spotVersions, agentPoolVersion(ap))
	}
	return g, nil
}

// agentPoolVersion is the version an agent pool runs: AKS's current version of the pool,
// or the version it was asked for while AKS reports none.
func agentPoolVersion(ap *containerservice.AgentPool) pulumi.StringOutput {
	return pulumi.All(ap.CurrentOrchestratorVersion, ap.OrchestratorVersion).ApplyT(func(v []any) string {
		if current, _ := v[0].(string); current != "" {
			return current
		}
		if asked, _ := v[1].(*string); asked != nil {
			return *asked
		}
		return ""
	}).(pulumi.StringOutput)
}

// newAgentPool registers the agent pool of one capacity and VM size, after the
// resources in after.
func newAgentPool(ctx *pulumi.Context, p *SpotNodePool, s *spec, capacity cluster.Capacity, index int, vmSize string, min, max int, after []pulumi.Resource) (*containerservice.AgentPool, error) {
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
		OrchestratorVersion: s.cluster.NodePoolVersion,
		UpgradeSettings:     cluster.AgentPoolUpgradeSettings(),
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
	// The agent pool's name is fixed (cluster.GroupName, within AKS's 12 characters), and a
	// change of VM size, zones or subnet replaces the pool: the old one goes first, since
	// AKS refuses a second pool of the same name on the cluster.
	opts := append(cloudOpts(p, s), pulumi.IgnoreChanges([]string{"count"}), pulumi.DependsOn(after), pulumi.DeleteBeforeReplace(true))
	ap, err := containerservice.NewAgentPool(ctx, name, args, opts...)
	if err != nil {
		return nil, fmt.Errorf("agent pool %q: %w", name, err)
	}
	return ap, nil
}
