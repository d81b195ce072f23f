package spotpool

import (
	"fmt"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TypeToken is the Pulumi type of the SpotNodePool component.
const TypeToken = "flotilla:spotpool:SpotNodePool"

// backend builds one cloud's node groups. Each cloud's backend lives in its own file.
type backend interface {
	// provision registers, as children of p, the fallback groups when s.fallback and then
	// the spot groups, each spot group depending on every fallback group, and returns
	// their cloud names. A spot group waits for its fallback, so one update that
	// upgrades both upgrades the fallback first and spot only once the fallback's
	// update has finished: the fallback's capacity is there while spot nodes roll.
	provision(ctx *pulumi.Context, p *SpotNodePool, s *spec) (*groups, error)
}

// groups are the cloud names of a pool's node groups, in order of preference, and the
// versions they run.
type groups struct {
	spot, fallback []pulumi.StringOutput
	// spotVersions and fallbackVersions are the groups' Kubernetes versions, as their
	// resources report them.
	spotVersions, fallbackVersions []pulumi.StringOutput
	// costs are the groups' prices per hour, where the cloud reports them at deploy
	// time (the simulator does; the real clouds bill through the cost tags instead).
	costs []pulumi.Float64Output
}

// New creates a spot node pool on args.Cluster with an on-demand fallback.
//
// Both carry the label flotilla.io/pool=<name>; spot nodes also carry
// flotilla.io/capacity=spot and the taint flotilla.io/capacity=spot:NoSchedule, fallback
// nodes flotilla.io/capacity=on-demand. A workload that sets NodeSelector and tolerates
// Tolerations runs on spot while there is spot, and on the fallback otherwise. Args are
// validated first: every problem is reported at once, as an *InvalidArgsError, and
// nothing is registered.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*SpotNodePool, error) {
	s, err := resolve(name, args)
	if err != nil {
		return nil, err
	}
	b, err := backendFor(s.cluster.Cloud)
	if err != nil {
		return nil, fmt.Errorf("spot pool %q: %w", name, err)
	}

	p := &SpotNodePool{}
	if err := ctx.RegisterComponentResource(TypeToken, name, p, opts...); err != nil {
		return nil, fmt.Errorf("spot pool %q: %w", name, err)
	}
	for _, w := range s.warnings {
		if err := ctx.Log.Warn(w, &pulumi.LogArgs{Resource: p}); err != nil {
			return nil, fmt.Errorf("spot pool %q: %w", name, err)
		}
	}
	g, err := b.provision(ctx, p, s)
	if err != nil {
		return nil, fmt.Errorf("spot pool %q (%s): %w", name, s.cluster.Cloud, err)
	}

	p.SpotPoolNames = names(g.spot)
	p.FallbackPoolNames = names(g.fallback)
	p.SpotPoolName = first(g.spot)
	p.FallbackPoolName = first(g.fallback)
	p.HourlyCost = sum(g.costs)
	p.SpotVersion = oldest(g.spotVersions)
	p.FallbackVersion = oldest(g.fallbackVersions)
	// Derived from the spot groups, so that a workload which uses them waits for the pool.
	selector, tolerations := s.nodeSelector, s.tolerations
	p.NodeSelector = p.SpotPoolNames.ApplyT(func([]string) map[string]string { return selector }).(pulumi.StringMapOutput)
	p.Tolerations = p.SpotPoolNames.ApplyT(func([]string) []string { return tolerations }).(pulumi.StringArrayOutput)
	if err := ctx.RegisterResourceOutputs(p, pulumi.Map{
		"spotPoolName":      p.SpotPoolName,
		"fallbackPoolName":  p.FallbackPoolName,
		"spotPoolNames":     p.SpotPoolNames,
		"fallbackPoolNames": p.FallbackPoolNames,
		"nodeSelector":      p.NodeSelector,
		"tolerations":       p.Tolerations,
		"hourlyCost":        p.HourlyCost,
		"spotVersion":       p.SpotVersion,
		"fallbackVersion":   p.FallbackVersion,
	}); err != nil {
		return nil, fmt.Errorf("spot pool %q: register outputs: %w", name, err)
	}
	return p, nil
}

// sum adds up the groups' hourly costs; no costs is 0.
func sum(costs []pulumi.Float64Output) pulumi.Float64Output {
	if len(costs) == 0 {
		return pulumi.Float64(0).ToFloat64Output()
	}
	all := make([]any, len(costs))
	for i, c := range costs {
		all[i] = c
	}
	return pulumi.All(all...).ApplyT(func(vs []any) float64 {
		var total float64
		for _, v := range vs {
			total += v.(float64)
		}
		return total
	}).(pulumi.Float64Output)
}

// oldest is the oldest Kubernetes minor among versions; no versions is "".
func oldest(versions []pulumi.StringOutput) pulumi.StringOutput {
	all := make([]any, len(versions))
	for i, v := range versions {
		all[i] = v
	}
	return pulumi.All(all...).ApplyT(func(vs []any) string {
		out := ""
		for _, v := range vs {
			minor := cluster.MinorOf(v.(string))
			if out == "" || olderMinor(minor, out) {
				out = minor
			}
		}
		return out
	}).(pulumi.StringOutput)
}

// olderMinor reports whether minor a is older than b ("1.9" is older than "1.10").
func olderMinor(a, b string) bool {
	var aMajor, aMinor, bMajor, bMinor int
	if _, err := fmt.Sscanf(a, "%d.%d", &aMajor, &aMinor); err != nil {
		return false
	}
	if _, err := fmt.Sscanf(b, "%d.%d", &bMajor, &bMinor); err != nil {
		return true
	}
	return aMajor < bMajor || aMajor == bMajor && aMinor < bMinor
}

func backendFor(cloud cluster.Cloud) (backend, error) {
	switch cloud {
	case cluster.AWS:
		return awsBackend{}, nil
	case cluster.GCP:
		return gcpBackend{}, nil
	case cluster.Azure:
		return azureBackend{}, nil
	case cluster.Sim:
		return newSimBackend()
	}
	return nil, fmt.Errorf("cloud %q: no backend", cloud)
}

func names(outs []pulumi.StringOutput) pulumi.StringArrayOutput {
	arr := make(pulumi.StringArray, len(outs))
	for i, o := range outs {
		arr[i] = o
	}
	return arr.ToStringArrayOutput()
}

func first(outs []pulumi.StringOutput) pulumi.StringOutput {
	if len(outs) == 0 {
		return pulumi.String("").ToStringOutput()
	}
	return outs[0]
}

// opts are the options of a pool's cloud resources: parented to the pool, on the
// cluster's provider for its region.
func cloudOpts(p *SpotNodePool, s *spec) []pulumi.ResourceOption {
	return []pulumi.ResourceOption{pulumi.Parent(p), pulumi.Provider(s.cluster.Provider)}
}

// capacityName is the suffix of a group's resource name: "-spot" or "-fallback".
func capacityName(c cluster.Capacity) string {
	if c == cluster.Spot {
		return "-spot"
	}
	return "-fallback"
}
