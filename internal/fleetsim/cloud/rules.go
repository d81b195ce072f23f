package cloud

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// FieldError is one problem with one field of a request.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// FieldErrors are every problem found in a request.
type FieldErrors []FieldError

func (fe *FieldErrors) add(field, format string, args ...any) {
	*fe = append(*fe, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns nil when there is no problem, otherwise an InvalidArgument *Error naming
// the resource (e.g. `cluster "dev-east"`) and listing every problem.
func (fe FieldErrors) Err(resource string) error {
	if len(fe) == 0 {
		return nil
	}
	msgs := make([]string, len(fe))
	for i, e := range fe {
		msgs[i] = e.Field + ": " + e.Message
	}
	return Errorf(InvalidArgument, "%s: %s", resource, strings.Join(msgs, "; "))
}

// Default address ranges of a cluster.
const (
	DefaultVpcCIDR     = "10.0.0.0/16"
	DefaultPodCIDR     = "10.244.0.0/16"
	DefaultServiceCIDR = "172.20.0.0/16"
)

// Default node pool sizes, as EKS's managed node groups default them.
const (
	DefaultMinSize = 1
	DefaultMaxSize = 2
)

// maxTags, maxTagKey and maxTagValue are the tag limits of AWS, the strictest cloud.
const (
	maxTags     = 50
	maxTagKey   = 128
	maxTagValue = 256
	maxNameLen  = 40 // GKE's cluster-name limit, the strictest cloud
	maxPoolSize = 1000
)

// Default fills the fields a user may leave empty.
func (c *ClusterSpec) Default() {
	if len(c.Zones) == 0 {
		c.Zones = Zones(c.Region)
	}
	if c.Version == "" {
		c.Version = DefaultVersion
	}
	if c.VpcCIDR == "" {
		c.VpcCIDR = DefaultVpcCIDR
	}
	if c.PodCIDR == "" {
		c.PodCIDR = DefaultPodCIDR
	}
	if c.ServiceCIDR == "" {
		c.ServiceCIDR = DefaultServiceCIDR
	}
}

// Validate returns every problem with a (defaulted) cluster spec. It checks only what
// needs no knowledge of the cloud's state.
func (c ClusterSpec) Validate() FieldErrors {
	var fe FieldErrors
	if msg := checkName(c.Name); msg != "" {
		fe.add("name", "%s", msg)
	}
	if !IsRegion(c.Region) {
		fe.add("region", "%q is not a region of the simulated cloud (regions: %s)", c.Region, joinQuoted(regions))
	} else {
		seen := map[string]bool{}
		for _, z := range c.Zones {
			switch {
			case !slices.Contains(Zones(c.Region), z):
				fe.add("zones", "%q is not a zone of %s (zones: %s)", z, c.Region, joinQuoted(Zones(c.Region)))
			case seen[z]:
				fe.add("zones", "%q is listed twice", z)
			}
			seen[z] = true
		}
	}
	if _, err := ParseMinor(c.Version); err != nil {
		fe.add("version", "%s", err.Error())
	}
	vpc, okV := checkCIDR(&fe, "vpcCidr", c.VpcCIDR, 16, 28)
	pod, okP := checkCIDR(&fe, "podCidr", c.PodCIDR, 8, 24)
	svc, okS := checkCIDR(&fe, "serviceCidr", c.ServiceCIDR, 12, 24)
	if okV && okS && vpc.Overlaps(svc) {
		fe.add("serviceCidr", "%s overlaps the VPC range %s; pick a range outside it", c.ServiceCIDR, c.VpcCIDR)
	}
	if okP && okS && pod.Overlaps(svc) {
		fe.add("serviceCidr", "%s overlaps the pod range %s; pick a range outside it", c.ServiceCIDR, c.PodCIDR)
	}
	checkTags(&fe, c.Tags)
	return fe
}

// DefaultPoolSizes resolves a pool's sizes when some are not given (nil).
func DefaultPoolSizes(minSize, maxSize, desired *int) (mn, mx, d int) {
	switch {
	case minSize != nil:
		mn = *minSize
	case desired != nil && *desired < DefaultMinSize:
		mn = *desired
	default:
		mn = DefaultMinSize
	}
	d = mn
	if desired != nil {
		d = *desired
	}
	mx = max(DefaultMaxSize, d, mn)
	if maxSize != nil {
		mx = *maxSize
	}
	return mn, mx, d
}

// Default fills the fields of a node pool spec that need no knowledge of its cluster.
func (p *NodePoolSpec) Default() {
	if p.CapacityType == "" {
		p.CapacityType = OnDemand
	}
	if p.ProvisionTimeout == 0 {
		p.ProvisionTimeout = DefaultProvisionTimeout
	}
}

// Validate returns every problem with a (defaulted) node pool spec that needs no
// knowledge of its cluster.
func (p NodePoolSpec) Validate() FieldErrors {
	var fe FieldErrors
	if msg := checkName(p.Name); msg != "" {
		fe.add("name", "%s", msg)
	}
	if p.Cluster == "" {
		fe.add("cluster", "a node pool needs a cluster (its id or name)")
	}
	if p.CapacityType != Spot && p.CapacityType != OnDemand {
		fe.add("capacityType", "%q is not a capacity type; use %q or %q", p.CapacityType, Spot, OnDemand)
	}
	if len(p.InstanceTypes) == 0 {
		fe.add("instanceTypes", "at least one instance type is required (e.g. %q)", "m6i.large")
	}
	seen := map[string]bool{}
	for _, t := range p.InstanceTypes {
		if _, err := LookupInstanceType(t); err != nil {
			fe.add("instanceTypes", "%s", err.Error())
		} else if seen[t] {
			fe.add("instanceTypes", "%q is listed twice", t)
		}
		seen[t] = true
	}
	seenZ := map[string]bool{}
	for _, z := range p.Zones {
		if RegionOfZone(z) == "" {
			fe.add("zones", "%q is not a zone of the simulated cloud", z)
		} else if seenZ[z] {
			fe.add("zones", "%q is listed twice", z)
		}
		seenZ[z] = true
	}
	switch {
	case p.MinSize < 0:
		fe.add("minSize", "%d is negative", p.MinSize)
	case p.MaxSize < 1:
		fe.add("maxSize", "%d: a node pool's maximum size must be at least 1", p.MaxSize)
	case p.MaxSize > maxPoolSize:
		fe.add("maxSize", "%d is above the simulated cloud's limit of %d nodes per pool", p.MaxSize, maxPoolSize)
	case p.MinSize > p.MaxSize:
		fe.add("minSize", "%d is above maxSize %d", p.MinSize, p.MaxSize)
	case p.DesiredSize < p.MinSize || p.DesiredSize > p.MaxSize:
		fe.add("desiredSize", "%d is outside [minSize, maxSize] = [%d, %d]", p.DesiredSize, p.MinSize, p.MaxSize)
	}
	if p.Version != "" {
		if _, err := ParseMinor(p.Version); err != nil {
			fe.add("version", "%s", err.Error())
		}
	}
	checkLabels(&fe, p.Labels, p.CapacityType)
	checkTaints(&fe, p.Taints)
	checkTags(&fe, p.Tags)
	if p.ProvisionTimeout < 0 || p.ProvisionTimeout > 86400 {
		fe.add("provisionTimeout", "%d: use a number of seconds between 1 and 86400", p.ProvisionTimeout)
	}
	if p.FallbackFor != "" {
		if p.CapacityType != OnDemand {
			fe.add("fallbackFor", "only an on-demand pool can back a spot pool; this pool is %q", p.CapacityType)
		}
		if msg := checkName(p.FallbackFor); msg != "" {
			fe.add("fallbackFor", "%s", msg)
		}
		if p.FallbackFor == p.Name {
			fe.add("fallbackFor", "a pool cannot back itself")
		}
	}
	return fe
}

var dnsLabel = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

func checkName(name string) string {
	switch {
	case name == "":
		return "a name is required"
	case len(name) > maxNameLen:
		return fmt.Sprintf("%q is longer than %d characters", name, maxNameLen)
	case !dnsLabel.MatchString(name):
		return fmt.Sprintf("%q must be lowercase letters, digits and '-', starting and ending with a letter or digit", name)
	}
	return ""
}

func checkCIDR(fe *FieldErrors, field, s string, minBits, maxBits int) (netip.Prefix, bool) {
	p, err := netip.ParsePrefix(s)
	if err != nil || !p.Addr().Is4() {
		fe.add(field, "%q is not an IPv4 CIDR such as %q", s, "10.0.0.0/16")
		return netip.Prefix{}, false
	}
	if p.Masked() != p {
		fe.add(field, "%q has host bits set; did you mean %q?", s, p.Masked().String())
		return netip.Prefix{}, false
	}
	if p.Bits() < minBits || p.Bits() > maxBits {
		fe.add(field, "%q: the prefix length must be between /%d and /%d", s, minBits, maxBits)
		return netip.Prefix{}, false
	}
	return p, true
}

func checkTags(fe *FieldErrors, tags map[string]string) {
	if len(tags) > maxTags {
		fe.add("tags", "%d tags: at most %d are allowed", len(tags), maxTags)
	}
	for _, k := range sortedKeys(tags) {
		v := tags[k]
		switch {
		case k == "":
			fe.add("tags", "a tag key is empty")
		case len(k) > maxTagKey:
			fe.add("tags", "key %q is longer than %d characters", k, maxTagKey)
		case len(v) > maxTagValue:
			fe.add("tags", "the value of %q is longer than %d characters", k, maxTagValue)
		}
	}
}

var (
	labelName  = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)
	dnsSubname = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)
)

// validLabelKey reports whether k is a Kubernetes qualified name, e.g. "flotilla.io/pool".
func validLabelKey(k string) bool {
	prefix, name, found := strings.Cut(k, "/")
	if !found {
		name = prefix
	} else if prefix == "" || len(prefix) > 253 || !dnsSubname.MatchString(prefix) {
		return false
	}
	return len(name) <= 63 && labelName.MatchString(name)
}

func validLabelValue(v string) bool {
	return v == "" || (len(v) <= 63 && labelName.MatchString(v))
}

// cloudLabels are set by the cloud on every node; users cannot set them.
var cloudLabels = []string{LabelInstanceType, LabelZone, LabelRegion, LabelHostname, LabelNodePool}

func checkLabels(fe *FieldErrors, labels map[string]string, capacityType string) {
	for _, k := range sortedKeys(labels) {
		v := labels[k]
		switch {
		case !validLabelKey(k):
			fe.add("labels", "%q is not a valid Kubernetes label key", k)
		case !validLabelValue(v):
			fe.add("labels", "the value %q of %q is not a valid Kubernetes label value", v, k)
		case slices.Contains(cloudLabels, k):
			fe.add("labels", "%q is set by the cloud on every node; remove it", k)
		case k == LabelCapacity && v != capacityType:
			fe.add("labels", "%q is %q but the pool's capacity type is %q", k, v, capacityType)
		}
	}
}

var taintEffects = []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}

func checkTaints(fe *FieldErrors, taints []Taint) {
	seen := map[string]bool{}
	for _, t := range taints {
		switch {
		case !validLabelKey(t.Key):
			fe.add("taints", "%q is not a valid taint key", t.Key)
		case !validLabelValue(t.Value):
			fe.add("taints", "the value %q of taint %q is not valid", t.Value, t.Key)
		case !slices.Contains(taintEffects, t.Effect):
			fe.add("taints", "taint %q: effect %q is not one of %s", t.Key, t.Effect, joinQuoted(taintEffects))
		case seen[t.Key+":"+t.Effect]:
			fe.add("taints", "taint %q with effect %s is listed twice", t.Key, t.Effect)
		}
		seen[t.Key+":"+t.Effect] = true
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Offered reports whether region offers version, given the unoffer faults in force.
func (s *State) Offered(region, version string) bool {
	if !slices.Contains(OfferedVersions(region), version) {
		return false
	}
	for _, u := range s.Faults.Unoffered {
		if u.Region == region && u.Version == version {
			return false
		}
	}
	return true
}

// OfferedVersions returns the versions region offers now, given the faults in force.
func (s *State) OfferedVersions(region string) []string {
	var out []string
	for _, v := range OfferedVersions(region) {
		if s.Offered(region, v) {
			out = append(out, v)
		}
	}
	return out
}

func (s *State) checkOffered(what, region, version string) error {
	if s.Offered(region, version) {
		return nil
	}
	offered := s.OfferedVersions(region)
	return Errorf(FailedPrecondition, "%s: version %s is not offered in %s (offered there: %s)", what, version, region, strings.Join(offered, ", "))
}

// CheckUpgrade says whether cluster c's control plane may move to version to, with
// these node pools: one minor at a time, never down, and no pool left more than
// MaxPoolSkew minors behind.
func CheckUpgrade(c *Cluster, to string, pools []*NodePool) error {
	from, err := ParseMinor(c.Version)
	if err != nil {
		return Errorf(Internal, "cluster %q: stored version %q: %v", c.Name, c.Version, err)
	}
	t, err := ParseMinor(to)
	if err != nil {
		return Errorf(InvalidArgument, "cluster %q: %v", c.Name, err)
	}
	switch d := t.Sub(from); {
	case d == 0:
		return nil
	case d < 0:
		return Errorf(FailedPrecondition, "cluster %q: cannot downgrade from %s to %s: a control plane never downgrades", c.Name, from, t)
	case d > 1:
		return Errorf(FailedPrecondition, "cluster %q: cannot upgrade from %s to %s: the control plane upgrades one minor version at a time (next: %s)", c.Name, from, t, from.Add(1))
	}
	for _, p := range pools {
		pv, err := ParseMinor(p.Version)
		if err != nil {
			continue
		}
		if lag := t.Sub(pv); lag > MaxPoolSkew {
			return Errorf(FailedPrecondition, "cluster %q: cannot upgrade to %s: node pool %q is at %s and would fall %d minor versions behind the control plane (at most %d); upgrade the node pool first", c.Name, t, p.Name, pv, lag, MaxPoolSkew)
		}
	}
	return nil
}

// CheckPoolVersion says whether a node pool may run version v under a control plane at
// cp, coming from version from ("" for a new pool): never newer than the control plane,
// at most MaxPoolSkew minors older, and never a downgrade.
func CheckPoolVersion(pool string, cp, v, from string) error {
	c, err := ParseMinor(cp)
	if err != nil {
		return Errorf(Internal, "node pool %q: control plane version %q: %v", pool, cp, err)
	}
	pv, err := ParseMinor(v)
	if err != nil {
		return Errorf(InvalidArgument, "node pool %q: %v", pool, err)
	}
	if from != "" {
		if f, err := ParseMinor(from); err == nil && pv.Sub(f) < 0 {
			return Errorf(FailedPrecondition, "node pool %q: cannot downgrade from %s to %s: node pools never downgrade", pool, f, pv)
		}
	}
	if lag := c.Sub(pv); lag < 0 {
		return Errorf(FailedPrecondition, "node pool %q: version %s is newer than its control plane (%s); upgrade the cluster first", pool, pv, c)
	} else if lag > MaxPoolSkew {
		return Errorf(FailedPrecondition, "node pool %q: version %s is %d minor versions behind its control plane (%s); at most %d are allowed", pool, pv, lag, c, MaxPoolSkew)
	}
	return nil
}
