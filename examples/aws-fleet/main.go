// Command aws-fleet is an AWS fleet in two regions: an EKS cluster in each, both with a
// general-purpose spot pool and a batch spot pool that fall back to on-demand, and every
// resource tagged for cost allocation.
//
//	pulumi config set environment staging   # dev (default), staging or prod
//	pulumi up
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/geofleet"
	"github.com/flotilla-io/flotilla/components/spotpool"
)

func main() { pulumi.Run(program) }

// network is one cluster's address ranges, in the form the stack exports as "networks"
// and reads back from the "networks" config key.
type network struct {
	VPCCIDR     string `json:"vpcCidr"`
	PodCIDR     string `json:"podCidr"`
	ServiceCIDR string `json:"serviceCidr"`
}

func program(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	env := getOr(cfg, "environment", "dev")
	tags := costtags.Tags{"env": env, "team": "platform", "cost-center": "CC-1001"}
	// The plan the fleet was last deployed with, so that no cluster's ranges ever move.
	var previous map[string]network
	if err := cfg.GetObject("networks", &previous); err != nil {
		return err
	}
	// Who may reach the API endpoints: a prod cluster refuses one open to anywhere.
	var apiCIDRs []string
	if err := cfg.GetObject("apiAllowedCidrs", &apiCIDRs); err != nil {
		return err
	}

	// First, so that every resource registered after it carries the cost tags.
	costs, err := costtags.New(ctx, "costs", &costtags.Args{Tags: tags})
	if err != nil {
		return err
	}

	// Four similar sizes per pool, a shortage of one type leaving the others to draw on; all
	// of one vCPU count and memory, as the autoscaler builds a group's nodes from its first.
	pools := []geofleet.SpotPoolSpec{
		{
			Name:          "general",
			InstanceTypes: []string{"m6i.xlarge", "m6a.xlarge", "m5.xlarge", "m7i.xlarge"},
			MinSize:       1,
			MaxSize:       20,
		},
		{
			Name:          "batch",
			InstanceTypes: []string{"c6i.2xlarge", "c6a.2xlarge", "c5.2xlarge", "c7i.2xlarge"},
			MaxSize:       50,
			// Batch work waits for spot rather than running up a large on-demand bill.
			Fallback: spotpool.Fallback{InstanceTypes: []string{"c6i.2xlarge", "c6a.2xlarge"}, MaxSize: 10},
		},
	}
	var clusters []geofleet.ClusterSpec
	for _, region := range []string{getOr(cfg, "primaryRegion", "us-east-1"), getOr(cfg, "secondaryRegion", "eu-west-1")} {
		clusters = append(clusters, geofleet.ClusterSpec{
			Cloud:      cluster.AWS,
			Region:     region,
			SystemPool: cluster.SystemPool{InstanceType: "m6i.large"}, // 2-4 nodes, 3-6 in prod
			SpotPools:  pools,
			API:        cluster.APIAccess{AllowedCIDRs: apiCIDRs},
		})
	}

	fleet, err := geofleet.New(ctx, env, &geofleet.Args{
		Environment:  env,
		Version:      "1.31",
		AddressSpace: "10.32.0.0/13", // room for 7 clusters; see components/geofleet

		Clusters: clusters,
		Tags:     tags,
		Previous: toClusterNetworks(previous),
	})
	if err != nil {
		return err
	}

	ctx.Export("endpoints", fleet.Endpoints)
	ctx.Export("versions", fleet.Versions)
	ctx.Export("kubeconfigs", fleet.Kubeconfigs)
	ctx.Export("networks", networksOutput(fleet.Networks))
	ctx.Export("costTags", costs.AWS)
	return nil
}

// getOr reads an optional config value, with a default for when it is not set.
func getOr(cfg *config.Config, key, def string) string {
	if v := cfg.Get(key); v != "" {
		return v
	}
	return def
}

func toClusterNetworks(in map[string]network) map[string]cluster.Network {
	out := make(map[string]cluster.Network, len(in))
	for name, n := range in {
		out[name] = cluster.Network{VPCCIDR: n.VPCCIDR, PodCIDR: n.PodCIDR, ServiceCIDR: n.ServiceCIDR}
	}
	return out
}

func networksOutput(plan map[string]cluster.Network) pulumi.Map {
	out := pulumi.Map{}
	for name, n := range plan {
		out[name] = pulumi.StringMap{
			"vpcCidr":     pulumi.String(n.VPCCIDR),
			"podCidr":     pulumi.String(n.PodCIDR),
			"serviceCidr": pulumi.String(n.ServiceCIDR),
		}
	}
	return out
}
