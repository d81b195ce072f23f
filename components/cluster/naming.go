package cluster

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"
)

// Node labels every Flotilla node pool carries. A workload selects a pool with LabelPool.
const (
	LabelPool     = "flotilla.io/pool"
	LabelCapacity = "flotilla.io/capacity"
)

// SystemPoolName is the name of every cluster's on-demand system pool (EKS node group, GKE
// node pool, AKS agent pool) and the value of its LabelPool label. No spot pool may use it.
const SystemPoolName = "system"

// Capacity is how a node group's machines are bought; it is the value of LabelCapacity.
type Capacity string

// The capacities a Flotilla node group can have.
const (
	Spot     Capacity = "spot"
	OnDemand Capacity = "on-demand"
)

// The priorities the cluster-autoscaler's priority expander gives Flotilla's node groups:
// every spot group ranks above every fallback group, so spot is tried first and the
// fallback only once spot has not come up within the cluster's MaxNodeProvisionTime.
//
// The system group ranks between them. The upstream expander takes the highest priority
// among the groups that fit a pending pod and drops every group no regex names
// (kubernetes/autoscaler cluster-autoscaler/expander/priority): a pod aimed at a spot
// pool fits neither the system group (its LabelPool selector) nor another pool's, so its
// spot group is tried and then its fallback; any other pod fits no spot group (their
// taint) and would scale an untainted fallback if the system group ranked below it.
const (
	spotPriority     = 50
	systemPriority   = 30
	fallbackPriority = 10
)

// The suffixes that mark a node group's capacity in its name. AKS agent pool names are at
// most 12 lowercase alphanumerics, so they get short suffixes without a hyphen.
const (
	spotSuffix          = "spot"
	fallbackSuffix      = "fallback"
	azureFallbackSuffix = "fall"
)

// Name limits of the clouds' node groups.
const (
	eksNodeGroupMax = 63 // EKS node group names
	gkeNodePoolMax  = 40 // GKE node pool names
	aksBaseMax      = 7  // AKS: 12 characters = base + one index digit + a four-letter suffix
)

// uuidPattern matches the node group UUID EKS appends to the Auto Scaling group's name.
const uuidPattern = `[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`

// GroupName returns the cloud name of one capacity of a Flotilla spot pool called pool: an
// EKS node group, a GKE node pool or an AKS agent pool. On GCP and Azure a node pool has a
// single machine size, so a spot pool has one group per instance type and index picks it;
// on AWS one node group takes every instance type and index is ignored.
//
// The names follow the convention the cluster's priority-expander ConfigMap matches:
//
//	AWS   <pool>-spot, <pool>-fallback          (Auto Scaling group eks-<name>-<uuid>)
//	GCP   <pool>-spot-<index>, <pool>-fallback-<index>
//	Azure <base><index>spot, <base><index>fall  (scale set aks-<name>-<digits>-vmss)
func GroupName(cloud Cloud, pool string, capacity Capacity, index int) string {
	suffix := spotSuffix
	if capacity != Spot {
		suffix = fallbackSuffix
	}
	switch cloud {
	case GCP:
		tail := fmt.Sprintf("-%s-%d", suffix, index)
		return dnsLabel(pool, gkeNodePoolMax-len(tail)) + tail
	case Azure:
		if capacity != Spot {
			suffix = azureFallbackSuffix
		}
		return alnumBase(pool, aksBaseMax) + fmt.Sprintf("%d", index%10) + suffix
	default:
		tail := "-" + suffix
		return eksName(pool, eksNodeGroupMax-len(tail)) + tail
	}
}

// priorities returns the priority expander's configuration for a cluster on cloud: regexes
// over the autoscaler's node group names, keyed by priority.
func priorities(cloud Cloud) map[int][]string {
	switch cloud {
	case AWS:
		// The Auto Scaling group names EKS gives node groups: eks-<name>-<uuid>.
		group := func(name string) string { return `^eks-` + name + `-` + uuidPattern + `$` }
		pool := func(suffix string) string { return group(`[0-9A-Za-z][0-9A-Za-z_-]*-` + suffix) }
		return map[int][]string{
			spotPriority:     {pool(spotSuffix)},
			systemPriority:   {group(SystemPoolName)},
			fallbackPriority: {pool(fallbackSuffix)},
		}
	case Azure:
		// The scale sets AKS makes of agent pools: aks-<pool>-<digits>-vmss.
		vmss := func(pool string) string { return `^aks-` + pool + `-[0-9]+-vmss$` }
		group := func(suffix string) string {
			return vmss(fmt.Sprintf(`[a-z][a-z0-9]{0,%d}[0-9]%s`, aksBaseMax-1, suffix))
		}
		return map[int][]string{
			spotPriority:     {group(spotSuffix)},
			systemPriority:   {vmss(SystemPoolName)},
			fallbackPriority: {group(azureFallbackSuffix)},
		}
	case Sim:
		// The simulator's pools as Flotilla names them, <pool>-spot above <pool>-fallback;
		// the simulator plays the expander itself, from its pools' capacity.
		return map[int][]string{
			spotPriority:     {`^.+-` + spotSuffix + `$`},
			fallbackPriority: {`^.+-` + fallbackSuffix + `$`},
		}
	}
	return nil
}

var (
	notDNS   = regexp.MustCompile(`[^a-z0-9-]+`)
	notAlnum = regexp.MustCompile(`[^a-z0-9]+`)
	notEKS   = regexp.MustCompile(`[^0-9A-Za-z_-]+`)
)

// dnsLabel turns s into a lowercase RFC 1035 label of at most max characters.
func dnsLabel(s string, max int) string {
	clean := strings.Trim(notDNS.ReplaceAllString(strings.ToLower(s), "-"), "-")
	if clean == "" || clean[0] < 'a' || clean[0] > 'z' {
		clean = "p" + clean
	}
	return shorten(s, clean, max, "-")
}

// alnumBase turns s into a lowercase alphanumeric name that starts with a letter.
func alnumBase(s string, max int) string {
	clean := notAlnum.ReplaceAllString(strings.ToLower(s), "")
	if clean == "" || clean[0] < 'a' || clean[0] > 'z' {
		clean = "p" + clean
	}
	return shorten(s, clean, max, "")
}

// eksName turns s into a name EKS accepts for node groups.
func eksName(s string, max int) string {
	clean := strings.Trim(notEKS.ReplaceAllString(s, "-"), "-_")
	if clean == "" {
		clean = "pool"
	}
	return shorten(s, clean, max, "-")
}

// shorten keeps clean when it fits, and otherwise cuts it and appends a hash of the
// original, so that two long names that share a prefix still differ.
func shorten(original, clean string, max int, sep string) string {
	if len(clean) <= max {
		return clean
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(original))
	sum := fmt.Sprintf("%08x", h.Sum32())[:4]
	keep := max - len(sum) - len(sep)
	return strings.TrimRight(clean[:keep], "-_") + sep + sum
}
