package geofleet_test

import (
	"fmt"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/geofleet"
)

// A fleet moves a region: the cluster that stays keeps its ranges, and the new one
// takes the lowest free slot. The retired cluster's ranges stay held for this plan,
// since it is deleted only after the new cluster is created.
func ExamplePlanNetworks() {
	fleet := []geofleet.ClusterSpec{
		{Cloud: cluster.AWS, Region: "us-east-1"},
		{Cloud: cluster.GCP, Region: "europe-west1"},
	}
	plan, err := geofleet.PlanNetworks("10.32.0.0/11", fleet, nil)
	if err != nil {
		panic(err)
	}

	moved := []geofleet.ClusterSpec{fleet[1], {Cloud: cluster.Azure, Region: "westeurope"}}
	next, err := geofleet.PlanNetworks("10.32.0.0/11", moved, plan)
	if err != nil {
		panic(err)
	}
	for _, name := range []string{"gcp-europe-west1", "azure-westeurope"} {
		n := next[name]
		fmt.Printf("%s: vpc %s, pods %s, services %s\n", name, n.VPCCIDR, n.PodCIDR, n.ServiceCIDR)
	}
	fmt.Println(plan["gcp-europe-west1"] == next["gcp-europe-west1"])
	// Output:
	// gcp-europe-west1: vpc 10.32.32.0/20, pods 10.34.0.0/16, services 10.32.48.0/20
	// azure-westeurope: vpc 10.32.64.0/20, pods 10.35.0.0/16, services 10.32.80.0/20
	// true
}

// A fleet that outgrows its address space gets an error that says what would fit.
func ExampleIsExhausted() {
	fleet := []geofleet.ClusterSpec{
		{Cloud: cluster.AWS, Region: "us-east-1"},
		{Cloud: cluster.AWS, Region: "us-west-2"},
		{Cloud: cluster.AWS, Region: "eu-west-1"},
	}
	_, err := geofleet.PlanNetworks("10.32.0.0/16", fleet, nil)
	fmt.Println(geofleet.IsExhausted(err))
	fmt.Println(err)
	// Output:
	// true
	// address space "10.32.0.0/16" fits 0 clusters; 3 clusters need at least a /14
}
