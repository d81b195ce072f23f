package automation_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/automationtest"
	"github.com/flotilla-io/flotilla/components/envset"
	"github.com/flotilla-io/flotilla/stacks"
)

// upgradeHarness is a harness whose stacks each have one cluster at 1.31 with a
// system pool and a spot pool backed by a fallback, and whose fake engine reports the
// versions of the stack file each update ran with, as the real program does.
func upgradeHarness(t *testing.T, set envset.Set, opts ...automation.Option) *harness {
	t.Helper()
	catalog := automation.VersionCatalogFunc(func(_ context.Context, cloud, region string) ([]string, error) {
		return []string{"1.29", "1.30", "1.31", "1.32", "1.33"}, nil
	})
	h := newHarness(t, set, append([]automation.Option{automation.WithVersionCatalog(catalog), automation.WithVersionSource(outputVersions{})}, opts...)...)
	for _, s := range set.Stacks() {
		env, _ := set.EnvironmentOf(s)
		h.writeStackFile(s, upgradeStackFile(env.Name, "1.31"))
	}
	h.fake.OutputsOf = func(s automation.StackRef, o automation.OpOptions) automation.Outputs {
		file := o.StackFile
		if file == "" {
			file = filepath.Join(h.dir, "stacks", "Pulumi."+s.Stack+".yaml")
		}
		v, err := stacks.ReadVersions(file)
		require.NoError(t, err)
		nodes := v["east-1"].Nodes
		return automation.Outputs{
			"versions": {Value: map[string]any{"east-1": v["east-1"].ControlPlane}},
			"clusters": {Value: map[string]any{"east-1": map[string]any{"name": s.Stack + "-east-1", "cloud": "sim", "region": "sim-east-1", "autoUpgrade": "none"}}},
			"pools": {Value: map[string]any{"east-1": []any{
				map[string]any{"name": "system", "version": nodes},
				map[string]any{"name": "general-spot", "version": nodes},
				map[string]any{"name": "general-fallback", "version": nodes, "fallbackFor": "general-spot"},
			}}},
		}
	}
	h.d = h.deployer()
	return h
}

// upgradeStackFile is a valid stack file of one simulated cluster at version.
func upgradeStackFile(env, version string) string {
	return "config:\n  flotilla:environment: " + env + "\n  flotilla:version: \"" + version + "\"\n  flotilla:addressSpace: 10.32.0.0/13\n" +
		"  flotilla:clusters:\n    - name: east-1\n      cloud: sim\n      region: sim-east-1\n"
}

// outputVersions reports the versions a stack's outputs say its clusters run, as a
// cloud that agrees with the state would.
type outputVersions struct{}

func (outputVersions) LiveVersions(_ context.Context, _ automation.StackRef, out automation.Outputs) ([]automation.LiveCluster, error) {
	vs, _ := out["versions"].Value.(map[string]any)
	pools, _ := out["pools"].Value.(map[string]any)
	var live []automation.LiveCluster
	for name, v := range vs {
		l := automation.LiveCluster{Cluster: name, ControlPlane: v.(string), Pools: map[string]string{}, AutoUpgrade: "none"}
		list, _ := pools[name].([]any)
		for _, p := range list {
			m := p.(map[string]any)
			l.Pools[m["name"].(string)] = m["version"].(string)
		}
		live = append(live, l)
	}
	return live, nil
}

// closedWindow is a window that opens tomorrow at 02:00 UTC for 4 hours, and the time
// it opens.
func closedWindow(now time.Time) (*envset.Window, time.Time) {
	tomorrow := now.UTC().Add(24 * time.Hour)
	opens := time.Date(tomorrow.Year(), tomorrow.Month(), tomorrow.Day(), 2, 0, 0, 0, time.UTC)
	return &envset.Window{Days: []time.Weekday{tomorrow.Weekday()}, Start: 2 * time.Hour, Duration: 4 * time.Hour}, opens
}

// An upgrade runs each stack in rounds of one update: the control plane, then the node
// pools, one minor at a time, each with the stack file that says so; the file is the
// project's once the round succeeded. prod's maintenance window is closed: the run
// stops there, status says when it opens, and resume inside it finishes the job.
func TestUpgradeRunsRoundsAndWaitsForTheWindow(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	clock := now
	set := threeEnvs()
	win, opens := closedWindow(now)
	set.Environments[2].MaintenanceWindow = win
	h := upgradeHarness(t, set, automation.WithClock(func() time.Time { return clock }))
	h.health.Clock = func() time.Time { return clock }
	_, err := h.rollout(automation.RolloutRequest{Approve: []string{"prod"}})
	require.NoError(t, err)
	h.fake.Reset()

	plan, err := h.d.PlanUpgrade(context.Background(), automation.Selection{}, "1.33")
	require.NoError(t, err)
	assert.Equal(t, 4*len(set.Stacks()), plan.Steps(), "per cluster: control plane, pools, control plane, pools")
	for _, s := range plan.Stacks {
		require.Len(t, s.Rounds, 4, s.Stack)
		assert.Equal(t, "east-1: control plane 1.31 → 1.32", s.Rounds[0][0].String())
		assert.Equal(t, "east-1: node pools 1.31 → 1.32 (general-fallback, general-spot, system)", s.Rounds[1][0].String(), "the fallback before its spot pool")
		assert.Equal(t, "east-1: control plane 1.32 → 1.33", s.Rounds[2][0].String())
	}
	assert.Empty(t, h.fake.Ops(automationtest.OpUp), "planning changes nothing")

	j, err := h.d.Upgrade(context.Background(), automation.UpgradeRequest{To: "1.33", Approve: []string{"prod"}})
	require.Error(t, err)
	assert.True(t, automation.IsWindowClosed(err), "%v", err)
	assert.True(t, automation.IsGateRefused(err), "a closed window is a gate: exit 3")
	assert.Contains(t, err.Error(), opens.Format(time.RFC3339))
	assert.Equal(t, automation.RunGated, j.Status)
	for _, s := range []string{"dev", "staging-a", "staging-b"} {
		assert.Equal(t, automation.StatusSucceeded, j.Stacks[s].Status, s)
		v, err := stacks.ReadVersions(filepath.Join(h.dir, "stacks", "Pulumi."+s+".yaml"))
		require.NoError(t, err)
		assert.Equal(t, stacks.Versions{ControlPlane: "1.33", Nodes: "1.33"}, v["east-1"], "%s's file records its versions", s)
		var details []string
		for _, st := range j.Stacks[s].Steps {
			if st.Step == automation.StepUpgrade {
				details = append(details, st.Detail)
				assert.Equal(t, "ok", st.Outcome)
			}
		}
		assert.Equal(t, []string{
			"east-1: control plane 1.31 → 1.32",
			"east-1: node pools 1.31 → 1.32 (general-fallback, general-spot, system)",
			"east-1: control plane 1.32 → 1.33",
			"east-1: node pools 1.32 → 1.33 (general-fallback, general-spot, system)",
		}, details, s)
	}
	for _, c := range h.fake.Ops(automationtest.OpUp) {
		assert.NotEmpty(t, c.Options.StackFile, "each round's update runs with the round's stack file")
		assert.False(t, strings.HasPrefix(c.Options.StackFile, filepath.Join(h.dir, "stacks")), "never the project's own before it succeeded")
	}
	assert.Equal(t, automation.StatusFailed, j.Stacks["prod-canary"].Status)
	v, err := stacks.ReadVersions(filepath.Join(h.dir, "stacks", "Pulumi.prod-canary.yaml"))
	require.NoError(t, err)
	assert.Equal(t, "1.31", v["east-1"].ControlPlane, "prod did not start")

	st, err := h.d.Status(context.Background())
	require.NoError(t, err)
	require.Len(t, st.Windows, 1)
	assert.Equal(t, "prod", st.Windows[0].Environment)
	assert.False(t, st.Windows[0].Open)
	assert.Equal(t, opens, st.Windows[0].Opens)
	assert.Equal(t, "1.33", st.Target)
	for _, s := range st.Stacks {
		if strings.HasPrefix(s.Stack.Stack, "prod") {
			assert.Equal(t, []string{"east-1 (control plane 1.31, nodes 1.31)"}, s.Behind, s.Stack.Stack)
		} else {
			assert.Empty(t, s.Behind, s.Stack.Stack)
		}
	}

	clock = opens.Add(time.Minute)
	j, err = h.d.Resume(context.Background(), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, automation.RunSucceeded, j.Status)
	for _, s := range []string{"prod-canary", "prod-east", "prod-eu"} {
		v, err := stacks.ReadVersions(filepath.Join(h.dir, "stacks", "Pulumi."+s+".yaml"))
		require.NoError(t, err)
		assert.Equal(t, stacks.Versions{ControlPlane: "1.33", Nodes: "1.33"}, v["east-1"], s)
	}
}

// A failed round leaves the stack file as it was and the run resumable; the next
// attempt starts from the versions the cluster runs.
func TestUpgradeFailedRoundKeepsTheFile(t *testing.T) {
	t.Parallel()
	set := envset.Set{Environments: []envset.Environment{{Name: "dev", MaxConcurrency: 1}}}
	h := upgradeHarness(t, set)
	_, err := h.rollout(automation.RolloutRequest{})
	require.NoError(t, err)
	ups := 0
	h.fake.OnCall = func(c automationtest.Call) error {
		if c.Op == automationtest.OpUp {
			ups++
			if ups == 2 {
				return assert.AnError // the node-pools round fails
			}
		}
		return nil
	}
	j, err := h.d.Upgrade(context.Background(), automation.UpgradeRequest{To: "1.32"})
	require.Error(t, err)
	assert.True(t, automation.IsRunFailed(err), "%v", err)
	v, err := stacks.ReadVersions(filepath.Join(h.dir, "stacks", "Pulumi.dev.yaml"))
	require.NoError(t, err)
	assert.Equal(t, stacks.Versions{ControlPlane: "1.32", Nodes: "1.31"}, v["east-1"], "the control plane's round succeeded, the pools' did not")
	assert.Equal(t, automation.StatusFailed, j.Stacks["dev"].Status)

	j, err = h.d.Retry(context.Background(), nil, nil)
	require.NoError(t, err, "retry: the inputs are those the failed round left")
	assert.Equal(t, automation.RunSucceeded, j.Status)
	v, err = stacks.ReadVersions(filepath.Join(h.dir, "stacks", "Pulumi.dev.yaml"))
	require.NoError(t, err)
	assert.Equal(t, stacks.Versions{ControlPlane: "1.32", Nodes: "1.32"}, v["east-1"])
	assert.Equal(t, 3, ups, "the retry ran only the pools' round")
}

func TestUpgradePreflightFindsEveryProblem(t *testing.T) {
	t.Parallel()
	set := envset.Set{Environments: []envset.Environment{{Name: "dev", MaxConcurrency: 1}}}
	h := upgradeHarness(t, set, automation.WithVersionCatalog(automation.VersionCatalogFunc(func(context.Context, string, string) ([]string, error) {
		return []string{"1.31", "1.33"}, nil
	})))
	_, err := h.rollout(automation.RolloutRequest{})
	require.NoError(t, err)
	h.fake.Reset()
	h.fake.Types["dev"] = []string{"pulumi:pulumi:Stack", "kubernetes:core/v1:Namespace", "kubernetes:flowcontrol.apiserver.k8s.io/v1beta3:FlowSchema"}
	h.health.SetProblems("dev", "2 of 3 nodes Ready")
	h.writeStackFile("dev", upgradeStackFile("dev", "1.32"))

	_, err = h.d.PlanUpgrade(context.Background(), automation.Selection{}, "1.33")
	require.Error(t, err)
	assert.True(t, automation.IsInputError(err))
	for _, want := range []string{
		"sim region sim-east-1 does not offer 1.32",
		"stacks/Pulumi.dev.yaml sets cluster \"east-1\" to control plane 1.32, nodes 1.32, but it runs 1.31, nodes 1.31",
		"2 of 3 nodes Ready",
		"kubernetes:flowcontrol.apiserver.k8s.io/v1beta3:FlowSchema: Kubernetes 1.32 stops serving",
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Empty(t, h.fake.Ops(automationtest.OpUp))
}

// GKE and AKS let node pools lag their control plane by 2 minors, not Kubernetes's 3.
func TestSkewIsTheClouds(t *testing.T) {
	t.Parallel()
	for cloud, want := range map[string]bool{"aws": true, "gcp": false, "azure": false, "sim": true} {
		c := automation.ClusterVersions{Cluster: "c", Cloud: cloud, ControlPlane: automation.MustMinor("1.31"),
			Pools: map[string]automation.Minor{"system": automation.MustMinor("1.28")}}
		assert.Equal(t, want, len(automation.CheckSkew(c)) == 0, "%s: pools 3 minors behind", cloud)
		c.Pools["system"] = automation.MustMinor("1.29")
		assert.Empty(t, automation.CheckSkew(c), "%s: pools 2 minors behind", cloud)
	}
}

func TestMinorJSONIsAVersion(t *testing.T) {
	t.Parallel()
	data, err := json.Marshal(automation.ClusterStep{Cluster: "east-1", Kind: automation.UpgradeControlPlane, From: automation.MustMinor("1.31"), To: automation.MustMinor("1.32")})
	require.NoError(t, err)
	assert.Contains(t, string(data), `"from":"1.31","to":"1.32"`)
	var back automation.ClusterStep
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, automation.MustMinor("1.32"), back.To)
}

// A run killed between a round's update and the write of its stack file leaves the file
// behind the cluster; the next attempt writes what the cluster runs into it, says so,
// and goes on from there.
func TestUpgradeResumeCatchesTheFileUp(t *testing.T) {
	t.Parallel()
	set := envset.Set{Environments: []envset.Environment{{Name: "dev", MaxConcurrency: 1}}}
	h := upgradeHarness(t, set)
	_, err := h.rollout(automation.RolloutRequest{})
	require.NoError(t, err)
	before := readFile(t, filepath.Join(h.dir, "stacks", "Pulumi.dev.yaml"))
	ups := 0
	h.fake.OnCall = func(c automationtest.Call) error {
		if c.Op == automationtest.OpUp {
			if ups++; ups == 2 {
				return assert.AnError
			}
		}
		return nil
	}
	_, err = h.d.Upgrade(context.Background(), automation.UpgradeRequest{To: "1.32"})
	require.Error(t, err)
	h.fake.OnCall = nil
	// As if the run died after the control plane's update and before its file's write.
	h.writeStackFile("dev", before)

	j, err := h.d.Resume(context.Background(), nil, nil)
	require.NoError(t, err)
	assert.Equal(t, automation.RunSucceeded, j.Status)
	assert.Contains(t, strings.Join(j.Stacks["dev"].Cleared, "\n"), "wrote the versions its clusters run into its stack file")
	v, err := stacks.ReadVersions(filepath.Join(h.dir, "stacks", "Pulumi.dev.yaml"))
	require.NoError(t, err)
	assert.Equal(t, stacks.Versions{ControlPlane: "1.32", Nodes: "1.32"}, v["east-1"])
	upgrades := 0
	for _, c := range h.fake.Ops(automationtest.OpUp) {
		if c.Options.StackFile != "" {
			upgrades++
		}
	}
	assert.Equal(t, 3, upgrades, "the control plane's round ran once; the pools' twice (failed, then done)")
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return string(data)
}
