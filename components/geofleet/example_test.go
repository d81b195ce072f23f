package geofleet_test

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/geofleet"
	"github.com/flotilla-io/flotilla/components/spotpool"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
)

// A production fleet on two clouds. The stack passes the plan it keeps in its
// configuration as Previous, so that the clusters already deployed keep their ranges;
// here the GKE cluster is new.
func ExampleNew() {
	// A prod cluster's API endpoint is open only to the ranges its spec names.
	office := cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24"}}
	program := func(ctx *pulumi.Context) error {
		fleet, err := geofleet.New(ctx, "prod", &geofleet.Args{
			Environment:  "prod",
			Version:      "1.31",
			AddressSpace: "10.32.0.0/11",
			Tags:         costtags.Tags{"team": "platform"},
			Clusters: []geofleet.ClusterSpec{
				{Cloud: cluster.AWS, Region: "us-east-1", API: office, SpotPools: []geofleet.SpotPoolSpec{{
					Name:          "batch",
					InstanceTypes: []string{"m6i.large", "m6a.large", "m5.large", "m7i.large"},
					MinSize:       1,
					MaxSize:       20,
					Fallback:      spotpool.Fallback{ProvisionTimeout: 3 * time.Minute},
				}}},
				{Cloud: cluster.GCP, Region: "europe-west1", API: office, SpotPools: []geofleet.SpotPoolSpec{{
					Name:          "batch",
					InstanceTypes: []string{"n2-standard-4", "n2d-standard-4"},
					MaxSize:       20,
				}}},
			},
			Previous: map[string]cluster.Network{
				"aws-us-east-1": {VPCCIDR: "10.32.0.0/20", PodCIDR: "10.33.0.0/16", ServiceCIDR: "10.32.16.0/20"},
			},
		})
		if err != nil {
			return err
		}
		ctx.Export("endpoints", fleet.Endpoints)
		ctx.Export("kubeconfigs", fleet.Kubeconfigs) // a secret
		for _, name := range slices.Sorted(maps.Keys(fleet.Networks)) {
			n := fleet.Networks[name]
			fmt.Printf("%s: vpc %s, pods %s, services %s\n", name, n.VPCCIDR, n.PodCIDR, n.ServiceCIDR)
		}
		return nil
	}

	// Under mocks, as the tests run it; a stack runs it with pulumi.Run.
	if err := pulumitest.New().FakeClouds().Run(program); err != nil {
		fmt.Println(err)
	}
	// Output:
	// aws-us-east-1: vpc 10.32.0.0/20, pods 10.33.0.0/16, services 10.32.16.0/20
	// gcp-europe-west1: vpc 10.32.32.0/20, pods 10.34.0.0/16, services 10.32.48.0/20
}
