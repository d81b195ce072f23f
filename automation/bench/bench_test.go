package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/simcloud"
	"github.com/flotilla-io/flotilla/components/envset"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/simtest"
	"github.com/flotilla-io/flotilla/internal/workspace"
	"github.com/flotilla-io/flotilla/stacks"
)

// Injected operation times: what the simulated cloud takes, in real time, for each
// operation of a stack (a cluster, its system pool, a spot pool and its fallback).
var durations = cloud.Durations{
	ClusterCreate:  2 * time.Second,
	ClusterUpgrade: time.Second,
	ClusterDelete:  200 * time.Millisecond,
	PoolCreate:     500 * time.Millisecond,
	PoolDelete:     100 * time.Millisecond,
}

var regions = []string{"sim-east-1", "sim-west-1", "sim-eu-1"}

// fleet writes a project of nine stacks, three per environment, each one cluster in a
// region of its own, and returns its directory and environment set.
func fleet(b *testing.B) (string, envset.Set) {
	b.Helper()
	dir := b.TempDir()
	require.NoError(b, os.MkdirAll(filepath.Join(dir, "stacks"), 0o755))
	data, err := os.ReadFile("../../Pulumi.yaml")
	require.NoError(b, err)
	require.NoError(b, os.WriteFile(filepath.Join(dir, "Pulumi.yaml"), data, 0o644))
	set := envset.Set{}
	var yaml strings.Builder
	yaml.WriteString("environments:\n")
	for e, env := range []string{"dev", "staging", "prod"} {
		var names []string
		for i, region := range regions {
			name := fmt.Sprintf("%s-%d", env, i+1)
			names = append(names, name)
			second := 32 + 8*e
			// The simulator runs lite (simtest.Start without WithKube); a stack runs lite
			// only by its own fleetsim:kube, never by the environment.
			file := fmt.Sprintf(`config:
  fleetsim:kube: "off"
  flotilla:environment: %[1]s
  flotilla:version: "1.31"
  flotilla:addressSpace: 10.%[2]d.0.0/13
  flotilla:tags: {team: platform, cost-center: cc-1001}
  flotilla:clusters:
    - name: c%[3]d
      cloud: sim
      region: %[4]s
      systemPool: {instanceType: m6i.large, minSize: 1, maxSize: 3}
      spotPools:
        - name: general
          instanceTypes: [m6i.xlarge, m5.xlarge]
          minSize: 1
          maxSize: 4
          fallback: {maxSize: 4, provisionTimeout: 5m}
  flotilla:networks:
    c%[3]d: {vpcCIDR: 10.%[2]d.%[5]d.0/20, podCIDR: 10.%[6]d.0.0/16, serviceCIDR: 10.%[2]d.%[7]d.0/20}
`, env, second, i+1, region, 32*i, second+1+i, 32*i+16)
			require.NoError(b, os.WriteFile(filepath.Join(dir, "stacks", "Pulumi."+name+".yaml"), []byte(file), 0o644))
		}
		environment := envset.Environment{Name: env, MaxConcurrency: 3, Waves: [][]string{names}, Account: "sim-" + env}
		if env == "staging" {
			environment.Soak = 10 * time.Minute // 1 s of real time at the simulator's scale
		}
		if env == "prod" {
			environment.RequiresApproval, environment.Protected = true, true
		}
		set.Environments = append(set.Environments, environment)
		fmt.Fprintf(&yaml, "  - name: %s\n    maxConcurrency: 3\n    account: sim-%s\n    stacks: [%s]\n", env, env, strings.Join(names, ", "))
	}
	require.NoError(b, os.WriteFile(filepath.Join(dir, "stacks", "environments.yaml"), []byte(yaml.String()), 0o644))
	return dir, set
}

func deployer(b *testing.B, sim *simtest.Sim, dir string, set envset.Set, events chan automation.Event) *automation.Deployer {
	b.Helper()
	d, err := automation.New(
		automation.WithProjectDir(dir),
		automation.WithStateDir(filepath.Join(dir, ".flotilla")),
		automation.WithBackend(sim.Backend),
		automation.WithBin(sim.Bin),
		automation.WithEnv(sim.Env()),
		automation.WithEnvironments(set),
		automation.WithTimeScale(600),
		automation.WithHealth(simcloud.NewHealth(sim.Client)),
		automation.WithPendingResolver(simcloud.NewPendingResolver(sim.Client)),
		automation.WithEvents(events),
	)
	require.NoError(b, err)
	return d
}

func collect(events chan automation.Event) func() []automation.Event {
	var got []automation.Event
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range events {
			got = append(got, e)
		}
	}()
	return func() []automation.Event { close(events); <-done; return got }
}

// criticalPath is the sum over stages of the slowest stack (from its first step's start
// to its up's end), plus the gates' own time: each wave's health gate (from its start to
// its last health step's end) and each soak.
func criticalPath(events []automation.Event) time.Duration {
	type span struct{ start, end time.Time }
	stacks := map[automation.StackRef]*span{}
	var gates []*span
	var open *span // the health gate of the wave in progress
	for _, e := range events {
		switch e := e.(type) {
		case automation.StepStarted:
			if s := stacks[e.Stack]; s == nil && e.Step != automation.StepHealth {
				stacks[e.Stack] = &span{start: e.Time}
			}
		case automation.StepDone:
			switch {
			case e.Step == automation.StepHealth && open != nil:
				open.end = e.Time
			case e.Step != automation.StepHealth:
				stacks[e.Stack].end = e.Time
			}
		case automation.GateWaiting:
			open = nil
			switch e.Gate {
			case automation.GateHealth:
				open = &span{start: e.Time}
				gates = append(gates, open)
			case automation.GateSoak:
				gates = append(gates, &span{start: e.Time})
			}
		case automation.GatePassed:
			if e.Gate == automation.GateSoak {
				gates[len(gates)-1].end = e.Time
			}
		case automation.WaveStarted, automation.StageDone:
			open = nil
		}
	}
	slowest := map[string]time.Duration{}
	for ref, s := range stacks {
		slowest[ref.Environment] = max(slowest[ref.Environment], s.end.Sub(s.start))
	}
	var total time.Duration
	for _, d := range slowest {
		total += d
	}
	for _, g := range gates {
		if !g.end.IsZero() {
			total += g.end.Sub(g.start)
		}
	}
	return total
}

// BenchmarkRollout9Stacks rolls nine simulated stacks out, three per environment, and
// reports the wall time against the critical path. Target: within 10% of it.
func BenchmarkRollout9Stacks(b *testing.B) {
	b.Setenv("FLEETSIM_KUBE", "off")
	for b.Loop() {
		b.StopTimer()
		sim := simtest.Start(b, simtest.WithDurations(durations))
		dir, set := fleet(b)
		events := make(chan automation.Event, 4096)
		wait := collect(events)
		d := deployer(b, sim, dir, set, events)
		b.StartTimer()
		start := time.Now()
		_, err := d.Rollout(context.Background(), automation.RolloutRequest{Approve: []string{"prod"}})
		wall := time.Since(start)
		b.StopTimer()
		got := wait()
		require.NoError(b, err)
		cp := criticalPath(got)
		b.ReportMetric(wall.Seconds(), "wall-s")
		b.ReportMetric(cp.Seconds(), "critical-path-s")
		b.ReportMetric(100*(wall.Seconds()/cp.Seconds()-1), "%over-critical-path")
		b.StartTimer()
	}
}

// BenchmarkNoChangeRollout runs a rollout of the same nine stacks again with nothing to
// change, against one bare no-change `pulumi up` of a single stack. Target: at most 1.5
// times that.
func BenchmarkNoChangeRollout(b *testing.B) {
	b.Setenv("FLEETSIM_KUBE", "off")
	sim := simtest.Start(b, simtest.WithDurations(durations))
	dir, set := fleet(b)
	d := deployer(b, sim, dir, set, nil)
	_, err := d.Rollout(context.Background(), automation.RolloutRequest{Approve: []string{"prod"}})
	require.NoError(b, err)

	// One bare no-change `pulumi up` of a stack like the fleet's, in a workspace of its
	// own and outside the fleet (an up rewrites its state, which would make the fleet's
	// stack look changed).
	ctx := context.Background()
	bareDir := b.TempDir()
	data, err := os.ReadFile(filepath.Join(dir, "stacks", "Pulumi.dev-1.yaml"))
	require.NoError(b, err)
	bareFile := filepath.Join(bareDir, "Pulumi.bare.yaml")
	cfg := strings.NewReplacer("c1", "bare", "sim-east-1", "sim-central-1").Replace(string(data))
	require.NoError(b, os.WriteFile(bareFile, []byte(cfg), 0o644))
	st, err := workspace.New(ctx, workspace.Options{
		Dir: filepath.Join(bareDir, "ws"), Project: automation.Project, Stack: "bare", StackFile: bareFile,
		Bin: sim.Bin, Backend: sim.Backend, Env: sim.Env(), Program: stacks.Program,
	})
	require.NoError(b, err)
	_, err = st.Up(ctx)
	require.NoError(b, err)
	var bare, rollout time.Duration
	n := 0
	for b.Loop() {
		start := time.Now()
		_, err := st.Up(ctx, optup.ExpectNoChanges())
		require.NoError(b, err)
		bare += time.Since(start)

		start = time.Now()
		j, err := d.Rollout(ctx, automation.RolloutRequest{Approve: []string{"prod"}})
		rollout += time.Since(start)
		require.NoError(b, err)
		for _, rec := range j.Stacks {
			require.Equal(b, automation.StatusSkipped, rec.Status, "%s was not skipped", rec.Stack)
		}
		n++
	}
	b.ReportMetric(bare.Seconds()/float64(n), "bare-up-s")
	b.ReportMetric(rollout.Seconds()/float64(n), "no-change-rollout-s")
	b.ReportMetric(rollout.Seconds()/bare.Seconds(), "x-bare-up")
}
