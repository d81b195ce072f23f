package geofleet

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	azurenative "github.com/pulumi/pulumi-azure-native-sdk/v2"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/flotilla-io/flotilla/components/cluster"
	fleetsim "github.com/flotilla-io/flotilla/internal/fleetsim/sdk"
)

var (
	// awsAccountID is an AWS account id: twelve digits.
	awsAccountID = regexp.MustCompile(`^[0-9]{12}$`)
	// gcpProjectID is a GCP project id: 6 to 30 lowercase letters, digits and hyphens,
	// starting with a letter and not ending with a hyphen
	// (https://cloud.google.com/resource-manager/docs/creating-managing-projects).
	gcpProjectID = regexp.MustCompile(`^[a-z][-a-z0-9]{4,28}[a-z0-9]$`)
	// azureSubscriptionID is an Azure subscription id: a GUID.
	azureSubscriptionID = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// assumeRole is the stack config aws:assumeRole (pulumi-aws v6 takes one role).
type assumeRole struct {
	RoleArn           string            `json:"roleArn"`
	SessionName       string            `json:"sessionName"`
	ExternalID        string            `json:"externalId"`
	Duration          string            `json:"duration"`
	Policy            string            `json:"policy"`
	PolicyArns        []string          `json:"policyArns"`
	SourceIdentity    string            `json:"sourceIdentity"`
	Tags              map[string]string `json:"tags"`
	TransitiveTagKeys []string          `json:"transitiveTagKeys"`
}

// credentials are the stack's provider settings that explicit providers do not read
// by themselves, with the environment's account enforced on each cloud.
type credentials struct {
	awsProfile        string
	awsAssumeRole     *assumeRole
	awsAllowed        []string // allowedAccountIds
	gcpProject        string
	azureSubscription string
}

// readCredentials reads the stack's aws, gcp and azure-native settings for the clouds
// the fleet uses, and checks them against accounts, the environment's account on each
// cloud (Args.Accounts): the AWS provider is pinned to it with allowedAccountIds, the GCP
// provider's project and the Azure provider's subscription are it, and a stack whose own
// setting names another account is refused, so that one environment's stack cannot
// deploy into another's account.
func readCredentials(ctx *pulumi.Context, accounts map[cluster.Cloud]string, clouds map[cluster.Cloud]bool) (credentials, []error) {
	var c credentials
	var problems []error
	get := func(key string) string { v, _ := ctx.GetConfig(key); return v }

	if clouds[cluster.AWS] {
		c.awsProfile = get("aws:profile")
		if v := get("aws:assumeRole"); v != "" {
			var r assumeRole
			if err := json.Unmarshal([]byte(v), &r); err != nil {
				problems = append(problems, fmt.Errorf("stack config aws:assumeRole: %w", err))
			} else {
				c.awsAssumeRole = &r
			}
		}
		if v := get("aws:assumeRoles"); v != "" {
			var rs []assumeRole
			switch err := json.Unmarshal([]byte(v), &rs); {
			case err != nil:
				problems = append(problems, fmt.Errorf("stack config aws:assumeRoles: %w", err))
			case len(rs) > 1 || c.awsAssumeRole != nil && len(rs) > 0:
				problems = append(problems, fmt.Errorf("stack config aws:assumeRoles: the AWS provider (pulumi-aws v6) assumes one role; give one, in aws:assumeRole or aws:assumeRoles"))
			case len(rs) == 1:
				c.awsAssumeRole = &rs[0]
			}
		}
		if v := get("aws:allowedAccountIds"); v != "" {
			if err := json.Unmarshal([]byte(v), &c.awsAllowed); err != nil {
				problems = append(problems, fmt.Errorf("stack config aws:allowedAccountIds: %w", err))
			}
		}
		if account := accounts[cluster.AWS]; account != "" {
			switch {
			case !awsAccountID.MatchString(account):
				problems = append(problems, fmt.Errorf("account %q is not an AWS account id (twelve digits); set the environment's account (accounts.aws) to the account its EKS clusters live in", account))
			case len(c.awsAllowed) > 0 && !slices.Contains(c.awsAllowed, account):
				problems = append(problems, fmt.Errorf("stack config aws:allowedAccountIds %q does not include the environment's account %q: this stack would deploy into another environment's account; fix the stack config or the environment", c.awsAllowed, account))
			default:
				c.awsAllowed = []string{account}
			}
		}
	}

	if clouds[cluster.GCP] {
		c.gcpProject = get("gcp:project")
		if account := accounts[cluster.GCP]; account != "" {
			switch {
			case !gcpProjectID.MatchString(account):
				problems = append(problems, fmt.Errorf("account %q is not a GCP project id; set the environment's account (accounts.gcp) to the project its GKE clusters live in", account))
			case c.gcpProject != "" && c.gcpProject != account:
				problems = append(problems, fmt.Errorf("stack config gcp:project %q is not the environment's account %q: this stack would deploy into another environment's project; fix the stack config or the environment", c.gcpProject, account))
			default:
				c.gcpProject = account
			}
		}
	}

	if clouds[cluster.Azure] {
		c.azureSubscription = get("azure-native:subscriptionId")
		if account := accounts[cluster.Azure]; account != "" {
			switch {
			case !azureSubscriptionID.MatchString(account):
				problems = append(problems, fmt.Errorf("account %q is not an Azure subscription id (a GUID); set the environment's account (accounts.azure) to the subscription its AKS clusters live in", account))
			case c.azureSubscription != "" && c.azureSubscription != account:
				problems = append(problems, fmt.Errorf("stack config azure-native:subscriptionId %q is not the environment's account %q: this stack would deploy into another environment's subscription; fix the stack config or the environment", c.azureSubscription, account))
			default:
				c.azureSubscription = account
			}
		}
	}
	return c, problems
}

func (r *assumeRole) args() aws.ProviderAssumeRolePtrInput {
	if r == nil {
		return nil
	}
	opt := func(s string) pulumi.StringPtrInput {
		if s == "" {
			return nil
		}
		return pulumi.String(s)
	}
	a := aws.ProviderAssumeRoleArgs{
		RoleArn:        opt(r.RoleArn),
		SessionName:    opt(r.SessionName),
		ExternalId:     opt(r.ExternalID),
		Duration:       opt(r.Duration),
		Policy:         opt(r.Policy),
		SourceIdentity: opt(r.SourceIdentity),
	}
	if len(r.PolicyArns) > 0 {
		a.PolicyArns = pulumi.ToStringArray(r.PolicyArns)
	}
	if len(r.Tags) > 0 {
		a.Tags = pulumi.ToStringMap(r.Tags)
	}
	if len(r.TransitiveTagKeys) > 0 {
		a.TransitiveTagKeys = pulumi.ToStringArray(r.TransitiveTagKeys)
	}
	return a
}

// newProvider creates the provider that every cluster of one cloud and region shares.
// Explicit providers do not read the stack's provider configuration, so the settings
// a default provider would take from it (credentials, project, subscription) are
// passed on from creds. The simulator's provider finds its daemon through the
// environment of the Pulumi CLI.
func newProvider(ctx *pulumi.Context, name string, cloud cluster.Cloud, region string, creds credentials, opts ...pulumi.ResourceOption) (pulumi.ProviderResource, error) {
	switch cloud {
	case cluster.AWS:
		args := &aws.ProviderArgs{Region: pulumi.String(region), AssumeRole: creds.awsAssumeRole.args()}
		if creds.awsProfile != "" {
			args.Profile = pulumi.String(creds.awsProfile)
		}
		if len(creds.awsAllowed) > 0 {
			args.AllowedAccountIds = pulumi.ToStringArray(creds.awsAllowed)
		}
		return aws.NewProvider(ctx, name, args, opts...)
	case cluster.GCP:
		args := &gcp.ProviderArgs{Region: pulumi.String(region)}
		if creds.gcpProject != "" {
			args.Project = pulumi.String(creds.gcpProject)
		}
		return gcp.NewProvider(ctx, name, args, opts...)
	case cluster.Azure:
		args := &azurenative.ProviderArgs{Location: pulumi.String(region)}
		if creds.azureSubscription != "" {
			args.SubscriptionId = pulumi.String(creds.azureSubscription)
		}
		return azurenative.NewProvider(ctx, name, args, opts...)
	case cluster.Sim:
		return fleetsim.NewProvider(ctx, name, &fleetsim.ProviderArgs{}, opts...)
	}
	return nil, fmt.Errorf("cloud %q has no provider", cloud)
}
