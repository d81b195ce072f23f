package automation_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/automationtest"
	"github.com/flotilla-io/flotilla/stacks"
)

// shippedFile returns the path of a shipped stack file.
func shippedFile(stack string) string {
	return filepath.Join("..", "stacks", "Pulumi."+stack+".yaml")
}

// shippedFiles maps every shipped stack to its file.
func shippedFiles(t *testing.T) map[string]string {
	t.Helper()
	set, err := stacks.Environments()
	require.NoError(t, err)
	files := map[string]string{}
	for _, s := range set.Stacks() {
		files[s] = shippedFile(s)
	}
	return files
}

// inject writes a copy of a shipped stack file into dir with old replaced by new,
// failing when old is not in the file, so that a changed shipped file cannot make a
// defect silently disappear.
func inject(t *testing.T, dir, stack, old, new string) string {
	t.Helper()
	data, err := os.ReadFile(shippedFile(stack))
	require.NoError(t, err)
	require.Contains(t, string(data), old, "Pulumi.%s.yaml", stack)
	path := filepath.Join(dir, "Pulumi."+stack+".yaml")
	require.NoError(t, os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o600))
	return path
}

func TestPreflightShippedStacksPass(t *testing.T) {
	t.Parallel()
	set, err := stacks.Environments()
	require.NoError(t, err)
	validate := automation.StackValidator(automation.Project, stacks.Program)
	for _, env := range set.Environments {
		for _, stack := range env.Stacks() {
			t.Run(stack, func(t *testing.T) {
				t.Parallel()
				ref := automation.StackRef{Environment: env.Name, Stack: stack}
				assert.NoError(t, validate(context.Background(), ref, shippedFile(stack)))
			})
		}
	}
	assert.NoError(t, automation.CheckEnvironmentNetworks(shippedFiles(t)))
}

// TestPreflightValidatorRefusesDefects injects the mistakes a new user makes into a copy
// of a shipped stack file: each is refused as bad input, naming the file, the key and
// the problem, before anything changes.
func TestPreflightValidatorRefusesDefects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, stack, env string
		old, new         string
		want             []string
	}{
		{
			name: "system pool min above max", stack: "staging",
			old:  "systemPool: {instanceType: m6i.large, minSize: 1, maxSize: 3}",
			new:  "systemPool: {instanceType: m6i.large, minSize: 5, maxSize: 3}",
			want: []string{`flotilla:clusters[0].systemPool: minSize 5 is greater than maxSize 3 (cluster "east-1")`},
		},
		{
			name: "spot pool min above max", stack: "staging",
			old: "minSize: 2\n          maxSize: 6", new: "minSize: 9\n          maxSize: 6",
			want: []string{`flotilla:clusters[0].spotPools[0]: minSize 9 is greater than maxSize 6`},
		},
		{
			name: "fallback below its pool's minimum", stack: "prod-east",
			old: "fallback: {maxSize: 6,", new: "fallback: {maxSize: 1,",
			want: []string{`flotilla:clusters[0].spotPools[0]: fallback.maxSize 1 is below minSize 2`},
		},
		{
			name: "pod range of the other cluster", stack: "staging",
			old: "podCIDR: 10.42.0.0/16", new: "podCIDR: 10.41.0.0/16",
			want: []string{`flotilla:networks.west-1.podCIDR "10.41.0.0/16" overlaps flotilla:networks.east-1.podCIDR "10.41.0.0/16"`},
		},
		{
			name: "version no region offers", stack: "staging",
			old: `flotilla:version: "1.31"`, new: `flotilla:version: "1.27"`,
			want: []string{`flotilla:version: "1.27" is not offered in sim-east-1`, "sim-east-1 offers 1.29, 1.30, 1.31, 1.32, 1.33, 1.34"},
		},
		{
			name: "version the region does not offer yet", stack: "prod-eu",
			old: `flotilla:version: "1.31"`, new: `flotilla:version: "1.34"`,
			want: []string{`flotilla:version: "1.34" is not offered in sim-eu-1`},
		},
		{
			name: "unknown key", stack: "dev",
			old: "flotilla:tags:", new: "flotilla:regions: [sim-east-1]\n  flotilla:tags:",
			want: []string{"flotilla:regions: unknown key; known keys are"},
		},
		{
			name: "unknown field in a cluster", stack: "dev",
			old: "systemPool:", new: "sytemPool:",
			want: []string{`flotilla:clusters: json: unknown field "sytemPool"`},
		},
		{
			name: "broken YAML", stack: "staging",
			old: "flotilla:tags:\n", new: "flotilla:tags: [team\n",
			want: []string{"yaml: line"},
		},
		{
			name: "stack file of another environment", stack: "prod-canary", env: "prod",
			old: "flotilla:environment: prod", new: "flotilla:environment: staging",
			want: []string{`flotilla:environment is "staging", but stacks/environments.yaml lists stack "prod-canary" under "prod"`},
		},
		{
			name: "region the cloud lacks, refused by the program", stack: "dev",
			old: "region: sim-east-1", new: "region: sim-mars-1",
			want: []string{"the program refuses this configuration", `Region "sim-mars-1" is unknown for cloud "sim"`},
		},
	}
	validate := automation.StackValidator(automation.Project, stacks.Program)
	set, err := stacks.Environments()
	require.NoError(t, err)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env, ok := set.EnvironmentOf(tt.stack)
			require.True(t, ok)
			path := inject(t, t.TempDir(), tt.stack, tt.old, tt.new)
			err := validate(context.Background(), automation.StackRef{Environment: env.Name, Stack: tt.stack}, path)
			require.Error(t, err)
			assert.True(t, automation.IsInputError(err), "bad input, exit 2: %v", err)
			assert.Contains(t, err.Error(), path, "the message names the file")
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.NotContains(t, err.Error(), "error occurred", "the SDK's wrapping is not shown")
		})
	}
}

func TestPreflightValidatorHonoursCancellation(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	validate := automation.StackValidator(automation.Project, stacks.Program)
	err := validate(ctx, automation.StackRef{Environment: "dev", Stack: "dev"}, shippedFile("dev"))
	assert.ErrorIs(t, err, context.Canceled)
}

// TestPreflightEnvironmentNetworks checks the stacks of one environment together: prod's
// three stacks share 10.48.0.0/12, so none may take another's ranges or cluster names.
func TestPreflightEnvironmentNetworks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, stack, old, new string
		want                  []string
	}{
		{
			name: "pinned pod range of another stack", stack: "prod-eu",
			old: "podCIDR: 10.50.0.0/16", new: "podCIDR: 10.51.0.0/16",
			want: []string{`Pulumi.prod-eu.yaml: flotilla:networks.eu-1.podCIDR "10.51.0.0/16" overlaps flotilla:networks.west-1.podCIDR "10.51.0.0/16" of stack "prod-canary"`,
				`the stacks of environment "prod" share its address space`},
		},
		{
			name: "unpinned cluster planned onto another stack's ranges", stack: "prod-eu",
			old: "    eu-1: {vpcCIDR: 10.48.32.0/20, podCIDR: 10.50.0.0/16, serviceCIDR: 10.48.48.0/20}\n", new: "",
			want: []string{`Pulumi.prod-eu.yaml: cluster "eu-1" has no ranges in flotilla:networks, and those the program would plan for it overlap stack "prod-east"`,
				`vpcCIDR "10.48.0.0/20" overlaps flotilla:networks.east-1.vpcCIDR "10.48.0.0/20", podCIDR "10.49.0.0/16" overlaps flotilla:networks.east-1.podCIDR "10.49.0.0/16"`,
				`pin cluster "eu-1"'s ranges in flotilla:networks, clear of the other stacks' ranges`},
		},
		{
			name: "cluster name of another stack", stack: "prod-eu",
			old: "    - name: eu-1\n", new: "    - name: west-1\n",
			want: []string{`Pulumi.prod-eu.yaml: flotilla:clusters: cluster "west-1" is also a cluster of stack "prod-canary"`,
				`both would create cluster "prod-west-1" of environment "prod"`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := shippedFiles(t)
			dir := t.TempDir()
			files[tt.stack] = inject(t, dir, tt.stack, tt.old, tt.new)
			if strings.Contains(tt.new, "west-1") {
				// The renamed cluster keeps its ranges under its new name.
				data, err := os.ReadFile(files[tt.stack])
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(files[tt.stack], []byte(strings.Replace(string(data), "    eu-1: {", "    west-1: {", 1)), 0o600))
			}
			_, err := stacks.ReadStackFile(files[tt.stack])
			require.NoError(t, err, "each stack alone is valid; only together do they conflict")

			err = automation.CheckEnvironmentNetworks(files)
			require.Error(t, err)
			assert.True(t, automation.IsInputError(err), "bad input, exit 2: %v", err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				assert.Contains(t, line, files[tt.stack], "every problem is reported in the changed file")
			}
		})
	}
}

func TestPreflightEnvironmentNetworksOnlyComparesOneEnvironment(t *testing.T) {
	t.Parallel()
	// dev and staging both have a cluster named east-1, in accounts and address spaces of
	// their own: that is no conflict.
	files := map[string]string{"dev": shippedFile("dev"), "staging": shippedFile("staging")}
	assert.NoError(t, automation.CheckEnvironmentNetworks(files))

	files["broken"] = filepath.Join(t.TempDir(), "Pulumi.broken.yaml")
	require.NoError(t, os.WriteFile(files["broken"], []byte("config: [\n"), 0o600))
	err := automation.CheckEnvironmentNetworks(files)
	require.Error(t, err)
	assert.True(t, automation.IsInputError(err))
	assert.Contains(t, err.Error(), files["broken"])
}

// TestPreflightStopsTheRolloutBeforeDevChanges is the new user's case: an invalid
// setting in staging's file refuses the whole rollout, as bad input, before dev changes.
func TestPreflightStopsTheRolloutBeforeDevChanges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, stack, old, new, want string
	}{
		{"min above max", "staging", "minSize: 1, maxSize: 3", "minSize: 4, maxSize: 3", "flotilla:clusters[0].systemPool: minSize 4 is greater than maxSize 3"},
		{"overlapping pod range", "staging", "podCIDR: 10.42.0.0/16", "podCIDR: 10.41.0.0/16", `flotilla:networks.west-1.podCIDR "10.41.0.0/16" overlaps`},
		{"unoffered version", "prod-eu", `flotilla:version: "1.31"`, `flotilla:version: "1.34"`, `flotilla:version: "1.34" is not offered in sim-eu-1`},
		{"broken YAML", "prod-east", "flotilla:tags:\n", "flotilla:tags: {team\n", "yaml: line"},
		{"pod range of another prod stack", "prod-eu", "podCIDR: 10.50.0.0/16", "podCIDR: 10.51.0.0/16", `overlaps flotilla:networks.west-1.podCIDR "10.51.0.0/16" of stack "prod-canary"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			stackDir := filepath.Join(dir, "stacks")
			require.NoError(t, os.MkdirAll(stackDir, 0o755))
			for stack := range shippedFiles(t) {
				data, err := os.ReadFile(shippedFile(stack))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(filepath.Join(stackDir, "Pulumi."+stack+".yaml"), data, 0o600))
			}
			data, err := os.ReadFile(filepath.Join("..", "stacks", "environments.yaml"))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(stackDir, "environments.yaml"), data, 0o600))
			path := inject(t, stackDir, tt.stack, tt.old, tt.new)

			fake := automationtest.NewFake()
			d, err := automation.New(automation.WithProjectDir(dir), automation.WithStateDir(t.TempDir()),
				automation.WithStackOps(fake), automation.WithHealth(automationtest.NewFakeHealth()),
				automation.WithProgramHash("test"))
			require.NoError(t, err)
			_, err = d.Rollout(context.Background(), automation.RolloutRequest{Approve: []string{"prod"}})
			require.Error(t, err)
			assert.True(t, automation.IsInputError(err), "bad input, exit 2: %v", err)
			assert.Contains(t, err.Error(), path)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, fake.CallList(), "no stack was touched, dev included")
		})
	}
}
