package envset

import (
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Identities that RBAC binds. Teams are groups that the cluster's authenticator (the
// cloud's IAM mapping or an OIDC provider) must put their members in.
const (
	// GroupPrefix + team name is the Kubernetes group a team's members belong to.
	GroupPrefix = "flotilla:"
	// BreakGlassGroup is the group that is cluster admin in every environment, for
	// incidents; membership should be granted just in time and audited.
	BreakGlassGroup = "flotilla:break-glass"
	// SystemNamespace holds the deploy identity.
	SystemNamespace = "flotilla-system"
	// DeployServiceAccount is the deploy identity: the only writer in Protected
	// environments. Its user name is
	// "system:serviceaccount:flotilla-system:flotilla-deploy".
	DeployServiceAccount = "flotilla-deploy"
)

// rule is one RBAC policy rule, kept as plain values so that tests and docs can read it.
type rule struct {
	APIGroups, Resources, Verbs []string
}

var (
	read      = []string{"get", "list", "watch"}
	readWrite = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}
)

// viewRules read workloads and their configuration; never secrets, whose values view
// must not reveal.
var viewRules = []rule{
	{[]string{""}, []string{"configmaps", "endpoints", "events", "limitranges", "persistentvolumeclaims", "pods", "pods/log", "replicationcontrollers", "resourcequotas", "serviceaccounts", "services"}, read},
	{[]string{"apps"}, []string{"daemonsets", "deployments", "replicasets", "statefulsets"}, read},
	{[]string{"batch"}, []string{"cronjobs", "jobs"}, read},
	{[]string{"autoscaling"}, []string{"horizontalpodautoscalers"}, read},
	{[]string{"policy"}, []string{"poddisruptionbudgets"}, read},
	{[]string{"networking.k8s.io"}, []string{"ingresses", "networkpolicies"}, read},
	{[]string{"discovery.k8s.io"}, []string{"endpointslices"}, read},
	{[]string{"events.k8s.io"}, []string{"events"}, read},
}

// editRules run workloads. Edit reads and writes secrets: it can create pods that mount
// any secret of the namespace anyway, so withholding secrets would protect nothing and
// only break deployments. Quotas, limit ranges and network policies stay read-only, so
// a team cannot lift the platform's guard rails.
var editRules = []rule{
	{[]string{""}, []string{"configmaps", "persistentvolumeclaims", "pods", "replicationcontrollers", "secrets", "serviceaccounts", "services"}, readWrite},
	{[]string{""}, []string{"endpoints", "events", "limitranges", "pods/log", "resourcequotas"}, read},
	{[]string{""}, []string{"pods/attach", "pods/exec", "pods/portforward"}, []string{"get", "create"}},
	{[]string{"apps"}, []string{"daemonsets", "deployments", "replicasets", "statefulsets"}, readWrite},
	{[]string{"apps"}, []string{"deployments/scale", "replicasets/scale", "statefulsets/scale"}, []string{"get", "update", "patch"}},
	{[]string{"batch"}, []string{"cronjobs", "jobs"}, readWrite},
	{[]string{"autoscaling"}, []string{"horizontalpodautoscalers"}, readWrite},
	{[]string{"policy"}, []string{"poddisruptionbudgets"}, readWrite},
	{[]string{"networking.k8s.io"}, []string{"ingresses"}, readWrite},
	{[]string{"networking.k8s.io"}, []string{"networkpolicies"}, read},
	{[]string{"discovery.k8s.io"}, []string{"endpointslices"}, read},
	{[]string{"events.k8s.io"}, []string{"events"}, read},
}

// adminRules are edit plus the namespace's own network policies, Roles and
// RoleBindings. Without the bind and escalate verbs, Kubernetes lets an admin grant
// only permissions the admin already holds, so admin cannot escalate past itself.
var adminRules = []rule{
	{[]string{""}, []string{"configmaps", "persistentvolumeclaims", "pods", "replicationcontrollers", "secrets", "serviceaccounts", "services"}, readWrite},
	{[]string{""}, []string{"endpoints", "events", "limitranges", "pods/log", "resourcequotas"}, read},
	{[]string{""}, []string{"pods/attach", "pods/exec", "pods/portforward"}, []string{"get", "create"}},
	{[]string{"apps"}, []string{"daemonsets", "deployments", "replicasets", "statefulsets"}, readWrite},
	{[]string{"apps"}, []string{"deployments/scale", "replicasets/scale", "statefulsets/scale"}, []string{"get", "update", "patch"}},
	{[]string{"batch"}, []string{"cronjobs", "jobs"}, readWrite},
	{[]string{"autoscaling"}, []string{"horizontalpodautoscalers"}, readWrite},
	{[]string{"policy"}, []string{"poddisruptionbudgets"}, readWrite},
	{[]string{"networking.k8s.io"}, []string{"ingresses", "networkpolicies"}, readWrite},
	{[]string{"discovery.k8s.io"}, []string{"endpointslices"}, read},
	{[]string{"events.k8s.io"}, []string{"events"}, read},
	{[]string{"rbac.authorization.k8s.io"}, []string{"rolebindings", "roles"}, readWrite},
}

// rulesFor returns the namespace Role rules of an access level.
func rulesFor(a Access) []rule {
	switch a {
	case AccessAdmin:
		return adminRules
	case AccessEdit:
		return editRules
	}
	return viewRules
}

// deployClusterRules are what the deploy identity needs outside team namespaces: to
// discover namespaces, nodes, priority and storage classes and CRDs, never to write.
var deployClusterRules = []rule{
	{[]string{""}, []string{"namespaces", "nodes"}, read},
	{[]string{"scheduling.k8s.io"}, []string{"priorityclasses"}, read},
	{[]string{"storage.k8s.io"}, []string{"storageclasses"}, read},
	{[]string{"apiextensions.k8s.io"}, []string{"customresourcedefinitions"}, read},
}

// effectiveAccess clamps a team's access to view in Protected environments, where only
// the deploy identity writes. ok is false when the team has no access there.
func effectiveAccess(env Environment, team Team) (Access, bool) {
	a, ok := team.Access[env.Name]
	if !ok {
		return "", false
	}
	if env.Protected && a.rank() > AccessView.rank() {
		return AccessView, true
	}
	return a, true
}

func policyRules(rules []rule) rbacv1.PolicyRuleArray {
	out := make(rbacv1.PolicyRuleArray, 0, len(rules))
	for _, r := range rules {
		out = append(out, rbacv1.PolicyRuleArgs{
			ApiGroups: pulumi.ToStringArray(r.APIGroups),
			Resources: pulumi.ToStringArray(r.Resources),
			Verbs:     pulumi.ToStringArray(r.Verbs),
		})
	}
	return out
}

// breakGlassRules are the only wildcards Flotilla ever grants.
var breakGlassRules = rbacv1.PolicyRuleArray{
	rbacv1.PolicyRuleArgs{
		ApiGroups: pulumi.StringArray{pulumi.String("*")},
		Resources: pulumi.StringArray{pulumi.String("*")},
		Verbs:     pulumi.StringArray{pulumi.String("*")},
	},
	rbacv1.PolicyRuleArgs{
		NonResourceURLs: pulumi.StringArray{pulumi.String("*")},
		Verbs:           pulumi.StringArray{pulumi.String("*")},
	},
}
