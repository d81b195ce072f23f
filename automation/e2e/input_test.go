package e2e_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/internal/simtest"
)

// TestBadInputFailsBeforeAnythingChanges: every kind of bad input is refused by
// pre-flight with the typed error the CLI maps to exit 2 (input) or 3 (a gate), before
// any stack changes: the simulated cloud stays empty, and no step starts.
func TestBadInputFailsBeforeAnythingChanges(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t)
	cases := []struct {
		name  string
		edit  func(f *fleet)
		req   automation.RolloutRequest
		is    func(error) bool
		want  string
		exit  int
		flags []string
	}{
		{
			name: "unknown environment",
			req:  automation.RolloutRequest{Selection: automation.Selection{Environments: []string{"qa"}}, Approve: []string{"prod"}},
			is:   automation.IsInputError, want: `unknown environment "qa"`, exit: 2, flags: []string{"--env", "qa", "--approve", "prod"},
		},
		{
			name: "broken YAML",
			edit: func(f *fleet) { f.replaceInStack("prod-eu", "  flotilla:tags:\n", "  flotilla:tags: [\n") },
			req:  approveProd, is: automation.IsInputError, want: "Pulumi.prod-eu.yaml", exit: 2, flags: []string{"--approve", "prod"},
		},
		{
			name: "minSize above maxSize",
			edit: func(f *fleet) {
				f.replaceInStack("prod-eu", "systemPool: {instanceType: m6i.large, minSize: 1, maxSize: 3}", "systemPool: {instanceType: m6i.large, minSize: 4, maxSize: 3}")
			},
			req: approveProd, is: automation.IsInputError, want: "minSize", exit: 2, flags: []string{"--approve", "prod"},
		},
		{
			name: "a stack in no environment",
			edit: func(f *fleet) {
				data, err := os.ReadFile(f.stackFile("dev"))
				require.NoError(t, err)
				require.NoError(t, os.WriteFile(f.stackFile("qa"), data, 0o644))
			},
			req: approveProd, is: automation.IsInputError, want: `stack "qa" is in no environment`, exit: 2, flags: []string{"--approve", "prod"},
		},
		{
			name: "a missing approval in a non-interactive run",
			req:  automation.RolloutRequest{}, is: automation.IsApprovalRequired, want: "--approve prod", exit: 3,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFleetOn(t, sim)
			if tc.edit != nil {
				tc.edit(f)
			}
			r := f.rollout(tc.req)
			require.Error(t, r.err)
			assert.True(t, tc.is(r.err), "%T: %v", r.err, r.err)
			assert.Contains(t, r.err.Error(), tc.want)
			if tc.exit == 3 {
				assert.True(t, automation.IsGateRefused(r.err))
			} else {
				assert.False(t, automation.IsGateRefused(r.err))
			}
			assert.Empty(t, eventsOf[automation.StepStarted](r.events), "no step started")
			assert.Empty(t, sim.State(t).Clusters, "no stack changed")
			assert.NoDirExists(t, filepath.Join(f.state, "workspaces"), "no workspace was even created")

			// The CLI says the same, with its exit code.
			cmd := exec.Command(flotilla(t), append([]string{"rollout", "--project", f.dir, "--backend", sim.Backend, "--bin", sim.Bin, "--output", "json"}, tc.flags...)...)
			cmd.Env = cliEnv(sim)
			out, err := cmd.CombinedOutput()
			var exit *exec.ExitError
			require.ErrorAs(t, err, &exit, "%s", out)
			assert.Equal(t, tc.exit, exit.ExitCode(), "%s", out)
			assert.Contains(t, string(out), strings.ReplaceAll(tc.want, `"`, `\"`), "the CLI's JSON result carries the reason")
			assert.Empty(t, sim.State(t).Clusters, "no stack changed")
		})
	}
}

// cliEnv is the environment the flotilla binary runs with on the sim: the test's own,
// with the sim's (its daemon, PULUMI_HOME, the passphrase) over it. stdin is not a
// terminal, so the run is not interactive.
func cliEnv(sim *simtest.Sim) []string {
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for k, v := range sim.Env() {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}
