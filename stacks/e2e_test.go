package stacks_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/simtest"
	"github.com/flotilla-io/flotilla/stacks"
)

// TestDevStackUpAndDestroyOnTheSimulator runs the dev stack from stacks.Program and
// its stack file through the real CLI, onto simulated clusters with real control planes.
func TestDevStackUpAndDestroyOnTheSimulator(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, simtest.WithKube())
	s := simtest.Stack(t, sim, "dev", stacks.Program,
		simtest.StackProject("flotilla"), simtest.StackConfig(stackConfig(t, "dev")))

	res := simtest.Up(t, s)
	endpoints, ok := res.Outputs["endpoints"].Value.(map[string]any)
	require.True(t, ok, "endpoints output: %#v", res.Outputs["endpoints"])
	assert.Contains(t, endpoints, "east-1")
	assert.True(t, res.Outputs["kubeconfigs"].Secret, "kubeconfigs are secret")
	cost, ok := res.Outputs["hourlyCost"].Value.(float64)
	require.True(t, ok)
	assert.Greater(t, cost, 0.0, "the spot pool's nodes cost something")
	networks, ok := res.Outputs["networks"].Value.(map[string]any)
	require.True(t, ok)
	assert.Equal(t, "10.32.0.0/20", networks["east-1"].(map[string]any)["vpcCIDR"])

	clusters, ok := res.Outputs["clusters"].Value.(map[string]any)
	require.True(t, ok, "clusters output: %#v", res.Outputs["clusters"])
	assert.Equal(t, "none", clusters["east-1"].(map[string]any)["autoUpgrade"], "only Flotilla upgrades the simulated cluster")
	pools, ok := res.Outputs["pools"].Value.(map[string]any)
	require.True(t, ok, "pools output: %#v", res.Outputs["pools"])
	list := pools["east-1"].([]any)
	require.Len(t, list, 3, "system, spot and fallback")
	for _, p := range list {
		assert.Equal(t, "1.31", p.(map[string]any)["version"], "as the simulated cloud reports the pool: %v", p)
	}

	st := sim.State(t)
	require.Len(t, st.Clusters, 1)

	simtest.Destroy(t, s)
	assert.Empty(t, sim.State(t).Clusters, "the simulated cloud is empty after destroy")
}
