package kubeplane_test

import (
	"context"
	"fmt"

	"github.com/flotilla-io/flotilla/internal/fleetsim/simapi"
	"github.com/flotilla-io/flotilla/internal/kubeplane"
)

// A simulated cluster's control plane, with one spot node that kwok plays.
func ExampleNew() {
	ctx := context.Background()
	m := kubeplane.New("/var/lib/fleetsim", "bin")
	plane, err := m.EnsurePlane(ctx, "eu-west-1-prod")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		if err := m.DeletePlane(ctx, "eu-west-1-prod"); err != nil {
			fmt.Println(err)
		}
	}()
	err = m.SyncNodes(ctx, "eu-west-1-prod", []simapi.Node{{
		Name:        "prod-spot-0",
		Labels:      map[string]string{"flotilla.io/pool": "spot", "flotilla.io/capacity": "spot"},
		Taints:      []simapi.Taint{{Key: "flotilla.io/capacity", Value: "spot", Effect: "NoSchedule"}},
		MilliCPU:    4000,
		MemoryBytes: 16 << 30,
		Pods:        58,
	}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(plane.Endpoint, plane.BinaryVersion)
}
