package cluster

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// defaultNetworks are the address plans a cluster gets for the Network fields left empty.
// Each keeps clear of the cloud's own service default and of Docker's bridge.
var defaultNetworks = map[Cloud]Network{
	// Pods get VPC addresses through the VPC CNI's custom networking, from a secondary
	// block in the carrier-grade NAT range that EKS recommends for pods.
	AWS: {VPCCIDR: "10.0.0.0/16", PodCIDR: "100.64.0.0/16", ServiceCIDR: "172.20.0.0/16"},
	GCP: {VPCCIDR: "10.0.0.0/16", PodCIDR: "10.4.0.0/14", ServiceCIDR: "10.8.0.0/20"},
	// AKS's own defaults for the overlay pod range and the service range.
	Azure: {VPCCIDR: "10.224.0.0/16", PodCIDR: "10.244.0.0/16", ServiceCIDR: "10.0.0.0/16"},
	Sim:   {VPCCIDR: "10.0.0.0/16", PodCIDR: "10.244.0.0/16", ServiceCIDR: "10.96.0.0/12"},
}

// cloudServiceDefaults are the service ranges a cloud assigns when it is given none. When
// ours differ, no range of the cluster may overlap them.
var cloudServiceDefaults = map[Cloud][]string{
	AWS:   {"10.100.0.0/16", "172.20.0.0/16"},
	GCP:   {"34.118.224.0/20"},
	Azure: {"10.0.0.0/16"},
}

// dockerBridge is Docker's default bridge network: a cluster range that overlaps it makes
// pods on nodes that run Docker unreachable.
const dockerBridge = "172.17.0.0/16"

// privateBlocks are the RFC 1918 ranges, and cgnat the shared address space (RFC 6598).
var (
	privateBlocks = []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
	}
	cgnat = netip.MustParsePrefix("100.64.0.0/10")
)

// parseCIDR parses an IPv4 CIDR and refuses host bits, which usually mean a typo.
func parseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR such as 10.0.0.0/16", s)
	}
	if !p.Addr().Is4() {
		return netip.Prefix{}, fmt.Errorf("%q is not an IPv4 range; Flotilla clusters are IPv4", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set; did you mean %q?", s, p.Masked().String())
	}
	return p, nil
}

// within returns the block of blocks that contains p, if any.
func within(p netip.Prefix, blocks []netip.Prefix) (netip.Prefix, bool) {
	for _, b := range blocks {
		if b.Bits() <= p.Bits() && b.Contains(p.Addr()) {
			return b, true
		}
	}
	return netip.Prefix{}, false
}

// subnet returns the num-th subnet of p that is newBits longer, like Terraform's cidrsubnet.
func subnet(p netip.Prefix, newBits, num int) netip.Prefix {
	bits := p.Bits() + newBits
	base := binary.BigEndian.Uint32(p.Addr().AsSlice())
	base += uint32(num) << (32 - bits)
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], base)
	return netip.PrefixFrom(netip.AddrFrom4(b), bits)
}

// host returns the n-th address of p.
func host(p netip.Prefix, n int) netip.Addr {
	base := binary.BigEndian.Uint32(p.Addr().AsSlice()) + uint32(n)
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], base)
	return netip.AddrFrom4(b)
}
