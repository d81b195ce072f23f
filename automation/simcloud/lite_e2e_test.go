package simcloud_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/simcloud"
	"github.com/flotilla-io/flotilla/internal/simtest"
	"github.com/flotilla-io/flotilla/stacks"
)

// liteProject writes a project of one dev stack on the simulator whose stack file does
// not say fleetsim:kube, as the shipped ones do not.
func liteProject(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "stacks"), 0o755))
	data, err := os.ReadFile("../../Pulumi.yaml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), data, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stacks", "Pulumi.dev-1.yaml"), []byte(`config:
  flotilla:environment: dev
  flotilla:version: "1.31"
  flotilla:addressSpace: 10.32.0.0/13
  flotilla:tags: {team: platform, cost-center: cc-1001}
  flotilla:clusters:
    - name: c1
      cloud: sim
      region: sim-east-1
      systemPool: {instanceType: m6i.large, minSize: 1, maxSize: 3}
  flotilla:networks:
    c1: {vpcCIDR: 10.32.0.0/20, podCIDR: 10.33.0.0/16, serviceCIDR: 10.32.16.0/20}
`), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "stacks", "environments.yaml"), []byte(
		"environments:\n  - name: dev\n    maxConcurrency: 1\n    account: sim-dev\n    stacks: [dev-1]\n"), 0o644))
	return dir
}

// rollout rolls the project out on sim, with the stacks run lite when lite is set, as
// `flotilla rollout --sim` does on a lite simulator.
func rollout(t *testing.T, sim *simtest.Sim, dir string, lite bool) error {
	t.Helper()
	state := filepath.Join(dir, ".flotilla")
	opts := []automation.Option{
		automation.WithProjectDir(dir), automation.WithStateDir(state),
		automation.WithBackend(sim.Backend), automation.WithBin(sim.Bin), automation.WithEnv(sim.Env()),
		automation.WithHealth(simcloud.NewHealth(sim.Client)), automation.WithTimeScale(600),
		automation.WithProgramHash("build-1"),
	}
	if lite {
		ops := automation.NewPulumiOps(automation.PulumiOpsOptions{
			ProjectDir: dir, WorkDir: filepath.Join(state, "workspaces"), Bin: sim.Bin, Backend: sim.Backend,
			Project: automation.Project, Program: stacks.Program, Env: sim.Env(),
		})
		// As flotilla --sim does: a lite run is a program of its own, so that a run in
		// the other mode never skips a stack as unchanged.
		opts = append(opts, automation.WithStackOps(simcloud.LiteStacks(ops, dir, filepath.Join(state, "lite"))),
			automation.WithProgramHash("build-1+lite"))
	}
	d, err := automation.New(opts...)
	require.NoError(t, err)
	_, err = d.Rollout(context.Background(), automation.RolloutRequest{})
	return err
}

// inClusterOf counts the resources the stack's state holds in its cluster.
func inClusterOf(t *testing.T, sim *simtest.Sim) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(strings.TrimPrefix(sim.Backend, "file://"), ".pulumi", "stacks", automation.Project, "dev-1.json"))
	require.NoError(t, err)
	var cp struct {
		Checkpoint struct {
			Latest struct {
				Resources []struct {
					Type string `json:"type"`
				} `json:"resources"`
			} `json:"latest"`
		} `json:"checkpoint"`
	}
	require.NoError(t, json.Unmarshal(data, &cp))
	n := 0
	for _, r := range cp.Checkpoint.Latest.Resources {
		if strings.HasPrefix(r.Type, "kubernetes:") {
			n++
		}
	}
	return n
}

// TestLiteSimulatorRollouts: on a lite simulator, a rollout whose stacks run lite (the
// stack config fleetsim:kube "off", given by LiteStacks) succeeds; with the simulator
// in kube mode on the same home, a plain rollout gives the clusters created lite their
// control planes and deploys into them; a lite rollout over that fleet then fails with
// the provider's refusal and deletes nothing.
func TestLiteSimulatorRollouts(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t)
	dir := liteProject(t)
	require.NoError(t, rollout(t, sim, dir, true), "a lite fleet on a lite simulator")
	assert.Zero(t, inClusterOf(t, sim))

	sim.Restart(t, true)
	require.NoError(t, rollout(t, sim, dir, false), "kube mode over clusters created lite")
	kube := inClusterOf(t, sim)
	require.Positive(t, kube, "the in-cluster resources of kube mode")
	clusters, err := sim.Client.ListClusters(context.Background())
	require.NoError(t, err)
	require.Len(t, clusters, 1)
	assert.NotEmpty(t, clusters[0].KubeVersion, "the cluster has its control plane")

	err = rollout(t, sim, dir, true)
	require.Error(t, err, "a lite rollout over a kube fleet")
	assert.Contains(t, err.Error(), `stack config fleetsim:kube is "off"`)
	assert.Equal(t, kube, inClusterOf(t, sim), "nothing in-cluster deleted")
}
