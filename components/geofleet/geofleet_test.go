package geofleet_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/geofleet"
	"github.com/flotilla-io/flotilla/components/spotpool"
	fleetsim "github.com/flotilla-io/flotilla/internal/fleetsim/sdk"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
)

const (
	tokAWSProvider = "pulumi:providers:aws"
	tokGCPProvider = "pulumi:providers:gcp"
	tokAzProvider  = "pulumi:providers:azure-native"
	tokVPC         = "aws:ec2/vpc:Vpc"
	tokEKS         = "aws:eks/cluster:Cluster"
	tokSubnetwork  = "gcp:compute/subnetwork:Subnetwork"
	tokGKE         = "gcp:container/cluster:Cluster"
	tokAKS         = "azure-native:containerservice:ManagedCluster"
)

var (
	awsTypes   = []string{"m6i.large", "m6a.large", "m5.large", "m7i.large"}
	gcpTypes   = []string{"e2-standard-4", "n2-standard-4", "n2d-standard-4", "t2d-standard-4"}
	azureTypes = []string{"Standard_D4s_v5", "Standard_D4as_v5", "Standard_D4s_v4", "Standard_D4ds_v5"}
)

// multiCloud is a fleet on three clouds, with two clusters sharing one AWS region.
func multiCloud() *geofleet.Args {
	return &geofleet.Args{
		Environment:  "staging",
		Version:      "1.31",
		AddressSpace: "10.32.0.0/11",
		Tags:         costtags.Tags{"team": "platform"},
		Clusters: []geofleet.ClusterSpec{
			{Cloud: cluster.AWS, Region: "eu-west-1", SpotPools: []geofleet.SpotPoolSpec{
				{Name: "batch", InstanceTypes: awsTypes, MaxSize: 10, Fallback: spotpool.Fallback{ProvisionTimeout: 3 * time.Minute}},
			}},
			{Name: "aws-eu-west-1-b", Cloud: cluster.AWS, Region: "eu-west-1", Version: "1.30", SpotPools: []geofleet.SpotPoolSpec{
				{Name: "batch", InstanceTypes: awsTypes, MaxSize: 10},
				{Name: "web", InstanceTypes: awsTypes, MinSize: 1, MaxSize: 5},
			}},
			{Cloud: cluster.GCP, Region: "europe-west1", SpotPools: []geofleet.SpotPoolSpec{
				{Name: "batch", InstanceTypes: gcpTypes[:2], MaxSize: 10},
			}},
			{Cloud: cluster.Azure, Region: "westeurope", SpotPools: []geofleet.SpotPoolSpec{
				{Name: "batch", InstanceTypes: azureTypes[:2], MaxSize: 10},
			}},
		},
	}
}

func runFleet(t *testing.T, name string, args *geofleet.Args) (*pulumitest.Mocks, *geofleet.GeoFleet) {
	t.Helper()
	m := pulumitest.New().FakeClouds()
	var fleet *geofleet.GeoFleet
	err := m.Run(func(ctx *pulumi.Context) error {
		var err error
		fleet, err = geofleet.New(ctx, name, args)
		return err
	})
	require.NoError(t, err)
	return m, fleet
}

// childOf returns the one resource of type typ whose parent is parentURN.
func childOf(t *testing.T, m *pulumitest.Mocks, parentURN, typ string) pulumitest.Resource {
	t.Helper()
	var found []pulumitest.Resource
	for _, r := range m.Children(parentURN) {
		if r.Type == typ {
			found = append(found, r)
		}
	}
	require.Len(t, found, 1, "%s under %s", typ, parentURN)
	return found[0]
}

// providerURN is the URN part of a provider reference "urn::id".
func providerURN(ref string) string {
	return ref[:max(strings.LastIndex(ref, "::"), 0)]
}

func TestNewMultiCloudFleet(t *testing.T) {
	t.Parallel()
	args := multiCloud()
	m, fleet := runFleet(t, "staging", args)

	fleetRes := m.MustGet(t, geofleet.TypeToken, "staging")
	want, err := geofleet.PlanNetworks(args.AddressSpace, args.Clusters, nil)
	require.NoError(t, err)
	assert.Equal(t, want, fleet.Networks)

	t.Run("one provider per cloud and region, owned by the fleet", func(t *testing.T) {
		for tok, want := range map[string]map[string]string{
			tokAWSProvider: {"staging-aws-eu-west-1": "eu-west-1"},
			tokGCPProvider: {"staging-gcp-europe-west1": "europe-west1"},
			tokAzProvider:  {"staging-azure-westeurope": "westeurope"},
		} {
			got := map[string]string{}
			for _, p := range m.ByType(tok) {
				assert.Equal(t, fleetRes.URN, p.Parent, p.Name)
				key := "region"
				if tok == tokAzProvider {
					key = "location"
				}
				got[p.Name] = p.Input(t, key).StringValue()
			}
			assert.Equal(t, want, got, tok)
		}
	})

	clusters := map[string]string{ // fleet key -> component name
		"aws-eu-west-1":    "staging-aws-eu-west-1",
		"aws-eu-west-1-b":  "staging-aws-eu-west-1-b",
		"gcp-europe-west1": "staging-gcp-europe-west1",
		"azure-westeurope": "staging-azure-westeurope",
	}
	require.Len(t, m.ByType(cluster.TypeToken), len(clusters))
	require.Len(t, fleet.Clusters, len(clusters))
	for key, name := range clusters {
		c := m.MustGet(t, cluster.TypeToken, name)
		assert.Equal(t, fleetRes.URN, c.Parent, name)
		require.Contains(t, fleet.Clusters, key)
		assert.Equal(t, "staging", fleet.Clusters[key].Tags["env"], "the environment is a cost tag")
		assert.Equal(t, "platform", fleet.Clusters[key].Tags["team"])
	}

	t.Run("the two clusters in eu-west-1 share its provider", func(t *testing.T) {
		shared := m.MustGet(t, tokAWSProvider, "staging-aws-eu-west-1").URN
		for _, name := range []string{"staging-aws-eu-west-1", "staging-aws-eu-west-1-b"} {
			c := m.MustGet(t, cluster.TypeToken, name)
			vpc := childOf(t, m, c.URN, tokVPC)
			assert.Equal(t, shared, providerURN(vpc.Provider), name)
			eks := childOf(t, m, c.URN, tokEKS)
			assert.Equal(t, shared, providerURN(eks.Provider), name)
		}
	})

	t.Run("clusters get the planned ranges", func(t *testing.T) {
		for _, key := range []string{"aws-eu-west-1", "aws-eu-west-1-b"} {
			c := m.MustGet(t, cluster.TypeToken, clusters[key])
			vpc := childOf(t, m, c.URN, tokVPC)
			assert.Equal(t, want[key].VPCCIDR, vpc.Input(t, "cidrBlock").StringValue(), key)
			eks := childOf(t, m, c.URN, tokEKS)
			assert.Equal(t, want[key].ServiceCIDR, eks.Input(t, "kubernetesNetworkConfig", "serviceIpv4Cidr").StringValue(), key)
		}
		gke := m.MustGet(t, cluster.TypeToken, clusters["gcp-europe-west1"])
		sub := childOf(t, m, gke.URN, tokSubnetwork)
		assert.Equal(t, want["gcp-europe-west1"].VPCCIDR, sub.Input(t, "ipCidrRange").StringValue())
		var secondary []string
		for _, r := range sub.Input(t, "secondaryIpRanges").ArrayValue() {
			secondary = append(secondary, r.ObjectValue()["ipCidrRange"].StringValue())
		}
		assert.ElementsMatch(t, []string{want["gcp-europe-west1"].PodCIDR, want["gcp-europe-west1"].ServiceCIDR}, secondary)
		aks := childOf(t, m, m.MustGet(t, cluster.TypeToken, clusters["azure-westeurope"]).URN, tokAKS)
		assert.Equal(t, want["azure-westeurope"].PodCIDR, aks.Input(t, "networkProfile", "podCidr").StringValue())
		assert.Equal(t, want["azure-westeurope"].ServiceCIDR, aks.Input(t, "networkProfile", "serviceCidr").StringValue())
	})

	t.Run("versions: the fleet's unless a cluster says otherwise", func(t *testing.T) {
		a := childOf(t, m, m.MustGet(t, cluster.TypeToken, "staging-aws-eu-west-1").URN, tokEKS)
		b := childOf(t, m, m.MustGet(t, cluster.TypeToken, "staging-aws-eu-west-1-b").URN, tokEKS)
		assert.Equal(t, "1.31", a.Input(t, "version").StringValue())
		assert.Equal(t, "1.30", b.Input(t, "version").StringValue())
	})

	t.Run("spot pools per cluster, named from the cluster", func(t *testing.T) {
		var names []string
		for _, p := range m.ByType(spotpool.TypeToken) {
			assert.Equal(t, fleetRes.URN, p.Parent, p.Name)
			names = append(names, p.Name)
		}
		assert.ElementsMatch(t, []string{
			"staging-aws-eu-west-1-batch",
			"staging-aws-eu-west-1-b-batch", "staging-aws-eu-west-1-b-web",
			"staging-gcp-europe-west1-batch",
			"staging-azure-westeurope-batch",
		}, names)
		assert.Len(t, fleet.SpotPools["aws-eu-west-1-b"], 2)
		assert.Contains(t, fleet.SpotPools["aws-eu-west-1-b"], "web")
	})

	t.Run("the pools' fallback delay becomes the cluster's autoscaler setting", func(t *testing.T) {
		assert.Equal(t, 3*time.Minute, fleet.Clusters["aws-eu-west-1"].MaxNodeProvisionTime)
		assert.Equal(t, cluster.DefaultMaxNodeProvisionTime, fleet.Clusters["aws-eu-west-1-b"].MaxNodeProvisionTime)
	})

	t.Run("outputs", func(t *testing.T) {
		endpoints := pulumitest.Await(t, fleet.Endpoints).(map[string]string)
		versions := pulumitest.Await(t, fleet.Versions).(map[string]string)
		kubeconfigs := pulumitest.Await(t, fleet.Kubeconfigs).(map[string]string)
		for key, c := range fleet.Clusters {
			assert.Equal(t, pulumitest.Await(t, c.Endpoint), endpoints[key], key)
			assert.NotEmpty(t, endpoints[key], key)
			assert.Equal(t, pulumitest.Await(t, c.Version), versions[key], key)
			assert.Equal(t, pulumitest.Await(t, c.Kubeconfig), kubeconfigs[key], key)
			assert.NotEmpty(t, kubeconfigs[key], key)
		}
		assert.Len(t, endpoints, len(clusters))
		res, err := internals.UnsafeAwaitOutput(context.Background(), fleet.Kubeconfigs)
		require.NoError(t, err)
		assert.True(t, res.Secret, "kubeconfigs are secret")
		res, err = internals.UnsafeAwaitOutput(context.Background(), fleet.Endpoints)
		require.NoError(t, err)
		assert.False(t, res.Secret, "endpoints are not secret")
	})
}

func TestNewKeepsPreviousRanges(t *testing.T) {
	t.Parallel()
	args := multiCloud()
	args.Clusters = args.Clusters[2:] // gcp and azure
	previous := cluster.Network{VPCCIDR: "10.40.0.0/20", PodCIDR: "10.41.0.0/16", ServiceCIDR: "10.40.16.0/20"}
	args.Previous = map[string]cluster.Network{"azure-westeurope": previous}
	m, fleet := runFleet(t, "staging", args)

	assert.Equal(t, previous, fleet.Networks["azure-westeurope"])
	aks := childOf(t, m, m.MustGet(t, cluster.TypeToken, "staging-azure-westeurope").URN, tokAKS)
	assert.Equal(t, previous.PodCIDR, aks.Input(t, "networkProfile", "podCidr").StringValue())
	assert.Equal(t, previous.ServiceCIDR, aks.Input(t, "networkProfile", "serviceCidr").StringValue())
	assert.Equal(t, "10.32.0.0/20", fleet.Networks["gcp-europe-west1"].VPCCIDR, "the new cluster takes the lowest free slot")
}

func TestProvidersTakeTheStackAccount(t *testing.T) {
	t.Parallel()
	m := pulumitest.New().FakeClouds()
	err := m.RunWithConfig(pulumitest.Stack, map[string]string{
		"gcp:project":                 "flotilla-staging",
		"azure-native:subscriptionId": "0000-staging",
	}, func(ctx *pulumi.Context) error {
		_, err := geofleet.New(ctx, "staging", multiCloud())
		return err
	})
	require.NoError(t, err)
	gcp := m.MustGet(t, tokGCPProvider, "staging-gcp-europe-west1")
	assert.Equal(t, "flotilla-staging", gcp.Input(t, "project").StringValue())
	az := m.MustGet(t, tokAzProvider, "staging-azure-westeurope")
	assert.Equal(t, "0000-staging", az.Input(t, "subscriptionId").StringValue())

	// Without stack configuration, the providers fall back to their environment.
	plain, _ := runFleet(t, "staging", multiCloud())
	assert.NotContains(t, plain.MustGet(t, tokGCPProvider, "staging-gcp-europe-west1").Inputs, resource.PropertyKey("project"))
	assert.NotContains(t, plain.MustGet(t, tokAzProvider, "staging-azure-westeurope").Inputs, resource.PropertyKey("subscriptionId"))
}

// The shipped stacks run on the simulator: one fleetsim provider per region there too.
func TestNewSimFleet(t *testing.T) {
	t.Parallel()
	m := pulumitest.New()
	m.Outputs[fleetsim.ClusterType] = func(r pulumitest.Resource) resource.PropertyMap {
		return resource.PropertyMap{
			"endpoint":   resource.NewProperty("https://127.0.0.1:6443"),
			"kubeconfig": resource.NewProperty("apiVersion: v1\nkind: Config\n"),
		}
	}
	args := &geofleet.Args{
		Environment:  "dev",
		Version:      "1.31",
		AddressSpace: "10.64.0.0/13",
		Clusters: []geofleet.ClusterSpec{
			{Cloud: cluster.Sim, Region: "sim-east-1", SpotPools: []geofleet.SpotPoolSpec{{Name: "batch", InstanceTypes: []string{"sim.large", "sim.xlarge"}, MaxSize: 4}}},
			{Name: "sim-east-1-b", Cloud: cluster.Sim, Region: "sim-east-1"},
			{Cloud: cluster.Sim, Region: "sim-west-1"},
		},
		SimLite: true,
	}
	var fleet *geofleet.GeoFleet
	err := m.RunWithConfig("dev", nil, func(ctx *pulumi.Context) error {
		var err error
		fleet, err = geofleet.New(ctx, "dev", args)
		return err
	})
	require.NoError(t, err)

	var providers []string
	for _, p := range m.ByType("pulumi:providers:fleetsim") {
		providers = append(providers, p.Name)
	}
	assert.ElementsMatch(t, []string{"dev-sim-sim-east-1", "dev-sim-sim-west-1"}, providers)
	assert.Empty(t, m.ByType("pulumi:providers:kubernetes"), "SimLite reaches every cluster: no Kubernetes API, no provider for it")
	east := m.MustGet(t, "pulumi:providers:fleetsim", "dev-sim-sim-east-1").URN
	for key, name := range map[string]string{"sim-sim-east-1": "dev-sim-sim-east-1", "sim-east-1-b": "dev-sim-east-1-b"} {
		c := m.MustGet(t, cluster.TypeToken, name)
		sim := childOf(t, m, c.URN, fleetsim.ClusterType)
		assert.Equal(t, east, providerURN(sim.Provider), name)
		assert.Equal(t, fleet.Networks[key].VPCCIDR, sim.Input(t, "vpcCidr").StringValue(), name)
		assert.Equal(t, fleet.Networks[key].PodCIDR, sim.Input(t, "podCidr").StringValue(), name)
		assert.Equal(t, fleet.Networks[key].ServiceCIDR, sim.Input(t, "serviceCidr").StringValue(), name)
	}
	assert.Len(t, m.ByType(spotpool.TypeToken), 1)
	assert.Len(t, pulumitest.Await(t, fleet.Endpoints).(map[string]string), 3)
}

func TestTwoFleetsDoNotCollide(t *testing.T) {
	t.Parallel()
	m := pulumitest.New().FakeClouds()
	err := m.Run(func(ctx *pulumi.Context) error {
		for _, env := range []string{"dev", "staging"} {
			args := multiCloud()
			args.Environment = env
			if _, err := geofleet.New(ctx, env, args); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	assert.Len(t, m.ByType(geofleet.TypeToken), 2)
	assert.Len(t, m.ByType(cluster.TypeToken), 8)
	assert.Len(t, m.ByType(tokAWSProvider), 2)
}

func TestNewValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		args      func(a *geofleet.Args)
		nilArgs   bool
		wantParts []string
		exhausted bool
	}{
		{name: "nil args", nilArgs: true, wantParts: []string{"args are required"}},
		{name: "fleet-level problems, all at once", args: func(a *geofleet.Args) {
			a.Environment = ""
			a.Version = "1.31.2"
			a.Clusters = nil
		}, wantParts: []string{
			"Environment is empty",
			`Version "1.31.2" is not a Kubernetes minor in MAJOR.MINOR form`,
			"Clusters is empty",
		}},
		{name: "duplicate cluster names", args: func(a *geofleet.Args) {
			a.Clusters[1].Name = "aws-eu-west-1"
		}, wantParts: []string{`clusters 0 and 1 are both named "aws-eu-west-1"`}},
		{name: "unknown cloud and region, bad cluster version", args: func(a *geofleet.Args) {
			a.Clusters[0].Cloud = "oracle"
			a.Clusters[2].Region = "mars-north1"
			a.Clusters[3].Version = "v1"
		}, wantParts: []string{
			`cluster "oracle-eu-west-1" (Clusters[0]): Cloud "oracle" is unknown`,
			`cluster "gcp-mars-north1" (Clusters[2]): Region "mars-north1" is unknown for cloud "gcp"`,
			`cluster "azure-westeurope" (Clusters[3]): Version "v1" is not a Kubernetes minor`,
		}},
		{name: "node versions", args: func(a *geofleet.Args) {
			a.NodeVersion = "1.30.1"
			a.Clusters[0].NodeVersion = "1.32"
			a.Clusters[2].NodeVersion = "1.28"
			a.Clusters[3].NodeVersion = "latest"
		}, wantParts: []string{
			`NodeVersion "1.30.1" is not a Kubernetes minor in MAJOR.MINOR form`,
			`cluster "aws-eu-west-1" (Clusters[0]): NodeVersion "1.32" and Version "1.31": nodes at 1.32 would be newer than their control plane at 1.31`,
			`cluster "gcp-europe-west1" (Clusters[2]): NodeVersion "1.28" and Version "1.31": nodes at 1.28 would be 3 minors older than their control plane at 1.31, and gcp allows 2`,
			`cluster "azure-westeurope" (Clusters[3]): NodeVersion "latest" is not a Kubernetes minor`,
		}},
		{name: "spot pool problems", args: func(a *geofleet.Args) {
			a.Clusters[1].SpotPools[1].Name = "batch"
			a.Clusters[2].SpotPools[0].InstanceTypes = []string{"e2-standard-4"}
			a.Clusters[3].SpotPools[0].MinSize = 20
			a.Clusters[0].SpotPools = append(a.Clusters[0].SpotPools, geofleet.SpotPoolSpec{Name: "system", InstanceTypes: awsTypes, MaxSize: 1})
		}, wantParts: []string{
			`cluster "aws-eu-west-1-b" (Clusters[1]): SpotPools[0] and SpotPools[1] are both named "batch"`,
			`cluster "gcp-europe-west1" (Clusters[2]): SpotPools[0] "batch": InstanceTypes ["e2-standard-4"] has 1 type(s); a spot pool needs at least 2`,
			`cluster "azure-westeurope" (Clusters[3]): SpotPools[0] "batch": MinSize 20 is greater than MaxSize 10`,
			`cluster "aws-eu-west-1" (Clusters[0]): SpotPools[1] "system": "system" is the cluster's system pool`,
		}},
		{name: "a fallback that cannot cover the minimum", args: func(a *geofleet.Args) {
			a.Clusters[0].SpotPools[0].MinSize = 3
			a.Clusters[0].SpotPools[0].Fallback.MaxSize = 1
			a.Clusters[1].SpotPools[0].Fallback.MaxSize = -1
		}, wantParts: []string{
			`cluster "aws-eu-west-1" (Clusters[0]): SpotPools[0] "batch": Fallback.MaxSize 1 is below MinSize 3`,
			`cluster "aws-eu-west-1-b" (Clusters[1]): SpotPools[0]`,
			"Fallback.MaxSize -1 is negative",
		}},
		{name: "spot pools disagree on the fallback delay", args: func(a *geofleet.Args) {
			a.Clusters[1].SpotPools[0].Fallback.ProvisionTimeout = time.Minute
			a.Clusters[1].SpotPools[1].Fallback.ProvisionTimeout = 10 * time.Minute
		}, wantParts: []string{`spot pools "batch" and "web" ask for Fallback.ProvisionTimeout "1m0s" and "10m0s"`}},
		{name: "a prod pool without guaranteed capacity", args: func(a *geofleet.Args) {
			a.Environment = "prod"
			a.Clusters[0].SpotPools[0].Fallback.Disabled = true
		}, wantParts: []string{`SpotPools[0] "batch": Fallback.Disabled with MinSize 0 on a prod cluster leaves no guaranteed capacity`}},
		{name: "env tag differs from the environment", args: func(a *geofleet.Args) {
			a.Tags = costtags.Tags{"env": "prod"}
		}, wantParts: []string{`Tags["env"] "prod" differs from Environment "staging"`}},
		{name: "pool label too long", args: func(a *geofleet.Args) {
			a.Clusters[0].SpotPools[0].Name = strings.Repeat("x", 50)
		}, wantParts: []string{`cluster "aws-eu-west-1" spot pool "` + strings.Repeat("x", 50) + `": its name "staging-aws-eu-west-1-` + strings.Repeat("x", 50) + `" is also its nodes' flotilla.io/pool label`}},
		{name: "overlapping explicit network", args: func(a *geofleet.Args) {
			a.Clusters[0].Network = &cluster.Network{VPCCIDR: "10.40.0.0/20", PodCIDR: "172.17.0.0/16", ServiceCIDR: "10.40.16.0/20"}
		}, wantParts: []string{`cluster "aws-eu-west-1" pod range "172.17.0.0/16" overlaps reserved range "172.17.0.0/16" (Docker's default bridge)`}},
		{name: "a fleet that does not fit", args: func(a *geofleet.Args) {
			a.AddressSpace = "10.32.0.0/14"
		}, exhausted: true, wantParts: []string{`address space "10.32.0.0/14" fits 3 clusters; 4 clusters need at least a /13`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var args *geofleet.Args
			if !tt.nilArgs {
				args = multiCloud()
				tt.args(args)
			}
			m := pulumitest.New().FakeClouds()
			err := m.Run(func(ctx *pulumi.Context) error {
				_, err := geofleet.New(ctx, "staging", args)
				return err
			})
			require.Error(t, err)
			assert.True(t, geofleet.IsInvalidArgs(err), "%v", err)
			assert.Equal(t, tt.exhausted, geofleet.IsExhausted(err))
			for _, part := range tt.wantParts {
				assert.Contains(t, err.Error(), part)
			}
			assert.Empty(t, m.Resources(), "nothing is registered when args are invalid")
		})
	}
}

// bigFleet is n clusters spread over every region of the three clouds, each with a spot
// pool.
func bigFleet(n int) *geofleet.Args {
	clouds := []struct {
		cloud cluster.Cloud
		types []string
	}{{cluster.AWS, awsTypes}, {cluster.GCP, gcpTypes[:2]}, {cluster.Azure, azureTypes[:2]}}
	args := &geofleet.Args{Environment: "load", Version: "1.31", AddressSpace: "10.0.0.0/8", Tags: costtags.Tags{"team": "platform"}}
	for i := range n {
		c := clouds[i%len(clouds)]
		regions := cluster.Regions(c.cloud)
		args.Clusters = append(args.Clusters, geofleet.ClusterSpec{
			Name:   fmt.Sprintf("c%03d", i),
			Cloud:  c.cloud,
			Region: regions[(i/len(clouds))%len(regions)],
			SpotPools: []geofleet.SpotPoolSpec{
				{Name: "batch", InstanceTypes: c.types, MaxSize: 10},
			},
		})
	}
	return args
}

func BenchmarkNew100Clusters(b *testing.B) {
	args := bigFleet(100)
	b.ReportAllocs()
	for b.Loop() {
		m := pulumitest.New().FakeClouds()
		err := m.Run(func(ctx *pulumi.Context) error {
			_, err := geofleet.New(ctx, "load", args)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// TestNodeVersionsReachEveryPool checks where each cluster's node version comes from
// (its spec, else the fleet's, else its own control plane's) and that the system pool,
// the spot pools and their fallbacks all run it.
func TestNodeVersionsReachEveryPool(t *testing.T) {
	t.Parallel()
	args := multiCloud()
	args.Clusters = args.Clusters[:2]
	args.NodeVersion = "1.30"
	args.Clusters[0].NodeVersion = "1.29"
	m, fleet := runFleet(t, "staging", args)

	want := map[string]string{
		"aws-eu-west-1":   "1.29", // its own
		"aws-eu-west-1-b": "1.30", // the fleet's, which is also its control plane's
	}
	for key, version := range want {
		c := fleet.Clusters[key]
		assert.Equal(t, version, pulumitest.Await(t, c.NodeVersion), key)
		comp := m.MustGet(t, cluster.TypeToken, "staging-"+key)
		assert.Equal(t, version, childOf(t, m, comp.URN, "aws:eks/nodeGroup:NodeGroup").Input(t, "version").StringValue(), "%s system pool", key)
		for name, pool := range fleet.SpotPools[key] {
			comp := m.MustGet(t, spotpool.TypeToken, "staging-"+key+"-"+name)
			for _, r := range m.Children(comp.URN) {
				if r.Type == "aws:eks/nodeGroup:NodeGroup" {
					assert.Equal(t, version, r.Input(t, "version").StringValue(), r.Name)
				}
			}
			assert.Equal(t, version, pulumitest.Await(t, pool.SpotVersion), name)
			assert.Equal(t, version, pulumitest.Await(t, pool.FallbackVersion), name)
		}
	}
	assert.Equal(t, "1.31", pulumitest.Await(t, fleet.Clusters["aws-eu-west-1"].Version), "the control plane keeps the fleet's version")
}
