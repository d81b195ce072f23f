package spotpool

import (
	"time"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Taint is a Kubernetes node taint; Effect is NoSchedule, PreferNoSchedule or NoExecute.
type Taint struct{ Key, Value, Effect string }

// Fallback is the on-demand capacity a spot pool falls back to when spot runs out.
type Fallback struct {
	// Disabled leaves the pool without a fallback: when spot runs out, it has no nodes.
	Disabled bool
	// InstanceTypes are the fallback's machine types; empty means the spot pool's.
	InstanceTypes []string
	// MaxSize bounds the fallback; 0 means the spot pool's MaxSize. Its minimum is always 0.
	MaxSize int
	// ProvisionTimeout is how long the autoscaler waits for spot before falling back. The
	// cluster-autoscaler has one such setting per cluster, cluster.Args.MaxNodeProvisionTime
	// (default 5m), and that is what applies: 0 here means the cluster's, and on AWS and
	// Azure a different value logs a warning that names the cluster-wide one. On GCP the
	// ComputeClass moves on as soon as GKE reports spot unavailable.
	ProvisionTimeout time.Duration
}

// Args configures a SpotNodePool.
//
// A spot pool cannot be a system pool: it may not be named cluster.SystemPoolName, carry
// AKS's system-mode label (kubernetes.azure.com/mode=system) or the CriticalAddonsOnly
// taint that keeps a system pool for add-ons.
type Args struct {
	Cluster *cluster.Cluster
	// InstanceTypes are the spot machine types: at least 2, and 4 or more is better, so
	// that one type's shortage leaves others to draw on. On GCP and Azure, where a node
	// pool has a single machine size, each type gets a pool of its own. On AWS every
	// type of one group has the same vCPUs, memory and architecture: the
	// cluster-autoscaler sizes an EKS node group by its first type.
	InstanceTypes []string
	// Zones are where the pool's nodes run; empty means the cluster's zones.
	Zones []string
	// MinSize and MaxSize bound the spot capacity. On GCP and Azure MinSize is held by the
	// first type's pool and MaxSize bounds each type's pool.
	MinSize, MaxSize int
	// Labels are added to the nodes of both the spot pool and the fallback.
	Labels map[string]string
	// Taints are added to the nodes of both the spot pool and the fallback.
	Taints   []Taint
	Fallback Fallback
	// Tags are cost tags merged over the cluster's; they reach the machines and disks.
	Tags costtags.Tags
}

// SpotNodePool is a spot node pool with an on-demand fallback, on one cluster.
type SpotNodePool struct {
	pulumi.ResourceState

	// SpotPoolName and FallbackPoolName are the cloud names of the first spot group and
	// the first fallback group (EKS node group, GKE node pool, AKS agent pool);
	// FallbackPoolName is empty when the fallback is disabled.
	SpotPoolName     pulumi.StringOutput `pulumi:"spotPoolName"`
	FallbackPoolName pulumi.StringOutput `pulumi:"fallbackPoolName"`
	// SpotPoolNames and FallbackPoolNames are every group, one per instance type on GCP
	// and Azure.
	SpotPoolNames     pulumi.StringArrayOutput `pulumi:"spotPoolNames"`
	FallbackPoolNames pulumi.StringArrayOutput `pulumi:"fallbackPoolNames"`
	// SpotVersion and FallbackVersion are the Kubernetes minors the spot groups and the
	// fallback groups run, read from their resources (the oldest when groups differ);
	// FallbackVersion is empty when the fallback is disabled. Every group runs the
	// cluster's node version (cluster.Args.NodeVersion).
	SpotVersion     pulumi.StringOutput `pulumi:"spotVersion"`
	FallbackVersion pulumi.StringOutput `pulumi:"fallbackVersion"`
	// NodeSelector is what a workload sets to land on this pool, spot or fallback.
	NodeSelector pulumi.StringMapOutput `pulumi:"nodeSelector"`
	// Tolerations are the "key=value:Effect" tolerations a workload needs to run on spot.
	Tolerations pulumi.StringArrayOutput `pulumi:"tolerations"`
	// HourlyCost is what the pool's ready nodes cost per hour in US dollars, as the
	// simulator prices them; on the real clouds it is 0 and cost reaches the billing
	// reports through the cost tags.
	HourlyCost pulumi.Float64Output `pulumi:"hourlyCost"`
}
