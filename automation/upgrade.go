package automation

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/stacks"
)

// UpgradeRequest is what an upgrade is asked to do: take the selected stacks'
// clusters, control planes and node pools, to a Kubernetes minor.
type UpgradeRequest struct {
	Selection
	// To is the target minor, such as "1.33".
	To string
	// Approve lists the environments whose approval gate is granted.
	Approve []string
	// AllowReplace lets protected environments replace and delete resources.
	AllowReplace bool
	// WaitForWindow waits for a closed maintenance window to open instead of stopping
	// the run at it.
	WaitForWindow bool
	// Stop, when closed, stops new work (see RolloutRequest.Stop).
	Stop <-chan struct{}
}

// UpgradePlan is what an upgrade will do, computed from the clusters' real versions
// before anything changes.
type UpgradePlan struct {
	Target Minor          `json:"target"`
	Plan   Plan           `json:"plan"`
	Stacks []StackUpgrade `json:"stacks"`
}

// StackUpgrade is one stack's part of an upgrade: its clusters as they run now, and
// the rounds that take them to the target. Each round is one update of the stack; a
// round moves either control planes or node pools, never both.
type StackUpgrade struct {
	StackRef
	Clusters []ClusterVersions `json:"clusters"`
	Rounds   [][]ClusterStep   `json:"rounds,omitempty"`
}

// Steps counts the plan's cluster steps.
func (p UpgradePlan) Steps() int {
	n := 0
	for _, s := range p.Stacks {
		for _, r := range s.Rounds {
			n += len(r)
		}
	}
	return n
}

// UpgradePlanned is sent once an upgrade's pre-flight passed, before anything changes.
type UpgradePlanned struct {
	At
	Upgrade UpgradePlan `json:"upgrade"`
}

// PlanUpgrade runs an upgrade's pre-flight and returns its plan, changing nothing. Its
// errors are InputErrors listing every problem found.
func (d *Deployer) PlanUpgrade(ctx context.Context, sel Selection, to string) (*UpgradePlan, error) {
	plan, err := d.check(ctx, sel)
	if err != nil {
		return nil, err
	}
	return d.planUpgrade(ctx, plan, to)
}

// Upgrade runs an upgrade through the rollout engine: pre-flight before anything
// changes (the target, the versions every region offers, clusters mid-operation or
// changed out of band, competing auto-upgrades, removed APIs, health now), then stage by
// stage and wave by wave, each stack in rounds of one update each, its stack file
// rewritten with the new versions as each round completes, health read after every
// round. It returns the run's journal with any error, like Rollout.
func (d *Deployer) Upgrade(ctx context.Context, req UpgradeRequest) (*Journal, error) {
	if err := d.checkFrozen(); err != nil {
		return nil, err
	}
	if _, err := parseTarget(req.To); err != nil {
		return nil, err
	}
	plan, err := d.preflight(ctx, req.Selection, req.Approve)
	if err != nil {
		return nil, err
	}
	up, err := d.planUpgrade(ctx, plan, req.To)
	if err != nil {
		return nil, err
	}
	d.emit(ctx, UpgradePlanned{At: d.at(), Upgrade: *up})
	r := Request{Selection: req.Selection, Approve: req.Approve, AllowReplace: req.AllowReplace,
		UpgradeTo: up.Target.String(), WaitForWindow: req.WaitForWindow}
	j, err := d.newJournal("upgrade", r, plan)
	if err != nil {
		return nil, err
	}
	j.Upgrade = up
	return d.start(ctx, j, req.Stop)
}

// planUpgrade is the upgrade pre-flight over a plan's stacks, and the plan.
func (d *Deployer) planUpgrade(ctx context.Context, plan Plan, to string) (*UpgradePlan, error) {
	target, err := parseTarget(to)
	if err != nil {
		return nil, err
	}
	up := &UpgradePlan{Target: target, Plan: plan}
	var problems []string
	add := func(ref StackRef, format string, args ...any) {
		problems = append(problems, ref.String()+": "+fmt.Sprintf(format, args...))
	}
	selected := map[string]bool{}
	for _, ref := range plan.Stacks() {
		selected[ref.Stack] = true
	}
	// Every region of the fleet must offer every minor on the way, not only the
	// selected stacks' regions: an upgrade of dev must not start what prod cannot finish.
	regions := map[[2]string][]string{} // cloud, region -> the clusters there
	var all []StackRef
	for _, env := range d.o.set.Environments {
		for _, s := range env.Stacks() {
			all = append(all, StackRef{Environment: env.Name, Stack: s})
		}
	}
	oldest := target
	for _, ref := range all {
		if !selected[ref.Stack] {
			if cur, _, err := d.stateVersions(ctx, ref); err == nil {
				for _, c := range cur {
					k := [2]string{c.Cloud, c.Region}
					regions[k] = append(regions[k], ref.Stack+"/"+c.Cluster)
				}
			}
			continue
		}
		su := StackUpgrade{StackRef: ref}
		cur, out, err := d.readVersions(ctx, ref, true)
		if err != nil {
			add(ref, "%s", readable(err))
			up.Stacks = append(up.Stacks, su)
			continue
		}
		su.Clusters = cur
		for _, c := range cur {
			k := [2]string{c.Cloud, c.Region}
			regions[k] = append(regions[k], ref.Stack+"/"+c.Cluster)
			if c.ControlPlane.Less(oldest) {
				oldest = c.ControlPlane
			}
			if v := CheckSkew(c); len(v) > 0 {
				add(ref, "cluster %q is outside the version-skew policy now: %s", c.Cluster, strings.Join(v, "; "))
				continue
			}
			if target.Less(c.ControlPlane) {
				add(ref, "cluster %q runs %s, newer than the target %s: Flotilla never downgrades a control plane", c.Cluster, c.ControlPlane, target)
				continue
			}
			if _, err := PlanCluster(c, target); err != nil {
				add(ref, "cluster %q: %v", c.Cluster, err)
			}
		}
		if len(problems) == 0 {
			su.Rounds = planRounds(cur, target)
		}
		problems = append(problems, d.stackUpgradeProblems(ctx, ref, cur, out, target)...)
		up.Stacks = append(up.Stacks, su)
	}
	problems = append(problems, d.offerProblems(ctx, regions, oldest, target)...)
	if len(problems) > 0 {
		return nil, &InputError{Msg: fmt.Sprintf("the upgrade to %s cannot start; pre-flight found:\n  %s", target, strings.Join(problems, "\n  "))}
	}
	return up, nil
}

// parseTarget reads an upgrade's target: a minor, such as "1.33".
func parseTarget(to string) (Minor, error) {
	target, err := ParseMinor(to)
	if err != nil || to != target.String() {
		return Minor{}, &InputError{Msg: fmt.Sprintf("--to %q: name a Kubernetes minor such as \"1.33\"", to)}
	}
	return target, nil
}

// stackUpgradeProblems are a selected stack's pre-flight problems besides its versions:
// its state mid-operation, its stack file disagreeing with its state, an auto-upgrade
// that competes, API versions the target removes, and its health now.
func (d *Deployer) stackUpgradeProblems(ctx context.Context, ref StackRef, cur []ClusterVersions, out Outputs, target Minor) []string {
	var problems []string
	add := func(format string, args ...any) {
		problems = append(problems, ref.String()+": "+fmt.Sprintf(format, args...))
	}
	if states, ok := d.o.ops.(StackStates); ok {
		s, err := states.State(ctx, ref)
		switch {
		case err != nil:
			add("reading its state: %s", readable(err))
		case len(s.Pending) > 0:
			add("its state holds %d operation(s) a killed update never finished: run `flotilla resume` (or `flotilla rollout --stack %s`) first", len(s.Pending), ref.Stack)
		case s.LastUpdate != nil && s.LastUpdate.Result == "in-progress":
			add("an update of the stack is in progress")
		default:
			from := target
			for _, c := range cur {
				if c.ControlPlane.Less(from) {
					from = c.ControlPlane
				}
			}
			for _, p := range CheckRemovedAPIs(s.Types, from, target) {
				add("%s", p)
			}
		}
	}
	file, err := stacks.ReadVersions(d.StackFile(ref.Stack))
	if err != nil {
		add("reading its versions: %v", err)
	} else {
		for _, c := range cur {
			f, ok := file[c.Cluster]
			switch {
			case !ok:
				add("cluster %q is in the state but not in stacks/Pulumi.%s.yaml: roll the stack out first", c.Cluster, ref.Stack)
			case f.ControlPlane != c.ControlPlane.String() || f.Nodes != c.Nodes().String():
				add("stacks/Pulumi.%s.yaml sets cluster %q to control plane %s, nodes %s, but it runs %s, nodes %s: roll that change out (or revert it) before upgrading",
					ref.Stack, c.Cluster, f.ControlPlane, f.Nodes, c.ControlPlane, c.Nodes())
			}
		}
	}
	for name, v := range clusterField(out, "autoUpgrade") {
		if v != "" && v != "none" {
			add("cluster %q is also upgraded by %s, which would compete with this upgrade: turn it off (the cluster components do) and roll out first", name, v)
		}
	}
	if rep, err := d.o.health.Check(ctx, ref, out); err != nil {
		add("health now: %s", readable(err))
	} else if !rep.Healthy() {
		add("unhealthy now, and an upgrade starts only from a healthy fleet: %s", strings.Join(rep.Problems(), "; "))
	}
	return problems
}

// offerProblems checks that every region of the fleet offers every minor from the
// oldest control plane's next one up to the target.
func (d *Deployer) offerProblems(ctx context.Context, regions map[[2]string][]string, oldest, target Minor) []string {
	keys := make([][2]string, 0, len(regions))
	for k := range regions {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i][0]+"/"+keys[i][1] < keys[j][0]+"/"+keys[j][1] })
	var problems []string
	for _, k := range keys {
		offered, err := d.offered(ctx, k[0], k[1])
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s region %s: cannot learn which versions it offers: %s", k[0], k[1], readable(err)))
			continue
		}
		var missing []string
		for v := oldest.Add(1); !target.Less(v); v = v.Add(1) {
			if !slices.Contains(offered, v.String()) {
				missing = append(missing, v.String())
			}
		}
		if len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("%s region %s does not offer %s (it offers %s), which the upgrade to %s passes through; clusters there: %s",
				k[0], k[1], strings.Join(missing, ", "), strings.Join(offered, ", "), target, strings.Join(regions[k], ", ")))
		}
	}
	return problems
}

func (d *Deployer) offered(ctx context.Context, cloud, region string) ([]string, error) {
	if d.o.catalog == nil {
		return nil, errors.New("no version catalog is configured for this cloud")
	}
	return d.o.catalog.OfferedVersions(ctx, cloud, region)
}

// planRounds groups the clusters' steps into rounds, each one update of the stack: a
// round moves control planes or node pools, never both, and each cluster at most one
// minor.
func planRounds(cur []ClusterVersions, target Minor) [][]ClusterStep {
	var rounds [][]ClusterStep
	state := slices.Clone(cur)
	for {
		round := nextRound(state, target)
		if len(round) == 0 {
			return rounds
		}
		rounds = append(rounds, round)
		for i, c := range state {
			for _, s := range round {
				if s.Cluster == c.Cluster {
					state[i] = s.Apply(c)
				}
			}
		}
	}
}

// nextRound returns the next round from the clusters' current versions: every
// control-plane step that is next for its cluster, or when there is none, every
// node-pools step.
func nextRound(cur []ClusterVersions, target Minor) []ClusterStep {
	var cp, np []ClusterStep
	for _, c := range cur {
		steps, err := PlanCluster(c, target)
		if err != nil || len(steps) == 0 {
			continue
		}
		if steps[0].Kind == UpgradeControlPlane {
			cp = append(cp, steps[0])
		} else {
			np = append(np, steps[0])
		}
	}
	if len(cp) > 0 {
		return cp
	}
	return np
}

// readVersions returns what a stack's clusters run: from its state (its outputs), and
// where a version source is configured, from the clouds or the clusters themselves.
// A cluster mid-operation is an error. With strict, so is a live version that differs
// from the state, naming it: the cluster was changed out of band. Without, the live
// version wins: after a failed update the state's outputs still hold the versions from
// before it, while some of its clusters moved.
func (d *Deployer) readVersions(ctx context.Context, ref StackRef, strict bool) ([]ClusterVersions, Outputs, error) {
	cur, out, err := d.stateVersions(ctx, ref)
	if err != nil || d.o.versions == nil {
		return cur, out, err
	}
	live, err := d.o.versions.LiveVersions(ctx, ref, out)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the versions its clusters run: %w", err)
	}
	var problems, busy []string
	for i, c := range cur {
		idx := slices.IndexFunc(live, func(l LiveCluster) bool { return l.Cluster == c.Cluster })
		if idx < 0 {
			problems = append(problems, fmt.Sprintf("cluster %q is in the state but the cloud does not report it", c.Cluster))
			continue
		}
		l := live[idx]
		if l.Busy != "" {
			busy = append(busy, fmt.Sprintf("cluster %q is mid-operation (%s): wait for it to finish", c.Cluster, l.Busy))
		}
		if v, err := ParseMinor(l.ControlPlane); err == nil {
			if v != c.ControlPlane {
				problems = append(problems, fmt.Sprintf("cluster %q runs control plane %s, but its state says %s: it was upgraded outside Flotilla; set its version to %s in stacks/Pulumi.%s.yaml and run `flotilla rollout --refresh --stack %s` to take that into the state",
					c.Cluster, v, c.ControlPlane, v, ref.Stack, ref.Stack))
			}
			cur[i].ControlPlane = v
		}
		for _, p := range c.PoolNames() {
			lv, ok := l.Pools[p]
			if !ok {
				continue
			}
			v, err := ParseMinor(lv)
			if err != nil {
				continue
			}
			if v != c.Pools[p] {
				problems = append(problems, fmt.Sprintf("node pool %q of cluster %q runs %s, but its state says %s: it was changed outside Flotilla; run `flotilla rollout --refresh --stack %s` to take that into the state",
					p, c.Cluster, v, c.Pools[p], ref.Stack))
			}
			cur[i].Pools[p] = v
		}
		if l.AutoUpgrade != "" && l.AutoUpgrade != "none" {
			problems = append(problems, fmt.Sprintf("cluster %q is also upgraded by %s (the cloud says so), which would compete with Flotilla", c.Cluster, l.AutoUpgrade))
		}
	}
	if !strict {
		problems = nil
	}
	if problems = append(busy, problems...); len(problems) > 0 {
		return cur, out, errors.New(strings.Join(problems, "; "))
	}
	return cur, out, nil
}

// stateVersions reads a stack's clusters' versions from its outputs: `versions` (each
// cluster's control plane), `clusters` (cloud and region) and `pools` (each pool's
// version, and the spot pool a fallback backs).
func (d *Deployer) stateVersions(ctx context.Context, ref StackRef) ([]ClusterVersions, Outputs, error) {
	out, err := d.o.ops.Outputs(ctx, ref)
	if err != nil {
		return nil, nil, fmt.Errorf("reading its outputs: %w", err)
	}
	cur, err := versionsFromOutputs(ref, out)
	return cur, out, err
}

// versionsFromOutputs reads a stack's clusters' versions from its outputs.
func versionsFromOutputs(ref StackRef, out Outputs) ([]ClusterVersions, error) {
	vs, _ := out["versions"].Value.(map[string]any)
	if len(vs) == 0 {
		return nil, fmt.Errorf("its state has no cluster versions: it has not been deployed; roll it out first (`flotilla rollout --stack %s`)", ref.Stack)
	}
	clusters, _ := out["clusters"].Value.(map[string]any)
	pools, _ := out["pools"].Value.(map[string]any)
	var cur []ClusterVersions
	for name, v := range vs {
		s, _ := v.(string)
		cp, err := ParseMinor(s)
		if err != nil {
			return nil, fmt.Errorf("cluster %q: its state's version: %w", name, err)
		}
		c := ClusterVersions{Stack: ref.Stack, Cluster: name, ControlPlane: cp, Pools: map[string]Minor{}, FallbackFor: map[string]string{}}
		if m, ok := clusters[name].(map[string]any); ok {
			c.Cloud, _ = m["cloud"].(string)
			c.Region, _ = m["region"].(string)
		}
		list, _ := pools[name].([]any)
		for _, item := range list {
			p, _ := item.(map[string]any)
			pname, _ := p["name"].(string)
			if pname == "" {
				continue
			}
			pv := cp // a state from before pools reported versions: they ran the control plane's
			if s, ok := p["version"].(string); ok && s != "" {
				if pv, err = ParseMinor(s); err != nil {
					return nil, fmt.Errorf("node pool %q of cluster %q: its state's version: %w", pname, name, err)
				}
			}
			c.Pools[pname] = pv
			if f, _ := p["fallbackFor"].(string); f != "" {
				c.FallbackFor[pname] = f
			}
		}
		cur = append(cur, c)
	}
	sort.Slice(cur, func(i, j int) bool { return cur[i].Cluster < cur[j].Cluster })
	return cur, nil
}

// clusterField returns one string field of each entry of the `clusters` output.
func clusterField(out Outputs, field string) map[string]string {
	clusters, _ := out["clusters"].Value.(map[string]any)
	res := map[string]string{}
	for name, v := range clusters {
		if m, ok := v.(map[string]any); ok {
			if s, ok := m[field].(string); ok {
				res[name] = s
			}
		}
	}
	return res
}

// fileVersions is what the stack file should say once a round is done.
func fileVersions(cur []ClusterVersions, round []ClusterStep) map[string]stacks.Versions {
	out := map[string]stacks.Versions{}
	for _, c := range cur {
		for _, s := range round {
			if s.Cluster == c.Cluster {
				c = s.Apply(c)
			}
		}
		out[c.Cluster] = stacks.Versions{ControlPlane: c.ControlPlane.String(), Nodes: c.Nodes().String()}
	}
	return out
}

// roundDetail describes a round for the journal and the progress output.
func roundDetail(round []ClusterStep) string {
	parts := make([]string, 0, len(round))
	for _, s := range round {
		parts = append(parts, s.String())
	}
	return strings.Join(parts, "; ")
}

// upgradeStack takes one stack's clusters to the run's target, a round at a time. Each
// round starts from the versions the clusters really run, so a resumed or retried
// upgrade continues from wherever the last one stopped.
func (r *run) upgradeStack(ctx context.Context, st Stage, ref StackRef) error {
	d := r.d
	target, err := ParseMinor(r.req.UpgradeTo)
	if err != nil {
		return &StackError{Stack: ref, Step: StepUpgrade, Reason: err.Error(), Err: err}
	}
	if err := r.clearDeadRun(ctx, ref); err != nil {
		return err
	}
	for {
		if r.interrupted(ctx) {
			return &InterruptedError{RunID: r.j.RunID}
		}
		if err := d.checkFrozen(); err != nil {
			d.emit(ctx, GateFailed{At: d.at(), Environment: ref.Environment, Gate: GateFreeze, Stack: ref.Stack, Reason: err.Error()})
			return &StackError{Stack: ref, Step: StepUpgrade, Reason: err.Error(), Err: err}
		}
		cur, _, err := d.readVersions(ctx, ref, false)
		if err != nil {
			return &StackError{Stack: ref, Step: StepUpgrade, Reason: readable(err), Err: err}
		}
		if err := r.syncStackFile(ref, cur, "an update finished after the run's last write"); err != nil {
			return &StackError{Stack: ref, Step: StepUpgrade, Reason: "writing its stack file: " + err.Error(), Err: err}
		}
		round := nextRound(cur, target)
		if len(round) == 0 {
			break
		}
		if err := r.waitForWindow(ctx, st, ref); err != nil {
			return err
		}
		if err := r.upgradeRound(ctx, st, ref, cur, round); err != nil {
			return err
		}
	}
	if states, ok := d.o.ops.(StackStates); ok {
		if s, err := states.State(ctx, ref); err == nil && s.LastUpdate != nil {
			r.mu.Lock()
			r.markers[ref.Stack] = s.LastUpdate.Marker
			r.mu.Unlock()
		}
	}
	r.update(func(j *Journal) { j.Stacks[ref.Stack].Status = StatusUpdated })
	return nil
}

// upgradeRound runs one round: the stack file with the round's versions goes to a
// preview (the preview policy applies in protected environments) and an update; only
// once the update succeeded is it written to the project, and the stack's health is
// read before the next round.
func (r *run) upgradeRound(ctx context.Context, st Stage, ref StackRef, cur []ClusterVersions, round []ClusterStep) error {
	d := r.d
	detail := roundDetail(round)
	next := filepath.Join(d.o.stateDir, "upgrades", ref.Stack+".yaml")
	if err := os.MkdirAll(filepath.Dir(next), 0o755); err != nil {
		return &StackError{Stack: ref, Step: StepUpgrade, Reason: err.Error(), Err: err}
	}
	if err := copyFile(d.StackFile(ref.Stack), next); err != nil {
		return &StackError{Stack: ref, Step: StepUpgrade, Reason: err.Error(), Err: err}
	}
	if err := stacks.WriteVersions(next, fileVersions(cur, round)); err != nil {
		return &StackError{Stack: ref, Step: StepUpgrade, Reason: "writing the round's versions: " + err.Error(), Err: err}
	}
	progress := func(line string) { d.emit(ctx, EngineOutput{At: d.at(), Stack: ref, Line: line}) }
	if err := r.previewGated(ctx, st, ref, detail, OpOptions{StackFile: next, Progress: progress}); err != nil {
		return err
	}
	if r.interrupted(ctx) {
		return &InterruptedError{RunID: r.j.RunID}
	}
	err := r.up(ctx, ref, StepUpgrade, detail, OpOptions{StackFile: next, Progress: progress})
	if err != nil {
		// Some clusters of the round may have moved: the stack file records what they run.
		if now, _, rerr := d.readVersions(context.WithoutCancel(ctx), ref, false); rerr == nil {
			_ = r.syncStackFile(ref, now, "the failed round moved some of them")
		}
		return err
	}
	if err := copyFile(next, d.StackFile(ref.Stack)); err != nil {
		return &StackError{Stack: ref, Step: StepUpgrade, Reason: "writing its stack file: " + err.Error(), Err: err}
	}
	_ = os.Remove(next)
	if in, err := d.inputs(ref.Stack); err == nil {
		r.update(func(j *Journal) { j.Stacks[ref.Stack].Inputs = in })
	}
	done := r.now()
	return r.detailedStep(ctx, ref, StepHealth, detail, func() (map[string]int, error) { return nil, r.checkHealth(ctx, ref, done) })
}

// syncStackFile writes the versions the clusters really run into the stack file when
// they differ from it: after a failed round that moved some clusters, or a run killed
// between an update and its file's write. Pre-flight refused a file that disagreed with
// the clusters, so every difference is this upgrade's own doing.
func (r *run) syncStackFile(ref StackRef, cur []ClusterVersions, why string) error {
	file, err := stacks.ReadVersions(r.d.StackFile(ref.Stack))
	if err != nil {
		return err
	}
	want := map[string]stacks.Versions{}
	changed := false
	for _, c := range cur {
		v := stacks.Versions{ControlPlane: c.ControlPlane.String(), Nodes: c.Nodes().String()}
		want[c.Cluster] = v
		if f, ok := file[c.Cluster]; ok && f != v {
			changed = true
		}
	}
	if !changed {
		return nil
	}
	if err := stacks.WriteVersions(r.d.StackFile(ref.Stack), want); err != nil {
		return err
	}
	if in, err := r.d.inputs(ref.Stack); err == nil {
		r.update(func(j *Journal) {
			rec := j.Stacks[ref.Stack]
			rec.Inputs = in
			rec.Cleared = append(rec.Cleared, "wrote the versions its clusters run into its stack file: "+why)
		})
	}
	return nil
}

// waitForWindow returns when the stage's maintenance window is open: at once when it
// is, after waiting for it with WaitForWindow, and otherwise with a WindowClosedError.
func (r *run) waitForWindow(ctx context.Context, st Stage, ref StackRef) error {
	w := st.Window
	if w == nil {
		return nil
	}
	now := r.now().UTC()
	if w.Open(now) {
		return nil
	}
	opens := w.Next(now)
	e := &WindowClosedError{Environment: st.Environment, Window: w.String(), Opens: opens}
	if !r.req.WaitForWindow {
		r.d.emit(ctx, GateFailed{At: r.d.at(), Environment: st.Environment, Gate: GateWindow, Stack: ref.Stack, Reason: e.Error()})
		return &StackError{Stack: ref, Step: StepUpgrade, Reason: e.Error(), Err: e}
	}
	r.d.emit(ctx, GateWaiting{At: r.d.at(), Environment: st.Environment, Gate: GateWindow,
		Reason: fmt.Sprintf("%s: waiting for the maintenance window (%s), which opens at %s", ref.Stack, w.String(), opens.Format(time.RFC3339))})
	t := time.NewTimer(time.Until(opens))
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-r.stop:
		return &InterruptedError{RunID: r.j.RunID}
	case <-ctx.Done():
		return &InterruptedError{RunID: r.j.RunID}
	}
}

// clearDeadRun resolves what a killed update left in the stack's state before an
// upgrade round reads it.
func (r *run) clearDeadRun(ctx context.Context, ref StackRef) error {
	states, ok := r.d.o.ops.(StackStates)
	if !ok {
		return nil
	}
	s, err := states.State(ctx, ref)
	if err != nil {
		return &StackError{Stack: ref, Step: StepUpgrade, Reason: "reading its state: " + readable(err), Err: err}
	}
	if len(s.Pending) == 0 {
		return nil
	}
	return r.step(ctx, ref, StepPreview, func() (map[string]int, error) { return nil, r.clearPending(ctx, ref, s.Pending) })
}

func copyFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}
