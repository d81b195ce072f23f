package stacks_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/stacks"
)

func TestShippedStacksPassValidation(t *testing.T) {
	t.Parallel()
	regions := map[string][]string{
		"dev":         {"sim-east-1"},
		"staging":     {"sim-east-1", "sim-west-1"},
		"prod-canary": {"sim-west-1"},
		"prod-east":   {"sim-east-1"},
		"prod-eu":     {"sim-eu-1"},
	}
	for stack, want := range regions {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			cfg, err := stacks.ReadStackFile("Pulumi." + stack + ".yaml")
			require.NoError(t, err)
			var got []string
			for _, c := range cfg.Clusters {
				assert.Equal(t, "sim", c.Cloud, "the shipped stacks run offline on the simulator")
				assert.NotEmpty(t, c.SpotPools, "every cluster has a spot pool")
				assert.NotContains(t, got, c.Region, "one cluster per region")
				got = append(got, c.Region)
				assert.Contains(t, cfg.Networks, c.Name, "the plan of every shipped cluster is pinned in its stack file")
			}
			assert.Equal(t, want, got)
		})
	}
}

func TestEnvironmentsListEveryStackInWaves(t *testing.T) {
	t.Parallel()
	set, err := stacks.Environments()
	require.NoError(t, err)
	assert.Equal(t, []string{"dev", "staging", "prod"}, set.Names())

	waves := map[string][][]string{}
	for _, e := range set.Environments {
		waves[e.Name] = e.StackWaves()
	}
	assert.Equal(t, map[string][][]string{
		"dev":     {{"dev"}},
		"staging": {{"staging"}},
		"prod":    {{"prod-canary"}, {"prod-east", "prod-eu"}},
	}, waves, "prod rolls out its canary first, then the other two regions")

	prod, ok := set.Get("prod")
	require.True(t, ok)
	assert.True(t, prod.RequiresApproval)
	assert.True(t, prod.Protected)
	assert.Equal(t, 0, prod.MaxFailures, "prod ships without a failure budget")
	assert.Equal(t, 1, prod.MaxConcurrency)
}

func TestEnvironmentsMatchStackFiles(t *testing.T) {
	t.Parallel()
	set, err := stacks.Environments()
	require.NoError(t, err)
	for _, stack := range set.Stacks() {
		env, ok := set.EnvironmentOf(stack)
		require.True(t, ok)
		cfg, err := stacks.ReadStackFile("Pulumi." + stack + ".yaml")
		require.NoError(t, err, "stacks/environments.yaml lists stack %q, so its file exists and is valid", stack)
		assert.Equal(t, env.Name, cfg.Environment, "Pulumi.%s.yaml names the environment that lists it", stack)
	}

	files, err := filepath.Glob("Pulumi.*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		stack := strings.TrimSuffix(strings.TrimPrefix(f, "Pulumi."), ".yaml")
		_, ok := set.EnvironmentOf(stack)
		assert.True(t, ok, "%s is listed under an environment in stacks/environments.yaml", f)
	}
	assert.Len(t, files, len(set.Stacks()))
}

// TestProdNetworksKeptThroughTheSplit pins prod's ranges: splitting prod into three
// stacks moved no cluster's network, since a service range cannot move without
// replacing the cluster.
func TestProdNetworksKeptThroughTheSplit(t *testing.T) {
	t.Parallel()
	want := map[string]stacks.NetworkConfig{
		"east-1": {VPCCIDR: "10.48.0.0/20", PodCIDR: "10.49.0.0/16", ServiceCIDR: "10.48.16.0/20"},
		"west-1": {VPCCIDR: "10.48.64.0/20", PodCIDR: "10.51.0.0/16", ServiceCIDR: "10.48.80.0/20"},
		"eu-1":   {VPCCIDR: "10.48.32.0/20", PodCIDR: "10.50.0.0/16", ServiceCIDR: "10.48.48.0/20"},
	}
	set, err := stacks.Environments()
	require.NoError(t, err)
	prod, ok := set.Get("prod")
	require.True(t, ok)
	got := map[string]stacks.NetworkConfig{}
	for _, stack := range prod.Stacks() {
		cfg, err := stacks.ReadStackFile("Pulumi." + stack + ".yaml")
		require.NoError(t, err)
		assert.Equal(t, "10.48.0.0/12", cfg.AddressSpace, "prod's stacks share one address space")
		for name, n := range cfg.Networks {
			assert.NotContains(t, got, name, "cluster %q is in one prod stack only", name)
			got[name] = n
		}
	}
	assert.Equal(t, want, got)
}

func TestConfigErrorsNameKeyAndFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{
			name: "missing required keys",
			yaml: "config:\n  flotilla:tags: {team: a}\n",
			want: []string{"flotilla:environment is required", "flotilla:version is required", "flotilla:addressSpace is required", "flotilla:clusters: at least one cluster"},
		},
		{
			name: "unknown key and bad shapes",
			yaml: `config:
  flotilla:environment: dev
  flotilla:version: "1.31.2"
  flotilla:addressSpace: 10.0.0.0/33
  flotilla:regions: [a]
  flotilla:clusters:
    - {cloud: sim, region: sim-east-1, spotPools: [{name: g, fallback: {provisionTimeout: soon}}]}
    - {cloud: sim, region: sim-east-1}
  flotilla:teams:
    - {name: t, access: {dev: owner}}
  flotilla:networks:
    gone: {vpcCIDR: 10.0.0.0/20}
`,
			want: []string{
				"flotilla:regions: unknown key",
				`flotilla:version: "1.31.2" is not a Kubernetes minor`,
				`flotilla:addressSpace: "10.0.0.0/33" is not a CIDR block`,
				`flotilla:clusters[0].spotPools[0].fallback.provisionTimeout: "soon"`,
				`flotilla:clusters[1]: cluster name "sim-sim-east-1" is used twice`,
				`flotilla:teams[0].access[dev]: "owner" is not one of admin, edit, view`,
				`flotilla:networks: "gone" is not a cluster of this stack`,
			},
		},
		{
			name: "field typo inside a cluster",
			yaml: "config:\n  flotilla:environment: dev\n  flotilla:version: \"1.31\"\n  flotilla:addressSpace: 10.32.0.0/13\n  flotilla:clusters:\n    - {cloud: sim, region: sim-east-1, sytemPool: {}}\n",
			want: []string{`flotilla:clusters: json: unknown field "sytemPool"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "Pulumi.dev.yaml")
			require.NoError(t, os.WriteFile(path, []byte(tt.yaml), 0o600))
			_, err := stacks.ReadStackFile(path)
			require.Error(t, err)
			assert.True(t, stacks.IsConfigError(err))
			assert.Contains(t, err.Error(), path)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}
