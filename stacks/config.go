package stacks

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/envset"
	"github.com/flotilla-io/flotilla/components/geofleet"
	"github.com/flotilla-io/flotilla/components/spotpool"
)

// Namespace is the configuration namespace of every Flotilla stack setting.
const Namespace = "flotilla"

// Config is one stack's configuration: the `flotilla:` keys of
// stacks/Pulumi.<stack>.yaml.
type Config struct {
	// Environment names the envset environment this stack deploys (flotilla:environment).
	Environment string `json:"environment"`
	// Version is the Kubernetes minor of every cluster's control plane unless the cluster
	// says otherwise (flotilla:version).
	Version string `json:"version"`
	// NodeVersion is the Kubernetes minor of every cluster's node pools unless the
	// cluster says otherwise (flotilla:nodeVersion); empty: each cluster's control-plane
	// minor.
	NodeVersion string `json:"nodeVersion"`
	// AddressSpace is the environment's block that cluster networks are planned from.
	AddressSpace string `json:"addressSpace"`
	// Tags are the cost tags of everything in the stack; env is set from Environment.
	Tags costtags.Tags `json:"tags"`
	// Clusters are the fleet's clusters.
	Clusters []ClusterConfig `json:"clusters"`
	// Teams are granted namespaces and access by the EnvironmentSet.
	Teams []TeamConfig `json:"teams"`
	// Networks is the network plan in use, by cluster name. Ranges listed here never
	// move; clusters missing from it get new ranges, which the stack exports as
	// `networks` so they can be written back here.
	Networks map[string]NetworkConfig `json:"networks"`
	// Auth is how people and automation sign in to every cluster (flotilla:auth).
	Auth AuthConfig `json:"auth"`
}

// AuthConfig is flotilla:auth (cluster.Auth).
type AuthConfig struct {
	// GoogleSecurityGroup is GKE's gke-security-groups@<domain> group, which turns on
	// Google Groups for RBAC.
	GoogleSecurityGroup string `json:"googleSecurityGroup"`
	// EntraTenantID is the AKS clusters' Microsoft Entra ID tenant.
	EntraTenantID string `json:"entraTenantID"`
	// EntraAdminGroupIDs are the object ids of the Entra groups that are cluster-admin on AKS.
	EntraAdminGroupIDs []string `json:"entraAdminGroupIDs"`
	// Kubelogin is the kubelogin login mode of the stack's AKS kubeconfig.
	Kubelogin string `json:"kubelogin"`
}

// ClusterConfig is one cluster of flotilla:clusters.
type ClusterConfig struct {
	Name   string   `json:"name"`
	Cloud  string   `json:"cloud"`
	Region string   `json:"region"`
	Zones  []string `json:"zones"`
	// Version is the cluster's control-plane minor; empty: flotilla:version.
	Version string `json:"version"`
	// NodeVersion is the minor of the cluster's node pools (system, spot and fallback);
	// empty: flotilla:nodeVersion, and without it the cluster's control-plane minor.
	NodeVersion string           `json:"nodeVersion"`
	SystemPool  SystemPoolConfig `json:"systemPool"`
	SpotPools   []SpotPoolConfig `json:"spotPools"`
	// API says who may reach the cluster's Kubernetes API endpoint (cluster.APIAccess).
	API APIConfig `json:"api"`
	// SecretsKey is the customer-managed key that encrypts the cluster's Secrets.
	SecretsKey string `json:"secretsKey"`
	// AuditLogWorkspace is the Log Analytics workspace of an AKS cluster's audit logs.
	AuditLogWorkspace string `json:"auditLogWorkspace"`
}

// APIConfig is a cluster's api: {allowedCIDRs, allowAnywhere, private}.
type APIConfig struct {
	AllowedCIDRs  []string `json:"allowedCIDRs"`
	AllowAnywhere bool     `json:"allowAnywhere"`
	Private       bool     `json:"private"`
}

// SystemPoolConfig is a cluster's on-demand system pool.
type SystemPoolConfig struct {
	InstanceType string `json:"instanceType"`
	MinSize      int    `json:"minSize"`
	MaxSize      int    `json:"maxSize"`
}

// SpotPoolConfig is a spot pool with its on-demand fallback.
type SpotPoolConfig struct {
	Name          string         `json:"name"`
	InstanceTypes []string       `json:"instanceTypes"`
	MinSize       int            `json:"minSize"`
	MaxSize       int            `json:"maxSize"`
	Fallback      FallbackConfig `json:"fallback"`
}

// FallbackConfig configures a spot pool's on-demand fallback.
type FallbackConfig struct {
	Disabled         bool     `json:"disabled"`
	InstanceTypes    []string `json:"instanceTypes"`
	MaxSize          int      `json:"maxSize"`
	ProvisionTimeout string   `json:"provisionTimeout"` // a Go duration, e.g. "5m"
}

// TeamConfig is one team of flotilla:teams.
type TeamConfig struct {
	Name       string            `json:"name"`
	Namespaces []string          `json:"namespaces"`
	Access     map[string]string `json:"access"`
	// PodSecurity is the Pod Security Standards level enforced on the team's namespaces,
	// per environment (envset.Team.PodSecurity).
	PodSecurity map[string]string `json:"podSecurity"`
	// Identity is who holds the team's access on each cloud (envset.TeamIdentity).
	Identity TeamIdentityConfig `json:"identity"`
}

// TeamIdentityConfig is a team's identity: {awsRoleARNs, googleGroup, entraGroupID}.
type TeamIdentityConfig struct {
	AWSRoleARNs  []string `json:"awsRoleARNs"`
	GoogleGroup  string   `json:"googleGroup"`
	EntraGroupID string   `json:"entraGroupID"`
}

// NetworkConfig is one cluster's planned ranges.
type NetworkConfig struct {
	VPCCIDR     string `json:"vpcCIDR"`
	PodCIDR     string `json:"podCIDR"`
	ServiceCIDR string `json:"serviceCIDR"`
}

// keys are the settings under flotilla:, each decoded into its Config field.
var keys = []string{"environment", "version", "nodeVersion", "addressSpace", "tags", "clusters", "teams", "networks", "auth"}

// ConfigError lists every problem with a stack's configuration, naming the stack file
// and the key.
type ConfigError struct {
	File     string
	Problems []string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s: invalid configuration:\n  - %s", e.File, strings.Join(e.Problems, "\n  - "))
}

// IsConfigError reports whether err is a configuration problem.
func IsConfigError(err error) bool {
	var ce *ConfigError
	return errors.As(err, &ce)
}

// ParseConfig decodes and validates the flotilla: settings. get returns a key's raw
// value (a string, or JSON for objects and lists) as Pulumi config holds it; all lists
// the keys set under flotilla:, so that unknown ones are reported. file names the stack
// file in messages.
func ParseConfig(file string, all []string, get func(key string) (string, bool)) (Config, error) {
	var cfg Config
	var problems []string
	known := map[string]bool{}
	for _, k := range keys {
		known[k] = true
	}
	for _, k := range all {
		if !known[k] {
			problems = append(problems, fmt.Sprintf("%s:%s: unknown key; known keys are %s", Namespace, k, strings.Join(keys, ", ")))
		}
	}
	targets := map[string]any{
		"tags": &cfg.Tags, "clusters": &cfg.Clusters, "teams": &cfg.Teams, "networks": &cfg.Networks,
		"auth": &cfg.Auth,
	}
	for _, k := range keys {
		raw, ok := get(k)
		if !ok {
			continue
		}
		switch k {
		case "environment":
			cfg.Environment = raw
		case "version":
			cfg.Version = raw
		case "nodeVersion":
			cfg.NodeVersion = raw
		case "addressSpace":
			cfg.AddressSpace = raw
		default:
			if r := strings.TrimSpace(raw); r == "" || r == "null" {
				continue // a key left empty, e.g. flotilla:networks once its last cluster is gone
			}
			dec := json.NewDecoder(strings.NewReader(raw))
			dec.DisallowUnknownFields()
			if err := dec.Decode(targets[k]); err != nil {
				problems = append(problems, fmt.Sprintf("%s:%s: %v", Namespace, k, err))
			}
		}
	}
	problems = append(problems, cfg.problems()...)
	if len(problems) > 0 {
		return Config{}, &ConfigError{File: file, Problems: problems}
	}
	return cfg, nil
}

// ReadStackFile reads and validates the flotilla: settings of a Pulumi.<stack>.yaml file.
// Unlike a running program, it sees every key, so it also reports unknown ones.
func ReadStackFile(path string) (Config, error) {
	values, err := ReadStackValues(path)
	if err != nil {
		return Config{}, err
	}
	all := make([]string, 0, len(values))
	short := map[string]string{}
	for key, v := range values {
		k := strings.TrimPrefix(key, Namespace+":")
		all = append(all, k)
		short[k] = v
	}
	sort.Strings(all)
	return ParseConfig(path, all, func(k string) (string, bool) { v, ok := short[k]; return v, ok })
}

// ReadStackValues returns the flotilla: settings of a stack file as Pulumi config holds
// them: "flotilla:key" -> a string, or JSON for objects and lists.
func ReadStackValues(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Config map[string]yaml.Node `yaml:"config"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &ConfigError{File: path, Problems: []string{err.Error()}}
	}
	values := map[string]string{}
	for key, node := range doc.Config {
		ns, _, ok := strings.Cut(key, ":")
		if !ok || ns != Namespace {
			continue
		}
		if node.Kind == yaml.ScalarNode {
			values[key] = node.Value
			continue
		}
		var v any
		if err := node.Decode(&v); err != nil {
			return nil, &ConfigError{File: path, Problems: []string{fmt.Sprintf("%s: %v", key, err)}}
		}
		raw, err := json.Marshal(v)
		if err != nil {
			return nil, &ConfigError{File: path, Problems: []string{fmt.Sprintf("%s: %v", key, err)}}
		}
		values[key] = string(raw)
	}
	return values, nil
}

var versionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)

// problems checks what can be reported by its key before the program runs: required
// keys, shapes, durations, pool sizes, versions the simulator does not offer, and the
// pinned network plan. The components check the rest (regions, zones, reserved
// ranges) when the program runs, and repeat these checks for programs of their own.
func (c Config) problems() []string {
	var out []string
	need := func(key, v string) {
		if v == "" {
			out = append(out, fmt.Sprintf("%s:%s is required", Namespace, key))
		}
	}
	need("environment", c.Environment)
	need("version", c.Version)
	need("addressSpace", c.AddressSpace)
	if c.Version != "" && !versionRE.MatchString(c.Version) {
		out = append(out, fmt.Sprintf("%s:version: %q is not a Kubernetes minor such as \"1.31\"", Namespace, c.Version))
	}
	if c.NodeVersion != "" && !versionRE.MatchString(c.NodeVersion) {
		out = append(out, fmt.Sprintf("%s:nodeVersion: %q is not a Kubernetes minor such as \"1.31\"", Namespace, c.NodeVersion))
	}
	if c.AddressSpace != "" {
		if _, err := netip.ParsePrefix(c.AddressSpace); err != nil {
			out = append(out, fmt.Sprintf("%s:addressSpace: %q is not a CIDR block such as \"10.32.0.0/13\"", Namespace, c.AddressSpace))
		}
	}
	if len(c.Clusters) == 0 {
		out = append(out, fmt.Sprintf("%s:clusters: at least one cluster is required", Namespace))
	}
	seen := map[string]bool{}
	for i, cl := range c.Clusters {
		at := fmt.Sprintf("%s:clusters[%d]", Namespace, i)
		if cl.Cloud == "" || cl.Region == "" {
			out = append(out, fmt.Sprintf("%s: cloud and region are required", at))
		}
		name := cl.key()
		if seen[name] {
			out = append(out, fmt.Sprintf("%s: cluster name %q is used twice", at, name))
		}
		seen[name] = true
		if cl.Version != "" && !versionRE.MatchString(cl.Version) {
			out = append(out, fmt.Sprintf("%s.version: %q is not a Kubernetes minor such as \"1.31\"", at, cl.Version))
		}
		if cl.NodeVersion != "" && !versionRE.MatchString(cl.NodeVersion) {
			out = append(out, fmt.Sprintf("%s.nodeVersion: %q is not a Kubernetes minor such as \"1.31\"", at, cl.NodeVersion))
		}
		out = append(out, c.versionProblems(at, cl)...)
		out = append(out, cl.sizeProblems(at)...)
		for j, sp := range cl.SpotPools {
			if sp.Fallback.ProvisionTimeout == "" {
				continue
			}
			if d, err := time.ParseDuration(sp.Fallback.ProvisionTimeout); err != nil || d <= 0 {
				out = append(out, fmt.Sprintf("%s.spotPools[%d].fallback.provisionTimeout: %q is not a positive duration such as \"5m\"", at, j, sp.Fallback.ProvisionTimeout))
			}
		}
	}
	for i, t := range c.Teams {
		at := fmt.Sprintf("%s:teams[%d]", Namespace, i)
		if t.Name == "" {
			out = append(out, at+": name is required")
		}
		for env, a := range t.Access {
			switch envset.Access(a) {
			case envset.AccessAdmin, envset.AccessEdit, envset.AccessView:
			default:
				out = append(out, fmt.Sprintf("%s.access[%s]: %q is not one of admin, edit, view", at, env, a))
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(c.Networks)) {
		if !seen[name] {
			out = append(out, fmt.Sprintf("%s:networks: %q is not a cluster of this stack; remove its ranges once the cluster is destroyed", Namespace, name))
		}
	}
	out = append(out, c.networkProblems()...)
	return out
}

// versionProblems refuses a control-plane or node version the cluster's region does not
// offer, where the offers are known (the simulator's), and a node version newer than
// the cluster's control plane or older than its cloud allows (the version-skew policy,
// https://kubernetes.io/releases/version-skew-policy/#kubelet), naming the keys the
// versions came from.
func (c Config) versionProblems(at string, cl ClusterConfig) []string {
	var out []string
	version, key := cl.Version, at+".version"
	if version == "" {
		version, key = c.Version, Namespace+":version"
	}
	nodes, nodeKey := cl.NodeVersion, at+".nodeVersion"
	if nodes == "" {
		nodes, nodeKey = c.NodeVersion, Namespace+":nodeVersion"
	}
	offered := cluster.OfferedVersions(cluster.Cloud(cl.Cloud), cl.Region)
	for _, v := range []struct{ key, version string }{{key, version}, {nodeKey, nodes}} {
		if v.version == "" || !versionRE.MatchString(v.version) || offered == nil || slices.Contains(offered, v.version) {
			continue
		}
		if v.key == nodeKey && v.version == version {
			continue // reported once, for the control plane
		}
		out = append(out, fmt.Sprintf("%s: %q is not offered in %s, where cluster %q (%s) runs; %s offers %s",
			v.key, v.version, cl.Region, cl.key(), at, cl.Region, strings.Join(offered, ", ")))
	}
	if nodes == "" || !versionRE.MatchString(nodes) || !versionRE.MatchString(version) {
		return out
	}
	var skew *cluster.NodeSkewError
	if errors.As(cluster.CheckNodeVersion(cluster.Cloud(cl.Cloud), version, nodes), &skew) {
		if skew.Behind < 0 {
			out = append(out, fmt.Sprintf("%s: %q is newer than the control plane's %q (%s) of cluster %q (%s): nodes never run a newer minor than their control plane",
				nodeKey, nodes, version, key, cl.key(), at))
		} else {
			out = append(out, fmt.Sprintf("%s: %q is %d minors older than the control plane's %q (%s) of cluster %q (%s); nodes on %s may be at most %d older",
				nodeKey, nodes, skew.Behind, version, key, cl.key(), at, cl.Cloud, skew.Max))
		}
	}
	return out
}

// sizeProblems checks the pools' sizes: a minimum above its maximum, negative sizes,
// and a fallback too small to keep its spot pool at the minimum.
func (cl ClusterConfig) sizeProblems(at string) []string {
	var out []string
	add := func(format string, a ...any) {
		out = append(out, fmt.Sprintf(format, a...)+fmt.Sprintf(" (cluster %q)", cl.key()))
	}
	sys := cl.SystemPool
	switch {
	case sys.MinSize == 0 && sys.MaxSize == 0: // the cluster's defaults
	case sys.MinSize < 1:
		add("%s.systemPool.minSize: %d is below 1: the system pool runs the cluster's add-ons, so it needs a node", at, sys.MinSize)
	case sys.MinSize > sys.MaxSize:
		add("%s.systemPool: minSize %d is greater than maxSize %d", at, sys.MinSize, sys.MaxSize)
	}
	for j, sp := range cl.SpotPools {
		pool := fmt.Sprintf("%s.spotPools[%d]", at, j)
		switch {
		case sp.MinSize < 0:
			add("%s.minSize: %d is negative", pool, sp.MinSize)
		case sp.MaxSize < 1:
			add("%s.maxSize: %d is below 1: the pool could never have a node", pool, sp.MaxSize)
		case sp.MinSize > sp.MaxSize:
			add("%s: minSize %d is greater than maxSize %d", pool, sp.MinSize, sp.MaxSize)
		}
		f := sp.Fallback
		switch {
		case f.MaxSize < 0:
			add("%s.fallback.maxSize: %d is negative", pool, f.MaxSize)
		case !f.Disabled && f.MaxSize > 0 && f.MaxSize < sp.MinSize && sp.MinSize <= sp.MaxSize:
			add("%s: fallback.maxSize %d is below minSize %d: when spot runs out, the fallback could not keep the pool at its minimum", pool, f.MaxSize, sp.MinSize)
		}
	}
	return out
}

// PinnedRange is one range of flotilla:networks, with the key it is set under.
type PinnedRange struct {
	Cluster string       // the cluster's name
	Field   string       // vpcCIDR, podCIDR or serviceCIDR
	Prefix  netip.Prefix // the range
}

// Key is the range's setting, e.g. flotilla:networks.east-1.podCIDR.
func (r PinnedRange) Key() string {
	return fmt.Sprintf("%s:networks.%s.%s", Namespace, r.Cluster, r.Field)
}

// networkProblems checks flotilla:networks: every range a canonical IPv4 CIDR inside
// the address space, and no two ranges of the stack overlapping, within a cluster or
// across its clusters.
func (c Config) networkProblems() []string {
	var out []string
	space, spaceErr := netip.ParsePrefix(c.AddressSpace)
	var ranges []PinnedRange
	for _, name := range slices.Sorted(maps.Keys(c.Networks)) {
		n := c.Networks[name]
		for _, f := range []struct{ field, value string }{{"vpcCIDR", n.VPCCIDR}, {"podCIDR", n.PodCIDR}, {"serviceCIDR", n.ServiceCIDR}} {
			r := PinnedRange{Cluster: name, Field: f.field}
			p, err := netip.ParsePrefix(f.value)
			switch {
			case f.value == "":
				out = append(out, fmt.Sprintf("%s is required: a pinned plan has all three ranges", r.Key()))
				continue
			case err != nil || !p.Addr().Is4():
				out = append(out, fmt.Sprintf("%s: %q is not an IPv4 CIDR block such as \"10.32.0.0/20\"", r.Key(), f.value))
				continue
			case p != p.Masked():
				out = append(out, fmt.Sprintf("%s: %q has host bits set; did you mean %q?", r.Key(), f.value, p.Masked().String()))
				continue
			case spaceErr == nil && (space.Bits() > p.Bits() || !space.Contains(p.Addr())):
				out = append(out, fmt.Sprintf("%s: %q lies outside %s:addressSpace %q", r.Key(), f.value, Namespace, c.AddressSpace))
			}
			r.Prefix = p
			ranges = append(ranges, r)
		}
	}
	for i := range ranges {
		for j := i + 1; j < len(ranges); j++ {
			if ranges[i].Prefix.Overlaps(ranges[j].Prefix) {
				out = append(out, fmt.Sprintf("%s %q overlaps %s %q: every range of a stack's clusters must be disjoint",
					ranges[j].Key(), ranges[j].Prefix, ranges[i].Key(), ranges[i].Prefix))
			}
		}
	}
	return out
}

// NetworkPlan returns the ranges every cluster of the stack gets, by cluster name: those
// pinned in flotilla:networks, and for the others the ones the program would plan.
// Pinned reports which clusters' ranges are pinned.
func (c Config) NetworkPlan() (plan map[string]cluster.Network, pinned map[string]bool, err error) {
	args := c.fleetArgs(nil)
	specs := make([]geofleet.ClusterSpec, len(args.Clusters))
	copy(specs, args.Clusters)
	plan, err = geofleet.PlanNetworks(c.AddressSpace, specs, args.Previous)
	if err != nil {
		return nil, nil, err
	}
	pinned = map[string]bool{}
	for _, cl := range c.Clusters {
		_, pinned[cl.key()] = c.Networks[cl.key()]
	}
	return plan, pinned, nil
}

// ClusterNames returns the names of the stack's clusters, in the order they are listed.
func (c Config) ClusterNames() []string {
	out := make([]string, len(c.Clusters))
	for i, cl := range c.Clusters {
		out[i] = cl.key()
	}
	return out
}

func (cl ClusterConfig) key() string {
	if cl.Name != "" {
		return cl.Name
	}
	return cl.Cloud + "-" + cl.Region
}

// fleetArgs turns the configuration into the GeoFleet's arguments.
func (c Config) fleetArgs(tags costtags.Tags) *geofleet.Args {
	args := &geofleet.Args{
		Environment:  c.Environment,
		Version:      c.Version,
		NodeVersion:  c.NodeVersion,
		AddressSpace: c.AddressSpace,
		Tags:         tags,
		Previous:     map[string]cluster.Network{},
		Auth: cluster.Auth{
			GoogleSecurityGroup: c.Auth.GoogleSecurityGroup,
			EntraTenantID:       c.Auth.EntraTenantID,
			EntraAdminGroupIDs:  c.Auth.EntraAdminGroupIDs,
			Kubelogin:           c.Auth.Kubelogin,
		},
	}
	for name, n := range c.Networks {
		args.Previous[name] = cluster.Network{VPCCIDR: n.VPCCIDR, PodCIDR: n.PodCIDR, ServiceCIDR: n.ServiceCIDR}
	}
	for _, cl := range c.Clusters {
		spec := geofleet.ClusterSpec{
			Name:        cl.Name,
			Cloud:       cluster.Cloud(cl.Cloud),
			Region:      cl.Region,
			Zones:       cl.Zones,
			Version:     cl.Version,
			NodeVersion: cl.NodeVersion,
			SystemPool: cluster.SystemPool{
				InstanceType: cl.SystemPool.InstanceType,
				MinSize:      cl.SystemPool.MinSize,
				MaxSize:      cl.SystemPool.MaxSize,
			},
			API: cluster.APIAccess{
				AllowedCIDRs:  cl.API.AllowedCIDRs,
				AllowAnywhere: cl.API.AllowAnywhere,
				Private:       cl.API.Private,
			},
			SecretsKey:        cl.SecretsKey,
			AuditLogWorkspace: cl.AuditLogWorkspace,
		}
		for _, sp := range cl.SpotPools {
			timeout, _ := time.ParseDuration(sp.Fallback.ProvisionTimeout) // validated in problems
			spec.SpotPools = append(spec.SpotPools, geofleet.SpotPoolSpec{
				Name:          sp.Name,
				InstanceTypes: sp.InstanceTypes,
				MinSize:       sp.MinSize,
				MaxSize:       sp.MaxSize,
				Fallback: spotpool.Fallback{
					Disabled:         sp.Fallback.Disabled,
					InstanceTypes:    sp.Fallback.InstanceTypes,
					MaxSize:          sp.Fallback.MaxSize,
					ProvisionTimeout: timeout,
				},
			})
		}
		args.Clusters = append(args.Clusters, spec)
	}
	return args
}

// teams turns the configuration into the EnvironmentSet's teams.
func (c Config) teams() []envset.Team {
	out := make([]envset.Team, 0, len(c.Teams))
	for _, t := range c.Teams {
		access := map[string]envset.Access{}
		for env, a := range t.Access {
			access[env] = envset.Access(a)
		}
		var podSecurity map[string]envset.PodSecurity
		if len(t.PodSecurity) > 0 {
			podSecurity = map[string]envset.PodSecurity{}
			for env, level := range t.PodSecurity {
				podSecurity[env] = envset.PodSecurity(level)
			}
		}
		out = append(out, envset.Team{
			Name: t.Name, Namespaces: t.Namespaces, Access: access, PodSecurity: podSecurity,
			Identity: envset.TeamIdentity{
				AWSRoleARNs:  t.Identity.AWSRoleARNs,
				GoogleGroup:  t.Identity.GoogleGroup,
				EntraGroupID: t.Identity.EntraGroupID,
			},
		})
	}
	return out
}
