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
//     to Version outside release channels, with workload identity and a system pool. A
//     pool lagging its control plane runs the newest patch of NodeVersion GKE offers. The
//     kubeconfig runs gke-gcloud-auth-plugin.
//   - Azure: a resource group, a virtual network and node subnet, and an AKS cluster at
//     Version with a system-mode pool, Azure CNI overlay, a system-assigned identity and
//     an autoscaler profile whose expander is the priority expander.
//
// # Versions and upgrades
//
// Version is the control plane's Kubernetes minor and NodeVersion the minor of every
// node pool on the cluster: the system pool, and the spot pools and fallbacks of package
// spotpool, which take Cluster.NodePoolVersion. NodeVersion defaults to Version; it is
// never newer, and at most MaxNodeSkew minors older (3 on EKS and the simulator, 2 on
// GKE and AKS). Nodes at the control plane's minor follow its version output, so an
// update that moves both upgrades the control plane first.
//
// Flotilla owns upgrades, so no cloud moves a minor on its own: EKS clusters use the
// EXTENDED upgrade policy (no automatic upgrade at the end of standard support, at the
// price of extended support once a minor reaches it), GKE clusters are in no release
// channel and their node pools do not auto-upgrade (GKE still upgrades a minor at its
// end of life), and AKS clusters have the upgrade channel "none". Cluster.AutoUpgrade
// reads the setting back from the cluster's resource: AutoUpgradeNone, or what would
// compete with Flotilla. Node pools roll one node at a time: EKS node groups with one
// unavailable, GKE pools surging one node with none unavailable, AKS pools surging 33%.
//
// On AWS and Azure the cluster owns the priority expander's ConfigMap
// (PriorityExpanderConfigMap): it ranks every spot group above the system group, and the
// system group above every fallback group, by their names (see GroupName), so the spot
// pools of package spotpool share it. A pod aimed at a spot pool scales its spot group,
// then its fallback; any other pod scales the system pool, never a fallback.
//
// # Security defaults
//
// Checked before anything registers, a prod cluster (tag env=prod) on a cloud refuses a
// public endpoint open to anywhere unless API.AllowAnywhere says it is meant; the
// simulator's API servers listen on loopback only.
//
//	               EKS                        GKE                          AKS
//	policies       VPC CNI network policy     Dataplane V2                 Cilium
//	API endpoint   publicAccessCidrs/private  authorized networks/private  authorized ranges/private
//	Secrets key    encryptionConfig (KMS)     databaseEncryption (KMS)     Key Vault KMS
//	team sign-in   access entries (envset)    Google Groups for RBAC       Entra ID, Azure RBAC
//	kubeconfig     aws eks get-token          gke-gcloud-auth-plugin       kubelogin (Auth.Kubelogin)
//	local accounts -                          -                            off in prod
//	audit logs     every control-plane log    GKE's Cloud Audit Logs       diagnostic setting to Log Analytics
//	node creds     IMDS hop limit 1           workload identity            managed identity
//	prod           pulumi.Protect             Protect, deletionProtection  pulumi.Protect
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
