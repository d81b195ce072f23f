package geofleet

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	azurenative "github.com/pulumi/pulumi-azure-native-sdk/v2"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/flotilla-io/flotilla/components/cluster"
	fleetsim "github.com/flotilla-io/flotilla/internal/fleetsim/sdk"
)

// newProvider creates the provider that every cluster of one cloud and region shares.
// Explicit providers do not read the stack's provider configuration, so the project and
// subscription that a default provider would take from it are passed on. The simulator's
// provider finds its daemon through the environment of the Pulumi CLI.
func newProvider(ctx *pulumi.Context, name string, cloud cluster.Cloud, region string, opts ...pulumi.ResourceOption) (pulumi.ProviderResource, error) {
	switch cloud {
	case cluster.AWS:
		return aws.NewProvider(ctx, name, &aws.ProviderArgs{Region: pulumi.String(region)}, opts...)
	case cluster.GCP:
		args := &gcp.ProviderArgs{Region: pulumi.String(region)}
		if project, _ := ctx.GetConfig("gcp:project"); project != "" {
			args.Project = pulumi.String(project)
		}
		return gcp.NewProvider(ctx, name, args, opts...)
	case cluster.Azure:
		args := &azurenative.ProviderArgs{Location: pulumi.String(region)}
		if sub, _ := ctx.GetConfig("azure-native:subscriptionId"); sub != "" {
			args.SubscriptionId = pulumi.String(sub)
		}
		return azurenative.NewProvider(ctx, name, args, opts...)
	case cluster.Sim:
		return fleetsim.NewProvider(ctx, name, &fleetsim.ProviderArgs{}, opts...)
	}
	return nil, fmt.Errorf("cloud %q has no provider", cloud)
}
