package geofleet

import (
	"cmp"
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"slices"

	"github.com/flotilla-io/flotilla/components/cluster"
)

// The prefix lengths of the ranges PlanNetworks allocates. Every cluster gets the same
// slot on every cloud, so that an address space's capacity is one number; the package
// documentation gives the reasoning for each size.
const (
	VPCPrefixLen     = 20 // VPC, VNet or subnet primary range: the nodes
	PodPrefixLen     = 16 // pods
	ServicePrefixLen = 20 // Kubernetes services (ClusterIPs)
	// MasterPrefixLen is a GKE control plane's range (masterIpv4CidrBlock), which private
	// nodes require: a /28 clear of every range of the VPC. Only GKE clusters get one.
	MasterPrefixLen = 28
)

// slotAddrs is the number of addresses one allocated cluster takes.
const slotAddrs = 1<<(32-VPCPrefixLen) + 1<<(32-PodPrefixLen) + 1<<(32-ServicePrefixLen)

// privateBlocks are the RFC 1918 blocks an address space must lie in. EKS only accepts
// service ranges from them, and every range of a cluster comes from the one space.
var privateBlocks = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
}

// reservedRange is an address range a cluster must never use.
type reservedRange struct {
	prefix netip.Prefix
	why    string
}

// reserved are the defaults that break clusters or their neighbours when a range
// overlaps them. They are avoided on every cloud: a fleet's clusters are often peered,
// and a range that is harmless on one cloud is another cloud's default.
var reserved = []reservedRange{
	{netip.MustParsePrefix("10.0.0.0/16"), "AKS's default service range"},
	{netip.MustParsePrefix("10.100.0.0/16"), "EKS's default service range"},
	{netip.MustParsePrefix("10.244.0.0/16"), "the default pod range of AKS kubenet and overlay"},
	{netip.MustParsePrefix("34.118.224.0/20"), "GKE's default service range"},
	{netip.MustParsePrefix("169.254.0.0/16"), "link-local and instance metadata"},
	{netip.MustParsePrefix("172.17.0.0/16"), "Docker's default bridge"},
	{netip.MustParsePrefix("172.20.0.0/16"), "EKS's alternative default service range"},
}

// ExhaustedError reports a fleet that does not fit its address space. Callers branch on
// it with IsExhausted.
type ExhaustedError struct {
	AddressSpace string
	// Fits is how many of the fleet's clusters the space holds: those whose ranges it
	// already holds, plus how many new ones still fit.
	Fits int
	// Clusters is how many clusters need ranges from the space.
	Clusters int
	// NeedPrefixLen is the prefix length of the smallest block, free of reserved ranges,
	// that holds Clusters clusters planned from scratch.
	NeedPrefixLen int
	// Held counts clusters dropped from the fleet whose ranges are not reused until the
	// next plan.
	Held int
}

// Error says how many clusters fit and how big a block the fleet needs.
func (e *ExhaustedError) Error() string {
	need := "need"
	if e.Clusters == 1 {
		need = "needs"
	}
	msg := fmt.Sprintf("address space %q fits %s; %s %s at least a /%d",
		e.AddressSpace, clusters(e.Fits), clusters(e.Clusters), need, e.NeedPrefixLen)
	space, err := netip.ParsePrefix(e.AddressSpace)
	switch {
	case e.NeedPrefixLen < 8:
		msg += ", larger than 10.0.0.0/8: split the fleet across environments"
	case err == nil && space.Bits() <= e.NeedPrefixLen:
		msg += fmt.Sprintf("; this /%d is big enough, but reserved ranges and ranges already in use leave too little room", space.Bits())
	}
	if e.Held > 0 {
		msg += fmt.Sprintf(" (ranges of %s removed or renumbered in this plan stay held until the next one)", clusters(e.Held))
	}
	return msg
}

func clusters(n int) string {
	if n == 1 {
		return "1 cluster"
	}
	return fmt.Sprintf("%d clusters", n)
}

// IsExhausted reports whether err says that a fleet does not fit its address space.
func IsExhausted(err error) bool {
	var e *ExhaustedError
	return errors.As(err, &e)
}

// PlanNetworks gives every cluster its VPC, pod and service ranges from addressSpace,
// keyed by cluster name (ClusterSpec.Name, or "<cloud>-<region>").
//
// A cluster keeps the ranges it has in previous, the plan the fleet was last deployed
// with; an explicit ClusterSpec.Network wins over both. Clusters that have neither get
// the lowest free slots, in order of name. So a cluster's ranges depend only on its own
// name and on previous: adding or removing other clusters never moves them, which
// matters because no cloud can change a cluster's service range without replacing it.
// Ranges in previous that no cluster keeps (a cluster removed, or given an explicit
// Network) are not handed out again in the same plan, so a cluster being deleted and
// one being created never share addresses.
//
// Every problem is returned at once: a malformed or non-RFC 1918 address space,
// duplicate or missing names, malformed ranges, ranges that overlap each other (within
// a cluster or across the fleet) or a known default (Docker's bridge, the clouds'
// default service and pod ranges, link-local), and kept ranges that lie outside the
// space. A fleet that does not fit is an *ExhaustedError.
func PlanNetworks(addressSpace string, clusters []ClusterSpec, previous map[string]cluster.Network) (map[string]cluster.Network, error) {
	var problems []error
	space, err := parseSpace(addressSpace)
	if err != nil {
		problems = append(problems, err)
	}
	names, err := clusterNames(clusters)
	if err != nil {
		problems = append(problems, err)
	}

	plan := make(map[string]cluster.Network, len(clusters))
	var fixed []labelled    // ranges the plan must keep: explicit and previous
	var fresh []string      // clusters that need new ranges
	var masterless []string // GKE clusters that keep ranges but have no control-plane range
	gke := map[string]bool{}
	taken := map[string]bool{}
	for i, spec := range clusters {
		name := names[i]
		if name == "" {
			continue // reported by clusterNames
		}
		gke[name] = spec.Cloud == cluster.GCP
		switch prev, ok := previous[name]; {
		case spec.Network != nil:
			n := *spec.Network
			if gke[name] && n.MasterCIDR == "" && ok && sameRanges(prev, n) {
				n.MasterCIDR = prev.MasterCIDR // an explicit network keeps its planned /28
			}
			ranges, err := parseNetwork(name, "", n)
			problems = append(problems, err...)
			fixed = append(fixed, ranges...)
			plan[name] = n
			taken[name] = ok && prev == n
			if gke[name] && n.MasterCIDR == "" {
				masterless = append(masterless, name)
			}
		case ok:
			ranges, err := parseNetwork(name, "previous ", prev)
			problems = append(problems, err...)
			for _, r := range ranges {
				if space.IsValid() && !contains(space, r.prefix) {
					problems = append(problems, fmt.Errorf("%s lies outside address space %q", r, addressSpace))
				}
			}
			fixed = append(fixed, ranges...)
			plan[name] = prev
			taken[name] = true
			if gke[name] && prev.MasterCIDR == "" {
				// A plan pinned before GKE clusters got a /28 keeps its ranges and gains one.
				masterless = append(masterless, name)
			}
		default:
			fresh = append(fresh, name)
		}
	}
	problems = append(problems, overlaps(fixed)...)
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}

	a := newAllocator(space)
	for _, r := range reserved {
		a.hold(r.prefix)
	}
	for _, r := range fixed {
		a.hold(r.prefix)
	}
	held := 0
	for name, prev := range previous {
		if taken[name] {
			continue
		}
		ranges, _ := parseNetwork(name, "", prev) // only holds space; any it cannot parse holds none
		for _, r := range ranges {
			a.hold(r.prefix)
		}
		if len(ranges) > 0 {
			held++
		}
	}

	slices.Sort(fresh)
	for i, name := range fresh {
		n, ok := a.slot()
		if !ok {
			// Every new slot is the same request, so the first that fails is the last
			// that could have fit.
			placed := map[string]bool{}
			for _, r := range fixed {
				if r.prefix.Overlaps(space) {
					placed[r.cluster] = true
				}
			}
			inSpace := len(placed)
			return nil, &ExhaustedError{
				AddressSpace:  addressSpace,
				Fits:          inSpace + i,
				Clusters:      inSpace + len(fresh),
				NeedPrefixLen: needPrefixLen(inSpace + len(fresh)),
				Held:          held,
			}
		}
		plan[name] = n
		if gke[name] {
			masterless = append(masterless, name)
		}
	}
	// GKE control planes' /28s come after every slot, from the top of the space down, so
	// that a cluster's three ranges are the same whichever clouds the fleet's clusters
	// are on, and the /28s never split the blocks that later slots take from below.
	slices.Sort(masterless)
	for _, name := range masterless {
		m, ok := a.takeHighest(MasterPrefixLen)
		if !ok {
			return nil, fmt.Errorf("cluster %q: address space %q has no free /%d left for the GKE control plane: set Network.MasterCIDR", name, addressSpace, MasterPrefixLen)
		}
		n := plan[name]
		n.MasterCIDR = m.String()
		plan[name] = n
	}
	return plan, nil
}

// sameRanges reports whether a and b have the same VPC, pod and service ranges.
func sameRanges(a, b cluster.Network) bool {
	return a.VPCCIDR == b.VPCCIDR && a.PodCIDR == b.PodCIDR && a.ServiceCIDR == b.ServiceCIDR
}

// needPrefixLen is the prefix length of the smallest block that holds n slots: slot
// sizes are powers of two and are packed without gaps, so size is the only limit.
func needPrefixLen(n int) int {
	total := uint64(n) * slotAddrs
	return 32 - bits.Len64(total-1)
}

func parseSpace(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	switch {
	case err != nil:
		return netip.Prefix{}, fmt.Errorf("address space %q is not a CIDR block such as \"10.32.0.0/11\"", s)
	case !p.Addr().Is4():
		return netip.Prefix{}, fmt.Errorf("address space %q is not IPv4: clusters are planned in IPv4 private space", s)
	case p != p.Masked():
		return netip.Prefix{}, fmt.Errorf("address space %q has host bits set; did you mean %q?", s, p.Masked().String())
	}
	for _, b := range privateBlocks {
		if contains(b, p) {
			return p, nil
		}
	}
	return netip.Prefix{}, fmt.Errorf("address space %q is not inside an RFC 1918 block (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)", s)
}

// clusterNames resolves every spec's name, reporting missing and duplicate ones.
func clusterNames(clusters []ClusterSpec) ([]string, error) {
	var problems []error
	names := make([]string, len(clusters))
	first := map[string]int{}
	for i, spec := range clusters {
		name := spec.key()
		if name == "" {
			problems = append(problems, fmt.Errorf("cluster %d has no Name, and no Cloud and Region to derive one from", i))
			continue
		}
		if j, dup := first[name]; dup {
			problems = append(problems, fmt.Errorf("clusters %d and %d are both named %q", j, i, name))
			continue
		}
		first[name] = i
		names[i] = name
	}
	return names, errors.Join(problems...)
}

type rangeKind int

const (
	vpcRange rangeKind = iota
	podRange
	serviceRange
	masterRange
	reservedKind
)

// labelled is a range with what it is for, so errors can name both sides.
type labelled struct {
	prefix  netip.Prefix
	cluster string
	kind    rangeKind
	source  string // "" or "previous "
	why     string // for reserved ranges
}

func (l labelled) String() string {
	switch l.kind {
	case vpcRange:
		return fmt.Sprintf("cluster %q %sVPC range %q", l.cluster, l.source, l.prefix)
	case podRange:
		return fmt.Sprintf("cluster %q %spod range %q", l.cluster, l.source, l.prefix)
	case serviceRange:
		return fmt.Sprintf("cluster %q %sservice range %q", l.cluster, l.source, l.prefix)
	case masterRange:
		return fmt.Sprintf("cluster %q %scontrol-plane range %q", l.cluster, l.source, l.prefix)
	default:
		return fmt.Sprintf("reserved range %q (%s)", l.prefix, l.why)
	}
}

// parseNetwork parses a cluster's three ranges, and its control-plane range when it has
// one; each must be a canonical IPv4 prefix.
func parseNetwork(name, source string, n cluster.Network) ([]labelled, []error) {
	var out []labelled
	var problems []error
	type field struct {
		kind  rangeKind
		field string
		value string
	}
	fields := []field{
		{vpcRange, "VPCCIDR", n.VPCCIDR},
		{podRange, "PodCIDR", n.PodCIDR},
		{serviceRange, "ServiceCIDR", n.ServiceCIDR},
	}
	if n.MasterCIDR != "" {
		fields = append(fields, field{masterRange, "MasterCIDR", n.MasterCIDR})
	}
	for _, f := range fields {
		p, err := netip.ParsePrefix(f.value)
		switch {
		case err != nil || !p.Addr().Is4():
			problems = append(problems, fmt.Errorf("cluster %q %s%s %q is not an IPv4 CIDR block", name, source, f.field, f.value))
		case p != p.Masked():
			problems = append(problems, fmt.Errorf("cluster %q %s%s %q has host bits set; did you mean %q?", name, source, f.field, f.value, p.Masked().String()))
		default:
			out = append(out, labelled{prefix: p, cluster: name, kind: f.kind, source: source})
		}
	}
	return out, problems
}

// overlaps reports every range that overlaps another or a reserved default. CIDR
// blocks either nest or are disjoint, so after sorting by address (wider first), a
// stack of the blocks that enclose the current one finds every overlap in one pass.
func overlaps(ranges []labelled) []error {
	all := make([]*labelled, 0, len(ranges)+len(reserved))
	for i := range ranges {
		all = append(all, &ranges[i])
	}
	for _, r := range reserved {
		all = append(all, &labelled{prefix: r.prefix, kind: reservedKind, why: r.why})
	}
	slices.SortFunc(all, func(a, b *labelled) int {
		return cmp.Or(
			a.prefix.Addr().Compare(b.prefix.Addr()),
			cmp.Compare(a.prefix.Bits(), b.prefix.Bits()),
			cmp.Compare(a.kind, b.kind),
			cmp.Compare(a.cluster, b.cluster),
		)
	})
	var problems []error
	var enclosing []*labelled
	for _, r := range all {
		for len(enclosing) > 0 && !contains(enclosing[len(enclosing)-1].prefix, r.prefix) {
			enclosing = enclosing[:len(enclosing)-1]
		}
		for _, outer := range enclosing {
			switch {
			case outer.kind == reservedKind && r.kind == reservedKind:
			case r.kind == reservedKind:
				problems = append(problems, fmt.Errorf("%s overlaps %s", outer, r))
			default:
				problems = append(problems, fmt.Errorf("%s overlaps %s", r, outer))
			}
		}
		enclosing = append(enclosing, r)
	}
	return problems
}

// contains reports whether outer contains all of inner.
func contains(outer, inner netip.Prefix) bool {
	return outer.Bits() <= inner.Bits() && outer.Contains(inner.Addr())
}

// interval is an inclusive range of IPv4 addresses as integers.
type interval struct{ lo, hi uint64 }

// allocator hands out the lowest free aligned blocks of a space. used is sorted and
// merged, so one pass finds the first gap that fits.
type allocator struct {
	space interval
	used  []interval
}

func newAllocator(space netip.Prefix) *allocator {
	return &allocator{space: toInterval(space)}
}

func toInterval(p netip.Prefix) interval {
	b := p.Masked().Addr().As4()
	lo := uint64(b[0])<<24 | uint64(b[1])<<16 | uint64(b[2])<<8 | uint64(b[3])
	return interval{lo: lo, hi: lo + 1<<(32-p.Bits()) - 1}
}

func toPrefix(lo uint64, prefixLen int) netip.Prefix {
	addr := netip.AddrFrom4([4]byte{byte(lo >> 24), byte(lo >> 16), byte(lo >> 8), byte(lo)})
	return netip.PrefixFrom(addr, prefixLen)
}

// hold marks a range as used; ranges outside the space are harmless.
func (a *allocator) hold(p netip.Prefix) {
	a.insert(toInterval(p))
}

func (a *allocator) insert(iv interval) {
	i, _ := slices.BinarySearchFunc(a.used, iv.lo, func(u interval, lo uint64) int { return cmp.Compare(u.lo, lo) })
	// Merge with the neighbour before, then swallow every interval iv reaches.
	if i > 0 && a.used[i-1].hi+1 >= iv.lo {
		i--
		iv.lo = a.used[i].lo
		iv.hi = max(iv.hi, a.used[i].hi)
	}
	j := i
	for j < len(a.used) && a.used[j].lo <= iv.hi+1 {
		iv.hi = max(iv.hi, a.used[j].hi)
		j++
	}
	a.used = slices.Replace(a.used, i, j, iv)
}

// take returns the lowest free block of the given prefix length, and holds it.
func (a *allocator) take(prefixLen int) (netip.Prefix, bool) {
	size := uint64(1) << (32 - prefixLen)
	at := alignUp(a.space.lo, size)
	i, _ := slices.BinarySearchFunc(a.used, at, func(u interval, lo uint64) int { return cmp.Compare(u.hi, lo) })
	for ; i < len(a.used); i++ {
		u := a.used[i]
		if u.lo > at+size-1 {
			break
		}
		if u.hi >= at {
			at = alignUp(u.hi+1, size)
		}
	}
	if at+size-1 > a.space.hi {
		return netip.Prefix{}, false
	}
	a.insert(interval{lo: at, hi: at + size - 1})
	return toPrefix(at, prefixLen), true
}

// takeHighest returns the highest free block of the given prefix length, and holds it.
func (a *allocator) takeHighest(prefixLen int) (netip.Prefix, bool) {
	size := uint64(1) << (32 - prefixLen)
	if a.space.hi+1-a.space.lo < size {
		return netip.Prefix{}, false
	}
	at := (a.space.hi + 1 - size) &^ (size - 1)
	for i := len(a.used) - 1; i >= 0; i-- {
		u := a.used[i]
		if u.hi < at {
			break // used is sorted, so everything below is lower still
		}
		if u.lo > at+size-1 {
			continue
		}
		if u.lo < a.space.lo+size {
			return netip.Prefix{}, false
		}
		at = (u.lo - size) &^ (size - 1)
	}
	if at < a.space.lo {
		return netip.Prefix{}, false
	}
	a.insert(interval{lo: at, hi: at + size - 1})
	return toPrefix(at, prefixLen), true
}

// slot takes one cluster's ranges. The small ranges go first so that they pack into
// the start of the space, below the pod ranges, and the space fills without gaps.
func (a *allocator) slot() (cluster.Network, bool) {
	saved := slices.Clone(a.used)
	vpc, ok1 := a.take(VPCPrefixLen)
	svc, ok2 := a.take(ServicePrefixLen)
	pod, ok3 := a.take(PodPrefixLen)
	if !ok1 || !ok2 || !ok3 {
		a.used = saved
		return cluster.Network{}, false
	}
	return cluster.Network{VPCCIDR: vpc.String(), PodCIDR: pod.String(), ServiceCIDR: svc.String()}, true
}

func alignUp(x, size uint64) uint64 {
	return (x + size - 1) &^ (size - 1)
}
