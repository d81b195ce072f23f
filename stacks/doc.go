// Package stacks is Flotilla's own Pulumi project: one stack per environment, each
// configured by stacks/Pulumi.<env>.yaml under the flotilla: namespace, all sharing the
// promotion order in stacks/environments.yaml.
//
// Program is a pulumi.RunFunc. cmd/stack runs it for `pulumi up -s <env>`, and the
// deploy program runs it inline through the automation API:
//
//	pulumi.Run(stacks.Program)
//
// # Configuration
//
//	flotilla:environment   the environment this stack deploys (dev, staging, prod)
//	flotilla:version       the Kubernetes minor of every cluster, e.g. "1.31"
//	flotilla:addressSpace  the environment's block that cluster networks come from
//	flotilla:tags          cost tags (team, cost-center, ...); env is set for you
//	flotilla:clusters      the clusters: name, cloud, region, zones, version,
//	                       systemPool, spotPools (with fallback)
//	flotilla:teams         teams, their namespaces and access per environment
//	flotilla:networks      the network plan in use, by cluster name
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
package stacks
