package spotpool

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// eksCapacityTypes are the EKS capacity types of Flotilla's capacities.
var eksCapacityTypes = map[cluster.Capacity]string{cluster.Spot: "SPOT", cluster.OnDemand: "ON_DEMAND"}

// awsBackend makes a spot pool two EKS managed node groups: one SPOT group with every
// instance type, and an ON_DEMAND fallback with a minimum of 0. The cluster's priority
// expander ranks them by name.
type awsBackend struct{}

func (awsBackend) provision(ctx *pulumi.Context, p *SpotNodePool, s *spec) (*groups, error) {
	g := &groups{}
	var fallback []pulumi.Resource
	if s.fallback {
		fb, err := newNodeGroup(ctx, p, s, cluster.OnDemand, s.fallbackTypes, 0, s.fallbackMax, nil)
		if err != nil {
			return nil, err
		}
		g.fallback = append(g.fallback, fb.NodeGroupName)
		g.fallbackVersions = append(g.fallbackVersions, fb.Version)
		fallback = append(fallback, fb)
	}
	spot, err := newNodeGroup(ctx, p, s, cluster.Spot, s.instanceTypes, s.minSize, s.maxSize, fallback)
	if err != nil {
		return nil, err
	}
	g.spot = append(g.spot, spot.NodeGroupName)
	g.spotVersions = append(g.spotVersions, spot.Version)
	return g, nil
}

// newNodeGroup registers one capacity's launch template and managed node group, after
// the resources in after. The launch template carries the cost tags to instances and
// volumes, which EKS does not do from the node group's own tags.
func newNodeGroup(ctx *pulumi.Context, p *SpotNodePool, s *spec, capacity cluster.Capacity, types []string, min, max int, after []pulumi.Resource) (*eks.NodeGroup, error) {
	a := s.cluster.AWS
	opts := cloudOpts(p, s)
	name := s.name + capacityName(capacity)

	lt, err := a.NodeLaunchTemplate(ctx, name, s.cloudTags, opts...)
	if err != nil {
		return nil, err
	}
	subnets := make(pulumi.StringArray, len(s.zones))
	for i, z := range s.zones {
		subnets[i] = a.PrivateSubnetIDs[z].ToStringOutput()
	}
	var taints eks.NodeGroupTaintArray
	for _, t := range s.taints(capacity) {
		taints = append(taints, &eks.NodeGroupTaintArgs{
			Key:    pulumi.String(t.Key),
			Value:  pulumi.String(t.Value),
			Effect: pulumi.String(apiEffect(t.Effect)),
		})
	}
	ng, err := eks.NewNodeGroup(ctx, name, &eks.NodeGroupArgs{
		ClusterName:   a.Cluster.Name,
		NodeGroupName: pulumi.String(cluster.GroupName(cluster.AWS, s.name, capacity, 0)),
		NodeRoleArn:   a.NodeRole.Arn,
		SubnetIds:     subnets,
		Version:       s.cluster.NodePoolVersion,
		CapacityType:  pulumi.String(eksCapacityTypes[capacity]),
		InstanceTypes: pulumi.ToStringArray(types),
		ScalingConfig: &eks.NodeGroupScalingConfigArgs{
			MinSize:     pulumi.Int(min),
			MaxSize:     pulumi.Int(max),
			DesiredSize: pulumi.Int(min),
		},
		Labels:         pulumi.ToStringMap(s.labels(capacity)),
		Taints:         taints,
		LaunchTemplate: cluster.NodeGroupLaunchTemplate(lt),
		UpdateConfig:   cluster.NodeGroupUpdateConfig(),
		AmiType:        eksAMIType(types),
		Tags:           pulumi.ToStringMap(s.cloudTags),
	}, append(opts,
		pulumi.DependsOn(append(slices.Clone(a.NodeDependencies), after...)),
		// The autoscaler owns the group's size once it exists.
		pulumi.IgnoreChanges([]string{"scalingConfig.desiredSize"}),
		// The group keeps its name, which the priority expander matches.
		cluster.NodeGroupReplacement(),
	)...)
	if err != nil {
		return nil, fmt.Errorf("node group %q: %w", name, err)
	}
	return ng, nil
}

// eksAMIType is the AMI type of a group of Graviton (arm64) instance types: Amazon Linux
// 2023 for ARM. EKS's default AMI type is x86_64, so an arm64 group must name its own
// (https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateNodegroup.html, amiType).
// x86_64 groups keep the default, nil: amiType cannot change in place, and naming it
// would replace every existing group. Validation has made a group's types share one
// architecture.
func eksAMIType(types []string) pulumi.StringPtrInput {
	if len(types) == 0 {
		return nil
	}
	for _, t := range types {
		if shape, ok := ec2ShapeOf(t); !ok || !shape.arm64 {
			return nil
		}
	}
	return pulumi.String("AL2023_ARM_64_STANDARD")
}

// apiEffect spells a Kubernetes taint effect the way the EKS and GKE APIs do.
func apiEffect(effect string) string {
	switch effect {
	case "NoExecute":
		return "NO_EXECUTE"
	case "PreferNoSchedule":
		return "PREFER_NO_SCHEDULE"
	}
	return "NO_SCHEDULE"
}

// ec2Shape is what the cluster-autoscaler sizes an EKS node group's nodes by: the
// vCPUs and memory of one EC2 instance type; and its architecture, as one node group
// boots one AMI.
type ec2Shape struct {
	vcpus, memGiB int
	arm64         bool
}

func (s ec2Shape) String() string {
	arch := "x86_64"
	if s.arm64 {
		arch = "arm64"
	}
	return fmt.Sprintf("%d vCPU, %d GiB, %s", s.vcpus, s.memGiB, arch)
}

// ec2Family is one EC2 instance family: its memory per vCPU and the sizes it offers.
// The Graviton families (a "g" after the generation) are arm64, the others x86_64.
type ec2Family struct {
	gibPerVCPU int
	sizes      []string
}

// Sizes as EC2 offers them (https://aws.amazon.com/ec2/instance-types/). A size's name
// gives its vCPUs: medium 1, large 2, xlarge 4, Nxlarge 4×N; metal-24xl and metal-48xl
// are 96 and 192. Plain "metal" has the vCPUs of the family's largest size, in
// ec2MetalVCPUs.
var (
	// sizes5 are m5, r5 and m5a (m5a has no metal).
	sizes5 = []string{"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "metal"}
	// sizesC5: c5 has 9xlarge and 18xlarge in place of 8xlarge and 16xlarge.
	sizesC5 = []string{"large", "xlarge", "2xlarge", "4xlarge", "9xlarge", "12xlarge", "18xlarge", "24xlarge", "metal"}
	// sizes6i are the sixth-generation Intel families, up to 32xlarge.
	sizes6i = []string{"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge", "metal"}
	// sizes6a are the sixth-generation AMD families, up to 48xlarge.
	sizes6a = []string{"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge", "48xlarge", "metal"}
	// sizes7i are the seventh-generation Intel families: no 32xlarge, two metal sizes.
	sizes7i = []string{"large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "48xlarge", "metal-24xl", "metal-48xl"}
	// sizesM7a: m7a starts at medium and has one metal size.
	sizesM7a = []string{"medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "24xlarge", "32xlarge", "48xlarge", "metal-48xl"}
	// sizesGraviton are the Graviton2 and Graviton3 families: medium to 16xlarge, and metal.
	sizesGraviton = []string{"medium", "large", "xlarge", "2xlarge", "4xlarge", "8xlarge", "12xlarge", "16xlarge", "metal"}
)

// ec2Families are the instance families whose shapes New checks: general purpose (4 GiB
// per vCPU), compute optimized (2 GiB) and memory optimized (8 GiB), from
// https://aws.amazon.com/ec2/instance-types/.
var ec2Families = map[string]ec2Family{
	"m5": {4, sizes5}, "m5a": {4, sizes5[:len(sizes5)-1]}, "m6i": {4, sizes6i}, "m6a": {4, sizes6a},
	"m7i": {4, sizes7i}, "m7a": {4, sizesM7a}, "m6g": {4, sizesGraviton}, "m7g": {4, sizesGraviton},
	"c5": {2, sizesC5}, "c6i": {2, sizes6i}, "c6a": {2, sizes6a}, "c7i": {2, sizes7i},
	"c6g": {2, sizesGraviton}, "c7g": {2, sizesGraviton},
	"r5": {8, sizes5}, "r6i": {8, sizes6i}, "r6a": {8, sizes6a}, "r7i": {8, sizes7i},
	"r6g": {8, sizesGraviton}, "r7g": {8, sizesGraviton},
}

// ec2MetalVCPUs are the vCPUs of a family's plain .metal size: those of its largest size.
var ec2MetalVCPUs = map[string]int{
	"m5": 96, "c5": 96, "r5": 96,
	"m6i": 128, "c6i": 128, "r6i": 128,
	"m6a": 192, "c6a": 192, "r6a": 192,
	"m6g": 64, "m7g": 64, "c6g": 64, "c7g": 64, "r6g": 64, "r7g": 64,
}

// ec2ShapeOf returns instanceType's shape, and false for a type the table does not hold.
func ec2ShapeOf(instanceType string) (ec2Shape, bool) {
	family, size, ok := strings.Cut(instanceType, ".")
	f, known := ec2Families[family]
	if !ok || !known || !slices.Contains(f.sizes, size) {
		return ec2Shape{}, false
	}
	var vcpus int
	switch size {
	case "medium":
		vcpus = 1
	case "large":
		vcpus = 2
	case "xlarge":
		vcpus = 4
	case "metal":
		vcpus = ec2MetalVCPUs[family]
	case "metal-24xl":
		vcpus = 96
	case "metal-48xl":
		vcpus = 192
	default:
		n, err := strconv.Atoi(strings.TrimSuffix(size, "xlarge"))
		if err != nil {
			return ec2Shape{}, false
		}
		vcpus = 4 * n
	}
	return ec2Shape{vcpus: vcpus, memGiB: vcpus * f.gibPerVCPU, arm64: strings.HasSuffix(family, "g")}, true
}

// checkEC2Shapes refuses an EKS node group's instance types of different vCPUs or
// memory. The cluster-autoscaler builds a node group's template from the first
// instance type of its mixed instances policy, so a pool of mixed shapes is scaled
// for nodes it does not get: "the instance types should have the same amount of RAM
// and number of CPU cores, since this is fundamental to CA's scaling calculations"
// (kubernetes/autoscaler, cluster-autoscaler/cloudprovider/aws/README.md, "Using
// Mixed Instances Policies and Spot Instances"). Nor may arm64 and x86_64 types share a
// group: a node group boots one AMI, of one architecture. A type the table does not
// hold cannot be checked, and is returned in unknown.
func checkEC2Shapes(field string, types []string) (unknown []string, problem error) {
	var first string
	var want ec2Shape
	var odd []string
	for _, t := range types {
		shape, ok := ec2ShapeOf(t)
		switch {
		case !ok:
			unknown = append(unknown, t)
		case first == "":
			first, want = t, shape
		case shape != want:
			odd = append(odd, fmt.Sprintf("%q (%s)", t, shape))
		}
	}
	if len(odd) > 0 {
		problem = fmt.Errorf("%s mixes shapes: %q is %s but %s; the cluster-autoscaler sizes an EKS node group by its first instance type, and a node group boots one AMI, so give one pool types of the same vCPUs, memory and architecture (and another pool for another shape)",
			field, first, want, strings.Join(odd, ", "))
	}
	return unknown, problem
}
