package e2e_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/internal/simtest"
)

// TestKubeRolloutReadsHealthFromTheKubernetesAPI rolls dev out with a real control
// plane behind its cluster: the health gate reads the cluster's Nodes through its
// Kubernetes API. No secret (the passphrase, the cluster's real kubeconfig) appears in
// the journal files, the events, or the CLI's --output json.
func TestKubeRolloutReadsHealthFromTheKubernetesAPI(t *testing.T) {
	t.Parallel()
	f := newFleet(t, simtest.WithKube())
	r := f.rollout(devOnly)
	logEvents(t, "rollout", r)
	require.NoError(t, r.err)
	f.assertCloud("dev")
	for _, c := range f.sim.State(t).Clusters {
		require.True(t, c.PlaneReady, "%s has a real control plane", c.Name)
		require.Contains(t, c.Kubeconfig, "certificate-authority-data", "%s has a real kubeconfig", c.Name)
	}

	g, ok := gatePassed(r.events, "dev", automation.GateHealth, "dev")
	require.True(t, ok, "dev's health gate passed")
	assert.Contains(t, g.Detail, "node", "the gate read the cluster's Nodes: %s", g.Detail)
	assert.NotContains(t, g.Detail, "lite mode", "the gate read the Kubernetes API, not the cloud's pool status: %s", g.Detail)

	f.assertNoSecrets("the events", mustJSON(t, r.events))
	for path, data := range journalFiles(t, f.state) {
		f.assertNoSecrets(path, data)
	}

	// The CLI's machine output: a no-change rollout and the status.
	f.shareSimHome()
	for _, args := range [][]string{
		{"rollout", "--env", "dev", "--sim"},
		{"status"},
	} {
		cmd := exec.Command(flotilla(t), append(args, "--project", f.dir, "--backend", f.sim.Backend, "--bin", f.sim.Bin, "--output", "json")...)
		cmd.Env = cliEnv(f.sim)
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, "flotilla %s:\n%s", strings.Join(args, " "), out)
		require.NotEmpty(t, out)
		f.assertNoSecrets("flotilla "+strings.Join(args, " ")+" --output json", string(out))
	}
	for path, data := range journalFiles(t, f.state) {
		f.assertNoSecrets(path, data)
	}
}
