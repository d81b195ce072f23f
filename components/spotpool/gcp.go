package spotpool

import (
	"fmt"
	"slices"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/container"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apiextensions"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// gcpBackend makes a spot pool GKE node pools, one per instance type since a node pool has
// a single machine type: spot pools, and non-spot fallback pools with a minimum of 0. A
// ComputeClass ranks the spot pools first and the fallback second, and its active
// migration moves workloads back to spot when spot returns.
type gcpBackend struct{}

func (gcpBackend) provision(ctx *pulumi.Context, p *SpotNodePool, s *spec) (*groups, error) {
	g := &groups{}
	var fallback []pulumi.Resource
	if s.fallback {
		for i, typ := range s.fallbackTypes {
			np, err := newNodePool(ctx, p, s, cluster.OnDemand, i, typ, 0, s.fallbackMax, nil)
			if err != nil {
				return nil, err
			}
			g.fallback = append(g.fallback, np.Name)
			g.fallbackVersions = append(g.fallbackVersions, np.Version)
			fallback = append(fallback, np)
		}
	}
	pools := slices.Clone(fallback)
	for i, typ := range s.instanceTypes {
		np, err := newNodePool(ctx, p, s, cluster.Spot, i, typ, firstMin(i, s.minSize), s.maxSize, fallback)
		if err != nil {
			return nil, err
		}
		g.spot = append(g.spot, np.Name)
		g.spotVersions = append(g.spotVersions, np.Version)
		pools = append(pools, np)
	}

	priorities := pulumi.Array{pulumi.Map{"nodepools": names(g.spot)}}
	if s.fallback {
		priorities = append(priorities, pulumi.Map{"nodepools": names(g.fallback)})
	}
	_, err := apiextensions.NewCustomResource(ctx, s.name+"-class", &apiextensions.CustomResourceArgs{
		ApiVersion: pulumi.String("cloud.google.com/v1"),
		Kind:       pulumi.String("ComputeClass"),
		Metadata: &metav1.ObjectMetaArgs{
			Name:   pulumi.String(s.className),
			Labels: pulumi.ToStringMap(s.kubeLabels),
		},
		OtherFields: kubernetes.UntypedArgs{"spec": pulumi.Map{
			"priorities":           priorities,
			"activeMigration":      pulumi.Map{"optimizeRulePriority": pulumi.Bool(true)},
			"nodePoolAutoCreation": pulumi.Map{"enabled": pulumi.Bool(false)},
			"whenUnsatisfiable":    pulumi.String("DoNotScaleUp"),
		}},
	}, pulumi.Parent(p), pulumi.Provider(s.cluster.KubeProvider), pulumi.DependsOn(pools))
	if err != nil {
		return nil, fmt.Errorf("compute class: %w", err)
	}
	return g, nil
}

// newNodePool registers the node pool of one capacity and instance type, after the
// resources in after.
func newNodePool(ctx *pulumi.Context, p *SpotNodePool, s *spec, capacity cluster.Capacity, index int, machineType string, min, max int, after []pulumi.Resource) (*container.NodePool, error) {
	gke := s.cluster.GCP
	name := fmt.Sprintf("%s%s-%d", s.name, capacityName(capacity), index)
	var taints container.NodePoolNodeConfigTaintArray
	for _, t := range s.taints(capacity) {
		taints = append(taints, &container.NodePoolNodeConfigTaintArgs{
			Key:    pulumi.String(t.Key),
			Value:  pulumi.String(t.Value),
			Effect: pulumi.String(apiEffect(t.Effect)),
		})
	}
	// Spot takes whichever zone has capacity; the fallback keeps zones balanced.
	locationPolicy := "BALANCED"
	if capacity == cluster.Spot {
		locationPolicy = "ANY"
	}
	np, err := container.NewNodePool(ctx, name, &container.NodePoolArgs{
		Name:             pulumi.String(cluster.GroupName(cluster.GCP, s.name, capacity, index)),
		Cluster:          gke.Cluster.Name,
		Location:         pulumi.String(s.cluster.Region),
		NodeLocations:    pulumi.ToStringArray(s.zones),
		Version:          s.cluster.NodePoolVersion,
		InitialNodeCount: pulumi.Int((min + len(s.zones) - 1) / len(s.zones)),
		Autoscaling: &container.NodePoolAutoscalingArgs{
			TotalMinNodeCount: pulumi.Int(min),
			TotalMaxNodeCount: pulumi.Int(max),
			LocationPolicy:    pulumi.String(locationPolicy),
		},
		Management:      cluster.NodePoolManagement(),
		UpgradeSettings: cluster.NodePoolUpgradeSettings(),
		NodeConfig: &container.NodePoolNodeConfigArgs{
			MachineType:            pulumi.String(machineType),
			Spot:                   pulumi.Bool(capacity == cluster.Spot),
			ServiceAccount:         gke.NodeServiceAccount.Email,
			OauthScopes:            pulumi.StringArray{pulumi.String(cloudPlatformScope)},
			Labels:                 pulumi.ToStringMap(s.labels(capacity)),
			Taints:                 taints,
			ResourceLabels:         pulumi.ToStringMap(s.cloudTags),
			WorkloadMetadataConfig: &container.NodePoolNodeConfigWorkloadMetadataConfigArgs{Mode: pulumi.String("GKE_METADATA")},
		},
	}, append(cloudOpts(p, s), pulumi.DependsOn(after), cluster.NodePoolReplacement(), pulumi.IgnoreChanges([]string{"initialNodeCount", "nodeCount"}))...)
	if err != nil {
		return nil, fmt.Errorf("node pool %q: %w", name, err)
	}
	return np, nil
}

// firstMin gives the pool's minimum to its first (preferred) instance type's group.
func firstMin(index, min int) int {
	if index == 0 {
		return min
	}
	return 0
}
