// Package stacks is Flotilla's own Pulumi project: the stacks of every environment, each
// configured by stacks/Pulumi.<stack>.yaml under the flotilla: namespace, all sharing the
// promotion order in stacks/environments.yaml.
//
// An environment has one or more stacks, listed in stacks/environments.yaml in waves
// that roll out in order; an environment that lists none has one stack named after it.
// The shipped fleet:
//
//	dev       Pulumi.dev.yaml          sim-east-1
//	staging   Pulumi.staging.yaml      sim-east-1, sim-west-1
//	prod      wave 1: Pulumi.prod-canary.yaml  sim-west-1
//	          wave 2: Pulumi.prod-east.yaml    sim-east-1
//	                  Pulumi.prod-eu.yaml      sim-eu-1
//
// Each stack file names its environment in flotilla:environment, and the deploy program
// refuses a file whose environment is not the one that lists it, and a file no
// environment lists. The stacks of one environment share its address space, so their
// network plans are checked together: no two of them may overlap or reuse a cluster name.
//
// Program is a pulumi.RunFunc. cmd/stack runs it for `pulumi up -s <stack>`, and the
// deploy program runs it inline through the automation API:
//
//	pulumi.Run(stacks.Program)
//
// # Configuration
//
//	flotilla:environment   the environment that lists this stack (dev, staging, prod)
//	flotilla:version       the control planes' Kubernetes minor, e.g. "1.31"
//	flotilla:nodeVersion   the node pools' Kubernetes minor; default: each cluster's
//	                       control-plane minor
//	flotilla:addressSpace  the environment's block that cluster networks come from
//	flotilla:tags          cost tags (team, cost-center, ...); env is set for you
//	flotilla:clusters      the clusters: name, cloud, region, zones, version,
//	                       nodeVersion, systemPool, spotPools (with fallback), and
//	                       on the clouds api {allowedCIDRs, allowAnywhere, private},
//	                       secretsKey, auditLogWorkspace (AKS)
//	flotilla:teams         teams, their namespaces, access and podSecurity per
//	                       environment, and identity {awsRoleARNs, googleGroup,
//	                       entraGroupID}
//	flotilla:auth          sign-in: googleSecurityGroup (GKE), entraTenantID,
//	                       entraAdminGroupIDs, kubelogin (AKS)
//	flotilla:networks      the network plan in use, by cluster name
//
// # Accounts
//
// Each cloud's providers are pinned to the environment's account there
// (stacks/environments.yaml: account, or accounts {aws, gcp, azure} per cloud): AWS's
// allowedAccountIds, the GCP project, the Azure subscription. The stack's own aws:profile,
// aws:assumeRole, gcp:project and azure-native:subscriptionId reach the fleet's
// providers, and a stack whose settings name another account (prod's stack with dev's
// account id) is refused before anything registers.
//
// # Versions
//
// A cluster's control plane runs its own version, else flotilla:version; its node pools
// (the system pool, every spot pool and its fallback) run its own nodeVersion, else
// flotilla:nodeVersion, else the control plane's minor. A stack without nodeVersion
// keys therefore runs its nodes at their control plane's minor, as it always did. Every
// version is a MAJOR.MINOR minor that the cluster's region offers (where the offers are
// known: the simulator's), and nodes are never newer than their control plane and at
// most cluster.MaxNodeSkew minors older (3 on EKS and the simulator, 2 on GKE and AKS;
// https://kubernetes.io/releases/version-skew-policy/#kubelet); a mistake names its key.
//
// The stack files are the record of the versions: an upgrade writes each step's
// versions into stacks/Pulumi.<stack>.yaml with WriteVersions, which rewrites only the
// version keys, in their minimal form, and keeps every other byte; ReadVersions gives
// each cluster's versions as the program resolves them.
//
// The stack exports, besides endpoints, versions (control planes), kubeconfigs, networks
// and hourlyCost: clusters, each cluster's name in its cloud, cloud, region and
// autoUpgrade ("none" when only Flotilla upgrades its minor), and pools, each cluster's
// node pools with name, label, capacityType, minSize, maxSize, version (the minor the
// pool runs, read from its resource) and, for a fallback, fallbackFor.
//
// # The network plan lives in stack configuration
//
// A cluster's service range cannot change without replacing the cluster, on every cloud,
// so the plan must never move. The stacks keep it in flotilla:networks: ranges listed
// there are passed to geofleet as the previous plan and never change. A cluster added
// to flotilla:clusters without ranges gets the lowest free ones, and the stack exports
// the whole plan as the `networks` output; copy the new cluster's entry into
// flotilla:networks so that the plan is
// reviewed in the same change as the cluster. Stack configuration was chosen over
// reading the stack's own last outputs because it is visible in review, survives a
// destroyed state, and needs no access to the backend at plan time.
//
// A stack plans only its own clusters, so in an environment of several stacks a new
// cluster's lowest free ranges may be another stack's. Pre-flight plans every stack of
// the environment and refuses the overlap before anything changes; pin the new
// cluster's ranges in flotilla:networks, clear of the other stacks' ranges.
package stacks
