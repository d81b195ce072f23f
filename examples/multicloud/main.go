// Command multicloud is one environment's fleet across three clouds: EKS in us-east-1,
// GKE in europe-west1 and AKS in westeurope, each with a spot pool that falls back to
// on-demand, on one non-overlapping address plan, with every resource tagged for cost
// allocation.
//
//	pulumi config set gcp:project my-project
//	pulumi config set azure-native:subscriptionId <subscription-id>
//	pulumi up
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/geofleet"
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
	if _, err := costtags.New(ctx, "costs", &costtags.Args{Tags: tags}); err != nil {
		return err
	}

	// The same workload on each cloud: 4 vCPU, 16 GiB machines of four families.
	fleet, err := geofleet.New(ctx, env, &geofleet.Args{
		Environment:  env,
		Version:      "1.31",
		AddressSpace: "10.32.0.0/13", // room for 7 clusters; see components/geofleet
		Tags:         tags,
		Previous:     toClusterNetworks(previous),
		Clusters: []geofleet.ClusterSpec{
			{
				Cloud:  cluster.AWS,
				Region: "us-east-1",
				API:    cluster.APIAccess{AllowedCIDRs: apiCIDRs},
				SpotPools: []geofleet.SpotPoolSpec{{
					Name:          "workers",
					InstanceTypes: []string{"m6i.xlarge", "m6a.xlarge", "m5.xlarge", "m7i.xlarge"},
					MinSize:       1,
					MaxSize:       20,
				}},
			},
			{
				Cloud:  cluster.GCP,
				Region: "europe-west1",
				API:    cluster.APIAccess{AllowedCIDRs: apiCIDRs},
				SpotPools: []geofleet.SpotPoolSpec{{
					Name:          "workers",
					InstanceTypes: []string{"n2-standard-4", "n2d-standard-4", "e2-standard-4", "c3-standard-4"},
					MinSize:       1,
					MaxSize:       20,
				}},
			},
			{
				Cloud:  cluster.Azure,
				Region: "westeurope",
				API:    cluster.APIAccess{AllowedCIDRs: apiCIDRs},
				SpotPools: []geofleet.SpotPoolSpec{{
					Name:          "workers",
					InstanceTypes: []string{"Standard_D4s_v5", "Standard_D4as_v5", "Standard_D4s_v4", "Standard_D4ds_v5"},
					MinSize:       1,
					MaxSize:       20,
				}},
			},
		},
	})
	if err != nil {
		return err
	}

	ctx.Export("endpoints", fleet.Endpoints)
	ctx.Export("versions", fleet.Versions)
	ctx.Export("kubeconfigs", fleet.Kubeconfigs)
	ctx.Export("networks", networksOutput(fleet.Networks))
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
