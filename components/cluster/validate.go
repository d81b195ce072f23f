package cluster

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/components/costtags"
)

// DefaultMaxNodeProvisionTime is the cluster-autoscaler's --max-node-provision-time when
// Args.MaxNodeProvisionTime is zero: how long a spot pool may take to come up before the
// autoscaler falls back to the next priority.
const DefaultMaxNodeProvisionTime = 5 * time.Minute

// defaultSystemTypes are the system pools' machine types when SystemPool.InstanceType is
// empty: general-purpose machines with 2 vCPUs (AWS) or 4 and enough memory for add-ons.
var defaultSystemTypes = map[Cloud]string{
	AWS:   "m6i.large",
	GCP:   "e2-standard-4",
	Azure: "Standard_D4s_v5",
}

// The system pool's sizes when both are zero: one node per zone on a prod cluster.
const (
	defaultSystemMin, defaultSystemMax         = 2, 4
	defaultProdSystemMin, defaultProdSystemMax = 3, 6
)

var versionPattern = regexp.MustCompile(`^[1-9][0-9]*\.(0|[1-9][0-9]*)$`)

// spec is a validated Args with every default filled in: what a backend builds from.
type spec struct {
	name    string
	cloud   Cloud
	region  string
	zones   []string
	version string
	// nodeVersion is the minor of every node pool: Args.NodeVersion, or version.
	nodeVersion string
	network     Network
	// vpc, pods and services are the parsed Network ranges.
	vpc, pods, services netip.Prefix
	system              SystemPool
	tags                costtags.Tags
	// prod is set by the cost tag env=prod; prod clusters get three zones and protection.
	prod                 bool
	maxNodeProvisionTime time.Duration
	// api is Args.API with AllowedCIDRs parsed; allowed is empty only for an endpoint
	// open to anywhere (AllowAnywhere, not prod, or the simulator) or a private one.
	api        APIAccess
	allowed    []netip.Prefix
	secretsKey string
	// auth and auditLogWorkspace are Args.Auth and Args.AuditLogWorkspace, checked by checkAzure.
	auth              Auth
	auditLogWorkspace string
	// cloudTags are tags in the cloud's own form (AWS tags, GCP labels, Azure tags); nil on Sim.
	cloudTags map[string]string
	// kubeLabels are tags as Kubernetes labels, for in-cluster objects.
	kubeLabels map[string]string
	// simLite is Args.SimLite, checked by checkSimLite.
	simLite bool
}

// IsProd reports whether tags mark a production environment (env=prod).
func IsProd(tags costtags.Tags) bool {
	return strings.EqualFold(tags["env"], "prod")
}

// resolve validates args and fills in the defaults. It reports every problem at once.
func resolve(name string, args *Args) (*spec, error) {
	if args == nil {
		return nil, fmt.Errorf("cluster %q: args are required", name)
	}
	var errs problems
	fail := errs.add

	s := &spec{
		name:    name,
		cloud:   args.Cloud,
		region:  args.Region,
		version: args.Version,
		tags:    args.Tags,
		// Unset, the nodes run the control plane's minor.
		nodeVersion: args.Version,
		prod:        IsProd(args.Tags),
	}
	if name == "" {
		fail("name is empty: the cluster's resources are named after it")
	}

	_, knownCloud := zoneTable[args.Cloud]
	if !knownCloud {
		fail("Cloud %q is unknown: use %q, %q, %q or %q", args.Cloud, AWS, GCP, Azure, Sim)
	} else if _, ok := zoneTable[args.Cloud][args.Region]; !ok {
		fail("Region %q is unknown for cloud %q: use one of %s", args.Region, args.Cloud, strings.Join(Regions(args.Cloud), ", "))
	} else {
		s.zones = resolveZones(args, s.prod, &errs)
	}

	if !versionPattern.MatchString(args.Version) {
		fail("Version %q is not a Kubernetes minor in MAJOR.MINOR form, such as \"1.31\"", args.Version)
	} else if offered := OfferedVersions(args.Cloud, args.Region); offered != nil && !slices.Contains(offered, args.Version) {
		fail("Version %q is not offered in %q, which offers %s", args.Version, args.Region, strings.Join(offered, ", "))
	}

	if args.NodeVersion != "" {
		s.nodeVersion = args.NodeVersion
		checkNodeVersion(args, &errs)
	}

	if knownCloud {
		resolveNetwork(s, args.Network, &errs)
	}
	s.simLite = checkSimLite(args, &errs)

	s.system = args.SystemPool
	if s.system.InstanceType == "" {
		s.system.InstanceType = defaultSystemTypes[args.Cloud]
	}
	switch {
	case s.system.MinSize == 0 && s.system.MaxSize == 0:
		s.system.MinSize, s.system.MaxSize = defaultSystemMin, defaultSystemMax
		if s.prod {
			s.system.MinSize, s.system.MaxSize = defaultProdSystemMin, defaultProdSystemMax
		}
	case s.system.MinSize < 1:
		fail("SystemPool.MinSize %d is below 1: the system pool runs the cluster's add-ons, the autoscaler among them, so it needs a node", s.system.MinSize)
	case s.system.MinSize > s.system.MaxSize:
		fail("SystemPool.MinSize %d is greater than SystemPool.MaxSize %d", s.system.MinSize, s.system.MaxSize)
	}

	s.maxNodeProvisionTime = args.MaxNodeProvisionTime
	switch {
	case s.maxNodeProvisionTime < 0:
		fail("MaxNodeProvisionTime %q is negative", args.MaxNodeProvisionTime.String())
	case s.maxNodeProvisionTime == 0:
		s.maxNodeProvisionTime = DefaultMaxNodeProvisionTime
	case args.Cloud == Azure && s.maxNodeProvisionTime%time.Minute != 0:
		fail("MaxNodeProvisionTime %q is not a whole number of minutes, which AKS's autoscaler profile requires", args.MaxNodeProvisionTime.String())
	}

	s.api, s.secretsKey = args.API, args.SecretsKey
	checkAPIAccess(s, args, &errs)
	s.auth, s.auditLogWorkspace = args.Auth, args.AuditLogWorkspace
	checkAzure(s, &errs)

	var err error
	switch args.Cloud {
	case AWS:
		s.cloudTags, err = costtags.ForAWS(args.Tags)
	case GCP:
		s.cloudTags, err = costtags.ForGCP(args.Tags)
	case Azure:
		s.cloudTags, err = costtags.ForAzure(args.Tags)
	}
	if err != nil {
		fail("Tags: %w", err)
	}
	if s.kubeLabels, err = costtags.ForKubernetes(args.Tags); err != nil {
		fail("Tags: %w", err)
	}

	if args.Network.MasterCIDR != "" && args.Cloud != GCP {
		fail("Network.MasterCIDR %q is a GKE private cluster's control-plane range; %s clusters have none", args.Network.MasterCIDR, args.Cloud)
	}
	if args.Cloud == GCP && len(errs) == 0 {
		// GKE's own rules on what the cluster would send, before anything registers.
		var gke *InvalidArgsError
		if _, _, err := checkGKE(s); errors.As(err, &gke) {
			errs = append(errs, gke.Problems...)
		}
	}
	if len(errs) > 0 {
		return nil, &InvalidArgsError{Name: name, Problems: errs}
	}
	return s, nil
}

// checkNodeVersion checks Args.NodeVersion: a minor the region offers, never newer than
// the control plane and at most MaxNodeSkew minors older
// (https://kubernetes.io/releases/version-skew-policy/#kubelet).
func checkNodeVersion(args *Args, errs *problems) {
	v := args.NodeVersion
	if !versionPattern.MatchString(v) {
		errs.add("NodeVersion %q is not a Kubernetes minor in MAJOR.MINOR form, such as \"1.31\"", v)
		return
	}
	if offered := OfferedVersions(args.Cloud, args.Region); offered != nil && !slices.Contains(offered, v) {
		errs.add("NodeVersion %q is not offered in %q, which offers %s", v, args.Region, strings.Join(offered, ", "))
	}
	if !versionPattern.MatchString(args.Version) {
		return
	}
	if err := CheckNodeVersion(args.Cloud, args.Version, v); err != nil {
		errs.add("NodeVersion %q and Version %q: %w", v, args.Version, err)
	}
}

// resolveZones checks Args.Zones against the region, or picks the region's defaults.
func resolveZones(args *Args, prod bool, errs *problems) []string {
	zones := args.Zones
	if len(zones) == 0 {
		zones = DefaultZones(args.Cloud, args.Region)
	}
	for i, z := range zones {
		if !knownZone(args.Cloud, args.Region, z) {
			errs.add("Zones[%d] %q is not a zone of %q: use %s", i, z, args.Region, strings.Join(zoneTable[args.Cloud][args.Region], ", "))
		}
		if slices.Index(zones, z) != i {
			errs.add("Zones[%d] %q is listed twice", i, z)
		}
	}
	want := 2
	if prod {
		want = 3
	}
	if len(zones) < want {
		why := "a cluster spreads over at least 2 zones"
		if prod {
			why = "a prod cluster (tag env=prod) spreads over at least 3 zones"
		}
		errs.add("Zones %q has %d zone(s) in %q, but %s", zones, len(zones), args.Region, why)
	}
	return slices.Clone(zones)
}

// resolveNetwork fills in the default ranges and checks that the three ranges are well
// formed and overlap neither each other nor the ranges known to break clusters.
func resolveNetwork(s *spec, n Network, errs *problems) {
	def := defaultNetworks[s.cloud]
	if n.VPCCIDR == "" {
		n.VPCCIDR = def.VPCCIDR
	}
	if n.PodCIDR == "" {
		n.PodCIDR = def.PodCIDR
	}
	if n.ServiceCIDR == "" {
		n.ServiceCIDR = def.ServiceCIDR
	}
	s.network = n

	type rng struct {
		field string
		p     netip.Prefix
	}
	var ranges []rng
	for _, f := range []struct {
		field, value string
		dst          *netip.Prefix
	}{
		{"Network.VPCCIDR", n.VPCCIDR, &s.vpc},
		{"Network.PodCIDR", n.PodCIDR, &s.pods},
		{"Network.ServiceCIDR", n.ServiceCIDR, &s.services},
	} {
		p, err := parseCIDR(f.value)
		if err != nil {
			errs.add("%s: %w", f.field, err)
			continue
		}
		if p.Bits() < 8 || p.Bits() > 28 {
			errs.add("%s %q is a /%d; use a prefix between /8 and /28", f.field, f.value, p.Bits())
			continue
		}
		*f.dst = p
		ranges = append(ranges, rng{f.field, p})
	}

	for i := range ranges {
		for j := i + 1; j < len(ranges); j++ {
			if ranges[i].p.Overlaps(ranges[j].p) {
				errs.add("%s %q overlaps %s %q: the VPC, pod and service ranges must be disjoint",
					ranges[i].field, ranges[i].p, ranges[j].field, ranges[j].p)
			}
		}
	}

	reserved := []struct{ cidr, why string }{{dockerBridge, "Docker's default bridge"}}
	for _, d := range cloudServiceDefaults[s.cloud] {
		if d != n.ServiceCIDR {
			reserved = append(reserved, struct{ cidr, why string }{d, fmt.Sprintf("the %s default service range", s.cloud)})
		}
	}
	for _, r := range ranges {
		for _, res := range reserved {
			if r.p.Overlaps(netip.MustParsePrefix(res.cidr)) {
				errs.add("%s %q overlaps %s %s: pick a range clear of it", r.field, r.p, res.cidr, res.why)
			}
		}
	}

	if s.cloud == AWS {
		checkAWSNetwork(s, errs)
	}
}

// checkAWSNetwork applies the limits of VPCs and EKS: the VPC and the pods' secondary
// block are /16 to /22 and /16 to /24 (each zone gets an eighth), the pod block must be
// associable with the VPC, and EKS's service range must be private, /12 to /24.
func checkAWSNetwork(s *spec, errs *problems) {
	if s.vpc.IsValid() && (s.vpc.Bits() < 16 || s.vpc.Bits() > 22) {
		errs.add("Network.VPCCIDR %q is a /%d; an AWS VPC for Flotilla is /16 to /22", s.vpc, s.vpc.Bits())
	}
	if s.pods.IsValid() && (s.pods.Bits() < 16 || s.pods.Bits() > 24) {
		errs.add("Network.PodCIDR %q is a /%d; on AWS it becomes a secondary VPC block, /16 to /24", s.pods, s.pods.Bits())
	}
	if s.vpc.IsValid() && s.pods.IsValid() && !cgnat.Contains(s.pods.Addr()) {
		vpcBlock, vpcPrivate := within(s.vpc, privateBlocks)
		podBlock, podPrivate := within(s.pods, privateBlocks)
		if !podPrivate || !vpcPrivate || podBlock != vpcBlock {
			errs.add("Network.PodCIDR %q cannot be added to a VPC in %q: AWS allows a secondary block in the VPC's own RFC 1918 range or in 100.64.0.0/10", s.pods, s.vpc)
		}
	}
	if s.services.IsValid() {
		if _, ok := within(s.services, privateBlocks); !ok || s.services.Bits() < 12 || s.services.Bits() > 24 {
			errs.add("Network.ServiceCIDR %q is not accepted by EKS: use a /12 to /24 within 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16", s.services)
		}
	}
}

// problems collects what is wrong with Args, so that all of it is reported at once.
type problems []error

func (p *problems) add(format string, a ...any) { *p = append(*p, fmt.Errorf(format, a...)) }

// InvalidArgsError lists every problem found in a cluster's Args. Nothing was registered.
type InvalidArgsError struct {
	Name     string
	Problems []error
}

func (e *InvalidArgsError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = "  - " + p.Error()
	}
	return fmt.Sprintf("cluster %q: invalid args:\n%s", e.Name, strings.Join(msgs, "\n"))
}

// Unwrap returns the individual problems.
func (e *InvalidArgsError) Unwrap() []error { return e.Problems }

// IsInvalidArgs reports whether err is, or wraps, an InvalidArgsError.
func IsInvalidArgs(err error) bool {
	var target *InvalidArgsError
	return errors.As(err, &target)
}

// checkAPIAccess checks Args.API: every allowed range a CIDR, none open to anywhere
// (0.0.0.0/0 or ::/0) unless AllowAnywhere says so, and a prod cluster's public endpoint
// never open to anywhere, not even by an empty AllowedCIDRs, unless AllowAnywhere says so.
//
// The simulator (Cloud Sim) is exempt from the prod rule: its API servers listen on
// loopback only (kube-apiserver --bind-address=127.0.0.1, package kubeplane), so no
// network can reach them, and its prod stacks keep rolling out unchanged.
func checkAPIAccess(s *spec, args *Args, errs *problems) {
	api := args.API
	guarded := s.prod && args.Cloud != Sim && !api.AllowAnywhere
	for _, c := range api.AllowedCIDRs {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			errs.add("API.AllowedCIDRs: %q is not a CIDR range such as \"203.0.113.0/24\"", c)
			continue
		}
		if p.Bits() == 0 && !api.AllowAnywhere {
			if guarded && !api.Private {
				errs.add("API.AllowedCIDRs: %q opens a prod cluster's (tag env=prod) public API endpoint to anywhere: "+
					"list only the ranges that may reach it in API.AllowedCIDRs (or set API.Private), or set API.AllowAnywhere to mean it", c)
			} else {
				errs.add("API.AllowedCIDRs: %q opens the API endpoint to anywhere: set API.AllowAnywhere to mean it", c)
			}
		}
		s.allowed = append(s.allowed, p.Masked())
	}
	if guarded && !api.Private && len(api.AllowedCIDRs) == 0 {
		errs.add("API.AllowedCIDRs is empty, which leaves a prod cluster's (tag env=prod) public API endpoint open to anywhere: " +
			"list the ranges that may reach it in API.AllowedCIDRs (or set API.Private), or set API.AllowAnywhere to mean it")
	}
}
