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

// salt is the encryption salt the Pulumi CLI writes at the top of a stack file.
const salt = "encryptionsalt: v1:abc123:v1:def456:ghi789\n"

// copyStack copies a shipped stack file into a directory of the test's own, with the
// encryption salt the CLI writes at the top.
func copyStack(t *testing.T, stack string) string {
	t.Helper()
	data, err := os.ReadFile("Pulumi." + stack + ".yaml")
	require.NoError(t, err)
	return writeStack(t, "Pulumi."+stack+".yaml", salt+string(data))
}

// writeStack writes a stack file into a directory of the test's own.
func writeStack(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o640))
	return path
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

// shippedStacks are the stacks of stacks/environments.yaml.
func shippedStacks(t *testing.T) []string {
	t.Helper()
	set, err := stacks.Environments()
	require.NoError(t, err)
	return set.Stacks()
}

// withoutVersionKeys drops the lines of the version keys, so that what remains of two
// files can be compared byte for byte.
func withoutVersionKeys(s string) string {
	var keep []string
	for _, line := range strings.SplitAfter(s, "\n") {
		key := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- "))
		if strings.HasPrefix(key, "flotilla:version:") || strings.HasPrefix(key, "flotilla:nodeVersion:") ||
			strings.HasPrefix(key, "version:") || strings.HasPrefix(key, "nodeVersion:") {
			continue
		}
		keep = append(keep, line)
	}
	return strings.Join(keep, "")
}

func TestReadVersionsOfEveryShippedStack(t *testing.T) {
	t.Parallel()
	for _, stack := range shippedStacks(t) {
		cfg, err := stacks.ReadStackFile("Pulumi." + stack + ".yaml")
		require.NoError(t, err)
		got, err := stacks.ReadVersions("Pulumi." + stack + ".yaml")
		require.NoError(t, err)
		require.Len(t, got, len(cfg.Clusters), stack)
		for _, name := range cfg.ClusterNames() {
			assert.Equal(t, stacks.Versions{ControlPlane: "1.31", Nodes: "1.31"}, got[name], "%s: %s", stack, name)
		}
	}
}

// TestWriteVersionsRoundTripsEveryShippedStack moves every shipped stack's control
// planes a minor ahead of its nodes and back: the file stays a valid stack file that
// says those versions, only the version keys change, and the way back restores it byte
// for byte.
func TestWriteVersionsRoundTripsEveryShippedStack(t *testing.T) {
	t.Parallel()
	for _, stack := range shippedStacks(t) {
		t.Run(stack, func(t *testing.T) {
			t.Parallel()
			path := copyStack(t, stack)
			before := read(t, path)
			orig, err := stacks.ReadVersions(path)
			require.NoError(t, err)

			step := map[string]stacks.Versions{}
			for name := range orig {
				step[name] = stacks.Versions{ControlPlane: "1.32", Nodes: "1.31"}
			}
			require.NoError(t, stacks.WriteVersions(path, step))
			after := read(t, path)
			assert.True(t, strings.HasPrefix(after, salt), "the encryption salt stays")
			assert.Equal(t, withoutVersionKeys(before), withoutVersionKeys(after), "only the version keys change")

			cfg, err := stacks.ReadStackFile(path)
			require.NoError(t, err, "still a valid stack file")
			assert.Equal(t, "1.32", cfg.Version)
			assert.Equal(t, "1.31", cfg.NodeVersion, "every cluster's nodes agree: one stack-level key")
			for _, cl := range cfg.Clusters {
				assert.Empty(t, cl.Version, "no cluster differs: no key of its own")
				assert.Empty(t, cl.NodeVersion)
			}
			got, err := stacks.ReadVersions(path)
			require.NoError(t, err)
			assert.Equal(t, step, got)

			back := map[string]stacks.Versions{}
			for name := range orig {
				back[name] = stacks.Versions{ControlPlane: "1.31"}
			}
			require.NoError(t, stacks.WriteVersions(path, back))
			assert.Equal(t, before, read(t, path), "back where it began, byte for byte")
		})
	}
}

// TestWriteVersionsStackLevel moves a whole stack: the stack-level keys change, and
// every other line stays.
func TestWriteVersionsStackLevel(t *testing.T) {
	t.Parallel()
	path := copyStack(t, "staging")
	before := read(t, path)

	require.NoError(t, stacks.WriteVersions(path, map[string]stacks.Versions{
		"east-1": {ControlPlane: "1.32", Nodes: "1.31"},
		"west-1": {ControlPlane: "1.32", Nodes: "1.31"},
	}))
	assert.Equal(t,
		strings.Replace(before, `  flotilla:version: "1.31"`+"\n", `  flotilla:version: "1.32"`+"\n"+`  flotilla:nodeVersion: "1.31"`+"\n", 1),
		read(t, path))

	require.NoError(t, stacks.WriteVersions(path, map[string]stacks.Versions{
		"east-1": {ControlPlane: "1.32", Nodes: "1.32"},
		"west-1": {ControlPlane: "1.32", Nodes: "1.32"},
	}))
	assert.Equal(t, strings.Replace(before, `flotilla:version: "1.31"`, `flotilla:version: "1.32"`, 1), read(t, path),
		"nodes that catch up need no key")
}

// TestWriteVersionsPerCluster walks one cluster ahead of the other: it gets keys of its
// own, after its region, and once both agree again the keys go back to the stack level.
func TestWriteVersionsPerCluster(t *testing.T) {
	t.Parallel()
	path := copyStack(t, "staging")
	before := read(t, path)
	east := "    - name: east-1\n      cloud: sim\n      region: sim-east-1\n"
	west := "    - name: west-1\n      cloud: sim\n      region: sim-west-1\n"

	// east-1's control plane first: the stack keeps 1.31 (a tie keeps the file's
	// value), and both clusters' nodes still run 1.31.
	require.NoError(t, stacks.WriteVersions(path, map[string]stacks.Versions{"east-1": {ControlPlane: "1.32", Nodes: "1.31"}}))
	after := read(t, path)
	assert.Contains(t, after, east+"      version: \"1.32\"\n      systemPool:")
	assert.Contains(t, after, "  flotilla:version: \"1.31\"\n  flotilla:nodeVersion: \"1.31\"\n")
	assertVersions(t, path, map[string]stacks.Versions{"east-1": {"1.32", "1.31"}, "west-1": {"1.31", "1.31"}})

	// west-1's nodes move the other way: the nodes disagree, so each cluster says its own.
	require.NoError(t, stacks.WriteVersions(path, map[string]stacks.Versions{"west-1": {ControlPlane: "1.31", Nodes: "1.30"}}))
	after = read(t, path)
	assert.Contains(t, after, east+"      version: \"1.32\"\n      nodeVersion: \"1.31\"\n      systemPool:")
	assert.Contains(t, after, west+"      nodeVersion: \"1.30\"\n      systemPool:")
	assert.NotContains(t, after, "flotilla:nodeVersion")
	assertVersions(t, path, map[string]stacks.Versions{"east-1": {"1.32", "1.31"}, "west-1": {"1.31", "1.30"}})

	// west-1 catches up with east-1: hoisted back to the stack level.
	require.NoError(t, stacks.WriteVersions(path, map[string]stacks.Versions{"west-1": {ControlPlane: "1.32", Nodes: "1.31"}}))
	after = read(t, path)
	assert.NotContains(t, after, "      version:")
	assert.NotContains(t, after, "      nodeVersion:")
	assert.Contains(t, after, "  flotilla:version: \"1.32\"\n  flotilla:nodeVersion: \"1.31\"\n")
	assertVersions(t, path, map[string]stacks.Versions{"east-1": {"1.32", "1.31"}, "west-1": {"1.32", "1.31"}})

	require.NoError(t, stacks.WriteVersions(path, map[string]stacks.Versions{"east-1": {ControlPlane: "1.31"}, "west-1": {ControlPlane: "1.31"}}))
	assert.Equal(t, before, read(t, path), "back where it began, byte for byte")
}

// assertVersions checks that path is a valid stack file whose clusters run want.
func assertVersions(t *testing.T, path string, want map[string]stacks.Versions) {
	t.Helper()
	got, err := stacks.ReadVersions(path)
	require.NoError(t, err, "a valid stack file")
	assert.Equal(t, want, got)
}

const threeClusters = `config:
  flotilla:environment: prod
  flotilla:version: "1.31"
  flotilla:addressSpace: 10.48.0.0/12
  flotilla:clusters:
    - name: a
      cloud: sim
      region: sim-east-1
    - name: b
      cloud: sim
      region: sim-west-1
    - name: c
      cloud: sim
      region: sim-eu-1
`

// TestWriteVersionsTheStackLevelIsTheMostCommon checks the minimal form when clusters
// disagree: the stack level holds what most clusters run.
func TestWriteVersionsTheStackLevelIsTheMostCommon(t *testing.T) {
	t.Parallel()
	path := writeStack(t, "Pulumi.prod.yaml", threeClusters)
	require.NoError(t, stacks.WriteVersions(path, map[string]stacks.Versions{
		"a": {ControlPlane: "1.32", Nodes: "1.31"},
		"b": {ControlPlane: "1.32", Nodes: "1.31"},
	}))
	assert.Equal(t, `config:
  flotilla:environment: prod
  flotilla:version: "1.32"
  flotilla:nodeVersion: "1.31"
  flotilla:addressSpace: 10.48.0.0/12
  flotilla:clusters:
    - name: a
      cloud: sim
      region: sim-east-1
    - name: b
      cloud: sim
      region: sim-west-1
    - name: c
      cloud: sim
      region: sim-eu-1
      version: "1.31"
`, read(t, path))
	assertVersions(t, path, map[string]stacks.Versions{"a": {"1.32", "1.31"}, "b": {"1.32", "1.31"}, "c": {"1.31", "1.31"}})
}

// TestWriteVersionsInFlowStyle edits clusters written as flow mappings inside them.
func TestWriteVersionsInFlowStyle(t *testing.T) {
	t.Parallel()
	path := writeStack(t, "Pulumi.dev.yaml", `config:
  flotilla:environment: dev
  flotilla:version: "1.31"
  flotilla:addressSpace: 10.32.0.0/13
  flotilla:clusters:
    - {name: a, cloud: sim, region: sim-east-1, systemPool: {minSize: 1, maxSize: 2}}
    - {cloud: sim, region: sim-west-1, version: "1.30"}   # behind on purpose
`)
	require.NoError(t, stacks.WriteVersions(path, map[string]stacks.Versions{
		"a":              {ControlPlane: "1.32", Nodes: "1.31"},
		"sim-sim-west-1": {ControlPlane: "1.31", Nodes: "1.29"},
	}))
	assert.Equal(t, `config:
  flotilla:environment: dev
  flotilla:version: "1.31"
  flotilla:addressSpace: 10.32.0.0/13
  flotilla:clusters:
    - {name: a, cloud: sim, region: sim-east-1, version: "1.32", nodeVersion: "1.31", systemPool: {minSize: 1, maxSize: 2}}
    - {cloud: sim, region: sim-west-1, nodeVersion: "1.29"}   # behind on purpose
`, read(t, path))
	assertVersions(t, path, map[string]stacks.Versions{"a": {"1.32", "1.31"}, "sim-sim-west-1": {"1.31", "1.29"}})
}

// TestWriteVersionsKeepsCommentsAndQuotes replaces a value and leaves the comment after
// it; a single-quoted value stays single-quoted, and a plain one is quoted, since a
// plain 1.30 is the number 1.3 to YAML.
func TestWriteVersionsKeepsCommentsAndQuotes(t *testing.T) {
	t.Parallel()
	path := writeStack(t, "Pulumi.dev.yaml", `config:
  flotilla:environment: dev
  flotilla:version: '1.31' # pinned by the upgrade
  flotilla:clusters:
    # the lagging cluster
    - cloud: sim
      region: sim-east-1
      nodeVersion: 1.30
    - cloud: sim
      region: sim-west-1
`)
	require.NoError(t, stacks.WriteVersions(path, map[string]stacks.Versions{
		"sim-sim-east-1": {ControlPlane: "1.32", Nodes: "1.29"},
		"sim-sim-west-1": {ControlPlane: "1.32"},
	}))
	assert.Equal(t, `config:
  flotilla:environment: dev
  flotilla:version: '1.32' # pinned by the upgrade
  flotilla:clusters:
    # the lagging cluster
    - cloud: sim
      region: sim-east-1
      nodeVersion: "1.29"
    - cloud: sim
      region: sim-west-1
`, read(t, path))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o640), info.Mode().Perm(), "the file keeps its mode")
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file is left behind")
}

// TestWriteVersionsRemovesTheFirstKeyOfAnEntry removes a version that opens a list
// entry: the next key takes its place after the dash.
func TestWriteVersionsRemovesTheFirstKeyOfAnEntry(t *testing.T) {
	t.Parallel()
	path := writeStack(t, "Pulumi.dev.yaml", `config:
  flotilla:environment: dev
  flotilla:version: "1.31"
  flotilla:clusters:
    - version: "1.32"
      name: a
      cloud: sim
      region: sim-east-1
`)
	require.NoError(t, stacks.WriteVersions(path, map[string]stacks.Versions{"a": {ControlPlane: "1.31"}}))
	assert.Equal(t, `config:
  flotilla:environment: dev
  flotilla:version: "1.31"
  flotilla:clusters:
    - name: a
      cloud: sim
      region: sim-east-1
`, read(t, path))
}

func TestWriteVersionsOfAStackWithoutClusters(t *testing.T) {
	t.Parallel()
	content := "config:\n  flotilla:environment: dev\n  flotilla:version: \"1.31\"\n  flotilla:clusters: []\n"
	path := writeStack(t, "Pulumi.dev.yaml", content)
	require.NoError(t, stacks.WriteVersions(path, nil))
	assert.Equal(t, content, read(t, path), "the stack's version stays")
	err := stacks.WriteVersions(path, map[string]stacks.Versions{"east-1": {ControlPlane: "1.32"}})
	assert.ErrorContains(t, err, `no cluster "east-1" in this stack`)
}

func TestWriteVersionsLeavesAnUnchangedFileAlone(t *testing.T) {
	t.Parallel()
	path := copyStack(t, "dev")
	before, err := os.Stat(path)
	require.NoError(t, err)
	require.NoError(t, stacks.WriteVersions(path, map[string]stacks.Versions{"east-1": {ControlPlane: "1.31", Nodes: "1.31"}}))
	after, err := os.Stat(path)
	require.NoError(t, err)
	assert.True(t, os.SameFile(before, after), "not replaced")

	require.NoError(t, stacks.WriteVersions(path, map[string]stacks.Versions{"east-1": {ControlPlane: "1.32", Nodes: "1.31"}}))
	moved, err := os.Stat(path)
	require.NoError(t, err)
	assert.False(t, os.SameFile(before, moved), "replaced by a rename, never written in place")
}

func TestWriteVersionsRefusesWhatCannotRun(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		versions map[string]stacks.Versions
		want     []string
	}{
		{name: "a cluster the stack does not have", versions: map[string]stacks.Versions{"mars-1": {ControlPlane: "1.32"}},
			want: []string{`flotilla:clusters: no cluster "mars-1" in this stack; its clusters are east-1`}},
		{name: "not a minor", versions: map[string]stacks.Versions{"east-1": {ControlPlane: "1.32.1", Nodes: "v1.31"}},
			want: []string{`cluster "east-1": control-plane version "1.32.1" is not a Kubernetes minor`, `cluster "east-1": node version "v1.31" is not a Kubernetes minor`}},
		{name: "nodes newer than the control plane", versions: map[string]stacks.Versions{"east-1": {ControlPlane: "1.31", Nodes: "1.32"}},
			want: []string{`cluster "east-1": nodes at 1.32 would be newer than their control plane at 1.31`}},
		{name: "nodes too far behind", versions: map[string]stacks.Versions{"east-1": {ControlPlane: "1.33", Nodes: "1.29"}},
			want: []string{`cluster "east-1": nodes at 1.29 would be 4 minors older than their control plane at 1.33, and sim allows 3`}},
		{name: "a control plane that leaves the nodes behind", versions: map[string]stacks.Versions{"east-1": {ControlPlane: "1.30", Nodes: "1.31"}},
			want: []string{"nodes at 1.31 would be newer than their control plane at 1.30"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := copyStack(t, "dev")
			before := read(t, path)
			err := stacks.WriteVersions(path, tt.versions)
			require.Error(t, err)
			assert.True(t, stacks.IsConfigError(err), "%v", err)
			assert.Contains(t, err.Error(), path)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Equal(t, before, read(t, path), "nothing written")
		})
	}
}

// TestConfigVersionsResolveLikeTheProgram checks where a cluster's versions come from:
// its own keys, else the stack's, and nodes default to the control plane's.
func TestConfigVersionsResolveLikeTheProgram(t *testing.T) {
	t.Parallel()
	cfg := stacks.Config{Version: "1.32", NodeVersion: "1.31", Clusters: []stacks.ClusterConfig{
		{Name: "own", Cloud: "sim", Region: "sim-east-1", Version: "1.33", NodeVersion: "1.30"},
		{Name: "stack", Cloud: "sim", Region: "sim-west-1"},
		{Cloud: "sim", Region: "sim-eu-1", Version: "1.33"},
	}}
	assert.Equal(t, map[string]stacks.Versions{
		"own":          {ControlPlane: "1.33", Nodes: "1.30"},
		"stack":        {ControlPlane: "1.32", Nodes: "1.31"},
		"sim-sim-eu-1": {ControlPlane: "1.33", Nodes: "1.31"},
	}, cfg.Versions())
	cfg.NodeVersion = ""
	assert.Equal(t, stacks.Versions{ControlPlane: "1.33", Nodes: "1.33"}, cfg.Versions()["sim-sim-eu-1"], "nodes default to the control plane")
}

// TestWriteVersionsFromAnyStateToAny walks one file through every combination of two
// clusters' control planes and skew-valid node versions, each write starting from the
// previous one's file: every file reads back as asked, stays a valid stack file, keeps
// every other byte, and the walk back home restores the original.
func TestWriteVersionsFromAnyStateToAny(t *testing.T) {
	t.Parallel()
	path := copyStack(t, "staging")
	before := read(t, path)
	minors := []string{"1.30", "1.31", "1.32", "1.33"}
	var states []stacks.Versions
	for i, cp := range minors {
		for _, nodes := range minors[:i+1] {
			states = append(states, stacks.Versions{ControlPlane: cp, Nodes: nodes})
		}
	}
	writes := 0
	for _, east := range states {
		for _, west := range states {
			want := map[string]stacks.Versions{"east-1": east, "west-1": west}
			require.NoError(t, stacks.WriteVersions(path, want), "%v", want)
			after := read(t, path)
			require.Equal(t, withoutVersionKeys(before), withoutVersionKeys(after), "%v", want)
			cfg, err := stacks.ReadStackFile(path)
			require.NoError(t, err, "%v:\n%s", want, after)
			require.Equal(t, want, cfg.Versions())
			// The shortest form: a cluster's own key only where the stack-level one
			// cannot say it.
			own := 0
			for _, cl := range cfg.Clusters {
				if cl.Version != "" {
					own++
					assert.NotEqual(t, cfg.Version, cl.Version, "%v", want)
				}
				if cl.NodeVersion != "" {
					own++
					assert.Empty(t, cfg.NodeVersion, "%v", want)
				}
			}
			if east == west {
				assert.Zero(t, own, "%v: clusters that agree need no keys of their own", want)
			}
			writes++
		}
	}
	assert.Equal(t, len(states)*len(states), writes)
	require.NoError(t, stacks.WriteVersions(path, map[string]stacks.Versions{"east-1": {ControlPlane: "1.31"}, "west-1": {ControlPlane: "1.31"}}))
	assert.Equal(t, before, read(t, path))
}
