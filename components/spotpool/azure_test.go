package spotpool_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/spotpool"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAzureAgentPools(t *testing.T) {
	t.Parallel()
	m, pool := mustRun(t, cluster.Azure, func(a *spotpool.Args) {
		a.Fallback = spotpool.Fallback{InstanceTypes: []string{"Standard_D8s_v5", "Standard_D8as_v5"}, MaxSize: 6}
	})
	wantTags, err := costtags.ForAzure(costtags.Tags{"team": "data", "env": "staging", "cost-center": "cc-100", "app": "etl"})
	require.NoError(t, err)
	comp := m.MustGet(t, tokPool, "batch")
	provider := m.MustGet(t, "pulumi:providers:azure-native", "eu-provider").URN
	subnet := m.MustGet(t, "azure-native:network:Subnet", "eu-nodes").ID

	check := func(resourceName, poolName, vmSize string, spot bool, min, max float64) pulumitest.Resource {
		t.Helper()
		ap := m.MustGet(t, tokAgentPool, resourceName)
		assert.Equal(t, comp.URN, ap.Parent)
		assert.True(t, strings.HasPrefix(ap.Provider, provider+"::"), "uses the cluster's provider")
		assert.Equal(t, poolName, in(t, ap, "agentPoolName").StringValue())
		assert.Equal(t, "eu-aks9f3c", in(t, ap, "resourceName").StringValue())
		assert.Equal(t, "eu-rg1a2b", in(t, ap, "resourceGroupName").StringValue())
		assert.Equal(t, "User", in(t, ap, "mode").StringValue())
		assert.Equal(t, vmSize, in(t, ap, "vmSize").StringValue())
		assert.Equal(t, "1.31", in(t, ap, "orchestratorVersion").StringValue())
		assert.True(t, in(t, ap, "enableAutoScaling").BoolValue())
		assert.Equal(t, min, in(t, ap, "minCount").NumberValue())
		assert.Equal(t, max, in(t, ap, "maxCount").NumberValue())
		assert.Equal(t, []string{"1", "2", "3"}, strs(t, in(t, ap, "availabilityZones")))
		assert.Equal(t, subnet, in(t, ap, "vnetSubnetID").StringValue())
		assert.Equal(t, wantTags, strMap(t, in(t, ap, "tags")), "AKS pool tags carry the cost tags")
		capacity := "on-demand"
		if spot {
			capacity = "spot"
		}
		assert.Equal(t, map[string]string{"workload": "batch", "flotilla.io/pool": "batch", "flotilla.io/capacity": capacity}, strMap(t, in(t, ap, "nodeLabels")))
		return ap
	}
	for i, typ := range instanceTypes[cluster.Azure] {
		min := 0.0
		if i == 0 {
			min = 1
		}
		ap := check(fmt.Sprintf("batch-spot-%d", i), fmt.Sprintf("batch%dspot", i), typ, true, min, 10)
		assert.Equal(t, "Spot", in(t, ap, "scaleSetPriority").StringValue())
		assert.Equal(t, "Delete", in(t, ap, "scaleSetEvictionPolicy").StringValue())
		assert.Equal(t, -1.0, in(t, ap, "spotMaxPrice").NumberValue())
		assert.Equal(t, []string{
			"flotilla.io/capacity=spot:NoSchedule",
			"kubernetes.azure.com/scalesetpriority=spot:NoSchedule",
			"dedicated=batch:NoExecute",
		}, strs(t, in(t, ap, "nodeTaints")))
	}
	for i, typ := range []string{"Standard_D8s_v5", "Standard_D8as_v5"} {
		ap := check(fmt.Sprintf("batch-fallback-%d", i), fmt.Sprintf("batch%dfall", i), typ, false, 0, 6)
		assert.Equal(t, "Regular", in(t, ap, "scaleSetPriority").StringValue())
		assert.NotContains(t, ap.Inputs, "spotMaxPrice")
		assert.NotContains(t, ap.Inputs, "scaleSetEvictionPolicy")
		assert.Equal(t, []string{"dedicated=batch:NoExecute"}, strs(t, in(t, ap, "nodeTaints")))
	}
	assert.Len(t, m.ByType(tokAgentPool), 6)

	assert.Equal(t, "batch0spot", pulumitest.Await(t, pool.SpotPoolName))
	assert.Equal(t, []string{"batch0spot", "batch1spot", "batch2spot", "batch3spot"}, pulumitest.Await(t, pool.SpotPoolNames))
	assert.Equal(t, []string{"batch0fall", "batch1fall"}, pulumitest.Await(t, pool.FallbackPoolNames))
	assert.Equal(t, []string{
		"flotilla.io/capacity=spot:NoSchedule",
		"kubernetes.azure.com/scalesetpriority=spot:NoSchedule",
		"dedicated=batch:NoExecute",
	}, pulumitest.Await(t, pool.Tolerations))
}

// TestAzurePriorityExpanderRanksRealPools checks the cluster's ConfigMap against the scale
// sets AKS makes of the agent pools that were registered.
func TestAzurePriorityExpanderRanksRealPools(t *testing.T) {
	t.Parallel()
	m := pulumitest.New().FakeClouds()
	err := m.Run(func(ctx *pulumi.Context) error {
		c, err := cluster.New(ctx, "eu", clusterArgs(cluster.Azure, "staging"))
		if err != nil {
			return err
		}
		for _, name := range []string{"batch", "interactive-web-frontend", "9lives"} {
			if _, err := spotpool.New(ctx, name, poolArgs(c)); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)

	prios := priorities(t, m)
	vmss := func(pool string) string { return "aks-" + pool + "-31415926-vmss" }
	var spot, fallback []string
	for _, ap := range m.ByType(tokAgentPool) {
		name := in(t, ap, "agentPoolName").StringValue()
		assert.LessOrEqual(t, len(name), 12, name)
		assert.Regexp(t, `^[a-z][a-z0-9]*$`, name)
		if in(t, ap, "scaleSetPriority").StringValue() == "Spot" {
			spot = append(spot, vmss(name))
		} else {
			fallback = append(fallback, vmss(name))
		}
	}
	require.Len(t, spot, 12)
	require.Len(t, fallback, 12)
	for _, s := range spot {
		for _, f := range fallback {
			assert.Greater(t, rank(prios, s), rank(prios, f), "%s outranks %s", s, f)
			assert.NotEqual(t, -1, rank(prios, f), f)
		}
	}
	system := rank(prios, vmss(cluster.SystemPoolName))
	for _, s := range spot {
		assert.Greater(t, rank(prios, s), system, "%s outranks the system pool", s)
	}
	for _, f := range fallback {
		assert.Greater(t, system, rank(prios, f), "the system pool outranks %s", f)
	}
}

// TestAzurePriorityExpanderPicksByPod plays the upstream expander's rule (expand, as for
// EKS) over the scale sets AKS makes of the agent pools the components register, with
// their labels and taints, for a pod aimed at a spot pool and an ordinary pod, with a
// pool whose fallback carries no taint of its own (the worst case).
func TestAzurePriorityExpanderPicksByPod(t *testing.T) {
	t.Parallel()
	m := pulumitest.New().FakeClouds()
	pools := map[string]*spotpool.SpotNodePool{}
	err := m.Run(func(ctx *pulumi.Context) error {
		c, err := cluster.New(ctx, "eu", clusterArgs(cluster.Azure, "staging"))
		if err != nil {
			return err
		}
		for _, name := range []string{"batch", "web"} {
			args := poolArgs(c)
			args.Fallback = spotpool.Fallback{InstanceTypes: []string{"Standard_D8s_v5"}, MaxSize: 4}
			if name == "web" {
				args.Taints, args.Labels = nil, nil
			}
			if pools[name], err = spotpool.New(ctx, name, args); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)

	prios := priorities(t, m)
	vmss := func(pool string) string { return "aks-" + pool + "-31415926-vmss" }
	// The system pool is the cluster's inline agent pool: labelled, untainted.
	sys := in(t, m.MustGet(t, "azure-native:containerservice:ManagedCluster", "eu-aks"), "agentPoolProfiles").ArrayValue()[0]
	require.Equal(t, cluster.SystemPoolName, pulumitest.Prop(t, sys, "name").StringValue())
	require.NotContains(t, sys.ObjectValue(), resource.PropertyKey("nodeTaints"))
	groups := []eksGroup{{asg: vmss(cluster.SystemPoolName), labels: strMap(t, pulumitest.Prop(t, sys, "nodeLabels"))}}
	for _, ap := range m.ByType(tokAgentPool) {
		g := eksGroup{asg: vmss(in(t, ap, "agentPoolName").StringValue()), labels: strMap(t, in(t, ap, "nodeLabels"))}
		if v, ok := ap.Inputs["nodeTaints"]; ok && !v.IsNull() {
			g.taints = strs(t, v)
		}
		groups = append(groups, g)
	}
	require.Len(t, groups, 1+2*(4+1), "system, and four spot groups and a fallback for each of two pools")
	without := func(drop []string) []eksGroup {
		return slices.DeleteFunc(slices.Clone(groups), func(g eksGroup) bool { return slices.Contains(drop, g.asg) })
	}

	for name, pool := range pools {
		selector := pulumitest.Await(t, pool.NodeSelector).(map[string]string)
		tolerations := pulumitest.Await(t, pool.Tolerations).([]string)
		var spot []string
		for _, n := range pulumitest.Await(t, pool.SpotPoolNames).([]string) {
			spot = append(spot, vmss(n))
		}
		fallback := []string{vmss(cluster.GroupName(cluster.Azure, name, cluster.OnDemand, 0))}
		assert.ElementsMatch(t, spot, expand(prios, groups, selector, tolerations), "a %s pod: its spot groups first", name)
		assert.Equal(t, fallback, expand(prios, without(spot), selector, tolerations), "a %s pod: its fallback once spot has not come up", name)
	}
	assert.Equal(t, []string{vmss(cluster.SystemPoolName)}, expand(prios, groups, nil, nil), "an ordinary pod: the system pool, never a fallback")
}

// rpcMocks records, beside what pulumitest.Mocks records, the options each resource was
// registered with (dependencies, ignoreChanges, deleteBeforeReplace), which the engine
// acts on but which are no input.
type rpcMocks struct {
	*pulumitest.Mocks
	mu   sync.Mutex
	reqs map[string]*pulumirpc.RegisterResourceRequest // by type and name
}

func newRPCMocks() *rpcMocks {
	return &rpcMocks{Mocks: pulumitest.New().FakeClouds(), reqs: map[string]*pulumirpc.RegisterResourceRequest{}}
}

func (m *rpcMocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	if args.RegisterRPC != nil {
		m.mu.Lock()
		m.reqs[args.TypeToken+"/"+args.Name] = args.RegisterRPC
		m.mu.Unlock()
	}
	return m.Mocks.NewResource(args)
}

func (m *rpcMocks) run(t *testing.T, fn pulumi.RunFunc) {
	t.Helper()
	require.NoError(t, pulumi.RunErr(fn, pulumi.WithMocks(pulumitest.Project, pulumitest.Stack, m)))
}

func (m *rpcMocks) req(t *testing.T, typ, name string) *pulumirpc.RegisterResourceRequest {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.reqs[typ+"/"+name]
	require.True(t, ok, "%s %q registered", typ, name)
	return r
}

// TestAzureAgentPoolsSerialisedPerCluster: AKS runs one operation per cluster at a time,
// so every agent pool of a cluster, from any SpotNodePool, waits for the one registered
// before it; within a pool, each spot pool still waits for every fallback pool.
func TestAzureAgentPoolsSerialisedPerCluster(t *testing.T) {
	t.Parallel()
	m := newRPCMocks()
	m.run(t, func(ctx *pulumi.Context) error {
		c, err := cluster.New(ctx, "eu", clusterArgs(cluster.Azure, "staging"))
		if err != nil {
			return err
		}
		for _, name := range []string{"batch", "web"} {
			if _, err := spotpool.New(ctx, name, poolArgs(c)); err != nil {
				return err
			}
		}
		return nil
	})

	pools := m.ByType(tokAgentPool)
	require.Len(t, pools, 16, "two pools of 4 spot types and 4 fallback types")
	for i, ap := range pools {
		deps := m.req(t, tokAgentPool, ap.Name).GetDependencies()
		if i == 0 {
			for _, other := range pools {
				assert.NotContains(t, deps, other.URN, "the first agent pool waits for no other")
			}
			continue
		}
		assert.True(t, slices.Contains(deps, pools[i-1].URN), "%s depends on %s, registered before it", ap.Name, pools[i-1].Name)
	}
	for _, pool := range []string{"batch", "web"} {
		for i := range 4 {
			deps := m.req(t, tokAgentPool, fmt.Sprintf("%s-spot-%d", pool, i)).GetDependencies()
			for j := range 4 {
				assert.Contains(t, deps, m.MustGet(t, tokAgentPool, fmt.Sprintf("%s-fallback-%d", pool, j)).URN)
			}
		}
	}
	// The second pool's first agent pool waits for the first pool's last.
	assert.Contains(t, m.req(t, tokAgentPool, "web-fallback-0").GetDependencies(), m.MustGet(t, tokAgentPool, "batch-spot-3").URN)
}

// aksLinuxPoolName is AKS's rule for a Linux agent pool's name: 1 to 12 lower-case letters
// and digits, starting with a letter
// (https://learn.microsoft.com/azure/aks/create-node-pools#limitations).
var aksLinuxPoolName = regexp.MustCompile(`^[a-z][a-z0-9]{0,11}$`)

// TestAzureAgentPoolNamesAndReplacement: agent pools keep a fixed name within AKS's rule,
// whatever the pool is called, so a change that replaces one (VM size, zones, capacity)
// reuses its name and must delete the old pool before creating the new.
func TestAzureAgentPoolNamesAndReplacement(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, pool string
		edit       func(*spotpool.Args)
	}{
		{name: "short", pool: "batch"},
		{name: "long with dashes", pool: "interactive-web-frontend"},
		{name: "leading digit", pool: "9lives"},
		{name: "other VM sizes", pool: "batch", edit: func(a *spotpool.Args) {
			a.InstanceTypes = []string{"Standard_F4s_v2", "Standard_F8s_v2", "Standard_D2s_v5", "Standard_E2s_v5"}
		}},
		{name: "other zones", pool: "batch", edit: func(a *spotpool.Args) { a.Zones = []string{"1"} }},
	}
	base := map[string]string{} // resource name -> agent pool name of the "short" case
	for _, tt := range tests {
		m := newRPCMocks()
		m.run(t, func(ctx *pulumi.Context) error {
			c, err := cluster.New(ctx, "eu", clusterArgs(cluster.Azure, "staging"))
			if err != nil {
				return err
			}
			args := poolArgs(c)
			if tt.edit != nil {
				tt.edit(args)
			}
			_, err = spotpool.New(ctx, tt.pool, args)
			return err
		})
		pools := m.ByType(tokAgentPool)
		require.Len(t, pools, 8, tt.name)
		for _, ap := range pools {
			name := in(t, ap, "agentPoolName").StringValue()
			assert.Regexp(t, aksLinuxPoolName, name, tt.name)
			assert.True(t, m.req(t, tokAgentPool, ap.Name).GetDeleteBeforeReplace(), "%s: %s is deleted before it is replaced", tt.name, ap.Name)
			if tt.pool != "batch" {
				continue
			}
			if want, ok := base[ap.Name]; ok {
				assert.Equal(t, want, name, "%s: %s keeps its name", tt.name, ap.Name)
			} else {
				base[ap.Name] = name
			}
		}
	}
}
