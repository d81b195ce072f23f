package automation

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
)

// UpgradeStepKind is what one step of a cluster's upgrade moves.
type UpgradeStepKind string

// The two kinds of upgrade step. Each is its own `up`, so that a failure leaves the
// cluster in the state the last finished step produced.
const (
	UpgradeControlPlane UpgradeStepKind = "control-plane"
	UpgradeNodePools    UpgradeStepKind = "node-pools"
)

// ClusterStep is one step of one cluster's upgrade: its control plane, or its node
// pools, one minor up.
type ClusterStep struct {
	Stack   string          `json:"stack"`
	Cluster string          `json:"cluster"`
	Kind    UpgradeStepKind `json:"kind"`
	From    Minor           `json:"from"`
	To      Minor           `json:"to"`
	// Pools are, for a node-pools step, the pools that move: fallback pools before the
	// spot pools they back, then the rest, each group by name.
	Pools []string `json:"pools,omitempty"`
}

// String describes the step in a line of a printed plan:
// "east-1: control plane 1.31 → 1.32", "east-1: node pools 1.31 → 1.32 (od, spot, system)".
func (s ClusterStep) String() string {
	switch s.Kind {
	case UpgradeControlPlane:
		return fmt.Sprintf("%s: control plane %s → %s", s.Cluster, s.From, s.To)
	case UpgradeNodePools:
		if len(s.Pools) == 0 {
			return fmt.Sprintf("%s: node pools %s → %s", s.Cluster, s.From, s.To)
		}
		return fmt.Sprintf("%s: node pools %s → %s (%s)", s.Cluster, s.From, s.To, strings.Join(s.Pools, ", "))
	}
	return fmt.Sprintf("%s: %s %s → %s", s.Cluster, s.Kind, s.From, s.To)
}

// Apply returns c as it is after the step: the control plane at To, or each of the
// step's pools at To. c itself is not changed; pools the step names that c lacks are
// ignored.
func (s ClusterStep) Apply(c ClusterVersions) ClusterVersions {
	out := c
	out.Pools = maps.Clone(c.Pools)
	out.FallbackFor = maps.Clone(c.FallbackFor)
	switch s.Kind {
	case UpgradeControlPlane:
		out.ControlPlane = s.To
	case UpgradeNodePools:
		for _, p := range s.Pools {
			if _, ok := out.Pools[p]; ok {
				out.Pools[p] = s.To
			}
		}
	}
	return out
}

// versionSkewPolicy is where the rules CheckSkew enforces come from.
const versionSkewPolicy = "https://kubernetes.io/releases/version-skew-policy/"

// maxPlanMinors bounds how far one plan goes. Kubernetes supports each minor for about
// fourteen months, three minors a year, so a longer plan is a typing mistake, not an
// upgrade (and it keeps a target like 1.9999 from planning ten thousand steps).
const maxPlanMinors = 50

// validMinor reports whether m could be a Kubernetes release: major 1 or later, a
// minor not negative.
func validMinor(m Minor) bool { return m.Major >= 1 && m.Minor >= 0 }

// CheckSkew returns every version-skew violation of c: a pool newer than the control
// plane, or more than c.MaxSkew() minors behind it (and a version that is unset or
// malformed), one line per problem, pools by name. nil when valid. The lines name the
// pools, not the cluster; callers say which cluster they checked.
func CheckSkew(c ClusterVersions) []string {
	var problems []string
	if !validMinor(c.ControlPlane) {
		problems = append(problems, fmt.Sprintf("the control plane's version %s is unset or malformed", c.ControlPlane))
	}
	for _, name := range c.PoolNames() {
		v := c.Pools[name]
		switch {
		case !validMinor(v):
			problems = append(problems, fmt.Sprintf("node pool %q: its version %s is unset or malformed", name, v))
		case !validMinor(c.ControlPlane):
			// Nothing to compare against; the control plane is reported above.
		case c.ControlPlane.Less(v):
			problems = append(problems, fmt.Sprintf("node pool %q runs %s, newer than the control plane %s: a kubelet must never be newer than its API server",
				name, v, c.ControlPlane))
		case c.ControlPlane.Sub(v) > c.MaxSkew():
			problems = append(problems, fmt.Sprintf("node pool %q runs %s, %d minors behind the control plane %s: a kubelet may be at most %d behind%s",
				name, v, c.ControlPlane.Sub(v), c.ControlPlane, c.MaxSkew(), skewWhere(c)))
		}
	}
	return problems
}

// clusterLabel names a cluster in errors: "stack/cluster", or whichever of the two is set.
func clusterLabel(stack, cluster string) string {
	switch {
	case stack != "" && cluster != "":
		return stack + "/" + cluster
	case cluster != "":
		return cluster
	case stack != "":
		return stack
	}
	return "the cluster"
}

// DowngradeError is a target older than a cluster's control plane. Kubernetes control
// planes are upgraded, never downgraded.
type DowngradeError struct {
	Stack, Cluster string
	ControlPlane   Minor
	Target         Minor
}

func (e *DowngradeError) Error() string {
	return fmt.Sprintf("%s: the control plane runs %s, newer than the target %s: control planes are not downgraded; choose a target of %s or later",
		clusterLabel(e.Stack, e.Cluster), e.ControlPlane, e.Target, e.ControlPlane)
}

// IsDowngrade reports whether err refused a target older than a control plane.
func IsDowngrade(err error) bool { var e *DowngradeError; return errors.As(err, &e) }

// SkewError is a cluster whose versions break the version-skew policy already, so that
// no plan can start from it.
type SkewError struct {
	Stack, Cluster string
	Problems       []string // as CheckSkew returns them
	Max            int      // the minors the cluster's cloud lets pools lag
}

func (e *SkewError) Error() string {
	return fmt.Sprintf("%s breaks the version-skew policy (%s), so no upgrade can start from it; bring its pools within %d minors of the control plane and no newer than it first:\n  - %s",
		clusterLabel(e.Stack, e.Cluster), versionSkewPolicy, e.Max, strings.Join(e.Problems, "\n  - "))
}

// IsSkewViolation reports whether err refused a cluster that breaks the version-skew
// policy.
func IsSkewViolation(err error) bool { var e *SkewError; return errors.As(err, &e) }

// UnreachableError is a target no sequence of one-minor steps reaches: not a version,
// another major, or further than one plan goes.
type UnreachableError struct {
	Stack, Cluster string
	From, Target   Minor
	Reason         string
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("%s: cannot upgrade from %s to %s: %s", clusterLabel(e.Stack, e.Cluster), e.From, e.Target, e.Reason)
}

// IsUnreachable reports whether err refused a target that cannot be reached.
func IsUnreachable(err error) bool { var e *UnreachableError; return errors.As(err, &e) }

// PlanCluster returns the steps that take c to target, every intermediate state
// skew-valid, the control plane one minor per step and never below its pools. No steps
// when c is already there. Errors (typed, with IsX helpers, wrap-safe): target older
// than the control plane (a downgrade), c not skew-valid to start with, target not
// reachable.
//
// Pools lagging behind the control plane catch up before it moves again, the oldest
// first: a node-pools step moves the pools at the oldest node version one minor up, and
// pools already newer stay. So a cluster at control plane 1.31 and pools 1.28 goes to
// 1.32 by pools 1.29, 1.30, 1.31, control plane 1.32, pools 1.32. Keeping the pools as
// close to the control plane as that is what lets a failure at any step leave a cluster
// that the next control-plane step can still start from.
func PlanCluster(c ClusterVersions, target Minor) ([]ClusterStep, error) {
	if !validMinor(target) {
		return nil, &UnreachableError{Stack: c.Stack, Cluster: c.Cluster, From: c.ControlPlane, Target: target,
			Reason: fmt.Sprintf("%s is not a Kubernetes version such as 1.32", target)}
	}
	if problems := CheckSkew(c); problems != nil {
		return nil, &SkewError{Stack: c.Stack, Cluster: c.Cluster, Problems: problems, Max: c.MaxSkew()}
	}
	if target.Less(c.ControlPlane) {
		return nil, &DowngradeError{Stack: c.Stack, Cluster: c.Cluster, ControlPlane: c.ControlPlane, Target: target}
	}
	if target.Major != c.ControlPlane.Major {
		return nil, &UnreachableError{Stack: c.Stack, Cluster: c.Cluster, From: c.ControlPlane, Target: target,
			Reason: fmt.Sprintf("Kubernetes defines no upgrade across majors; the control plane is at major %d", c.ControlPlane.Major)}
	}
	if n := target.Sub(c.ControlPlane); n > maxPlanMinors {
		return nil, &UnreachableError{Stack: c.Stack, Cluster: c.Cluster, From: c.ControlPlane, Target: target,
			Reason: fmt.Sprintf("that is %d minors, and one plan goes at most %d", n, maxPlanMinors)}
	}

	var steps []ClusterStep
	state := c
	for {
		nodes := state.Nodes()
		var step ClusterStep
		switch {
		case nodes.Less(state.ControlPlane):
			step = ClusterStep{Kind: UpgradeNodePools, From: nodes, To: nodes.Add(1), Pools: poolsAt(state, nodes)}
		case state.ControlPlane.Less(target):
			step = ClusterStep{Kind: UpgradeControlPlane, From: state.ControlPlane, To: state.ControlPlane.Add(1)}
		default:
			return steps, nil
		}
		step.Stack, step.Cluster = c.Stack, c.Cluster
		steps = append(steps, step)
		state = step.Apply(state)
	}
}

// poolsAt returns the pools of c that run v, in upgrade order: fallback pools (the keys
// of c.FallbackFor) first, so that on-demand capacity has moved before the spot pools
// it backs roll; then those spot pools; then every other pool. Each group is by name.
func poolsAt(c ClusterVersions, v Minor) []string {
	backed := map[string]bool{}
	for fallback, spot := range c.FallbackFor {
		if _, ok := c.Pools[fallback]; ok {
			backed[spot] = true
		}
	}
	rank := func(name string) int {
		if _, ok := c.FallbackFor[name]; ok {
			return 0
		}
		if backed[name] {
			return 1
		}
		return 2
	}
	var out []string
	for name, pv := range c.Pools {
		if pv == v {
			out = append(out, name)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if ri, rj := rank(out[i]), rank(out[j]); ri != rj {
			return ri < rj
		}
		return out[i] < out[j]
	})
	return slices.Clip(out)
}
