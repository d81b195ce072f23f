package automation

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"

	"github.com/flotilla-io/flotilla/components/cluster"
)

// Minor is a Kubernetes minor version, such as 1.31.
type Minor struct {
	Major, Minor int
}

var minorRE = regexp.MustCompile(`^v?([0-9]+)\.([0-9]+)(?:[.+-].*)?$`)

// ParseMinor reads a minor from "1.31" or from the full versions clouds and API servers
// report: "v1.31.4", "1.31.4-eks-1b3e656", "1.31.2-gke.1059000", "v1.31.1+k3s1".
func ParseMinor(s string) (Minor, error) {
	m := minorRE.FindStringSubmatch(s)
	if m == nil {
		return Minor{}, fmt.Errorf("%q is not a Kubernetes version such as \"1.31\"", s)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	return Minor{Major: major, Minor: minor}, nil
}

// MustMinor is ParseMinor for constants; it panics on a malformed version.
func MustMinor(s string) Minor {
	m, err := ParseMinor(s)
	if err != nil {
		panic(err)
	}
	return m
}

func (m Minor) String() string { return fmt.Sprintf("%d.%d", m.Major, m.Minor) }

// MarshalText writes m as "1.31", so that journals and --output json read as versions.
func (m Minor) MarshalText() ([]byte, error) {
	if m.IsZero() {
		return []byte{}, nil
	}
	return []byte(m.String()), nil
}

// UnmarshalText reads "1.31" (or any form ParseMinor takes; empty is unset).
func (m *Minor) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*m = Minor{}
		return nil
	}
	v, err := ParseMinor(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// IsZero reports whether m is unset.
func (m Minor) IsZero() bool { return m == Minor{} }

// Add returns the minor n releases after m (before it for negative n).
func (m Minor) Add(n int) Minor { return Minor{Major: m.Major, Minor: m.Minor + n} }

// Sub returns how many minors m is ahead of o (negative when behind). Kubernetes has
// stayed at major 1, so a difference of majors counts as 100 minors each.
func (m Minor) Sub(o Minor) int { return (m.Major-o.Major)*100 + m.Minor - o.Minor }

// Less reports whether m is older than o.
func (m Minor) Less(o Minor) bool { return m.Sub(o) < 0 }

// MaxNodeSkew is how many minors a kubelet may be older than its API server: 3 since
// Kubernetes 1.28 (https://kubernetes.io/releases/version-skew-policy/#kubelet). A
// kubelet is never newer than the API server.
const MaxNodeSkew = 3

// MaxSkew is how many minors the cluster's node pools may lag its control plane on its
// cloud: Kubernetes allows 3 (MaxNodeSkew), GKE and AKS support only 2
// (cluster.MaxNodeSkew cites them).
func (c ClusterVersions) MaxSkew() int {
	if c.Cloud == "" {
		return MaxNodeSkew
	}
	return min(MaxNodeSkew, cluster.MaxNodeSkew(cluster.Cloud(c.Cloud)))
}

// skewWhere names the cloud when its limit is tighter than Kubernetes's own.
func skewWhere(c ClusterVersions) string {
	if c.MaxSkew() < MaxNodeSkew {
		return " on " + c.Cloud
	}
	return ""
}

// ClusterVersions is what one cluster of a stack runs: its control plane and each of
// its node pools, by the pool's name in the cloud.
type ClusterVersions struct {
	Stack        string           `json:"stack"`
	Cluster      string           `json:"cluster"` // the cluster's key in the stack file
	Cloud        string           `json:"cloud,omitempty"`
	Region       string           `json:"region,omitempty"`
	ControlPlane Minor            `json:"controlPlane"`
	Pools        map[string]Minor `json:"pools,omitempty"`
	// FallbackFor maps a fallback pool to the spot pool it backs.
	FallbackFor map[string]string `json:"fallbackFor,omitempty"`
}

// Nodes returns the oldest minor any node pool runs (the control plane's when the
// cluster has no pools).
func (c ClusterVersions) Nodes() Minor {
	out, first := c.ControlPlane, true
	for _, v := range c.Pools {
		if first || v.Less(out) {
			out, first = v, false
		}
	}
	return out
}

// PoolNames returns the cluster's pool names, sorted.
func (c ClusterVersions) PoolNames() []string {
	names := make([]string, 0, len(c.Pools))
	for n := range c.Pools {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// LiveCluster is what the cloud (or the cluster's own API) says a cluster runs now.
type LiveCluster struct {
	Cluster      string            `json:"cluster"` // the cluster's key in the stack file
	ControlPlane string            `json:"controlPlane"`
	Pools        map[string]string `json:"pools,omitempty"` // by the pool's name in the cloud
	// Busy names an operation in progress on the cluster or one of its pools ("" when
	// none): an upgrade must not start over it.
	Busy string `json:"busy,omitempty"`
	// AutoUpgrade says what else upgrades the cluster's minor version ("" or "none"
	// when only Flotilla does), as the cloud reports it.
	AutoUpgrade string `json:"autoUpgrade,omitempty"`
}

// VersionSource reads, from the cloud or from the clusters themselves, the versions a
// stack's clusters run now. outputs are the stack's outputs (its clusters' names,
// regions and kubeconfigs).
type VersionSource interface {
	LiveVersions(ctx context.Context, s StackRef, outputs Outputs) ([]LiveCluster, error)
}

// VersionCatalog answers which Kubernetes minors a cloud offers in a region now. The
// simulator answers for itself; each real cloud answers through its own version API
// (EKS DescribeClusterVersions, GKE serverConfig, AKS kubernetesVersions).
type VersionCatalog interface {
	OfferedVersions(ctx context.Context, cloud, region string) ([]string, error)
}

// VersionCatalogFunc adapts a function to VersionCatalog.
type VersionCatalogFunc func(ctx context.Context, cloud, region string) ([]string, error)

// OfferedVersions calls f.
func (f VersionCatalogFunc) OfferedVersions(ctx context.Context, cloud, region string) ([]string, error) {
	return f(ctx, cloud, region)
}

// WithVersionSource sets where upgrades read the versions clusters run now (default:
// each cluster's Kubernetes API, through the kubeconfigs in the stack's outputs).
func WithVersionSource(v VersionSource) Option { return func(o *options) { o.versions = v } }

// WithVersionCatalog sets where upgrades learn which versions each region offers, e.g.
// Catalogs of GKEVersions, AKSVersions and EKSVersions. Without one, an upgrade's
// pre-flight refuses: it cannot confirm the target is offered everywhere.
func WithVersionCatalog(c VersionCatalog) Option { return func(o *options) { o.catalog = c } }
