package stacks_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/pulumitest"
	"github.com/flotilla-io/flotilla/stacks"
)

func stackConfig(t testing.TB, env string) map[string]string {
	t.Helper()
	values, err := stacks.ReadStackValues("Pulumi." + env + ".yaml")
	require.NoError(t, err)
	return values
}

func TestProgramBuildsTheDevFleetFromItsStackFile(t *testing.T) {
	t.Parallel()
	m := pulumitest.New()
	require.NoError(t, m.RunWithConfig("dev", stackConfig(t, "dev"), stacks.Program))

	clusters := m.ByType("fleetsim:index:Cluster")
	require.Len(t, clusters, 1, "dev has one cluster")
	cl := clusters[0]
	assert.Equal(t, "sim-east-1", cl.Inputs["region"].StringValue())
	assert.Equal(t, "1.31", cl.Inputs["version"].StringValue())
	assert.Equal(t, "10.32.0.0/20", cl.Inputs["vpcCidr"].StringValue(), "the pinned plan is used")
	assert.Equal(t, "10.32.16.0/20", cl.Inputs["serviceCidr"].StringValue())
	tags := cl.Inputs["tags"].ObjectValue()
	assert.Equal(t, "dev", tags["env"].StringValue(), "env comes from flotilla:environment")
	assert.Equal(t, "cc-1001", tags["cost-center"].StringValue())

	pools := m.ByType("fleetsim:index:NodePool")
	var spot, onDemand int
	for _, p := range pools {
		switch p.Inputs["capacityType"].StringValue() {
		case "spot":
			spot++
		case "on-demand":
			onDemand++
		}
	}
	assert.Equal(t, 1, spot, "one spot pool")
	assert.GreaterOrEqual(t, onDemand, 1, "its fallback (and the system pool) are on-demand")

	namespaces := map[string]bool{}
	for _, ns := range m.ByType("kubernetes:core/v1:Namespace") {
		namespaces[ns.Inputs["metadata"].ObjectValue()["name"].StringValue()] = true
	}
	for _, want := range []string{"payments", "payments-batch", "search"} {
		assert.True(t, namespaces[want], "team namespace %q", want)
	}
	assert.NotEmpty(t, m.ByType("flotilla:envset:EnvironmentSet"))
}

func TestProgramBuildsEveryShippedStack(t *testing.T) {
	t.Parallel()
	set, err := stacks.Environments()
	require.NoError(t, err)
	for _, stack := range set.Stacks() {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			env, ok := set.EnvironmentOf(stack)
			require.True(t, ok)
			cfg, err := stacks.ReadStackFile("Pulumi." + stack + ".yaml")
			require.NoError(t, err)
			m := pulumitest.New()
			require.NoError(t, m.RunWithConfig(stack, stackConfig(t, stack), stacks.Program))

			clusters := m.ByType("fleetsim:index:Cluster")
			require.Len(t, clusters, len(cfg.Clusters))
			pinned := map[string]bool{}
			for _, n := range cfg.Networks {
				pinned[n.VPCCIDR] = true
			}
			for _, cl := range clusters {
				assert.True(t, pinned[cl.Inputs["vpcCidr"].StringValue()], "%s: the pinned plan is used", cl.Name)
				assert.Equal(t, env.Name, cl.Inputs["tags"].ObjectValue()["env"].StringValue())
				assert.Len(t, cl.Inputs["zones"].ArrayValue(), 3)
			}
		})
	}
}

func TestProgramRejectsAnEnvironmentOutsideTheSet(t *testing.T) {
	t.Parallel()
	cfg := stackConfig(t, "dev")
	cfg["flotilla:environment"] = "qa"
	m := pulumitest.New()
	err := m.RunWithConfig("qa", cfg, stacks.Program)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `flotilla:environment: "qa" is not one of the environments`)
	assert.Contains(t, err.Error(), "stacks/Pulumi.qa.yaml")
	assert.Empty(t, m.ByType("fleetsim:index:Cluster"), "nothing is registered")
}

// poolVersions runs Program with cfg and returns each fleetsim node pool's version
// input by resource name, and each cluster's.
func poolVersions(t *testing.T, stack string, cfg map[string]string) (pools, clusters map[string]string) {
	t.Helper()
	m := pulumitest.New()
	require.NoError(t, m.RunWithConfig(stack, cfg, stacks.Program))
	pools, clusters = map[string]string{}, map[string]string{}
	for _, p := range m.ByType("fleetsim:index:NodePool") {
		pools[p.Name] = p.Inputs["version"].StringValue()
	}
	for _, c := range m.ByType("fleetsim:index:Cluster") {
		clusters[c.Name] = c.Inputs["version"].StringValue()
	}
	return pools, clusters
}

func TestProgramRunsEveryPoolAtTheNodeVersion(t *testing.T) {
	t.Parallel()
	cfg := stackConfig(t, "dev")
	cfg["flotilla:nodeVersion"] = "1.30"
	pools, clusters := poolVersions(t, "dev", cfg)
	assert.Equal(t, map[string]string{"dev-east-1-cluster": "1.31"}, clusters, "the control plane keeps flotilla:version")
	assert.Equal(t, map[string]string{
		"dev-east-1-system":           "1.30",
		"dev-east-1-general-spot":     "1.30",
		"dev-east-1-general-fallback": "1.30",
	}, pools)
}

func TestProgramTakesAClustersOwnNodeVersion(t *testing.T) {
	t.Parallel()
	cfg := stackConfig(t, "staging")
	var clusters []map[string]any
	require.NoError(t, json.Unmarshal([]byte(cfg["flotilla:clusters"]), &clusters))
	clusters[0]["nodeVersion"] = "1.29"
	clusters[1]["version"] = "1.32"
	raw, err := json.Marshal(clusters)
	require.NoError(t, err)
	cfg["flotilla:clusters"] = string(raw)
	pools, cps := poolVersions(t, "staging", cfg)
	assert.Equal(t, map[string]string{"staging-east-1-cluster": "1.31", "staging-west-1-cluster": "1.32"}, cps)
	for name, v := range pools {
		want := "1.29"
		if regexp.MustCompile(`^staging-west-1-`).MatchString(name) {
			want = "1.32" // nodes follow their own control plane
		}
		assert.Equal(t, want, v, name)
	}
	assert.Len(t, pools, 6)
}

// TestProgramWithoutNodeVersionKeepsEveryProperty pins the default: a stack without
// flotilla:nodeVersion and one whose nodeVersion is its version register the same
// resources with the same properties, so that the shipped stacks' state does not change.
func TestProgramWithoutNodeVersionKeepsEveryProperty(t *testing.T) {
	t.Parallel()
	run := func(cfg map[string]string) map[string]string {
		m := pulumitest.New()
		require.NoError(t, m.RunWithConfig("staging", cfg, stacks.Program))
		out := map[string]string{}
		id := regexp.MustCompile(`-id-[0-9]+`)
		for _, r := range m.Resources() {
			raw, err := json.Marshal(r.Inputs.Mappable())
			require.NoError(t, err)
			out[r.URN] = id.ReplaceAllString(string(raw), "-id")
		}
		return out
	}
	unset := run(stackConfig(t, "staging"))
	cfg := stackConfig(t, "staging")
	cfg["flotilla:nodeVersion"] = cfg["flotilla:version"]
	assert.Equal(t, unset, run(cfg))
}

// BenchmarkProgram100Clusters runs the program for a 100-cluster fleet under mocks.
func BenchmarkProgram100Clusters(b *testing.B) {
	cfg := stackConfig(b, "dev")
	regions := []string{"sim-east-1", "sim-west-1", "sim-central-1", "sim-eu-1", "sim-ap-1"}
	var clusters []map[string]any
	for i := range 100 {
		clusters = append(clusters, map[string]any{
			"name": fmt.Sprintf("dev-%03d", i), "cloud": "sim", "region": regions[i%len(regions)],
			"systemPool": map[string]any{"instanceType": "m6i.large", "minSize": 1, "maxSize": 3},
			"spotPools": []map[string]any{{
				"name": "general", "instanceTypes": []string{"m6i.xlarge", "m5.xlarge", "c6i.xlarge", "r6i.large"},
				"minSize": 1, "maxSize": 6,
			}},
		})
	}
	raw, err := json.Marshal(clusters)
	require.NoError(b, err)
	cfg["flotilla:clusters"] = string(raw)
	cfg["flotilla:addressSpace"] = "10.0.0.0/8"
	delete(cfg, "flotilla:networks")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		m := pulumitest.New()
		if err := m.RunWithConfig("dev", cfg, stacks.Program); err != nil {
			b.Fatal(err)
		}
		if n := len(m.ByType("fleetsim:index:Cluster")); n != 100 {
			b.Fatalf("%d clusters registered, want 100", n)
		}
	}
}
