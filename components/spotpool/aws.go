package spotpool

import (
	"fmt"
	"slices"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// eksCapacityTypes are the EKS capacity types of Flotilla's capacities.
var eksCapacityTypes = map[cluster.Capacity]string{cluster.Spot: "SPOT", cluster.OnDemand: "ON_DEMAND"}

// awsBackend makes a spot pool two EKS managed node groups: one SPOT group with every
// instance type, and an ON_DEMAND fallback with a minimum of 0. The cluster's priority
// expander ranks them by name.
type awsBackend struct{}

func (awsBackend) provision(ctx *pulumi.Context, p *SpotNodePool, s *spec) (*groups, error) {
	g := &groups{}
	var fallback []pulumi.Resource
	if s.fallback {
		fb, err := newNodeGroup(ctx, p, s, cluster.OnDemand, s.fallbackTypes, 0, s.fallbackMax, nil)
		if err != nil {
			return nil, err
		}
		g.fallback = append(g.fallback, fb.NodeGroupName)
		g.fallbackVersions = append(g.fallbackVersions, fb.Version)
		fallback = append(fallback, fb)
	}
	spot, err := newNodeGroup(ctx, p, s, cluster.Spot, s.instanceTypes, s.minSize, s.maxSize, fallback)
	if err != nil {
		return nil, err
	}
	g.spot = append(g.spot, spot.NodeGroupName)
	g.spotVersions = append(g.spotVersions, spot.Version)
	return g, nil
}

// newNodeGroup registers one capacity's launch template and managed node group, after
// the resources in after. The launch template carries the cost tags to instances and
// volumes, which EKS does not do from the node group's own tags.
func newNodeGroup(ctx *pulumi.Context, p *SpotNodePool, s *spec, capacity cluster.Capacity, types []string, min, max int, after []pulumi.Resource) (*eks.NodeGroup, error) {
	a := s.cluster.AWS
	opts := cloudOpts(p, s)
	name := s.name + capacityName(capacity)

	lt, err := a.NodeLaunchTemplate(ctx, name, s.cloudTags, opts...)
	if err != nil {
		return nil, err
	}
	subnets := make(pulumi.StringArray, len(s.zones))
	for i, z := range s.zones {
		subnets[i] = a.PrivateSubnetIDs[z].ToStringOutput()
	}
	var taints eks.NodeGroupTaintArray
	for _, t := range s.taints(capacity) {
		taints = append(taints, &eks.NodeGroupTaintArgs{
			Key:    pulumi.String(t.Key),
			Value:  pulumi.String(t.Value),
			Effect: pulumi.String(apiEffect(t.Effect)),
		})
	}
	ng, err := eks.NewNodeGroup(ctx, name, &eks.NodeGroupArgs{
		ClusterName:   a.Cluster.Name,
		NodeGroupName: pulumi.String(cluster.GroupName(cluster.AWS, s.name, capacity, 0)),
		NodeRoleArn:   a.NodeRole.Arn,
		SubnetIds:     subnets,
		Version:       s.cluster.NodePoolVersion,
		CapacityType:  pulumi.String(eksCapacityTypes[capacity]),
		InstanceTypes: pulumi.ToStringArray(types),
		ScalingConfig: &eks.NodeGroupScalingConfigArgs{
			MinSize:     pulumi.Int(min),
			MaxSize:     pulumi.Int(max),
			DesiredSize: pulumi.Int(min),
		},
		Labels:         pulumi.ToStringMap(s.labels(capacity)),
		Taints:         taints,
		LaunchTemplate: cluster.NodeGroupLaunchTemplate(lt),
		UpdateConfig:   cluster.NodeGroupUpdateConfig(),
		Tags:           pulumi.ToStringMap(s.cloudTags),
	}, append(opts,
		pulumi.DependsOn(append(slices.Clone(a.NodeDependencies), after...)),
		// The autoscaler owns the group's size once it exists.
		pulumi.IgnoreChanges([]string{"scalingConfig.desiredSize"}),
		// The group keeps its name, which the priority expander matches.
		cluster.NodeGroupReplacement(),
	)...)
	if err != nil {
		return nil, fmt.Errorf("node group %q: %w", name, err)
	}
	return ng, nil
}

// apiEffect spells a Kubernetes taint effect the way the EKS and GKE APIs do.
func apiEffect(effect string) string {
	switch effect {
	case "NoExecute":
		return "NO_EXECUTE"
	case "PreferNoSchedule":
		return "PREFER_NO_SCHEDULE"
	}
	return "NO_SCHEDULE"
}
