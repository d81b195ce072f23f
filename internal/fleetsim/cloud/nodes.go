package cloud

import (
	"fmt"
	"hash/fnv"
	"maps"
	"math"
	"slices"
	"strings"

	"github.com/flotilla-io/flotilla/internal/fleetsim/simapi"
)

// spotShort reports whether a spot shortage covers zone (of region).
func (s *State) spotShort(region, zone string) bool {
	for _, sh := range s.Faults.SpotShortages {
		if sh.Region == region && (sh.Zone == "" || sh.Zone == zone) {
			return true
		}
	}
	return false
}

// spread splits total nodes over n zones, the first zones taking the remainder.
func spread(total, n int) []int {
	out := make([]int, n)
	if n == 0 {
		return out
	}
	for i := range out {
		out[i] = total / n
		if i < total%n {
			out[i]++
		}
	}
	return out
}

// hasNodes reports whether a pool in this status runs nodes: a pool being created has
// none yet and one being deleted has drained.
func hasNodes(p *NodePool) bool { return p.Status == StatusActive || p.Status == StatusUpdating }

// zoneCounts returns how many ready nodes a pool has in each of its zones. For spot
// pools it follows the desired size minus the zones in shortage; for on-demand pools it
// spreads ReadyNodes, which derive computed (desired plus what a fallback took over).
func (s *State) zoneCounts(p *NodePool, c *Cluster) []int {
	if !hasNodes(p) {
		return make([]int, len(p.Zones))
	}
	if p.CapacityType != Spot {
		return spread(p.ReadyNodes, len(p.Zones))
	}
	counts := spread(p.DesiredSize, len(p.Zones))
	for i, z := range p.Zones {
		if s.spotShort(c.Region, z) {
			counts[i] = 0
		}
	}
	return counts
}

// Fallbacks maps each spot pool's id to the id of the on-demand pool that backs it: the
// on-demand pool of the same cluster whose fallbackFor names it, else one whose
// flotilla.io/pool label equals the spot pool's (the first by name in both cases).
func (s *State) Fallbacks() map[string]string {
	out := map[string]string{}
	for _, c := range s.sortedClusters() {
		pools := s.PoolsOf(c.ID)
		for _, sp := range pools {
			if sp.CapacityType != Spot {
				continue
			}
			for _, f := range pools {
				if f.CapacityType == OnDemand && f.FallbackFor == sp.Name {
					out[sp.ID] = f.ID
					break
				}
			}
			if _, ok := out[sp.ID]; ok {
				continue
			}
			label := sp.Labels[LabelPool]
			if label == "" {
				continue
			}
			for _, f := range pools {
				if f.CapacityType == OnDemand && f.FallbackFor == "" && f.Labels[LabelPool] == label {
					out[sp.ID] = f.ID
					break
				}
			}
		}
	}
	return out
}

// derive recomputes ready nodes, fallback nodes, costs and shortage times. It plays the
// cluster-autoscaler's priority expander: when spot nodes are lost, the fallback pool
// scales up to cover them, within its max size, once the spot pool's provision timeout
// (scaled to real time) has passed.
func (s *State) derive(env Env) bool {
	changed := false
	lostBy := map[string]int{} // fallback pool id -> spot nodes it covers now
	fallbacks := s.Fallbacks()
	for _, p := range s.Pools {
		if p.CapacityType != Spot {
			continue
		}
		c := s.Clusters[p.ClusterID]
		ready := sum(s.zoneCounts(p, c))
		lost := 0
		if hasNodes(p) {
			lost = p.DesiredSize - ready
		}
		switch {
		case lost > 0 && p.ShortageSince == nil:
			now := env.Now
			p.ShortageSince = &now
			changed = true
		case lost == 0 && p.ShortageSince != nil:
			p.ShortageSince = nil
			changed = true
		}
		if p.ShortageSince != nil && !env.Now.Before(p.ShortageSince.Add(env.SimToReal(p.ProvisionTimeout))) {
			if f, ok := fallbacks[p.ID]; ok {
				lostBy[f] += lost
			}
		}
		changed = setPoolStatus(p, ready, 0) || changed
	}
	for _, p := range s.Pools {
		if p.CapacityType == Spot {
			continue
		}
		ready, extra := 0, 0
		if hasNodes(p) {
			ready = min(max(p.MaxSize, p.DesiredSize), p.DesiredSize+lostBy[p.ID])
			extra = ready - p.DesiredSize
		}
		changed = setPoolStatus(p, ready, extra) || changed
	}
	return changed
}

func setPoolStatus(p *NodePool, ready, fallback int) bool {
	cost := 0.0
	if len(p.InstanceTypes) > 0 {
		if t, err := LookupInstanceType(p.InstanceTypes[0]); err == nil {
			cost = math.Round(float64(ready)*t.Price(p.CapacityType)*10000) / 10000
		}
	}
	if p.ReadyNodes == ready && p.FallbackNodes == fallback && p.HourlyCost == cost {
		return false
	}
	p.ReadyNodes, p.FallbackNodes, p.HourlyCost = ready, fallback, cost
	return true
}

func sum(xs []int) int {
	t := 0
	for _, x := range xs {
		t += x
	}
	return t
}

// ClusterHourlyCost is a cluster's control-plane fee plus its pools' costs.
func (s *State) ClusterHourlyCost(clusterID string) float64 {
	if _, ok := s.Clusters[clusterID]; !ok {
		return 0
	}
	total := ControlPlaneHourly
	for _, p := range s.PoolsOf(clusterID) {
		total += p.HourlyCost
	}
	return math.Round(total*10000) / 10000
}

// maxNodeName is the longest node name: it is also the node's kubernetes.io/hostname
// label, whose values Kubernetes limits to 63 characters.
const maxNodeName = 63

// NodeName is the name of the k-th node of a pool in a zone while the pool runs version,
// e.g. "app-spot-v1-31-sim-east-1a-0": stable as long as the pool keeps its version, and
// new when an upgrade replaces the node. A pool name too long for the limit is cut and
// made unique again with a hash of it.
func NodeName(pool, version, zone string, k int) string {
	rest := fmt.Sprintf("-%s-%d", zone, k)
	if version != "" {
		rest = "-v" + strings.ReplaceAll(version, ".", "-") + rest
	}
	if len(pool)+len(rest) > maxNodeName {
		sum := fnv.New32a()
		_, _ = sum.Write([]byte(pool))
		tag := fmt.Sprintf("-%08x", sum.Sum32())
		pool = strings.TrimRight(pool[:max(maxNodeName-len(rest)-len(tag), 1)], "-") + tag
	}
	return pool + rest
}

// KubeletVersion is the kubelet version a node of a pool at version reports: the
// minor's first patch, as a managed cloud's node image would, e.g. "v1.31.0". An unknown version ("") leaves the kubelet's version to kwok.
func KubeletVersion(version string) string {
	if version == "" {
		return ""
	}
	return "v" + version + ".0"
}

// Nodes returns the cluster's ready nodes, as its Kubernetes API should show them: one
// per ready node, named by NodeName, with the pool's labels and taints, the well-known
// topology labels, the pool's own label (LabelNodePool), capacity from the
// instance-type table, and the pool's version as their kubelet's. Nodes run the pool's
// first instance type.
func (s *State) Nodes(clusterID string) []simapi.Node {
	c, ok := s.Clusters[clusterID]
	if !ok {
		return nil
	}
	var nodes []simapi.Node
	for _, p := range s.PoolsOf(clusterID) {
		if len(p.InstanceTypes) == 0 {
			continue
		}
		it, err := LookupInstanceType(p.InstanceTypes[0])
		if err != nil {
			continue
		}
		for i, n := range s.zoneCounts(p, c) {
			zone := p.Zones[i]
			for k := range n {
				name := NodeName(p.Name, p.Version, zone, k)
				labels := maps.Clone(p.Labels)
				if labels == nil {
					labels = map[string]string{}
				}
				if labels[LabelPool] == "" {
					labels[LabelPool] = p.Name
				}
				labels[LabelCapacity] = p.CapacityType
				labels[LabelInstanceType] = it.Name
				labels[LabelZone] = zone
				labels[LabelRegion] = c.Region
				labels[LabelHostname] = name
				labels[LabelNodePool] = p.Name
				nodes = append(nodes, simapi.Node{
					Name: name, Labels: labels, Taints: slices.Clone(p.Taints),
					MilliCPU: it.MilliCPU, MemoryBytes: it.MemoryBytes(), Pods: it.MaxPods,
					KubeletVersion: KubeletVersion(p.Version),
				})
			}
		}
	}
	return nodes
}
