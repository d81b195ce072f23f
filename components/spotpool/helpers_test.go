package spotpool_test

import (
	"regexp"
	"testing"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/spotpool"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// Type tokens the tests look resources up by.
const (
	tokPool         = spotpool.TypeToken
	tokNodeGroup    = "aws:eks/nodeGroup:NodeGroup"
	tokLT           = "aws:ec2/launchTemplate:LaunchTemplate"
	tokNodePool     = "gcp:container/nodePool:NodePool"
	tokComputeClass = "kubernetes:cloud.google.com/v1:ComputeClass"
	tokAgentPool    = "azure-native:containerservice:AgentPool"
	tokConfigMap    = "kubernetes:core/v1:ConfigMap"
)

// regions are where the tests put each cloud's cluster.
var regions = map[cluster.Cloud]string{
	cluster.AWS:   "eu-west-1",
	cluster.GCP:   "europe-west1",
	cluster.Azure: "westeurope",
	cluster.Sim:   "sim-eu-1",
}

// instanceTypes are four machine types per cloud.
var instanceTypes = map[cluster.Cloud][]string{
	cluster.AWS:   {"m6i.xlarge", "m6a.xlarge", "m5.xlarge", "m7i.xlarge"},
	cluster.GCP:   {"n2-standard-4", "n2d-standard-4", "e2-standard-4", "c3-standard-4"},
	cluster.Azure: {"Standard_D4s_v5", "Standard_D4as_v5", "Standard_D4s_v4", "Standard_E4s_v5"},
	cluster.Sim:   {"sim.large", "sim.xlarge"},
}

// clusterArgs are valid args for a cluster on cloud with the given env tag. A prod
// cluster's API endpoint is allow-listed, as prod requires on the clouds.
func clusterArgs(cloud cluster.Cloud, env string) *cluster.Args {
	args := &cluster.Args{
		Cloud:   cloud,
		Region:  regions[cloud],
		Version: "1.31",
		Tags:    costtags.Tags{"team": "platform", "env": env, "cost-center": "cc-100"},
	}
	if cluster.IsProd(args.Tags) && cloud != cluster.Sim {
		args.API = cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24"}}
	}
	return args
}

// poolArgs are valid args for a spot pool on c.
func poolArgs(c *cluster.Cluster) *spotpool.Args {
	return &spotpool.Args{
		Cluster:       c,
		InstanceTypes: instanceTypes[c.Cloud],
		MinSize:       1,
		MaxSize:       10,
		Labels:        map[string]string{"workload": "batch"},
		Taints:        []spotpool.Taint{{Key: "dedicated", Value: "batch", Effect: "NoExecute"}},
		Tags:          costtags.Tags{"team": "data", "app": "etl"},
	}
}

// run builds a cluster on cloud (env tag env) and one spot pool "batch" with args edited
// by edit, and returns the mocks, the pool and the error.
func run(t *testing.T, cloud cluster.Cloud, env string, edit func(*spotpool.Args)) (*pulumitest.Mocks, *spotpool.SpotNodePool, error) {
	t.Helper()
	m := pulumitest.New().FakeClouds()
	var pool *spotpool.SpotNodePool
	err := m.Run(func(ctx *pulumi.Context) error {
		c, err := cluster.New(ctx, "eu", clusterArgs(cloud, env))
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
	return m, pool, err
}

// mustRun is run that requires success.
func mustRun(t *testing.T, cloud cluster.Cloud, edit func(*spotpool.Args)) (*pulumitest.Mocks, *spotpool.SpotNodePool) {
	t.Helper()
	m, pool, err := run(t, cloud, "staging", edit)
	require.NoError(t, err)
	return m, pool
}

// poolResources are the resources a spot pool registered, the component excluded.
func poolResources(m *pulumitest.Mocks, name string) []pulumitest.Resource {
	comp, ok := m.Get(tokPool, name)
	if !ok {
		return nil
	}
	return m.Children(comp.URN)
}

// priorities parses the cluster's priority-expander ConfigMap.
func priorities(t *testing.T, m *pulumitest.Mocks) map[int][]*regexp.Regexp {
	t.Helper()
	cm := m.MustGet(t, tokConfigMap, "eu-priority-expander")
	var raw map[int][]string
	require.NoError(t, yaml.Unmarshal([]byte(cm.Input(t, "data", "priorities").StringValue()), &raw))
	out := map[int][]*regexp.Regexp{}
	for p, res := range raw {
		for _, re := range res {
			out[p] = append(out[p], regexp.MustCompile(re))
		}
	}
	return out
}

// rank returns the priority group gets (the highest whose regex matches), or -1.
func rank(prios map[int][]*regexp.Regexp, group string) int {
	best := -1
	for p, res := range prios {
		for _, re := range res {
			if re.MatchString(group) && p > best {
				best = p
			}
		}
	}
	return best
}

func in(t testing.TB, r pulumitest.Resource, path ...any) resource.PropertyValue {
	t.Helper()
	return r.Input(t, path...)
}

func strs(t testing.TB, v resource.PropertyValue) []string {
	t.Helper()
	return pulumitest.PropStrings(t, v)
}

func strMap(t testing.TB, v resource.PropertyValue) map[string]string {
	t.Helper()
	return pulumitest.PropStringMap(t, v)
}

// taints reads an EKS or GKE taint list as "key=value:EFFECT".
func taints(t testing.TB, v resource.PropertyValue) []string {
	t.Helper()
	var out []string
	for _, e := range v.ArrayValue() {
		out = append(out, pulumitest.Prop(t, e, "key").StringValue()+"="+pulumitest.Prop(t, e, "value").StringValue()+":"+pulumitest.Prop(t, e, "effect").StringValue())
	}
	return out
}
