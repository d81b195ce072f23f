package envset

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	networkingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/networking/v1"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	schedulingv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/scheduling/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Labels Flotilla puts on what it creates in a cluster.
const (
	LabelTeam        = "flotilla.io/team"
	LabelEnvironment = "flotilla.io/environment"
	labelManagedBy   = "app.kubernetes.io/managed-by"
)

// The PriorityClasses every cluster gets. None is the global default: a global default
// would silently change the priority of every pod in the cluster, including add-ons
// installed by others, and only one may exist. Pods opt in with priorityClassName;
// pods without one run at priority 0, between default and batch.
const (
	// PriorityPlatform is for the platform's own add-ons, below the system-critical classes.
	PriorityPlatform = "flotilla-platform"
	// PriorityDefault is for services.
	PriorityDefault = "flotilla-default"
	// PriorityBatch is for batch work that anything may preempt and that itself never
	// preempts. Its value, PriorityBatchValue, is still at or above the
	// cluster-autoscaler's expendable cutoff, so pending batch pods scale a pool up.
	PriorityBatch = "flotilla-batch"
)

// PriorityBatchValue is PriorityBatch's value: the lowest that still triggers scale-ups.
// Pods below the cluster-autoscaler's --expendable-pods-priority-cutoff (default -10)
// are expendable and never cause a scale-up
// (https://github.com/kubernetes/autoscaler/blob/master/cluster-autoscaler/FAQ.md#how-does-cluster-autoscaler-work-with-pod-priority-and-preemption),
// and neither AKS's nor GKE's managed autoscaler lets the cutoff change.
//
// A PriorityClass's value is immutable, so the class that was -100
// (flotilla-batch-preemptible) is not updated: this class has a new name, and the old
// one is deleted once this one exists.
const PriorityBatchValue = -10

// Object names inside each team namespace.
const (
	quotaName         = "flotilla-quota"
	limitRangeName    = "flotilla-defaults"
	networkPolicyName = "default-deny"
	deployBindingName = "flotilla-deploy"
)

// namespaceQuota is every team namespace's ResourceQuota: generous enough for a
// service, small enough that one namespace cannot starve a cluster.
var namespaceQuota = map[string]string{
	"requests.cpu":           "16",
	"requests.memory":        "32Gi",
	"limits.cpu":             "32",
	"limits.memory":          "64Gi",
	"pods":                   "200",
	"services.loadbalancers": "2",
	"persistentvolumeclaims": "20",
}

// Container defaults from the LimitRange. Every container gets requests, so the
// scheduler can pack nodes densely, and limits, so the quota's limits.* can be met. A
// container asking for more than a default limit must set its own limits.
var (
	containerDefaultRequest = map[string]string{"cpu": "100m", "memory": "128Mi"}
	containerDefaultLimit   = map[string]string{"cpu": "1", "memory": "512Mi"}
)

// reservedNamespaces belong to Kubernetes or to Flotilla itself.
var reservedNamespaces = map[string]bool{
	"default": true, "kube-system": true, "kube-public": true, "kube-node-lease": true, SystemNamespace: true,
}

// Args configures an EnvironmentSet.
type Args struct {
	Set         Set
	Environment string // the environment of Set these clusters belong to
	// Clusters to configure; those without a KubeProvider are skipped.
	Clusters []*cluster.Cluster
	Teams    []Team
	Tags     costtags.Tags // cost tags; each team's namespaces add team=<team>
}

// EnvironmentSet is the in-cluster configuration of one environment across its clusters.
type EnvironmentSet struct{ pulumi.ResourceState }

// teamPlan is one team's resolved configuration in the environment.
type teamPlan struct {
	team   Team
	access Access // effective; empty when the team has none here
	labels map[string]string
	// podSecurity is the level enforced on the team's namespaces here.
	podSecurity PodSecurity
}

// clusterPlan is a cluster to configure and the key its resource names derive from.
type clusterPlan struct {
	key      string
	cloud    cluster.Cloud
	provider pulumi.ProviderResource
	// cloudProvider and name are the cluster's cloud provider and name, which EKS
	// access entries take.
	cloudProvider pulumi.ProviderResource
	name          pulumi.StringOutput
	// googleSecurityGroup is a GKE cluster's Google Groups for RBAC group; empty, GKE
	// resolves no Google Group.
	googleSecurityGroup string
}

type plan struct {
	env      Environment
	teams    []teamPlan
	clusters []clusterPlan
	skipped  []string
}

// New creates, in every cluster of args.Clusters that has a KubeProvider: the teams'
// namespaces with their cost labels, least-privilege RBAC for the environment, a
// ResourceQuota, a LimitRange and a default-deny NetworkPolicy per namespace, the deploy
// identity, the break-glass group and the PriorityClasses. It validates args first and
// registers nothing when they are invalid.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*EnvironmentSet, error) {
	p, err := newPlan(args)
	if err != nil {
		return nil, fmt.Errorf("envset %q: %w", name, err)
	}

	es := &EnvironmentSet{}
	if err := ctx.RegisterComponentResource("flotilla:envset:EnvironmentSet", name, es, opts...); err != nil {
		return nil, err
	}
	for _, key := range p.skipped {
		_ = ctx.Log.Info(fmt.Sprintf("envset %q: cluster %s has no Kubernetes provider; skipped", name, key), &pulumi.LogArgs{Resource: es})
	}

	var namespaces []string
	for _, c := range p.clusters {
		d := deployer{ctx: ctx, prefix: name + "-" + c.key, env: p.env, cloud: c.cloud,
			opts: []pulumi.ResourceOption{pulumi.Parent(es), pulumi.Provider(c.provider)}}
		if err := d.cluster(p.teams); err != nil {
			return nil, fmt.Errorf("envset %q: cluster %s: %w", name, c.key, err)
		}
		if c.cloud == cluster.AWS {
			if err := d.accessEntries(c, awsAccessEntries(p.teams), es); err != nil {
				return nil, fmt.Errorf("envset %q: cluster %s: %w", name, c.key, err)
			}
		}
	}
	for _, t := range p.teams {
		namespaces = append(namespaces, t.team.Namespaces...)
	}
	sort.Strings(namespaces)

	clusters := make([]string, 0, len(p.clusters))
	for _, c := range p.clusters {
		clusters = append(clusters, c.key)
	}
	if err := ctx.RegisterResourceOutputs(es, pulumi.Map{
		"environment": pulumi.String(p.env.Name),
		"namespaces":  pulumi.ToStringArray(namespaces),
		"clusters":    pulumi.ToStringArray(clusters),
	}); err != nil {
		return nil, fmt.Errorf("envset %q: %w", name, err)
	}
	return es, nil
}

// newPlan validates args and resolves everything New needs, reporting every problem.
func newPlan(args *Args) (*plan, error) {
	if args == nil {
		return nil, errors.New("args are required")
	}
	var problems []error
	if err := args.Set.Validate(); err != nil {
		problems = append(problems, err)
	}
	p := &plan{}
	env, ok := args.Set.Get(args.Environment)
	switch {
	case args.Environment == "":
		problems = append(problems, fmt.Errorf("no environment given; pick one of %s", quoted(args.Set.Names())))
	case !ok:
		problems = append(problems, fmt.Errorf("unknown environment %q; the set has %s", args.Environment, quoted(args.Set.Names())))
	}
	p.env = env

	teams, errs := planTeams(args, env)
	p.teams = teams
	problems = append(problems, errs...)

	keys := map[string]int{}
	for i, c := range args.Clusters {
		if c == nil {
			problems = append(problems, fmt.Errorf("clusters[%d] is nil", i))
			continue
		}
		key := clusterKey(c, i)
		keys[key]++
		if n := keys[key]; n > 1 {
			key = fmt.Sprintf("%s-%d", key, n)
		}
		if c.KubeProvider == nil {
			p.skipped = append(p.skipped, key)
			continue
		}
		cp := clusterPlan{key: key, cloud: c.Cloud, provider: c.KubeProvider, cloudProvider: c.Provider, name: c.Name}
		if c.GCP != nil {
			cp.googleSecurityGroup = c.GCP.GoogleSecurityGroup
		}
		p.clusters = append(p.clusters, cp)
	}
	problems = append(problems, checkClusterIdentity(p.teams, p.clusters)...)
	if len(problems) > 0 {
		return nil, errors.Join(problems...)
	}
	return p, nil
}

func planTeams(args *Args, env Environment) ([]teamPlan, []error) {
	var problems []error
	var out []teamPlan
	teamNames := map[string]bool{}
	owner := map[string]string{} // namespace -> team
	for i, t := range args.Teams {
		who := fmt.Sprintf("team %q", t.Name)
		switch {
		case t.Name == "":
			who = fmt.Sprintf("team #%d", i+1)
			problems = append(problems, fmt.Errorf("%s has no name", who))
		case teamNames[t.Name]:
			problems = append(problems, fmt.Errorf("%s is defined more than once", who))
		case GroupPrefix+t.Name == BreakGlassGroup:
			problems = append(problems, fmt.Errorf("%s: the name is reserved for the break-glass group %q", who, BreakGlassGroup))
		default:
			if err := checkDNSLabel(t.Name); err != nil {
				problems = append(problems, fmt.Errorf("%s: name %w", who, err))
			}
		}
		teamNames[t.Name] = true

		if len(t.Namespaces) == 0 {
			problems = append(problems, fmt.Errorf("%s has no namespaces", who))
		}
		for _, ns := range t.Namespaces {
			if err := checkDNSLabel(ns); err != nil {
				problems = append(problems, fmt.Errorf("%s: namespace %w", who, err))
				continue
			}
			if reservedNamespaces[ns] {
				problems = append(problems, fmt.Errorf("%s: namespace %q is reserved; pick another name", who, ns))
				continue
			}
			if prev, ok := owner[ns]; ok {
				if prev == t.Name {
					problems = append(problems, fmt.Errorf("%s lists namespace %q twice", who, ns))
				} else {
					problems = append(problems, fmt.Errorf("namespace %q belongs to both team %q and team %q; a namespace has one owner", ns, prev, t.Name))
				}
				continue
			}
			owner[ns] = t.Name
		}

		envs := make([]string, 0, len(t.Access))
		for e := range t.Access {
			envs = append(envs, e)
		}
		sort.Strings(envs)
		for _, e := range envs {
			if _, ok := args.Set.Get(e); !ok {
				problems = append(problems, fmt.Errorf("%s: access for unknown environment %q; the set has %s", who, e, quoted(args.Set.Names())))
			}
			if a := t.Access[e]; !a.valid() {
				problems = append(problems, fmt.Errorf("%s: access %q in environment %q is not one of %q, %q or %q", who, a, e, AccessView, AccessEdit, AccessAdmin))
			}
		}

		tags := costtags.Tags{}
		for k, v := range args.Tags {
			tags[k] = v
		}
		tags["team"] = t.Name
		costLabels, err := costtags.ForKubernetes(tags)
		if err != nil {
			problems = append(problems, fmt.Errorf("%s: cost labels: %w", who, err))
		}
		labels := map[string]string{}
		for k, v := range costLabels {
			labels[k] = v
		}
		labels[LabelTeam] = t.Name
		labels[LabelEnvironment] = env.Name
		labels[labelManagedBy] = "flotilla"

		problems = append(problems, checkPodSecurity(who, t, args.Set)...)
		problems = append(problems, checkIdentity(who, t.Identity)...)

		access, _ := effectiveAccess(env, t)
		out = append(out, teamPlan{team: t, access: access, labels: labels, podSecurity: podSecurityFor(env, t)})
	}
	return out, problems
}

// clusterKey names a cluster's resources: its Pulumi name when it was registered,
// else its cloud and region. Keys stay stable when other clusters come and go.
func clusterKey(c *cluster.Cluster, index int) string {
	if n := c.PulumiResourceName(); n != "" {
		return n
	}
	var parts []string
	for _, s := range []string{string(c.Cloud), c.Region} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		return fmt.Sprintf("cluster%d", index)
	}
	return strings.Join(parts, "-")
}

func quoted(ss []string) string {
	if len(ss) == 0 {
		return "no environments"
	}
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

// deployer registers one cluster's resources.
type deployer struct {
	ctx    *pulumi.Context
	prefix string
	env    Environment
	cloud  cluster.Cloud
	opts   []pulumi.ResourceOption
}

func (d deployer) meta(name string, namespace pulumi.StringPtrInput, labels map[string]string) *metav1.ObjectMetaArgs {
	l := map[string]string{labelManagedBy: "flotilla", LabelEnvironment: d.env.Name}
	for k, v := range labels {
		l[k] = v
	}
	return &metav1.ObjectMetaArgs{Name: pulumi.String(name), Namespace: namespace, Labels: pulumi.ToStringMap(l)}
}

func (d deployer) cluster(teams []teamPlan) error {
	ctx, opts := d.ctx, d.opts

	system, err := corev1.NewNamespace(ctx, d.prefix+"-"+SystemNamespace, &corev1.NamespaceArgs{
		Metadata: d.meta(SystemNamespace, nil, nil),
	}, opts...)
	if err != nil {
		return err
	}
	sa, err := corev1.NewServiceAccount(ctx, d.prefix+"-deploy", &corev1.ServiceAccountArgs{
		Metadata: d.meta(DeployServiceAccount, system.Metadata.Name(), nil),
	}, opts...)
	if err != nil {
		return err
	}
	deploySubject := rbacv1.SubjectArray{rbacv1.SubjectArgs{
		Kind: pulumi.String("ServiceAccount"), Name: sa.Metadata.Name().Elem(), Namespace: sa.Metadata.Namespace(),
	}}

	deployRole, err := rbacv1.NewClusterRole(ctx, d.prefix+"-deploy", &rbacv1.ClusterRoleArgs{
		Metadata: d.meta(DeployServiceAccount, nil, nil),
		Rules:    policyRules(deployClusterRules),
	}, opts...)
	if err != nil {
		return err
	}
	if _, err := rbacv1.NewClusterRoleBinding(ctx, d.prefix+"-deploy", &rbacv1.ClusterRoleBindingArgs{
		Metadata: d.meta(DeployServiceAccount, nil, nil),
		RoleRef:  clusterRoleRef(deployRole),
		Subjects: deploySubject,
	}, opts...); err != nil {
		return err
	}

	breakGlass, err := rbacv1.NewClusterRole(ctx, d.prefix+"-break-glass", &rbacv1.ClusterRoleArgs{
		Metadata: d.meta("flotilla-break-glass", nil, nil),
		Rules:    breakGlassRules,
	}, opts...)
	if err != nil {
		return err
	}
	if _, err := rbacv1.NewClusterRoleBinding(ctx, d.prefix+"-break-glass", &rbacv1.ClusterRoleBindingArgs{
		Metadata: d.meta("flotilla-break-glass", nil, nil),
		RoleRef:  clusterRoleRef(breakGlass),
		Subjects: groupSubject(BreakGlassGroup),
	}, opts...); err != nil {
		return err
	}

	if err := d.priorityClasses(); err != nil {
		return err
	}
	for _, t := range teams {
		for _, ns := range t.team.Namespaces {
			if err := d.namespace(t, ns, deploySubject); err != nil {
				return fmt.Errorf("namespace %q: %w", ns, err)
			}
		}
	}
	return nil
}

func (d deployer) priorityClasses() error {
	classes := []struct {
		name, suffix, description, preemption string
		value                                 int
	}{
		{PriorityPlatform, "platform", "Flotilla platform add-ons.", "PreemptLowerPriority", 1000000},
		{PriorityDefault, "default", "Services; opt in with priorityClassName.", "PreemptLowerPriority", 1000},
		{PriorityBatch, "batch", "Batch work: preempted by every other pod, never preempts; still scales pools up.", "Never", PriorityBatchValue},
	}
	// A class whose Kubernetes name changes (flotilla-batch-preemptible became
	// flotilla-batch) is replaced under its Pulumi name: the new object is created
	// first, and the old one, which has another name, is deleted after it.
	for _, c := range classes {
		if _, err := schedulingv1.NewPriorityClass(d.ctx, d.prefix+"-priority-"+c.suffix, &schedulingv1.PriorityClassArgs{
			Metadata:         d.meta(c.name, nil, nil),
			Value:            pulumi.Int(c.value),
			GlobalDefault:    pulumi.Bool(false),
			PreemptionPolicy: pulumi.String(c.preemption),
			Description:      pulumi.String(c.description),
		}, d.opts...); err != nil {
			return err
		}
	}
	return nil
}

// namespace creates one team namespace and everything inside it.
func (d deployer) namespace(t teamPlan, name string, deploySubject rbacv1.SubjectArray) error {
	ctx, opts := d.ctx, d.opts
	base := d.prefix + "-" + name

	// Deleting a namespace deletes every workload in it: protected environments keep theirs.
	nsOpts := opts
	if d.env.Protected {
		nsOpts = append(append([]pulumi.ResourceOption(nil), opts...), pulumi.Protect(true))
	}
	nsLabels := podSecurityLabels(t.podSecurity)
	for k, v := range t.labels {
		nsLabels[k] = v
	}
	ns, err := corev1.NewNamespace(ctx, base, &corev1.NamespaceArgs{
		Metadata: d.meta(name, nil, nsLabels),
	}, nsOpts...)
	if err != nil {
		return err
	}
	namespace := ns.Metadata.Name()
	labels := map[string]string{LabelTeam: t.team.Name}

	roles := map[Access]*rbacv1.Role{}
	role := func(a Access) (*rbacv1.Role, error) {
		if r, ok := roles[a]; ok {
			return r, nil
		}
		r, err := rbacv1.NewRole(ctx, base+"-role-"+string(a), &rbacv1.RoleArgs{
			Metadata: d.meta("flotilla-"+string(a), namespace, labels),
			Rules:    policyRules(rulesFor(a)),
		}, opts...)
		roles[a] = r
		return r, err
	}

	// The deploy identity is admin in every team namespace, in every environment.
	admin, err := role(AccessAdmin)
	if err != nil {
		return err
	}
	if _, err := rbacv1.NewRoleBinding(ctx, base+"-deploy", &rbacv1.RoleBindingArgs{
		Metadata: d.meta(deployBindingName, namespace, labels),
		RoleRef:  roleRef(admin),
		Subjects: deploySubject,
	}, opts...); err != nil {
		return err
	}
	if t.access != "" {
		r, err := role(t.access)
		if err != nil {
			return err
		}
		if _, err := rbacv1.NewRoleBinding(ctx, base+"-team", &rbacv1.RoleBindingArgs{
			Metadata: d.meta("flotilla-team-"+t.team.Name, namespace, labels),
			RoleRef:  roleRef(r),
			Subjects: teamSubjects(d.cloud, t.team),
		}, opts...); err != nil {
			return err
		}
	}

	if _, err := corev1.NewResourceQuota(ctx, base+"-quota", &corev1.ResourceQuotaArgs{
		Metadata: d.meta(quotaName, namespace, labels),
		Spec:     &corev1.ResourceQuotaSpecArgs{Hard: pulumi.ToStringMap(namespaceQuota)},
	}, opts...); err != nil {
		return err
	}
	if _, err := corev1.NewLimitRange(ctx, base+"-limits", &corev1.LimitRangeArgs{
		Metadata: d.meta(limitRangeName, namespace, labels),
		Spec: &corev1.LimitRangeSpecArgs{Limits: corev1.LimitRangeItemArray{corev1.LimitRangeItemArgs{
			Type:           pulumi.String("Container"),
			DefaultRequest: pulumi.ToStringMap(containerDefaultRequest),
			Default:        pulumi.ToStringMap(containerDefaultLimit),
		}}},
	}, opts...); err != nil {
		return err
	}
	_, err = networkingv1.NewNetworkPolicy(ctx, base+"-default-deny", &networkingv1.NetworkPolicyArgs{
		Metadata: d.meta(networkPolicyName, namespace, labels),
		Spec:     defaultDeny(),
	}, opts...)
	return err
}

// defaultDeny denies all traffic in and out of a namespace's pods except among
// themselves and DNS to kube-system, where the cluster DNS runs on every cloud.
func defaultDeny() *networkingv1.NetworkPolicySpecArgs {
	samePods := networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{PodSelector: &metav1.LabelSelectorArgs{}}}
	return &networkingv1.NetworkPolicySpecArgs{
		PodSelector: &metav1.LabelSelectorArgs{},
		PolicyTypes: pulumi.ToStringArray([]string{"Ingress", "Egress"}),
		Ingress:     networkingv1.NetworkPolicyIngressRuleArray{networkingv1.NetworkPolicyIngressRuleArgs{From: samePods}},
		Egress: networkingv1.NetworkPolicyEgressRuleArray{
			networkingv1.NetworkPolicyEgressRuleArgs{To: samePods},
			networkingv1.NetworkPolicyEgressRuleArgs{
				To: networkingv1.NetworkPolicyPeerArray{networkingv1.NetworkPolicyPeerArgs{
					NamespaceSelector: &metav1.LabelSelectorArgs{
						MatchLabels: pulumi.StringMap{"kubernetes.io/metadata.name": pulumi.String("kube-system")},
					},
				}},
				Ports: networkingv1.NetworkPolicyPortArray{
					networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("UDP"), Port: pulumi.Int(53)},
					networkingv1.NetworkPolicyPortArgs{Protocol: pulumi.String("TCP"), Port: pulumi.Int(53)},
				},
			},
		},
	}
}

func roleRef(r *rbacv1.Role) rbacv1.RoleRefArgs {
	return rbacv1.RoleRefArgs{
		ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Role"), Name: r.Metadata.Name().Elem(),
	}
}

func clusterRoleRef(r *rbacv1.ClusterRole) rbacv1.RoleRefArgs {
	return rbacv1.RoleRefArgs{
		ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("ClusterRole"), Name: r.Metadata.Name().Elem(),
	}
}

func groupSubject(group string) rbacv1.SubjectArray {
	return rbacv1.SubjectArray{rbacv1.SubjectArgs{
		ApiGroup: pulumi.String("rbac.authorization.k8s.io"), Kind: pulumi.String("Group"), Name: pulumi.String(group),
	}}
}
