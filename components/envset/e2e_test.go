package envset_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	k8s "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/envset"
	fleetsim "github.com/flotilla-io/flotilla/internal/fleetsim/sdk"
	"github.com/flotilla-io/flotilla/internal/simtest"
)

// TestEnvironmentSetOnARealAPIServer deploys a protected environment onto a simulated
// cluster's real control plane through the Pulumi CLI, then asks the API server itself,
// with SubjectAccessReviews and real requests, what each identity may do.
func TestEnvironmentSetOnARealAPIServer(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, simtest.WithKube())
	teams := []envset.Team{
		// Asks for admin in prod; prod is Protected, so payments gets view there.
		{Name: "payments", Namespaces: []string{"payments"}, Access: map[string]envset.Access{"dev": envset.AccessEdit, "prod": envset.AccessAdmin}},
		// Has no access in prod at all.
		{Name: "search", Namespaces: []string{"search"}, Access: map[string]envset.Access{"dev": envset.AccessView}},
	}
	stack := simtest.Stack(t, sim, "prod", func(ctx *pulumi.Context) error {
		c, err := fleetsim.NewCluster(ctx, "prod-east", &fleetsim.ClusterArgs{Region: pulumi.String("sim-east-1")})
		if err != nil {
			return err
		}
		kube, err := kubernetes.NewProvider(ctx, "prod-east", &kubernetes.ProviderArgs{Kubeconfig: c.Kubeconfig})
		if err != nil {
			return err
		}
		if _, err := envset.New(ctx, "prod", &envset.Args{
			Set:         envset.Default(),
			Environment: "prod",
			Clusters:    []*cluster.Cluster{{Cloud: cluster.Sim, Region: "sim-east-1", KubeProvider: kube}},
			Teams:       teams,
			Tags:        costtags.Tags{"cost-center": "cc-42"},
		}); err != nil {
			return err
		}
		ctx.Export("kubeconfig", c.Kubeconfig)
		return nil
	})
	res := simtest.Up(t, stack)
	kubeconfig, ok := res.Outputs["kubeconfig"].Value.(string)
	require.True(t, ok, "kubeconfig output: %#v", res.Outputs["kubeconfig"])
	config, err := clientcmd.RESTConfigFromKubeConfig([]byte(kubeconfig))
	require.NoError(t, err)
	admin, err := k8s.NewForConfig(config)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	ns, err := admin.CoreV1().Namespaces().Get(ctx, "payments", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "payments", ns.Labels[envset.LabelTeam])
	assert.Equal(t, "restricted", ns.Labels[envset.LabelPodSecurityEnforce])

	t.Run("prod enforces the restricted pod security standard", func(t *testing.T) {
		root := pod("root", nil)
		root.Spec.Containers[0].SecurityContext = nil
		_, err := admin.CoreV1().Pods("payments").Create(ctx, root, metav1.CreateOptions{})
		require.Error(t, err)
		assert.Contains(t, err.Error(), `violates PodSecurity "restricted:latest"`)
	})
	assert.Equal(t, "prod", ns.Labels[envset.LabelEnvironment])
	assert.Equal(t, "cc-42", ns.Labels["cost-center"])

	t.Run("access", func(t *testing.T) {
		deploy := identity{user: "system:serviceaccount:" + envset.SystemNamespace + ":" + envset.DeployServiceAccount,
			groups: []string{"system:serviceaccounts", "system:serviceaccounts:" + envset.SystemNamespace, "system:authenticated"}}
		payments := identity{user: "alice", groups: []string{envset.GroupPrefix + "payments", "system:authenticated"}}
		search := identity{user: "bob", groups: []string{envset.GroupPrefix + "search", "system:authenticated"}}
		breakGlass := identity{user: "oncall", groups: []string{envset.BreakGlassGroup, "system:authenticated"}}
		nobody := identity{user: "mallory", groups: []string{"system:authenticated"}}

		tests := []struct {
			name string
			who  identity
			attr authorizationv1.ResourceAttributes
			want bool
		}{
			{"view team lists pods", payments, attrs("list", "", "pods", "payments"), true},
			{"view team cannot create pods", payments, attrs("create", "", "pods", "payments"), false},
			{"view team cannot read secrets", payments, attrs("get", "", "secrets", "payments"), false},
			{"view team cannot list secrets", payments, attrs("list", "", "secrets", "payments"), false},
			{"view team cannot update deployments", payments, attrs("update", "apps", "deployments", "payments"), false},
			{"view team cannot exec into pods", payments, sub("create", "", "pods", "exec", "payments"), false},
			{"view team cannot bind roles", payments, attrs("create", "rbac.authorization.k8s.io", "rolebindings", "payments"), false},
			{"view team stays out of other namespaces", payments, attrs("list", "", "pods", "search"), false},
			{"team without access in prod sees nothing", search, attrs("list", "", "pods", "search"), false},
			{"an authenticated stranger sees nothing", nobody, attrs("list", "", "pods", "payments"), false},
			{"deploy identity creates pods", deploy, attrs("create", "", "pods", "payments"), true},
			{"deploy identity reads secrets", deploy, attrs("get", "", "secrets", "payments"), true},
			{"deploy identity updates deployments", deploy, attrs("update", "apps", "deployments", "payments"), true},
			{"deploy identity binds roles in team namespaces", deploy, attrs("create", "rbac.authorization.k8s.io", "rolebindings", "search"), true},
			{"deploy identity lists namespaces", deploy, attrs("list", "", "namespaces", ""), true},
			{"deploy identity cannot lift quotas", deploy, attrs("update", "", "resourcequotas", "payments"), false},
			{"deploy identity cannot delete namespaces", deploy, attrs("delete", "", "namespaces", ""), false},
			{"deploy identity stays out of kube-system", deploy, attrs("create", "", "pods", "kube-system"), false},
			{"break-glass creates pods in kube-system", breakGlass, attrs("create", "", "pods", "kube-system"), true},
			{"break-glass reads secrets anywhere", breakGlass, attrs("list", "", "secrets", ""), true},
			{"break-glass deletes nodes", breakGlass, attrs("delete", "", "nodes", ""), true},
			{"break-glass escalates cluster roles", breakGlass, attrs("escalate", "rbac.authorization.k8s.io", "clusterroles", ""), true},
			{"break-glass lifts quotas", breakGlass, attrs("update", "", "resourcequotas", "payments"), true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				assert.Equal(t, tt.want, allowed(ctx, t, admin, tt.who, tt.attr))
			})
		}
		t.Run("break-glass reads non-resource URLs", func(t *testing.T) {
			review, err := admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
				Spec: authorizationv1.SubjectAccessReviewSpec{
					User: breakGlass.user, Groups: breakGlass.groups,
					NonResourceAttributes: &authorizationv1.NonResourceAttributes{Verb: "get", Path: "/metrics"},
				},
			}, metav1.CreateOptions{})
			require.NoError(t, err)
			assert.True(t, review.Status.Allowed)
		})
	})

	// Pods need the namespace's default ServiceAccount, which the controller manager
	// creates shortly after the namespace.
	require.Eventually(t, func() bool {
		_, err := admin.CoreV1().ServiceAccounts("payments").Get(ctx, "default", metav1.GetOptions{})
		return err == nil
	}, time.Minute, 200*time.Millisecond, "default service account in payments")

	t.Run("a view team's real request is refused", func(t *testing.T) {
		impersonated := rest.CopyConfig(config)
		impersonated.Impersonate = rest.ImpersonationConfig{UserName: "alice", Groups: []string{envset.GroupPrefix + "payments", "system:authenticated"}}
		alice, err := k8s.NewForConfig(impersonated)
		require.NoError(t, err)
		_, err = alice.CoreV1().Pods("payments").List(ctx, metav1.ListOptions{})
		require.NoError(t, err, "view lists pods")
		_, err = alice.CoreV1().Pods("payments").Create(ctx, pod("alice", nil), metav1.CreateOptions{})
		assert.True(t, apierrors.IsForbidden(err), "create as a view team: %v", err)
		_, err = alice.CoreV1().Secrets("payments").List(ctx, metav1.ListOptions{})
		assert.True(t, apierrors.IsForbidden(err), "list secrets as a view team: %v", err)
	})

	t.Run("a pod without requests gets the LimitRange defaults", func(t *testing.T) {
		created, err := admin.CoreV1().Pods("payments").Create(ctx, pod("defaults", nil), metav1.CreateOptions{})
		require.NoError(t, err)
		got := created.Spec.Containers[0].Resources
		assert.Equal(t, "100m", quantity(got.Requests, corev1.ResourceCPU))
		assert.Equal(t, "128Mi", quantity(got.Requests, corev1.ResourceMemory))
		assert.Equal(t, "1", quantity(got.Limits, corev1.ResourceCPU))
		assert.Equal(t, "512Mi", quantity(got.Limits, corev1.ResourceMemory))
	})

	t.Run("a namespace over quota is refused", func(t *testing.T) {
		// Quota admission refuses everything until the controller has computed usage.
		require.Eventually(t, func() bool {
			q, err := admin.CoreV1().ResourceQuotas("payments").Get(ctx, "flotilla-quota", metav1.GetOptions{})
			return err == nil && len(q.Status.Hard) > 0
		}, time.Minute, 200*time.Millisecond, "quota status")
		big := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("20"), corev1.ResourceMemory: resource.MustParse("1Gi")}
		_, err := admin.CoreV1().Pods("payments").Create(ctx, pod("too-big", &corev1.ResourceRequirements{Requests: big, Limits: big}), metav1.CreateOptions{})
		require.Error(t, err)
		assert.True(t, apierrors.IsForbidden(err), "%v", err)
		assert.Contains(t, err.Error(), "exceeded quota: flotilla-quota")
		assert.Contains(t, err.Error(), "requests.cpu=20")

		small := corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("2"), corev1.ResourceMemory: resource.MustParse("1Gi")}
		_, err = admin.CoreV1().Pods("payments").Create(ctx, pod("fits", &corev1.ResourceRequirements{Requests: small, Limits: small}), metav1.CreateOptions{})
		assert.NoError(t, err, "a pod within the quota is admitted")
	})
}

type identity struct {
	user   string
	groups []string
}

func attrs(verb, group, kind, namespace string) authorizationv1.ResourceAttributes {
	return authorizationv1.ResourceAttributes{Verb: verb, Group: group, Resource: kind, Namespace: namespace}
}

func sub(verb, group, kind, subresource, namespace string) authorizationv1.ResourceAttributes {
	a := attrs(verb, group, kind, namespace)
	a.Subresource = subresource
	return a
}

// allowed asks the API server whether who may do attr.
func allowed(ctx context.Context, t *testing.T, cs k8s.Interface, who identity, attr authorizationv1.ResourceAttributes) bool {
	t.Helper()
	review, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
		Spec: authorizationv1.SubjectAccessReviewSpec{User: who.user, Groups: who.groups, ResourceAttributes: &attr},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	if review.Status.EvaluationError != "" && !strings.Contains(review.Status.EvaluationError, "not found") {
		t.Logf("evaluation error: %s", review.Status.EvaluationError)
	}
	return review.Status.Allowed
}

// pod is a pod that the restricted Pod Security Standard admits, as prod's team
// namespaces enforce it.
func pod(name string, resources *corev1.ResourceRequirements) *corev1.Pod {
	no, yes := false, true
	c := corev1.Container{Name: "app", Image: "registry.example/app:1", SecurityContext: &corev1.SecurityContext{
		AllowPrivilegeEscalation: &no,
		RunAsNonRoot:             &yes,
		Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
		SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
	}}
	if resources != nil {
		c.Resources = *resources
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec:       corev1.PodSpec{Containers: []corev1.Container{c}},
	}
}

func quantity(list corev1.ResourceList, name corev1.ResourceName) string {
	q, ok := list[name]
	if !ok {
		return ""
	}
	return q.String()
}
