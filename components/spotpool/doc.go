// Package spotpool is Flotilla's SpotNodePool: a node pool on spot capacity that falls
// back to on-demand capacity when spot runs out, and returns to spot when it comes back,
// with one API on AWS, GCP and Azure.
//
//	pool, err := spotpool.New(ctx, "batch", &spotpool.Args{
//		Cluster:       c, // from cluster.New
//		InstanceTypes: []string{"m6i.xlarge", "m6a.xlarge", "m5.xlarge", "m7i.xlarge"},
//		MinSize:       0,
//		MaxSize:       20,
//		Tags:          costtags.Tags{"team": "data"},
//	})
//	// Workloads set pool.NodeSelector and tolerate pool.Tolerations.
//
// Every node carries flotilla.io/pool=<name>. Spot nodes carry flotilla.io/capacity=spot
// and the taint flotilla.io/capacity=spot:NoSchedule, fallback nodes
// flotilla.io/capacity=on-demand, so a workload that selects the pool and tolerates the
// taint runs on spot while it exists and on the fallback otherwise.
//
//   - AWS: an EKS managed node group with capacity type SPOT and every instance type, and
//     an ON_DEMAND fallback group with a minimum of 0. Both launch from launch templates
//     whose tag specifications carry the cost tags to instances and volumes, since EKS
//     does not (pulumi-eks#635). The cluster's priority-expander ConfigMap ranks spot
//     above the fallback by the groups' names (cluster.GroupName). A group's instance
//     types (the spot pool's, and the fallback's) must share vCPUs, memory and
//     architecture: mixed shapes are refused, and a type outside Flotilla's EC2 table
//     gets a warning.
//   - GCP: one GKE node pool per instance type with spot: true, autoscaling and the taint,
//     and non-spot fallback pools with a minimum of 0, all labelled with the cost tags. A
//     cloud.google.com/v1 ComputeClass ranks the spot pools first and the fallback second,
//     with activeMigration.optimizeRulePriority, which moves workloads back to spot when it
//     returns; the pools carry the class's label and taint, and NodeSelector selects it.
//   - Azure: one user-mode agent pool per VM size with scaleSetPriority Spot,
//     scaleSetEvictionPolicy Delete and spotMaxPrice -1, which also declares AKS's own
//     taint kubernetes.azure.com/scalesetpriority=spot:NoSchedule, and regular fallback
//     pools with a minimum of 0, all tagged with the cost tags. The cluster's priority
//     expander ranks spot above the fallback.
//
// # Versions and upgrades
//
// Every group of a pool, spot and fallback, runs its cluster's node version
// (cluster.Args.NodeVersion, the control plane's by default) and rolls its nodes the
// way the cluster's system pool does. The fallback groups are registered first and every
// spot group depends on them (pulumi.DependsOn), so one update that upgrades both
// upgrades the fallback first, and spot only once the fallback's update has finished:
// the fallback's capacity is there while spot nodes roll. SpotVersion and
// FallbackVersion are the minors the groups run, read from their resources.
//
// # The fallback delay
//
// How long the autoscaler waits for spot before it tries the fallback is the
// cluster-autoscaler's --max-node-provision-time, one flag per cluster: it is
// cluster.Args.MaxNodeProvisionTime (5m by default). Fallback.ProvisionTimeout cannot
// change it for one pool; when it differs from the cluster's, New logs a warning that
// names the value that applies.
package spotpool
