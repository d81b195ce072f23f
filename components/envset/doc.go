// Package envset defines Flotilla's environments (the promotion path and its gates)
// and configures each environment's clusters: team namespaces, least-privilege RBAC,
// quotas, container defaults, network isolation and priority classes.
//
//	set, err := envset.Load("stacks/environments.yaml") // or envset.Default()
//	if err != nil {
//		return err
//	}
//	_, err = envset.New(ctx, "prod", &envset.Args{
//		Set:         set,
//		Environment: "prod",
//		Clusters:    fleet.Clusters, // those without a KubeProvider are skipped
//		Teams: []envset.Team{{
//			Name:       "payments",
//			Namespaces: []string{"payments", "payments-jobs"},
//			Access:     map[string]envset.Access{"dev": envset.AccessEdit, "prod": envset.AccessView},
//		}},
//		Tags: costtags.Tags{"cost-center": "cc-42"},
//	})
//
// # What each cluster gets
//
// Per team namespace: the Namespace, labelled with the cost labels of Tags plus
// team=<team> and with flotilla.io/team and flotilla.io/environment; Roles
// flotilla-<access>; a RoleBinding of the team's group to its Role; a RoleBinding of
// the deploy identity to flotilla-admin; the ResourceQuota flotilla-quota; the
// LimitRange flotilla-defaults; and the NetworkPolicy default-deny. In Protected
// environments team namespaces carry Pulumi's protect option.
//
// Team namespaces carry Pod Security Admission labels: pod-security.kubernetes.io/enforce
// is restricted in production and baseline elsewhere (Team.PodSecurity changes it per
// environment), and audit and warn are restricted everywhere.
//
// Per cluster: the namespace flotilla-system with the ServiceAccount flotilla-deploy
// (the deploy identity) and its read-only ClusterRole; the ClusterRole
// flotilla-break-glass bound to the group flotilla:break-glass; and the PriorityClasses
// flotilla-platform (1000000), flotilla-default (1000) and flotilla-batch (-10,
// preemptionPolicy Never). None is the global default. flotilla-batch sits at the
// cluster-autoscaler's expendable cutoff (-10 by default, and fixed on AKS and GKE):
// pods below it never cause a scale-up, so batch pods at -10 still scale a spot pool
// up from zero. It replaces flotilla-batch-preemptible (-100), which is deleted once
// flotilla-batch exists; pods that name the old class must name flotilla-batch.
//
// # Access
//
// A team's members must be in the Kubernetes group "flotilla:<team>"; the cluster's
// authenticator (IAM mapping or OIDC) puts them there. Team.Identity names who the team
// is on each cloud: IAM roles that EKS access entries map to "flotilla:<team>", and the
// Google Group email (GKE, Google Groups for RBAC) or Entra group object id (AKS) that
// the team's RoleBinding names as well. On every EKS cluster, each IAM role of a team
// with access in the environment gets an EKS access entry (type STANDARD, through the
// cluster's own AWS provider) whose kubernetesGroups are the groups of every team that
// lists the role; the role that created the cluster has an entry already and cannot be
// listed. A team with a Google Group is refused on a GKE cluster without
// Auth.GoogleSecurityGroup (package cluster), where its binding would match no one.
// A team gets what its Access
// grants in the environment, never more, and nothing where its Access has no entry:
//
//   - view reads workloads, their configuration, events and logs; never secrets.
//   - edit also writes workloads, services, config maps, secrets and volume claims,
//     and may exec into and port-forward to pods.
//   - admin also writes the namespace's network policies, Roles and RoleBindings.
//
// No level may change quotas or limit ranges, and no rule uses a wildcard. In a
// Protected environment every team is clamped to view: only the deploy identity
// (system:serviceaccount:flotilla-system:flotilla-deploy) writes there. The group
// flotilla:break-glass is cluster admin in every environment, and its ClusterRole is
// the only place wildcards appear.
//
// # Guard rails
//
// Every container without its own resources gets requests of 100m CPU and 128Mi and
// limits of 1 CPU and 512Mi, so the scheduler can pack nodes densely; each namespace
// may request at most 16 CPUs and 32Gi (limits 32 and 64Gi) in 200 pods. The
// default-deny policy allows ingress and egress among a namespace's own pods and DNS
// (UDP and TCP 53) to kube-system, nothing else.
//
// # Environments files
//
// Load reads YAML; see Load for the format.
package envset
