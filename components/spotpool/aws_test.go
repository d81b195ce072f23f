package spotpool_test

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/spotpool"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAWSNodeGroups(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		edit          func(*spotpool.Args)
		zones         []string
		fallbackTypes []string
		fallbackMax   float64
	}{
		{
			name:          "fallback takes the spot pool's types and size",
			zones:         []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"},
			fallbackTypes: instanceTypes[cluster.AWS],
			fallbackMax:   10,
		},
		{
			name: "own fallback types and size in two zones",
			edit: func(a *spotpool.Args) {
				a.Zones = []string{"eu-west-1b", "eu-west-1c"}
				a.Fallback = spotpool.Fallback{InstanceTypes: []string{"m6i.2xlarge", "m5.2xlarge"}, MaxSize: 4}
			},
			zones:         []string{"eu-west-1b", "eu-west-1c"},
			fallbackTypes: []string{"m6i.2xlarge", "m5.2xlarge"},
			fallbackMax:   4,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, pool := mustRun(t, cluster.AWS, tt.edit)
			wantTags, err := costtags.ForAWS(costtags.Tags{"team": "data", "env": "staging", "cost-center": "cc-100", "app": "etl"})
			require.NoError(t, err)
			comp := m.MustGet(t, tokPool, "batch")
			provider := m.MustGet(t, "pulumi:providers:aws", "eu-provider").URN
			var subnets []string
			for _, z := range tt.zones {
				subnets = append(subnets, m.MustGet(t, "aws:ec2/subnet:Subnet", "eu-private-"+z).ID)
			}

			groups := []struct {
				resource, groupName, capacityType string
				types                             []string
				min, max                          float64
				labels                            map[string]string
				taints                            []string
			}{
				{
					resource: "batch-spot", groupName: "batch-spot", capacityType: "SPOT",
					types: instanceTypes[cluster.AWS], min: 1, max: 10,
					labels: map[string]string{"workload": "batch", "flotilla.io/pool": "batch", "flotilla.io/capacity": "spot"},
					taints: []string{"flotilla.io/capacity=spot:NO_SCHEDULE", "dedicated=batch:NO_EXECUTE"},
				},
				{
					resource: "batch-fallback", groupName: "batch-fallback", capacityType: "ON_DEMAND",
					types: tt.fallbackTypes, min: 0, max: tt.fallbackMax,
					labels: map[string]string{"workload": "batch", "flotilla.io/pool": "batch", "flotilla.io/capacity": "on-demand"},
					taints: []string{"dedicated=batch:NO_EXECUTE"},
				},
			}
			for _, g := range groups {
				ng := m.MustGet(t, tokNodeGroup, g.resource)
				assert.Equal(t, comp.URN, ng.Parent)
				assert.True(t, strings.HasPrefix(ng.Provider, provider+"::"), "uses the cluster's provider")
				assert.Equal(t, g.groupName, in(t, ng, "nodeGroupName").StringValue())
				assert.Equal(t, g.capacityType, in(t, ng, "capacityType").StringValue())
				assert.Equal(t, g.types, strs(t, in(t, ng, "instanceTypes")))
				assert.Equal(t, g.min, in(t, ng, "scalingConfig", "minSize").NumberValue())
				assert.Equal(t, g.max, in(t, ng, "scalingConfig", "maxSize").NumberValue())
				assert.Equal(t, g.min, in(t, ng, "scalingConfig", "desiredSize").NumberValue())
				assert.Equal(t, g.labels, strMap(t, in(t, ng, "labels")))
				assert.Equal(t, g.taints, taints(t, in(t, ng, "taints")))
				assert.Equal(t, subnets, strs(t, in(t, ng, "subnetIds")))
				assert.Equal(t, "eu-eks-7d1e", in(t, ng, "clusterName").StringValue())
				assert.Equal(t, "1.31", in(t, ng, "version").StringValue())
				assert.Equal(t, wantTags, strMap(t, in(t, ng, "tags")))

				// The launch template carries the cost tags to instances and volumes.
				lt := m.MustGet(t, tokLT, g.resource)
				assert.Equal(t, comp.URN, lt.Parent)
				assert.Equal(t, lt.ID, in(t, ng, "launchTemplate", "id").StringValue())
				specs := map[string]map[string]string{}
				for _, s := range in(t, lt, "tagSpecifications").ArrayValue() {
					specs[pulumitest.Prop(t, s, "resourceType").StringValue()] = strMap(t, pulumitest.Prop(t, s, "tags"))
				}
				assert.Equal(t, wantTags, specs["instance"], "instances carry the cost tags")
				assert.Equal(t, wantTags, specs["volume"], "volumes carry the cost tags")
			}
			assert.Equal(t, "data", wantTags["team"], "the pool's tags win over the cluster's")
			assert.Equal(t, "cc-100", wantTags["cost-center"], "the cluster's tags are kept")

			assert.Equal(t, "batch-spot", pulumitest.Await(t, pool.SpotPoolName))
			assert.Equal(t, "batch-fallback", pulumitest.Await(t, pool.FallbackPoolName))
			assert.Equal(t, map[string]string{"flotilla.io/pool": "batch"}, pulumitest.Await(t, pool.NodeSelector))
			assert.Equal(t, []string{"flotilla.io/capacity=spot:NoSchedule", "dedicated=batch:NoExecute"}, pulumitest.Await(t, pool.Tolerations))
		})
	}
}

func TestAWSFallbackDisabled(t *testing.T) {
	t.Parallel()
	m, pool := mustRun(t, cluster.AWS, func(a *spotpool.Args) { a.Fallback.Disabled = true })
	require.Len(t, m.ByType(tokNodeGroup), 2, "the system group and the spot group")
	_, ok := m.Get(tokNodeGroup, "batch-fallback")
	assert.False(t, ok)
	assert.Equal(t, "", pulumitest.Await(t, pool.FallbackPoolName))
	assert.Empty(t, pulumitest.Await(t, pool.FallbackPoolNames))
}

// TestAWSGravitonGroupsBootAnARMImage: a group of Graviton types names the AL2023 ARM
// AMI type, since EKS's default is x86_64; an x86_64 group sends no amiType, so that
// existing groups are not replaced.
func TestAWSGravitonGroupsBootAnARMImage(t *testing.T) {
	t.Parallel()
	m, _ := mustRun(t, cluster.AWS, func(a *spotpool.Args) {
		a.InstanceTypes = []string{"m7g.xlarge", "m6g.xlarge"}
		a.Fallback.InstanceTypes = []string{"m6i.xlarge", "m5.xlarge"}
	})
	spot := m.MustGet(t, tokNodeGroup, "batch-spot")
	assert.Equal(t, "AL2023_ARM_64_STANDARD", spot.Input(t, "amiType").StringValue())
	fallback := m.MustGet(t, tokNodeGroup, "batch-fallback")
	assert.NotContains(t, fallback.Inputs, resource.PropertyKey("amiType"))
}

// TestAWSPriorityExpanderRanksRealGroups checks the cluster's ConfigMap against the
// Auto Scaling groups EKS makes of the node groups that were registered.
func TestAWSPriorityExpanderRanksRealGroups(t *testing.T) {
	t.Parallel()
	m := pulumitest.New().FakeClouds()
	err := m.Run(func(ctx *pulumi.Context) error {
		c, err := cluster.New(ctx, "eu", clusterArgs(cluster.AWS, "staging"))
		if err != nil {
			return err
		}
		for _, name := range []string{"batch", "web-fallback", "gpu_jobs"} {
			if _, err := spotpool.New(ctx, name, poolArgs(c)); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)

	prios := priorities(t, m)
	asg := func(ng pulumitest.Resource) string {
		return "eks-" + in(t, ng, "nodeGroupName").StringValue() + "-4ac6f2b1-0d3e-4f5a-9b7c-1e2d3c4b5a69"
	}
	var spot, fallback []string
	for _, ng := range m.ByType(tokNodeGroup) {
		switch in(t, ng, "capacityType").StringValue() {
		case "SPOT":
			spot = append(spot, asg(ng))
		case "ON_DEMAND":
			if in(t, ng, "nodeGroupName").StringValue() == cluster.SystemPoolName {
				assert.NotEqual(t, -1, rank(prios, asg(ng)), "the system group is ranked too")
				continue
			}
			fallback = append(fallback, asg(ng))
		}
	}
	require.Len(t, spot, 3)
	require.Len(t, fallback, 3)
	for _, s := range spot {
		assert.NotEqual(t, -1, rank(prios, s), s)
		for _, f := range fallback {
			assert.NotEqual(t, -1, rank(prios, f), f)
			assert.Greater(t, rank(prios, s), rank(prios, f), "%s outranks %s", s, f)
		}
	}
}

// eksNodeGroupForceNew are the EKS node group inputs whose change replaces the group:
// ForceNew in the pinned provider's schema (pulumi-aws v6.83.4 bridges
// terraform-provider-aws, internal/service/eks/node_group.go, resourceNodeGroup), the
// same set CloudFormation lists as createOnlyProperties of AWS::EKS::Nodegroup. Labels,
// taints, scaling, update config, version and the launch template's version update in
// place.
var eksNodeGroupForceNew = map[string]bool{
	"amiType":                true,
	"capacityType":           true,
	"clusterName":            true,
	"diskSize":               true,
	"instanceTypes":          true,
	"launchTemplate.id":      true,
	"launchTemplate.name":    true,
	"nodeGroupName":          true,
	"nodeGroupNamePrefix":    true,
	"nodeRoleArn":            true,
	"remoteAccess":           true,
	"subnetIds":              true,
	"labels":                 false,
	"taints":                 false,
	"scalingConfig":          false,
	"updateConfig":           false,
	"version":                false,
	"releaseVersion":         false,
	"launchTemplate.version": false,
	"tags":                   false,
}

// optsRecorder records the resource options each registration carried, which the
// recording mocks leave out.
type optsRecorder struct {
	*pulumitest.Mocks
	mu                  sync.Mutex
	deleteBeforeReplace map[string]bool
}

func (r *optsRecorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	if args.RegisterRPC != nil {
		r.mu.Lock()
		r.deleteBeforeReplace[args.TypeToken+"::"+args.Name] = args.RegisterRPC.GetDeleteBeforeReplace()
		r.mu.Unlock()
	}
	return r.Mocks.NewResource(args)
}

// TestAWSNodeGroupNamesSurviveReplacement checks every EKS node group of a cluster, the
// system group and a spot pool's two: each has a fixed name, which the priority
// expander matches, and inputs that force a replacement when they change (instance
// types, subnets, capacity type). So each must be deleted before its replacement is
// created, or EKS refuses the replacement's duplicate name (ResourceInUseException).
func TestAWSNodeGroupNamesSurviveReplacement(t *testing.T) {
	t.Parallel()
	rec := &optsRecorder{Mocks: pulumitest.New().FakeClouds(), deleteBeforeReplace: map[string]bool{}}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		c, err := cluster.New(ctx, "eu", clusterArgs(cluster.AWS, "staging"))
		if err != nil {
			return err
		}
		_, err = spotpool.New(ctx, "batch", poolArgs(c))
		return err
	}, pulumi.WithMocks(pulumitest.Project, pulumitest.Stack, rec))
	require.NoError(t, err)

	groups := rec.ByType(tokNodeGroup)
	require.Len(t, groups, 3, "the system group, the spot group and its fallback")
	for _, ng := range groups {
		var forceNew []string
		for key := range ng.Inputs {
			if eksNodeGroupForceNew[string(key)] {
				forceNew = append(forceNew, string(key))
			}
		}
		for _, lt := range []string{"id", "name"} {
			if v, ok := ng.Inputs["launchTemplate"]; ok && v.IsObject() && v.ObjectValue().HasValue(resource.PropertyKey(lt)) {
				forceNew = append(forceNew, "launchTemplate."+lt)
			}
		}
		assert.Subset(t, forceNew, []string{"instanceTypes", "subnetIds", "capacityType"}, "%s: these change with the pool's spec", ng.Name)
		name := in(t, ng, "nodeGroupName").StringValue()
		require.NotEmpty(t, name, "%s: a fixed name, matched by the priority expander", ng.Name)
		assert.True(t, rec.deleteBeforeReplace[tokNodeGroup+"::"+ng.Name],
			"%s: a replacement of node group %q (a change of %v) must delete it first, or EKS refuses the duplicate name", ng.Name, name, forceNew)
	}
}

// eksGroup is a node group as the autoscaler sees it: its Auto Scaling group's name and
// the labels and taints of its node template.
type eksGroup struct {
	asg    string
	labels map[string]string
	taints []string // key=value:EFFECT, as the EKS API spells it
}

// fits says whether a pod with nodeSelector and tolerations (key=value:EFFECT) can run on
// a node of g: every selector label present, every NoSchedule/NoExecute taint tolerated.
func (g eksGroup) fits(nodeSelector map[string]string, tolerations []string) bool {
	for k, v := range nodeSelector {
		if g.labels[k] != v {
			return false
		}
	}
	for _, taint := range g.taints {
		if strings.HasSuffix(taint, ":PREFER_NO_SCHEDULE") {
			continue
		}
		if !slices.Contains(tolerations, taint) {
			return false
		}
	}
	return true
}

// expand plays the upstream priority expander (kubernetes/autoscaler,
// cluster-autoscaler/expander/priority/priority.go, BestOptions) over the groups that
// can fit a pod: each group takes the highest priority whose regex matches its name,
// groups that no regex matches are dropped, and the groups of the highest priority are
// the ones scaled up. It returns them, or nil when none is left.
func expand(prios map[int][]*regexp.Regexp, groups []eksGroup, nodeSelector map[string]string, tolerations []string) []string {
	best, out := -1, []string(nil)
	for _, g := range groups {
		if !g.fits(nodeSelector, tolerations) {
			continue
		}
		p := rank(prios, g.asg)
		switch {
		case p == -1:
			continue
		case p > best:
			best, out = p, []string{g.asg}
		case p == best:
			out = append(out, g.asg)
		}
	}
	return out
}

// TestAWSPriorityExpanderPicksByPod plays the upstream expander's rule over the groups
// and taints the components register, for a pod aimed at a spot pool and an ordinary
// pod, with a pool whose fallback carries no taint of its own (the worst case).
func TestAWSPriorityExpanderPicksByPod(t *testing.T) {
	t.Parallel()
	m := pulumitest.New().FakeClouds()
	pools := map[string]*spotpool.SpotNodePool{}
	err := m.Run(func(ctx *pulumi.Context) error {
		c, err := cluster.New(ctx, "eu", clusterArgs(cluster.AWS, "staging"))
		if err != nil {
			return err
		}
		for _, name := range []string{"batch", "web"} {
			args := poolArgs(c)
			if name == "web" {
				args.Taints, args.Labels = nil, nil
			}
			if pools[name], err = spotpool.New(ctx, name, args); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)

	prios := priorities(t, m)
	var groups []eksGroup
	for _, ng := range m.ByType(tokNodeGroup) {
		g := eksGroup{
			asg:    "eks-" + in(t, ng, "nodeGroupName").StringValue() + "-4ac6f2b1-0d3e-4f5a-9b7c-1e2d3c4b5a69",
			labels: strMap(t, in(t, ng, "labels")),
		}
		if v, ok := ng.Inputs["taints"]; ok && !v.IsNull() {
			g.taints = taints(t, v)
		}
		groups = append(groups, g)
	}
	require.Len(t, groups, 5, "system, and spot and fallback of two pools")
	without := func(drop string) []eksGroup {
		return slices.DeleteFunc(slices.Clone(groups), func(g eksGroup) bool { return g.asg == drop })
	}
	apiEffect := strings.NewReplacer(":NoSchedule", ":NO_SCHEDULE", ":NoExecute", ":NO_EXECUTE")
	asg := func(name string) string { return "eks-" + name + "-4ac6f2b1-0d3e-4f5a-9b7c-1e2d3c4b5a69" }

	for name, pool := range pools {
		selector := pulumitest.Await(t, pool.NodeSelector).(map[string]string)
		var tolerations []string
		for _, tol := range pulumitest.Await(t, pool.Tolerations).([]string) {
			tolerations = append(tolerations, apiEffect.Replace(tol))
		}
		spot, fallback := asg(name+"-spot"), asg(name+"-fallback")
		assert.Equal(t, []string{spot}, expand(prios, groups, selector, tolerations), "a %s pod: its spot group first", name)
		assert.Equal(t, []string{fallback}, expand(prios, without(spot), selector, tolerations), "a %s pod: its fallback once spot has not come up", name)
	}
	assert.Equal(t, []string{asg(cluster.SystemPoolName)}, expand(prios, groups, nil, nil), "an ordinary pod: the system group, never a fallback")
}

// TestEKSInstanceTypesShareAShape plays the cluster-autoscaler's rule for EKS node
// groups over the EC2 shapes: the autoscaler builds a node group's template from the
// first instance type of its mixed instances policy, so "the instance types should have
// the same amount of RAM and number of CPU cores" (kubernetes/autoscaler,
// cluster-autoscaler/cloudprovider/aws/README.md, "Using Mixed Instances Policies and
// Spot Instances"). The shapes are EC2's, as https://aws.amazon.com/ec2/instance-types/
// lists them (the Graviton families, a "g" after the generation, are arm64); each is
// paired after m5.large (2 vCPU, 8 GiB, x86_64), the group's first type. A node group
// boots one AMI, so an arm64 type never shares one with an x86_64 type.
func TestEKSInstanceTypesShareAShape(t *testing.T) {
	t.Parallel()
	shapes := []struct {
		typ          string
		vcpus, memGi int
	}{
		// General purpose, 4 GiB per vCPU.
		{"m5.large", 2, 8}, {"m5.24xlarge", 96, 384}, {"m5.metal", 96, 384},
		{"m5a.16xlarge", 64, 256},
		{"m6i.large", 2, 8}, {"m6i.32xlarge", 128, 512}, {"m6i.metal", 128, 512},
		{"m6a.48xlarge", 192, 768}, {"m6a.metal", 192, 768},
		{"m7i.xlarge", 4, 16}, {"m7i.48xlarge", 192, 768}, {"m7i.metal-24xl", 96, 384},
		{"m7a.medium", 1, 4}, {"m7a.32xlarge", 128, 512}, {"m7a.metal-48xl", 192, 768},
		{"m6g.medium", 1, 4}, {"m6g.large", 2, 8}, {"m6g.metal", 64, 256},
		{"m7g.16xlarge", 64, 256},
		// Compute optimized, 2 GiB per vCPU; c5 has 9xlarge and 18xlarge.
		{"c5.large", 2, 4}, {"c5.9xlarge", 36, 72}, {"c5.18xlarge", 72, 144}, {"c5.metal", 96, 192},
		{"c6i.xlarge", 4, 8}, {"c6i.metal", 128, 256}, {"c6a.48xlarge", 192, 384},
		{"c7i.2xlarge", 8, 16}, {"c7i.metal-48xl", 192, 384},
		{"c6g.medium", 1, 2}, {"c6g.metal", 64, 128}, {"c7g.4xlarge", 16, 32},
		// Memory optimized, 8 GiB per vCPU.
		{"r5.large", 2, 16}, {"r5.metal", 96, 768}, {"r6i.metal", 128, 1024},
		{"r6a.48xlarge", 192, 1536}, {"r7i.24xlarge", 96, 768}, {"r7i.metal-24xl", 96, 768},
		{"r6g.metal", 64, 512}, {"r7g.medium", 1, 8},
	}
	for _, sh := range shapes {
		t.Run(sh.typ, func(t *testing.T) {
			t.Parallel()
			// Each type follows a first type of 2 vCPU, 8 GiB, x86_64; m5.large's own
			// row follows m6i.large, of the same shape.
			first := "m5.large"
			if sh.typ == first {
				first = "m6i.large"
			}
			m, _, err := run(t, cluster.AWS, "staging", func(a *spotpool.Args) {
				a.InstanceTypes = []string{first, sh.typ}
			})
			arch := "x86_64"
			if graviton := strings.HasSuffix(strings.Split(sh.typ, ".")[0], "g"); graviton {
				arch = "arm64"
			}
			if sh.vcpus == 2 && sh.memGi == 8 && arch == "x86_64" {
				require.NoError(t, err)
				assert.NotContains(t, strings.Join(m.Warnings(), "\n"), "cannot be checked")
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), fmt.Sprintf(`InstanceTypes mixes shapes: "m5.large" is 2 vCPU, 8 GiB, x86_64 but %q (%d vCPU, %d GiB, %s)`, sh.typ, sh.vcpus, sh.memGi, arch))
			assertNothingRegistered(t, m)
		})
	}
}

func TestMixedShapes(t *testing.T) {
	t.Parallel()
	const sizedByFirst = "the cluster-autoscaler sizes an EKS node group by its first instance type, and a node group boots one AMI, so give one pool types of the same vCPUs, memory and architecture (and another pool for another shape)"
	tests := []struct {
		name  string
		cloud cluster.Cloud
		edit  func(a *spotpool.Args)
		// refused is the refusal; empty, the pool is built.
		refused string
		warned  []string
	}{
		{name: "spot types of three shapes", cloud: cluster.AWS,
			edit: func(a *spotpool.Args) {
				a.InstanceTypes = []string{"m6i.xlarge", "c6i.xlarge", "m5.xlarge", "r6i.large"}
			},
			refused: `InstanceTypes mixes shapes: "m6i.xlarge" is 4 vCPU, 16 GiB, x86_64 but "c6i.xlarge" (4 vCPU, 8 GiB, x86_64), "r6i.large" (2 vCPU, 16 GiB, x86_64); ` + sizedByFirst},
		{name: "arm64 and x86_64 types of one size", cloud: cluster.AWS,
			edit: func(a *spotpool.Args) {
				a.InstanceTypes = []string{"m7g.xlarge", "m6g.xlarge", "m6i.xlarge", "m7i.xlarge"}
			},
			refused: `InstanceTypes mixes shapes: "m7g.xlarge" is 4 vCPU, 16 GiB, arm64 but "m6i.xlarge" (4 vCPU, 16 GiB, x86_64), "m7i.xlarge" (4 vCPU, 16 GiB, x86_64); ` + sizedByFirst},
		{name: "fallback types of two shapes", cloud: cluster.AWS,
			edit:    func(a *spotpool.Args) { a.Fallback.InstanceTypes = []string{"m6i.xlarge", "m6i.2xlarge"} },
			refused: `Fallback.InstanceTypes mixes shapes: "m6i.xlarge" is 4 vCPU, 16 GiB, x86_64 but "m6i.2xlarge" (8 vCPU, 32 GiB, x86_64); ` + sizedByFirst},
		{name: "a fallback of another shape than spot is its own group", cloud: cluster.AWS,
			edit: func(a *spotpool.Args) { a.Fallback.InstanceTypes = []string{"m6i.2xlarge", "m5.2xlarge"} }},
		{name: "a disabled fallback is not built", cloud: cluster.AWS,
			edit: func(a *spotpool.Args) {
				a.MinSize = 1
				a.Fallback = spotpool.Fallback{Disabled: true, InstanceTypes: []string{"m6i.xlarge", "m6i.2xlarge"}}
			}},
		{name: "an unknown type cannot be checked", cloud: cluster.AWS,
			edit: func(a *spotpool.Args) {
				a.InstanceTypes = []string{"m6i.xlarge", "m6a.xlarge", "m5.xlarge", "t3.xlarge", "m6id.xlarge"}
			},
			warned: []string{`spot pool "batch": instance types ["t3.xlarge" "m6id.xlarge"] cannot be checked for the same vCPUs and memory as the pool's other types, as Flotilla does not know their shapes; make sure they match, since the cluster-autoscaler sizes an EKS node group by its first instance type`}},
		{name: "a size the family does not offer cannot be checked", cloud: cluster.AWS,
			edit: func(a *spotpool.Args) {
				a.InstanceTypes = []string{"m6i.xlarge", "m6a.xlarge", "m5.xlarge", "m7i.xlarge"}
				a.Fallback.InstanceTypes = []string{"m7i.32xlarge", "c5.8xlarge", "m5a.metal"}
			},
			warned: []string{`instance types ["m7i.32xlarge" "c5.8xlarge" "m5a.metal"] cannot be checked`}},
		{name: "an unknown type and a mismatch", cloud: cluster.AWS,
			edit:    func(a *spotpool.Args) { a.InstanceTypes = []string{"t3.large", "m6i.large", "c6i.large"} },
			refused: `InstanceTypes mixes shapes: "m6i.large" is 2 vCPU, 8 GiB, x86_64 but "c6i.large" (2 vCPU, 4 GiB, x86_64)`},
		// GKE node pools and AKS agent pools have one machine type each.
		{name: "gcp pools are one type each", cloud: cluster.GCP,
			edit: func(a *spotpool.Args) { a.InstanceTypes = []string{"n2-standard-4", "n2-highmem-8"} }, warned: []string{"has 2 instance types"}},
		{name: "azure pools are one type each", cloud: cluster.Azure,
			edit: func(a *spotpool.Args) { a.InstanceTypes = []string{"Standard_D4s_v5", "Standard_E8s_v5"} }, warned: []string{"has 2 instance types"}},
		// The shipped simulator stacks mix shapes; changing their pools would replace them.
		{name: "the simulator's pools are not checked", cloud: cluster.Sim,
			edit: func(a *spotpool.Args) { a.InstanceTypes = []string{"m6i.xlarge", "c6i.xlarge", "r6i.large"} }, warned: []string{"has 3 instance types"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, _, err := run(t, tt.cloud, "staging", tt.edit)
			if tt.refused != "" {
				require.Error(t, err)
				assert.True(t, spotpool.IsInvalidArgs(err), "%v", err)
				assert.Contains(t, err.Error(), tt.refused)
				assertNothingRegistered(t, m)
				return
			}
			require.NoError(t, err)
			m.MustGet(t, tokPool, "batch")
			warnings := strings.Join(m.Warnings(), "\n")
			assert.Len(t, m.Warnings(), len(tt.warned), warnings)
			for _, w := range tt.warned {
				assert.Contains(t, warnings, w)
			}
		})
	}
}
