package cloud_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
)

// upgradePool moves a pool to version and waits for the update to run its course.
func (w *world) upgradePool(p *cloud.NodePool, version string) *cloud.Operation {
	w.t.Helper()
	spec := p.NodePoolSpec
	spec.Version = version
	op, err := w.s.UpdateNodePool(w.env, p.ID, spec)
	require.NoError(w.t, err)
	w.wait(w.env.Durations.PoolCreate)
	return op
}

// TestOperationHistoryRecordsEveryUpgrade shows what the cloud's operation history says
// of an upgrade: the control plane's and each pool's, with both versions and both
// times, failed ones included, so that the order of a fleet's upgrade can be read back.
func TestOperationHistoryRecordsEveryUpgrade(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.cluster("dev", "sim-east-1", "1.31")
	spot := w.pool(spotPool(c.ID, 2))
	fb := w.pool(fallbackPool(c.ID, 2))

	cp, err := w.s.UpdateCluster(w.env, c.ID, cloud.ClusterSpec{Version: "1.32"})
	require.NoError(t, err)
	w.wait(w.env.Durations.ClusterUpgrade)
	fbOp := w.upgradePool(fb, "1.32")
	spotOp := w.upgradePool(spot, "1.32")
	require.NoError(t, w.s.AddUpgradeFailure("dev"))
	failed, err := w.s.UpdateCluster(w.env, c.ID, cloud.ClusterSpec{Version: "1.33"})
	require.NoError(t, err)
	w.wait(w.env.Durations.ClusterUpgrade)

	type entry struct{ Kind, Target, From, To, Status string }
	var got []entry
	for _, op := range []*cloud.Operation{cp, fbOp, spotOp, failed} {
		got = append(got, entry{op.Kind, op.Target, op.FromVersion, op.ToVersion, op.Status})
		assert.Same(t, op, w.s.Operations[op.ID], "the history holds the operation")
		assert.False(t, op.Started.IsZero(), op.ID)
		assert.False(t, op.Finished.IsZero(), op.ID)
	}
	assert.Equal(t, []entry{
		{cloud.OpUpgradeCluster, c.ID, "1.31", "1.32", cloud.OpDone},
		{cloud.OpUpdateNodePool, fb.ID, "1.31", "1.32", cloud.OpDone},
		{cloud.OpUpdateNodePool, spot.ID, "1.31", "1.32", cloud.OpDone},
		{cloud.OpUpgradeCluster, c.ID, "1.32", "1.33", cloud.OpFailed},
	}, got)
	// One operation per cluster at a time: each starts once the one before has finished.
	assert.Equal(t, w.env.Durations.ClusterUpgrade, cp.Finished.Sub(cp.Started))
	assert.Equal(t, w.env.Durations.PoolCreate, fbOp.Finished.Sub(fbOp.Started), "a pool's update takes the pool-create duration")
	assert.False(t, fbOp.Started.Before(cp.Finished))
	assert.False(t, spotOp.Started.Before(fbOp.Finished))
	assert.Equal(t, "app-fallback", fbOp.Pool.Name, "a pool's update carries the pool's spec, and so its name")
}

// TestPoolUpgradeWaitsForItsNodes shows that, on a cluster with a real control plane, a
// pool's upgrade asks for nodes of the new version when its time is up and ends only
// once the control plane reports them, so that the operation covers the nodes' roll.
func TestPoolUpgradeWaitsForItsNodes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.cluster("dev", "sim-east-1", "1.31")
	c.KubeVersion = "v1.37.2" // a real control plane serves the cluster
	spot := w.pool(spotPool(c.ID, 2))
	spot.NodesVersion = "1.31" // as the daemon records once the Nodes are in
	_, err := w.s.UpdateCluster(w.env, c.ID, cloud.ClusterSpec{Version: "1.32"})
	require.NoError(t, err)
	w.wait(w.env.Durations.ClusterUpgrade)
	require.Equal(t, "1.32", c.Version, "a cluster's own upgrade does not wait for nodes")

	spec := spot.NodePoolSpec
	spec.Version = "1.32"
	op, err := w.s.UpdateNodePool(w.env, spot.ID, spec)
	require.NoError(t, err)
	assert.Equal(t, "1.31", spot.Version, "the pool keeps its nodes until the update's time is up")

	w.env.Now = w.env.Now.Add(w.env.Durations.PoolCreate)
	assert.True(t, w.s.Advance(w.env), "the pool's new spec is a change of state")
	assert.Equal(t, cloud.OpRunning, op.Status, "the upgrade waits for the nodes")
	assert.Equal(t, "1.32", spot.Version)
	assert.Equal(t, cloud.StatusUpdating, spot.Status)
	for _, n := range w.s.Nodes(c.ID) {
		assert.True(t, strings.HasPrefix(n.Name, "app-spot-v1-32-"), n.Name)
		assert.Equal(t, "v1.32.0", n.KubeletVersion)
	}
	_, err = w.s.CreateNodePool(w.env, fallbackPool(c.ID, 2), "")
	assert.True(t, cloud.IsResourceInUse(err), "the cluster stays busy while the nodes roll: %v", err)
	assert.False(t, w.s.Advance(w.env), "nothing changes while the nodes have not been reported")

	spot.NodesVersion = "1.32"
	w.env.Now = w.env.Now.Add(w.env.Durations.PoolCreate)
	assert.True(t, w.s.Advance(w.env))
	assert.Equal(t, cloud.OpDone, op.Status)
	assert.Equal(t, w.env.Now, op.Finished)
	assert.Equal(t, cloud.StatusActive, spot.Status)
	assert.Empty(t, c.Operation)
}

func TestPoolUpgradeDoesNotWaitForAPlaneThatIsDown(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.cluster("dev", "sim-east-1", "1.31")
	spot := w.pool(spotPool(c.ID, 2))
	_, err := w.s.UpdateCluster(w.env, c.ID, cloud.ClusterSpec{Version: "1.32"})
	require.NoError(t, err)
	w.wait(w.env.Durations.ClusterUpgrade)
	c.KubeVersion, c.PlaneReady = "v1.37.2", false

	spec := spot.NodePoolSpec
	spec.Version = "1.32"
	op, err := w.s.UpdateNodePool(w.env, spot.ID, spec)
	require.NoError(t, err)
	w.env.Now = w.env.Now.Add(w.env.Durations.PoolCreate)
	w.s.Advance(w.env)
	assert.Equal(t, cloud.OpDone, op.Status, "no Nodes can roll while the plane is down; they do when it is back")
	assert.Equal(t, "1.32", spot.Version)
}

func TestNodeName(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "app-spot-v1-31-sim-east-1a-0", cloud.NodeName("app-spot", "1.31", "sim-east-1a", 0))
	assert.Equal(t, "app-spot-sim-east-1a-0", cloud.NodeName("app-spot", "", "sim-east-1a", 0))
	assert.NotEqual(t, cloud.NodeName("app-spot", "1.31", "sim-east-1a", 0), cloud.NodeName("app-spot", "1.32", "sim-east-1a", 0),
		"an upgrade replaces the node")

	long := strings.Repeat("a", 38) + "-x"
	other := strings.Repeat("a", 38) + "-y"
	a := cloud.NodeName(long, "1.31", "sim-central-1c", 999)
	b := cloud.NodeName(other, "1.31", "sim-central-1c", 999)
	assert.LessOrEqual(t, len(a), 63, a)
	assert.LessOrEqual(t, len(b), 63, b)
	assert.NotEqual(t, a, b, "pools cut to the same prefix keep apart")
	assert.True(t, strings.HasSuffix(a, "-v1-31-sim-central-1c-999"), a)
}
