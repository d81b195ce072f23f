package e2e_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	fleetsim "github.com/flotilla-io/flotilla/internal/fleetsim/sdk"
	"github.com/flotilla-io/flotilla/internal/simtest"
)

// TestCostTagsReachTheSimulatedCloud runs costtags' stack transform in the real engine:
// the clusters and pools the simulated cloud stores carry the normalised tags, a
// resource's own tag wins, and an enforced key overrides the resource's value.
func TestCostTagsReachTheSimulatedCloud(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t)
	stackTags := costtags.Tags{"env": "dev", "team": "Platform Team", "cost-center": "CC 1234"}
	stack := simtest.Stack(t, sim, "tagged", func(ctx *pulumi.Context) error {
		if _, err := costtags.New(ctx, "costs", &costtags.Args{Tags: stackTags}); err != nil {
			return err
		}
		cl, err := fleetsim.NewCluster(ctx, "tagged", &fleetsim.ClusterArgs{
			Region: pulumi.String("sim-central-1"),
			// env is enforced by the default policy: the stack's "dev" replaces "prod".
			Tags: pulumi.StringMap{"env": pulumi.String("prod"), "team": pulumi.String("payments")},
		})
		if err != nil {
			return err
		}
		_, err = fleetsim.NewNodePool(ctx, "tagged-pool", &fleetsim.NodePoolArgs{
			Cluster: cl.ID().ToStringOutput(), InstanceTypes: pulumi.StringArray{pulumi.String("e2-standard-4")},
		})
		return err
	})
	res := simtest.Up(t, stack)
	assert.Contains(t, res.StdOut, `tag "env" is enforced by the stack's policy; it is set to "dev"`)

	want, err := costtags.ForKubernetes(stackTags)
	require.NoError(t, err)
	require.Equal(t, "dev", want["env"])
	st := sim.State(t)
	require.Len(t, st.Clusters, 1)
	require.Len(t, st.Pools, 1)
	for _, p := range st.Pools {
		assert.Equal(t, want, p.Tags, "the pool carries the stack's tags, normalised")
	}
	wantCluster := map[string]string{
		"env":         "dev",      // enforced: the stack's value wins
		"team":        "payments", // the resource's own value wins
		"cost-center": want["cost-center"],
	}
	var id string
	for _, c := range st.Clusters {
		id = c.ID
		assert.Equal(t, wantCluster, c.Tags)
	}

	// Tags are desired state: someone retagging the cluster by hand is undone.
	require.NoError(t, sim.Client.DriftCluster(ctxT(t), id, cloud.ClusterDrift{Tags: map[string]string{"env": "prod"}}))
	simtest.Refresh(t, stack)
	simtest.Up(t, stack)
	c, err := sim.Client.GetCluster(ctxT(t), id)
	require.NoError(t, err)
	assert.Equal(t, wantCluster, c.Tags)

	simtest.Destroy(t, stack)
	assert.Empty(t, sim.State(t).Clusters)
}
