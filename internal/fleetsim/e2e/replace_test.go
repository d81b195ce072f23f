package e2e_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	fleetsim "github.com/flotilla-io/flotilla/internal/fleetsim/sdk"
	"github.com/flotilla-io/flotilla/internal/simtest"
)

// TestImmutableChangesReplace changes what no cloud changes in place: a cluster's zones
// and region, a pool's capacity type. Each replaces the resource (and the pools of a
// replaced cluster), and the simulated cloud ends with only the new resources.
func TestImmutableChangesReplace(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t)
	region, zones, capacity := "sim-west-1", []string{"sim-west-1a", "sim-west-1b", "sim-west-1c"}, "on-demand"
	stack := simtest.Stack(t, sim, "replace", func(ctx *pulumi.Context) error {
		cl, err := fleetsim.NewCluster(ctx, "repl", &fleetsim.ClusterArgs{
			Region: pulumi.String(region), Zones: pulumi.ToStringArray(zones), Version: pulumi.String("1.30"),
		})
		if err != nil {
			return err
		}
		_, err = fleetsim.NewNodePool(ctx, "repl-pool", &fleetsim.NodePoolArgs{
			Cluster: cl.ID().ToStringOutput(), CapacityType: pulumi.String(capacity),
			InstanceTypes: pulumi.StringArray{pulumi.String("n2-standard-4")}, DesiredSize: pulumi.Int(2),
		})
		return err
	})
	simtest.Up(t, stack)
	only := func() (*cloud.Cluster, *cloud.NodePool) {
		st := sim.State(t)
		require.Len(t, st.Clusters, 1)
		require.Len(t, st.Pools, 1)
		for _, c := range st.Clusters {
			for _, p := range st.Pools {
				return c, p
			}
		}
		return nil, nil
	}
	c0, p0 := only()

	// Zones: the cluster is replaced (deleted first: its name stays taken in the region
	// until then), and its pool with it.
	zones = []string{"sim-west-1a", "sim-west-1b"}
	res := simtest.Up(t, stack)
	assert.Equal(t, 2, (*res.Summary.ResourceChanges)["replace"])
	c1, p1 := only()
	assert.NotEqual(t, c0.ID, c1.ID)
	assert.Equal(t, zones, c1.Zones)
	assert.NotEqual(t, p0.ID, p1.ID)
	assert.Equal(t, c1.ID, p1.ClusterID)
	assert.Equal(t, zones, p1.Zones, "the pool follows the cluster's zones")

	// Capacity type: the pool alone is replaced.
	capacity = "spot"
	res = simtest.Up(t, stack)
	assert.Equal(t, 1, (*res.Summary.ResourceChanges)["replace"])
	c2, p2 := only()
	assert.Equal(t, c1.ID, c2.ID)
	assert.Equal(t, "spot", p2.CapacityType)
	assert.InDelta(t, 2*0.068, p2.HourlyCost, 1e-9)

	// Region: a new cluster elsewhere, then the old one goes.
	region, zones = "sim-eu-1", nil
	res = simtest.Up(t, stack)
	assert.Equal(t, 2, (*res.Summary.ResourceChanges)["replace"])
	c3, p3 := only()
	assert.Equal(t, "sim-eu-1", c3.Region)
	assert.Equal(t, []string{"sim-eu-1a", "sim-eu-1b", "sim-eu-1c"}, c3.Zones)
	assert.Equal(t, c3.ID, p3.ClusterID)

	simtest.Destroy(t, stack)
	st := sim.State(t)
	assert.Empty(t, st.Clusters)
	assert.Empty(t, st.Pools)
}

// TestCheckFailuresReachTheCaller registers inputs the cloud would refuse; the engine
// reports every problem before anything is created.
func TestCheckFailuresReachTheCaller(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t)
	stack := simtest.Stack(t, sim, "invalid", func(ctx *pulumi.Context) error {
		cl, err := fleetsim.NewCluster(ctx, "bad", &fleetsim.ClusterArgs{
			Region: pulumi.String("us-east-1"), Version: pulumi.String("1.31.2"),
		})
		if err != nil {
			return err
		}
		_, err = fleetsim.NewNodePool(ctx, "bad-pool", &fleetsim.NodePoolArgs{
			Cluster: cl.ID().ToStringOutput(), InstanceTypes: pulumi.StringArray{pulumi.String("m9z.huge")},
		})
		return err
	})
	_, err := simtest.TryUp(t, stack)
	require.Error(t, err)
	for _, want := range []string{
		`"us-east-1" is not a region of the simulated cloud`,
		`version "1.31.2": use a Kubernetes minor version such as "1.33"`,
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Empty(t, sim.State(t).Clusters)
}
