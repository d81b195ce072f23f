// Package geofleet places one environment's Kubernetes clusters across clouds and
// regions: it plans every cluster's network from the environment's address space,
// creates one cloud provider per cloud and region, and builds each cluster with its
// spot pools.
//
//	fleet, err := geofleet.New(ctx, "prod", &geofleet.Args{
//		Environment:  "prod",
//		Version:      "1.31",
//		AddressSpace: "10.32.0.0/11",
//		Clusters: []geofleet.ClusterSpec{
//			{Cloud: cluster.AWS, Region: "us-east-1", SpotPools: []geofleet.SpotPoolSpec{
//				{Name: "batch", InstanceTypes: []string{"m6i.large", "m6a.large", "m5.large", "m7i.large"}, MaxSize: 20},
//			}},
//			{Cloud: cluster.GCP, Region: "europe-west1"},
//		},
//		Previous: previousPlan, // the plan the stack keeps in its config
//		Tags:     costtags.Tags{"team": "platform"},
//	})
//
// Version is the control planes' Kubernetes minor and NodeVersion their node pools'
// (empty: each cluster's control-plane minor); a ClusterSpec may set either for its own
// cluster. A node version is checked against its control plane before anything is
// registered: never newer, and at most cluster.MaxNodeSkew minors older.
//
// # Address plan
//
// PlanNetworks gives each cluster the same slot on every cloud, carved from the
// environment's AddressSpace, which must lie in RFC 1918 space (EKS takes service
// ranges only from there, and all three ranges come from the one block):
//
//   - a /20 VPC range for nodes (4,096 addresses). On AWS the cluster splits it into a
//     /23 private subnet per zone (up to 7 zones, 510 nodes each) and /26 public subnets
//     for load balancers and NAT; on GCP it is the subnetwork's primary range (4,092
//     nodes); on Azure the VNet, whose first half is the node subnet (2,043 nodes).
//     Pods do not take node-subnet addresses on any cloud, so nodes alone size it.
//   - a /16 pod range (65,536 addresses), the largest secondary CIDR block an AWS VPC
//     accepts. EKS's VPC CNI custom networking splits it into a /19 pod subnet per
//     zone (8,190 pods each). GKE (secondary range) and AKS (Azure CNI overlay) hand
//     each node a /24 at their default 110 pods per node, so a planned cluster reaches
//     256 nodes there; a cluster that must grow past that gets an explicit Network.
//   - a /20 service range (4,096 ClusterIPs): GKE's own default size, and inside the
//     /12 to /24 that EKS and AKS accept.
//
// One size for every cloud keeps an address space's capacity a single number: a slot
// is 73,728 addresses, and slots pack without gaps (the /20s of eight clusters fill one
// /16), so a /15 holds 1 cluster, a /14 3, a /13 7, a /12 14, a /11 28 and a /10 56.
// Blocks that contain reserved ranges (below) hold less: 10.0.0.0/8 holds 224,
// 10.128.0.0/9 112 and 172.16.0.0/12 12.
//
// No range overlaps another, within a cluster or across the fleet, nor any of these
// defaults, on any cloud (a fleet's clusters are often peered, and one cloud's harmless
// range is another's default): 172.17.0.0/16 (Docker's bridge), 10.100.0.0/16 and
// 172.20.0.0/16 (EKS's default service ranges), 34.118.224.0/20 (GKE's), 10.0.0.0/16
// (AKS's), 10.244.0.0/16 (the AKS kubenet and overlay pod default) and 169.254.0.0/16
// (link-local, where instance metadata lives).
//
// # Stability
//
// No cloud can change a cluster's service range without replacing the cluster, so a
// plan never moves a range once it is in use. PlanNetworks takes the previous plan:
// every cluster in it keeps its ranges exactly (they are checked, not trusted: a range
// that overlaps another or lies outside the space is an error naming both), and new
// clusters take the lowest free slots in order of name. A cluster's ranges therefore
// depend on its own name and the previous plan only, and adding or removing other
// clusters never changes them. An explicit ClusterSpec.Network wins over both, may lie
// outside the address space, and is checked like the rest. A removed cluster's ranges
// are not handed out in the same plan: Pulumi creates new clusters before it deletes
// old ones, so they would briefly share addresses.
//
// The stacks keep the plan in their stack configuration and pass it as Args.Previous,
// and export GeoFleet.Networks. Keeping it in the stack file, under version control,
// means that a new cluster's ranges show up in review and that losing or recreating the
// state never renumbers the fleet. Drop a removed cluster's entry only after the update
// that deleted it.
//
// A fleet that does not fit is an *ExhaustedError (see IsExhausted), which says how
// many clusters the space fits and how big a block the fleet needs:
//
//	address space "10.32.0.0/16" fits 0 clusters; 3 clusters need at least a /14
//
// # Providers
//
// New creates one provider per cloud and region (aws with its region, gcp with its
// region and the stack's gcp:project, azure-native with its location and the stack's
// azure-native:subscriptionId, fleetsim for the simulator), and every cluster there,
// and its spot pools, use it.
package geofleet
