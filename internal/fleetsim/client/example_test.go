package client_test

import (
	"context"
	"fmt"

	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
)

// The client finds the daemon through FLEETSIM_ADDR or FLEETSIM_HOME, starts one when
// none runs, and waits for long-running operations.
func ExampleClient_CreateCluster() {
	ctx := context.Background()
	c, err := client.FromEnv()
	if err != nil {
		panic(err)
	}
	cl, err := c.CreateCluster(ctx, cloud.ClusterSpec{Name: "dev-east", Region: "sim-east-1", Version: "1.31"}, "create-dev-east")
	if err != nil {
		panic(err)
	}
	if _, err := c.UpdateCluster(ctx, cl.ID, cloud.ClusterSpec{Version: "1.33"}); cloud.IsFailedPrecondition(err) {
		fmt.Println(err) // cluster "dev-east": cannot upgrade from 1.31 to 1.33: ...
	}
}
