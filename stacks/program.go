package stacks

import (
	_ "embed"
	"fmt"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/envset"
	"github.com/flotilla-io/flotilla/components/geofleet"
	fleetsim "github.com/flotilla-io/flotilla/internal/fleetsim/sdk"
)

//go:embed environments.yaml
var environmentsYAML []byte

// Environments returns the promotion order and gates in stacks/environments.yaml, the
// set every stack and the deploy program share.
func Environments() (envset.Set, error) {
	return envset.Parse(environmentsYAML, "stacks/environments.yaml")
}

// Program builds one stack's fleet from its stack configuration: cost tags on
// everything, a GeoFleet of clusters with spot pools, and the EnvironmentSet's
// namespaces and access rules in every cluster. It is what `pulumi up -s <stack>` runs
// (through cmd/stack) and what the deploy program runs inline.
//
// It exports endpoints, versions (each cluster's control-plane minor), kubeconfigs
// (secret), the network plan, the fleet's hourly cost, clusters (name, cloud, region,
// autoUpgrade) and pools (each cluster's node pools with their sizes and version).
func Program(ctx *pulumi.Context) error {
	set, err := Environments()
	if err != nil {
		return err
	}
	return program(ctx, set)
}

// ProgramFor is Program over another environment set than stacks/environments.yaml: a
// project of its own, with its environments and accounts, runs the same program.
func ProgramFor(set envset.Set) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		if err := set.Validate(); err != nil {
			return fmt.Errorf("environment set: %w", err)
		}
		return program(ctx, set)
	}
}

func program(ctx *pulumi.Context, set envset.Set) error {
	cfg, err := ConfigFromContext(ctx)
	if err != nil {
		return err
	}
	env, ok := set.Get(cfg.Environment)
	if !ok {
		return &ConfigError{File: stackFile(ctx), Problems: []string{
			fmt.Sprintf("%s:environment: %q is not one of the environments in stacks/environments.yaml (%v)", Namespace, cfg.Environment, set.Names()),
		}}
	}

	tags := costtags.Tags{}
	for k, v := range cfg.Tags {
		tags[k] = v
	}
	tags["env"] = cfg.Environment

	args := cfg.fleetArgs(tags)
	// The simulator's mode is the stack's own setting, never the shell's FLEETSIM_KUBE.
	args.SimLite = !fleetsim.KubeMode(ctx)
	// Every cloud's providers are pinned to the environment's account there, so that a
	// stack of one environment cannot deploy into another's. A fleet the stack's
	// settings contradict is refused before anything registers.
	args.Accounts = map[cluster.Cloud]string{}
	for _, c := range []cluster.Cloud{cluster.AWS, cluster.GCP, cluster.Azure} {
		if a := env.AccountFor(c); a != "" {
			args.Accounts[c] = a
		}
	}
	if err := geofleet.Check(ctx, cfg.Environment, args); err != nil {
		return err
	}
	if _, err := costtags.New(ctx, "cost-tags", &costtags.Args{Tags: tags}); err != nil {
		return err
	}
	fleet, err := geofleet.New(ctx, cfg.Environment, args)
	if err != nil {
		return err
	}

	names := make([]string, 0, len(fleet.Clusters))
	for name := range fleet.Clusters {
		names = append(names, name)
	}
	sort.Strings(names)
	clusters := make([]*cluster.Cluster, 0, len(names))
	for _, name := range names {
		clusters = append(clusters, fleet.Clusters[name])
	}
	if _, err := envset.New(ctx, cfg.Environment+"-access", &envset.Args{
		Set:         set,
		Environment: cfg.Environment,
		Clusters:    clusters,
		Teams:       cfg.teams(),
		Tags:        tags,
	}); err != nil {
		return err
	}

	ctx.Export("environment", pulumi.String(cfg.Environment))
	ctx.Export("endpoints", fleet.Endpoints)
	ctx.Export("versions", fleet.Versions)
	ctx.Export("kubeconfigs", pulumi.ToSecret(fleet.Kubeconfigs))
	ctx.Export("networks", networkOutput(fleet.Networks))
	ctx.Export("hourlyCost", hourlyCost(fleet))
	ctx.Export("clusters", clustersOutput(fleet))
	ctx.Export("pools", poolsOutput(fleet, args))
	return nil
}

// clustersOutput says where each cluster runs: its name in its cloud, the cloud and the
// region, so that the deploy program can ask the cloud about it, and whether anything
// but Flotilla upgrades it.
func clustersOutput(fleet *geofleet.GeoFleet) pulumi.Map {
	out := pulumi.Map{}
	for key, c := range fleet.Clusters {
		out[key] = pulumi.Map{
			"name":   c.Name,
			"cloud":  pulumi.String(string(c.Cloud)),
			"region": pulumi.String(c.Region),
			// What upgrades the cluster's minor besides Flotilla, as its resource says:
			// cluster.AutoUpgradeNone when nothing does.
			"autoUpgrade": c.AutoUpgrade,
		}
	}
	return out
}

// poolsOutput lists each cluster's node pools as the health gate and upgrades read them:
// the cloud's name of the pool, its nodes' flotilla.io/pool label and capacity type, its
// sizes, the Kubernetes minor it runs (read from its resource, so that it is the
// state's), and for a fallback the spot pool it backs.
func poolsOutput(fleet *geofleet.GeoFleet, args *geofleet.Args) pulumi.Map {
	out := pulumi.Map{}
	for _, spec := range args.Clusters {
		key := spec.Name
		if key == "" {
			key = string(spec.Cloud) + "-" + spec.Region
		}
		c, ok := fleet.Clusters[key]
		if !ok {
			continue
		}
		// The cluster component defaults an unset system pool; it has at least 1 node.
		sysMin, sysMax := max(spec.SystemPool.MinSize, 1), max(spec.SystemPool.MaxSize, spec.SystemPool.MinSize, 1)
		pools := pulumi.Array{pulumi.Map{
			"name":         pulumi.String(cluster.SystemPoolName),
			"label":        pulumi.String(cluster.SystemPoolName),
			"capacityType": pulumi.String(string(cluster.OnDemand)),
			"minSize":      pulumi.Int(sysMin),
			"maxSize":      pulumi.Int(sysMax),
			"version":      c.NodeVersion,
		}}
		for _, sp := range spec.SpotPools {
			p, ok := fleet.SpotPools[key][sp.Name]
			if !ok {
				continue
			}
			label := p.NodeSelector.MapIndex(pulumi.String(cluster.LabelPool))
			pools = append(pools, pulumi.Map{
				"name":         p.SpotPoolName,
				"label":        label,
				"capacityType": pulumi.String(string(cluster.Spot)),
				"minSize":      pulumi.Int(sp.MinSize),
				"maxSize":      pulumi.Int(sp.MaxSize),
				"version":      p.SpotVersion,
			})
			if sp.Fallback.Disabled {
				continue
			}
			fallbackMax := sp.Fallback.MaxSize
			if fallbackMax == 0 {
				fallbackMax = sp.MaxSize
			}
			pools = append(pools, pulumi.Map{
				"name":         p.FallbackPoolName,
				"label":        label,
				"capacityType": pulumi.String(string(cluster.OnDemand)),
				"minSize":      pulumi.Int(0),
				"maxSize":      pulumi.Int(fallbackMax),
				"version":      p.FallbackVersion,
				"fallbackFor":  p.SpotPoolName,
			})
		}
		out[key] = pools
	}
	return out
}

// ConfigFromContext reads and validates the stack's flotilla: settings.
func ConfigFromContext(ctx *pulumi.Context) (Config, error) {
	c := config.New(ctx, Namespace)
	// The engine hands a program only the keys it asks for, so unknown keys are caught
	// by ReadStackFile, which the deploy program runs before anything changes.
	return ParseConfig(stackFile(ctx), nil, func(k string) (string, bool) {
		v, err := c.Try(k)
		return v, err == nil
	})
}

func stackFile(ctx *pulumi.Context) string {
	return fmt.Sprintf("stacks/Pulumi.%s.yaml", ctx.Stack())
}

func networkOutput(plan map[string]cluster.Network) pulumi.Map {
	out := pulumi.Map{}
	for name, n := range plan {
		out[name] = pulumi.StringMap{
			"vpcCIDR":     pulumi.String(n.VPCCIDR),
			"podCIDR":     pulumi.String(n.PodCIDR),
			"serviceCIDR": pulumi.String(n.ServiceCIDR),
		}
	}
	return out
}

// hourlyCost sums what the fleet's node pools cost per hour, in US dollars. Only the
// simulator prices pools at deploy time; on the real clouds the pools report 0 and
// the cost tags carry cost to the billing reports instead.
func hourlyCost(fleet *geofleet.GeoFleet) pulumi.Float64Output {
	var costs []any
	for _, pools := range fleet.SpotPools {
		for _, p := range pools {
			costs = append(costs, p.HourlyCost)
		}
	}
	return pulumi.All(costs...).ApplyT(func(vs []any) float64 {
		var total float64
		for _, v := range vs {
			total += v.(float64)
		}
		return total
	}).(pulumi.Float64Output)
}
