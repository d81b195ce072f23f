package automation_test

import (
	"strings"
	"testing"

	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	batchv1beta1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/batch/v1beta1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	extensionsv1beta1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/extensions/v1beta1"
	flowcontrolv1beta3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/flowcontrol/v1beta3"
	helmv3 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/helm/v3"
	policyv1beta1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/policy/v1beta1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
)

// guideRemovals is the deprecation guide's "Removed APIs by release"
// (https://kubernetes.io/docs/reference/using-api/deprecation-guide/) written out again,
// release by release, so that a change to the table has to be made here too, on purpose.
var guideRemovals = map[int][]struct{ gv, kind, replacement string }{
	16: {
		{"extensions/v1beta1", "NetworkPolicy", "networking.k8s.io/v1"},
		{"extensions/v1beta1", "PodSecurityPolicy", "policy/v1beta1"},
		{"extensions/v1beta1", "DaemonSet", "apps/v1"}, {"apps/v1beta2", "DaemonSet", "apps/v1"},
		{"extensions/v1beta1", "Deployment", "apps/v1"}, {"apps/v1beta1", "Deployment", "apps/v1"}, {"apps/v1beta2", "Deployment", "apps/v1"},
		{"apps/v1beta1", "StatefulSet", "apps/v1"}, {"apps/v1beta2", "StatefulSet", "apps/v1"},
		{"extensions/v1beta1", "ReplicaSet", "apps/v1"}, {"apps/v1beta1", "ReplicaSet", "apps/v1"}, {"apps/v1beta2", "ReplicaSet", "apps/v1"},
	},
	22: {
		{"admissionregistration.k8s.io/v1beta1", "MutatingWebhookConfiguration", "admissionregistration.k8s.io/v1"},
		{"admissionregistration.k8s.io/v1beta1", "ValidatingWebhookConfiguration", "admissionregistration.k8s.io/v1"},
		{"apiextensions.k8s.io/v1beta1", "CustomResourceDefinition", "apiextensions.k8s.io/v1"},
		{"apiregistration.k8s.io/v1beta1", "APIService", "apiregistration.k8s.io/v1"},
		{"authentication.k8s.io/v1beta1", "TokenReview", "authentication.k8s.io/v1"},
		{"authorization.k8s.io/v1beta1", "LocalSubjectAccessReview", "authorization.k8s.io/v1"},
		{"authorization.k8s.io/v1beta1", "SelfSubjectAccessReview", "authorization.k8s.io/v1"},
		{"authorization.k8s.io/v1beta1", "SubjectAccessReview", "authorization.k8s.io/v1"},
		{"certificates.k8s.io/v1beta1", "CertificateSigningRequest", "certificates.k8s.io/v1"},
		{"coordination.k8s.io/v1beta1", "Lease", "coordination.k8s.io/v1"},
		{"extensions/v1beta1", "Ingress", "networking.k8s.io/v1"}, {"networking.k8s.io/v1beta1", "Ingress", "networking.k8s.io/v1"},
		{"networking.k8s.io/v1beta1", "IngressClass", "networking.k8s.io/v1"},
		{"rbac.authorization.k8s.io/v1beta1", "ClusterRole", "rbac.authorization.k8s.io/v1"},
		{"rbac.authorization.k8s.io/v1beta1", "ClusterRoleBinding", "rbac.authorization.k8s.io/v1"},
		{"rbac.authorization.k8s.io/v1beta1", "Role", "rbac.authorization.k8s.io/v1"},
		{"rbac.authorization.k8s.io/v1beta1", "RoleBinding", "rbac.authorization.k8s.io/v1"},
		{"scheduling.k8s.io/v1beta1", "PriorityClass", "scheduling.k8s.io/v1"},
		{"storage.k8s.io/v1beta1", "CSIDriver", "storage.k8s.io/v1"}, {"storage.k8s.io/v1beta1", "CSINode", "storage.k8s.io/v1"},
		{"storage.k8s.io/v1beta1", "StorageClass", "storage.k8s.io/v1"}, {"storage.k8s.io/v1beta1", "VolumeAttachment", "storage.k8s.io/v1"},
	},
	25: {
		{"batch/v1beta1", "CronJob", "batch/v1"},
		{"discovery.k8s.io/v1beta1", "EndpointSlice", "discovery.k8s.io/v1"},
		{"events.k8s.io/v1beta1", "Event", "events.k8s.io/v1"},
		{"autoscaling/v2beta1", "HorizontalPodAutoscaler", "autoscaling/v2"},
		{"policy/v1beta1", "PodDisruptionBudget", "policy/v1"},
		{"policy/v1beta1", "PodSecurityPolicy", "Pod Security Admission"},
		{"node.k8s.io/v1beta1", "RuntimeClass", "node.k8s.io/v1"},
	},
	26: {
		{"flowcontrol.apiserver.k8s.io/v1beta1", "FlowSchema", "flowcontrol.apiserver.k8s.io/v1beta3"},
		{"flowcontrol.apiserver.k8s.io/v1beta1", "PriorityLevelConfiguration", "flowcontrol.apiserver.k8s.io/v1beta3"},
		{"autoscaling/v2beta2", "HorizontalPodAutoscaler", "autoscaling/v2"},
	},
	27: {{"storage.k8s.io/v1beta1", "CSIStorageCapacity", "storage.k8s.io/v1"}},
	29: {
		{"flowcontrol.apiserver.k8s.io/v1beta2", "FlowSchema", "flowcontrol.apiserver.k8s.io/v1"},
		{"flowcontrol.apiserver.k8s.io/v1beta2", "PriorityLevelConfiguration", "flowcontrol.apiserver.k8s.io/v1"},
	},
	32: {
		{"flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema", "flowcontrol.apiserver.k8s.io/v1"},
		{"flowcontrol.apiserver.k8s.io/v1beta3", "PriorityLevelConfiguration", "flowcontrol.apiserver.k8s.io/v1"},
	},
}

func TestRemovedAPIsAreTheGuides(t *testing.T) {
	t.Parallel()
	got := map[string]automation.RemovedAPI{}
	for _, r := range automation.RemovedAPIs() {
		_, dup := got[r.String()]
		require.False(t, dup, "%s is in the table twice", r)
		got[r.String()] = r
	}
	n := 0
	for release, rows := range guideRemovals {
		for _, w := range rows {
			n++
			r, ok := got[w.gv+" "+w.kind]
			if !assert.True(t, ok, "1.%d removes %s %s; the table lacks it", release, w.gv, w.kind) {
				continue
			}
			assert.Equal(t, minor(release), r.RemovedIn, r.String())
			assert.True(t, strings.HasPrefix(r.Replacement, w.replacement), "%s: replacement %q, want %q", r, r.Replacement, w.replacement)
			if strings.Contains(w.replacement, "/") {
				assert.Equal(t, w.replacement, r.Replacement, r.String())
				assert.False(t, r.RemovedIn.Less(r.ReplacementSince), "%s: its replacement is served by the removal (%s)", r, r.ReplacementSince)
			}
		}
	}
	assert.Len(t, got, n, "the table has rows the guide does not")
}

// TestCheckRemovedAPIsPerRow checks every row of the table: an upgrade that crosses its
// release reports it (and its List and Patch types), one that stops before it or starts
// after it does not.
func TestCheckRemovedAPIsPerRow(t *testing.T) {
	t.Parallel()
	for _, r := range automation.RemovedAPIs() {
		t.Run(r.String(), func(t *testing.T) {
			t.Parallel()
			token := "kubernetes:" + r.GroupVersion + ":" + r.Kind
			for _, typ := range []string{token, token + "List", token + "Patch"} {
				got := automation.CheckRemovedAPIs([]string{typ}, r.RemovedIn.Add(-1), r.RemovedIn)
				require.Len(t, got, 1, typ)
				assert.True(t, strings.HasPrefix(got[0], typ+": Kubernetes "+r.RemovedIn.String()+" stops serving "+r.GroupVersion+" "+r.Kind+"; migrate to "+r.Replacement), got[0])

				assert.Len(t, automation.CheckRemovedAPIs([]string{typ}, r.RemovedIn.Add(-3), r.RemovedIn.Add(2)), 1, "%s: crossing it among others", typ)
				assert.Empty(t, automation.CheckRemovedAPIs([]string{typ}, r.RemovedIn.Add(-3), r.RemovedIn.Add(-1)), "%s: stops before the removal", typ)
				assert.Empty(t, automation.CheckRemovedAPIs([]string{typ}, r.RemovedIn, r.RemovedIn.Add(3)), "%s: already past it", typ)
			}
			assert.Contains(t, automation.RemovedBetween(r.RemovedIn.Add(-1), r.RemovedIn), r)
			assert.NotContains(t, automation.RemovedBetween(r.RemovedIn, r.RemovedIn.Add(5)), r)
		})
	}
}

func TestRemovedBetween(t *testing.T) {
	t.Parallel()
	names := func(rs []automation.RemovedAPI) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r.String())
		}
		return out
	}
	assert.Equal(t, []string{
		"flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema", "flowcontrol.apiserver.k8s.io/v1beta3 PriorityLevelConfiguration",
	}, names(automation.RemovedBetween(minor(31), minor(32))))
	assert.Equal(t, []string{
		"storage.k8s.io/v1beta1 CSIStorageCapacity",
		"flowcontrol.apiserver.k8s.io/v1beta2 FlowSchema", "flowcontrol.apiserver.k8s.io/v1beta2 PriorityLevelConfiguration",
	}, names(automation.RemovedBetween(minor(26), minor(29))))
	assert.Len(t, automation.RemovedBetween(minor(24), minor(25)), 7)
	assert.Empty(t, automation.RemovedBetween(minor(32), minor(34)), "nothing the guide lists after 1.32")
	assert.Empty(t, automation.RemovedBetween(minor(29), minor(29)))
	assert.Empty(t, automation.RemovedBetween(minor(32), minor(25)))
	assert.Len(t, automation.RemovedBetween(minor(15), minor(32)), len(automation.RemovedAPIs()))
}

func TestCheckRemovedAPIsMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		types    []string
		from, to int
		want     []string
	}{
		{name: "a PodDisruptionBudget into 1.25", types: []string{"kubernetes:policy/v1beta1:PodDisruptionBudget"}, from: 24, to: 25,
			want: []string{"kubernetes:policy/v1beta1:PodDisruptionBudget: Kubernetes 1.25 stops serving policy/v1beta1 PodDisruptionBudget; migrate to policy/v1 PodDisruptionBudget (served since 1.21)"}},
		{name: "a FlowSchema into 1.32", types: []string{"kubernetes:flowcontrol.apiserver.k8s.io/v1beta3:FlowSchema"}, from: 31, to: 33,
			want: []string{"kubernetes:flowcontrol.apiserver.k8s.io/v1beta3:FlowSchema: Kubernetes 1.32 stops serving flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema; migrate to flowcontrol.apiserver.k8s.io/v1 FlowSchema (served since 1.29)"}},
		{name: "a replacement the same upgrade removes in turn is followed", types: []string{"kubernetes:flowcontrol.apiserver.k8s.io/v1beta1:FlowSchema"}, from: 25, to: 32,
			want: []string{"kubernetes:flowcontrol.apiserver.k8s.io/v1beta1:FlowSchema: Kubernetes 1.26 stops serving flowcontrol.apiserver.k8s.io/v1beta1 FlowSchema; migrate to flowcontrol.apiserver.k8s.io/v1 FlowSchema (served since 1.29)"}},
		{name: "a replacement the upgrade keeps is not", types: []string{"kubernetes:flowcontrol.apiserver.k8s.io/v1beta1:FlowSchema"}, from: 25, to: 26,
			want: []string{"kubernetes:flowcontrol.apiserver.k8s.io/v1beta1:FlowSchema: Kubernetes 1.26 stops serving flowcontrol.apiserver.k8s.io/v1beta1 FlowSchema; migrate to flowcontrol.apiserver.k8s.io/v1beta3 FlowSchema (served since 1.26)"}},
		{name: "PodSecurityPolicy has no API to move to", types: []string{"kubernetes:extensions/v1beta1:PodSecurityPolicy"}, from: 15, to: 25,
			want: []string{"kubernetes:extensions/v1beta1:PodSecurityPolicy: Kubernetes 1.16 stops serving extensions/v1beta1 PodSecurityPolicy; migrate to Pod Security Admission (https://kubernetes.io/docs/concepts/security/pod-security-admission/) or a third-party admission webhook"}},
		{name: "a CronJob across several releases, once, in order, with others that stay",
			types: []string{"kubernetes:core/v1:Pod", "kubernetes:batch/v1beta1:CronJob", "kubernetes:apps/v1:Deployment", "kubernetes:batch/v1beta1:CronJob", "kubernetes:autoscaling/v2beta2:HorizontalPodAutoscaler"},
			from:  21, to: 30,
			want: []string{
				"kubernetes:batch/v1beta1:CronJob: Kubernetes 1.25 stops serving batch/v1beta1 CronJob; migrate to batch/v1 CronJob (served since 1.21)",
				"kubernetes:autoscaling/v2beta2:HorizontalPodAutoscaler: Kubernetes 1.26 stops serving autoscaling/v2beta2 HorizontalPodAutoscaler; migrate to autoscaling/v2 HorizontalPodAutoscaler (served since 1.23)",
			}},
		{name: "types that are not one Kubernetes kind",
			types: []string{"", "kubernetes:helm.sh/v3:Release", "kubernetes:yaml:ConfigFile", "kubernetes:apiextensions.k8s.io:CustomResource",
				"pulumi:providers:kubernetes", "aws:eks/cluster:Cluster", "flotilla:envset:EnvironmentSet", "policy/v1beta1:PodDisruptionBudget",
				"kubernetes:policy/v1beta1:", "kubernetes:policy/v1beta1:PodDisruptionBudget:extra", "kubernetes:policy/v1beta1:List"},
			from: 15, to: 33},
		{name: "no upgrade", types: []string{"kubernetes:policy/v1beta1:PodDisruptionBudget"}, from: 25, to: 25},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, automation.CheckRemovedAPIs(tt.types, minor(tt.from), minor(tt.to)))
		})
	}
}

// TestCheckRemovedAPIsOnProviderTypes registers resources of the kubernetes provider's
// Go SDK and checks the type tokens the engine sees, so that the table is matched
// against the provider's real tokens, core group included.
func TestCheckRemovedAPIsOnProviderTypes(t *testing.T) {
	t.Parallel()
	m := pulumitest.New()
	require.NoError(t, m.Run(func(ctx *pulumi.Context) error {
		if _, err := corev1.NewPod(ctx, "pod", &corev1.PodArgs{}); err != nil {
			return err
		}
		if _, err := appsv1.NewDeployment(ctx, "deploy", &appsv1.DeploymentArgs{}); err != nil {
			return err
		}
		if _, err := policyv1beta1.NewPodDisruptionBudget(ctx, "pdb", &policyv1beta1.PodDisruptionBudgetArgs{}); err != nil {
			return err
		}
		if _, err := policyv1beta1.NewPodDisruptionBudgetPatch(ctx, "pdb-patch", &policyv1beta1.PodDisruptionBudgetPatchArgs{}); err != nil {
			return err
		}
		if _, err := batchv1beta1.NewCronJob(ctx, "cron", &batchv1beta1.CronJobArgs{}); err != nil {
			return err
		}
		if _, err := flowcontrolv1beta3.NewFlowSchema(ctx, "flow", &flowcontrolv1beta3.FlowSchemaArgs{}); err != nil {
			return err
		}
		if _, err := extensionsv1beta1.NewIngress(ctx, "ingress", &extensionsv1beta1.IngressArgs{}); err != nil {
			return err
		}
		_, err := helmv3.NewRelease(ctx, "release", &helmv3.ReleaseArgs{Chart: pulumi.String("nginx")})
		return err
	}))
	var types []string
	for _, r := range m.Resources() {
		types = append(types, r.Type)
	}
	require.Contains(t, types, "kubernetes:core/v1:Pod")

	flagged := func(from, to int) []string {
		var out []string
		for _, p := range automation.CheckRemovedAPIs(types, minor(from), minor(to)) {
			typ, _, _ := strings.Cut(p, ": ")
			out = append(out, typ)
		}
		return out
	}
	assert.Equal(t, []string{"kubernetes:flowcontrol.apiserver.k8s.io/v1beta3:FlowSchema"}, flagged(31, 32))
	assert.ElementsMatch(t, []string{
		"kubernetes:policy/v1beta1:PodDisruptionBudget", "kubernetes:policy/v1beta1:PodDisruptionBudgetPatch", "kubernetes:batch/v1beta1:CronJob",
	}, flagged(24, 25))
	assert.ElementsMatch(t, []string{
		"kubernetes:policy/v1beta1:PodDisruptionBudget", "kubernetes:policy/v1beta1:PodDisruptionBudgetPatch", "kubernetes:batch/v1beta1:CronJob",
		"kubernetes:flowcontrol.apiserver.k8s.io/v1beta3:FlowSchema", "kubernetes:extensions/v1beta1:Ingress",
	}, flagged(21, 33))
	assert.Empty(t, flagged(32, 34))
}
