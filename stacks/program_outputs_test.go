package stacks

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/geofleet"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
)

// outputs runs the fleet part of Program for a stack file's settings, with edits, and
// returns the clusters and pools outputs as the stack would export them.
func outputs(t *testing.T, stack string, edit func(map[string]string)) (clusters, pools map[string]any, m *pulumitest.Mocks) {
	t.Helper()
	values, err := ReadStackValues("Pulumi." + stack + ".yaml")
	require.NoError(t, err)
	if edit != nil {
		edit(values)
	}
	values["fleetsim:kube"] = "off"
	m = pulumitest.New()
	var c, p pulumi.MapOutput
	require.NoError(t, m.RunWithConfig(stack, values, func(ctx *pulumi.Context) error {
		cfg, err := ConfigFromContext(ctx)
		if err != nil {
			return err
		}
		args := cfg.fleetArgs(nil)
		fleet, err := geofleet.New(ctx, cfg.Environment, args)
		if err != nil {
			return err
		}
		c, p = clustersOutput(fleet).ToMapOutput(), poolsOutput(fleet, args).ToMapOutput()
		return nil
	}))
	return pulumitest.Await(t, c).(map[string]any), pulumitest.Await(t, p).(map[string]any), m
}

func TestClustersOutputSaysNothingElseUpgrades(t *testing.T) {
	t.Parallel()
	clusters, _, _ := outputs(t, "staging", nil)
	for _, key := range []string{"east-1", "west-1"} {
		c := clusters[key].(map[string]any)
		assert.Equal(t, "none", c["autoUpgrade"], key)
		assert.Equal(t, "sim", c["cloud"], key)
		assert.NotEmpty(t, c["name"], key)
		assert.NotEmpty(t, c["region"], key)
	}
}

func TestPoolsOutputGivesEachPoolsVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		edit  func(map[string]string)
		nodes map[string]string // by cluster
	}{
		{name: "nodes at the control plane's minor", nodes: map[string]string{"east-1": "1.31", "west-1": "1.31"}},
		{name: "the stack's nodes behind", edit: func(v map[string]string) { v["flotilla:nodeVersion"] = "1.30" },
			nodes: map[string]string{"east-1": "1.30", "west-1": "1.30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, pools, _ := outputs(t, "staging", tt.edit)
			for cluster, want := range tt.nodes {
				list := pools[cluster].([]any)
				require.Len(t, list, 3, "system, spot and fallback")
				byCapacity := map[string]map[string]any{}
				for _, p := range list {
					p := p.(map[string]any)
					assert.Equal(t, want, p["version"], "%s %s", cluster, p["name"])
					key := p["capacityType"].(string)
					if _, ok := p["fallbackFor"]; ok {
						key = "fallback"
					}
					byCapacity[key] = p
				}
				// The fields the health gate reads stay as they were.
				assert.Equal(t, map[string]any{"name": "system", "label": "system", "capacityType": "on-demand", "minSize": 1, "maxSize": 3, "version": want}, byCapacity["on-demand"])
				assert.Equal(t, "staging-"+cluster+"-general-spot", byCapacity["spot"]["name"])
				assert.Equal(t, "staging-"+cluster+"-general-spot", byCapacity["fallback"]["fallbackFor"])
				assert.Equal(t, 6, byCapacity["fallback"]["maxSize"])
			}
		})
	}
}
