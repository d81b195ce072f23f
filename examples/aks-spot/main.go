// Command aks-spot is an AKS cluster with a spot pool: four Spot agent pools of similar
// VM sizes, evicted by deletion and never outbid, and regular fallback pools that the
// cluster-autoscaler's priority expander turns to only when spot does not come up.
//
//	az login && pulumi config set azure-native:subscriptionId <subscription-id>
//	pulumi up
package main

import (
	"time"

	azurenative "github.com/pulumi/pulumi-azure-native-sdk/v2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/spotpool"
)

func main() { pulumi.Run(program) }

func program(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	env := getOr(cfg, "environment", "dev")
	location := getOr(cfg, "location", "westeurope")
	tags := costtags.Tags{"env": env, "team": "ledger", "cost-center": "CC-3100"}
	// Who may reach the API endpoint: a prod cluster refuses one open to anywhere.
	var apiCIDRs []string
	if err := cfg.GetObject("apiAllowedCidrs", &apiCIDRs); err != nil {
		return err
	}

	if _, err := costtags.New(ctx, "costs", &costtags.Args{Tags: tags}); err != nil {
		return err
	}

	// An explicit provider does not read the stack's azure-native config, so the
	// subscription is passed on; without it the provider uses the Azure CLI's.
	providerArgs := &azurenative.ProviderArgs{Location: pulumi.String(location)}
	if sub := config.Get(ctx, "azure-native:subscriptionId"); sub != "" {
		providerArgs.SubscriptionId = pulumi.String(sub)
	}
	provider, err := azurenative.NewProvider(ctx, "azure-"+location, providerArgs)
	if err != nil {
		return err
	}

	c, err := cluster.New(ctx, "ledger", &cluster.Args{
		Cloud:   cluster.Azure,
		Region:  location,
		Version: "1.31",
		Network: cluster.Network{
			VPCCIDR:     "10.60.0.0/20",  // the VNet; nodes take its first half
			PodCIDR:     "10.64.0.0/16",  // Azure CNI overlay: a /24 per node
			ServiceCIDR: "10.60.16.0/20", // ClusterIPs; cannot change without a new cluster
		},
		SystemPool: cluster.SystemPool{InstanceType: "Standard_D4s_v5", MinSize: 3, MaxSize: 6},
		// How long the autoscaler waits for spot before it scales the fallback instead.
		MaxNodeProvisionTime: 10 * time.Minute,
		API:                  cluster.APIAccess{AllowedCIDRs: apiCIDRs},
		Tags:                 tags,
	}, pulumi.Providers(provider))
	if err != nil {
		return err
	}

	pool, err := spotpool.New(ctx, "reports", &spotpool.Args{
		Cluster:       c,
		InstanceTypes: []string{"Standard_D8s_v5", "Standard_D8as_v5", "Standard_D8s_v4", "Standard_E8s_v5"},
		MaxSize:       12,
		Taints:        []spotpool.Taint{{Key: "workload", Value: "reports", Effect: "NoSchedule"}},
		Fallback:      spotpool.Fallback{InstanceTypes: []string{"Standard_D8s_v5", "Standard_D8as_v5"}, MaxSize: 6},
	})
	if err != nil {
		return err
	}

	ctx.Export("endpoint", c.Endpoint)
	ctx.Export("kubeconfig", c.Kubeconfig)
	ctx.Export("spotPools", pool.SpotPoolNames)
	ctx.Export("fallbackPools", pool.FallbackPoolNames)
	// What a Deployment sets to run on the pool: on spot while there is spot.
	ctx.Export("nodeSelector", pool.NodeSelector)
	ctx.Export("tolerations", pool.Tolerations)
	return nil
}

// getOr reads an optional config value, with a default for when it is not set.
func getOr(cfg *config.Config, key, def string) string {
	if v := cfg.Get(key); v != "" {
		return v
	}
	return def
}
