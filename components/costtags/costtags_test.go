package costtags_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-azure-native-sdk/resources/v2"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/container"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/organizations"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/projects"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	presource "github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
)

const (
	vpcType        = "aws:ec2/vpc:Vpc"
	rtAssocType    = "aws:ec2/routeTableAssociation:RouteTableAssociation"
	allocTagType   = "aws:costexplorer/costAllocationTag:CostAllocationTag"
	projectType    = "gcp:organizations/project:Project"
	clusterType    = "gcp:container/cluster:Cluster"
	nodePoolType   = "gcp:container/nodePool:NodePool"
	iamMemberType  = "gcp:projects/iAMMember:IAMMember"
	rgType         = "azure-native:resources:ResourceGroup"
	tagAtScopeType = "azure-native:resources:TagAtScope"
	namespaceType  = "kubernetes:core/v1:Namespace"
	nsPatchType    = "kubernetes:core/v1:NamespacePatch"
	simPoolType    = "fleetsim:index:NodePool"
)

// The stack's tags and what each target makes of them.
var (
	stackTags  = costtags.Tags{"env": "prod", "team": "Platform Team", "cost-center": "CC/42"}
	awsTags    = map[string]string{"env": "prod", "team": "Platform Team", "cost-center": "CC/42"}
	gcpLabels  = map[string]string{"env": "prod", "team": "platform_team", "cost-center": "cc_42"}
	azureTags  = map[string]string{"env": "prod", "team": "Platform Team", "cost-center": "CC/42"}
	kubeLabels = map[string]string{"env": "prod", "team": "Platform_Team", "cost-center": "CC_42"}
)

// simResource stands for a resource of the fleetsim provider, which has no Go SDK.
type simResource struct{ pulumi.CustomResourceState }

// everyPackage registers, after the CostTags component, resources of the four packages
// and of the simulator: taggable ones bare and with tags of their own (a team that
// must survive, an env=dev that must not), and untaggable ones.
func everyPackage(ctx *pulumi.Context) error {
	s := func(v string) pulumi.String { return pulumi.String(v) }
	steps := []func() error{
		// AWS
		func() error {
			_, err := ec2.NewVpc(ctx, "bare", &ec2.VpcArgs{CidrBlock: s("10.0.0.0/16")})
			return err
		},
		func() error {
			_, err := ec2.NewVpc(ctx, "own", &ec2.VpcArgs{CidrBlock: s("10.1.0.0/16"),
				Tags: pulumi.StringMap{"Name": s("own"), "team": s("data"), "env": s("dev")}})
			return err
		},
		func() error {
			_, err := ec2.NewRouteTableAssociation(ctx, "assoc", &ec2.RouteTableAssociationArgs{
				RouteTableId: s("rtb-1"), SubnetId: s("subnet-1")})
			return err
		},
		// GCP
		func() error {
			_, err := organizations.NewProject(ctx, "bare", &organizations.ProjectArgs{ProjectId: s("bare"), Name: s("bare")})
			return err
		},
		func() error {
			_, err := organizations.NewProject(ctx, "own", &organizations.ProjectArgs{ProjectId: s("own"), Name: s("own"),
				Labels: pulumi.StringMap{"team": s("data"), "env": s("dev")}})
			return err
		},
		func() error {
			_, err := container.NewCluster(ctx, "gke", &container.ClusterArgs{Location: s("europe-west1"),
				NodeConfig: &container.ClusterNodeConfigArgs{MachineType: s("e2-standard-4"),
					ResourceLabels: pulumi.StringMap{"team": s("ml")}}})
			return err
		},
		func() error {
			_, err := container.NewCluster(ctx, "autopilot", &container.ClusterArgs{Location: s("europe-west1"),
				EnableAutopilot: pulumi.Bool(true)})
			return err
		},
		func() error {
			_, err := container.NewNodePool(ctx, "bare", &container.NodePoolArgs{Cluster: s("gke")})
			return err
		},
		func() error {
			_, err := container.NewNodePool(ctx, "ml", &container.NodePoolArgs{Cluster: s("gke"),
				NodeConfig: &container.NodePoolNodeConfigArgs{Spot: pulumi.Bool(true),
					ResourceLabels: pulumi.StringMap{"team": s("ml")}}})
			return err
		},
		func() error {
			_, err := projects.NewIAMMember(ctx, "viewer", &projects.IAMMemberArgs{Project: s("bare"),
				Role: s("roles/viewer"), Member: s("user:ops@example.com")})
			return err
		},
		// Azure
		func() error {
			_, err := resources.NewResourceGroup(ctx, "bare", &resources.ResourceGroupArgs{Location: s("westeurope")})
			return err
		},
		func() error {
			_, err := resources.NewResourceGroup(ctx, "own", &resources.ResourceGroupArgs{Location: s("westeurope"),
				Tags: pulumi.StringMap{"Team": s("data"), "ENV": s("dev")}})
			return err
		},
		func() error {
			_, err := resources.NewTagAtScope(ctx, "scope", &resources.TagAtScopeArgs{Scope: s("/subscriptions/1"),
				Properties: &resources.TagsArgs{Tags: pulumi.StringMap{"owner": s("ops")}}})
			return err
		},
		// Kubernetes
		func() error {
			_, err := corev1.NewNamespace(ctx, "bare", nil)
			return err
		},
		func() error {
			_, err := corev1.NewNamespace(ctx, "own", &corev1.NamespaceArgs{Metadata: &metav1.ObjectMetaArgs{
				Name: s("own"), Labels: pulumi.StringMap{"team": s("data"), "env": s("dev")}}})
			return err
		},
		func() error {
			_, err := corev1.NewNamespacePatch(ctx, "patch", &corev1.NamespacePatchArgs{Metadata: &metav1.ObjectMetaPatchArgs{
				Name: s("kube-system"), Labels: pulumi.StringMap{"owner": s("ops")}}})
			return err
		},
		// The simulator
		func() error {
			var r simResource
			return ctx.RegisterResource(simPoolType, "sim", pulumi.Map{"tags": pulumi.StringMap{"team": s("ml")}}, &r)
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

func withCostTags(args *costtags.Args, rest pulumi.RunFunc) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		if _, err := costtags.New(ctx, "costs", args); err != nil {
			return err
		}
		return rest(ctx)
	}
}

// at returns the value at path in a resource's inputs.
func at(t *testing.T, r pulumitest.Resource, path ...string) (presource.PropertyValue, bool) {
	t.Helper()
	v := presource.NewProperty(r.Inputs)
	for _, step := range path {
		if v.IsSecret() {
			v = v.SecretValue().Element
		}
		if !v.IsObject() {
			return presource.PropertyValue{}, false
		}
		next, ok := v.ObjectValue()[presource.PropertyKey(step)]
		if !ok {
			return presource.PropertyValue{}, false
		}
		v = next
	}
	return v, true
}

// stringMapAt returns the string map at path in a resource's inputs.
func stringMapAt(t *testing.T, r pulumitest.Resource, path ...string) map[string]string {
	t.Helper()
	v, ok := at(t, r, path...)
	require.True(t, ok, "%s %q has no %s; inputs: %v", r.Type, r.Name, strings.Join(path, "."), r.Inputs)
	if v.IsSecret() {
		v = v.SecretValue().Element
	}
	require.True(t, v.IsObject(), "%s %q: %s is %v", r.Type, r.Name, strings.Join(path, "."), v)
	out := map[string]string{}
	for k, e := range v.ObjectValue() {
		require.True(t, e.IsString(), "%s %q: %s.%s is %v", r.Type, r.Name, strings.Join(path, "."), k, e)
		out[string(k)] = e.StringValue()
	}
	return out
}

func with(base map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func TestNewTagsEveryTaggableResource(t *testing.T) {
	t.Parallel()
	m := pulumitest.New()
	require.NoError(t, m.Run(withCostTags(&costtags.Args{Tags: stackTags}, everyPackage)))

	cases := []struct {
		typ, name string
		path      []string
		want      map[string]string
	}{
		{vpcType, "bare", []string{"tags"}, awsTags},
		{vpcType, "own", []string{"tags"}, with(awsTags, "Name", "own", "team", "data")},
		{projectType, "bare", []string{"labels"}, gcpLabels},
		{projectType, "own", []string{"labels"}, with(gcpLabels, "team", "data")},
		{clusterType, "gke", []string{"resourceLabels"}, gcpLabels},
		{clusterType, "gke", []string{"nodeConfig", "resourceLabels"}, with(gcpLabels, "team", "ml")},
		{clusterType, "autopilot", []string{"resourceLabels"}, gcpLabels},
		{nodePoolType, "bare", []string{"nodeConfig", "resourceLabels"}, gcpLabels},
		{nodePoolType, "ml", []string{"nodeConfig", "resourceLabels"}, with(gcpLabels, "team", "ml")},
		{rgType, "bare", []string{"tags"}, azureTags},
		{rgType, "own", []string{"tags"}, map[string]string{"Team": "data", "env": "prod", "cost-center": "CC/42"}},
		{namespaceType, "bare", []string{"metadata", "labels"}, kubeLabels},
		{namespaceType, "own", []string{"metadata", "labels"}, with(kubeLabels, "team", "data")},
		{simPoolType, "sim", []string{"tags"}, with(kubeLabels, "team", "ml")},
	}
	for _, tc := range cases {
		t.Run(tc.typ+" "+tc.name+" "+strings.Join(tc.path, "."), func(t *testing.T) {
			t.Parallel()
			r := m.MustGet(t, tc.typ, tc.name)
			assert.Equal(t, tc.want, stringMapAt(t, r, tc.path...))
		})
	}

	t.Run("other inputs are kept", func(t *testing.T) {
		t.Parallel()
		v, ok := at(t, m.MustGet(t, nodePoolType, "ml"), "nodeConfig", "spot")
		require.True(t, ok)
		assert.True(t, v.BoolValue())
		v, ok = at(t, m.MustGet(t, namespaceType, "own"), "metadata", "name")
		require.True(t, ok)
		assert.Equal(t, "own", v.StringValue())
		v, ok = at(t, m.MustGet(t, vpcType, "own"), "cidrBlock")
		require.True(t, ok)
		assert.Equal(t, "10.1.0.0/16", v.StringValue())
	})
	t.Run("an Autopilot cluster gets no node config", func(t *testing.T) {
		t.Parallel()
		_, ok := at(t, m.MustGet(t, clusterType, "autopilot"), "nodeConfig")
		assert.False(t, ok)
	})
}

func TestNewLeavesUntaggableResourcesAlone(t *testing.T) {
	t.Parallel()
	m := pulumitest.New()
	require.NoError(t, m.Run(withCostTags(&costtags.Args{Tags: stackTags}, everyPackage)))
	for _, tc := range []struct{ typ, name string }{
		{rtAssocType, "assoc"},
		{iamMemberType, "viewer"},
		{tagAtScopeType, "scope"},
		{nsPatchType, "patch"},
		{costtags.TypeToken, "costs"},
	} {
		t.Run(tc.typ, func(t *testing.T) {
			t.Parallel()
			r := m.MustGet(t, tc.typ, tc.name)
			assert.Equal(t, r.Raw, r.Inputs)
			assert.NotContains(t, r.Inputs, presource.PropertyKey("tags"))
			assert.NotContains(t, r.Inputs, presource.PropertyKey("labels"))
		})
	}
}

func TestNewRejectsBadTagsBeforeRegisteringAnything(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		args *costtags.Args
		errs []string
	}{
		{name: "nil args break the default policy", args: nil,
			errs: []string{`costtags "costs"`, `required tag "env" is missing`, `required tag "team" is missing`, `required tag "cost-center" is missing`}},
		{name: "every policy problem at once",
			args: &costtags.Args{Tags: costtags.Tags{"env": "qa", "team": ""}},
			errs: []string{`tag "env" is "qa"; set it to one of "dev", "staging", "prod"`, `required tag "team" is empty`, `required tag "cost-center" is missing`}},
		{name: "a custom policy",
			args: &costtags.Args{Tags: costtags.Tags{"env": "prod"}, Policy: &costtags.Policy{Required: []string{"owner"}}},
			errs: []string{`required tag "owner" is missing`}},
		{name: "tags no target can take",
			args: &costtags.Args{Tags: with(stackTags, "Team", "x", "aws:owner", "y", "1st", "z")},
			errs: []string{`GCP labels "Team" and "team" both become "team"`, `Azure tags "Team" and "team"`, `AWS tag "aws:owner"`, `GCP label "1st"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := pulumitest.New()
			err := m.Run(withCostTags(tc.args, everyPackage))
			require.Error(t, err)
			for _, frag := range tc.errs {
				assert.Contains(t, err.Error(), frag)
			}
			assert.Empty(t, m.Resources(), "nothing is registered")
		})
	}
}

func TestEnforcedKeys(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		policy   *costtags.Policy
		wantVPC  map[string]string // the tags of the VPC with its own team=data, env=dev
		warnings []string          // a fragment of each warning, in any order
	}{
		{name: "the default policy enforces env only", policy: nil,
			wantVPC: with(awsTags, "Name", "own", "team", "data"),
			warnings: []string{
				`aws:ec2/vpc:Vpc "own": tag "env" is enforced by the stack's policy; it is set to "prod", replacing the resource's own "dev"`,
				`gcp:organizations/project:Project "own": tag "env"`,
				`azure-native:resources:ResourceGroup "own": tag "env" is enforced by the stack's policy; it is set to "prod", replacing the resource's own "ENV"="dev"`,
				`kubernetes:core/v1:Namespace "own": tag "env"`,
			}},
		{name: "enforcing team instead", policy: &costtags.Policy{Enforced: []string{"team"}},
			wantVPC: with(awsTags, "Name", "own", "env", "dev"),
			warnings: []string{
				`aws:ec2/vpc:Vpc "own": tag "team" is enforced by the stack's policy; it is set to "Platform Team", replacing the resource's own "data"`,
				`gcp:organizations/project:Project "own": tag "team"`,
				`gcp:container/cluster:Cluster "gke": tag "team"`,
				`gcp:container/nodePool:NodePool "ml": tag "team"`,
				`azure-native:resources:ResourceGroup "own": tag "team" is enforced by the stack's policy; it is set to "Platform Team", replacing the resource's own "Team"="data"`,
				`kubernetes:core/v1:Namespace "own": tag "team"`,
				`fleetsim:index:NodePool "sim": tag "team"`,
			}},
		{name: "nothing enforced", policy: &costtags.Policy{},
			wantVPC: with(awsTags, "Name", "own", "team", "data", "env", "dev")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := pulumitest.New()
			require.NoError(t, m.Run(withCostTags(&costtags.Args{Tags: stackTags, Policy: tc.policy}, everyPackage)))
			assert.Equal(t, tc.wantVPC, stringMapAt(t, m.MustGet(t, vpcType, "own"), "tags"))
			warnings := m.Warnings()
			require.Len(t, warnings, len(tc.warnings), "warnings: %q", warnings)
			for _, frag := range tc.warnings {
				found := false
				for _, w := range warnings {
					found = found || strings.Contains(w, frag)
				}
				assert.True(t, found, "no warning contains %q; warnings: %q", frag, warnings)
			}
		})
	}
}

// TestProdStackNeverGetsEnvDev registers, in the prod stack, resources that ask for
// env=dev in every way they can, and checks that none of them gets it.
func TestProdStackNeverGetsEnvDev(t *testing.T) {
	t.Parallel()
	m := pulumitest.New()
	s := func(v string) pulumi.String { return pulumi.String(v) }
	err := m.RunStack("prod", withCostTags(&costtags.Args{Tags: stackTags}, func(ctx *pulumi.Context) error {
		if err := everyPackage(ctx); err != nil {
			return err
		}
		if _, err := ec2.NewVpc(ctx, "shouting", &ec2.VpcArgs{CidrBlock: s("10.2.0.0/16"),
			Tags: pulumi.StringMap{"ENV": s("DEV"), "Env": s("dev")}}); err != nil {
			return err
		}
		if _, err := ec2.NewVpc(ctx, "secret", &ec2.VpcArgs{CidrBlock: s("10.3.0.0/16"),
			Tags: pulumi.ToSecret(pulumi.StringMap{"env": s("dev")}).(pulumi.StringMapOutput)}); err != nil {
			return err
		}
		if _, err := container.NewNodePool(ctx, "dev-pool", &container.NodePoolArgs{Cluster: s("gke"),
			NodeConfig: &container.NodePoolNodeConfigArgs{ResourceLabels: pulumi.StringMap{"env": s("dev")}}}); err != nil {
			return err
		}
		_, err := corev1.NewNamespace(ctx, "dev-ns", &corev1.NamespaceArgs{Metadata: &metav1.ObjectMetaArgs{
			Labels: pulumi.StringMap{"env": pulumi.ToSecret(s("dev")).(pulumi.StringOutput)}}})
		return err
	}))
	require.NoError(t, err)

	var walk func(path string, v presource.PropertyValue)
	walk = func(path string, v presource.PropertyValue) {
		switch {
		case v.IsSecret():
			walk(path, v.SecretValue().Element)
		case v.IsArray():
			for _, e := range v.ArrayValue() {
				walk(path+"[]", e)
			}
		case v.IsObject():
			for k, e := range v.ObjectValue() {
				if strings.EqualFold(string(k), "env") {
					if e.IsSecret() {
						e = e.SecretValue().Element
					}
					assert.False(t, e.IsString() && strings.EqualFold(e.StringValue(), "dev"), "%s.%s is %v", path, k, e)
				}
				walk(path+"."+string(k), e)
			}
		}
	}
	resources := m.Resources()
	require.Greater(t, len(resources), 20)
	for _, r := range resources {
		walk(r.Type+" "+r.Name, presource.NewProperty(r.Inputs))
	}
	assert.Equal(t, "prod", stringMapAt(t, m.MustGet(t, vpcType, "secret"), "tags")["env"])
	assert.Equal(t, map[string]string{"env": "prod", "team": "Platform Team", "cost-center": "CC/42"},
		stringMapAt(t, m.MustGet(t, vpcType, "shouting"), "tags"))
}

func TestNewOutputs(t *testing.T) {
	t.Parallel()
	m := pulumitest.New()
	var c *costtags.CostTags
	require.NoError(t, m.Run(func(ctx *pulumi.Context) error {
		var err error
		c, err = costtags.New(ctx, "costs", &costtags.Args{Tags: stackTags})
		return err
	}))
	for name, tc := range map[string]struct {
		out  pulumi.StringMapOutput
		want map[string]string
	}{
		"aws": {c.AWS, awsTags}, "gcp": {c.GCP, gcpLabels}, "azure": {c.Azure, azureTags}, "kubernetes": {c.Kubernetes, kubeLabels},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r, err := internals.UnsafeAwaitOutput(context.Background(), tc.out)
			require.NoError(t, err)
			assert.Equal(t, tc.want, r.Value)
		})
	}
	comp := m.MustGet(t, costtags.TypeToken, "costs")
	assert.False(t, comp.Custom)
	assert.Empty(t, m.Children(comp.URN), "no children without ActivateAWSCostAllocation")
}

// awsProvider stands for an explicit AWS provider.
type awsProvider struct{ pulumi.ProviderResourceState }

func TestActivateAWSCostAllocation(t *testing.T) {
	t.Parallel()
	tags := with(stackTags, "owner email", "ops@example.com")
	cases := []struct {
		name   string
		option func(pulumi.ProviderResource) pulumi.ResourceOption // nil: the default provider
	}{
		{"default provider", nil},
		{"pulumi.Providers", func(p pulumi.ProviderResource) pulumi.ResourceOption { return pulumi.Providers(p) }},
		{"pulumi.Provider", func(p pulumi.ProviderResource) pulumi.ResourceOption { return pulumi.Provider(p) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m := pulumitest.New()
			require.NoError(t, m.Run(func(ctx *pulumi.Context) error {
				var opts []pulumi.ResourceOption
				if tc.option != nil {
					var p awsProvider
					if err := ctx.RegisterResource("pulumi:providers:aws", "aws-eu", pulumi.Map{"region": pulumi.String("eu-west-1")}, &p); err != nil {
						return err
					}
					opts = append(opts, tc.option(&p))
				}
				_, err := costtags.New(ctx, "costs", &costtags.Args{Tags: tags, ActivateAWSCostAllocation: true}, opts...)
				return err
			}))
			comp := m.MustGet(t, costtags.TypeToken, "costs")
			wantProvider := ""
			if tc.option != nil {
				p := m.MustGet(t, "pulumi:providers:aws", "aws-eu")
				wantProvider = p.URN + "::" + p.ID
			}
			allocs := m.ByType(allocTagType)
			require.Len(t, allocs, len(tags))
			for _, key := range []string{"cost-center", "env", "owner email", "team"} {
				r := m.MustGet(t, allocTagType, "costs-"+url.QueryEscape(key))
				assert.Equal(t, comp.URN, r.Parent)
				assert.Equal(t, wantProvider, r.Provider)
				assert.Equal(t, key, r.Inputs["tagKey"].StringValue())
				assert.Equal(t, "Active", r.Inputs["status"].StringValue())
			}
		})
	}
}
