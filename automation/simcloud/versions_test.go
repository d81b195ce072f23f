package simcloud_test

import (
	"context"
	"io"
	"log/slog"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/simcloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/daemon"
)

func TestLiveVersions(t *testing.T) {
	t.Parallel()
	c := startSim(t, nil)
	v := simcloud.NewVersions(c)
	f := newFleet(t, c, "versions-east-1", "sim-east-1", true)
	ctx := ctxT(t)

	live, err := v.LiveVersions(ctx, stack, f.outputs)
	require.NoError(t, err)
	assert.Equal(t, []automation.LiveCluster{{
		Cluster: "east-1", ControlPlane: cloud.DefaultVersion, AutoUpgrade: "none",
		Pools: map[string]string{"system": "1.33", "versions-east-1-general-spot": "1.33", "versions-east-1-general-fallback": "1.33"},
	}}, live)

	// Someone upgrades the cluster and a pool out of band: the reading follows the cloud.
	require.NoError(t, c.DriftCluster(ctx, "sim-east-1/versions-east-1", cloud.ClusterDrift{Version: "1.34"}))
	require.NoError(t, c.DriftNodePool(ctx, "sim-east-1/versions-east-1/system", cloud.NodePoolDrift{Version: "1.34"}))
	live, err = v.LiveVersions(ctx, stack, f.outputs)
	require.NoError(t, err)
	require.Len(t, live, 1)
	assert.Equal(t, "1.34", live[0].ControlPlane)
	assert.Equal(t, "1.34", live[0].Pools["system"])
	assert.Equal(t, "1.33", live[0].Pools["versions-east-1-general-spot"])
	assert.Empty(t, live[0].Busy)

	// Found by endpoint when the stack predates the clusters output.
	old := automation.Outputs{"endpoints": f.outputs["endpoints"]}
	live, err = v.LiveVersions(ctx, stack, old)
	require.NoError(t, err)
	require.Len(t, live, 1)
	assert.Equal(t, "east-1", live[0].Cluster)
	assert.Equal(t, "1.34", live[0].Pools["system"])
}

func TestLiveVersionsNameMissingClusters(t *testing.T) {
	t.Parallel()
	c := startSim(t, nil)
	v := simcloud.NewVersions(c)
	f := newFleet(t, c, "missing-east-1", "sim-east-1", false)
	outputs := automation.Outputs{"clusters": {Value: map[string]any{
		"east-1": f.outputs["clusters"].Value.(map[string]any)["east-1"],
		"west-1": map[string]any{"name": "gone-west-1", "region": "sim-west-1", "cloud": "sim"},
		"eu-1":   map[string]any{"name": "gone-eu-1", "region": "sim-eu-1", "cloud": "sim"},
	}}}
	_, err := v.LiveVersions(ctxT(t), stack, outputs)
	require.Error(t, err)
	assert.Equal(t, `staging/staging: the simulated cloud has no cluster sim-eu-1/gone-eu-1 (the stack's "eu-1"), sim-west-1/gone-west-1 (the stack's "west-1"): deleted outside the deploy program? run `+"`flotilla drift`"+`, then a rollout to recreate it`, err.Error())

	outputs["clusters"].Value.(map[string]any)["aws-1"] = map[string]any{"name": "prod", "region": "us-east-1", "cloud": "aws"}
	_, err = v.LiveVersions(ctxT(t), stack, outputs)
	assert.ErrorContains(t, err, `clusters "aws-1" (on aws) are not on the simulator`)

	_, err = v.LiveVersions(ctxT(t), stack, automation.Outputs{})
	assert.ErrorContains(t, err, "the stack's outputs name no cluster")
}

// startSlowSim is startSim with upgrades slow enough to be seen running.
func startSlowSim(t *testing.T) *client.Client {
	t.Helper()
	home := t.TempDir()
	d, err := daemon.New(daemon.Options{
		Home: home, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Durations: cloud.Durations{ClusterCreate: 20 * time.Millisecond, ClusterUpgrade: 1500 * time.Millisecond,
			ClusterDelete: 10 * time.Millisecond, PoolCreate: 1500 * time.Millisecond, PoolDelete: 10 * time.Millisecond},
	})
	require.NoError(t, err)
	require.NoError(t, d.Listen())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	c, err := client.New(client.Options{Home: home, Addr: d.Addr()})
	require.NoError(t, err)
	return c
}

func TestLiveVersionsNameTheOperationInProgress(t *testing.T) {
	t.Parallel()
	c := startSlowSim(t)
	v := simcloud.NewVersions(c)
	ctx := ctxT(t)
	cl, err := c.CreateCluster(ctx, cloud.ClusterSpec{Name: "busy", Region: "sim-west-1", Version: "1.31"}, "busy")
	require.NoError(t, err)
	outputs := automation.Outputs{"clusters": {Value: map[string]any{
		"west-1": map[string]any{"name": "busy", "region": "sim-west-1", "cloud": "sim"},
	}}}

	upgraded := make(chan error, 1)
	go func() {
		_, err := c.UpdateCluster(ctx, cl.ID, cloud.ClusterSpec{Version: "1.32"})
		upgraded <- err
	}()
	var live []automation.LiveCluster
	require.Eventually(t, func() bool {
		live, err = v.LiveVersions(ctx, stack, outputs)
		return err == nil && len(live) == 1 && live[0].Busy != ""
	}, 5*time.Second, 10*time.Millisecond)
	assert.Equal(t, "1.31", live[0].ControlPlane, "the cloud reports the old version until the upgrade ends")
	assert.Regexp(t, regexp.MustCompile(`^UpgradeCluster op-[0-9a-f]+ on cluster busy \(1\.31 → 1\.32\) running since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$`), live[0].Busy)

	require.NoError(t, <-upgraded)
	live, err = v.LiveVersions(ctx, stack, outputs)
	require.NoError(t, err)
	assert.Equal(t, "1.32", live[0].ControlPlane)
	assert.Empty(t, live[0].Busy)

	// A pool being created is an operation on the cluster too.
	created := make(chan error, 1)
	go func() {
		_, err := c.CreateNodePool(ctx, cloud.NodePoolSpec{Name: "system", Cluster: cl.ID, InstanceTypes: []string{"sim.small"},
			MinSize: 1, MaxSize: 2, DesiredSize: 1}, "system")
		created <- err
	}()
	require.Eventually(t, func() bool {
		live, err = v.LiveVersions(ctx, stack, outputs)
		return err == nil && len(live) == 1 && live[0].Busy != ""
	}, 5*time.Second, 10*time.Millisecond)
	assert.Regexp(t, `^CreateNodePool op-[0-9a-f]+ on node pool system running since `, live[0].Busy)
	assert.Equal(t, map[string]string{"system": "1.32"}, live[0].Pools)
	require.NoError(t, <-created)
}

func TestOfferedVersions(t *testing.T) {
	t.Parallel()
	c := startSim(t, nil)
	v := simcloud.NewVersions(c)
	ctx := ctxT(t)

	east, err := v.OfferedVersions(ctx, "sim", "sim-east-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"1.29", "1.30", "1.31", "1.32", "1.33", "1.34"}, east)

	require.NoError(t, c.Unoffer(ctx, "sim-west-1", "1.34"))
	west, err := v.OfferedVersions(ctx, "sim", "sim-west-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"1.29", "1.30", "1.31", "1.32", "1.33"}, west, "an unoffer fault takes the version away")
	eu, err := v.OfferedVersions(ctx, "sim", "sim-eu-1")
	require.NoError(t, err)
	assert.NotContains(t, eu, "1.34", "the newest minor has not reached sim-eu-1")

	_, err = v.OfferedVersions(ctx, "aws", "us-east-1")
	assert.EqualError(t, err, `aws/us-east-1: the simulator offers versions in its own regions only, not on cloud "aws": use that cloud's version catalog`)
	_, err = v.OfferedVersions(ctx, "sim", "mars-1")
	assert.ErrorContains(t, err, `"mars-1" is not a region of the simulated cloud`)
}
