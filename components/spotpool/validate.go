package spotpool

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
)

// Taints and labels Flotilla sets on a pool's nodes.
const (
	// spotTaintKey keeps workloads that did not opt into spot off spot nodes.
	spotTaintKey = cluster.LabelCapacity
	// aksSpotTaint is the taint AKS puts on every spot node; a spot agent pool must declare
	// it, or AKS rejects the pool (or drifts from it).
	aksSpotTaintKey, aksSpotTaintValue = "kubernetes.azure.com/scalesetpriority", "spot"
	// computeClassKey is GKE's label and taint that tie a node pool to a ComputeClass.
	computeClassKey = "cloud.google.com/compute-class"
	// reservedPrefix is the label and taint key prefix Flotilla owns.
	reservedPrefix = "flotilla.io/"
	// recommendedTypes is the number of spot instance types below which New warns.
	recommendedTypes = 4
	// azureMaxTypes: AKS agent pool names hold one digit for the instance type.
	azureMaxTypes = 10
)

// Marks of a system pool, which a spot pool may not carry.
const (
	aksModeLabel     = "kubernetes.azure.com/mode"
	criticalAddonKey = "CriticalAddonsOnly"
)

var (
	effects    = []string{"NoSchedule", "PreferNoSchedule", "NoExecute"}
	labelValue = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)
)

// spec is a validated Args with the defaults filled in: what a backend builds from.
type spec struct {
	name          string
	cluster       *cluster.Cluster
	instanceTypes []string
	zones         []string
	minSize       int
	maxSize       int
	userLabels    map[string]string
	userTaints    []Taint

	fallback      bool
	fallbackTypes []string
	fallbackMax   int

	// cloudTags are the merged cost tags in the cloud's form; kubeLabels as labels.
	cloudTags  map[string]string
	kubeLabels map[string]string

	// className is the GKE ComputeClass that ranks the pool's groups.
	className    string
	nodeSelector map[string]string
	tolerations  []string
	warnings     []string
	// uncheckedTypes are EKS instance types whose shape is not in the EC2 table.
	uncheckedTypes []string
}

// resolve validates args and fills in the defaults. It reports every problem at once.
func resolve(name string, args *Args) (*spec, error) {
	if args == nil {
		return nil, fmt.Errorf("spot pool %q: args are required", name)
	}
	var errs []error
	fail := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }

	s := &spec{
		name:          name,
		cluster:       args.Cluster,
		instanceTypes: args.InstanceTypes,
		minSize:       args.MinSize,
		maxSize:       args.MaxSize,
		userLabels:    args.Labels,
		userTaints:    args.Taints,
		fallback:      !args.Fallback.Disabled,
	}
	c := args.Cluster

	if !labelValue.MatchString(name) {
		fail("name %q cannot be the value of the %s label: use at most 63 letters, digits, '-', '_' or '.', starting and ending with a letter or digit", name, cluster.LabelPool)
	}
	if name == cluster.SystemPoolName {
		fail("name %q is the cluster's system pool: a spot pool cannot be a system pool, pick another name", name)
	}

	if c == nil {
		fail("Cluster is nil: pass the *cluster.Cluster that cluster.New returned")
	} else {
		switch {
		case c.Cloud == cluster.AWS && c.AWS == nil,
			c.Cloud == cluster.GCP && c.GCP == nil,
			c.Cloud == cluster.Azure && c.Azure == nil:
			fail("Cluster %q has no %s resources to attach to: build it with cluster.New", c.Region, c.Cloud)
		case c.Cloud != cluster.AWS && c.Cloud != cluster.GCP && c.Cloud != cluster.Azure && c.Cloud != cluster.Sim:
			fail("Cluster's cloud %q is unknown", c.Cloud)
		case c.NodePoolVersion == nil:
			fail("Cluster %q has no node version for its pools: build it with cluster.New", c.Region)
		}
	}

	errs = checkTypes("InstanceTypes", args.InstanceTypes, c, errs)
	if len(args.InstanceTypes) < 2 {
		fail("InstanceTypes %q has %d type(s); a spot pool needs at least 2, and 4 or more is better, so that one type's shortage does not empty it", args.InstanceTypes, len(args.InstanceTypes))
	}

	switch {
	case args.MinSize < 0:
		fail("MinSize %d is negative", args.MinSize)
	case args.MaxSize < 1:
		fail("MaxSize %d is below 1: the pool could never have a node", args.MaxSize)
	case args.MinSize > args.MaxSize:
		fail("MinSize %d is greater than MaxSize %d", args.MinSize, args.MaxSize)
	}

	if c != nil {
		s.zones = args.Zones
		if len(s.zones) == 0 {
			s.zones = c.Zones
		}
		for i, z := range s.zones {
			if !slices.Contains(c.Zones, z) {
				fail("Zones[%d] %q is not one of the cluster's zones %q", i, z, c.Zones)
			}
			if slices.Index(s.zones, z) != i {
				fail("Zones[%d] %q is listed twice", i, z)
			}
		}
		s.zones = slices.Clone(s.zones)
	}

	for _, k := range slices.Sorted(maps.Keys(args.Labels)) {
		v := args.Labels[k]
		switch {
		case strings.HasPrefix(k, reservedPrefix):
			fail("Labels[%q]: the %s prefix is Flotilla's; the pool sets %s itself", k, reservedPrefix, cluster.LabelPool)
		case k == aksModeLabel && strings.EqualFold(v, "system"):
			fail("Labels[%q] = %q asks for a system pool: a spot pool cannot be a system pool, the cluster has one", k, v)
		}
	}
	for i, t := range args.Taints {
		switch {
		case t.Key == "":
			fail("Taints[%d] has an empty key", i)
		case strings.HasPrefix(t.Key, reservedPrefix):
			fail("Taints[%d] key %q: the %s prefix is Flotilla's; the pool sets %s itself", i, t.Key, reservedPrefix, spotTaintKey)
		case t.Key == criticalAddonKey:
			fail("Taints[%d] %q asks for a system pool: a spot pool cannot be a system pool, the cluster has one", i, t.Key)
		}
		if !slices.Contains(effects, t.Effect) {
			fail("Taints[%d] effect %q is not one of %s", i, t.Effect, strings.Join(effects, ", "))
		}
	}

	f := args.Fallback
	s.fallbackTypes = f.InstanceTypes
	if len(s.fallbackTypes) == 0 {
		s.fallbackTypes = args.InstanceTypes
	} else {
		errs = checkTypes("Fallback.InstanceTypes", f.InstanceTypes, c, errs)
	}
	s.fallbackTypes = slices.Clone(s.fallbackTypes)
	s.fallbackMax = f.MaxSize
	switch {
	case f.MaxSize < 0:
		fail("Fallback.MaxSize %d is negative", f.MaxSize)
	case f.MaxSize == 0:
		s.fallbackMax = args.MaxSize
	case !f.Disabled && f.MaxSize < args.MinSize:
		fail("Fallback.MaxSize %d is below MinSize %d: when spot runs out, the fallback could not keep the pool at its minimum", f.MaxSize, args.MinSize)
	}
	if f.ProvisionTimeout < 0 {
		fail("Fallback.ProvisionTimeout %q is negative", f.ProvisionTimeout.String())
	}
	if c != nil && c.Cloud == cluster.AWS {
		errs = s.checkShapes(args, errs)
	}
	if f.Disabled && args.MinSize == 0 && c != nil && c.Prod {
		fail("Fallback.Disabled with MinSize 0 on a prod cluster leaves no guaranteed capacity: when spot runs out the pool has no nodes at all; keep the fallback or set MinSize above 0")
	}

	if c != nil {
		merged := costtags.Tags{}
		maps.Copy(merged, c.Tags)
		maps.Copy(merged, args.Tags)
		var err error
		switch c.Cloud {
		case cluster.AWS:
			s.cloudTags, err = costtags.ForAWS(merged)
		case cluster.GCP:
			s.cloudTags, err = costtags.ForGCP(merged)
		case cluster.Azure:
			s.cloudTags, err = costtags.ForAzure(merged)
		}
		if err != nil {
			fail("Tags: %w", err)
		}
		if s.kubeLabels, err = costtags.ForKubernetes(merged); err != nil {
			fail("Tags: %w", err)
		}
	}

	if len(errs) > 0 {
		return nil, &InvalidArgsError{Name: name, Problems: errs}
	}
	s.placement()
	s.warnings = warnings(s, args)
	return s, nil
}

// checkTypes refuses empty and repeated instance types, and more than an AKS name holds.
func checkTypes(field string, types []string, c *cluster.Cluster, errs []error) []error {
	for i, t := range types {
		if strings.TrimSpace(t) == "" {
			errs = append(errs, fmt.Errorf("%s[%d] is empty", field, i))
		} else if slices.Index(types, t) != i {
			errs = append(errs, fmt.Errorf("%s[%d] %q is listed twice", field, i, t))
		}
	}
	if c != nil && c.Cloud == cluster.Azure && len(types) > azureMaxTypes {
		errs = append(errs, fmt.Errorf("%s has %d types; on Azure each type is an agent pool and a spot pool has at most %d", field, len(types), azureMaxTypes))
	}
	return errs
}

// checkShapes refuses EKS node groups of mixed vCPUs or memory: the spot group's types,
// and the fallback's when it has its own. Only EKS node groups take several types; a GKE
// node pool and an AKS agent pool have one machine type each. The simulator's pools are
// not checked: the shipped stacks mix shapes there, and changing them would replace
// their pools.
func (s *spec) checkShapes(args *Args, errs []error) []error {
	check := func(field string, types []string) {
		unknown, problem := checkEC2Shapes(field, types)
		if problem != nil {
			errs = append(errs, problem)
		}
		for _, t := range unknown {
			if !slices.Contains(s.uncheckedTypes, t) {
				s.uncheckedTypes = append(s.uncheckedTypes, t)
			}
		}
	}
	check("InstanceTypes", args.InstanceTypes)
	if s.fallback && len(args.Fallback.InstanceTypes) > 0 {
		check("Fallback.InstanceTypes", args.Fallback.InstanceTypes)
	}
	return errs
}

// placement works out what a workload sets to land on the pool.
func (s *spec) placement() {
	s.nodeSelector = map[string]string{cluster.LabelPool: s.name}
	s.tolerations = []string{toleration(spotTaint())}
	switch s.cluster.Cloud {
	case cluster.GCP:
		s.className = strings.ToLower(strings.NewReplacer("_", "-", ".", "-").Replace(s.name))
		s.nodeSelector[computeClassKey] = s.className
		s.tolerations = append(s.tolerations, toleration(s.classTaint()))
	case cluster.Azure:
		s.tolerations = append(s.tolerations, toleration(Taint{Key: aksSpotTaintKey, Value: aksSpotTaintValue, Effect: "NoSchedule"}))
	}
	for _, t := range s.userTaints {
		s.tolerations = append(s.tolerations, toleration(t))
	}
}

// warnings are the advice New logs about a valid pool.
func warnings(s *spec, args *Args) []string {
	var out []string
	if n := len(args.InstanceTypes); n < recommendedTypes {
		out = append(out, fmt.Sprintf("spot pool %q has %d instance types; %d or more make a spot shortage of one type less likely to empty the pool", s.name, n, recommendedTypes))
	}
	if len(s.uncheckedTypes) > 0 {
		out = append(out, fmt.Sprintf("spot pool %q: instance types %q cannot be checked for the same vCPUs and memory as the pool's other types, as Flotilla does not know their shapes; make sure they match, since the cluster-autoscaler sizes an EKS node group by its first instance type",
			s.name, s.uncheckedTypes))
	}
	timeout := args.Fallback.ProvisionTimeout
	if timeout == 0 || !s.fallback {
		return out
	}
	switch s.cluster.Cloud {
	case cluster.AWS, cluster.Azure:
		if timeout != s.cluster.MaxNodeProvisionTime {
			out = append(out, fmt.Sprintf("spot pool %q: Fallback.ProvisionTimeout %s does not apply: the cluster-autoscaler's --max-node-provision-time is one setting per cluster, and this cluster's is %s; set cluster.Args.MaxNodeProvisionTime to change it",
				s.name, timeout, s.cluster.MaxNodeProvisionTime))
		}
	case cluster.GCP:
		out = append(out, fmt.Sprintf("spot pool %q: Fallback.ProvisionTimeout %s does not apply on GCP: the ComputeClass falls back as soon as GKE reports spot unavailable", s.name, timeout))
	}
	return out
}

// labels are the node labels of the pool's groups of one capacity.
func (s *spec) labels(capacity cluster.Capacity) map[string]string {
	out := maps.Clone(s.userLabels)
	if out == nil {
		out = map[string]string{}
	}
	out[cluster.LabelPool] = s.name
	out[cluster.LabelCapacity] = string(capacity)
	if s.className != "" {
		out[computeClassKey] = s.className
	}
	return out
}

// taints are the node taints of the pool's groups of one capacity: spot nodes carry the
// spot taint (and on Azure AKS's own), fallback nodes only the user's.
func (s *spec) taints(capacity cluster.Capacity) []Taint {
	var out []Taint
	if capacity == cluster.Spot {
		out = append(out, spotTaint())
		if s.cluster.Cloud == cluster.Azure {
			out = append(out, Taint{Key: aksSpotTaintKey, Value: aksSpotTaintValue, Effect: "NoSchedule"})
		}
	}
	if s.className != "" {
		out = append(out, s.classTaint())
	}
	return append(out, s.userTaints...)
}

func spotTaint() Taint {
	return Taint{Key: spotTaintKey, Value: string(cluster.Spot), Effect: "NoSchedule"}
}

func (s *spec) classTaint() Taint {
	return Taint{Key: computeClassKey, Value: s.className, Effect: "NoSchedule"}
}

// toleration formats a taint as the toleration a workload needs: "key=value:Effect".
func toleration(t Taint) string {
	if t.Value == "" {
		return t.Key + ":" + t.Effect
	}
	return t.Key + "=" + t.Value + ":" + t.Effect
}

// InvalidArgsError lists every problem found in a spot pool's Args. Nothing was registered.
type InvalidArgsError struct {
	Name     string
	Problems []error
}

func (e *InvalidArgsError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = "  - " + p.Error()
	}
	return fmt.Sprintf("spot pool %q: invalid args:\n%s", e.Name, strings.Join(msgs, "\n"))
}

// Unwrap returns the individual problems.
func (e *InvalidArgsError) Unwrap() []error { return e.Problems }

// IsInvalidArgs reports whether err is, or wraps, an InvalidArgsError.
func IsInvalidArgs(err error) bool {
	var target *InvalidArgsError
	return errors.As(err, &target)
}
