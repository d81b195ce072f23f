package geofleet

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/spotpool"
)

// TypeToken is the Pulumi type of the GeoFleet component.
const TypeToken = "flotilla:geofleet:GeoFleet"

// SpotPoolSpec is one spot node pool of a cluster, with its on-demand fallback.
type SpotPoolSpec struct {
	Name             string
	InstanceTypes    []string
	MinSize, MaxSize int
	Fallback         spotpool.Fallback
}

// ClusterSpec places one cluster of the fleet.
type ClusterSpec struct {
	Name    string // empty: "<cloud>-<region>"
	Cloud   cluster.Cloud
	Region  string
	Zones   []string
	Version string // empty: the fleet's Version
	// NodeVersion is the minor of the cluster's node pools; empty: the fleet's
	// NodeVersion, and without one the cluster's Version (cluster.Args.NodeVersion).
	NodeVersion string
	Network     *cluster.Network // nil: allocated from the address space
	SystemPool  cluster.SystemPool
	SpotPools   []SpotPoolSpec
	// API, SecretsKey and AuditLogWorkspace are the cluster's (cluster.Args).
	API               cluster.APIAccess
	SecretsKey        string
	AuditLogWorkspace string
}

// key is the cluster's name in the fleet: its Name, or "<cloud>-<region>".
func (s ClusterSpec) key() string {
	switch {
	case s.Name != "":
		return s.Name
	case s.Cloud == "" || s.Region == "":
		return ""
	default:
		return string(s.Cloud) + "-" + s.Region
	}
}

// Args configures a GeoFleet.
type Args struct {
	Environment string
	Version     string // Kubernetes minor every cluster runs unless its spec says otherwise
	// NodeVersion is the minor every cluster's node pools run unless its spec says
	// otherwise; empty: each cluster's control-plane version.
	NodeVersion  string
	AddressSpace string // the environment's block, e.g. "10.32.0.0/11"
	Clusters     []ClusterSpec
	Tags         costtags.Tags
	// Previous is the network plan the fleet was last deployed with, keyed by cluster
	// name. The stacks keep it in their stack configuration and pass it here, so that
	// no cluster's ranges ever move; see PlanNetworks.
	Previous map[string]cluster.Network
	// Auth is how people and automation sign in to every cluster of the fleet
	// (cluster.Args.Auth).
	Auth cluster.Auth
	// SimLite runs the fleet's simulator clusters in lite mode (cluster.Args.SimLite).
	SimLite bool
	// Accounts is the account each cloud's clusters live in (envset.Environment's
	// AccountFor): an AWS account id, a GCP project id, an Azure subscription id. Each
	// cloud's providers are pinned to it (aws allowedAccountIds, the gcp project, the
	// azure-native subscription), and a stack whose own provider settings name another
	// account is refused before anything registers. A cloud missing from it takes the
	// stack's settings as they are.
	Accounts map[cluster.Cloud]string
}

// GeoFleet is one environment's clusters across clouds and regions.
type GeoFleet struct {
	pulumi.ResourceState

	// Clusters, Networks and SpotPools are keyed by cluster name.
	Clusters    map[string]*cluster.Cluster
	Endpoints   pulumi.StringMapOutput `pulumi:"endpoints"`
	Versions    pulumi.StringMapOutput `pulumi:"versions"`
	Kubeconfigs pulumi.StringMapOutput `pulumi:"kubeconfigs"` // secret
	// Networks is the plan: pass it back as Args.Previous next time.
	Networks map[string]cluster.Network
	// SpotPools holds each cluster's spot pools, keyed by pool name.
	SpotPools map[string]map[string]*spotpool.SpotNodePool
}

// InvalidArgsError lists every problem with a GeoFleet's Args. It wraps each problem, so
// IsExhausted sees an address space the fleet does not fit.
type InvalidArgsError struct {
	Name     string
	Problems []error
}

// Error lists the problems, one a line.
func (e *InvalidArgsError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = "  " + strings.ReplaceAll(p.Error(), "\n", "\n  ")
	}
	return fmt.Sprintf("geofleet %q: invalid args:\n%s", e.Name, strings.Join(msgs, "\n"))
}

// Unwrap returns the individual problems.
func (e *InvalidArgsError) Unwrap() []error { return e.Problems }

// IsInvalidArgs reports whether err is, or wraps, an InvalidArgsError.
func IsInvalidArgs(err error) bool {
	var target *InvalidArgsError
	return errors.As(err, &target)
}

var (
	versionPattern = regexp.MustCompile(`^[1-9][0-9]*\.(0|[1-9][0-9]*)$`)
	// labelValue is a Kubernetes label value; a spot pool's name is one.
	labelValue = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
)

// member is one cluster of the fleet, resolved from its spec and the plan.
type member struct {
	name string // the cluster component's name: the fleet's name and key
	key  string // the cluster's name in the fleet
	spec ClusterSpec
	args *cluster.Args
}

// New creates the fleet: a provider per cloud and region, every cluster on its planned
// network, and each cluster's spot pools. Args are validated first, the network plan
// included; every problem is reported at once, as an *InvalidArgsError, and nothing is
// registered.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*GeoFleet, error) {
	members, plan, creds, err := check(ctx, name, args)
	if err != nil {
		return nil, err
	}

	fleet := &GeoFleet{
		Clusters:  make(map[string]*cluster.Cluster, len(members)),
		Networks:  plan,
		SpotPools: make(map[string]map[string]*spotpool.SpotNodePool, len(members)),
	}
	if err := ctx.RegisterComponentResource(TypeToken, name, fleet, opts...); err != nil {
		return nil, fmt.Errorf("geofleet %q: %w", name, err)
	}

	providers := map[string]pulumi.ProviderResource{}
	endpoints, versions, kubeconfigs := pulumi.StringMap{}, pulumi.StringMap{}, pulumi.StringMap{}
	for _, m := range members {
		where := regionKey(m.spec.Cloud, m.spec.Region)
		p, ok := providers[where]
		if !ok {
			if p, err = newProvider(ctx, name+"-"+where, m.spec.Cloud, m.spec.Region, creds, pulumi.Parent(fleet)); err != nil {
				return nil, fmt.Errorf("geofleet %q: provider for %s: %w", name, where, err)
			}
			providers[where] = p
		}
		childOpts := []pulumi.ResourceOption{pulumi.Parent(fleet), pulumi.Providers(p)}

		c, err := cluster.New(ctx, m.name, m.args, childOpts...)
		if err != nil {
			return nil, fmt.Errorf("geofleet %q: %w", name, err)
		}
		fleet.Clusters[m.key] = c
		endpoints[m.key] = c.Endpoint
		versions[m.key] = c.Version
		kubeconfigs[m.key] = c.Kubeconfig

		pools := make(map[string]*spotpool.SpotNodePool, len(m.spec.SpotPools))
		for _, sp := range m.spec.SpotPools {
			// The pool's name is its nodes' pool label; the cluster's tags reach it.
			pool, err := spotpool.New(ctx, m.name+"-"+sp.Name, &spotpool.Args{
				Cluster:       c,
				InstanceTypes: sp.InstanceTypes,
				MinSize:       sp.MinSize,
				MaxSize:       sp.MaxSize,
				Fallback:      sp.Fallback,
			}, childOpts...)
			if err != nil {
				return nil, fmt.Errorf("geofleet %q: cluster %q: %w", name, m.key, err)
			}
			pools[sp.Name] = pool
		}
		fleet.SpotPools[m.key] = pools
	}

	fleet.Endpoints = endpoints.ToStringMapOutput()
	fleet.Versions = versions.ToStringMapOutput()
	fleet.Kubeconfigs = pulumi.ToSecret(kubeconfigs.ToStringMapOutput()).(pulumi.StringMapOutput)

	networks := pulumi.Map{}
	for n, net := range plan {
		networks[n] = pulumi.StringMap{
			"vpcCidr":     pulumi.String(net.VPCCIDR),
			"podCidr":     pulumi.String(net.PodCIDR),
			"serviceCidr": pulumi.String(net.ServiceCIDR),
		}
	}
	if err := ctx.RegisterResourceOutputs(fleet, pulumi.Map{
		"endpoints":   fleet.Endpoints,
		"versions":    fleet.Versions,
		"kubeconfigs": fleet.Kubeconfigs,
		"networks":    networks,
	}); err != nil {
		return nil, fmt.Errorf("geofleet %q: register outputs: %w", name, err)
	}
	return fleet, nil
}

// Check validates args as New does, the stack's provider settings against the accounts
// included, and registers nothing: a program calls it before it registers anything else,
// so that a fleet New would refuse leaves no resource behind.
func Check(ctx *pulumi.Context, name string, args *Args) error {
	_, _, _, err := check(ctx, name, args)
	return err
}

func check(ctx *pulumi.Context, name string, args *Args) ([]member, map[string]cluster.Network, credentials, error) {
	members, plan, err := resolve(name, args)
	if err != nil {
		return nil, nil, credentials{}, err
	}
	clouds := map[cluster.Cloud]bool{}
	for _, m := range members {
		clouds[m.spec.Cloud] = true
	}
	creds, problems := readCredentials(ctx, args.Accounts, clouds)
	if len(problems) > 0 {
		return nil, nil, credentials{}, &InvalidArgsError{Name: name, Problems: problems}
	}
	return members, plan, creds, nil
}

// resolve validates args, plans the networks and builds each cluster's Args, in the
// order the clusters are listed. It reports every problem at once.
func resolve(name string, args *Args) ([]member, map[string]cluster.Network, error) {
	if args == nil {
		return nil, nil, &InvalidArgsError{Name: name, Problems: []error{errors.New("args are required")}}
	}
	var problems []error
	fail := func(format string, a ...any) { problems = append(problems, fmt.Errorf(format, a...)) }

	if name == "" {
		fail("name is empty: the fleet's resources are named after it")
	}
	if args.Environment == "" {
		fail("Environment is empty: name the environment the fleet belongs to, such as \"dev\"")
	}
	if !versionPattern.MatchString(args.Version) {
		fail("Version %q is not a Kubernetes minor in MAJOR.MINOR form, such as \"1.31\"", args.Version)
	}
	if args.NodeVersion != "" && !versionPattern.MatchString(args.NodeVersion) {
		fail("NodeVersion %q is not a Kubernetes minor in MAJOR.MINOR form, such as \"1.31\"", args.NodeVersion)
	}
	if len(args.Clusters) == 0 {
		fail("Clusters is empty: a fleet has at least one cluster")
	}
	tags := maps.Clone(args.Tags)
	if tags == nil {
		tags = costtags.Tags{}
	}
	switch env, ok := tags["env"]; {
	case !ok || env == "":
		tags["env"] = args.Environment
	case args.Environment != "" && !strings.EqualFold(env, args.Environment):
		fail("Tags[\"env\"] %q differs from Environment %q: leave it out, the fleet sets it", env, args.Environment)
	}

	plan, err := PlanNetworks(args.AddressSpace, args.Clusters, args.Previous)
	if err != nil {
		problems = append(problems, flatten(err)...)
	}

	members := make([]member, 0, len(args.Clusters))
	for i, spec := range args.Clusters {
		cname := spec.key()
		if cname == "" {
			continue // PlanNetworks reported it
		}
		version := spec.Version
		if version == "" {
			version = args.Version
		}
		nodeVersion := spec.NodeVersion
		if nodeVersion == "" {
			nodeVersion = args.NodeVersion
		}
		ca := &cluster.Args{
			Cloud:       spec.Cloud,
			Region:      spec.Region,
			Zones:       spec.Zones,
			Version:     version,
			NodeVersion: nodeVersion,
			Network:     plan[cname],
			SystemPool:  spec.SystemPool,
			Tags:        maps.Clone(tags),

			API:               spec.API,
			SecretsKey:        spec.SecretsKey,
			AuditLogWorkspace: spec.AuditLogWorkspace,
			Auth:              args.Auth,
			SimLite:           args.SimLite && spec.Cloud == cluster.Sim,
		}
		var clusterProblems []error
		ca.MaxNodeProvisionTime, clusterProblems = checkCluster(spec, ca)
		for _, p := range clusterProblems {
			problems = append(problems, fmt.Errorf("cluster %q (Clusters[%d]): %w", cname, i, p))
		}
		members = append(members, member{name: name + "-" + cname, key: cname, spec: spec, args: ca})
	}
	for _, m := range members {
		for _, sp := range m.spec.SpotPools {
			if sp.Name != "" && !labelValue.MatchString(m.name+"-"+sp.Name) {
				fail("cluster %q spot pool %q: its name %q is also its nodes' %s label, which holds at most 63 letters, digits, '-', '_' or '.': shorten the fleet, cluster or pool name",
					m.key, sp.Name, m.name+"-"+sp.Name, cluster.LabelPool)
			}
		}
	}

	if len(problems) > 0 {
		return nil, nil, &InvalidArgsError{Name: name, Problems: problems}
	}
	return members, plan, nil
}

// checkCluster checks what a cluster needs before anything is registered, and returns
// the autoscaler's fallback delay its spot pools ask for. The cluster and spot pool
// components check the rest of their arguments when they are created.
func checkCluster(spec ClusterSpec, ca *cluster.Args) (time.Duration, []error) {
	var problems []error
	fail := func(format string, a ...any) { problems = append(problems, fmt.Errorf(format, a...)) }

	switch regions := cluster.Regions(spec.Cloud); {
	case regions == nil:
		fail("Cloud %q is unknown: use %q, %q, %q or %q", spec.Cloud, cluster.AWS, cluster.GCP, cluster.Azure, cluster.Sim)
	case !slices.Contains(regions, spec.Region):
		fail("Region %q is unknown for cloud %q: use one of %s", spec.Region, spec.Cloud, strings.Join(regions, ", "))
	}
	if spec.Version != "" && !versionPattern.MatchString(spec.Version) {
		fail("Version %q is not a Kubernetes minor in MAJOR.MINOR form, such as \"1.31\"", spec.Version)
	}
	if spec.NodeVersion != "" && !versionPattern.MatchString(spec.NodeVersion) {
		fail("NodeVersion %q is not a Kubernetes minor in MAJOR.MINOR form, such as \"1.31\"", spec.NodeVersion)
	}
	if ca.NodeVersion != "" {
		if err := cluster.CheckNodeVersion(spec.Cloud, ca.Version, ca.NodeVersion); err != nil {
			fail("NodeVersion %q and Version %q: %w", ca.NodeVersion, ca.Version, err)
		}
	}
	prod := cluster.IsProd(ca.Tags)

	seen := map[string]int{}
	var timeout time.Duration
	timeoutFrom := ""
	for j, sp := range spec.SpotPools {
		pool := fmt.Sprintf("SpotPools[%d] %q", j, sp.Name)
		switch first, dup := seen[sp.Name]; {
		case sp.Name == "":
			fail("SpotPools[%d] has no Name", j)
		case dup:
			fail("SpotPools[%d] and SpotPools[%d] are both named %q", first, j, sp.Name)
		case sp.Name == cluster.SystemPoolName:
			fail("%s: %q is the cluster's system pool; a spot pool cannot be a system pool, pick another name", pool, sp.Name)
		default:
			seen[sp.Name] = j
		}
		if len(sp.InstanceTypes) < 2 {
			fail("%s: InstanceTypes %q has %d type(s); a spot pool needs at least 2, and 4 or more is better", pool, sp.InstanceTypes, len(sp.InstanceTypes))
		}
		switch {
		case sp.MinSize < 0:
			fail("%s: MinSize %d is negative", pool, sp.MinSize)
		case sp.MaxSize < 1:
			fail("%s: MaxSize %d is below 1: the pool could never have a node", pool, sp.MaxSize)
		case sp.MinSize > sp.MaxSize:
			fail("%s: MinSize %d is greater than MaxSize %d", pool, sp.MinSize, sp.MaxSize)
		}
		switch f := sp.Fallback; {
		case f.MaxSize < 0:
			fail("%s: Fallback.MaxSize %d is negative", pool, f.MaxSize)
		case !f.Disabled && f.MaxSize > 0 && f.MaxSize < sp.MinSize:
			fail("%s: Fallback.MaxSize %d is below MinSize %d: when spot runs out, the fallback could not keep the pool at its minimum", pool, f.MaxSize, sp.MinSize)
		}
		if sp.Fallback.Disabled && sp.MinSize == 0 && prod {
			fail("%s: Fallback.Disabled with MinSize 0 on a prod cluster leaves no guaranteed capacity; keep the fallback or set MinSize above 0", pool)
		}
		switch t := sp.Fallback.ProvisionTimeout; {
		case t < 0:
			fail("%s: Fallback.ProvisionTimeout %q is negative", pool, t.String())
		case t == 0:
		case timeoutFrom == "":
			timeout, timeoutFrom = t, sp.Name
		case t != timeout:
			fail("spot pools %q and %q ask for Fallback.ProvisionTimeout %q and %q, but the autoscaler waits the same time for every pool of a cluster: make them equal",
				timeoutFrom, sp.Name, timeout.String(), t.String())
		}
	}
	return timeout, problems
}

// flatten lists the problems an error joins, so that they are reported one a line.
func flatten(err error) []error {
	if multi, ok := err.(interface{ Unwrap() []error }); ok {
		return slices.Clone(multi.Unwrap())
	}
	return []error{err}
}

// regionKey names a cloud and region, for the provider they share.
func regionKey(cloud cluster.Cloud, region string) string {
	return string(cloud) + "-" + region
}
