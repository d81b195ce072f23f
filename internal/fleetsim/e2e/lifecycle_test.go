package e2e_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	fleetsim "github.com/flotilla-io/flotilla/internal/fleetsim/sdk"
	"github.com/flotilla-io/flotilla/internal/simtest"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// knobs are what a test changes in its program between runs.
type knobs struct {
	version string
	zones   []string
}

func clusterAndSpotPool(k *knobs) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		args := &fleetsim.ClusterArgs{
			Region:  pulumi.String("sim-east-1"),
			Version: pulumi.String(k.version),
			Tags:    pulumi.StringMap{"team": pulumi.String("platform")},
		}
		if k.zones != nil {
			args.Zones = pulumi.ToStringArray(k.zones)
		}
		cl, err := fleetsim.NewCluster(ctx, "e2e-east", args)
		if err != nil {
			return err
		}
		spot, err := fleetsim.NewNodePool(ctx, "e2e-east-spot", &fleetsim.NodePoolArgs{
			Cluster:       cl.ID().ToStringOutput(),
			CapacityType:  pulumi.String("spot"),
			InstanceTypes: pulumi.StringArray{pulumi.String("m6i.large")},
			MinSize:       pulumi.Int(0),
			MaxSize:       pulumi.Int(6),
			DesiredSize:   pulumi.Int(3),
			Labels:        pulumi.StringMap{"flotilla.io/pool": pulumi.String("app")},
			Taints: fleetsim.TaintArray{fleetsim.TaintArgs{
				Key: pulumi.String("flotilla.io/spot"), Value: pulumi.String("true"), Effect: pulumi.String("NoSchedule"),
			}},
		})
		if err != nil {
			return err
		}
		ctx.Export("clusterId", cl.ID())
		ctx.Export("endpoint", cl.Endpoint)
		ctx.Export("kubeconfig", cl.Kubeconfig)
		ctx.Export("version", cl.Version)
		ctx.Export("kubeVersion", cl.KubeVersion)
		ctx.Export("poolId", spot.ID())
		ctx.Export("readyNodes", spot.ReadyNodes)
		ctx.Export("hourlyCost", spot.HourlyCost)
		return nil
	}
}

// stateResource is a resource as the stack's state records it.
type stateResource struct {
	Type    string         `json:"type"`
	URN     string         `json:"urn"`
	Outputs map[string]any `json:"outputs"`
}

// stateResources returns the resources of the stack's state.
func stateResources(t *testing.T, s auto.Stack) []stateResource {
	t.Helper()
	dep, err := s.Export(ctxT(t))
	require.NoError(t, err)
	var d struct {
		Resources []stateResource `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(dep.Deployment, &d))
	return d.Resources
}

// resourceOutputs returns the outputs the stack's state records for a resource type.
func resourceOutputs(t *testing.T, s auto.Stack, typ string) map[string]any {
	t.Helper()
	for _, r := range stateResources(t, s) {
		if r.Type == typ {
			return r.Outputs
		}
	}
	t.Fatalf("no %s in the stack's state", typ)
	return nil
}

// TestLifecycle takes a cluster and a spot pool through up, an in-place upgrade, a
// refresh that sees an out-of-band change, an upgrade the cloud refuses, and destroy.
func TestLifecycle(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t)
	k := &knobs{version: "1.31"}
	stack := simtest.Stack(t, sim, "lifecycle", clusterAndSpotPool(k))

	// up
	res := simtest.Up(t, stack)
	assert.Equal(t, 3, (*res.Summary.ResourceChanges)["create"], "the stack, the cluster and the pool")
	st := sim.State(t)
	require.Len(t, st.Clusters, 1)
	require.Len(t, st.Pools, 1)
	var cl *cloud.Cluster
	for _, c := range st.Clusters {
		cl = c
	}
	assert.Equal(t, "e2e-east", cl.Name)
	assert.Equal(t, "1.31", cl.Version)
	assert.Equal(t, []string{"sim-east-1a", "sim-east-1b", "sim-east-1c"}, cl.Zones)
	assert.Equal(t, map[string]string{"team": "platform"}, cl.Tags)
	assert.Equal(t, cl.ID, res.Outputs["clusterId"].Value)
	assert.Equal(t, cl.Endpoint, res.Outputs["endpoint"].Value)
	assert.True(t, strings.HasPrefix(cl.Endpoint, "https://"))
	assert.True(t, res.Outputs["kubeconfig"].Secret, "the kubeconfig is a secret")
	assert.Equal(t, "", res.Outputs["kubeVersion"].Value, "lite mode runs no control-plane binary")
	assert.Equal(t, 3.0, res.Outputs["readyNodes"].Value)
	assert.InDelta(t, 3*0.0336, res.Outputs["hourlyCost"].Value, 1e-9)
	var pool *cloud.NodePool
	for _, p := range st.Pools {
		pool = p
	}
	assert.Equal(t, cl.ID, pool.ClusterID)
	assert.Equal(t, "spot", pool.CapacityType)
	assert.Equal(t, []cloud.Taint{{Key: "flotilla.io/spot", Value: "true", Effect: "NoSchedule"}}, pool.Taints)
	assert.Equal(t, "1.31", pool.Version)

	// A second up with nothing changed changes nothing.
	res = simtest.Up(t, stack)
	assert.Equal(t, 3, (*res.Summary.ResourceChanges)["same"])

	// An upgrade is an update in place.
	k.version = "1.32"
	res = simtest.Up(t, stack)
	assert.Equal(t, 1, (*res.Summary.ResourceChanges)["update"])
	assert.Zero(t, (*res.Summary.ResourceChanges)["replace"])
	got, err := sim.Client.GetCluster(ctxT(t), cl.ID)
	require.NoError(t, err, "the same cluster, upgraded in place")
	assert.Equal(t, "1.32", got.Version)
	assert.Equal(t, "1.32", res.Outputs["version"].Value)

	// Someone scales the pool by hand; refresh sees it and the next up puts it back.
	five := 5
	require.NoError(t, sim.Client.DriftNodePool(ctxT(t), pool.ID, cloud.NodePoolDrift{DesiredSize: &five, Tags: map[string]string{"owner": "someone"}}))
	ref := simtest.Refresh(t, stack)
	assert.Equal(t, 1, (*ref.Summary.ResourceChanges)["update"], "refresh sees the out-of-band change")
	outs := resourceOutputs(t, stack, fleetsim.NodePoolType)
	assert.Equal(t, 5.0, outs["desiredSize"])
	assert.Equal(t, 5.0, outs["readyNodes"])
	assert.Equal(t, map[string]any{"owner": "someone"}, outs["tags"])
	res = simtest.Up(t, stack)
	assert.Equal(t, 1, (*res.Summary.ResourceChanges)["update"])
	p, err := sim.Client.GetNodePool(ctxT(t), pool.ID)
	require.NoError(t, err)
	assert.Equal(t, 3, p.DesiredSize)
	assert.Empty(t, p.Tags)

	// A two-minor jump is refused by the cloud, and the caller reads why.
	k.version = "1.34"
	_, err = simtest.TryUp(t, stack)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `cluster "e2e-east": cannot upgrade from 1.32 to 1.34: the control plane upgrades one minor version at a time (next: 1.33)`)
	got, err = sim.Client.GetCluster(ctxT(t), cl.ID)
	require.NoError(t, err)
	assert.Equal(t, "1.32", got.Version)

	// destroy leaves the simulated cloud empty.
	simtest.Destroy(t, stack)
	st = sim.State(t)
	assert.Empty(t, st.Clusters)
	assert.Empty(t, st.Pools)

	// The engine used the plugin on PATH and never installed one.
	_, err = os.Stat(filepath.Join(sim.PulumiHome, "plugins", "resource-fleetsim-v0.1.0"))
	assert.True(t, os.IsNotExist(err), "the fleetsim plugin was installed into PULUMI_HOME: %v", err)
}
