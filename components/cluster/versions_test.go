package cluster_test

import (
	"encoding/json"
	"regexp"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
)

// tokEngineVersions is GKE's version lookup (google_container_engine_versions).
const tokEngineVersions = "gcp:container/getEngineVersions:getEngineVersions"

// gkeLatest130 is the newest 1.30 node version the mocked GKE offers.
const gkeLatest130 = "1.30.9-gke.1200"

// versionMocks are the cloud mocks, with GKE's version lookup answering for 1.30 and
// recording what it was asked.
func versionMocks() (*pulumitest.Mocks, *[]resource.PropertyMap) {
	m := newMocks()
	var mu sync.Mutex
	var asked []resource.PropertyMap
	m.Calls[tokEngineVersions] = func(args resource.PropertyMap) (resource.PropertyMap, error) {
		mu.Lock()
		defer mu.Unlock()
		asked = append(asked, args)
		latest := ""
		if args["versionPrefix"].StringValue() == "1.30." {
			latest = gkeLatest130
		}
		return resource.PropertyMap{"latestNodeVersion": resource.NewProperty(latest)}, nil
	}
	return m, &asked
}

func runVersions(t *testing.T, args *cluster.Args) (*pulumitest.Mocks, *cluster.Cluster, []resource.PropertyMap) {
	t.Helper()
	m, asked := versionMocks()
	var c *cluster.Cluster
	require.NoError(t, m.Run(func(ctx *pulumi.Context) error {
		var err error
		c, err = cluster.New(ctx, "eu", args)
		return err
	}))
	return m, c, *asked
}

func TestNodeVersionValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		cloud       cluster.Cloud
		version     string
		nodeVersion string
		want        string
	}{
		{name: "patch version", cloud: cluster.AWS, version: "1.31", nodeVersion: "1.30.4",
			want: `NodeVersion "1.30.4" is not a Kubernetes minor in MAJOR.MINOR form`},
		{name: "newer than the control plane", cloud: cluster.AWS, version: "1.31", nodeVersion: "1.32",
			want: `NodeVersion "1.32" and Version "1.31": nodes at 1.32 would be newer than their control plane at 1.31`},
		{name: "four behind on EKS", cloud: cluster.AWS, version: "1.31", nodeVersion: "1.27",
			want: `NodeVersion "1.27" and Version "1.31": nodes at 1.27 would be 4 minors older than their control plane at 1.31, and aws allows 3`},
		{name: "three behind on GKE", cloud: cluster.GCP, version: "1.31", nodeVersion: "1.28",
			want: `nodes at 1.28 would be 3 minors older than their control plane at 1.31, and gcp allows 2`},
		{name: "three behind on AKS", cloud: cluster.Azure, version: "1.31", nodeVersion: "1.28",
			want: `and azure allows 2`},
		{name: "four behind on the simulator", cloud: cluster.Sim, version: "1.33", nodeVersion: "1.29",
			want: `nodes at 1.29 would be 4 minors older than their control plane at 1.33, and sim allows 3`},
		{name: "not offered in the sim region", cloud: cluster.Sim, version: "1.31", nodeVersion: "1.28",
			want: `NodeVersion "1.28" is not offered in "sim-eu-1", which offers 1.29, 1.30, 1.31, 1.32, 1.33`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(tt.cloud)
			args.Version, args.NodeVersion = tt.version, tt.nodeVersion
			m := newMocks()
			err := m.Run(func(ctx *pulumi.Context) error {
				_, err := cluster.New(ctx, "eu", args)
				return err
			})
			require.Error(t, err)
			assert.True(t, cluster.IsInvalidArgs(err), "%v", err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, m.Resources(), "nothing may be registered when args are invalid")
		})
	}
}

func TestNodeVersionWithinSkewIsAccepted(t *testing.T) {
	t.Parallel()
	for cloud, nodes := range map[cluster.Cloud]string{cluster.AWS: "1.28", cluster.GCP: "1.29", cluster.Azure: "1.29", cluster.Sim: "1.29"} {
		t.Run(string(cloud), func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cloud)
			args.NodeVersion = nodes
			m, _ := versionMocks()
			require.NoError(t, m.Run(func(ctx *pulumi.Context) error {
				_, err := cluster.New(ctx, "eu", args)
				return err
			}), "%s nodes %d minors behind", cloud, cluster.MaxNodeSkew(cloud))
		})
	}
}

// TestNoNodeVersionKeepsEveryProperty pins the default: a cluster without NodeVersion,
// and one whose NodeVersion is its Version, register exactly the same resources with the
// same properties, so that existing stacks keep their meaning and their state.
func TestNoNodeVersionKeepsEveryProperty(t *testing.T) {
	t.Parallel()
	for _, cloud := range []cluster.Cloud{cluster.AWS, cluster.GCP, cluster.Azure, cluster.Sim} {
		t.Run(string(cloud), func(t *testing.T) {
			t.Parallel()
			unset, _, _ := runVersions(t, baseArgs(cloud))
			same := baseArgs(cloud)
			same.NodeVersion = same.Version
			set, _, asked := runVersions(t, same)
			assert.Empty(t, asked, "nodes at the control plane's minor need no version lookup")

			byURN := map[string]pulumitest.Resource{}
			for _, r := range set.Resources() {
				byURN[r.URN] = r
			}
			require.Len(t, byURN, len(unset.Resources()))
			for _, r := range unset.Resources() {
				other, ok := byURN[r.URN]
				require.True(t, ok, "%s is registered either way", r.URN)
				assert.JSONEq(t, withoutIDs(t, r), withoutIDs(t, other), r.URN)
			}
		})
	}
}

// mockID matches the sequence number in the IDs the mocks hand out, which depends on the
// order the SDK's goroutines register resources in.
var mockID = regexp.MustCompile(`-id-[0-9]+`)

// withoutIDs is r's inputs as JSON, with the mocks' sequence numbers left out of IDs.
func withoutIDs(t *testing.T, r pulumitest.Resource) string {
	t.Helper()
	raw, err := json.Marshal(r.Inputs.Mappable())
	require.NoError(t, err)
	return mockID.ReplaceAllString(string(raw), "-id")
}

func TestSystemPoolRunsTheNodeVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cloud cluster.Cloud
		// pool reads the system pool's version property from the recorded resources.
		pool func(t *testing.T, m *pulumitest.Mocks) string
		// controlPlane reads the control plane's version property.
		controlPlane func(t *testing.T, m *pulumitest.Mocks) string
		// following is the pool's version when it follows the control plane.
		following, lagging string
	}{
		{
			cloud: cluster.AWS,
			pool: func(t *testing.T, m *pulumitest.Mocks) string {
				return in(t, m.MustGet(t, tokNodeGroup, "eu-system"), "version").StringValue()
			},
			controlPlane: func(t *testing.T, m *pulumitest.Mocks) string {
				return in(t, m.MustGet(t, tokEKS, "eu-eks"), "version").StringValue()
			},
			following: "1.31", lagging: "1.30",
		},
		{
			cloud: cluster.GCP,
			pool: func(t *testing.T, m *pulumitest.Mocks) string {
				return in(t, m.MustGet(t, tokNodePool, "eu-system"), "version").StringValue()
			},
			controlPlane: func(t *testing.T, m *pulumitest.Mocks) string {
				return in(t, m.MustGet(t, tokGKE, "eu-gke"), "minMasterVersion").StringValue()
			},
			// GKE pools take an exact version: the master's, or the newest patch of the
			// lagging minor that GKE offers.
			following: gkeVersion, lagging: gkeLatest130,
		},
		{
			cloud: cluster.Azure,
			pool: func(t *testing.T, m *pulumitest.Mocks) string {
				return at(t, in(t, m.MustGet(t, tokAKS, "eu-aks"), "agentPoolProfiles").ArrayValue()[0], "orchestratorVersion").StringValue()
			},
			controlPlane: func(t *testing.T, m *pulumitest.Mocks) string {
				return in(t, m.MustGet(t, tokAKS, "eu-aks"), "kubernetesVersion").StringValue()
			},
			following: "1.31", lagging: "1.30",
		},
		{
			cloud: cluster.Sim,
			pool: func(t *testing.T, m *pulumitest.Mocks) string {
				return in(t, m.MustGet(t, tokSimPool, "eu-system"), "version").StringValue()
			},
			controlPlane: func(t *testing.T, m *pulumitest.Mocks) string {
				return in(t, m.MustGet(t, tokSimCluster, "eu-cluster"), "version").StringValue()
			},
			following: "1.31", lagging: "1.30",
		},
	}
	for _, tt := range tests {
		t.Run(string(tt.cloud), func(t *testing.T) {
			t.Parallel()
			m, c, _ := runVersions(t, baseArgs(tt.cloud))
			assert.Equal(t, tt.following, tt.pool(t, m))
			assert.Equal(t, "1.31", await(t, c.NodeVersion), "read from the system pool's resource")
			assert.Equal(t, "1.31", await(t, c.Version))

			args := baseArgs(tt.cloud)
			args.NodeVersion = "1.30"
			m, c, asked := runVersions(t, args)
			assert.Equal(t, "1.31", tt.controlPlane(t, m), "the control plane keeps Version")
			assert.Equal(t, tt.lagging, tt.pool(t, m))
			assert.Equal(t, "1.30", await(t, c.NodeVersion))
			assert.Equal(t, "1.31", await(t, c.Version))
			if tt.cloud == cluster.GCP {
				require.Len(t, asked, 1)
				assert.Equal(t, "europe-west1", asked[0]["location"].StringValue(), "a regional cluster's versions are the region's")
				assert.Equal(t, "1.30.", asked[0]["versionPrefix"].StringValue(), "the trailing dot keeps 1.3 from matching 1.30")
			}
		})
	}
}

// TestFlotillaOwnsUpgrades checks what each cloud is told so that only Flotilla moves a
// cluster's minor, and how its nodes roll when it does.
func TestFlotillaOwnsUpgrades(t *testing.T) {
	t.Parallel()
	t.Run("aws", func(t *testing.T) {
		t.Parallel()
		m, c, _ := runVersions(t, baseArgs(cluster.AWS))
		// EXTENDED: EKS never upgrades the control plane at the end of standard support
		// (https://docs.aws.amazon.com/eks/latest/userguide/view-upgrade-policy.html).
		assert.Equal(t, "EXTENDED", in(t, m.MustGet(t, tokEKS, "eu-eks"), "upgradePolicy", "supportType").StringValue())
		// One node unavailable at a time
		// (https://docs.aws.amazon.com/eks/latest/userguide/managed-node-update-behavior.html).
		sys := m.MustGet(t, tokNodeGroup, "eu-system")
		assert.Equal(t, resource.NewProperty(resource.PropertyMap{"maxUnavailable": resource.NewProperty(1.0)}), in(t, sys, "updateConfig"))
		assert.Equal(t, cluster.AutoUpgradeNone, await(t, c.AutoUpgrade))
	})
	t.Run("gcp", func(t *testing.T) {
		t.Parallel()
		m, c, _ := runVersions(t, baseArgs(cluster.GCP))
		// No release channel
		// (https://cloud.google.com/kubernetes-engine/docs/concepts/release-channels#no_channel).
		assert.Equal(t, "UNSPECIFIED", in(t, m.MustGet(t, tokGKE, "eu-gke"), "releaseChannel", "channel").StringValue())
		pool := m.MustGet(t, tokNodePool, "eu-system")
		// Nodes are repaired, never upgraded by GKE
		// (https://cloud.google.com/kubernetes-engine/docs/how-to/node-auto-upgrades).
		assert.Equal(t, resource.NewProperty(resource.PropertyMap{
			"autoRepair":  resource.NewProperty(true),
			"autoUpgrade": resource.NewProperty(false),
		}), in(t, pool, "management"))
		// Surge one node, none unavailable
		// (https://cloud.google.com/kubernetes-engine/docs/concepts/node-pool-upgrade-strategies#surge).
		assert.Equal(t, resource.NewProperty(resource.PropertyMap{
			"strategy":       resource.NewProperty("SURGE"),
			"maxSurge":       resource.NewProperty(1.0),
			"maxUnavailable": resource.NewProperty(0.0),
		}), in(t, pool, "upgradeSettings"))
		assert.Equal(t, cluster.AutoUpgradeNone, await(t, c.AutoUpgrade))
	})
	t.Run("azure", func(t *testing.T) {
		t.Parallel()
		m, c, _ := runVersions(t, baseArgs(cluster.Azure))
		aks := m.MustGet(t, tokAKS, "eu-aks")
		// No upgrade channel (https://learn.microsoft.com/azure/aks/auto-upgrade-cluster).
		assert.Equal(t, "none", in(t, aks, "autoUpgradeProfile", "upgradeChannel").StringValue())
		// A third of the pool surges
		// (https://learn.microsoft.com/azure/aks/upgrade-aks-node-pools-rolling#customize-node-surge).
		sys := in(t, aks, "agentPoolProfiles").ArrayValue()[0]
		assert.Equal(t, resource.NewProperty(resource.PropertyMap{"maxSurge": resource.NewProperty("33%")}), at(t, sys, "upgradeSettings"))
		assert.Equal(t, cluster.AutoUpgradeNone, await(t, c.AutoUpgrade))
	})
	t.Run("sim", func(t *testing.T) {
		t.Parallel()
		_, c, _ := runVersions(t, baseArgs(cluster.Sim))
		assert.Equal(t, cluster.AutoUpgradeNone, await(t, c.AutoUpgrade), "the simulated cloud upgrades nothing on its own")
	})
}

// TestAutoUpgradeReadsTheState checks that AutoUpgrade comes from the cluster's
// resource: a channel set out of band, which a refresh reads back, shows.
func TestAutoUpgradeReadsTheState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cloud cluster.Cloud
		token string
		state resource.PropertyMap
		want  string
	}{
		{cloud: cluster.AWS, token: tokEKS, want: "EKS support type STANDARD",
			state: resource.PropertyMap{"upgradePolicy": resource.NewProperty(resource.PropertyMap{"supportType": resource.NewProperty("STANDARD")})}},
		{cloud: cluster.GCP, token: tokGKE, want: "GKE release channel REGULAR",
			state: resource.PropertyMap{"releaseChannel": resource.NewProperty(resource.PropertyMap{"channel": resource.NewProperty("REGULAR")})}},
		{cloud: cluster.Azure, token: tokAKS, want: "AKS upgrade channel stable",
			state: resource.PropertyMap{"autoUpgradeProfile": resource.NewProperty(resource.PropertyMap{"upgradeChannel": resource.NewProperty("stable")})}},
	}
	for _, tt := range tests {
		t.Run(string(tt.cloud), func(t *testing.T) {
			t.Parallel()
			m := newMocks()
			cloudOutputs := m.Outputs[tt.token]
			m.Outputs[tt.token] = func(r pulumitest.Resource) resource.PropertyMap {
				out := resource.PropertyMap{}
				if cloudOutputs != nil {
					out = cloudOutputs(r)
				}
				for k, v := range tt.state {
					out[k] = v
				}
				return out
			}
			var c *cluster.Cluster
			require.NoError(t, m.Run(func(ctx *pulumi.Context) error {
				var err error
				c, err = cluster.New(ctx, "eu", baseArgs(tt.cloud))
				return err
			}))
			assert.Equal(t, tt.want, await(t, c.AutoUpgrade))
		})
	}
}

func TestCheckNodeVersion(t *testing.T) {
	t.Parallel()
	assert.NoError(t, cluster.CheckNodeVersion(cluster.AWS, "1.31", "1.31"))
	assert.NoError(t, cluster.CheckNodeVersion(cluster.AWS, "1.31", "1.28"))
	assert.NoError(t, cluster.CheckNodeVersion(cluster.AWS, "1.31", "1.31.2"), "a malformed minor is another check's business")
	var skew *cluster.NodeSkewError
	require.ErrorAs(t, cluster.CheckNodeVersion(cluster.GCP, "1.31", "1.28"), &skew)
	assert.Equal(t, cluster.NodeSkewError{Cloud: cluster.GCP, ControlPlane: "1.31", Nodes: "1.28", Behind: 3, Max: 2}, *skew)
	require.ErrorAs(t, cluster.CheckNodeVersion(cluster.Sim, "1.9", "1.10"), &skew)
	assert.Equal(t, -1, skew.Behind, "1.10 is newer than 1.9")
}

func TestMaxNodeSkew(t *testing.T) {
	t.Parallel()
	assert.Equal(t, 3, cluster.MaxNodeSkew(cluster.AWS))
	assert.Equal(t, 2, cluster.MaxNodeSkew(cluster.GCP))
	assert.Equal(t, 2, cluster.MaxNodeSkew(cluster.Azure))
	assert.Equal(t, 3, cluster.MaxNodeSkew(cluster.Sim))
	assert.Equal(t, 3, cluster.MaxNodeSkew("oci"), "the Kubernetes version-skew policy")
}
