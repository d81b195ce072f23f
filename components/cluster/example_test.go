package cluster_test

import (
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The examples run their programs under Flotilla's recording mocks in place of a cloud; a
// real program passes the same function to pulumi.Run.

func ExampleNew_aws() {
	program := func(ctx *pulumi.Context) error {
		c, err := cluster.New(ctx, "payments-eu", &cluster.Args{
			Cloud:   cluster.AWS,
			Region:  "eu-west-1",
			Version: "1.31",
			Network: cluster.Network{VPCCIDR: "10.20.0.0/16"},
			// A prod cluster refuses an API endpoint open to anywhere: say who may reach it.
			API:  cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24"}},
			Tags: costtags.Tags{"team": "payments", "env": "prod"},
		})
		if err != nil {
			return err
		}
		ctx.Export("kubeconfig", c.Kubeconfig)
		fmt.Println(c.Cloud, c.Region, c.Zones, c.MaxNodeProvisionTime)
		return nil
	}
	fmt.Println(pulumitest.New().Run(program))
	// Output:
	// aws eu-west-1 [eu-west-1a eu-west-1b eu-west-1c] 5m0s
	// <nil>
}

func ExampleNew_gcp() {
	program := func(ctx *pulumi.Context) error {
		c, err := cluster.New(ctx, "search-us", &cluster.Args{
			Cloud:      cluster.GCP,
			Region:     "us-central1",
			Zones:      []string{"us-central1-a", "us-central1-f"},
			Version:    "1.31",
			SystemPool: cluster.SystemPool{InstanceType: "n2-standard-4", MinSize: 2, MaxSize: 4},
			Tags:       costtags.Tags{"team": "search", "env": "staging"},
		})
		if err != nil {
			return err
		}
		ctx.Export("endpoint", c.Endpoint)
		fmt.Println(c.Cloud, c.Region, c.Zones)
		return nil
	}
	fmt.Println(pulumitest.New().Run(program))
	// Output:
	// gcp us-central1 [us-central1-a us-central1-f]
	// <nil>
}

func ExampleNew_azure() {
	program := func(ctx *pulumi.Context) error {
		c, err := cluster.New(ctx, "ledger-eu", &cluster.Args{
			Cloud:                cluster.Azure,
			Region:               "westeurope",
			Version:              "1.31",
			Network:              cluster.Network{VPCCIDR: "10.30.0.0/16", PodCIDR: "10.244.0.0/16", ServiceCIDR: "10.0.0.0/16"},
			MaxNodeProvisionTime: 10 * time.Minute,
			API:                  cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24", "198.51.100.7/32"}},
			Tags:                 costtags.Tags{"team": "ledger", "env": "prod"},
		})
		if err != nil {
			return err
		}
		ctx.Export("kubeconfig", c.Kubeconfig)
		fmt.Println(c.Cloud, c.Region, c.Zones, c.MaxNodeProvisionTime)
		return nil
	}
	// FakeClouds answers what Azure computes, such as the cluster user's kubeconfig.
	mocks := pulumitest.New().FakeClouds()
	fmt.Println(mocks.Run(program))
	// Output:
	// azure westeurope [1 2 3] 10m0s
	// <nil>
}
