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

// TestShippedFileDefects injects one mistake a new user makes into a copy of a shipped
// stack file, and expects it refused by its key, before the program runs.
func TestShippedFileDefects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, file, old, new string
		want                 []string
	}{
		{
			name: "system pool min above max", file: "Pulumi.staging.yaml",
			old:  "systemPool: {instanceType: m6i.large, minSize: 1, maxSize: 3}",
			new:  "systemPool: {instanceType: m6i.large, minSize: 4, maxSize: 3}",
			want: []string{`flotilla:clusters[0].systemPool: minSize 4 is greater than maxSize 3 (cluster "east-1")`},
		},
		{
			name: "spot pool min above max", file: "Pulumi.staging.yaml",
			old: "minSize: 2\n          maxSize: 6", new: "minSize: 8\n          maxSize: 6",
			want: []string{`flotilla:clusters[0].spotPools[0]: minSize 8 is greater than maxSize 6 (cluster "east-1")`},
		},
		{
			name: "fallback below the spot minimum", file: "Pulumi.dev.yaml",
			old: "fallback: {maxSize: 6,", new: "fallback: {maxSize: 1,",
			want: []string{`flotilla:clusters[0].spotPools[0]: fallback.maxSize 1 is below minSize 2`},
		},
		{
			name: "negative fallback", file: "Pulumi.dev.yaml",
			old: "fallback: {maxSize: 6,", new: "fallback: {maxSize: -1,",
			want: []string{`flotilla:clusters[0].spotPools[0].fallback.maxSize: -1 is negative`},
		},
		{
			name: "pod range of another cluster", file: "Pulumi.staging.yaml",
			old: "podCIDR: 10.42.0.0/16", new: "podCIDR: 10.41.0.0/16",
			want: []string{`flotilla:networks.west-1.podCIDR "10.41.0.0/16" overlaps flotilla:networks.east-1.podCIDR "10.41.0.0/16"`},
		},
		{
			name: "pod range over the VPCs", file: "Pulumi.staging.yaml",
			old: "podCIDR: 10.42.0.0/16", new: "podCIDR: 10.40.0.0/16",
			want: []string{
				`flotilla:networks.west-1.podCIDR "10.40.0.0/16" overlaps flotilla:networks.east-1.vpcCIDR "10.40.0.0/20"`,
				`flotilla:networks.west-1.podCIDR "10.40.0.0/16" overlaps flotilla:networks.east-1.serviceCIDR "10.40.16.0/20"`,
				`flotilla:networks.west-1.podCIDR "10.40.0.0/16" overlaps flotilla:networks.west-1.vpcCIDR "10.40.32.0/20"`,
				`flotilla:networks.west-1.serviceCIDR "10.40.48.0/20" overlaps flotilla:networks.west-1.podCIDR "10.40.0.0/16"`,
			},
		},
		{
			name: "range outside the address space", file: "Pulumi.dev.yaml",
			old: "podCIDR: 10.33.0.0/16", new: "podCIDR: 10.64.0.0/16",
			want: []string{`flotilla:networks.east-1.podCIDR: "10.64.0.0/16" lies outside flotilla:addressSpace "10.32.0.0/13"`},
		},
		{
			name: "malformed range", file: "Pulumi.dev.yaml",
			old: "serviceCIDR: 10.32.16.0/20", new: "serviceCIDR: 10.32.16.1/20",
			want: []string{`flotilla:networks.east-1.serviceCIDR: "10.32.16.1/20" has host bits set; did you mean "10.32.16.0/20"?`},
		},
		{
			name: "version no region offers", file: "Pulumi.staging.yaml",
			old: `flotilla:version: "1.31"`, new: `flotilla:version: "1.28"`,
			want: []string{
				`flotilla:version: "1.28" is not offered in sim-east-1, where cluster "east-1" (flotilla:clusters[0]) runs; sim-east-1 offers 1.29, 1.30, 1.31, 1.32, 1.33, 1.34`,
				`flotilla:version: "1.28" is not offered in sim-west-1`,
			},
		},
		{
			name: "nodes newer than the control plane", file: "Pulumi.dev.yaml",
			old: `flotilla:version: "1.31"`, new: `flotilla:version: "1.31"` + "\n  flotilla:nodeVersion: \"1.32\"",
			want: []string{`flotilla:nodeVersion: "1.32" is newer than the control plane's "1.31" (flotilla:version) of cluster "east-1" (flotilla:clusters[0])`},
		},
		{
			name: "a cluster's nodes too far behind", file: "Pulumi.staging.yaml",
			old: "region: sim-west-1", new: "region: sim-west-1\n      version: \"1.33\"\n      nodeVersion: \"1.29\"",
			want: []string{`flotilla:clusters[1].nodeVersion: "1.29" is 4 minors older than the control plane's "1.33" (flotilla:clusters[1].version) of cluster "west-1" (flotilla:clusters[1]); nodes on sim may be at most 3 older`},
		},
		{
			name: "node version no region offers", file: "Pulumi.dev.yaml",
			old: `flotilla:version: "1.31"`, new: `flotilla:version: "1.31"` + "\n  flotilla:nodeVersion: \"1.28\"",
			want: []string{`flotilla:nodeVersion: "1.28" is not offered in sim-east-1, where cluster "east-1" (flotilla:clusters[0]) runs`},
		},
		{
			name: "node version not a minor", file: "Pulumi.dev.yaml",
			old: "region: sim-east-1", new: "region: sim-east-1\n      nodeVersion: \"1.30.2\"",
			want: []string{`flotilla:clusters[0].nodeVersion: "1.30.2" is not a Kubernetes minor such as "1.31"`},
		},
		{
			name: "newest version in a region that lacks it", file: "Pulumi.prod-eu.yaml",
			old: "region: sim-eu-1", new: "region: sim-eu-1\n      version: \"1.34\"",
			want: []string{`flotilla:clusters[0].version: "1.34" is not offered in sim-eu-1`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(tt.file)
			require.NoError(t, err)
			require.Contains(t, string(data), tt.old)
			path := filepath.Join(t.TempDir(), tt.file)
			require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), tt.old, tt.new, 1)), 0o600))
			_, err = stacks.ReadStackFile(path)
			require.Error(t, err)
			assert.True(t, stacks.IsConfigError(err))
			assert.Contains(t, err.Error(), path)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Len(t, strings.Split(err.Error(), "\n  - ")[1:], len(tt.want), "one problem per mistake: %v", err)
		})
	}
}

func TestNetworkPlanKeepsPinnedRangesAndPlansTheRest(t *testing.T) {
	t.Parallel()
	cfg, err := stacks.ReadStackFile("Pulumi.staging.yaml")
	require.NoError(t, err)
	delete(cfg.Networks, "west-1")
	plan, pinned, err := cfg.NetworkPlan()
	require.NoError(t, err)
	assert.Equal(t, map[string]bool{"east-1": true, "west-1": false}, pinned)
	assert.Equal(t, "10.41.0.0/16", plan["east-1"].PodCIDR, "a pinned range never moves")
	require.Contains(t, plan, "west-1")
	assert.NotEmpty(t, plan["west-1"].VPCCIDR, "an unpinned cluster gets the ranges the program would give it")
	assert.Equal(t, []string{"east-1", "west-1"}, cfg.ClusterNames())
}
