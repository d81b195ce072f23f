package simctl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/daemon"
	"github.com/flotilla-io/flotilla/internal/fleetsim/simctl"
)

func serve(t *testing.T) (simctl.Target, *client.Client) {
	t.Helper()
	home := t.TempDir()
	d, err := daemon.New(daemon.Options{
		Home: home, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Durations: cloud.Durations{ClusterCreate: 30 * time.Millisecond, ClusterUpgrade: 30 * time.Millisecond, ClusterDelete: 10 * time.Millisecond, PoolCreate: 10 * time.Millisecond, PoolDelete: 10 * time.Millisecond},
	})
	require.NoError(t, err)
	require.NoError(t, d.Listen())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	c, err := client.New(client.Options{Home: home, Addr: d.Addr()})
	require.NoError(t, err)
	return simctl.Target{Home: home, Addr: d.Addr()}, c
}

func TestStatusShowsClustersPoolsCostsAndFaults(t *testing.T) {
	t.Parallel()
	target, c := serve(t)
	ctx := context.Background()
	cl, err := c.CreateCluster(ctx, cloud.ClusterSpec{Name: "dev-east", Region: "sim-east-1", Version: "1.31"}, "")
	require.NoError(t, err)
	_, err = c.CreateNodePool(ctx, cloud.NodePoolSpec{Name: "app-spot", Cluster: cl.ID, CapacityType: cloud.Spot, InstanceTypes: []string{"m6i.large"}, MinSize: 0, MaxSize: 5, DesiredSize: 3}, "")
	require.NoError(t, err)

	var out bytes.Buffer
	require.NoError(t, simctl.SpotShortage(ctx, &out, simctl.SpotShortageOptions{Target: target, Region: "sim-east-1", Zone: "sim-east-1a"}))
	assert.Equal(t, "spot capacity is short in sim-east-1a: spot nodes there are gone; fallback pools take over after their provision timeout\n", out.String())
	out.Reset()
	require.NoError(t, simctl.UpgradeFailure(ctx, &out, simctl.UpgradeFailureOptions{Target: target, Cluster: "dev-east"}))
	require.NoError(t, simctl.APIErrors(ctx, &out, simctl.APIErrorsOptions{Target: target, Rate: 0.1, Seed: 3}))
	require.NoError(t, simctl.Unoffer(ctx, &out, simctl.UnofferOptions{Target: target, Region: "sim-east-1", Version: "1.34"}))

	out.Reset()
	require.NoError(t, simctl.Status(ctx, &out, simctl.StatusOptions{Target: target}))
	s := out.String()
	for _, want := range []string{
		"fleetsim daemon: pid ",
		"kube off",
		"dev-east  sim-east-1  1.31     -     ACTIVE",
		"dev-east/app-spot  spot      m6i.large  1.31     2/3",
		"fleet: 1 clusters, $0.1672 per hour", // control plane 0.10 + 2 spot m6i.large at 0.0336
		"spot-shortage    sim-east-1a",
		"upgrade-failure  dev-east",
		"api-errors       rate 0.1 (seed 3)",
		"unoffer          1.34 in sim-east-1",
	} {
		assert.Contains(t, s, want)
	}

	out.Reset()
	require.NoError(t, simctl.Status(ctx, &out, simctl.StatusOptions{Target: target, JSON: true}))
	var st cloud.State
	require.NoError(t, json.Unmarshal(out.Bytes(), &st))
	assert.Len(t, st.Clusters, 1)

	out.Reset()
	require.NoError(t, simctl.Clear(ctx, &out, simctl.ClearOptions{Target: target}))
	assert.Equal(t, "cleared 4 fault(s)\n", out.String())
}

func TestDrift(t *testing.T) {
	t.Parallel()
	target, c := serve(t)
	ctx := context.Background()
	cl, err := c.CreateCluster(ctx, cloud.ClusterSpec{Name: "dev", Region: "sim-ap-1", Version: "1.31"}, "")
	require.NoError(t, err)
	_, err = c.CreateNodePool(ctx, cloud.NodePoolSpec{Name: "web", Cluster: cl.ID, InstanceTypes: []string{"m6i.large"}, MinSize: 1, MaxSize: 4, DesiredSize: 2}, "")
	require.NoError(t, err)

	var out bytes.Buffer
	four := 4
	tags, err := simctl.ParseKeyValues([]string{"owner=ops", "note=a=b"})
	require.NoError(t, err)
	require.NoError(t, simctl.DriftPool(ctx, &out, simctl.DriftPoolOptions{Target: target, Pool: "dev/web", DesiredSize: &four, Tags: tags}))
	assert.Equal(t, "node pool dev/web changed out of band: desired 4 (min 1, max 4), version 1.31, tags {note=a=b, owner=ops}; `pulumi refresh` will see it\n", out.String())

	out.Reset()
	require.NoError(t, simctl.DriftCluster(ctx, &out, simctl.DriftClusterOptions{Target: target, Cluster: "dev", Version: "1.32"}))
	assert.Contains(t, out.String(), "cluster dev changed out of band: version 1.32")

	err = simctl.DriftCluster(ctx, &out, simctl.DriftClusterOptions{Target: target, Cluster: "dev", Version: "1.34"})
	assert.ErrorContains(t, err, `cluster "dev": cannot upgrade from 1.32 to 1.34`)

	out.Reset()
	require.NoError(t, simctl.DriftCluster(ctx, &out, simctl.DriftClusterOptions{Target: target, Cluster: "dev", Delete: true}))
	assert.Equal(t, "cluster dev and its node pools deleted out of band\n", out.String())

	_, err = simctl.ParseKeyValues([]string{"novalue"})
	assert.ErrorContains(t, err, `"novalue": use key=value`)
}

func TestStatusWithoutADaemon(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	home := t.TempDir()
	require.NoError(t, simctl.Status(context.Background(), &out, simctl.StatusOptions{Target: simctl.Target{Home: home}}))
	assert.Equal(t, "fleetsim daemon: not running (home "+home+"); it starts on demand, or with `flotilla sim start`\n", out.String())
	out.Reset()
	require.NoError(t, simctl.Stop(context.Background(), &out, simctl.Target{Home: home}))
	assert.Equal(t, "no fleetsim daemon is running (home "+home+")\n", out.String())
}
