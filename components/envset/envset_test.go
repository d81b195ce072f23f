package envset

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	typeNamespace          = "kubernetes:core/v1:Namespace"
	typeServiceAccount     = "kubernetes:core/v1:ServiceAccount"
	typeResourceQuota      = "kubernetes:core/v1:ResourceQuota"
	typeLimitRange         = "kubernetes:core/v1:LimitRange"
	typeNetworkPolicy      = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
	typeRole               = "kubernetes:rbac.authorization.k8s.io/v1:Role"
	typeRoleBinding        = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
	typeClusterRole        = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
	typeClusterRoleBinding = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
	typePriorityClass      = "kubernetes:scheduling.k8s.io/v1:PriorityClass"
	typeKubeProvider       = "pulumi:providers:kubernetes"
	typeComponent          = "flotilla:envset:EnvironmentSet"
)

// The rules each access level must grant, spelled out independently of rbac.go so
// that any change to a level's permissions has to be made here too, on purpose.
var (
	wantRead      = []string{"get", "list", "watch"}
	wantReadWrite = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
	wantRules     = map[Access][]rule{
		AccessView: {
			{[]string{""}, []string{"configmaps", "endpoints", "events", "limitranges", "persistentvolumeclaims", "pods", "pods/log", "replicationcontrollers", "resourcequotas", "serviceaccounts", "services"}, wantRead},
			{[]string{"apps"}, []string{"daemonsets", "deployments", "replicasets", "statefulsets"}, wantRead},
			{[]string{"batch"}, []string{"cronjobs", "jobs"}, wantRead},
			{[]string{"autoscaling"}, []string{"horizontalpodautoscalers"}, wantRead},
			{[]string{"policy"}, []string{"poddisruptionbudgets"}, wantRead},
			{[]string{"networking.k8s.io"}, []string{"ingresses", "networkpolicies"}, wantRead},
			{[]string{"discovery.k8s.io"}, []string{"endpointslices"}, wantRead},
			{[]string{"events.k8s.io"}, []string{"events"}, wantRead},
		},
		AccessEdit: {
			{[]string{""}, []string{"configmaps", "persistentvolumeclaims", "pods", "replicationcontrollers", "secrets", "serviceaccounts", "services"}, wantReadWrite},
			{[]string{""}, []string{"endpoints", "events", "limitranges", "pods/log", "resourcequotas"}, wantRead},
			{[]string{""}, []string{"pods/attach", "pods/exec", "pods/portforward"}, []string{"get", "create"}},
			{[]string{"apps"}, []string{"daemonsets", "deployments", "replicasets", "statefulsets"}, wantReadWrite},
			{[]string{"apps"}, []string{"deployments/scale", "replicasets/scale", "statefulsets/scale"}, []string{"get", "update", "patch"}},
			{[]string{"batch"}, []string{"cronjobs", "jobs"}, wantReadWrite},
			{[]string{"autoscaling"}, []string{"horizontalpodautoscalers"}, wantReadWrite},
			{[]string{"policy"}, []string{"poddisruptionbudgets"}, wantReadWrite},
			{[]string{"networking.k8s.io"}, []string{"ingresses"}, wantReadWrite},
			{[]string{"networking.k8s.io"}, []string{"networkpolicies"}, wantRead},
			{[]string{"discovery.k8s.io"}, []string{"endpointslices"}, wantRead},
			{[]string{"events.k8s.io"}, []string{"events"}, wantRead},
		},
		AccessAdmin: {
			{[]string{""}, []string{"configmaps", "persistentvolumeclaims", "pods", "replicationcontrollers", "secrets", "serviceaccounts", "services"}, wantReadWrite},
			{[]string{""}, []string{"endpoints", "events", "limitranges", "pods/log", "resourcequotas"}, wantRead},
			{[]string{""}, []string{"pods/attach", "pods/exec", "pods/portforward"}, []string{"get", "create"}},
			{[]string{"apps"}, []string{"daemonsets", "deployments", "replicasets", "statefulsets"}, wantReadWrite},
			{[]string{"apps"}, []string{"deployments/scale", "replicasets/scale", "statefulsets/scale"}, []string{"get", "update", "patch"}},
			{[]string{"batch"}, []string{"cronjobs", "jobs"}, wantReadWrite},
			{[]string{"autoscaling"}, []string{"horizontalpodautoscalers"}, wantReadWrite},
			{[]string{"policy"}, []string{"poddisruptionbudgets"}, wantReadWrite},
			{[]string{"networking.k8s.io"}, []string{"ingresses", "networkpolicies"}, wantReadWrite},
			{[]string{"discovery.k8s.io"}, []string{"endpointslices"}, wantRead},
			{[]string{"events.k8s.io"}, []string{"events"}, wantRead},
			{[]string{"rbac.authorization.k8s.io"}, []string{"rolebindings", "roles"}, wantReadWrite},
		},
	}
)

// testTeams exercise every access level and the clamp: payments is edit in dev, admin in
// staging and asks for admin in prod; search asks for edit in prod; data has no access
// in dev or prod.
func testTeams() []Team {
	return []Team{
		{Name: "payments", Namespaces: []string{"payments", "payments-jobs"}, Access: map[string]Access{"dev": AccessEdit, "staging": AccessAdmin, "prod": AccessAdmin}},
		{Name: "search", Namespaces: []string{"search"}, Access: map[string]Access{"dev": AccessView, "prod": AccessEdit}},
		{Name: "data", Namespaces: []string{"data"}, Access: map[string]Access{"staging": AccessView}},
	}
}

var allNamespaces = []string{"payments", "payments-jobs", "search", "data"}

// testCluster is a cluster as the cluster component would hand it over, with a
// Kubernetes provider of its own when withKube is set.
func testCluster(ctx *pulumi.Context, cloud cluster.Cloud, region string, withKube bool) (*cluster.Cluster, error) {
	c := &cluster.Cluster{Cloud: cloud, Region: region}
	if !withKube {
		return c, nil
	}
	p, err := kubernetes.NewProvider(ctx, fmt.Sprintf("%s-%s-kube", cloud, region), &kubernetes.ProviderArgs{
		Kubeconfig: pulumi.String("apiVersion: v1\nkind: Config\n"),
	})
	if err != nil {
		return nil, err
	}
	c.KubeProvider = p
	return c, nil
}

type clusterSpec struct {
	cloud    cluster.Cloud
	region   string
	withKube bool
}

// deploy runs New in a program with the given clusters and returns the recording.
func deploy(t *testing.T, name string, args Args, clusters ...clusterSpec) *pulumitest.Mocks {
	t.Helper()
	m := pulumitest.New()
	err := m.Run(func(ctx *pulumi.Context) error {
		for _, s := range clusters {
			c, err := testCluster(ctx, s.cloud, s.region, s.withKube)
			if err != nil {
				return err
			}
			args.Clusters = append(args.Clusters, c)
		}
		_, err := New(ctx, name, &args)
		return err
	})
	require.NoError(t, err)
	return m
}

var oneCluster = clusterSpec{cluster.AWS, "us-east-1", true}

// --- property helpers ---

func prop(v resource.PropertyValue, path ...string) resource.PropertyValue {
	for _, p := range path {
		if !v.IsObject() {
			return resource.NewNullProperty()
		}
		v = v.ObjectValue()[resource.PropertyKey(p)]
	}
	return v
}

func field(r pulumitest.Resource, path ...string) resource.PropertyValue {
	return prop(resource.NewProperty(r.Inputs), path...)
}

func str(v resource.PropertyValue) string {
	if v.IsString() {
		return v.StringValue()
	}
	return ""
}

func strs(v resource.PropertyValue) []string {
	if !v.IsArray() {
		return nil
	}
	out := []string{}
	for _, e := range v.ArrayValue() {
		out = append(out, str(e))
	}
	return out
}

func strMap(v resource.PropertyValue) map[string]string {
	if !v.IsObject() {
		return nil
	}
	out := map[string]string{}
	for k, e := range v.ObjectValue() {
		out[string(k)] = str(e)
	}
	return out
}

func rulesOf(r pulumitest.Resource) []rule {
	var out []rule
	for _, e := range field(r, "rules").ArrayValue() {
		out = append(out, rule{APIGroups: strs(prop(e, "apiGroups")), Resources: strs(prop(e, "resources")), Verbs: strs(prop(e, "verbs"))})
	}
	return out
}

// inNamespace returns the resources of a type whose metadata.namespace is ns and that
// are deployed with the given provider.
func inNamespace(m *pulumitest.Mocks, typ, ns, provider string) []pulumitest.Resource {
	var out []pulumitest.Resource
	for _, r := range m.ByType(typ) {
		if str(field(r, "metadata", "namespace")) == ns && r.Provider == provider {
			out = append(out, r)
		}
	}
	return out
}

func byMetaName(rs []pulumitest.Resource, name string) (pulumitest.Resource, bool) {
	for _, r := range rs {
		if str(field(r, "metadata", "name")) == name {
			return r, true
		}
	}
	return pulumitest.Resource{}, false
}

func providerRef(t *testing.T, m *pulumitest.Mocks, name string) string {
	t.Helper()
	p := m.MustGet(t, typeKubeProvider, name)
	return p.URN + "::" + p.ID
}

// teamBinding finds the RoleBinding of a team's group in one namespace.
func teamBinding(m *pulumitest.Mocks, ns, provider, team string) (pulumitest.Resource, bool) {
	for _, rb := range inNamespace(m, typeRoleBinding, ns, provider) {
		for _, s := range field(rb, "subjects").ArrayValue() {
			if str(prop(s, "kind")) == "Group" && str(prop(s, "name")) == GroupPrefix+team {
				return rb, true
			}
		}
	}
	return pulumitest.Resource{}, false
}

// --- tests ---

func TestNewRBACPerEnvironment(t *testing.T) {
	t.Parallel()
	none := Access("")
	tests := []struct {
		env  string
		want map[string]Access // team -> the Role its group is bound to; "" for none
	}{
		{env: "dev", want: map[string]Access{"payments": AccessEdit, "search": AccessView, "data": none}},
		{env: "staging", want: map[string]Access{"payments": AccessAdmin, "search": none, "data": AccessView}},
		// prod is Protected: admin and edit are clamped to view.
		{env: "prod", want: map[string]Access{"payments": AccessView, "search": AccessView, "data": none}},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Parallel()
			m := deploy(t, tt.env, Args{Set: Default(), Environment: tt.env, Teams: testTeams()}, oneCluster)
			provider := providerRef(t, m, "aws-us-east-1-kube")
			for _, team := range testTeams() {
				want := tt.want[team.Name]
				for _, ns := range team.Namespaces {
					roles := inNamespace(m, typeRole, ns, provider)
					var roleNames []string
					for _, r := range roles {
						roleNames = append(roleNames, str(field(r, "metadata", "name")))
					}
					wantRoles := []string{"flotilla-admin"} // the deploy identity's
					if want != none && want != AccessAdmin {
						wantRoles = append(wantRoles, "flotilla-"+string(want))
					}
					assert.ElementsMatch(t, wantRoles, roleNames, "%s: roles", ns)

					rb, ok := teamBinding(m, ns, provider, team.Name)
					if want == none {
						assert.False(t, ok, "%s: team %s has no access in %s but is bound", ns, team.Name, tt.env)
						continue
					}
					require.True(t, ok, "%s: no binding for team %s", ns, team.Name)
					assert.Equal(t, "flotilla-team-"+team.Name, str(field(rb, "metadata", "name")))
					assert.Equal(t, "Role", str(field(rb, "roleRef", "kind")))
					assert.Equal(t, "rbac.authorization.k8s.io", str(field(rb, "roleRef", "apiGroup")))
					require.Equal(t, "flotilla-"+string(want), str(field(rb, "roleRef", "name")), "%s: team %s", ns, team.Name)
					require.Len(t, field(rb, "subjects").ArrayValue(), 1)

					role, ok := byMetaName(roles, "flotilla-"+string(want))
					require.True(t, ok)
					assert.Equal(t, wantRules[want], rulesOf(role), "%s: rules of %s", ns, want)
				}
			}
		})
	}
}

func TestNewSameTeamDevEditProdView(t *testing.T) {
	t.Parallel()
	writes := func(rules []rule, group, resource string) bool {
		for _, r := range rules {
			if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, "create") {
				return true
			}
		}
		return false
	}
	reads := func(rules []rule, group, resource string) bool {
		for _, r := range rules {
			if slices.Contains(r.APIGroups, group) && slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, "get") {
				return true
			}
		}
		return false
	}
	teams := []Team{{Name: "payments", Namespaces: []string{"payments"}, Access: map[string]Access{"dev": AccessEdit, "prod": AccessEdit}}}
	tests := []struct {
		env                       string
		createPods, createDeploys bool
		readSecrets               bool
	}{
		{env: "dev", createPods: true, createDeploys: true, readSecrets: true},
		{env: "prod", createPods: false, createDeploys: false, readSecrets: false},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Parallel()
			m := deploy(t, "fleet", Args{Set: Default(), Environment: tt.env, Teams: teams}, oneCluster)
			provider := providerRef(t, m, "aws-us-east-1-kube")
			rb, ok := teamBinding(m, "payments", provider, "payments")
			require.True(t, ok)
			role, ok := byMetaName(inNamespace(m, typeRole, "payments", provider), str(field(rb, "roleRef", "name")))
			require.True(t, ok)
			rules := rulesOf(role)
			assert.Equal(t, tt.createPods, writes(rules, "", "pods"))
			assert.Equal(t, tt.createDeploys, writes(rules, "apps", "deployments"))
			assert.Equal(t, tt.readSecrets, reads(rules, "", "secrets"))
			assert.True(t, reads(rules, "", "pods"), "every access level reads pods")
		})
	}
}

func TestNewProtectedOnlyDeployIdentityWrites(t *testing.T) {
	t.Parallel()
	m := deploy(t, "prod", Args{Set: Default(), Environment: "prod", Teams: testTeams()}, oneCluster)
	provider := providerRef(t, m, "aws-us-east-1-kube")
	writeVerbs := []string{"create", "update", "patch", "delete", "deletecollection"}

	for _, ns := range allNamespaces {
		roles := inNamespace(m, typeRole, ns, provider)
		for _, rb := range inNamespace(m, typeRoleBinding, ns, provider) {
			role, ok := byMetaName(roles, str(field(rb, "roleRef", "name")))
			require.True(t, ok, "%s: binding %s refers to a role that does not exist", ns, rb.Name)
			canWrite := false
			for _, r := range rulesOf(role) {
				for _, v := range r.Verbs {
					canWrite = canWrite || slices.Contains(writeVerbs, v)
				}
			}
			subjects := field(rb, "subjects").ArrayValue()
			require.Len(t, subjects, 1)
			kind, name := str(prop(subjects[0], "kind")), str(prop(subjects[0], "name"))
			switch kind {
			case "Group":
				assert.False(t, canWrite, "%s: group %s can write in a protected environment", ns, name)
			case "ServiceAccount":
				assert.Equal(t, DeployServiceAccount, name)
				assert.Equal(t, SystemNamespace, str(prop(subjects[0], "namespace")))
				assert.Equal(t, "flotilla-admin", str(field(rb, "roleRef", "name")))
				assert.True(t, canWrite, "%s: the deploy identity must write", ns)
			default:
				t.Errorf("%s: unexpected subject kind %q", ns, kind)
			}
		}
	}
}

func TestNewDeployIdentity(t *testing.T) {
	t.Parallel()
	for _, env := range []string{"dev", "prod"} {
		t.Run(env, func(t *testing.T) {
			t.Parallel()
			m := deploy(t, env, Args{Set: Default(), Environment: env, Teams: testTeams()}, oneCluster)
			prefix := env + "-aws-us-east-1"

			sa := m.MustGet(t, typeServiceAccount, prefix+"-deploy")
			assert.Equal(t, DeployServiceAccount, str(field(sa, "metadata", "name")))
			assert.Equal(t, SystemNamespace, str(field(sa, "metadata", "namespace")))
			sys := m.MustGet(t, typeNamespace, prefix+"-flotilla-system")
			assert.Equal(t, SystemNamespace, str(field(sys, "metadata", "name")))

			cr := m.MustGet(t, typeClusterRole, prefix+"-deploy")
			assert.Equal(t, []rule{
				{[]string{""}, []string{"namespaces", "nodes"}, wantRead},
				{[]string{"scheduling.k8s.io"}, []string{"priorityclasses"}, wantRead},
				{[]string{"storage.k8s.io"}, []string{"storageclasses"}, wantRead},
				{[]string{"apiextensions.k8s.io"}, []string{"customresourcedefinitions"}, wantRead},
			}, rulesOf(cr))
			crb := m.MustGet(t, typeClusterRoleBinding, prefix+"-deploy")
			assert.Equal(t, "ClusterRole", str(field(crb, "roleRef", "kind")))
			assert.Equal(t, DeployServiceAccount, str(field(crb, "roleRef", "name")))
			assert.Equal(t, map[string]string{"kind": "ServiceAccount", "name": DeployServiceAccount, "namespace": SystemNamespace},
				strMap(field(crb, "subjects").ArrayValue()[0]))

			for _, ns := range allNamespaces {
				rb := m.MustGet(t, typeRoleBinding, prefix+"-"+ns+"-deploy")
				assert.Equal(t, ns, str(field(rb, "metadata", "namespace")))
				assert.Equal(t, "flotilla-admin", str(field(rb, "roleRef", "name")))
				assert.Equal(t, map[string]string{"kind": "ServiceAccount", "name": DeployServiceAccount, "namespace": SystemNamespace},
					strMap(field(rb, "subjects").ArrayValue()[0]))
			}
		})
	}
}

func TestNewNoWildcardsOutsideBreakGlass(t *testing.T) {
	t.Parallel()
	allAdmin := []Team{{Name: "ops", Namespaces: []string{"ops"}, Access: map[string]Access{"dev": AccessAdmin, "staging": AccessAdmin, "prod": AccessAdmin}}}
	for _, env := range []string{"dev", "staging", "prod"} {
		t.Run(env, func(t *testing.T) {
			t.Parallel()
			m := deploy(t, env, Args{Set: Default(), Environment: env, Teams: append(testTeams(), allAdmin...)},
				oneCluster, clusterSpec{cluster.GCP, "europe-west1", true})

			roles := append(m.ByType(typeRole), m.ByType(typeClusterRole)...)
			require.NotEmpty(t, roles)
			breakGlass := 0
			for _, r := range roles {
				isBreakGlass := r.Type == typeClusterRole && str(field(r, "metadata", "name")) == "flotilla-break-glass"
				wildcard := false
				for _, e := range field(r, "rules").ArrayValue() {
					for _, key := range []string{"apiGroups", "resources", "verbs", "nonResourceURLs", "resourceNames"} {
						for _, v := range strs(prop(e, key)) {
							wildcard = wildcard || strings.Contains(v, "*")
						}
					}
					if !isBreakGlass {
						for _, v := range strs(prop(e, "verbs")) {
							assert.NotContains(t, []string{"bind", "escalate", "impersonate"}, v, "%s grants %s", r.Name, v)
						}
					}
				}
				if isBreakGlass {
					breakGlass++
					assert.True(t, wildcard, "break-glass is cluster admin")
					continue
				}
				assert.False(t, wildcard, "%s %s has a wildcard", r.Type, r.Name)
			}
			assert.Equal(t, 2, breakGlass, "one break-glass role per cluster")

			for _, crb := range m.ByType(typeClusterRoleBinding) {
				if str(field(crb, "roleRef", "name")) != "flotilla-break-glass" {
					continue
				}
				assert.Equal(t, map[string]string{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": BreakGlassGroup},
					strMap(field(crb, "subjects").ArrayValue()[0]))
			}
		})
	}
}

func TestNewGuardRailsInEveryNamespaceOfEveryCluster(t *testing.T) {
	t.Parallel()
	m := deploy(t, "dev", Args{Set: Default(), Environment: "dev", Teams: testTeams()},
		clusterSpec{cluster.AWS, "us-east-1", true},
		clusterSpec{cluster.GCP, "europe-west1", true},
		clusterSpec{cluster.Azure, "westeurope", false})

	wantQuota := map[string]string{
		"requests.cpu": "16", "requests.memory": "32Gi", "limits.cpu": "32", "limits.memory": "64Gi",
		"pods": "200", "services.loadbalancers": "2", "persistentvolumeclaims": "20",
	}
	for _, kube := range []string{"aws-us-east-1-kube", "gcp-europe-west1-kube"} {
		provider := providerRef(t, m, kube)
		for _, ns := range allNamespaces {
			t.Run(kube+"/"+ns, func(t *testing.T) {
				namespaces := 0
				for _, r := range m.ByType(typeNamespace) {
					if str(field(r, "metadata", "name")) == ns && r.Provider == provider {
						namespaces++
					}
				}
				assert.Equal(t, 1, namespaces, "namespace")

				quotas := inNamespace(m, typeResourceQuota, ns, provider)
				require.Len(t, quotas, 1)
				assert.Equal(t, "flotilla-quota", str(field(quotas[0], "metadata", "name")))
				assert.Equal(t, wantQuota, strMap(field(quotas[0], "spec", "hard")))

				limits := inNamespace(m, typeLimitRange, ns, provider)
				require.Len(t, limits, 1)
				items := field(limits[0], "spec", "limits").ArrayValue()
				require.Len(t, items, 1)
				assert.Equal(t, "Container", str(prop(items[0], "type")))
				assert.Equal(t, map[string]string{"cpu": "100m", "memory": "128Mi"}, strMap(prop(items[0], "defaultRequest")))
				assert.Equal(t, map[string]string{"cpu": "1", "memory": "512Mi"}, strMap(prop(items[0], "default")))

				policies := inNamespace(m, typeNetworkPolicy, ns, provider)
				require.Len(t, policies, 1)
				assertDefaultDeny(t, policies[0])
			})
		}
	}

	for _, typ := range []string{typeNamespace, typeResourceQuota, typeLimitRange, typeNetworkPolicy, typeRole, typeRoleBinding, typePriorityClass, typeClusterRole} {
		for _, r := range m.ByType(typ) {
			assert.NotContains(t, r.Name, "azure", "a cluster without a Kubernetes provider is skipped")
			assert.NotEmpty(t, r.Provider, "%s uses an explicit provider", r.Name)
		}
	}
	// 4 team namespaces and flotilla-system, in each of the two clusters.
	assert.Len(t, m.ByType(typeNamespace), 10)
	assert.Len(t, m.ByType(typeResourceQuota), 8)
	assert.Len(t, m.ByType(typeLimitRange), 8)
	assert.Len(t, m.ByType(typeNetworkPolicy), 8)

	var skipped []string
	for _, l := range m.Logs() {
		if strings.Contains(l.Message, "skipped") {
			skipped = append(skipped, l.Message)
		}
	}
	assert.Equal(t, []string{`envset "dev": cluster azure-westeurope has no Kubernetes provider; skipped`}, skipped)
}

func assertDefaultDeny(t *testing.T, np pulumitest.Resource) {
	t.Helper()
	assert.Equal(t, "default-deny", str(field(np, "metadata", "name")))
	spec := field(np, "spec")
	assert.Empty(t, prop(spec, "podSelector").ObjectValue(), "selects every pod")
	assert.Equal(t, []string{"Ingress", "Egress"}, strs(prop(spec, "policyTypes")))

	ingress := prop(spec, "ingress").ArrayValue()
	require.Len(t, ingress, 1)
	from := prop(ingress[0], "from").ArrayValue()
	require.Len(t, from, 1)
	assert.Equal(t, resource.PropertyMap{"podSelector": resource.NewProperty(resource.PropertyMap{})}, from[0].ObjectValue(),
		"ingress only from the namespace's own pods")

	egress := prop(spec, "egress").ArrayValue()
	require.Len(t, egress, 2)
	to := prop(egress[0], "to").ArrayValue()
	require.Len(t, to, 1)
	assert.Equal(t, resource.PropertyMap{"podSelector": resource.NewProperty(resource.PropertyMap{})}, to[0].ObjectValue())
	assert.True(t, prop(egress[0], "ports").IsNull(), "any port among the namespace's pods")

	dns := prop(egress[1], "to").ArrayValue()
	require.Len(t, dns, 1)
	assert.Equal(t, map[string]string{"kubernetes.io/metadata.name": "kube-system"}, strMap(prop(dns[0], "namespaceSelector", "matchLabels")))
	assert.True(t, prop(dns[0], "podSelector").IsNull(), "all of kube-system's DNS pods")
	var ports []string
	for _, p := range prop(egress[1], "ports").ArrayValue() {
		ports = append(ports, fmt.Sprintf("%s/%v", str(prop(p, "protocol")), prop(p, "port").NumberValue()))
	}
	assert.Equal(t, []string{"UDP/53", "TCP/53"}, ports)
}

func TestNewNamespaceLabels(t *testing.T) {
	t.Parallel()
	tags := costtags.Tags{"cost-center": "cc-42", "owner": "platform"}
	m := deploy(t, "staging", Args{Set: Default(), Environment: "staging", Teams: testTeams(), Tags: tags}, oneCluster)
	provider := providerRef(t, m, "aws-us-east-1-kube")
	for _, team := range testTeams() {
		merged := costtags.Tags{"cost-center": "cc-42", "owner": "platform", "team": team.Name}
		cost, err := costtags.ForKubernetes(merged)
		require.NoError(t, err)
		require.NotEmpty(t, cost)
		for _, ns := range team.Namespaces {
			r := m.MustGet(t, typeNamespace, "staging-aws-us-east-1-"+ns)
			assert.Equal(t, provider, r.Provider)
			labels := strMap(field(r, "metadata", "labels"))
			for k, v := range cost {
				assert.Equal(t, v, labels[k], "%s: cost label %s", ns, k)
			}
			assert.Equal(t, team.Name, labels[LabelTeam])
			assert.Equal(t, "staging", labels[LabelEnvironment])
			assert.Len(t, labels, len(cost)+3+3, "cost labels plus team, environment, managed-by and the three pod security labels: %v", labels)
		}
	}
	assert.Equal(t, map[string]string{"cost-center": "cc-42", "owner": "platform"}, map[string]string(tags), "the caller's tags are not modified")
}

func TestNewPodSecurityLabels(t *testing.T) {
	t.Parallel()
	psa := func(enforce string) map[string]string {
		return map[string]string{
			"pod-security.kubernetes.io/enforce": enforce,
			"pod-security.kubernetes.io/audit":   "restricted",
			"pod-security.kubernetes.io/warn":    "restricted",
		}
	}
	teams := func() []Team {
		t := testTeams()
		// search relaxes prod and tightens dev; the others take the defaults.
		t[1].PodSecurity = map[string]PodSecurity{"prod": PodSecurityBaseline, "dev": PodSecurityRestricted}
		return t
	}
	for _, tc := range []struct {
		env  string
		want map[string]map[string]string // namespace -> pod security labels
	}{
		{"dev", map[string]map[string]string{"payments": psa("baseline"), "payments-jobs": psa("baseline"), "search": psa("restricted"), "data": psa("baseline")}},
		{"staging", map[string]map[string]string{"payments": psa("baseline"), "payments-jobs": psa("baseline"), "search": psa("baseline"), "data": psa("baseline")}},
		{"prod", map[string]map[string]string{"payments": psa("restricted"), "payments-jobs": psa("restricted"), "search": psa("baseline"), "data": psa("restricted")}},
	} {
		t.Run(tc.env, func(t *testing.T) {
			t.Parallel()
			m := deploy(t, tc.env, Args{Set: Default(), Environment: tc.env, Teams: teams()}, oneCluster)
			got := map[string]map[string]string{}
			for _, ns := range allNamespaces {
				labels := strMap(field(m.MustGet(t, typeNamespace, tc.env+"-aws-us-east-1-"+ns), "metadata", "labels"))
				got[ns] = map[string]string{}
				for k, v := range labels {
					if strings.HasPrefix(k, "pod-security.kubernetes.io/") {
						got[ns][k] = v
					}
				}
			}
			assert.Equal(t, tc.want, got)
			system := strMap(field(m.MustGet(t, typeNamespace, tc.env+"-aws-us-east-1-"+SystemNamespace), "metadata", "labels"))
			assert.NotContains(t, system, "pod-security.kubernetes.io/enforce", "only team namespaces are labelled")
		})
	}
}

func TestNewPodSecurityRefusesUnknownLevelOrEnvironment(t *testing.T) {
	t.Parallel()
	teams := testTeams()
	teams[0].PodSecurity = map[string]PodSecurity{"prod": "strict", "qa": PodSecurityBaseline}
	m := pulumitest.New()
	err := m.Run(func(ctx *pulumi.Context) error {
		_, err := New(ctx, "prod", &Args{Set: Default(), Environment: "prod", Teams: teams})
		return err
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `team "payments": pod security "strict" in environment "prod" is not one of "privileged", "baseline" or "restricted"`)
	assert.Contains(t, err.Error(), `team "payments": pod security for unknown environment "qa"`)
	assert.Empty(t, m.Resources(), "nothing registers")
}

func TestNewPriorityClasses(t *testing.T) {
	t.Parallel()
	m := deploy(t, "dev", Args{Set: Default(), Environment: "dev", Teams: testTeams()}, oneCluster)
	type class struct {
		Value         float64
		GlobalDefault bool
		Preemption    string
	}
	got := map[string]class{}
	for _, r := range m.ByType(typePriorityClass) {
		got[str(field(r, "metadata", "name"))] = class{field(r, "value").NumberValue(), field(r, "globalDefault").BoolValue(), str(field(r, "preemptionPolicy"))}
	}
	assert.Equal(t, map[string]class{
		PriorityPlatform: {1000000, false, "PreemptLowerPriority"},
		PriorityDefault:  {1000, false, "PreemptLowerPriority"},
		"flotilla-batch": {-10, false, "Never"},
	}, got)
	assert.Equal(t, "flotilla-batch", PriorityBatch)
	assert.NotContains(t, got, "flotilla-batch-preemptible", "a PriorityClass's value is immutable: the -100 class is replaced by a new name, not updated")
	assert.Less(t, got[PriorityBatch].Value, 0.0, "pods without a class (priority 0) preempt batch work")
	assert.Less(t, got[PriorityPlatform].Value, 1e9, "user classes stay below the system-critical ones")
}

// TestBatchPriorityScalesUp plays the cluster-autoscaler's rule: a pending pod whose
// priority is below --expendable-pods-priority-cutoff is expendable and never causes a
// scale-up (kubernetes/autoscaler, cluster-autoscaler/FAQ.md, "How does Cluster
// Autoscaler work with Pod Priority and Preemption?"; the flag's default is -10). Batch
// pods must still scale a spot pool up from zero on every cloud.
func TestBatchPriorityScalesUp(t *testing.T) {
	t.Parallel()
	m := deploy(t, "dev", Args{Set: Default(), Environment: "dev", Teams: testTeams()}, oneCluster)
	var batch *float64
	for _, r := range m.ByType(typePriorityClass) {
		if str(field(r, "metadata", "name")) == PriorityBatch {
			v := field(r, "value").NumberValue()
			batch = &v
		}
	}
	require.NotNil(t, batch, "the batch PriorityClass is registered")

	for _, tc := range []struct {
		cloud  cluster.Cloud
		cutoff float64
		why    string
	}{
		// Flotilla's EKS cluster-autoscaler (components/cluster/aws.go) passes no
		// --expendable-pods-priority-cutoff, so the upstream default holds.
		{cluster.AWS, -10, "self-managed cluster-autoscaler, flag left at its default"},
		// GKE's managed autoscaler has no setting for the cutoff; it keeps -10.
		{cluster.GCP, -10, "GKE cluster autoscaler, cutoff not configurable"},
		// AKS's cluster-autoscaler profile has no expendable-pods-priority-cutoff.
		{cluster.Azure, -10, "AKS cluster autoscaler profile, cutoff not configurable"},
	} {
		t.Run(string(tc.cloud), func(t *testing.T) {
			t.Parallel()
			assert.GreaterOrEqual(t, *batch, tc.cutoff, "%s: a batch pod below the cutoff %v never triggers a scale-up (%s)", tc.cloud, tc.cutoff, tc.why)
		})
	}
}

func TestNewParentsAndUniqueNames(t *testing.T) {
	t.Parallel()
	m := pulumitest.New()
	err := m.Run(func(ctx *pulumi.Context) error {
		var clusters []*cluster.Cluster
		for _, s := range []clusterSpec{{cluster.AWS, "us-east-1", true}, {cluster.GCP, "us-east1", true}} {
			c, err := testCluster(ctx, s.cloud, s.region, s.withKube)
			if err != nil {
				return err
			}
			clusters = append(clusters, c)
		}
		// A second cluster in the same cloud and region, registered as a component:
		// its Pulumi name keys its resources.
		named := &cluster.Cluster{Cloud: cluster.AWS, Region: "us-east-1"}
		if err := ctx.RegisterComponentResource("flotilla:cluster:Cluster", "dev-aws-blue", named); err != nil {
			return err
		}
		p, err := kubernetes.NewProvider(ctx, "blue-kube", &kubernetes.ProviderArgs{}, pulumi.Parent(named))
		if err != nil {
			return err
		}
		named.KubeProvider = p
		// And a third one there that is not registered.
		twin, err := testCluster(ctx, cluster.AWS, "us-east-1", false)
		if err != nil {
			return err
		}
		twin.KubeProvider = p
		clusters = append(clusters, named, twin)

		for _, name := range []string{"a", "b"} {
			if _, err := New(ctx, name, &Args{Set: Default(), Environment: "dev", Teams: testTeams(), Clusters: clusters}); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)

	components := m.ByType(typeComponent)
	require.Len(t, components, 2)
	parents := map[string]bool{components[0].URN: true, components[1].URN: true}
	urns := map[string]bool{}
	var prefixes []string
	for _, r := range m.Resources() {
		assert.False(t, urns[r.URN], "duplicate URN %s", r.URN)
		urns[r.URN] = true
		if r.Type == typeComponent || r.Type == typeKubeProvider || r.Type == "flotilla:cluster:Cluster" {
			continue
		}
		assert.True(t, parents[r.Parent], "%s %s is parented to the EnvironmentSet", r.Type, r.Name)
		if r.Type == typeNamespace && strings.HasSuffix(r.Name, "-"+SystemNamespace) {
			prefixes = append(prefixes, strings.TrimSuffix(r.Name, "-"+SystemNamespace))
		}
	}
	sort.Strings(prefixes)
	assert.Equal(t, []string{
		"a-aws-us-east-1", "a-aws-us-east-1-2", "a-dev-aws-blue", "a-gcp-us-east1",
		"b-aws-us-east-1", "b-aws-us-east-1-2", "b-dev-aws-blue", "b-gcp-us-east1",
	}, prefixes)
}

// protectRecorder notes which resources were registered with the protect option,
// which the shared recorder does not keep.
type protectRecorder struct {
	*pulumitest.Mocks
	mu        sync.Mutex
	protected map[string]bool
}

func (p *protectRecorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	if args.RegisterRPC.GetProtect() {
		p.mu.Lock()
		p.protected[args.Name] = true
		p.mu.Unlock()
	}
	return p.Mocks.NewResource(args)
}

func TestNewProtectsNamespacesOfProtectedEnvironments(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env  string
		want []string
	}{
		{env: "dev", want: nil},
		{env: "prod", want: []string{"prod-aws-us-east-1-data", "prod-aws-us-east-1-payments", "prod-aws-us-east-1-payments-jobs", "prod-aws-us-east-1-search"}},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Parallel()
			rec := &protectRecorder{Mocks: pulumitest.New(), protected: map[string]bool{}}
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				c, err := testCluster(ctx, cluster.AWS, "us-east-1", true)
				if err != nil {
					return err
				}
				_, err = New(ctx, tt.env, &Args{Set: Default(), Environment: tt.env, Teams: testTeams(), Clusters: []*cluster.Cluster{c}})
				return err
			}, pulumi.WithMocks(pulumitest.Project, pulumitest.Stack, rec))
			require.NoError(t, err)
			require.NotEmpty(t, rec.Resources())
			var got []string
			for name := range rec.protected {
				got = append(got, name)
			}
			sort.Strings(got)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestNewValidation(t *testing.T) {
	t.Parallel()
	valid := func() Args { return Args{Set: Default(), Environment: "dev", Teams: testTeams()} }
	tests := []struct {
		name   string
		args   func() *Args
		nilArg bool
		want   []string
	}{
		{name: "nil args", nilArg: true, want: []string{"args are required"}},
		{name: "unknown environment", args: func() *Args { a := valid(); a.Environment = "qa"; return &a },
			want: []string{`unknown environment "qa"; the set has "dev", "staging", "prod"`}},
		{name: "no environment", args: func() *Args { a := valid(); a.Environment = ""; return &a },
			want: []string{`no environment given; pick one of "dev", "staging", "prod"`}},
		{name: "invalid set", args: func() *Args {
			a := valid()
			a.Set = Set{Environments: []Environment{{Name: "dev", MaxConcurrency: 0}}}
			a.Teams = []Team{{Name: "t", Namespaces: []string{"t"}, Access: map[string]Access{"dev": AccessView}}}
			return &a
		}, want: []string{`environment "dev": maxConcurrency is 0`}},
		{name: "unknown access level", args: func() *Args {
			a := valid()
			a.Teams[0].Access["dev"] = "owner"
			return &a
		}, want: []string{`team "payments": access "owner" in environment "dev" is not one of "view", "edit" or "admin"`}},
		{name: "access for an environment not in the set", args: func() *Args {
			a := valid()
			a.Teams[1].Access["qa"] = AccessEdit
			return &a
		}, want: []string{`team "search": access for unknown environment "qa"; the set has "dev", "staging", "prod"`}},
		{name: "namespace owned by two teams", args: func() *Args {
			a := valid()
			a.Teams[2].Namespaces = append(a.Teams[2].Namespaces, "payments-jobs")
			return &a
		}, want: []string{`namespace "payments-jobs" belongs to both team "payments" and team "data"`}},
		{name: "namespace listed twice", args: func() *Args {
			a := valid()
			a.Teams[1].Namespaces = []string{"search", "search"}
			return &a
		}, want: []string{`team "search" lists namespace "search" twice`}},
		{name: "invalid namespace name", args: func() *Args {
			a := valid()
			a.Teams[1].Namespaces = []string{"Search_API"}
			return &a
		}, want: []string{`team "search": namespace "Search_API" is not a DNS label`}},
		{name: "reserved namespace", args: func() *Args {
			a := valid()
			a.Teams[1].Namespaces = []string{"kube-system", SystemNamespace}
			return &a
		}, want: []string{`team "search": namespace "kube-system" is reserved`, `team "search": namespace "flotilla-system" is reserved`}},
		{name: "team without a name or namespaces", args: func() *Args {
			a := valid()
			a.Teams = append(a.Teams, Team{})
			return &a
		}, want: []string{"team #4 has no name", "team #4 has no namespaces"}},
		{name: "duplicate and reserved team names", args: func() *Args {
			a := valid()
			a.Teams = append(a.Teams, Team{Name: "search", Namespaces: []string{"search-2"}}, Team{Name: "break-glass", Namespaces: []string{"bg"}})
			return &a
		}, want: []string{`team "search" is defined more than once`, `team "break-glass": the name is reserved for the break-glass group "flotilla:break-glass"`}},
		{name: "tags that cannot be labels", args: func() *Args {
			a := valid()
			a.Tags = costtags.Tags{"owner": "-"}
			return &a
		}, want: []string{`team "payments": cost labels:`, `team "search": cost labels:`, `"owner"`}},
		{name: "nil cluster", args: func() *Args { a := valid(); a.Clusters = []*cluster.Cluster{nil}; return &a },
			want: []string{"clusters[0] is nil"}},
		{name: "every problem at once", args: func() *Args {
			a := valid()
			a.Environment = "qa"
			a.Teams[0].Access["dev"] = "root"
			a.Teams[1].Namespaces = []string{"payments"}
			a.Clusters = []*cluster.Cluster{nil}
			return &a
		}, want: []string{
			`unknown environment "qa"`,
			`team "payments": access "root" in environment "dev"`,
			`namespace "payments" belongs to both team "payments" and team "search"`,
			"clusters[0] is nil",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := pulumitest.New()
			err := m.Run(func(ctx *pulumi.Context) error {
				var args *Args
				if !tt.nilArg {
					args = tt.args()
				}
				_, err := New(ctx, "fleet", args)
				return err
			})
			require.Error(t, err)
			assert.Contains(t, err.Error(), `envset "fleet"`)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Empty(t, m.Resources(), "nothing is registered when the arguments are invalid")
		})
	}
}

// TestNewTeamIdentityPerCloud: a team's RoleBinding names, besides flotilla:<team>, the
// group the cloud itself puts the team's members in: the Google Group's email on GKE,
// the Entra group's object id on AKS. EKS maps IAM roles to flotilla:<team> through
// access entries, so its binding names that group alone.
func TestNewTeamIdentityPerCloud(t *testing.T) {
	t.Parallel()
	const (
		email = "payments@example.com"
		oid   = "5f0c3f4e-8a9b-4c1d-9e2f-0a1b2c3d4e5f"
	)
	teams := []Team{{Name: "payments", Namespaces: []string{"payments"}, Access: map[string]Access{"dev": AccessEdit},
		Identity: TeamIdentity{AWSRoleARNs: []string{"arn:aws:iam::111111111111:role/payments"}, GoogleGroup: email, EntraGroupID: oid}}}
	m := deployIdentity(t, Args{Set: Default(), Environment: "dev", Teams: teams}, "gke-security-groups@example.com")
	type subject struct{ APIGroup, Kind, Name string }
	for key, want := range map[string][]subject{
		"aws-us-east-1":    {{"rbac.authorization.k8s.io", "Group", "flotilla:payments"}},
		"gcp-europe-west1": {{"rbac.authorization.k8s.io", "Group", "flotilla:payments"}, {"rbac.authorization.k8s.io", "Group", email}},
		"azure-westeurope": {{"rbac.authorization.k8s.io", "Group", "flotilla:payments"}, {"rbac.authorization.k8s.io", "Group", oid}},
	} {
		rb := m.MustGet(t, typeRoleBinding, "dev-"+key+"-payments-team")
		var got []subject
		for _, s := range field(rb, "subjects").ArrayValue() {
			got = append(got, subject{str(prop(s, "apiGroup")), str(prop(s, "kind")), str(prop(s, "name"))})
		}
		assert.Equal(t, want, got, key)
	}
}

func TestNewTeamIdentityIsChecked(t *testing.T) {
	t.Parallel()
	teams := testTeams()
	teams[0].Identity = TeamIdentity{AWSRoleARNs: []string{"payments-role"}, GoogleGroup: "payments", EntraGroupID: "Payments Team"}
	m := pulumitest.New()
	err := m.Run(func(ctx *pulumi.Context) error {
		_, err := New(ctx, "dev", &Args{Set: Default(), Environment: "dev", Teams: teams})
		return err
	})
	require.Error(t, err)
	for _, want := range []string{
		`team "payments": AWS role "payments-role" is not an IAM role ARN`,
		`team "payments": Google Group "payments" is not an email address`,
		`team "payments": Entra group "Payments Team" is not an object id (a GUID)`,
	} {
		assert.Contains(t, err.Error(), want)
	}
	assert.Empty(t, m.Resources(), "nothing registers")
}

const typeAccessEntry = "aws:eks/accessEntry:AccessEntry"

// identityClusters are an EKS, a GKE and an AKS cluster as package cluster hands them
// over: with a Kubernetes provider, their cloud's provider and their name, and the GKE
// one with Google Groups for RBAC on when securityGroup is set.
func identityClusters(ctx *pulumi.Context, securityGroup string) ([]*cluster.Cluster, error) {
	var out []*cluster.Cluster
	for _, s := range []struct {
		cloud  cluster.Cloud
		region string
	}{{cluster.AWS, "us-east-1"}, {cluster.GCP, "europe-west1"}, {cluster.Azure, "westeurope"}} {
		c, err := testCluster(ctx, s.cloud, s.region, true)
		if err != nil {
			return nil, err
		}
		c.Name = pulumi.Sprintf("%s-%s-cluster", s.cloud, s.region)
		switch s.cloud {
		case cluster.AWS:
			if c.Provider, err = aws.NewProvider(ctx, "aws-us-east-1", &aws.ProviderArgs{Region: pulumi.String("us-east-1")}); err != nil {
				return nil, err
			}
		case cluster.GCP:
			c.GCP = &cluster.GCPCluster{GoogleSecurityGroup: securityGroup}
		}
		out = append(out, c)
	}
	return out, nil
}

// deployIdentity runs New over identityClusters and returns the recording.
func deployIdentity(t *testing.T, args Args, securityGroup string) *pulumitest.Mocks {
	t.Helper()
	m := pulumitest.New()
	require.NoError(t, m.Run(func(ctx *pulumi.Context) error {
		clusters, err := identityClusters(ctx, securityGroup)
		if err != nil {
			return err
		}
		args.Clusters = clusters
		_, err = New(ctx, "dev", &args)
		return err
	}))
	return m
}

// TestNewEKSAccessEntries: every IAM role of a team with access in the environment gets
// one EKS access entry on every EKS cluster, mapping it to flotilla:<team>, through the
// cluster's own AWS provider. EKS takes one entry per principal and cluster, so a role
// that two teams share holds both groups in one entry
// (https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAccessEntry.html); a
// team without access here gets none.
func TestNewEKSAccessEntries(t *testing.T) {
	t.Parallel()
	const (
		paymentsRole = "arn:aws:iam::111111111111:role/payments-deploy"
		sharedRole   = "arn:aws:iam::111111111111:role/teams/oncall"
		dataRole     = "arn:aws:iam::111111111111:role/data"
	)
	teams := testTeams() // dev: payments edit, search view, data none
	teams[0].Identity.AWSRoleARNs = []string{paymentsRole, sharedRole}
	teams[1].Identity.AWSRoleARNs = []string{sharedRole}
	teams[2].Identity.AWSRoleARNs = []string{dataRole}
	m := deployIdentity(t, Args{Set: Default(), Environment: "dev", Teams: teams}, "")

	provider, ok := m.Get("pulumi:providers:aws", "aws-us-east-1")
	require.True(t, ok)
	component := m.MustGet(t, typeComponent, "dev")
	want := map[string]resource.PropertyMap{
		"dev-aws-us-east-1-access-111111111111-payments-deploy": {
			"clusterName":      resource.NewProperty("aws-us-east-1-cluster"),
			"principalArn":     resource.NewProperty(paymentsRole),
			"kubernetesGroups": resource.NewProperty([]resource.PropertyValue{resource.NewProperty("flotilla:payments")}),
			"type":             resource.NewProperty("STANDARD"),
		},
		"dev-aws-us-east-1-access-111111111111-teams/oncall": {
			"clusterName":      resource.NewProperty("aws-us-east-1-cluster"),
			"principalArn":     resource.NewProperty(sharedRole),
			"kubernetesGroups": resource.NewProperty([]resource.PropertyValue{resource.NewProperty("flotilla:payments"), resource.NewProperty("flotilla:search")}),
			"type":             resource.NewProperty("STANDARD"),
		},
	}
	got := map[string]resource.PropertyMap{}
	for _, r := range m.ByType(typeAccessEntry) {
		got[r.Name] = r.Inputs
		assert.Equal(t, provider.URN+"::"+provider.ID, r.Provider, "%s: the cluster's own AWS provider", r.Name)
		assert.Equal(t, component.URN, r.Parent, r.Name)
	}
	assert.Equal(t, want, got, "one entry per role, on the EKS cluster only")
}

func TestNewEKSAccessEntriesNeedTheClustersProvider(t *testing.T) {
	t.Parallel()
	teams := testTeams()
	teams[0].Identity.AWSRoleARNs = []string{"arn:aws:iam::111111111111:role/payments"}
	m := pulumitest.New()
	err := m.Run(func(ctx *pulumi.Context) error {
		c, err := testCluster(ctx, cluster.AWS, "us-east-1", true)
		if err != nil {
			return err
		}
		_, err = New(ctx, "dev", &Args{Set: Default(), Environment: "dev", Teams: teams, Clusters: []*cluster.Cluster{c}})
		return err
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cluster aws-us-east-1 has no AWS provider or name (Cluster.Provider, Cluster.Name)")
	assert.Empty(t, m.ByType(typeAccessEntry))
	assert.Empty(t, m.ByType(typeComponent), "nothing registers")
}

// TestNewGoogleGroupNeedsGoogleGroupsForRBAC: GKE names a request's Google Groups only
// when the cluster has Google Groups for RBAC on (authenticatorGroupsConfig with
// gke-security-groups@<domain>,
// https://cloud.google.com/kubernetes-engine/docs/how-to/google-groups-rbac). Without it
// a RoleBinding to the team's Google Group matches no one, so New refuses the team
// before anything registers.
func TestNewGoogleGroupNeedsGoogleGroupsForRBAC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		securityGroup string
		access        map[string]Access
		wantErr       string
	}{
		{name: "off, team with access", access: map[string]Access{"dev": AccessEdit},
			wantErr: `team "payments": Google Group "payments@example.com" would match no one on GKE cluster gcp-europe-west1, which resolves no Google Groups: set the cluster's Auth.GoogleSecurityGroup`},
		{name: "off, team without access here", access: map[string]Access{"staging": AccessEdit}},
		{name: "on", securityGroup: "gke-security-groups@example.com", access: map[string]Access{"dev": AccessEdit}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			teams := []Team{{Name: "payments", Namespaces: []string{"payments"}, Access: tt.access,
				Identity: TeamIdentity{GoogleGroup: "payments@example.com"}}}
			m := pulumitest.New()
			err := m.Run(func(ctx *pulumi.Context) error {
				clusters, err := identityClusters(ctx, tt.securityGroup)
				if err != nil {
					return err
				}
				_, err = New(ctx, "dev", &Args{Set: Default(), Environment: "dev", Teams: teams, Clusters: clusters})
				return err
			})
			if tt.wantErr == "" {
				require.NoError(t, err)
				assert.NotEmpty(t, m.ByType(typeRoleBinding))
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
			assert.Empty(t, m.ByType(typeComponent), "nothing registers")
			assert.Empty(t, m.ByType(typeRoleBinding), "nothing registers")
		})
	}
}
