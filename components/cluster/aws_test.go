package cluster_test

import (
	"encoding/json"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestAWSNetwork(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		tags  costtags.Tags
		zones []string
		nats  int
	}{
		{name: "staging shares one NAT gateway", tags: costtags.Tags{"env": "staging", "team": "payments"}, zones: []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}, nats: 1},
		{name: "prod has a NAT gateway per zone", tags: costtags.Tags{"env": "prod", "team": "payments"}, zones: []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}, nats: 3},
		{name: "two explicit zones", tags: costtags.Tags{"team": "payments"}, zones: []string{"eu-west-1b", "eu-west-1c"}, nats: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cluster.AWS)
			args.Tags = tt.tags
			args.API = cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24"}}
			if len(tt.zones) == 2 {
				args.Zones = tt.zones
			}
			m, c := run(t, "eu", args)
			assert.Equal(t, tt.zones, c.Zones)

			vpc := m.MustGet(t, tokVPC, "eu-vpc")
			assert.Equal(t, "10.0.0.0/16", in(t, vpc, "cidrBlock").StringValue())
			assert.True(t, in(t, vpc, "enableDnsHostnames").BoolValue())
			assert.Equal(t, "payments", in(t, vpc, "tags", "team").StringValue())
			assert.Equal(t, "100.64.0.0/16", in(t, m.MustGet(t, tokCidrAssoc, "eu-pods"), "cidrBlock").StringValue())

			private := []string{"10.0.0.0/19", "10.0.32.0/19", "10.0.64.0/19"}
			public := []string{"10.0.224.0/22", "10.0.228.0/22", "10.0.232.0/22"}
			pods := []string{"100.64.0.0/19", "100.64.32.0/19", "100.64.64.0/19"}
			for i, zone := range tt.zones {
				for _, sn := range []struct {
					kind, cidr, role string
				}{
					{"private", private[i], "kubernetes.io/role/internal-elb"},
					{"public", public[i], "kubernetes.io/role/elb"},
					{"pods", pods[i], ""},
				} {
					r := m.MustGet(t, tokSubnet, "eu-"+sn.kind+"-"+zone)
					assert.Equal(t, zone, in(t, r, "availabilityZone").StringValue(), sn.kind)
					assert.Equal(t, sn.cidr, in(t, r, "cidrBlock").StringValue(), sn.kind)
					tags := strMap(t, in(t, r, "tags"))
					assert.Equal(t, "payments", tags["team"])
					if sn.role != "" {
						assert.Equal(t, "1", tags[sn.role], sn.kind)
					}
				}
			}
			assert.Len(t, m.ByType(tokSubnet), 3*len(tt.zones))
			assert.Len(t, m.ByType(tokNAT), tt.nats)
			// One public route table and one private per zone, through a NAT gateway.
			assert.Len(t, m.ByType(tokRouteTable), 1+len(tt.zones))
		})
	}
}

func TestAWSControlPlane(t *testing.T) {
	t.Parallel()
	args := baseArgs(cluster.AWS)
	args.Network = cluster.Network{VPCCIDR: "10.20.0.0/16", PodCIDR: "100.65.0.0/16", ServiceCIDR: "172.21.0.0/16"}
	m, c := run(t, "eu", args)

	eks := m.MustGet(t, tokEKS, "eu-eks")
	assert.Equal(t, "1.31", in(t, eks, "version").StringValue())
	assert.Equal(t, []string{"api", "audit", "authenticator", "controllerManager", "scheduler"}, strs(t, in(t, eks, "enabledClusterLogTypes")))
	assert.Equal(t, "172.21.0.0/16", in(t, eks, "kubernetesNetworkConfig", "serviceIpv4Cidr").StringValue())
	assert.Len(t, strs(t, in(t, eks, "vpcConfig", "subnetIds")), 6, "private and public subnets of three zones")
	assert.Equal(t, "API_AND_CONFIG_MAP", in(t, eks, "accessConfig", "authenticationMode").StringValue())
	assert.Equal(t, "payments", in(t, eks, "tags", "team").StringValue())
	assert.Equal(t, "10.20.0.0/16", in(t, m.MustGet(t, tokVPC, "eu-vpc"), "cidrBlock").StringValue())
	assert.Equal(t, "100.65.0.0/16", in(t, m.MustGet(t, tokCidrAssoc, "eu-pods"), "cidrBlock").StringValue())

	trust := in(t, m.MustGet(t, tokRole, "eu-cluster"), "assumeRolePolicy").StringValue()
	assert.Contains(t, trust, `"Service":"eks.amazonaws.com"`)
	policies := map[string][]string{}
	for _, a := range m.ByType(tokAttachment) {
		role := strings.SplitN(a.Name, "-Amazon", 2)[0]
		policies[role] = append(policies[role], in(t, a, "policyArn").StringValue())
	}
	assert.ElementsMatch(t, []string{
		"arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
		"arn:aws:iam::aws:policy/AmazonEKSVPCResourceController",
	}, policies["eu-cluster"])
	assert.ElementsMatch(t, []string{
		"arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
		"arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
		"arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
		"arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
	}, policies["eu-node"])

	assert.Equal(t, "https://eu-eks.gr7.eks.amazonaws.com", await(t, c.Endpoint))
	assert.Equal(t, "eu-eks-7d1e", await(t, c.Name))
	require.NotNil(t, c.AWS)
	assert.Len(t, c.AWS.PrivateSubnetIDs, 3)
}

func TestAWSAPIEndpointAccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		api    cluster.APIAccess
		public bool
		cidrs  []string // nil: publicAccessCidrs unset, which EKS takes as 0.0.0.0/0
	}{
		{name: "open by default outside prod", public: true},
		{name: "allow-listed", api: cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24", "198.51.100.7/32"}},
			public: true, cidrs: []string{"203.0.113.0/24", "198.51.100.7/32"}},
		{name: "a range given by one of its addresses", api: cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.9/24"}},
			public: true, cidrs: []string{"203.0.113.0/24"}},
		{name: "private only", api: cluster.APIAccess{Private: true}, public: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cluster.AWS)
			args.API = tt.api
			m, _ := run(t, "eu", args)

			vc := in(t, m.MustGet(t, tokEKS, "eu-eks"), "vpcConfig")
			assert.True(t, at(t, vc, "endpointPrivateAccess").BoolValue(), "nodes reach the API inside the VPC")
			assert.Equal(t, tt.public, at(t, vc, "endpointPublicAccess").BoolValue())
			if tt.cidrs == nil {
				assert.False(t, vc.ObjectValue().HasValue("publicAccessCidrs"))
				return
			}
			assert.Equal(t, tt.cidrs, strs(t, at(t, vc, "publicAccessCidrs")))
		})
	}
}

func TestAWSSecretsEncryption(t *testing.T) {
	t.Parallel()
	const key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"

	m, _ := run(t, "eu", baseArgs(cluster.AWS))
	assert.False(t, m.MustGet(t, tokEKS, "eu-eks").Inputs.HasValue("encryptionConfig"), "no key: EKS's own")
	_, ok := m.Get(tokRolePolicy, "eu-cluster-secrets-key")
	assert.False(t, ok)

	args := baseArgs(cluster.AWS)
	args.SecretsKey = key
	m, _ = run(t, "eu", args)
	eks := m.MustGet(t, tokEKS, "eu-eks")
	assert.Equal(t, key, in(t, eks, "encryptionConfig", "provider", "keyArn").StringValue())
	assert.Equal(t, []string{"secrets"}, strs(t, in(t, eks, "encryptionConfig", "resources")))
	var policy struct {
		Statement []struct {
			Action   []string
			Resource string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(in(t, m.MustGet(t, tokRolePolicy, "eu-cluster-secrets-key"), "policy").StringValue()), &policy))
	require.Len(t, policy.Statement, 1)
	assert.Equal(t, key, policy.Statement[0].Resource)
	assert.Subset(t, policy.Statement[0].Action, []string{"kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"})
}

// protectRecorder records which registrations asked for protection, an option the
// recording mocks leave out.
type protectRecorder struct {
	*pulumitest.Mocks
	mu        sync.Mutex
	protected map[string]bool
}

func (r *protectRecorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	if args.RegisterRPC != nil {
		r.mu.Lock()
		r.protected[args.TypeToken+"::"+args.Name] = args.RegisterRPC.GetProtect()
		r.mu.Unlock()
	}
	return r.Mocks.NewResource(args)
}

func TestAWSProdClusterProtected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env       string
		protected bool
	}{
		{env: "prod", protected: true},
		{env: "staging", protected: false},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cluster.AWS)
			args.Tags = costtags.Tags{"team": "payments", "env": tt.env}
			args.API = cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24"}}
			rec := &protectRecorder{Mocks: newMocks(), protected: map[string]bool{}}
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := cluster.New(ctx, "eu", args)
				return err
			}, pulumi.WithMocks(pulumitest.Project, pulumitest.Stack, rec))
			require.NoError(t, err)
			assert.Equal(t, tt.protected, rec.protected[tokEKS+"::eu-eks"])
		})
	}
}

func TestAWSKubeconfigUsesGetToken(t *testing.T) {
	t.Parallel()
	m, c := run(t, "eu", baseArgs(cluster.AWS))

	var kc struct {
		Clusters []struct {
			Cluster map[string]string `yaml:"cluster"`
		} `yaml:"clusters"`
		Users []struct {
			User struct {
				Exec struct {
					Command string   `yaml:"command"`
					Args    []string `yaml:"args"`
				} `yaml:"exec"`
			} `yaml:"user"`
		} `yaml:"users"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(await(t, c.Kubeconfig).(string)), &kc))
	require.Len(t, kc.Clusters, 1)
	assert.Equal(t, "https://eu-eks.gr7.eks.amazonaws.com", kc.Clusters[0].Cluster["server"])
	assert.Equal(t, caData, kc.Clusters[0].Cluster["certificate-authority-data"])
	require.Len(t, kc.Users, 1)
	assert.Equal(t, "aws", kc.Users[0].User.Exec.Command)
	assert.Equal(t, []string{"eks", "get-token", "--cluster-name", "eu-eks-7d1e", "--region", "eu-west-1"}, kc.Users[0].User.Exec.Args)

	// The provider that deploys in-cluster resources gets the kubeconfig as a secret.
	kp := m.MustGet(t, tokK8sProvider, "eu-k8s")
	assert.True(t, kp.Inputs["kubeconfig"].IsSecret())
}

func TestAWSSystemNodeGroup(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		pool     cluster.SystemPool
		tags     costtags.Tags
		wantType string
		min, max int
	}{
		{name: "defaults", tags: costtags.Tags{"team": "payments"}, wantType: "m6i.large", min: 2, max: 4},
		{name: "prod defaults", tags: costtags.Tags{"team": "payments", "env": "prod"}, wantType: "m6i.large", min: 3, max: 6},
		{name: "explicit", pool: cluster.SystemPool{InstanceType: "m7i.xlarge", MinSize: 1, MaxSize: 5}, tags: costtags.Tags{"team": "payments"}, wantType: "m7i.xlarge", min: 1, max: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cluster.AWS)
			args.SystemPool = tt.pool
			args.Tags = tt.tags
			args.API = cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24"}}
			m, _ := run(t, "eu", args)

			ng := m.MustGet(t, tokNodeGroup, "eu-system")
			assert.Equal(t, "system", in(t, ng, "nodeGroupName").StringValue())
			assert.Equal(t, "ON_DEMAND", in(t, ng, "capacityType").StringValue())
			assert.Equal(t, []string{tt.wantType}, strs(t, in(t, ng, "instanceTypes")))
			assert.Equal(t, float64(tt.min), in(t, ng, "scalingConfig", "minSize").NumberValue())
			assert.Equal(t, float64(tt.max), in(t, ng, "scalingConfig", "maxSize").NumberValue())
			assert.Equal(t, float64(tt.min), in(t, ng, "scalingConfig", "desiredSize").NumberValue())
			assert.Equal(t, map[string]string{cluster.LabelPool: "system", cluster.LabelCapacity: "on-demand"}, strMap(t, in(t, ng, "labels")))
			assert.Equal(t, "1.31", in(t, ng, "version").StringValue())
			assert.Len(t, strs(t, in(t, ng, "subnetIds")), 3, "one private subnet per zone")

			lt := m.MustGet(t, tokLT, "eu-system")
			wantTags, err := costtags.ForAWS(tt.tags)
			require.NoError(t, err)
			specs := map[string]map[string]string{}
			for _, s := range in(t, lt, "tagSpecifications").ArrayValue() {
				specs[at(t, s, "resourceType").StringValue()] = strMap(t, at(t, s, "tags"))
			}
			assert.Equal(t, wantTags, specs["instance"])
			assert.Equal(t, wantTags, specs["volume"])
			assert.Equal(t, "required", in(t, lt, "metadataOptions", "httpTokens").StringValue())
			// A hop limit of 1 keeps the node role's credentials from pods (issue 15).
			assert.Equal(t, float64(1), in(t, lt, "metadataOptions", "httpPutResponseHopLimit").NumberValue())
		})
	}
}

func TestAWSAutoscaler(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		time time.Duration
		want string
	}{
		{name: "default provision time", want: "5m"},
		{name: "minutes", time: 8 * time.Minute, want: "8m"},
		{name: "seconds", time: 150 * time.Second, want: "2m30s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cluster.AWS)
			args.MaxNodeProvisionTime = tt.time
			m, _ := run(t, "eu", args)

			rel := m.MustGet(t, tokRelease, "eu-autoscaler")
			assert.Equal(t, "cluster-autoscaler", in(t, rel, "chart").StringValue())
			assert.Equal(t, "kube-system", in(t, rel, "namespace").StringValue())
			assert.Equal(t, "https://kubernetes.github.io/autoscaler", in(t, rel, "repositoryOpts", "repo").StringValue())
			assert.Equal(t, "aws", in(t, rel, "values", "cloudProvider").StringValue())
			assert.Equal(t, "eu-west-1", in(t, rel, "values", "awsRegion").StringValue())
			assert.Equal(t, "eu-eks-7d1e", in(t, rel, "values", "autoDiscovery", "clusterName").StringValue())
			assert.Equal(t, "v1.31.5", in(t, rel, "values", "image", "tag").StringValue())
			assert.Equal(t, "system", in(t, rel, "values", "nodeSelector", cluster.LabelPool).StringValue())
			assert.Equal(t, "cluster-autoscaler", in(t, rel, "values", "rbac", "serviceAccount", "name").StringValue())
			extra := in(t, rel, "values", "extraArgs")
			assert.Equal(t, "priority", at(t, extra, "expander").StringValue())
			assert.True(t, at(t, extra, "balance-similar-node-groups").BoolValue())
			assert.Equal(t, tt.want, at(t, extra, "max-node-provision-time").StringValue())
			// Scale-down drains under-used fallback nodes, so their pods return to spot.
			assert.Equal(t, "5m", at(t, extra, "scale-down-unneeded-time").StringValue())
			assert.Equal(t, "0.7", at(t, extra, "scale-down-utilization-threshold").StringValue())
			assert.True(t, strings.HasPrefix(rel.Provider, m.MustGet(t, tokK8sProvider, "eu-k8s").URN+"::"), "the release uses the cluster's kube provider")

			// The autoscaler's identity: a Pod Identity role allowed to resize only this
			// cluster's groups.
			role := m.MustGet(t, tokRole, "eu-autoscaler")
			assert.Contains(t, in(t, role, "assumeRolePolicy").StringValue(), `"Service":"pods.eks.amazonaws.com"`)
			var policy struct {
				Statement []struct {
					Action    []string
					Condition map[string]map[string]string
				}
			}
			require.NoError(t, json.Unmarshal([]byte(in(t, m.MustGet(t, tokRolePolicy, "eu-autoscaler"), "policy").StringValue()), &policy))
			require.Len(t, policy.Statement, 2)
			assert.Contains(t, policy.Statement[1].Action, "autoscaling:SetDesiredCapacity")
			assert.Equal(t, "owned", policy.Statement[1].Condition["StringEquals"]["aws:ResourceTag/k8s.io/cluster-autoscaler/eu-eks-7d1e"])
			assoc := m.MustGet(t, tokPodIdentity, "eu-autoscaler")
			assert.Equal(t, "kube-system", in(t, assoc, "namespace").StringValue())
			assert.Equal(t, "cluster-autoscaler", in(t, assoc, "serviceAccount").StringValue())
		})
	}
}

// TestAWSAutoscalerImagePatch checks that the autoscaler runs a known patch release of
// its minor, a tag of kubernetes/autoscaler (cluster-autoscaler-<version>), not the .0.
func TestAWSAutoscalerImagePatch(t *testing.T) {
	t.Parallel()
	tests := []struct{ version, want string }{
		{"1.28", "v1.28.4"},
		{"1.29", "v1.29.2"},
		{"1.30", "v1.30.2"},
		{"1.31", "v1.31.5"},
		{"1.32", "v1.32.4"},
		{"1.33", "v1.33.2"},
		{"1.34", "v1.34.1"},
		// A minor newer than the table: its first release, the only one known.
		{"1.40", "v1.40.0"},
	}
	for _, tt := range tests {
		t.Run(tt.version, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cluster.AWS)
			args.Version = tt.version
			m, _ := run(t, "eu", args)
			rel := m.MustGet(t, tokRelease, "eu-autoscaler")
			assert.Equal(t, tt.want, in(t, rel, "values", "image", "tag").StringValue())
		})
	}
}

func TestAWSCustomNetworking(t *testing.T) {
	t.Parallel()
	m, _ := run(t, "eu", baseArgs(cluster.AWS))

	cni := m.MustGet(t, tokAddon, "eu-vpc-cni")
	assert.Equal(t, "vpc-cni", in(t, cni, "addonName").StringValue())
	// The exact configuration values, in the add-on's schema (aws eks
	// describe-addon-configuration --addon-name vpc-cni): enableNetworkPolicy is a string,
	// "true" or "false", and without it NetworkPolicies are accepted but not enforced
	// (https://docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html).
	assert.JSONEq(t, `{
		"env": {
			"AWS_VPC_K8S_CNI_CUSTOM_NETWORK_CFG": "true",
			"ENI_CONFIG_LABEL_DEF": "topology.kubernetes.io/zone"
		},
		"enableNetworkPolicy": "true"
	}`, in(t, cni, "configurationValues").StringValue())

	for _, zone := range []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"} {
		eni := m.MustGet(t, tokENIConfig, "eu-eniconfig-"+zone)
		assert.Equal(t, zone, in(t, eni, "metadata", "name").StringValue())
		assert.Equal(t, m.MustGet(t, tokSubnet, "eu-pods-"+zone).ID, in(t, eni, "spec", "subnet").StringValue())
		assert.Equal(t, []string{sgClusterEKS}, strs(t, in(t, eni, "spec", "securityGroups")))
	}
}

func TestAWSPriorityExpander(t *testing.T) {
	t.Parallel()
	m, _ := run(t, "eu", baseArgs(cluster.AWS))

	cm := m.MustGet(t, tokConfigMap, "eu-priority-expander")
	assert.Equal(t, cluster.PriorityExpanderConfigMap, in(t, cm, "metadata", "name").StringValue())
	assert.Equal(t, "kube-system", in(t, cm, "metadata", "namespace").StringValue())
	prios := parsePriorities(t, in(t, cm, "data", "priorities").StringValue())

	asg := func(group string) string { return "eks-" + group + "-4ac6f2b1-0d3e-4f5a-9b7c-1e2d3c4b5a69" }
	spot := []string{asg(cluster.GroupName(cluster.AWS, "batch", cluster.Spot, 0)), asg(cluster.GroupName(cluster.AWS, "web-fallback", cluster.Spot, 0))}
	fallback := []string{asg(cluster.GroupName(cluster.AWS, "batch", cluster.OnDemand, 0)), asg(cluster.GroupName(cluster.AWS, "spot", cluster.OnDemand, 0))}
	system := asg(cluster.SystemPoolName)
	require.Len(t, prios, 3, "spot, the system group, fallbacks")
	// Every group of the cluster is ranked (the upstream expander drops the others):
	// spot above the system group, the system group above every fallback, so that an
	// ordinary pod, which fits the system group and an untainted fallback, gets the
	// system group.
	for _, s := range spot {
		assert.Greater(t, rankOf(prios, s), rankOf(prios, system), "%s must outrank %s", s, system)
	}
	for _, f := range fallback {
		assert.NotEqual(t, -1, rankOf(prios, f), f)
		assert.Greater(t, rankOf(prios, system), rankOf(prios, f), "%s must outrank %s", system, f)
	}
	for _, g := range []string{"eks-batch-spot", asg("batch-spot-extra"), "eks-" + "batch-spot-4AC6F2B1-0D3E-4F5A-9B7C-1E2D3C4B5A69", asg("system-extra")} {
		assert.Equal(t, -1, rankOf(prios, g), "%s must match no regex", g)
	}
}

// parsePriorities reads the priority expander's YAML: priority -> regexes.
func parsePriorities(t *testing.T, doc string) map[int][]*regexp.Regexp {
	t.Helper()
	var raw map[int][]string
	require.NoError(t, yaml.Unmarshal([]byte(doc), &raw))
	out := map[int][]*regexp.Regexp{}
	for p, res := range raw {
		for _, re := range res {
			out[p] = append(out[p], regexp.MustCompile(re))
		}
	}
	return out
}

// rankOf returns the highest priority whose regexes match group, or -1.
func rankOf(prios map[int][]*regexp.Regexp, group string) int {
	best := -1
	for p, res := range prios {
		for _, re := range res {
			if re.MatchString(group) && p > best {
				best = p
			}
		}
	}
	return best
}
