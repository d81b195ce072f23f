package e2e_test

import (
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/spotpool"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	fleetsim "github.com/flotilla-io/flotilla/internal/fleetsim/sdk"
	"github.com/flotilla-io/flotilla/internal/simtest"
)

// TestComponentsOnTheSim runs cluster.New and spotpool.New with Cloud: cluster.Sim
// through the real engine: the simulated cloud gets the cluster, its system pool, and a
// spot pool with its fallback carrying the labels, taints and cost tags of the real
// clouds; a spot shortage moves the nodes to the fallback; an upgrade takes the pools
// along; destroy empties the cloud.
func TestComponentsOnTheSim(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t)
	version := "1.31"
	var kubeProvider bool
	stack := simtest.Stack(t, sim, "components", func(ctx *pulumi.Context) error {
		c, err := cluster.New(ctx, "comp-east", &cluster.Args{
			Cloud: cluster.Sim, Region: "sim-east-1", Version: version, SimLite: !sim.Kube,
			Tags: costtags.Tags{"env": "dev", "team": "platform", "cost-center": "CC-7"},
		})
		if err != nil {
			return err
		}
		kubeProvider = c.KubeProvider != nil
		pool, err := spotpool.New(ctx, "app", &spotpool.Args{
			Cluster: c, InstanceTypes: []string{"sim.large", "sim.xlarge"}, MinSize: 2, MaxSize: 4,
			Fallback: spotpool.Fallback{MaxSize: 3}, Tags: costtags.Tags{"app": "web"},
		})
		if err != nil {
			return err
		}
		ctx.Export("cluster", c.Name)
		ctx.Export("spotPool", pool.SpotPoolName)
		ctx.Export("fallbackPool", pool.FallbackPoolName)
		return nil
	})
	res := simtest.Up(t, stack)
	assert.False(t, kubeProvider, "lite mode: KubeProvider is nil")
	assert.Equal(t, "comp-east", res.Outputs["cluster"].Value)
	assert.Equal(t, "app-spot", res.Outputs["spotPool"].Value)
	assert.Equal(t, "app-fallback", res.Outputs["fallbackPool"].Value)

	ctx := ctxT(t)
	cl, err := sim.Client.GetCluster(ctx, "sim-east-1/comp-east")
	require.NoError(t, err)
	assert.Equal(t, "1.31", cl.Version)
	wantTags, err := costtags.ForKubernetes(costtags.Tags{"env": "dev", "team": "platform", "cost-center": "CC-7"})
	require.NoError(t, err)
	assert.Equal(t, wantTags, cl.Tags)
	pools := map[string]*cloud.NodePool{}
	ps, err := sim.Client.ListNodePools(ctx, cl.ID)
	require.NoError(t, err)
	for _, p := range ps {
		pools[p.Name] = p
	}
	require.Len(t, pools, 3)
	sys, spot, fb := pools["system"], pools["app-spot"], pools["app-fallback"]
	assert.Equal(t, cloud.OnDemand, sys.CapacityType)
	assert.Equal(t, 2, sys.ReadyNodes)
	assert.Equal(t, cloud.Spot, spot.CapacityType)
	assert.Equal(t, 2, spot.ReadyNodes)
	assert.Equal(t, map[string]string{"flotilla.io/pool": "app", "flotilla.io/capacity": "spot"}, spot.Labels)
	assert.Equal(t, []cloud.Taint{{Key: "flotilla.io/capacity", Value: "spot", Effect: "NoSchedule"}}, spot.Taints)
	assert.Equal(t, "web", spot.Tags["app"])
	assert.Equal(t, "platform", spot.Tags["team"], "the cluster's tags reach its pools")
	assert.Equal(t, 300, spot.ProvisionTimeout, "the cluster's MaxNodeProvisionTime")
	assert.Equal(t, cloud.OnDemand, fb.CapacityType)
	assert.Equal(t, "app-spot", fb.FallbackFor)
	assert.Equal(t, []int{0, 3, 0}, []int{fb.MinSize, fb.MaxSize, fb.ReadyNodes})

	// Spot runs out: the spot nodes go, and after the provision timeout (5 simulated
	// minutes, half a second) the fallback covers them; a refresh records it.
	require.NoError(t, sim.Client.SpotShortage(ctx, "sim-east-1", ""))
	require.Eventually(t, func() bool {
		p, err := sim.Client.GetNodePool(ctx, fb.ID)
		return err == nil && p.ReadyNodes == 2 && p.FallbackNodes == 2
	}, 10*time.Second, 20*time.Millisecond)
	simtest.Refresh(t, stack)
	outs := map[string]map[string]any{}
	for _, name := range []string{"app-spot", "app-fallback"} {
		outs[name] = poolOutputs(t, stack, name)
	}
	assert.Equal(t, 0.0, outs["app-spot"]["readyNodes"])
	assert.Equal(t, 2.0, outs["app-fallback"]["readyNodes"])
	assert.Equal(t, 2.0, outs["app-fallback"]["fallbackNodes"])
	_, err = sim.Client.ClearFaults(ctx, cloud.FaultFilter{})
	require.NoError(t, err)

	// An upgrade through the component: the control plane, then the pools that follow it.
	version = "1.32"
	simtest.Up(t, stack)
	cl, err = sim.Client.GetCluster(ctx, cl.ID)
	require.NoError(t, err)
	assert.Equal(t, "1.32", cl.Version)
	ps, err = sim.Client.ListNodePools(ctx, cl.ID)
	require.NoError(t, err)
	for _, p := range ps {
		assert.Equal(t, "1.32", p.Version, p.Name)
	}

	simtest.Destroy(t, stack)
	st := sim.State(t)
	assert.Empty(t, st.Clusters)
	assert.Empty(t, st.Pools)
}

// poolOutputs returns the state's outputs of the fleetsim node pool with a cloud name.
func poolOutputs(t *testing.T, s auto.Stack, name string) map[string]any {
	t.Helper()
	for _, r := range stateResources(t, s) {
		if r.Type == fleetsim.NodePoolType && r.Outputs["name"] == name {
			return r.Outputs
		}
	}
	t.Fatalf("no node pool %q in the stack's state", name)
	return nil
}
