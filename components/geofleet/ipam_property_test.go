package geofleet

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/cluster"
)

// Property tests: random fleets from fixed seeds, so that a failure reproduces.

// spaces are address spaces the random fleets are planned in, from roomy to tight; the
// large ones contain reserved defaults the planner must skip.
var spaces = []string{
	"10.0.0.0/8", "10.128.0.0/9", "10.64.0.0/10", "10.32.0.0/11",
	"172.16.0.0/12", "10.96.0.0/12", "10.100.0.0/14", "192.168.0.0/16",
}

// randomNames returns n distinct names, avoiding those in taken.
func randomNames(r *rand.Rand, n int, taken map[string]bool) []string {
	var out []string
	for len(out) < n {
		name := fmt.Sprintf("c-%06d", r.IntN(1_000_000))
		if taken[name] {
			continue
		}
		taken[name] = true
		out = append(out, name)
	}
	return out
}

// fleetSize is a random fleet size up to 200 that mostly fits space, so that most
// fleets get planned and some run out of room.
func fleetSize(r *rand.Rand, space string) int {
	roomy := int((uint64(1) << (32 - netip.MustParsePrefix(space).Bits())) / slotAddrs)
	if roomy < 1 || r.IntN(4) == 0 {
		return 1 + r.IntN(200)
	}
	return 1 + r.IntN(min(roomy, 200))
}

type ownedRange struct {
	prefix netip.Prefix
	owner  string
}

// rangesOf lists every range of a plan.
func rangesOf(t *testing.T, plan map[string]cluster.Network) []ownedRange {
	t.Helper()
	var out []ownedRange
	for name, n := range plan {
		cidrs := []string{n.VPCCIDR, n.PodCIDR, n.ServiceCIDR}
		if n.MasterCIDR != "" { // only GKE clusters have a control-plane range
			cidrs = append(cidrs, n.MasterCIDR)
		}
		for _, s := range cidrs {
			p, err := netip.ParsePrefix(s)
			require.NoError(t, err, "cluster %q", name)
			out = append(out, ownedRange{p, name})
		}
	}
	return out
}

// assertNoOverlap checks every pair of ranges in the plan, and each range against every
// reserved default, by brute force.
func assertNoOverlap(t *testing.T, plan map[string]cluster.Network) {
	t.Helper()
	all := rangesOf(t, plan)
	for _, r := range reserved {
		all = append(all, ownedRange{r.prefix, "reserved " + r.why})
	}
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			if all[i].prefix.Overlaps(all[j].prefix) {
				t.Fatalf("%s of %s overlaps %s of %s", all[i].prefix, all[i].owner, all[j].prefix, all[j].owner)
			}
		}
	}
}

// assertAllocated checks that a planned cluster got the documented sizes inside space.
func assertAllocated(t *testing.T, space netip.Prefix, name string, n cluster.Network) {
	t.Helper()
	for _, c := range []struct {
		cidr string
		bits int
	}{{n.VPCCIDR, VPCPrefixLen}, {n.PodCIDR, PodPrefixLen}, {n.ServiceCIDR, ServicePrefixLen}} {
		p := netip.MustParsePrefix(c.cidr)
		assert.Equal(t, c.bits, p.Bits(), "cluster %q range %s", name, c.cidr)
		assert.True(t, contains(space, p), "cluster %q range %s outside %s", name, c.cidr, space)
	}
}

// randomExplicit is a network of the documented sizes at random aligned places in space;
// it may well overlap something, which is what the test wants to see rejected.
func randomExplicit(r *rand.Rand, space netip.Prefix) cluster.Network {
	at := func(bits int) string {
		base := toInterval(space)
		size := uint64(1) << (32 - bits)
		n := (base.hi - base.lo + 1) / size
		return toPrefix(base.lo+size*r.Uint64N(n), bits).String()
	}
	return network(at(VPCPrefixLen), at(PodPrefixLen), at(ServicePrefixLen))
}

// overlapsAny is the brute-force oracle for whether fixed ranges collide.
func overlapsAny(networks []cluster.Network) bool {
	var all []netip.Prefix
	for _, n := range networks {
		for _, s := range []string{n.VPCCIDR, n.PodCIDR, n.ServiceCIDR} {
			all = append(all, netip.MustParsePrefix(s))
		}
	}
	for _, r := range reserved {
		all = append(all, r.prefix)
	}
	for i := range all {
		for j := i + 1; j < len(all); j++ {
			if all[i].Overlaps(all[j]) {
				return true
			}
		}
	}
	return false
}

func TestPropertyPlansNeverOverlap(t *testing.T) {
	t.Parallel()
	var planned, rejected, exhausted int
	for seed := range uint64(300) {
		r := rand.New(rand.NewPCG(seed, 1))
		space := spaces[r.IntN(len(spaces))]
		prefix := netip.MustParsePrefix(space)
		names := randomNames(r, fleetSize(r, space), map[string]bool{})
		specs := named(names...)
		var explicit []cluster.Network
		for range r.IntN(4) {
			i := r.IntN(len(specs))
			if specs[i].Network == nil && prefix.Bits() < PodPrefixLen {
				n := randomExplicit(r, prefix)
				specs[i].Network = &n
				explicit = append(explicit, n)
			}
		}

		plan, err := PlanNetworks(space, specs, nil)
		if overlapsAny(explicit) {
			require.Error(t, err, "seed %d: explicit networks overlap but the plan was accepted", seed)
			assert.False(t, IsExhausted(err), "seed %d", seed)
			rejected++
			continue
		}
		if IsExhausted(err) {
			exhausted++
			continue // TestPropertyExhaustion checks these
		}
		planned++
		require.NoError(t, err, "seed %d", seed)
		require.Len(t, plan, len(specs), "seed %d", seed)
		assertNoOverlap(t, plan)
		for _, s := range specs {
			if s.Network != nil {
				assert.Equal(t, *s.Network, plan[s.Name], "seed %d: explicit network of %q", seed, s.Name)
			} else {
				assertAllocated(t, prefix, s.Name, plan[s.Name])
			}
		}

		// The order clusters are listed in never matters.
		shuffled := slices.Clone(specs)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		again, err := PlanNetworks(space, shuffled, nil)
		require.NoError(t, err, "seed %d", seed)
		assert.Equal(t, plan, again, "seed %d: plan depends on the order of clusters", seed)
	}
	// The generator must reach every outcome, or the property proves little.
	t.Logf("planned %d, rejected overlapping explicit networks %d, exhausted %d", planned, rejected, exhausted)
	assert.Positive(t, planned)
	assert.Positive(t, rejected)
	assert.Positive(t, exhausted)
}

func TestPropertyAddingAndRemovingKeepsOtherRanges(t *testing.T) {
	t.Parallel()
	var fleets, replans, exhausted, keptAcrossRemoval int
	for seed := range uint64(100) {
		r := rand.New(rand.NewPCG(seed, 2))
		space := spaces[r.IntN(len(spaces)-1)] // not 192.168.0.0/16: it holds no cluster
		prefix := netip.MustParsePrefix(space)
		taken := map[string]bool{}
		fleet := randomNames(r, fleetSize(r, space), taken)
		fleets++
		var last map[string]cluster.Network

		for step := range 12 {
			var next []string
			var removed []string
			for _, name := range fleet {
				if last != nil && r.IntN(5) == 0 {
					removed = append(removed, name)
					continue
				}
				next = append(next, name)
			}
			added := randomNames(r, r.IntN(25), taken)
			next = append(next, added...)
			r.Shuffle(len(next), func(i, j int) { next[i], next[j] = next[j], next[i] })

			plan, err := PlanNetworks(space, named(next...), last)
			if err != nil {
				var ex *ExhaustedError
				require.ErrorAs(t, err, &ex, "seed %d step %d", seed, step)
				assert.Less(t, ex.Fits, ex.Clusters, "seed %d step %d", seed, step)
				assert.Equal(t, len(next), ex.Clusters, "seed %d step %d", seed, step)
				assert.Equal(t, len(removed), ex.Held, "seed %d step %d", seed, step)
				exhausted++
				if last == nil {
					break // the first fleet did not fit; nothing to keep stable
				}
				continue // the fleet stays as it was
			}
			require.Len(t, plan, len(next), "seed %d step %d", seed, step)
			assertNoOverlap(t, plan)
			if last != nil {
				replans++
				if len(removed) > 0 && len(added) > 0 {
					keptAcrossRemoval++
				}
			}
			for name, n := range last {
				if got, ok := plan[name]; ok {
					require.Equal(t, n, got, "seed %d step %d: cluster %q moved", seed, step, name)
				}
			}
			// Clusters added alongside a removal never get the removed clusters' ranges.
			held := map[string]cluster.Network{}
			for _, name := range removed {
				held[name] = last[name]
			}
			for _, name := range added {
				for _, mine := range rangesOf(t, map[string]cluster.Network{name: plan[name]}) {
					for _, theirs := range rangesOf(t, held) {
						require.False(t, mine.prefix.Overlaps(theirs.prefix),
							"seed %d step %d: %q got %s, still held by removed %q", seed, step, name, mine.prefix, theirs.owner)
					}
				}
				assertAllocated(t, prefix, name, plan[name])
			}
			fleet, last = next, plan
		}
	}
	t.Logf("%d fleets, %d replans (%d removing and adding at once), %d exhausted", fleets, replans, keptAcrossRemoval, exhausted)
	assert.Positive(t, replans)
	assert.Positive(t, keptAcrossRemoval)
	assert.Positive(t, exhausted)
}

func TestPropertyExhaustion(t *testing.T) {
	t.Parallel()
	var fitted, exhausted, tight int
	for seed := range uint64(200) {
		r := rand.New(rand.NewPCG(seed, 3))
		// Clean blocks (no reserved range inside) of every size from /9 down to /16,
		// and the spaces with reserved ranges inside.
		space := spaces[r.IntN(len(spaces))]
		if r.IntN(2) == 0 {
			space = fmt.Sprintf("10.128.0.0/%d", 10+r.IntN(7))
		}
		names := randomNames(r, 1+r.IntN(250), map[string]bool{})
		slices.Sort(names)

		_, err := PlanNetworks(space, named(names...), nil)
		if err == nil {
			assert.LessOrEqual(t, uint64(len(names))*slotAddrs, uint64(1)<<(32-netip.MustParsePrefix(space).Bits()),
				"seed %d: more clusters planned than addresses allow", seed)
			fitted++
			continue
		}
		var ex *ExhaustedError
		require.ErrorAs(t, err, &ex, "seed %d", seed)
		require.Less(t, ex.Fits, len(names), "seed %d", seed)
		exhausted++
		assert.Equal(t, len(names), ex.Clusters)
		assert.True(t, strings.HasPrefix(err.Error(), fmt.Sprintf("address space %q fits %s; %s need", space, clusters(ex.Fits), clusters(ex.Clusters))),
			"seed %d: %v", seed, err)
		assert.Contains(t, err.Error(), fmt.Sprintf("at least a /%d", ex.NeedPrefixLen))

		// Fits is exact: that many clusters plan, one more does not, with the same count.
		if ex.Fits > 0 {
			plan, err := PlanNetworks(space, named(names[:ex.Fits]...), nil)
			require.NoError(t, err, "seed %d: %d clusters were said to fit", seed, ex.Fits)
			assertNoOverlap(t, plan)
		}
		_, err = PlanNetworks(space, named(names[:ex.Fits+1]...), nil)
		var again *ExhaustedError
		require.ErrorAs(t, err, &again, "seed %d", seed)
		assert.Equal(t, ex.Fits, again.Fits, "seed %d", seed)

		// NeedPrefixLen is tight: a clean block of that size holds the fleet, one size
		// smaller does not. Clean blocks exist in 10.128.0.0/10 for /10 and smaller.
		if ex.NeedPrefixLen >= 10 {
			big := fmt.Sprintf("10.128.0.0/%d", ex.NeedPrefixLen)
			_, err := PlanNetworks(big, named(names...), nil)
			require.NoError(t, err, "seed %d: %d clusters should fit in %s", seed, len(names), big)
			small := fmt.Sprintf("10.128.0.0/%d", ex.NeedPrefixLen+1)
			_, err = PlanNetworks(small, named(names...), nil)
			require.True(t, IsExhausted(err), "seed %d: %d clusters should not fit in %s", seed, len(names), small)
			tight++
		} else {
			addrs := uint64(len(names)) * slotAddrs
			assert.LessOrEqual(t, addrs, uint64(1)<<(32-ex.NeedPrefixLen), "seed %d", seed)
			assert.Greater(t, addrs, uint64(1)<<(31-ex.NeedPrefixLen), "seed %d", seed)
		}
	}
	t.Logf("fitted %d, exhausted %d (need checked against clean blocks %d)", fitted, exhausted, tight)
	assert.Positive(t, fitted)
	assert.Positive(t, exhausted)
	assert.Positive(t, tight)
}

func TestPropertyPreviousIsValidated(t *testing.T) {
	t.Parallel()
	for seed := range uint64(100) {
		r := rand.New(rand.NewPCG(seed, 4))
		names := randomNames(r, 2+r.IntN(60), map[string]bool{})
		plan, err := PlanNetworks("10.0.0.0/8", named(names...), nil)
		require.NoError(t, err)

		// Give one cluster another's pod range: the plan must refuse, naming both.
		sort.Strings(names)
		a, b := names[0], names[1+r.IntN(len(names)-1)]
		bad := maps.Clone(plan)
		n := bad[a]
		n.PodCIDR = bad[b].PodCIDR
		bad[a] = n
		_, err = PlanNetworks("10.0.0.0/8", named(names...), bad)
		require.Error(t, err, "seed %d", seed)
		assert.False(t, IsExhausted(err))
		assert.Contains(t, err.Error(), fmt.Sprintf("cluster %q previous pod range %q", a, bad[b].PodCIDR))
		assert.Contains(t, err.Error(), fmt.Sprintf("cluster %q previous pod range %q", b, bad[b].PodCIDR))
	}
}

func BenchmarkPlanNetworks200(b *testing.B) {
	specs := named(manyNames(200)...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PlanNetworks("10.0.0.0/8", specs, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// The steady state: 200 clusters kept from the last plan and one added.
func BenchmarkPlanNetworks200WithPrevious(b *testing.B) {
	names := manyNames(201)
	previous, err := PlanNetworks("10.0.0.0/8", named(names[:200]...), nil)
	if err != nil {
		b.Fatal(err)
	}
	specs := named(names...)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := PlanNetworks("10.0.0.0/8", specs, previous); err != nil {
			b.Fatal(err)
		}
	}
}

// mixedFleet is a fleet of the given names on random clouds.
func mixedFleet(r *rand.Rand, names []string) []ClusterSpec {
	clouds := []cluster.Cloud{cluster.GCP, cluster.AWS, cluster.Azure, cluster.Sim}
	specs := make([]ClusterSpec, len(names))
	for i, n := range names {
		specs[i] = ClusterSpec{Name: n, Cloud: clouds[r.IntN(len(clouds))], Region: "r"}
	}
	return specs
}

// GKE control planes get a /28 that overlaps nothing: no range of any cluster, no
// reserved default. Plans pinned before the /28 existed keep their three ranges and gain
// one; a cluster's three ranges never depend on the clouds of the fleet.
func TestPropertyGKEControlPlanesNeverOverlap(t *testing.T) {
	t.Parallel()
	var planned, pinnedWithout, exhausted int
	for seed := range uint64(150) {
		r := rand.New(rand.NewPCG(seed, 5))
		space := spaces[r.IntN(len(spaces)-1)]
		prefix := netip.MustParsePrefix(space)
		taken := map[string]bool{}
		specs := mixedFleet(r, randomNames(r, fleetSize(r, space), taken))
		var last map[string]cluster.Network
		for step := range 6 {
			if step > 0 {
				specs = append(specs, mixedFleet(r, randomNames(r, r.IntN(10), taken))...)
			}
			previous := maps.Clone(last)
			for name, n := range previous {
				if r.IntN(3) == 0 && n.MasterCIDR != "" {
					n.MasterCIDR = "" // pinned before control-plane ranges were planned
					previous[name] = n
					pinnedWithout++
				}
			}
			plan, err := PlanNetworks(space, specs, previous)
			if err != nil {
				if IsExhausted(err) || strings.Contains(err.Error(), "no free /28") {
					exhausted++
					break
				}
				require.NoError(t, err, "seed %d step %d", seed, step)
			}
			planned++
			assertNoOverlap(t, plan)

			simOnly := slices.Clone(specs)
			for i := range simOnly {
				simOnly[i].Cloud = cluster.Sim
			}
			bare := map[string]cluster.Network{}
			for name, n := range previous {
				n.MasterCIDR = ""
				bare[name] = n
			}
			sim, err := PlanNetworks(space, simOnly, bare)
			require.NoError(t, err, "seed %d step %d", seed, step)
			for _, s := range specs {
				n := plan[s.Name]
				if s.Cloud != cluster.GCP {
					assert.Empty(t, n.MasterCIDR, "seed %d: %s cluster %q", seed, s.Cloud, s.Name)
				} else {
					m := netip.MustParsePrefix(n.MasterCIDR)
					assert.Equal(t, MasterPrefixLen, m.Bits(), "seed %d: cluster %q", seed, s.Name)
					assert.True(t, contains(prefix, m), "seed %d: %s outside %s", seed, m, space)
					if prev, ok := previous[s.Name]; ok && prev.MasterCIDR != "" {
						assert.Equal(t, prev.MasterCIDR, n.MasterCIDR, "seed %d: cluster %q /28 moved", seed, s.Name)
					}
				}
				assert.True(t, sameRanges(sim[s.Name], n), "seed %d: cluster %q ranges depend on clouds", seed, s.Name)
				if prev, ok := previous[s.Name]; ok {
					assert.True(t, sameRanges(prev, n), "seed %d: cluster %q moved", seed, s.Name)
				}
			}
			last = plan
		}
	}
	t.Logf("planned %d, pinned without a /28 %d, exhausted %d", planned, pinnedWithout, exhausted)
	assert.Positive(t, planned)
	assert.Positive(t, pinnedWithout)
}
