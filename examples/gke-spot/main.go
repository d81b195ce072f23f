// Command gke-spot is a regional GKE cluster with a spot pool: four spot node pools of
// similar machine types, an on-demand fallback, and the ComputeClass that prefers spot
// and moves workloads back to it when it returns.
//
//	pulumi config set gcp:project my-project
//	pulumi up
package main

import (
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp"
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
	region := getOr(cfg, "region", "us-central1")
	tags := costtags.Tags{"env": env, "team": "search", "cost-center": "CC-2040"}
	// Who may reach the API endpoint: a prod cluster refuses one open to anywhere.
	var apiCIDRs []string
	if err := cfg.GetObject("apiAllowedCidrs", &apiCIDRs); err != nil {
		return err
	}

	if _, err := costtags.New(ctx, "costs", &costtags.Args{Tags: tags}); err != nil {
		return err
	}

	// An explicit provider does not read the stack's gcp:project, so it is passed on.
	providerArgs := &gcp.ProviderArgs{Region: pulumi.String(region)}
	if project := config.Get(ctx, "gcp:project"); project != "" {
		providerArgs.Project = pulumi.String(project)
	}
	provider, err := gcp.NewProvider(ctx, "gcp-"+region, providerArgs)
	if err != nil {
		return err
	}

	c, err := cluster.New(ctx, "search", &cluster.Args{
		Cloud:   cluster.GCP,
		Region:  region,
		Version: "1.31",
		Network: cluster.Network{
			VPCCIDR:     "10.40.0.0/20",  // nodes
			PodCIDR:     "10.44.0.0/14",  // a /24 per node: room for 1,024 nodes
			ServiceCIDR: "10.40.16.0/20", // ClusterIPs; cannot change without a new cluster
		},
		SystemPool: cluster.SystemPool{InstanceType: "e2-standard-4", MinSize: 3, MaxSize: 6},
		API:        cluster.APIAccess{AllowedCIDRs: apiCIDRs},
		Tags:       tags,
	}, pulumi.Providers(provider))
	if err != nil {
		return err
	}

	// One spot node pool per machine type; the ComputeClass tries them before the fallback.
	pool, err := spotpool.New(ctx, "indexer", &spotpool.Args{
		Cluster:       c,
		InstanceTypes: []string{"n2-standard-8", "n2d-standard-8", "c3-standard-8", "e2-standard-8"},
		MaxSize:       30,
		Labels:        map[string]string{"workload": "indexer"},
		Fallback:      spotpool.Fallback{InstanceTypes: []string{"n2-standard-8"}, MaxSize: 10},
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
