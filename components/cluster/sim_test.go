package cluster_test

import (
	"regexp"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	fleetsim "github.com/flotilla-io/flotilla/internal/fleetsim/sdk"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
)

const (
	tokSimProvider = "pulumi:providers:fleetsim"
	tokSimCluster  = "fleetsim:index:Cluster"
	tokSimPool     = "fleetsim:index:NodePool"
	simKubeconfig  = "apiVersion: v1\nkind: Config\n"
)

// simMocks answers what the simulator computes for a cluster.
func simMocks() *pulumitest.Mocks {
	m := newMocks()
	m.Outputs[tokSimCluster] = func(r pulumitest.Resource) resource.PropertyMap {
		return resource.PropertyMap{
			"endpoint":   resource.NewProperty("https://127.0.0.1:6443"),
			"kubeconfig": resource.NewProperty(simKubeconfig),
		}
	}
	return m
}

// runSim creates one sim cluster in kube mode (kube "on") or lite mode ("off", which
// sets Args.SimLite).
func runSim(t *testing.T, kube string, args *cluster.Args, opts ...pulumi.ResourceOption) (*pulumitest.Mocks, *cluster.Cluster) {
	t.Helper()
	m := simMocks()
	var c *cluster.Cluster
	args.SimLite = kube == "off"
	err := m.Run(func(ctx *pulumi.Context) error {
		var err error
		c, err = cluster.New(ctx, "eu", args, opts...)
		return err
	})
	require.NoError(t, err)
	return m, c
}

func TestSimCluster(t *testing.T) {
	t.Parallel()
	m, c := runSim(t, "on", baseArgs(cluster.Sim))
	comp := m.MustGet(t, tokCluster, "eu")
	prov := m.MustGet(t, tokSimProvider, "eu-provider")
	assert.Equal(t, comp.URN, prov.Parent)

	cl := m.MustGet(t, tokSimCluster, "eu-cluster")
	assert.Equal(t, comp.URN, cl.Parent)
	assert.Contains(t, cl.Provider, prov.URN, "the cluster uses the region's explicit provider")
	assert.Equal(t, "eu", in(t, cl, "name").StringValue())
	assert.Equal(t, "sim-eu-1", in(t, cl, "region").StringValue())
	assert.Equal(t, []string{"sim-eu-1a", "sim-eu-1b", "sim-eu-1c"}, strs(t, in(t, cl, "zones")))
	assert.Equal(t, "1.31", in(t, cl, "version").StringValue())
	assert.Equal(t, "10.0.0.0/16", in(t, cl, "vpcCidr").StringValue())
	assert.Equal(t, "10.244.0.0/16", in(t, cl, "podCidr").StringValue())
	assert.Equal(t, "10.96.0.0/12", in(t, cl, "serviceCidr").StringValue())
	want, err := costtags.ForKubernetes(baseArgs(cluster.Sim).Tags)
	require.NoError(t, err)
	assert.Equal(t, want, strMap(t, in(t, cl, "tags")))

	sys := m.MustGet(t, tokSimPool, "eu-system")
	assert.Equal(t, comp.URN, sys.Parent)
	assert.Contains(t, sys.Provider, prov.URN)
	assert.Equal(t, cluster.SystemPoolName, in(t, sys, "name").StringValue())
	assert.Equal(t, cl.ID, in(t, sys, "cluster").StringValue())
	assert.Equal(t, "on-demand", in(t, sys, "capacityType").StringValue())
	assert.Equal(t, []string{"sim.medium"}, strs(t, in(t, sys, "instanceTypes")))
	assert.Equal(t, 2.0, in(t, sys, "minSize").NumberValue())
	assert.Equal(t, 4.0, in(t, sys, "maxSize").NumberValue())
	assert.Equal(t, "1.31", in(t, sys, "version").StringValue(), "the system pool follows its control plane")
	assert.Equal(t, map[string]string{cluster.LabelPool: "system", cluster.LabelCapacity: "on-demand"}, strMap(t, in(t, sys, "labels")))
	assert.Equal(t, want, strMap(t, in(t, sys, "tags")))

	assert.Equal(t, "eu", await(t, c.Name))
	assert.Equal(t, "https://127.0.0.1:6443", await(t, c.Endpoint))
	assert.Equal(t, "1.31", await(t, c.Version))
	assert.Equal(t, simKubeconfig, await(t, c.Kubeconfig))
	require.NotNil(t, c.KubeProvider, "kube mode: the cluster has a Kubernetes API")
	k8s := m.MustGet(t, tokK8sProvider, "eu-k8s")
	assert.Equal(t, simKubeconfig, in(t, k8s, "kubeconfig").StringValue())

	// The priority expander's ConfigMap ranks spot pools above fallbacks, as on AWS.
	cm := m.MustGet(t, tokConfigMap, "eu-priority-expander")
	assert.Equal(t, cluster.PriorityExpanderConfigMap, in(t, cm, "metadata", "name").StringValue())
	assert.Equal(t, "kube-system", in(t, cm, "metadata", "namespace").StringValue())
	var prios map[int][]string
	require.NoError(t, yaml.Unmarshal([]byte(in(t, cm, "data", "priorities").StringValue()), &prios))
	rank := func(group string) int {
		best := -1
		for p, res := range prios {
			for _, re := range res {
				if regexp.MustCompile(re).MatchString(group) && p > best {
					best = p
				}
			}
		}
		return best
	}
	assert.Greater(t, rank("batch-spot"), rank("batch-fallback"))
	assert.Positive(t, rank("batch-fallback"))
	assert.Equal(t, -1, rank(cluster.SystemPoolName))
}

func TestSimClusterLiteMode(t *testing.T) {
	t.Parallel()
	m, c := runSim(t, "off", baseArgs(cluster.Sim))
	assert.Nil(t, c.KubeProvider, "lite mode: the cluster has no Kubernetes API")
	assert.Empty(t, m.ByType(tokK8sProvider))
	assert.Empty(t, m.ByType(tokConfigMap))
	assert.Len(t, m.ByType(tokSimCluster), 1)
	assert.Len(t, m.ByType(tokSimPool), 1)
	assert.Equal(t, resource.NewProperty(false), in(t, m.MustGet(t, tokSimCluster, "eu-cluster"), "kube"),
		"the fleetsim cluster records lite mode, so that the simulator refuses it over a control plane")
}

// TestSimClusterModeIsSimLite: Args.SimLite alone decides whether a sim cluster has a
// Kubernetes provider and in-cluster resources, and the fleetsim Cluster gets it as its
// kube input. FLEETSIM_KUBE in the program's environment and the stack config
// fleetsim:kube, both set against it, change nothing.
func TestSimClusterModeIsSimLite(t *testing.T) {
	t.Setenv("FLEETSIM_KUBE", "off")
	for _, tt := range []struct {
		lite   bool
		config string // the stack config, set against SimLite
	}{
		{lite: false, config: "off"},
		{lite: true, config: "on"},
	} {
		m := simMocks()
		var c *cluster.Cluster
		args := baseArgs(cluster.Sim)
		args.SimLite = tt.lite
		err := m.RunWithConfig("dev", map[string]string{"fleetsim:kube": tt.config}, func(ctx *pulumi.Context) error {
			var err error
			c, err = cluster.New(ctx, "eu", args)
			return err
		})
		require.NoError(t, err, "SimLite %v", tt.lite)
		cl := m.MustGet(t, tokSimCluster, "eu-cluster")
		assert.Equal(t, resource.NewProperty(!tt.lite), in(t, cl, "kube"), "SimLite %v", tt.lite)
		if tt.lite {
			assert.Nil(t, c.KubeProvider)
			assert.Empty(t, m.ByType(tokK8sProvider))
			assert.Empty(t, m.ByType(tokConfigMap))
			continue
		}
		require.NotNil(t, c.KubeProvider)
		k8s := m.MustGet(t, tokK8sProvider, "eu-k8s")
		assert.Equal(t, simKubeconfig, in(t, k8s, "kubeconfig").StringValue())
		assert.Len(t, m.ByType(tokConfigMap), 1)
	}
}

// TestSimLiteOffTheSimulator: SimLite on a managed cloud is refused before anything
// registers.
func TestSimLiteOffTheSimulator(t *testing.T) {
	t.Parallel()
	args := baseArgs(cluster.AWS)
	args.SimLite = true
	m := newMocks()
	err := m.Run(func(ctx *pulumi.Context) error {
		_, err := cluster.New(ctx, "eu", args)
		return err
	})
	require.Error(t, err)
	assert.True(t, cluster.IsInvalidArgs(err), "%v", err)
	assert.Contains(t, err.Error(), `SimLite is set, but Cloud is "aws": lite mode (no Kubernetes API) is the simulator's`)
	assert.Empty(t, m.ByType(tokCluster), "nothing registers")
}

func TestSimClusterUsesAGivenProvider(t *testing.T) {
	t.Parallel()
	m := simMocks()
	var c *cluster.Cluster
	var p *fleetsim.Provider
	args := baseArgs(cluster.Sim)
	args.SimLite = true
	err := m.Run(func(ctx *pulumi.Context) error {
		var err error
		if p, err = fleetsim.NewProvider(ctx, "sim-eu-1", nil); err != nil {
			return err
		}
		c, err = cluster.New(ctx, "eu", args, pulumi.Providers(p))
		return err
	})
	require.NoError(t, err)
	assert.Len(t, m.ByType(tokSimProvider), 1, "no provider of its own")
	prov := m.MustGet(t, tokSimProvider, "sim-eu-1")
	assert.Contains(t, m.MustGet(t, tokSimCluster, "eu-cluster").Provider, prov.URN)
	assert.Contains(t, m.MustGet(t, tokSimPool, "eu-system").Provider, prov.URN)
	assert.Equal(t, p, c.Provider)
}

func TestSimProdCluster(t *testing.T) {
	t.Parallel()
	args := baseArgs(cluster.Sim)
	args.Tags = costtags.Tags{"env": "prod", "team": "payments"}
	args.SystemPool.InstanceType = "sim.large"
	args.Network = cluster.Network{VPCCIDR: "10.20.0.0/16", PodCIDR: "10.128.0.0/14", ServiceCIDR: "172.20.0.0/16"}
	m, c := runSim(t, "off", args)
	assert.True(t, c.Prod)
	sys := m.MustGet(t, tokSimPool, "eu-system")
	assert.Equal(t, 3.0, in(t, sys, "minSize").NumberValue())
	assert.Equal(t, 6.0, in(t, sys, "maxSize").NumberValue())
	assert.Equal(t, []string{"sim.large"}, strs(t, in(t, sys, "instanceTypes")))
	cl := m.MustGet(t, tokSimCluster, "eu-cluster")
	assert.Equal(t, "10.128.0.0/14", in(t, cl, "podCidr").StringValue())
	assert.Equal(t, "prod", strMap(t, in(t, cl, "tags"))["env"])
}
