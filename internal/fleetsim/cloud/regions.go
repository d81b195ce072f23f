package cloud

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// The simulated cloud's regions. Each has three zones, "<region>a", "<region>b" and "<region>c".
var regions = []string{"sim-east-1", "sim-west-1", "sim-central-1", "sim-eu-1", "sim-ap-1"}

// baseVersions are offered in every region.
var baseVersions = []string{"1.29", "1.30", "1.31", "1.32", "1.33"}

// newestVersion is rolling out region by region, as new releases do on real clouds.
const newestVersion = "1.34"

var newestRegions = []string{"sim-east-1", "sim-west-1"}

// DefaultVersion is the version a cluster gets when none is asked for: the newest one
// every region offers.
const DefaultVersion = "1.33"

// MaxPoolSkew is how many minor versions a node pool may lag its control plane.
const MaxPoolSkew = 3

// Regions returns the simulated cloud's regions.
func Regions() []string { return slices.Clone(regions) }

// IsRegion reports whether region is one of the simulated cloud's regions.
func IsRegion(region string) bool { return slices.Contains(regions, region) }

// Zones returns the zones of region, or nil for an unknown region.
func Zones(region string) []string {
	if !IsRegion(region) {
		return nil
	}
	return []string{region + "a", region + "b", region + "c"}
}

// RegionOfZone returns the region a zone belongs to, or "" if the zone is unknown.
func RegionOfZone(zone string) string {
	for _, r := range regions {
		if slices.Contains(Zones(r), zone) {
			return r
		}
	}
	return ""
}

// OfferedVersions returns the versions region offers by default, oldest first, before
// any "unoffer" fault.
func OfferedVersions(region string) []string {
	if !IsRegion(region) {
		return nil
	}
	vs := slices.Clone(baseVersions)
	if slices.Contains(newestRegions, region) {
		vs = append(vs, newestVersion)
	}
	return vs
}

// Minor is a Kubernetes minor version such as 1.31.
type Minor struct{ Major, Minor int }

// ParseMinor parses "1.31". Patch versions are not accepted: managed clouds pick the patch.
func ParseMinor(s string) (Minor, error) {
	major, minor, ok := strings.Cut(s, ".")
	if !ok || strings.Contains(minor, ".") {
		return Minor{}, fmt.Errorf("version %q: use a Kubernetes minor version such as %q", s, DefaultVersion)
	}
	ma, err1 := strconv.Atoi(major)
	mi, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil || ma != 1 || mi < 0 || minor != strconv.Itoa(mi) {
		return Minor{}, fmt.Errorf("version %q: use a Kubernetes minor version such as %q", s, DefaultVersion)
	}
	return Minor{Major: ma, Minor: mi}, nil
}

func (m Minor) String() string { return fmt.Sprintf("%d.%d", m.Major, m.Minor) }

// Sub returns how many minor versions m is ahead of o (negative when behind).
func (m Minor) Sub(o Minor) int { return m.Minor - o.Minor }

// Add returns the version n minors after m.
func (m Minor) Add(n int) Minor { return Minor{Major: m.Major, Minor: m.Minor + n} }
