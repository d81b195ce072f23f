package stacks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// copyStack copies a shipped stack file into a directory of the test's own, with the
// encryption salt the CLI writes at the top.
func copyStack(t *testing.T, stack string) string {
	t.Helper()
	data, err := os.ReadFile("Pulumi." + stack + ".yaml")
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "Pulumi."+stack+".yaml")
	data = append([]byte("encryptionsalt: v1:abc123:v1:def456:ghi789\n"), data...)
	require.NoError(t, os.WriteFile(path, data, 0o644))
	return path
}

func read(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}

func TestReadVersionsOfTheShippedStacks(t *testing.T) {
	t.Parallel()
	v, err := ReadVersions("Pulumi.staging.yaml")
	require.NoError(t, err)
	assert.Equal(t, map[string]Versions{
		"east-1": {ControlPlane: "1.31", Nodes: "1.31"},
		"west-1": {ControlPlane: "1.31", Nodes: "1.31"},
	}, v)
}

// The whole fleet moves together: only the stack-level keys change, and every other
// line of the file (comments, flow-style pools, the salt) stays byte for byte.
func TestWriteVersionsStackLevel(t *testing.T) {
	t.Parallel()
	path := copyStack(t, "staging")
	before := read(t, path)

	require.NoError(t, WriteVersions(path, map[string]Versions{
		"east-1": {ControlPlane: "1.32", Nodes: "1.31"},
		"west-1": {ControlPlane: "1.32", Nodes: "1.31"},
	}))
	after := read(t, path)
	assert.Equal(t,
		strings.Replace(before, `  flotilla:version: "1.31"`+"\n", `  flotilla:version: "1.32"`+"\n"+`  flotilla:nodeVersion: "1.31"`+"\n", 1),
		after)
	cfg, err := ReadStackFile(path)
	require.NoError(t, err, "the rewritten file is still a valid stack file")
	assert.Equal(t, "1.32", cfg.Version)
	v, err := ReadVersions(path)
	require.NoError(t, err)
	assert.Equal(t, Versions{ControlPlane: "1.32", Nodes: "1.31"}, v["west-1"])

	// The nodes catch up: nodeVersion goes away again, and the file is as it began
	// but for the control plane's version.
	require.NoError(t, WriteVersions(path, map[string]Versions{
		"east-1": {ControlPlane: "1.32", Nodes: "1.32"},
		"west-1": {ControlPlane: "1.32", Nodes: "1.32"},
	}))
	assert.Equal(t, strings.Replace(before, `flotilla:version: "1.31"`, `flotilla:version: "1.32"`, 1), read(t, path))
}

// Clusters that differ get keys of their own, placed in their entry; once they agree
// again the keys are hoisted back to the stack level.
func TestWriteVersionsPerCluster(t *testing.T) {
	t.Parallel()
	path := copyStack(t, "staging")
	before := read(t, path)

	require.NoError(t, WriteVersions(path, map[string]Versions{"east-1": {ControlPlane: "1.32", Nodes: "1.31"}}))
	after := read(t, path)
	assert.Contains(t, after, "    - name: east-1\n      version: \"1.32\"\n      cloud: sim\n", "east-1's control plane differs: a key of its own")
	assert.Contains(t, after, `  flotilla:version: "1.31"`, "west-1 still runs the stack's version")
	assert.Contains(t, after, `  flotilla:nodeVersion: "1.31"`, "both clusters' nodes run 1.31: one stack-level key")

	// Nodes that differ too go per cluster.
	require.NoError(t, WriteVersions(path, map[string]Versions{"west-1": {ControlPlane: "1.31", Nodes: "1.30"}}))
	after = read(t, path)
	assert.Contains(t, after, "    - name: east-1\n      version: \"1.32\"\n      nodeVersion: \"1.31\"\n      cloud: sim\n")
	assert.Contains(t, after, "    - name: west-1\n      nodeVersion: \"1.30\"\n      cloud: sim\n")
	assert.NotContains(t, after, "flotilla:nodeVersion")
	require.NoError(t, WriteVersions(path, map[string]Versions{"west-1": {ControlPlane: "1.31", Nodes: "1.31"}}))
	v, err := ReadVersions(path)
	require.NoError(t, err)
	assert.Equal(t, map[string]Versions{
		"east-1": {ControlPlane: "1.32", Nodes: "1.31"},
		"west-1": {ControlPlane: "1.31", Nodes: "1.31"},
	}, v)
	_, err = ReadStackFile(path)
	require.NoError(t, err)

	require.NoError(t, WriteVersions(path, map[string]Versions{"west-1": {ControlPlane: "1.32", Nodes: "1.31"}}))
	v, err = ReadVersions(path)
	require.NoError(t, err)
	assert.Equal(t, Versions{ControlPlane: "1.32", Nodes: "1.31"}, v["east-1"])
	assert.Equal(t, Versions{ControlPlane: "1.32", Nodes: "1.31"}, v["west-1"])
	after = read(t, path)
	assert.NotContains(t, after, "      version:", "hoisted back to the stack level")
	assert.Contains(t, after, `  flotilla:nodeVersion: "1.31"`)

	require.NoError(t, WriteVersions(path, map[string]Versions{
		"east-1": {ControlPlane: "1.31", Nodes: "1.31"}, "west-1": {ControlPlane: "1.31", Nodes: "1.31"},
	}))
	assert.Equal(t, before, read(t, path), "back to where it began, byte for byte")
}

func TestWriteVersionsRefusesAnUnknownCluster(t *testing.T) {
	t.Parallel()
	path := copyStack(t, "dev")
	before := read(t, path)
	err := WriteVersions(path, map[string]Versions{"mars-1": {ControlPlane: "1.32"}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no cluster mars-1 (clusters: east-1)")
	assert.Equal(t, before, read(t, path), "nothing written")
}

func TestWriteVersionsKeepsAComment(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "Pulumi.x.yaml")
	require.NoError(t, os.WriteFile(path, []byte("config:\n  flotilla:environment: dev\n  flotilla:version: '1.31' # pinned by the upgrade\n  flotilla:clusters:\n    - cloud: sim\n      region: sim-east-1\n"), 0o600))
	require.NoError(t, WriteVersions(path, map[string]Versions{"sim-sim-east-1": {ControlPlane: "1.32", Nodes: "1.32"}}))
	assert.Equal(t, "config:\n  flotilla:environment: dev\n  flotilla:version: \"1.32\" # pinned by the upgrade\n  flotilla:clusters:\n    - cloud: sim\n      region: sim-east-1\n", read(t, path))
	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the file keeps its mode")
}
