package envset

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/eks"
	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/flotilla-io/flotilla/components/cluster"
)

// TeamIdentity is who holds a team's access on each cloud. Kubernetes has no users of
// its own: the cloud's authenticator names the groups a request belongs to, so a team's
// RoleBinding must name a group that the cloud actually puts its members in.
type TeamIdentity struct {
	// AWSRoleARNs are the IAM roles whose sessions are the team on EKS. The cluster's
	// EKS access entries map each of them to the Kubernetes group flotilla:<team>
	// (https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html), which the
	// team's RoleBinding names.
	AWSRoleARNs []string
	// GoogleGroup is the team's Google Group email on GKE. With Google Groups for RBAC
	// (the cluster's authenticatorGroupsConfig, the group nested in
	// gke-security-groups@<domain>), GKE names the group by its email, so the
	// RoleBinding names it too
	// (https://cloud.google.com/kubernetes-engine/docs/how-to/google-groups-rbac).
	GoogleGroup string
	// EntraGroupID is the object id of the team's Microsoft Entra ID group on AKS. With
	// AKS-managed Entra ID integration, a token's groups are object ids, so the
	// RoleBinding names the id
	// (https://learn.microsoft.com/azure/aks/azure-ad-rbac).
	EntraGroupID string
}

var (
	// iamRoleARN is an IAM role's ARN, in any partition.
	iamRoleARN = regexp.MustCompile(`^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$`)
	// groupEmail is a Google Group's address.
	groupEmail = regexp.MustCompile(`^[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$`)
	// objectID is an Entra ID object id: a GUID.
	objectID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

func checkIdentity(who string, id TeamIdentity) []error {
	var problems []error
	for _, arn := range id.AWSRoleARNs {
		if !iamRoleARN.MatchString(arn) {
			problems = append(problems, fmt.Errorf("%s: AWS role %q is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)", who, arn))
		}
	}
	if id.GoogleGroup != "" && !groupEmail.MatchString(id.GoogleGroup) {
		problems = append(problems, fmt.Errorf("%s: Google Group %q is not an email address; GKE names groups by their email", who, id.GoogleGroup))
	}
	if id.EntraGroupID != "" && !objectID.MatchString(id.EntraGroupID) {
		problems = append(problems, fmt.Errorf("%s: Entra group %q is not an object id (a GUID); AKS names groups by their object id, not their display name", who, id.EntraGroupID))
	}
	return problems
}

// teamSubjects are the groups a team's RoleBinding names on a cluster of cloud: the
// Kubernetes group flotilla:<team> everywhere (EKS access entries and OIDC
// authenticators put members there), plus the group the cloud itself names: the Google
// Group's email on GKE, the Entra group's object id on AKS.
func teamSubjects(cloud cluster.Cloud, team Team) rbacv1.SubjectArray {
	groups := []string{GroupPrefix + team.Name}
	switch {
	case cloud == cluster.GCP && team.Identity.GoogleGroup != "":
		groups = append(groups, team.Identity.GoogleGroup)
	case cloud == cluster.Azure && team.Identity.EntraGroupID != "":
		groups = append(groups, team.Identity.EntraGroupID)
	}
	var out rbacv1.SubjectArray
	for _, g := range groups {
		out = append(out, groupSubject(g)...)
	}
	return out
}

// awsAccessEntry is one IAM role's EKS access entry on a cluster. EKS takes one entry
// per principal and cluster ("You can't specify the same ARN in more than one access
// entry", https://docs.aws.amazon.com/eks/latest/APIReference/API_CreateAccessEntry.html),
// so teams that share a role share its entry, which puts the role's sessions in each
// team's group.
type awsAccessEntry struct {
	roleARN string
	groups  []string // flotilla:<team>, sorted
}

// awsAccessEntries are the access entries of a cluster in the environment: one per IAM
// role of the teams that the environment grants access. A team without access here
// gets no entry: its group would be bound to nothing.
func awsAccessEntries(teams []teamPlan) []awsAccessEntry {
	byRole := map[string][]string{}
	for _, t := range teams {
		if t.access == "" {
			continue
		}
		group := GroupPrefix + t.team.Name
		for _, arn := range t.team.Identity.AWSRoleARNs {
			if !slices.Contains(byRole[arn], group) {
				byRole[arn] = append(byRole[arn], group)
			}
		}
	}
	out := make([]awsAccessEntry, 0, len(byRole))
	for arn, groups := range byRole {
		sort.Strings(groups)
		out = append(out, awsAccessEntry{roleARN: arn, groups: groups})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].roleARN < out[j].roleARN })
	return out
}

// accessEntryKey names a role's access entry after its account and role (path
// included), which identify it within a partition.
func accessEntryKey(arn string) string {
	// arn:<partition>:iam::<account>:role/<path/name>
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 {
		return arn
	}
	return parts[4] + "-" + strings.TrimPrefix(parts[5], "role/")
}

// checkClusterIdentity refuses, before anything registers, team identities that a
// cluster cannot honour: a Google Group on a GKE cluster that resolves no Google Groups
// (its RoleBinding would match no one), and IAM roles on an EKS cluster that does not say
// which provider and name its access entries take.
func checkClusterIdentity(teams []teamPlan, clusters []clusterPlan) []error {
	var problems []error
	for _, c := range clusters {
		switch c.cloud {
		case cluster.GCP:
			if c.googleSecurityGroup != "" {
				continue
			}
			for _, t := range teams {
				if t.access == "" || t.team.Identity.GoogleGroup == "" {
					continue
				}
				problems = append(problems, fmt.Errorf("team %q: Google Group %q would match no one on GKE cluster %s, which resolves no Google Groups: "+
					"set the cluster's Auth.GoogleSecurityGroup to gke-security-groups@<your domain> and make %q a member of that group "+
					"(https://cloud.google.com/kubernetes-engine/docs/how-to/google-groups-rbac)", t.team.Name, t.team.Identity.GoogleGroup, c.key, t.team.Identity.GoogleGroup))
			}
		case cluster.AWS:
			if len(awsAccessEntries(teams)) == 0 {
				continue
			}
			if c.cloudProvider == nil || c.name.OutputState == nil {
				problems = append(problems, fmt.Errorf("cluster %s has no AWS provider or name (Cluster.Provider, Cluster.Name), which the EKS access entries of the teams' IAM roles need: pass the cluster that cluster.New returned", c.key))
			}
		}
	}
	return problems
}

// accessEntries registers the EKS access entries that map the teams' IAM roles to their
// groups flotilla:<team>, which the teams' RoleBindings name. The cluster authenticates
// with access entries (accessConfig API_AND_CONFIG_MAP, package cluster), and a
// STANDARD entry with kubernetesGroups leaves authorization to Kubernetes RBAC
// (https://docs.aws.amazon.com/eks/latest/userguide/access-entries.html). The role that
// created the cluster already has an entry of its own and cannot be given a second one.
func (d deployer) accessEntries(c clusterPlan, entries []awsAccessEntry, parent pulumi.Resource) error {
	for _, e := range entries {
		if _, err := eks.NewAccessEntry(d.ctx, d.prefix+"-access-"+accessEntryKey(e.roleARN), &eks.AccessEntryArgs{
			ClusterName:      c.name,
			PrincipalArn:     pulumi.String(e.roleARN),
			KubernetesGroups: pulumi.ToStringArray(e.groups),
			Type:             pulumi.String("STANDARD"),
		}, pulumi.Parent(parent), pulumi.Provider(c.cloudProvider)); err != nil {
			return fmt.Errorf("access entry for %q: %w", e.roleARN, err)
		}
	}
	return nil
}
