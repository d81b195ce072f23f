package envset

import (
	"fmt"
	"regexp"

	rbacv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/rbac/v1"

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
