package spotpool_test

import (
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/spotpool"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The examples run their programs under Flotilla's recording mocks in place of a cloud; a
// real program passes the same function to pulumi.Run.

// printPlacement prints what a workload needs to land on pool, once the pool exists.
func printPlacement(pool *spotpool.SpotNodePool) {
	pulumi.All(pool.SpotPoolNames, pool.FallbackPoolNames, pool.NodeSelector, pool.Tolerations).ApplyT(func(v []any) error {
		fmt.Println("spot:", v[0])
		fmt.Println("fallback:", v[1])
		fmt.Println("nodeSelector:", v[2])
		fmt.Println("tolerations:", v[3])
		return nil
	})
}

func ExampleNew_aws() {
	program := func(ctx *pulumi.Context) error {
		c, err := cluster.New(ctx, "payments-eu", &cluster.Args{
			Cloud:                cluster.AWS,
			Region:               "eu-west-1",
			Version:              "1.31",
			MaxNodeProvisionTime: 4 * time.Minute, // how long spot may take before the fallback
			API:                  cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24"}},
			Tags:                 costtags.Tags{"team": "payments", "env": "prod"},
		})
		if err != nil {
			return err
		}
		pool, err := spotpool.New(ctx, "payments-batch", &spotpool.Args{
			Cluster:       c,
			InstanceTypes: []string{"m6i.xlarge", "m6a.xlarge", "m5.xlarge", "m7i.xlarge"},
			MinSize:       1,
			MaxSize:       20,
			Tags:          costtags.Tags{"app": "settlement"},
		})
		if err != nil {
			return err
		}
		printPlacement(pool)
		return nil
	}
	fmt.Println(pulumitest.New().FakeClouds().Run(program))
	// Output:
	// spot: [payments-batch-spot]
	// fallback: [payments-batch-fallback]
	// nodeSelector: map[flotilla.io/pool:payments-batch]
	// tolerations: [flotilla.io/capacity=spot:NoSchedule]
	// <nil>
}

func ExampleNew_gcp() {
	program := func(ctx *pulumi.Context) error {
		c, err := cluster.New(ctx, "search-us", &cluster.Args{
			Cloud:   cluster.GCP,
			Region:  "us-central1",
			Version: "1.31",
			Tags:    costtags.Tags{"team": "search", "env": "staging"},
		})
		if err != nil {
			return err
		}
		pool, err := spotpool.New(ctx, "indexer", &spotpool.Args{
			Cluster:       c,
			InstanceTypes: []string{"n2-standard-8", "n2d-standard-8", "c3-standard-8", "e2-standard-8"},
			MaxSize:       30,
			Fallback:      spotpool.Fallback{InstanceTypes: []string{"n2-standard-8"}, MaxSize: 10},
		})
		if err != nil {
			return err
		}
		printPlacement(pool)
		return nil
	}
	fmt.Println(pulumitest.New().FakeClouds().Run(program))
	// Output:
	// spot: [indexer-spot-0 indexer-spot-1 indexer-spot-2 indexer-spot-3]
	// fallback: [indexer-fallback-0]
	// nodeSelector: map[cloud.google.com/compute-class:indexer flotilla.io/pool:indexer]
	// tolerations: [flotilla.io/capacity=spot:NoSchedule cloud.google.com/compute-class=indexer:NoSchedule]
	// <nil>
}

func ExampleNew_azure() {
	program := func(ctx *pulumi.Context) error {
		c, err := cluster.New(ctx, "ledger-eu", &cluster.Args{
			Cloud:   cluster.Azure,
			Region:  "westeurope",
			Version: "1.31",
			Tags:    costtags.Tags{"team": "ledger", "env": "staging"},
		})
		if err != nil {
			return err
		}
		pool, err := spotpool.New(ctx, "reports", &spotpool.Args{
			Cluster:       c,
			InstanceTypes: []string{"Standard_D4s_v5", "Standard_D4as_v5", "Standard_D4s_v4", "Standard_E4s_v5"},
			MaxSize:       8,
			Taints:        []spotpool.Taint{{Key: "workload", Value: "reports", Effect: "NoSchedule"}},
		})
		if err != nil {
			return err
		}
		printPlacement(pool)
		return nil
	}
	fmt.Println(pulumitest.New().FakeClouds().Run(program))
	// Output:
	// spot: [reports0spot reports1spot reports2spot reports3spot]
	// fallback: [reports0fall reports1fall reports2fall reports3fall]
	// nodeSelector: map[flotilla.io/pool:reports]
	// tolerations: [flotilla.io/capacity=spot:NoSchedule kubernetes.azure.com/scalesetpriority=spot:NoSchedule workload=reports:NoSchedule]
	// <nil>
}
