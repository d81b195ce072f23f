package e2e_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/simcloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/simtest"
	"github.com/flotilla-io/flotilla/stacks"
)

// upgrade runs an upgrade over the fleet, reading versions from the simulated cloud.
func (f *fleet) upgrade(req automation.UpgradeRequest, extra ...automation.Option) run {
	f.t.Helper()
	return f.do(func(ctx context.Context, d *automation.Deployer) (*automation.Journal, error) {
		return d.Upgrade(ctx, req)
	}, append(f.versionOptions(), extra...)...)
}

func (f *fleet) versionOptions() []automation.Option {
	v := simcloud.NewVersions(f.sim.Client)
	return []automation.Option{automation.WithVersionSource(v), automation.WithVersionCatalog(v)}
}

// resumeUpgrade resumes the last run with the simulator's version readers.
func (f *fleet) resumeUpgrade(approve ...string) run {
	f.t.Helper()
	return f.do(func(ctx context.Context, d *automation.Deployer) (*automation.Journal, error) {
		return d.Resume(ctx, approve, nil)
	}, f.versionOptions()...)
}

// TestUpgradeTwoMinorsAcrossTheFleet upgrades the shipped fleet, with real control
// planes behind its clusters, from 1.31 to 1.33: dev, then staging, then prod. A
// control-plane upgrade of staging fails (the simulator's upgrade-failure fault); the
// run stops there with every cluster in a valid state, and resumes once the fault
// clears. The simulated cloud's own operation history then shows the order: each
// cluster's control plane before its pools, one minor at a time, and a spot pool never
// upgrading while its fallback does.
func TestUpgradeTwoMinorsAcrossTheFleet(t *testing.T) {
	t.Parallel()
	f := newFleet(t, simtest.WithKube())
	r := f.rollout(approveProd)
	require.NoError(t, r.err)

	ctx := context.Background()
	staging := cloudCluster(t, f, "sim-east-1", "staging-east-1")
	require.NoError(t, f.sim.Client.UpgradeFailure(ctx, staging.ID))

	r = f.upgrade(automation.UpgradeRequest{To: "1.33", Approve: []string{"prod"}})
	logEvents(t, "upgrade", r)
	require.Error(t, r.err, "the staging control-plane upgrade fails")
	require.True(t, automation.IsRunFailed(r.err), "a failed round fails the run: %v", r.err)
	planned := eventsOf[automation.UpgradePlanned](r.events)
	require.Len(t, planned, 1, "the plan is printed before anything changes")
	assert.Equal(t, "1.33", planned[0].Upgrade.Target.String())
	assert.Equal(t, automation.StatusSucceeded, r.journal.Stacks["dev"].Status)
	assert.Equal(t, automation.StatusFailed, r.journal.Stacks["staging"].Status)
	assert.Equal(t, automation.StatusPending, r.journal.Stacks["prod-canary"].Status, "nothing past the failure starts")

	st := f.sim.State(t)
	assertSkewValid(t, st)
	assertFileMatchesCloud(t, f, st, "dev", "staging", "prod-canary", "prod-east", "prod-eu")
	assertVersions(t, st, "dev-east-1", "1.33", "1.33")
	assertVersions(t, st, "prod-west-1", "1.31", "1.31")

	_, err := f.sim.Client.ClearFaults(ctx, cloud.FaultFilter{Kind: cloud.FaultUpgradeFailure})
	require.NoError(t, err)
	r = f.resumeUpgrade("prod")
	logEvents(t, "resume", r)
	require.NoError(t, r.err)
	for _, s := range allStacks {
		assert.Equal(t, automation.StatusSucceeded, r.journal.Stacks[s].Status, s)
	}

	st = f.sim.State(t)
	assertSkewValid(t, st)
	for _, c := range st.Clusters {
		assertVersions(t, st, c.Name, "1.33", "1.33")
	}
	assertFileMatchesCloud(t, f, st, allStacks...)
	assertUpgradeOrder(t, st)

	// A rollout afterwards agrees with the stack files the upgrade wrote: nothing to do.
	r = f.rollout(approveProd)
	require.NoError(t, r.err)
	for _, s := range allStacks {
		assert.Equal(t, automation.StatusSkipped, r.journal.Stacks[s].Status, "%s is unchanged after the upgrade", s)
	}
}

// TestUpgradePreflightRefuses refuses, before anything changes, a target one region
// of the fleet does not offer and a cluster upgraded outside Flotilla, naming each.
func TestUpgradePreflightRefuses(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	r := f.rollout(approveProd)
	require.NoError(t, r.err)
	before := f.sim.State(t)

	// 1.34 is offered in sim-east-1 and sim-west-1 only: prod-eu's region lacks it. An
	// upgrade of dev alone is refused too: prod could not follow.
	r = f.upgrade(automation.UpgradeRequest{Selection: automation.Selection{Environments: []string{"dev"}}, To: "1.34"})
	require.Error(t, r.err)
	assert.True(t, automation.IsInputError(r.err), "%v", r.err)
	assert.Contains(t, r.err.Error(), "sim-eu-1 does not offer 1.34")
	assert.Contains(t, r.err.Error(), "prod-eu/eu-1")
	assert.Nil(t, r.journal, "refused before a run started")

	// A region that stops offering an intermediate minor refuses a two-minor upgrade.
	ctx := context.Background()
	require.NoError(t, f.sim.Client.Unoffer(ctx, "sim-west-1", "1.32"))
	r = f.upgrade(automation.UpgradeRequest{To: "1.33", Approve: []string{"prod"}})
	require.Error(t, r.err)
	assert.Contains(t, r.err.Error(), "sim-west-1 does not offer 1.32")
	_, err := f.sim.Client.ClearFaults(ctx, cloud.FaultFilter{Kind: cloud.FaultUnoffer})
	require.NoError(t, err)

	// Someone upgrades staging's east-1 control plane in the console.
	c := cloudCluster(t, f, "sim-east-1", "staging-east-1")
	require.NoError(t, f.sim.Client.DriftCluster(ctx, c.ID, cloud.ClusterDrift{Version: "1.32"}))
	r = f.upgrade(automation.UpgradeRequest{To: "1.33", Approve: []string{"prod"}})
	require.Error(t, r.err)
	assert.True(t, automation.IsInputError(r.err), "%v", r.err)
	assert.Contains(t, r.err.Error(), `staging/staging: cluster "east-1" runs control plane 1.32, but its state says 1.31`)

	// A target older than the fleet, and one that is not a minor.
	r = f.upgrade(automation.UpgradeRequest{To: "1.30", Selection: automation.Selection{Environments: []string{"dev"}}})
	require.Error(t, r.err)
	assert.Contains(t, r.err.Error(), "newer than the target 1.30")
	r = f.upgrade(automation.UpgradeRequest{To: "1.33.2"})
	require.Error(t, r.err)
	assert.Contains(t, r.err.Error(), `name a Kubernetes minor such as "1.33"`)

	after := f.sim.State(t)
	for id, c := range after.Clusters {
		if c.Name == "staging-east-1" {
			continue
		}
		assert.Equal(t, before.Clusters[id].Version, c.Version, "%s is unchanged", c.Name)
	}
	for id, p := range after.Pools {
		assert.Equal(t, before.Pools[id].Version, p.Version, "%s is unchanged", p.Name)
	}
}

func cloudCluster(t *testing.T, f *fleet, region, name string) *cloud.Cluster {
	t.Helper()
	for _, c := range f.sim.State(t).Clusters {
		if c.Region == region && c.Name == name {
			return c
		}
	}
	t.Fatalf("the simulated cloud has no cluster %s/%s", region, name)
	return nil
}

// assertVersions asserts a cluster's control plane and every pool's version.
func assertVersions(t *testing.T, st *cloud.State, name, cp, nodes string) {
	t.Helper()
	for _, c := range st.Clusters {
		if c.Name != name {
			continue
		}
		assert.Equal(t, cp, c.Version, "%s's control plane", name)
		for _, p := range st.PoolsOf(c.ID) {
			assert.Equal(t, nodes, p.Version, "%s's pool %s", name, p.Name)
		}
		return
	}
	t.Errorf("no cluster %s", name)
}

// assertSkewValid asserts the version-skew policy over every cluster the cloud has.
func assertSkewValid(t *testing.T, st *cloud.State) {
	t.Helper()
	for _, c := range st.Clusters {
		cp := automation.MustMinor(c.Version)
		for _, p := range st.PoolsOf(c.ID) {
			v := automation.MustMinor(p.Version)
			assert.False(t, cp.Less(v), "%s: pool %s at %s is newer than its control plane %s", c.Name, p.Name, v, cp)
			assert.LessOrEqual(t, cp.Sub(v), automation.MaxNodeSkew, "%s: pool %s at %s is too far behind %s", c.Name, p.Name, v, cp)
		}
	}
}

// assertFileMatchesCloud asserts that each stack file records the versions its
// clusters run in the cloud.
func assertFileMatchesCloud(t *testing.T, f *fleet, st *cloud.State, stackNames ...string) {
	t.Helper()
	for _, s := range stackNames {
		file, err := stacks.ReadVersions(f.stackFile(s))
		require.NoError(t, err)
		for key, v := range file {
			name := s + "-" + key
			if strings.HasPrefix(s, "prod-") {
				name = "prod-" + key
			}
			for _, c := range st.Clusters {
				if c.Name != name {
					continue
				}
				assert.Equal(t, c.Version, v.ControlPlane, "stacks/Pulumi.%s.yaml: %s's control plane", s, key)
				oldest := c.Version
				for _, p := range st.PoolsOf(c.ID) {
					if automation.MustMinor(p.Version).Less(automation.MustMinor(oldest)) {
						oldest = p.Version
					}
				}
				assert.Equal(t, oldest, v.Nodes, "stacks/Pulumi.%s.yaml: %s's nodes", s, key)
			}
		}
	}
}

// assertUpgradeOrder reads the simulated cloud's operation history: per cluster, the
// control plane moves one minor at a time, each minor reaches the control plane before
// any pool, the pools finish a minor before the control plane starts the next, and a
// spot pool's upgrade never overlaps its fallback's, which goes first.
func assertUpgradeOrder(t *testing.T, st *cloud.State) {
	t.Helper()
	type span struct {
		from, to      string
		start, finish time.Time
	}
	cps := map[string][]span{}              // cluster id -> control-plane upgrades
	pools := map[string]map[string][]span{} // cluster id -> pool name -> version changes
	poolByID := map[string]*cloud.NodePool{}
	for _, p := range st.Pools {
		poolByID[p.ID] = p
	}
	for _, op := range st.Operations {
		if op.Status != cloud.OpDone || op.FromVersion == "" || op.FromVersion == op.ToVersion {
			continue
		}
		s := span{op.FromVersion, op.ToVersion, op.Started, op.Finished}
		switch op.Kind {
		case cloud.OpUpgradeCluster:
			cps[op.ClusterID] = append(cps[op.ClusterID], s)
		case cloud.OpUpdateNodePool:
			p := poolByID[op.Target]
			require.NotNil(t, p, "operation %s upgrades pool %s, which the cloud no longer has", op.ID, op.Target)
			if pools[op.ClusterID] == nil {
				pools[op.ClusterID] = map[string][]span{}
			}
			pools[op.ClusterID][p.Name] = append(pools[op.ClusterID][p.Name], s)
		}
	}
	for id, c := range st.Clusters {
		ups := cps[id]
		sort.Slice(ups, func(i, j int) bool { return ups[i].start.Before(ups[j].start) })
		require.Len(t, ups, 2, "%s's control plane upgraded twice: 1.31 -> 1.32 -> 1.33", c.Name)
		assert.Equal(t, [2]string{"1.31", "1.32"}, [2]string{ups[0].from, ups[0].to}, c.Name)
		assert.Equal(t, [2]string{"1.32", "1.33"}, [2]string{ups[1].from, ups[1].to}, c.Name)
		byName := pools[id]
		require.Len(t, byName, 3, "%s: every pool upgraded", c.Name)
		for name, ps := range byName {
			sort.Slice(ps, func(i, j int) bool { return ps[i].start.Before(ps[j].start) })
			require.Len(t, ps, 2, "%s/%s upgraded one minor at a time", c.Name, name)
			for i, p := range ps {
				assert.Equal(t, ups[i].to, p.to, "%s/%s", c.Name, name)
				assert.False(t, p.start.Before(ups[i].finish), "%s/%s started %s before the control plane reached %s", c.Name, name, p.to, p.to)
				if i+1 < len(ups) {
					assert.False(t, ups[i+1].start.Before(p.finish), "%s's control plane started %s before %s reached %s", c.Name, ups[i+1].to, name, p.to)
				}
			}
		}
		for _, p := range st.PoolsOf(id) {
			if p.FallbackFor == "" {
				continue
			}
			fb, spot := byName[p.Name], byName[p.FallbackFor]
			require.Len(t, spot, len(fb), "%s: %s and %s", c.Name, p.Name, p.FallbackFor)
			for i := range fb {
				assert.False(t, spot[i].start.Before(fb[i].finish), "%s: spot pool %s started %s at %s, before its fallback %s finished at %s",
					c.Name, p.FallbackFor, spot[i].to, spot[i].start, p.Name, fb[i].finish)
			}
		}
	}
}
