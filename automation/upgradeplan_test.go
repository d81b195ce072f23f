package automation_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand"
	"reflect"
	"slices"
	"testing"
	"testing/quick"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
)

func minor(n int) automation.Minor { return automation.Minor{Major: 1, Minor: n} }

// cluster is a cluster of stack "prod-east" named "east-1" at control plane cp with the
// given pools.
func cluster(cp int, pools map[string]int, fallbackFor map[string]string) automation.ClusterVersions {
	c := automation.ClusterVersions{Stack: "prod-east", Cluster: "east-1", ControlPlane: minor(cp), FallbackFor: fallbackFor}
	if pools != nil {
		c.Pools = map[string]automation.Minor{}
		for name, v := range pools {
			c.Pools[name] = minor(v)
		}
	}
	return c
}

func TestPlanClusterSteps(t *testing.T) {
	t.Parallel()
	spot := map[string]string{"web-od": "web-spot"}
	tests := []struct {
		name   string
		c      automation.ClusterVersions
		target int
		want   []string
		pools  [][]string // each node-pools step's pools, in order
	}{
		{name: "already there", c: cluster(31, map[string]int{"system": 31}, nil), target: 31},
		{name: "one minor", c: cluster(31, map[string]int{"system": 31}, nil), target: 32,
			want: []string{"east-1: control plane 1.31 → 1.32", "east-1: node pools 1.31 → 1.32 (system)"}},
		{name: "three minors, one at a time", c: cluster(30, map[string]int{"system": 30}, nil), target: 33,
			want: []string{
				"east-1: control plane 1.30 → 1.31", "east-1: node pools 1.30 → 1.31 (system)",
				"east-1: control plane 1.31 → 1.32", "east-1: node pools 1.31 → 1.32 (system)",
				"east-1: control plane 1.32 → 1.33", "east-1: node pools 1.32 → 1.33 (system)",
			}},
		{name: "pools three behind catch up before the control plane moves", c: cluster(31, map[string]int{"system": 28}, nil), target: 32,
			want: []string{
				"east-1: node pools 1.28 → 1.29 (system)", "east-1: node pools 1.29 → 1.30 (system)", "east-1: node pools 1.30 → 1.31 (system)",
				"east-1: control plane 1.31 → 1.32", "east-1: node pools 1.31 → 1.32 (system)",
			}},
		{name: "control plane at the target, pools behind", c: cluster(32, map[string]int{"system": 31}, nil), target: 32,
			want: []string{"east-1: node pools 1.31 → 1.32 (system)"}},
		{name: "mixed pool versions: the oldest move first, the newer stay", c: cluster(31, map[string]int{"system": 31, "web-spot": 29, "web-od": 30}, spot), target: 32,
			want: []string{
				"east-1: node pools 1.29 → 1.30 (web-spot)",
				"east-1: node pools 1.30 → 1.31 (web-od, web-spot)",
				"east-1: control plane 1.31 → 1.32",
				"east-1: node pools 1.31 → 1.32 (web-od, web-spot, system)",
			}},
		{name: "fallback pools before the spot pools they back, then the rest",
			c: cluster(31, map[string]int{"system": 31, "gpu-spot": 31, "gpu-od": 31, "web-spot": 31, "web-od": 31, "batch-spot": 31},
				map[string]string{"gpu-od": "gpu-spot", "web-od": "web-spot"}), target: 32,
			want:  []string{"east-1: control plane 1.31 → 1.32", "east-1: node pools 1.31 → 1.32 (gpu-od, web-od, gpu-spot, web-spot, batch-spot, system)"},
			pools: [][]string{{"gpu-od", "web-od", "gpu-spot", "web-spot", "batch-spot", "system"}}},
		{name: "no pools: the control plane alone", c: cluster(30, nil, nil), target: 32,
			want: []string{"east-1: control plane 1.30 → 1.31", "east-1: control plane 1.31 → 1.32"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			steps, err := automation.PlanCluster(tt.c, minor(tt.target))
			require.NoError(t, err)
			got := make([]string, len(steps))
			var pools [][]string
			for i, s := range steps {
				got[i] = s.String()
				assert.Equal(t, "prod-east", s.Stack)
				assert.Equal(t, "east-1", s.Cluster)
				if s.Kind == automation.UpgradeNodePools {
					pools = append(pools, s.Pools)
				} else {
					assert.Empty(t, s.Pools, "a control-plane step names no pools")
				}
			}
			if tt.want == nil {
				assert.Empty(t, steps)
			} else {
				assert.Equal(t, tt.want, got)
			}
			if tt.pools != nil {
				assert.Equal(t, tt.pools, pools)
			}
			require.NoError(t, planProblem(tt.c, minor(tt.target), steps))
		})
	}
}

func TestPlanClusterRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		c      automation.ClusterVersions
		target automation.Minor
		is     string // the IsX that recognises the refusal
		msg    []string
	}{
		{name: "a downgrade", c: cluster(31, map[string]int{"system": 31}, nil), target: minor(30), is: "IsDowngrade",
			msg: []string{"prod-east/east-1: the control plane runs 1.31, newer than the target 1.30", "choose a target of 1.31 or later"}},
		{name: "a downgrade of a control plane ahead of its pools", c: cluster(31, map[string]int{"system": 29}, nil), target: minor(30), is: "IsDowngrade"},
		{name: "a pool newer than the control plane", c: cluster(31, map[string]int{"system": 31, "web": 32}, nil), target: minor(32), is: "IsSkewViolation",
			msg: []string{"prod-east/east-1 breaks the version-skew policy", `node pool "web" runs 1.32, newer than the control plane 1.31`}},
		{name: "a pool four behind", c: cluster(31, map[string]int{"system": 27}, nil), target: minor(32), is: "IsSkewViolation",
			msg: []string{`node pool "system" runs 1.27, 4 minors behind the control plane 1.31: a kubelet may be at most 3 behind`}},
		{name: "an unset control plane", c: automation.ClusterVersions{Cluster: "east-1"}, target: minor(32), is: "IsSkewViolation",
			msg: []string{"the control plane's version"}},
		{name: "an unset pool version", c: automation.ClusterVersions{Cluster: "east-1", ControlPlane: minor(31), Pools: map[string]automation.Minor{"system": {}}},
			target: minor(32), is: "IsSkewViolation", msg: []string{`east-1 breaks`, `node pool "system": its version 0.0 is unset or malformed`}},
		{name: "another major", c: cluster(31, nil, nil), target: automation.Minor{Major: 2, Minor: 0}, is: "IsUnreachable",
			msg: []string{"cannot upgrade from 1.31 to 2.0", "no upgrade across majors"}},
		{name: "no target", c: cluster(31, nil, nil), target: automation.Minor{}, is: "IsUnreachable",
			msg: []string{"0.0 is not a Kubernetes version"}},
		{name: "a target no plan goes to", c: cluster(31, nil, nil), target: minor(9999), is: "IsUnreachable",
			msg: []string{"9968 minors, and one plan goes at most 50"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := clone(tt.c)
			steps, err := automation.PlanCluster(tt.c, tt.target)
			require.Error(t, err)
			assert.Nil(t, steps)
			kinds := map[string]func(error) bool{
				"IsDowngrade": automation.IsDowngrade, "IsSkewViolation": automation.IsSkewViolation, "IsUnreachable": automation.IsUnreachable,
			}
			require.Contains(t, kinds, tt.is)
			for name, is := range kinds {
				assert.Equal(t, name == tt.is, is(fmt.Errorf("upgrade: %w", err)), "%s of %v, wrapped", name, err)
			}
			for _, m := range tt.msg {
				assert.Contains(t, err.Error(), m)
			}
			assert.Equal(t, before, tt.c, "the input is not changed")
		})
	}
}

func TestCheckSkew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		c    automation.ClusterVersions
		want []string
	}{
		{name: "equal", c: cluster(31, map[string]int{"a": 31}, nil)},
		{name: "three behind is allowed", c: cluster(31, map[string]int{"a": 28, "b": 30}, nil)},
		{name: "no pools", c: cluster(31, nil, nil)},
		{name: "every problem, pools by name", c: cluster(31, map[string]int{"z": 27, "a": 32, "m": 20, "ok": 29}, nil), want: []string{
			`node pool "a" runs 1.32, newer than the control plane 1.31: a kubelet must never be newer than its API server`,
			`node pool "m" runs 1.20, 11 minors behind the control plane 1.31: a kubelet may be at most 3 behind`,
			`node pool "z" runs 1.27, 4 minors behind the control plane 1.31: a kubelet may be at most 3 behind`,
		}},
		{name: "a newer major", c: automation.ClusterVersions{ControlPlane: minor(31), Pools: map[string]automation.Minor{"a": {Major: 2, Minor: 0}}},
			want: []string{`node pool "a" runs 2.0, newer than the control plane 1.31: a kubelet must never be newer than its API server`}},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, automation.CheckSkew(tt.c), tt.name)
	}
}

func TestClusterStepApply(t *testing.T) {
	t.Parallel()
	c := cluster(31, map[string]int{"system": 31, "web-od": 30, "web-spot": 30}, map[string]string{"web-od": "web-spot"})
	before := clone(c)

	cp := automation.ClusterStep{Kind: automation.UpgradeControlPlane, From: minor(31), To: minor(32)}.Apply(c)
	assert.Equal(t, minor(32), cp.ControlPlane)
	assert.Equal(t, c.Pools, cp.Pools)

	np := automation.ClusterStep{Kind: automation.UpgradeNodePools, From: minor(30), To: minor(31), Pools: []string{"web-od", "web-spot", "gone"}}.Apply(c)
	assert.Equal(t, map[string]automation.Minor{"system": minor(31), "web-od": minor(31), "web-spot": minor(31)}, np.Pools)
	assert.Equal(t, minor(31), np.ControlPlane)
	np.FallbackFor["x"] = "y"
	np.Pools["system"] = minor(1)

	assert.Equal(t, before, c, "Apply changes a copy, never its input")
}

func TestClusterStepJSON(t *testing.T) {
	t.Parallel()
	s := automation.ClusterStep{Stack: "prod-east", Cluster: "east-1", Kind: automation.UpgradeNodePools, From: minor(31), To: minor(32), Pools: []string{"od", "spot"}}
	data, err := json.Marshal(s)
	require.NoError(t, err)
	var back automation.ClusterStep
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, s, back)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(data, &fields))
	assert.ElementsMatch(t, []string{"stack", "cluster", "kind", "from", "to", "pools"}, slices.Collect(maps.Keys(fields)))
	assert.Equal(t, "node-pools", fields["kind"])
}

// TestPlanClusterCombinations plans every start the skew policy allows for control
// planes 1.28 to 1.31, up to three pools each lagging 0 to 3 minors (with and without a
// spot pool and its fallback), to targets 0 to 3 minors ahead, and checks each plan
// step by step.
func TestPlanClusterCombinations(t *testing.T) {
	t.Parallel()
	names := []string{"system", "web-spot", "web-od"}
	planned := 0
	for cp := 28; cp <= 31; cp++ {
		for pools := 0; pools <= len(names); pools++ {
			for lags := range pow(4, pools) {
				for _, withFallback := range []bool{false, true} {
					if withFallback && pools < 3 {
						continue
					}
					for ahead := 0; ahead <= 3; ahead++ {
						versions := map[string]int{}
						l := lags
						for _, n := range names[:pools] {
							versions[n] = cp - l%4
							l /= 4
						}
						var fb map[string]string
						if withFallback {
							fb = map[string]string{"web-od": "web-spot"}
						}
						c := cluster(cp, versions, fb)
						if pools == 0 {
							c.Pools = nil
						}
						target := minor(cp + ahead)
						before := clone(c)
						steps, err := automation.PlanCluster(c, target)
						require.NoError(t, err, "%+v → %s", c, target)
						require.NoError(t, planProblem(c, target, steps), "%+v → %s", c, target)
						require.Equal(t, before, c, "the input is not changed")
						planned++
					}
				}
			}
		}
	}
	assert.Equal(t, 4*(1+4+16+64+64)*4, planned)
}

func pow(b, e int) int {
	out := 1
	for range e {
		out *= b
	}
	return out
}

func clone(c automation.ClusterVersions) automation.ClusterVersions {
	c.Pools = maps.Clone(c.Pools)
	c.FallbackFor = maps.Clone(c.FallbackFor)
	return c
}

// planProblem checks a plan from c to target step by step and returns what is wrong
// with it, nil when nothing: each step one minor up from where the cluster is, the
// control plane moving only once every pool has caught up with it, a node-pools step
// moving exactly the pools at the oldest version (fallback pools before the spot pools
// they back, then the rest) and never past the control plane, every state after a step
// skew-valid, and the plan ending with the control plane and every pool at target, in
// as few steps as the rules allow.
func planProblem(c automation.ClusterVersions, target automation.Minor, steps []automation.ClusterStep) error {
	state := c
	cpSteps, poolSteps := 0, 0
	for i, s := range steps {
		at := fmt.Sprintf("step %d (%s) from cp %s, pools %v", i+1, s, state.ControlPlane, state.Pools)
		if s.Stack != c.Stack || s.Cluster != c.Cluster {
			return fmt.Errorf("%s: for %s/%s, not %s/%s", at, s.Stack, s.Cluster, c.Stack, c.Cluster)
		}
		if s.To != s.From.Add(1) {
			return fmt.Errorf("%s: not one minor", at)
		}
		switch s.Kind {
		case automation.UpgradeControlPlane:
			cpSteps++
			if s.From != state.ControlPlane {
				return fmt.Errorf("%s: starts from %s, not from the control plane's %s", at, s.From, state.ControlPlane)
			}
			if state.Nodes() != state.ControlPlane {
				return fmt.Errorf("%s: the control plane moves while pools lag at %s", at, state.Nodes())
			}
			if target.Less(s.To) {
				return fmt.Errorf("%s: past the target %s", at, target)
			}
			if len(s.Pools) > 0 {
				return fmt.Errorf("%s: a control-plane step names pools", at)
			}
		case automation.UpgradeNodePools:
			poolSteps++
			if s.From != state.Nodes() {
				return fmt.Errorf("%s: starts from %s, not the oldest pools' %s", at, s.From, state.Nodes())
			}
			if state.ControlPlane.Less(s.To) {
				return fmt.Errorf("%s: pools past the control plane %s", at, state.ControlPlane)
			}
			var want []string
			for _, n := range state.PoolNames() {
				if state.Pools[n] == s.From {
					want = append(want, n)
				}
			}
			if got := slices.Sorted(slices.Values(s.Pools)); !slices.Equal(got, want) {
				return fmt.Errorf("%s: moves %v, but the pools at %s are %v", at, s.Pools, s.From, want)
			}
			if err := poolOrderProblem(s.Pools, state); err != nil {
				return fmt.Errorf("%s: %w", at, err)
			}
		default:
			return fmt.Errorf("%s: unknown kind %q", at, s.Kind)
		}
		before := clone(state)
		next := s.Apply(state)
		if !reflect.DeepEqual(before, state) {
			return fmt.Errorf("%s: Apply changed its input", at)
		}
		if next.ControlPlane.Less(state.ControlPlane) {
			return fmt.Errorf("%s: the control plane went down", at)
		}
		if problems := automation.CheckSkew(next); problems != nil {
			return fmt.Errorf("%s: leaves the cluster skew-invalid: %v", at, problems)
		}
		state = next
	}
	if state.ControlPlane != target {
		return fmt.Errorf("the plan ends with the control plane at %s, not %s", state.ControlPlane, target)
	}
	for n, v := range state.Pools {
		if v != target {
			return fmt.Errorf("the plan ends with pool %q at %s, not %s", n, v, target)
		}
	}
	if want := target.Sub(c.ControlPlane); cpSteps != want {
		return fmt.Errorf("%d control-plane steps, want %d", cpSteps, want)
	}
	if want := target.Sub(c.Nodes()); len(c.Pools) > 0 && poolSteps != want {
		return fmt.Errorf("%d node-pool steps, want %d", poolSteps, want)
	}
	return nil
}

// poolOrderProblem checks a node-pools step's order: every fallback pool before the
// spot pool it backs and before any other pool, the spot pools backed by a pool of c
// next, then the rest, each group by name.
func poolOrderProblem(pools []string, c automation.ClusterVersions) error {
	pos := map[string]int{}
	for i, p := range pools {
		pos[p] = i
	}
	for fb, sp := range c.FallbackFor {
		if i, ok := pos[fb]; ok {
			if j, ok := pos[sp]; ok && j < i {
				return fmt.Errorf("spot pool %q before its fallback %q: %v", sp, fb, pools)
			}
		}
	}
	rank := func(p string) int {
		if _, ok := c.FallbackFor[p]; ok {
			return 0
		}
		for fb, sp := range c.FallbackFor {
			if _, isPool := c.Pools[fb]; sp == p && isPool {
				return 1
			}
		}
		return 2
	}
	for i := 1; i < len(pools); i++ {
		a, b := pools[i-1], pools[i]
		if ra, rb := rank(a), rank(b); ra > rb || (ra == rb && a > b) {
			return fmt.Errorf("%q before %q: %v", a, b, pools)
		}
	}
	return nil
}

// randomCluster is a cluster with up to five pools anywhere from one minor ahead of its
// control plane to six behind (so that some are invalid), some spot pools backed by
// fallbacks, and a target from two minors behind the control plane to six ahead.
type randomCluster struct {
	C      automation.ClusterVersions
	Target automation.Minor
}

func (randomCluster) Generate(r *rand.Rand, _ int) reflect.Value {
	cp := 20 + r.Intn(16)
	c := automation.ClusterVersions{Stack: "s", Cluster: "c", ControlPlane: minor(cp)}
	n := r.Intn(6)
	if n > 0 {
		c.Pools = map[string]automation.Minor{}
	}
	for i := range n {
		c.Pools[fmt.Sprintf("pool-%d", i)] = minor(cp + 1 - r.Intn(8))
	}
	for i := 0; i+1 < n; i += 2 {
		if r.Intn(2) == 0 {
			if c.FallbackFor == nil {
				c.FallbackFor = map[string]string{}
			}
			c.FallbackFor[fmt.Sprintf("pool-%d", i+1)] = fmt.Sprintf("pool-%d", i)
		}
	}
	return reflect.ValueOf(randomCluster{C: c, Target: minor(cp - 2 + r.Intn(9))})
}

// planVerdict is what PlanCluster must answer for c and target: a refusal of the right
// kind, or a plan that passes planProblem.
func planVerdict(c automation.ClusterVersions, target automation.Minor) error {
	before := clone(c)
	steps, err := automation.PlanCluster(c, target)
	if !reflect.DeepEqual(before, c) {
		return fmt.Errorf("PlanCluster changed its input")
	}
	validTarget := target.Major >= 1 && target.Minor >= 0
	switch {
	case !validTarget || (automation.CheckSkew(c) == nil && !target.Less(c.ControlPlane) &&
		(target.Major != c.ControlPlane.Major || target.Sub(c.ControlPlane) > 50)):
		if !automation.IsUnreachable(err) {
			return fmt.Errorf("%+v → %s: want an unreachable target, got %w", c, target, err)
		}
	case automation.CheckSkew(c) != nil:
		if !automation.IsSkewViolation(err) {
			return fmt.Errorf("%+v → %s: want a skew violation, got %w", c, target, err)
		}
	case target.Less(c.ControlPlane):
		if !automation.IsDowngrade(err) {
			return fmt.Errorf("%+v → %s: want a downgrade, got %w", c, target, err)
		}
	default:
		if err != nil {
			return fmt.Errorf("%+v → %s: %w", c, target, err)
		}
		return planProblem(c, target, steps)
	}
	if steps != nil {
		return fmt.Errorf("%+v → %s: steps with a refusal", c, target)
	}
	return nil
}

func TestPlanClusterProperty(t *testing.T) {
	t.Parallel()
	var failure error
	prop := func(rc randomCluster) bool {
		failure = planVerdict(rc.C, rc.Target)
		return failure == nil
	}
	err := quick.Check(prop, &quick.Config{MaxCount: 3000, Rand: rand.New(rand.NewSource(731))})
	require.NoError(t, err, "%v", failure)
}

func isSpot(fallbackFor map[string]string, pool string) bool {
	for _, sp := range fallbackFor {
		if sp == pool {
			return true
		}
	}
	return false
}

// FuzzPlanCluster builds a cluster from the fuzzer's bytes: a control plane, each byte
// of pools one pool from one minor ahead of it to six behind, each byte of fallbacks a
// pool backing another, and any target at all.
func FuzzPlanCluster(f *testing.F) {
	f.Add(uint8(31), []byte{1, 1, 1}, []byte{0x21}, uint8(1), int16(32))
	f.Add(uint8(31), []byte{4}, []byte{}, uint8(1), int16(32))
	f.Add(uint8(29), []byte{1, 2, 3, 4}, []byte{0x10, 0x32}, uint8(1), int16(32))
	f.Add(uint8(31), []byte{0}, []byte{}, uint8(1), int16(31))
	f.Add(uint8(31), []byte{1}, []byte{}, uint8(1), int16(30))
	f.Add(uint8(31), []byte{}, []byte{}, uint8(2), int16(0))
	f.Add(uint8(0), []byte{1}, []byte{}, uint8(0), int16(-1))
	f.Fuzz(func(t *testing.T, cp uint8, pools, fallbacks []byte, targetMajor uint8, targetMinor int16) {
		c := automation.ClusterVersions{Stack: "s", Cluster: "c", ControlPlane: minor(int(cp % 64))}
		if len(pools) > 8 {
			pools = pools[:8]
		}
		if len(pools) > 0 {
			c.Pools = map[string]automation.Minor{}
		}
		for i, b := range pools {
			c.Pools[fmt.Sprintf("p%d", i)] = minor(int(cp%64) + 1 - int(b%8))
		}
		for _, b := range fallbacks {
			if len(pools) == 0 {
				break
			}
			fb, sp := fmt.Sprintf("p%d", int(b>>4)%len(pools)), fmt.Sprintf("p%d", int(b&0xf)%len(pools))
			// As a SpotNodePool makes them: a pool is a fallback or a spot pool, not both.
			if fb == sp || isSpot(c.FallbackFor, fb) || c.FallbackFor[sp] != "" {
				continue
			}
			if c.FallbackFor == nil {
				c.FallbackFor = map[string]string{}
			}
			c.FallbackFor[fb] = sp
		}
		target := automation.Minor{Major: int(targetMajor % 3), Minor: int(targetMinor)}
		if err := planVerdict(c, target); err != nil {
			t.Fatal(err)
		}
	})
}
