package fleetsim_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/provider"
	fleetsim "github.com/flotilla-io/flotilla/internal/fleetsim/sdk"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
)

// inputNames returns the input property names of a type in the provider's schema.
func inputNames(t *testing.T, typ string) map[string]bool {
	t.Helper()
	var schema struct {
		Resources map[string]struct {
			InputProperties map[string]any `json:"inputProperties"`
		} `json:"resources"`
	}
	require.NoError(t, json.Unmarshal([]byte(provider.Schema()), &schema))
	out := map[string]bool{}
	for k := range schema.Resources[typ].InputProperties {
		out[k] = true
	}
	return out
}

// TestInputsAreWhatTheProviderReads registers every input of both types and checks
// that the engine receives exactly the properties the provider's schema declares.
func TestInputsAreWhatTheProviderReads(t *testing.T) {
	t.Parallel()
	m := pulumitest.New()
	err := m.Run(func(ctx *pulumi.Context) error {
		cl, err := fleetsim.NewCluster(ctx, "dev-east", &fleetsim.ClusterArgs{
			Name: pulumi.String("dev-east"), Region: pulumi.String("sim-east-1"),
			Zones: pulumi.StringArray{pulumi.String("sim-east-1a")}, Version: pulumi.String("1.31"),
			VpcCidr: pulumi.String("10.0.0.0/16"), PodCidr: pulumi.String("10.244.0.0/16"), ServiceCidr: pulumi.String("172.20.0.0/16"),
			Tags: pulumi.StringMap{"team": pulumi.String("a")}, Kube: pulumi.Bool(true),
		})
		if err != nil {
			return err
		}
		_, err = fleetsim.NewNodePool(ctx, "dev-east-spot", &fleetsim.NodePoolArgs{
			Name: pulumi.String("spot"), Cluster: cl.ID().ToStringOutput(), CapacityType: pulumi.String("spot"),
			InstanceTypes: pulumi.StringArray{pulumi.String("m6i.large")}, Zones: pulumi.StringArray{pulumi.String("sim-east-1a")},
			MinSize: pulumi.Int(0), MaxSize: pulumi.Int(5), DesiredSize: pulumi.Int(2), Version: pulumi.String("1.31"),
			Labels: pulumi.StringMap{"flotilla.io/pool": pulumi.String("app")},
			Taints: fleetsim.TaintArray{fleetsim.TaintArgs{Key: pulumi.String("flotilla.io/spot"), Value: pulumi.String("true"), Effect: pulumi.String("NoSchedule")}},
			Tags:   pulumi.StringMap{"team": pulumi.String("a")}, ProvisionTimeout: pulumi.Int(120), FallbackFor: pulumi.String("x"),
		})
		return err
	})
	require.NoError(t, err)

	for _, typ := range []string{fleetsim.ClusterType, fleetsim.NodePoolType} {
		rs := m.ByType(typ)
		require.Len(t, rs, 1, typ)
		want := inputNames(t, typ)
		got := map[string]bool{}
		for k := range rs[0].Inputs {
			got[string(k)] = true
		}
		assert.Equal(t, want, got, typ)
	}
	pool := m.MustGet(t, fleetsim.NodePoolType, "dev-east-spot")
	assert.Equal(t, []any{map[string]any{"key": "flotilla.io/spot", "value": "true", "effect": "NoSchedule"}}, pool.Inputs["taints"].Mappable())
	assert.Equal(t, "dev-east-id-1", pool.Inputs["cluster"].StringValue())
}

func TestPluginVersionMatchesTheProvider(t *testing.T) {
	t.Parallel()
	assert.Equal(t, cloud.Version, fleetsim.PluginVersion)
}

func TestRequiredArguments(t *testing.T) {
	t.Parallel()
	err := pulumitest.New().Run(func(ctx *pulumi.Context) error {
		_, err := fleetsim.NewCluster(ctx, "c", &fleetsim.ClusterArgs{})
		return err
	})
	assert.ErrorContains(t, err, "required argument 'Region'")
	err = pulumitest.New().Run(func(ctx *pulumi.Context) error {
		_, err := fleetsim.NewNodePool(ctx, "p", &fleetsim.NodePoolArgs{Cluster: pulumi.String("c")})
		return err
	})
	assert.ErrorContains(t, err, "required argument 'InstanceTypes'")
}

// TestKubeMode: the mode is the stack's config fleetsim:kube alone; FLEETSIM_KUBE in the
// program's environment changes nothing.
func TestKubeMode(t *testing.T) {
	t.Setenv("FLEETSIM_KUBE", "off")
	tests := []struct {
		config map[string]string
		want   bool
	}{
		{map[string]string{"fleetsim:kube": "off"}, false},
		{map[string]string{"fleetsim:kube": "lite"}, false},
		{map[string]string{"fleetsim:kube": "false"}, false},
		{map[string]string{"fleetsim:kube": "on"}, true},
		{map[string]string{}, true},
	}
	for _, tt := range tests {
		var got bool
		require.NoError(t, pulumitest.New().RunWithConfig("dev", tt.config, func(ctx *pulumi.Context) error {
			got = fleetsim.KubeMode(ctx)
			return nil
		}))
		assert.Equal(t, tt.want, got, "%v", tt.config)
	}
}

func ExampleNewCluster() {
	program := func(ctx *pulumi.Context) error {
		cl, err := fleetsim.NewCluster(ctx, "dev-east", &fleetsim.ClusterArgs{
			Region:  pulumi.String("sim-east-1"),
			Version: pulumi.String("1.31"),
			Tags:    pulumi.StringMap{"team": pulumi.String("payments")},
		})
		if err != nil {
			return err
		}
		ctx.Export("endpoint", cl.Endpoint)
		ctx.Export("kubeconfig", cl.Kubeconfig) // a secret
		return nil
	}
	m := pulumitest.New()
	fmt.Println(m.Run(program), len(m.ByType(fleetsim.ClusterType)))
	// Output: <nil> 1
}

func ExampleNewNodePool() {
	program := func(ctx *pulumi.Context) error {
		cl, err := fleetsim.NewCluster(ctx, "dev-east", &fleetsim.ClusterArgs{Region: pulumi.String("sim-east-1")})
		if err != nil {
			return err
		}
		spot, err := fleetsim.NewNodePool(ctx, "dev-east-app-spot", &fleetsim.NodePoolArgs{
			Cluster:       cl.ID().ToStringOutput(),
			CapacityType:  pulumi.String("spot"),
			InstanceTypes: pulumi.StringArray{pulumi.String("m6i.large")},
			MinSize:       pulumi.Int(0),
			MaxSize:       pulumi.Int(10),
			DesiredSize:   pulumi.Int(3),
			Labels:        pulumi.StringMap{"flotilla.io/pool": pulumi.String("app")},
			Taints: fleetsim.TaintArray{fleetsim.TaintArgs{
				Key: pulumi.String("flotilla.io/spot"), Value: pulumi.String("true"), Effect: pulumi.String("NoSchedule"),
			}},
		})
		if err != nil {
			return err
		}
		// The on-demand pool with the same flotilla.io/pool label takes over during a
		// spot shortage, after the spot pool's provision timeout.
		_, err = fleetsim.NewNodePool(ctx, "dev-east-app-fallback", &fleetsim.NodePoolArgs{
			Cluster:       cl.ID().ToStringOutput(),
			InstanceTypes: pulumi.StringArray{pulumi.String("m6i.large")},
			MinSize:       pulumi.Int(0),
			MaxSize:       pulumi.Int(10),
			DesiredSize:   pulumi.Int(0),
			Labels:        pulumi.StringMap{"flotilla.io/pool": pulumi.String("app")},
		})
		ctx.Export("spotNodes", spot.ReadyNodes)
		return err
	}
	m := pulumitest.New()
	fmt.Println(m.Run(program), len(m.ByType(fleetsim.NodePoolType)))
	// Output: <nil> 2
}
