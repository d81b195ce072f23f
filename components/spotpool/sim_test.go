package spotpool_test

import (
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/spotpool"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
)

const (
	tokSimPool     = "fleetsim:index:NodePool"
	tokSimProvider = "pulumi:providers:fleetsim"
)

// runSim builds a sim cluster "eu" (lite mode) and a spot pool "batch" on it.
func runSim(t *testing.T, editCluster func(*cluster.Args), edit func(*spotpool.Args)) (*pulumitest.Mocks, *spotpool.SpotNodePool) {
	t.Helper()
	m := pulumitest.New()
	var pool *spotpool.SpotNodePool
	err := m.RunWithConfig("dev", nil, func(ctx *pulumi.Context) error {
		cargs := clusterArgs(cluster.Sim, "staging")
		cargs.SimLite = true
		if editCluster != nil {
			editCluster(cargs)
		}
		c, err := cluster.New(ctx, "eu", cargs)
		if err != nil {
			return err
		}
		args := poolArgs(c)
		if edit != nil {
			edit(args)
		}
		pool, err = spotpool.New(ctx, "batch", args)
		return err
	})
	require.NoError(t, err)
	return m, pool
}

// simTaints reads a fleetsim taint list as "key=value:Effect".
func simTaints(t *testing.T, r pulumitest.Resource) []string {
	t.Helper()
	var out []string
	for _, e := range in(t, r, "taints").ArrayValue() {
		out = append(out, pulumitest.Prop(t, e, "key").StringValue()+"="+pulumitest.Prop(t, e, "value").StringValue()+":"+pulumitest.Prop(t, e, "effect").StringValue())
	}
	return out
}

func TestSimSpotPoolAndFallback(t *testing.T) {
	t.Parallel()
	m, pool := runSim(t, nil, nil)
	comp := m.MustGet(t, tokPool, "batch")
	prov := m.MustGet(t, tokSimProvider, "eu-provider")
	merged := costtags.Tags{}
	maps.Copy(merged, clusterArgs(cluster.Sim, "staging").Tags)
	maps.Copy(merged, costtags.Tags{"team": "data", "app": "etl"})
	wantTags, err := costtags.ForKubernetes(merged)
	require.NoError(t, err)
	require.Equal(t, "data", wantTags["team"], "the pool's own tags win over the cluster's")

	spot := m.MustGet(t, tokSimPool, "batch-spot")
	assert.Equal(t, comp.URN, spot.Parent)
	assert.Contains(t, spot.Provider, prov.URN, "node pools use the cluster's provider")
	assert.Equal(t, "batch-spot", in(t, spot, "name").StringValue())
	assert.Equal(t, "sim-eu-1/eu", in(t, spot, "cluster").StringValue())
	assert.Equal(t, "spot", in(t, spot, "capacityType").StringValue())
	assert.Equal(t, []string{"sim.large", "sim.xlarge"}, strs(t, in(t, spot, "instanceTypes")))
	assert.Equal(t, []string{"sim-eu-1a", "sim-eu-1b", "sim-eu-1c"}, strs(t, in(t, spot, "zones")))
	assert.Equal(t, []float64{1, 10, 1}, []float64{in(t, spot, "minSize").NumberValue(), in(t, spot, "maxSize").NumberValue(), in(t, spot, "desiredSize").NumberValue()})
	assert.Equal(t, "1.31", in(t, spot, "version").StringValue(), "the pool follows its control plane")
	assert.Equal(t, 300.0, in(t, spot, "provisionTimeout").NumberValue(), "the cluster's MaxNodeProvisionTime, 5m")
	assert.Equal(t, map[string]string{"workload": "batch", cluster.LabelPool: "batch", cluster.LabelCapacity: "spot"}, strMap(t, in(t, spot, "labels")))
	assert.Equal(t, []string{"flotilla.io/capacity=spot:NoSchedule", "dedicated=batch:NoExecute"}, simTaints(t, spot))
	assert.Equal(t, wantTags, strMap(t, in(t, spot, "tags")))

	fb := m.MustGet(t, tokSimPool, "batch-fallback")
	assert.Equal(t, comp.URN, fb.Parent)
	assert.Equal(t, "batch-fallback", in(t, fb, "name").StringValue())
	assert.Equal(t, "on-demand", in(t, fb, "capacityType").StringValue())
	assert.Equal(t, "batch-spot", in(t, fb, "fallbackFor").StringValue())
	assert.Equal(t, []float64{0, 10, 0}, []float64{in(t, fb, "minSize").NumberValue(), in(t, fb, "maxSize").NumberValue(), in(t, fb, "desiredSize").NumberValue()})
	assert.Equal(t, map[string]string{"workload": "batch", cluster.LabelPool: "batch", cluster.LabelCapacity: "on-demand"}, strMap(t, in(t, fb, "labels")))
	assert.Equal(t, []string{"dedicated=batch:NoExecute"}, simTaints(t, fb), "fallback nodes carry no spot taint")
	assert.Equal(t, wantTags, strMap(t, in(t, fb, "tags")))

	assert.Equal(t, "batch-spot", pulumitest.Await(t, pool.SpotPoolName))
	assert.Equal(t, "batch-fallback", pulumitest.Await(t, pool.FallbackPoolName))
	assert.Equal(t, map[string]string{cluster.LabelPool: "batch"}, pulumitest.Await(t, pool.NodeSelector))
	assert.Equal(t, []string{"flotilla.io/capacity=spot:NoSchedule", "dedicated=batch:NoExecute"}, pulumitest.Await(t, pool.Tolerations))
}

func TestSimFallbackOptions(t *testing.T) {
	t.Parallel()
	m, _ := runSim(t,
		func(c *cluster.Args) { c.MaxNodeProvisionTime = 2 * time.Minute },
		func(a *spotpool.Args) {
			a.Fallback = spotpool.Fallback{InstanceTypes: []string{"m6i.large"}, MaxSize: 4}
			a.Zones = []string{"sim-eu-1b"}
		})
	spot := m.MustGet(t, tokSimPool, "batch-spot")
	assert.Equal(t, 120.0, in(t, spot, "provisionTimeout").NumberValue())
	assert.Equal(t, []string{"sim-eu-1b"}, strs(t, in(t, spot, "zones")))
	fb := m.MustGet(t, tokSimPool, "batch-fallback")
	assert.Equal(t, []string{"m6i.large"}, strs(t, in(t, fb, "instanceTypes")))
	assert.Equal(t, 4.0, in(t, fb, "maxSize").NumberValue())

	m, pool := runSim(t, nil, func(a *spotpool.Args) { a.Fallback.Disabled = true })
	assert.Len(t, m.ByType(tokSimPool), 2, "the system pool and the spot pool")
	_, ok := m.Get(tokSimPool, "batch-fallback")
	assert.False(t, ok)
	assert.Equal(t, "", pulumitest.Await(t, pool.FallbackPoolName))
}

func TestSimPoolNamesFitTheSimulator(t *testing.T) {
	t.Parallel()
	long := "Nightly_Batch.Reports-for-the-finance-and-the-compliance-teams"
	m, pool := runSimNamed(t, long)
	spot := in(t, m.MustGet(t, tokSimPool, long+"-spot"), "name").StringValue()
	fb := in(t, m.MustGet(t, tokSimPool, long+"-fallback"), "name").StringValue()
	for _, n := range []string{spot, fb} {
		assert.LessOrEqual(t, len(n), 40, n)
		assert.Regexp(t, `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, n)
	}
	assert.True(t, strings.HasSuffix(spot, "-spot"))
	assert.True(t, strings.HasSuffix(fb, "-fallback"))
	assert.Equal(t, spot, pulumitest.Await(t, pool.SpotPoolName))
	assert.Equal(t, spot, in(t, m.MustGet(t, tokSimPool, long+"-fallback"), "fallbackFor").StringValue())
}

func runSimNamed(t *testing.T, name string) (*pulumitest.Mocks, *spotpool.SpotNodePool) {
	t.Helper()
	m := pulumitest.New()
	var pool *spotpool.SpotNodePool
	err := m.RunWithConfig("dev", nil, func(ctx *pulumi.Context) error {
		cargs := clusterArgs(cluster.Sim, "staging")
		cargs.SimLite = true
		c, err := cluster.New(ctx, "eu", cargs)
		if err != nil {
			return err
		}
		pool, err = spotpool.New(ctx, name, poolArgs(c))
		return err
	})
	require.NoError(t, err)
	return m, pool
}
