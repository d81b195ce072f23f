package spotpool_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/spotpool"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
)

// gkeLatest130 is the newest 1.30 node version the mocked GKE offers.
const gkeLatest130 = "1.30.9-gke.1200"

// registration is what the engine is told a resource depends on.
type registration struct {
	urn string
	// deps are every dependency; byProperty those that come from an input property.
	deps, byProperty []string
}

// depMocks are the recording mocks that also keep each resource's dependencies, as the
// register-resource call carries them to the engine.
type depMocks struct {
	*pulumitest.Mocks
	mu  sync.Mutex
	reg map[string]registration // by resource name
}

func (d *depMocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	id, state, err := d.Mocks.NewResource(args)
	if rpc := args.RegisterRPC; rpc != nil && err == nil {
		r := registration{deps: rpc.GetDependencies()}
		for _, pd := range rpc.GetPropertyDependencies() {
			r.byProperty = append(r.byProperty, pd.GetUrns()...)
		}
		res, _ := d.Get(args.TypeToken, args.Name)
		r.urn = res.URN
		d.mu.Lock()
		d.reg[args.Name] = r
		d.mu.Unlock()
	}
	return id, state, err
}

// dependsOn reports whether resource name was registered with a DependsOn on the
// resource called on: a dependency that no input property accounts for.
func (d *depMocks) dependsOn(t *testing.T, name, on string) bool {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	r, ok := d.reg[name]
	require.True(t, ok, "%s is registered", name)
	target, ok := d.reg[on]
	require.True(t, ok, "%s is registered", on)
	return slices.Contains(r.deps, target.urn) && !slices.Contains(r.byProperty, target.urn)
}

// runOn builds a cluster on cloud, with nodes at nodeVersion ("" for the control
// plane's), and a spot pool "batch" edited by edit, under mocks that keep dependencies.
func runOn(t *testing.T, cloud cluster.Cloud, nodeVersion string, edit func(*spotpool.Args)) (*depMocks, *spotpool.SpotNodePool) {
	t.Helper()
	d := &depMocks{Mocks: pulumitest.New().FakeClouds(), reg: map[string]registration{}}
	d.Calls["gcp:container/getEngineVersions:getEngineVersions"] = func(args resource.PropertyMap) (resource.PropertyMap, error) {
		if args["versionPrefix"].StringValue() != "1.30." {
			return nil, fmt.Errorf("unexpected version prefix %v", args["versionPrefix"])
		}
		return resource.PropertyMap{"latestNodeVersion": resource.NewProperty(gkeLatest130)}, nil
	}
	var pool *spotpool.SpotNodePool
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		args := clusterArgs(cloud, "staging")
		args.NodeVersion = nodeVersion
		args.SimLite = cloud == cluster.Sim
		c, err := cluster.New(ctx, "eu", args)
		if err != nil {
			return err
		}
		pa := poolArgs(c)
		if edit != nil {
			edit(pa)
		}
		pool, err = spotpool.New(ctx, "batch", pa)
		return err
	}, pulumi.WithMocks(pulumitest.Project, pulumitest.Stack, d))
	require.NoError(t, err)
	return d, pool
}

// groupNames are the resource names of a pool "batch"'s spot and fallback groups on
// cloud with two instance types per capacity.
func groupNames(cloud cluster.Cloud) (spot, fallback []string) {
	switch cloud {
	case cluster.GCP, cluster.Azure:
		return []string{"batch-spot-0", "batch-spot-1"}, []string{"batch-fallback-0", "batch-fallback-1"}
	}
	return []string{"batch-spot"}, []string{"batch-fallback"}
}

// everyCloud are the clouds and the simulator.
var everyCloud = []cluster.Cloud{cluster.AWS, cluster.GCP, cluster.Azure, cluster.Sim}

// groupToken is the type of cloud's node groups.
var groupToken = map[cluster.Cloud]string{
	cluster.AWS:   tokNodeGroup,
	cluster.GCP:   tokNodePool,
	cluster.Azure: tokAgentPool,
	cluster.Sim:   tokSimPool,
}

// twoTypes keeps two instance types per capacity, so that GCP and Azure have two groups
// of each.
func twoTypes(a *spotpool.Args) { a.InstanceTypes = a.InstanceTypes[:2] }

// TestSpotWaitsForItsFallback checks that every spot group is registered with a
// DependsOn on every fallback group of its pool, so that an update which changes both
// (an upgrade) updates the fallback first, and that no fallback group waits for spot.
func TestSpotWaitsForItsFallback(t *testing.T) {
	t.Parallel()
	for _, cloud := range everyCloud {
		t.Run(string(cloud), func(t *testing.T) {
			t.Parallel()
			d, _ := runOn(t, cloud, "", twoTypes)
			spot, fallback := groupNames(cloud)
			for _, s := range spot {
				for _, f := range fallback {
					assert.True(t, d.dependsOn(t, s, f), "%s depends on %s", s, f)
					assert.False(t, d.dependsOn(t, f, s), "%s never waits for %s", f, s)
				}
			}
		})
	}
}

// TestAKSPoolsAreCreatedInTurn checks that AKS, which runs one operation per cluster at
// a time, still gets its pools one after another: the fallbacks, then the spot pools.
func TestAKSPoolsAreCreatedInTurn(t *testing.T) {
	t.Parallel()
	d, _ := runOn(t, cluster.Azure, "", twoTypes)
	chain := []string{"batch-fallback-0", "batch-fallback-1", "batch-spot-0", "batch-spot-1"}
	for i := 1; i < len(chain); i++ {
		assert.True(t, d.dependsOn(t, chain[i], chain[i-1]), "%s after %s", chain[i], chain[i-1])
	}
}

func TestNoFallbackNoDependency(t *testing.T) {
	t.Parallel()
	for _, cloud := range everyCloud {
		t.Run(string(cloud), func(t *testing.T) {
			t.Parallel()
			d, pool := runOn(t, cloud, "", func(a *spotpool.Args) {
				twoTypes(a)
				a.Fallback.Disabled = true
			})
			spot, fallback := groupNames(cloud)
			for _, s := range spot {
				d.MustGet(t, groupToken[cloud], s)
			}
			for _, f := range fallback {
				_, ok := d.Get(groupToken[cloud], f)
				assert.False(t, ok, "%s is not registered", f)
			}
			assert.Equal(t, "", pulumitest.Await(t, pool.FallbackVersion), "no fallback, no fallback version")
			assert.Equal(t, "1.31", pulumitest.Await(t, pool.SpotVersion))
		})
	}
}

// TestPoolsRunTheNodeVersion checks the version every group of a pool gives its cloud:
// the control plane's while the nodes run its minor, and the cluster's node version
// when they lag.
func TestPoolsRunTheNodeVersion(t *testing.T) {
	t.Parallel()
	version := func(t *testing.T, cloud cluster.Cloud, r pulumitest.Resource) string {
		key := "version"
		if cloud == cluster.Azure {
			key = "orchestratorVersion"
		}
		return in(t, r, key).StringValue()
	}
	tests := []struct {
		cloud              cluster.Cloud
		following, lagging string
	}{
		{cloud: cluster.AWS, following: "1.31", lagging: "1.30"},
		// GKE pools take an exact version: the master's, or the newest patch of the
		// lagging minor GKE offers.
		{cloud: cluster.GCP, following: pulumitest.FakeGKEVersion, lagging: gkeLatest130},
		{cloud: cluster.Azure, following: "1.31", lagging: "1.30"},
		{cloud: cluster.Sim, following: "1.31", lagging: "1.30"},
	}
	for _, tt := range tests {
		t.Run(string(tt.cloud), func(t *testing.T) {
			t.Parallel()
			for _, c := range []struct{ nodes, want, minor string }{{"", tt.following, "1.31"}, {"1.30", tt.lagging, "1.30"}} {
				d, pool := runOn(t, tt.cloud, c.nodes, twoTypes)
				spot, fallback := groupNames(tt.cloud)
				for _, name := range append(spot, fallback...) {
					r := d.MustGet(t, groupToken[tt.cloud], name)
					assert.Equal(t, c.want, version(t, tt.cloud, r), "%s with nodes at %q", name, c.nodes)
				}
				assert.Equal(t, c.minor, pulumitest.Await(t, pool.SpotVersion), "read from the spot groups")
				assert.Equal(t, c.minor, pulumitest.Await(t, pool.FallbackVersion), "read from the fallback groups")
			}
		})
	}
}

// TestPoolsRollLikeTheSystemPool checks each cloud's upgrade settings on a pool's groups.
func TestPoolsRollLikeTheSystemPool(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cloud cluster.Cloud
		key   string
		want  resource.PropertyValue
	}{
		// One node unavailable at a time
		// (https://docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html).
		{cloud: cluster.AWS, key: "updateConfig", want: resource.NewProperty(resource.PropertyMap{
			"maxUnavailable": resource.NewProperty(1.0),
		})},
		// Surge one node, none unavailable
		// (https://cloud.google.com/kubernetes-engine/docs/concepts/node-pool-upgrade-strategies#surge).
		{cloud: cluster.GCP, key: "upgradeSettings", want: resource.NewProperty(resource.PropertyMap{
			"strategy":       resource.NewProperty("SURGE"),
			"maxSurge":       resource.NewProperty(1.0),
			"maxUnavailable": resource.NewProperty(0.0),
		})},
		// Nodes repaired, never upgraded by GKE
		// (https://cloud.google.com/kubernetes-engine/docs/how-to/node-auto-upgrades).
		{cloud: cluster.GCP, key: "management", want: resource.NewProperty(resource.PropertyMap{
			"autoRepair":  resource.NewProperty(true),
			"autoUpgrade": resource.NewProperty(false),
		})},
		// A third of the pool surges
		// (https://learn.microsoft.com/azure/aks/upgrade-aks-node-pools-rolling#customize-node-surge).
		{cloud: cluster.Azure, key: "upgradeSettings", want: resource.NewProperty(resource.PropertyMap{
			"maxSurge": resource.NewProperty("33%"),
		})},
	}
	for _, tt := range tests {
		t.Run(string(tt.cloud)+"/"+tt.key, func(t *testing.T) {
			t.Parallel()
			d, _ := runOn(t, tt.cloud, "", twoTypes)
			spot, fallback := groupNames(tt.cloud)
			for _, name := range append(spot, fallback...) {
				assert.Equal(t, tt.want, in(t, d.MustGet(t, groupToken[tt.cloud], name), tt.key), name)
			}
		})
	}
}
