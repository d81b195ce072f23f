package spotpool

import (
	"fmt"
	"hash/fnv"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/flotilla-io/flotilla/components/cluster"
	fleetsim "github.com/flotilla-io/flotilla/internal/fleetsim/sdk"
)

// simNameMax is the longest node pool name the simulator accepts.
const simNameMax = 40

// simBackend makes a spot pool two fleetsim node pools on a simulated cluster: a spot
// pool, <name>-spot, with every instance type (nodes run the first), the spot label and
// the spot taint; and an on-demand fallback, <name>-fallback, with a minimum of 0 that
// names the spot pool in fallbackFor.
//
// The simulator plays the cluster-autoscaler's priority expander: when spot capacity
// runs out, the spot pool's nodes go at once, and after the spot pool's provision
// timeout the fallback scales up to cover them, within its max size. As on AWS and
// Azure, that timeout is the cluster's MaxNodeProvisionTime, one setting per cluster.
type simBackend struct{}

func newSimBackend() (backend, error) { return simBackend{}, nil }

func (simBackend) provision(ctx *pulumi.Context, p *SpotNodePool, s *spec) (*groups, error) {
	c := s.cluster
	if c.Name.OutputState == nil || c.Provider == nil {
		return nil, fmt.Errorf("cluster in %q has no simulator resources to attach to: build it with cluster.New", c.Region)
	}
	// Pools reference their cluster as <region>/<name>, as EKS and GKE node groups
	// reference theirs by name; the name is an output, so pools wait for the cluster.
	ref := pulumi.Sprintf("%s/%s", c.Region, c.Name)
	timeout := int(c.MaxNodeProvisionTime.Seconds())
	if timeout <= 0 {
		timeout = int(cluster.DefaultMaxNodeProvisionTime.Seconds())
	}
	g := &groups{}
	spotName := simPoolName(s.name, cluster.Spot)
	var fb *fleetsim.NodePool
	var fallback []pulumi.Resource
	if s.fallback {
		var err error
		fb, err = newSimPool(ctx, p, s, cluster.OnDemand, &fleetsim.NodePoolArgs{
			Name:          pulumi.String(simPoolName(s.name, cluster.OnDemand)),
			Cluster:       ref,
			InstanceTypes: pulumi.ToStringArray(s.fallbackTypes),
			MinSize:       pulumi.Int(0),
			MaxSize:       pulumi.Int(s.fallbackMax),
			DesiredSize:   pulumi.Int(0),
			FallbackFor:   pulumi.String(spotName),
		}, nil)
		if err != nil {
			return nil, err
		}
		g.fallback = append(g.fallback, fb.Name)
		g.fallbackVersions = append(g.fallbackVersions, fb.Version)
		fallback = append(fallback, fb)
	}
	spot, err := newSimPool(ctx, p, s, cluster.Spot, &fleetsim.NodePoolArgs{
		Name:             pulumi.String(spotName),
		Cluster:          ref,
		InstanceTypes:    pulumi.ToStringArray(s.instanceTypes),
		MinSize:          pulumi.Int(s.minSize),
		MaxSize:          pulumi.Int(s.maxSize),
		DesiredSize:      pulumi.Int(s.minSize),
		ProvisionTimeout: pulumi.Int(timeout),
	}, fallback)
	if err != nil {
		return nil, err
	}
	g.spot = append(g.spot, spot.Name)
	g.spotVersions = append(g.spotVersions, spot.Version)
	g.costs = append(g.costs, spot.HourlyCost)
	if fb != nil {
		g.costs = append(g.costs, fb.HourlyCost)
	}
	return g, nil
}

// newSimPool registers one capacity's fleetsim node pool, after the resources in after,
// with the pool's labels, taints and cost tags (merged over the cluster's, in the
// Kubernetes label form the simulator takes). It runs the cluster's node version.
func newSimPool(ctx *pulumi.Context, p *SpotNodePool, s *spec, capacity cluster.Capacity, args *fleetsim.NodePoolArgs, after []pulumi.Resource) (*fleetsim.NodePool, error) {
	name := s.name + capacityName(capacity)
	var taints fleetsim.TaintArray
	for _, t := range s.taints(capacity) {
		taints = append(taints, fleetsim.TaintArgs{Key: pulumi.String(t.Key), Value: pulumi.String(t.Value), Effect: pulumi.String(t.Effect)})
	}
	args.CapacityType = pulumi.String(string(capacity))
	args.Zones = pulumi.ToStringArray(s.zones)
	args.Version = s.cluster.NodePoolVersion
	args.Labels = pulumi.ToStringMap(s.labels(capacity))
	args.Taints = taints
	args.Tags = pulumi.ToStringMap(s.kubeLabels)
	np, err := fleetsim.NewNodePool(ctx, name, args, append(cloudOpts(p, s),
		pulumi.DependsOn(after),
		// The autoscaler owns the pool's size once it exists.
		pulumi.IgnoreChanges([]string{"desiredSize"}),
	)...)
	if err != nil {
		return nil, fmt.Errorf("node pool %q: %w", name, err)
	}
	return np, nil
}

var notSimName = regexp.MustCompile(`[^a-z0-9-]+`)

// simPoolName is the simulator's name of one capacity of a Flotilla spot pool:
// <pool>-spot or <pool>-fallback, a lowercase DNS label of at most 40 characters (a long
// pool name is cut and keeps a hash of itself, so that two long names still differ).
func simPoolName(pool string, capacity cluster.Capacity) string {
	tail := "-spot"
	if capacity != cluster.Spot {
		tail = "-fallback"
	}
	base := strings.Trim(notSimName.ReplaceAllString(strings.ToLower(pool), "-"), "-")
	if base == "" {
		base = "pool"
	}
	if max := simNameMax - len(tail); len(base) > max {
		h := fnv.New32a()
		_, _ = h.Write([]byte(pool))
		sum := fmt.Sprintf("%08x", h.Sum32())[:4]
		base = strings.TrimRight(base[:max-len(sum)-1], "-") + "-" + sum
	}
	return base + tail
}
