package costtags

import (
	"context"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// warnings collects what an applier warns about.
type warnings struct {
	mu   sync.Mutex
	msgs []string
}

func (w *warnings) add(msg string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.msgs = append(w.msgs, msg)
}

func (w *warnings) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.msgs...)
}

func testApplier(t testing.TB, tags Tags) (*applier, *warnings) {
	t.Helper()
	norm, enforced, err := prepare(tags, DefaultPolicy())
	require.NoError(t, err)
	w := &warnings{}
	return newApplier(norm, enforced, w.add), w
}

var stackTags = Tags{"env": "prod", "team": "Platform Team", "cost-center": "CC/42"}

// resolve waits for an input and returns its plain value.
func resolve(t *testing.T, in pulumi.Input) (value any, known, secret bool) {
	t.Helper()
	r, err := internals.UnsafeAwaitOutput(context.Background(), pulumi.ToOutput(in))
	require.NoError(t, err)
	return r.Value, r.Known, r.Secret
}

func TestTransform(t *testing.T) {
	t.Parallel()
	awsTags := map[string]any{"env": "prod", "team": "Platform Team", "cost-center": "CC/42"}
	gcpLabels := map[string]any{"env": "prod", "team": "platform_team", "cost-center": "cc_42"}
	kubeLabels := map[string]any{"env": "prod", "team": "Platform_Team", "cost-center": "CC_42"}

	cases := []struct {
		name   string
		args   pulumi.ResourceTransformArgs
		want   map[string]any // resolved props; nil means the transform leaves the resource alone
		secret bool
		warn   []string // fragments of the one expected warning
	}{
		{name: "component resources are left alone",
			args: pulumi.ResourceTransformArgs{Custom: false, Type: "aws:ec2/vpc:Vpc", Name: "c", Props: pulumi.Map{}}},
		{name: "unknown packages are left alone",
			args: pulumi.ResourceTransformArgs{Custom: true, Type: "random:index/randomId:RandomId", Name: "r", Props: pulumi.Map{}}},
		{name: "untaggable types are left alone",
			args: pulumi.ResourceTransformArgs{Custom: true, Type: "aws:ec2/routeTableAssociation:RouteTableAssociation", Name: "r", Props: pulumi.Map{"subnetId": pulumi.String("s")}}},
		{name: "nil props get tags",
			args: pulumi.ResourceTransformArgs{Custom: true, Type: "aws:ec2/vpc:Vpc", Name: "v"},
			want: map[string]any{"tags": awsTags}},
		{name: "a tag value that is an output is merged once it resolves",
			args: pulumi.ResourceTransformArgs{Custom: true, Type: "aws:ec2/vpc:Vpc", Name: "v", Props: pulumi.Map{
				"cidrBlock": pulumi.String("10.0.0.0/16"),
				"tags":      pulumi.Map{"Team": pulumi.String("data").ToStringOutput(), "Name": pulumi.String("v")},
			}},
			want: map[string]any{"cidrBlock": "10.0.0.0/16", "tags": map[string]any{
				"Team": "data", "Name": "v", "env": "prod", "cost-center": "CC/42"}}},
		{name: "secret tags stay secret",
			args: pulumi.ResourceTransformArgs{Custom: true, Type: "azure-native:resources:ResourceGroup", Name: "rg", Props: pulumi.Map{
				"tags": pulumi.ToSecret(pulumi.Map{"owner": pulumi.String("alice")}),
			}},
			secret: true,
			want: map[string]any{"tags": map[string]any{
				"owner": "alice", "env": "prod", "team": "Platform Team", "cost-center": "CC/42"}}},
		{name: "an enforced key in an output is replaced once it resolves",
			args: pulumi.ResourceTransformArgs{Custom: true, Type: "gcp:organizations/project:Project", Name: "p", Props: pulumi.Map{
				"labels": pulumi.ToOutput(pulumi.StringMap{"env": pulumi.String("dev")}),
			}},
			want: map[string]any{"labels": gcpLabels},
			warn: []string{`gcp:organizations/project:Project "p"`, `tag "env"`, `"prod"`, `"dev"`}},
		{name: "kubernetes metadata is created",
			args: pulumi.ResourceTransformArgs{Custom: true, Type: "kubernetes:core/v1:Namespace", Name: "ns", Props: pulumi.Map{
				"apiVersion": pulumi.String("v1"), "kind": pulumi.String("Namespace"),
			}},
			want: map[string]any{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"labels": kubeLabels}}},
		{name: "kubernetes metadata that is an output gets labels once it resolves",
			args: pulumi.ResourceTransformArgs{Custom: true, Type: "kubernetes:apps/v1:Deployment", Name: "d", Props: pulumi.Map{
				"metadata": pulumi.ToOutput(pulumi.Map{"name": pulumi.String("web"), "labels": pulumi.Map{"app": pulumi.String("web"), "ENV": pulumi.String("prod")}}),
			}},
			want: map[string]any{"metadata": map[string]any{"name": "web", "labels": map[string]any{
				"app": "web", "env": "prod", "team": "Platform_Team", "cost-center": "CC_42"}}},
			warn: []string{`kubernetes:apps/v1:Deployment "d"`, `"ENV"="prod"`}},
		{name: "GKE node configs inside the cluster and its inline pools",
			args: pulumi.ResourceTransformArgs{Custom: true, Type: "gcp:container/cluster:Cluster", Name: "gke", Props: pulumi.Map{
				"nodeConfig": pulumi.Map{"machineType": pulumi.String("e2-standard-4"), "resourceLabels": pulumi.Map{"team": pulumi.String("ml")}},
				"nodePools": pulumi.Array{
					pulumi.Map{"name": pulumi.String("a"), "nodeConfig": pulumi.Map{"spot": pulumi.Bool(true)}},
					pulumi.Map{"name": pulumi.String("b")},
				},
			}},
			want: map[string]any{
				"resourceLabels": gcpLabels,
				"nodeConfig": map[string]any{"machineType": "e2-standard-4", "resourceLabels": map[string]any{
					"team": "ml", "env": "prod", "cost-center": "cc_42"}},
				"nodePools": []any{
					map[string]any{"name": "a", "nodeConfig": map[string]any{"spot": true, "resourceLabels": gcpLabels}},
					map[string]any{"name": "b", "nodeConfig": map[string]any{"resourceLabels": gcpLabels}},
				},
			}},
		{name: "an Autopilot cluster gets no node config",
			args: pulumi.ResourceTransformArgs{Custom: true, Type: "gcp:container/cluster:Cluster", Name: "auto", Props: pulumi.Map{
				"enableAutopilot": pulumi.Bool(true),
			}},
			want: map[string]any{"enableAutopilot": true, "resourceLabels": gcpLabels}},
		{name: "a GKE node pool gets a node config",
			args: pulumi.ResourceTransformArgs{Custom: true, Type: "gcp:container/nodePool:NodePool", Name: "np", Props: pulumi.Map{
				"cluster": pulumi.String("gke"),
			}},
			want: map[string]any{"cluster": "gke", "nodeConfig": map[string]any{"resourceLabels": gcpLabels}}},
		{name: "node pools that are outputs are updated once they resolve",
			args: pulumi.ResourceTransformArgs{Custom: true, Type: "gcp:container/cluster:Cluster", Name: "gke", Props: pulumi.Map{
				"nodePools": pulumi.ToOutput(pulumi.Array{pulumi.Map{"name": pulumi.String("a")}}),
			}},
			want: map[string]any{
				"resourceLabels": gcpLabels,
				"nodePools":      []any{map[string]any{"name": "a", "nodeConfig": map[string]any{"resourceLabels": gcpLabels}}},
			}},
		{name: "simulated node pools take Kubernetes labels",
			args: pulumi.ResourceTransformArgs{Custom: true, Type: "fleetsim:index:NodePool", Name: "sim", Props: pulumi.Map{
				"tags": pulumi.Map{"team": pulumi.String("ml")},
			}},
			want: map[string]any{"tags": map[string]any{"team": "ml", "env": "prod", "cost-center": "CC_42"}}},
		{name: "a tag property that is not a map is left as it is",
			args: pulumi.ResourceTransformArgs{Custom: true, Type: "aws:ec2/vpc:Vpc", Name: "odd", Props: pulumi.Map{
				"tags": pulumi.String("not a map"),
			}},
			want: map[string]any{"tags": "not a map"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, w := testApplier(t, stackTags)
			args := tc.args
			res := a.transform(context.Background(), &args)
			if tc.want == nil {
				assert.Nil(t, res)
				assert.Empty(t, w.all())
				return
			}
			require.NotNil(t, res)
			got, known, secret := resolve(t, res.Props)
			require.True(t, known)
			assert.Equal(t, tc.secret, secret, "secret")
			assert.Equal(t, tc.want, got)
			if len(tc.warn) == 0 {
				assert.Empty(t, w.all())
				return
			}
			require.Len(t, w.all(), 1)
			for _, frag := range tc.warn {
				assert.Contains(t, w.all()[0], frag)
			}
		})
	}
}

func TestTransformKeepsUnknownTagsUnknown(t *testing.T) {
	t.Parallel()
	a, w := testApplier(t, stackTags)
	res := a.transform(context.Background(), &pulumi.ResourceTransformArgs{
		Custom: true, Type: "aws:ec2/vpc:Vpc", Name: "v",
		Props: pulumi.Map{"tags": pulumi.UnsafeUnknownOutput(nil)},
	})
	require.NotNil(t, res)
	_, known, _ := resolve(t, res.Props["tags"])
	assert.False(t, known, "tags that are unknown at preview stay unknown")
	assert.Empty(t, w.all())
}

func TestTransformDoesNotModifyItsInput(t *testing.T) {
	t.Parallel()
	a, _ := testApplier(t, stackTags)
	own := pulumi.Map{"team": pulumi.String("data")}
	meta := pulumi.Map{"name": pulumi.String("ns"), "labels": own}
	props := pulumi.Map{"metadata": meta}
	res := a.transform(context.Background(), &pulumi.ResourceTransformArgs{Custom: true, Type: "kubernetes:core/v1:Namespace", Name: "ns", Props: props})
	require.NotNil(t, res)
	assert.Equal(t, pulumi.Map{"team": pulumi.String("data")}, own)
	assert.Equal(t, pulumi.Map{"name": pulumi.String("ns"), "labels": own}, meta)
	assert.Equal(t, pulumi.Map{"metadata": meta}, props)
}

func TestTransformWithNoTagsForACloud(t *testing.T) {
	t.Parallel()
	norm, enforced, err := prepare(Tags{}, Policy{})
	require.NoError(t, err)
	a := newApplier(norm, enforced, func(string) { t.Error("unexpected warning") })
	res := a.transform(context.Background(), &pulumi.ResourceTransformArgs{Custom: true, Type: "aws:ec2/vpc:Vpc", Name: "v", Props: pulumi.Map{}})
	assert.Nil(t, res, "with no tags there is nothing to merge")
}

func TestSitesOf(t *testing.T) {
	t.Parallel()
	cases := []struct {
		token string
		want  []site
	}{
		{"aws:ec2/vpc:Vpc", []site{{path: []string{"tags"}, create: true}}},
		{"gcp:organizations/project:Project", []site{{path: []string{"labels"}, create: true}}},
		{"azure-native:resources:ResourceGroup", []site{{path: []string{"tags"}, create: true}}},
		{"kubernetes:core/v1:Namespace", []site{{path: []string{"metadata", "labels"}, create: true}}},
		{"gcp:container/nodePool:NodePool", []site{{path: []string{"nodeConfig", "resourceLabels"}, create: true}}},
		{"gcp:container/cluster:Cluster", []site{
			{path: []string{"resourceLabels"}, create: true},
			{path: []string{"nodeConfig", "resourceLabels"}},
			{path: []string{"nodePools", "*", "nodeConfig", "resourceLabels"}, create: true},
		}},
		{"fleetsim:index:Cluster", []site{{path: []string{"tags"}, create: true}}},
		{"kubernetes:core/v1:NamespacePatch", nil},
		{"kubernetes:core/v1:ConfigMapList", nil},
		{"aws:autoscaling/group:Group", nil},
	}
	for _, tc := range cases {
		t.Run(tc.token, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, sitesOf(tc.token))
		})
	}
}
