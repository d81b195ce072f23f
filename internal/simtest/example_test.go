package simtest_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	fleetsim "github.com/flotilla-io/flotilla/internal/fleetsim/sdk"
	"github.com/flotilla-io/flotilla/internal/simtest"
)

func ExampleStack() {
	var t *testing.T // a test's *testing.T
	sim := simtest.Start(t)
	stack := simtest.Stack(t, sim, "dev", func(ctx *pulumi.Context) error {
		_, err := fleetsim.NewCluster(ctx, "dev-east", &fleetsim.ClusterArgs{Region: pulumi.String("sim-east-1")})
		return err
	})
	simtest.Up(t, stack)
	_ = sim.State(t).Clusters // what the simulated cloud holds
	simtest.Destroy(t, stack)
}
