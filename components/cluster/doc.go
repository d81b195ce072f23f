// Package cluster is Flotilla's managed Kubernetes cluster: EKS on AWS, GKE on GCP and AKS
// on Azure behind one Args, each with its network, an on-demand system pool, and the
// cluster-autoscaler set to try spot capacity before on-demand.
//
//	c, err := cluster.New(ctx, "prod-eu", &cluster.Args{
//		Cloud:   cluster.AWS,
//		Region:  "eu-west-1",
//		Version: "1.31",
//		Tags:    costtags.Tags{"env": "prod", "team": "payments"},
//	})
//
// Each cloud gets:
//
//   - AWS: a VPC with public, private and pod subnets in every zone (the VPC CNI's custom
//     networking gives pods addresses from Network.PodCIDR), NAT, the cluster and node IAM
//     roles, an EKS cluster with every control-plane log, an on-demand system node group,
//     and cluster-autoscaler installed with Helm, using EKS Pod Identity, the priority
//     expander and balanced similar node groups. The kubeconfig runs `aws eks get-token`.
//   - GCP: a VPC-native network and subnetwork with pod and service ranges, Cloud NAT, a
//     node service account, and a regional GKE cluster without its default pool, pinned
//     to Version outside release channels, with workload identity and a system pool. The
//     kubeconfig runs gke-gcloud-auth-plugin.
//   - Azure: a resource group, a virtual network and node subnet, and an AKS cluster at
//     Version with a system-mode pool, Azure CNI overlay, a system-assigned identity and
//     an autoscaler profile whose expander is the priority expander.
//
// On AWS and Azure the cluster owns the priority expander's ConfigMap
// (PriorityExpanderConfigMap): it ranks every spot group above every fallback group by
// their names (see GroupName), so the spot pools of package spotpool share it.
//
// # The fallback delay is cluster-wide
//
// The autoscaler's --max-node-provision-time, how long it waits for a spot group to
// come up before it tries the next priority, is one flag per cluster on every cloud: it is
// Args.MaxNodeProvisionTime (5m when zero), not a per-pool setting.
//
// # Providers
//
// A cluster's cloud resources use the provider for its region passed in the options
// (pulumi.Provider or pulumi.Providers) or inherited from a parent, so that clusters in one
// region can share one; without one, the cluster creates it. Cluster.Provider is the
// provider used, and node pools on the cluster use it too.
package cluster
