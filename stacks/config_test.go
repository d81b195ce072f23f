package stacks_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/stacks"
)

func TestShippedStacksPassValidation(t *testing.T) {
	t.Parallel()
	regions := map[string]int{"dev": 1, "staging": 2, "prod": 3}
	for env, n := range regions {
		t.Run(env, func(t *testing.T) {
			t.Parallel()
			cfg, err := stacks.ReadStackFile("Pulumi." + env + ".yaml")
			require.NoError(t, err)
			assert.Equal(t, env, cfg.Environment)
			require.Len(t, cfg.Clusters, n)
			seen := map[string]bool{}
			for _, c := range cfg.Clusters {
				assert.Equal(t, "sim", c.Cloud, "the shipped stacks run offline on the simulator")
				assert.NotEmpty(t, c.SpotPools, "every cluster has a spot pool")
				assert.False(t, seen[c.Region], "one cluster per region")
				seen[c.Region] = true
				assert.Contains(t, cfg.Networks, c.Name, "the plan of every shipped cluster is pinned in its stack file")
			}
		})
	}
}

func TestEnvironmentsMatchStackFiles(t *testing.T) {
	t.Parallel()
	set, err := stacks.Environments()
	require.NoError(t, err)
	assert.Equal(t, []string{"dev", "staging", "prod"}, set.Names())
	prod, ok := set.Get("prod")
	require.True(t, ok)
	assert.True(t, prod.RequiresApproval)
	assert.True(t, prod.Protected)
	for _, name := range set.Names() {
		assert.FileExists(t, "Pulumi."+name+".yaml")
	}
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
