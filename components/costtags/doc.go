// Package costtags puts cost-allocation tags on every resource that costs money.
//
// A stack creates one CostTags component before anything else. New checks the tags
// against a Policy (DefaultPolicy requires env, team and cost-center, allows env to be
// dev, staging or prod, and enforces env), normalises them for each cloud and registers
// a stack transform that merges them into every taggable resource registered after it:
//
//	func program(ctx *pulumi.Context) error {
//		costs, err := costtags.New(ctx, "costs", &costtags.Args{
//			Tags: costtags.Tags{"env": "prod", "team": "payments", "cost-center": "CC-1234"},
//		})
//		if err != nil {
//			return err
//		}
//		// Tagged env=prod, team=payments, cost-center=CC-1234 by the transform.
//		if _, err := ec2.NewVpc(ctx, "main", &ec2.VpcArgs{CidrBlock: pulumi.String("10.0.0.0/16")}); err != nil {
//			return err
//		}
//		ctx.Export("awsTags", costs.AWS)
//		return nil
//	}
//
// # Where tags go
//
// The transform writes AWS `tags`, GCP `labels`, azure-native `tags` and Kubernetes
// `metadata.labels`. GKE clusters take `resourceLabels`, and so do the node configs that
// reach the node VMs and disks: a node pool's (created if missing), a cluster's inline
// node pools', and a cluster's own when it has one (an Autopilot cluster must not).
// The resource types that take tags come from the pinned SDKs' own sources:
// `go generate` writes zz_taggable.go, and a test fails when that table no longer
// matches the SDKs in go.mod. Resources of fleetsim, the local simulator that stands in for a cloud's
// Kubernetes clusters and node pools (`fleetsim:index:Cluster`,
// `fleetsim:index:NodePool`), get their `tags` as Kubernetes labels. Every other
// resource is left untouched.
//
// A resource's own tags win: a team-specific node pool keeps its own `team`. Keys are
// compared without regard to case, so a resource's `Team` also keeps the stack's `team`
// off it. The exception is a key the policy enforces: the stack's value replaces the
// resource's, and a warning names the resource and both values, so a resource in the
// prod stack is never tagged env=dev.
//
// The transform cannot reach what a provider creates on its own, such as the instances
// and volumes behind a launch template; components that create those tag them from
// the normalised maps in the CostTags outputs.
//
// # Normalisation
//
// ForAWS, ForGCP, ForAzure and ForKubernetes return the tags each target accepts. They
// lowercase where the target demands it and replace each run of characters the target
// forbids with one "_", trimmed where the target forbids a leading or trailing one.
// Anything lossier (a key or value too long, too many tags, a key that cannot start
// validly, two keys that become the same one, AWS's reserved "aws:" prefix) is an
// error naming the key. Normalisation is deterministic and idempotent.
package costtags
