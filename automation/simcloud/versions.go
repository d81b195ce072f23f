package simcloud

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
)

// CloudSim is the cloud of the simulator's clusters in the stack's "clusters" output.
const CloudSim = "sim"

// Versions reads the versions a fleet on the simulator runs, and the versions each
// simulated region offers, from the simulated cloud itself: it is both the
// automation.VersionSource and the automation.VersionCatalog of --sim.
//
//	v := simcloud.NewVersions(c)
//	d, err := automation.New(automation.WithVersionSource(v), automation.WithVersionCatalog(v))
type Versions struct{ c *client.Client }

// NewVersions returns the version source and catalog of the simulator.
func NewVersions(c *client.Client) *Versions { return &Versions{c: c} }

var (
	_ automation.VersionSource  = (*Versions)(nil)
	_ automation.VersionCatalog = (*Versions)(nil)
)

// LiveVersions reads each cluster of the stack's "clusters" output from the simulated
// cloud: its control plane's version, each node pool's by the pool's name in the cloud,
// and the operation, if any, running on the cluster or its pools. The simulator never
// upgrades a cluster by itself, so AutoUpgrade is "none". Clusters the cloud does not
// have are an error that names every one of them.
func (v *Versions) LiveVersions(ctx context.Context, s automation.StackRef, outputs automation.Outputs) ([]automation.LiveCluster, error) {
	names, err := clusterNames(outputs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s, err)
	}
	st, err := v.c.State(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: reading the simulated cloud: %w", s, err)
	}
	var out []automation.LiveCluster
	var missing []string
	for _, name := range names {
		c, where := findCluster(st, name, outputs)
		if c == nil {
			missing = append(missing, where)
			continue
		}
		lc := automation.LiveCluster{Cluster: name, ControlPlane: c.Version, Pools: map[string]string{}, AutoUpgrade: "none"}
		for _, p := range st.PoolsOf(c.ID) {
			lc.Pools[p.Name] = p.Version
		}
		lc.Busy = busy(st, c)
		out = append(out, lc)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: the simulated cloud has no cluster %s: deleted outside the deploy program? run `flotilla drift`, then a rollout to recreate it",
			s, strings.Join(missing, ", "))
	}
	return out, nil
}

// clusterNames returns the stack's cluster names, sorted: the keys of its "clusters"
// output, else, for a stack deployed before that output existed, of its "endpoints".
// A cluster the output places on another cloud is an error.
func clusterNames(outputs automation.Outputs) ([]string, error) {
	var names []string
	if o, ok := outputs["clusters"]; ok {
		all, ok := o.Value.(map[string]any)
		if !ok {
			return nil, fmt.Errorf(`the stack's "clusters" output is a %T, not a map of clusters`, o.Value)
		}
		var other []string
		for name, e := range all {
			m, _ := e.(map[string]any)
			if c, _ := m["cloud"].(string); c != "" && c != CloudSim {
				other = append(other, fmt.Sprintf("%q (on %s)", name, c))
			}
			names = append(names, name)
		}
		if len(other) > 0 {
			sort.Strings(other)
			return nil, fmt.Errorf("clusters %s are not on the simulator: read them with their cloud's version source", strings.Join(other, ", "))
		}
	} else if o, ok := outputs["endpoints"]; ok {
		switch e := o.Value.(type) {
		case map[string]any:
			for name := range e {
				names = append(names, name)
			}
		case map[string]string:
			for name := range e {
				names = append(names, name)
			}
		}
	}
	if len(names) == 0 {
		return nil, errors.New(`the stack's outputs name no cluster (no "clusters" output): has it been deployed?`)
	}
	sort.Strings(names)
	return names, nil
}

// busy names what runs on a cluster or its pools now, or returns "". The simulated cloud
// runs one operation per cluster at a time and records it on the cluster and on the
// pool it changes; a status other than ACTIVE that no running operation explains is
// reported too.
func busy(st *cloud.State, c *cloud.Cluster) string {
	pools := st.PoolsOf(c.ID)
	ids := []string{c.Operation}
	for _, p := range pools {
		ids = append(ids, p.Operation)
	}
	var what []string
	seen, covered := map[string]bool{}, map[string]bool{}
	for _, id := range ids {
		if id == "" || seen[id] {
			continue
		}
		seen[id] = true
		op := st.Operations[id]
		switch {
		case op == nil:
			what = append(what, fmt.Sprintf("operation %s running", id))
		case op.Status == cloud.OpRunning:
			what = append(what, describeRunning(st, op))
			covered[op.Target] = true
		}
	}
	if c.Status != cloud.StatusActive && !covered[c.ID] {
		what = append(what, fmt.Sprintf("cluster %s/%s is %s", c.Region, c.Name, c.Status))
	}
	for _, p := range pools {
		if p.Status != cloud.StatusActive && !covered[p.ID] {
			what = append(what, fmt.Sprintf("node pool %s is %s", p.Name, p.Status))
		}
	}
	return strings.Join(what, "; ")
}

// describeRunning names a running operation: its kind, id and target, the versions of an
// upgrade, and when it started, e.g. "UpgradeCluster op-12 on cluster dev (1.31 → 1.32)
// running since 2025-06-01T10:00:00Z".
func describeRunning(st *cloud.State, op *cloud.Operation) string {
	target := op.Target
	if p := st.Pools[op.Target]; p != nil {
		target = "node pool " + p.Name
	} else if c := st.Clusters[op.Target]; c != nil {
		target = "cluster " + c.Name
	}
	s := fmt.Sprintf("%s %s on %s", op.Kind, op.ID, target)
	if op.ToVersion != "" {
		s += fmt.Sprintf(" (%s → %s)", op.FromVersion, op.ToVersion)
	}
	return s + " running since " + op.Started.UTC().Format(time.RFC3339)
}

// OfferedVersions asks the simulated cloud which minors region offers now, the unoffer
// faults in force included. It knows its own regions only: for another cloud it says so.
func (v *Versions) OfferedVersions(ctx context.Context, cloudName, region string) ([]string, error) {
	if cloudName != CloudSim {
		return nil, fmt.Errorf("%s/%s: the simulator offers versions in its own regions only, not on cloud %q: use that cloud's version catalog", cloudName, region, cloudName)
	}
	vs, err := v.c.OfferedVersions(ctx, region)
	if err != nil {
		return nil, fmt.Errorf("%s/%s: asking the simulated cloud which versions it offers: %w", cloudName, region, err)
	}
	return vs, nil
}
