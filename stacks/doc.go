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
//
// A stack plans only its own clusters, so in an environment of several stacks a new
// cluster's lowest free ranges may be another stack's. Pre-flight plans every stack of
// the environment and refuses the overlap before anything changes; pin the new
// cluster's ranges in flotilla:networks, clear of the other stacks' ranges.
package stacks
