package geofleet_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/geofleet"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
)

// Accounts of two environments, as each cloud spells them.
const (
	devAWSAccount   = "111111111111"
	prodAWSAccount  = "222222222222"
	prodGCPProject  = "flotilla-prod"
	devGCPProject   = "flotilla-dev"
	prodAzureSub    = "22222222-2222-2222-2222-222222222222"
	devAzureSub     = "11111111-1111-1111-1111-111111111111"
	roleArn         = "arn:aws:iam::222222222222:role/flotilla-deploy"
	prodAssumeRole  = `{"roleArn":"` + roleArn + `","sessionName":"flotilla","externalId":"x-1"}`
	prodProfileName = "flotilla-prod"
)

func oneCloud(c cluster.Cloud, region, account string) *geofleet.Args {
	return &geofleet.Args{
		Environment: "prod", Version: "1.31", AddressSpace: "10.64.0.0/13",
		Clusters: []geofleet.ClusterSpec{{Cloud: c, Region: region, API: cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24"}}}},
		Accounts: map[cluster.Cloud]string{c: account},
	}
}

// TestProvidersPassTheStackCredentials: every regional provider gets the stack's
// aws:profile, aws:assumeRole, gcp:project and azure-native:subscriptionId, and is
// pinned to the environment's account.
func TestProvidersPassTheStackCredentials(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		cloud  cluster.Cloud
		region string
		acct   string
		config map[string]string
		typ    string
		want   map[string]any
	}{
		{"aws", cluster.AWS, "us-east-1", prodAWSAccount,
			map[string]string{"aws:profile": prodProfileName, "aws:assumeRole": prodAssumeRole, "aws:allowedAccountIds": `["` + prodAWSAccount + `"]`},
			tokAWSProvider, map[string]any{
				"region": "us-east-1", "profile": prodProfileName, "allowedAccountIds": []any{prodAWSAccount},
				"assumeRole": map[string]any{"roleArn": roleArn, "sessionName": "flotilla", "externalId": "x-1"},
			}},
		{"aws assumeRoles with one role", cluster.AWS, "us-east-1", prodAWSAccount,
			map[string]string{"aws:assumeRoles": `[` + prodAssumeRole + `]`},
			tokAWSProvider, map[string]any{
				"region": "us-east-1", "allowedAccountIds": []any{prodAWSAccount},
				"assumeRole": map[string]any{"roleArn": roleArn, "sessionName": "flotilla", "externalId": "x-1"},
			}},
		{"gcp project from the account", cluster.GCP, "europe-west1", prodGCPProject, nil,
			tokGCPProvider, map[string]any{"region": "europe-west1", "project": prodGCPProject}},
		{"azure subscription from the account", cluster.Azure, "westeurope", prodAzureSub,
			map[string]string{"azure-native:subscriptionId": prodAzureSub},
			tokAzProvider, map[string]any{"location": "westeurope", "subscriptionId": prodAzureSub}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := pulumitest.New().FakeClouds()
			require.NoError(t, m.RunWithConfig("prod", tt.config, func(ctx *pulumi.Context) error {
				_, err := geofleet.New(ctx, "prod", oneCloud(tt.cloud, tt.region, tt.acct))
				return err
			}))
			providers := m.ByType(tt.typ)
			require.Len(t, providers, 1)
			got := providers[0].Inputs.Mappable()
			for k, v := range tt.want {
				assert.Equal(t, v, got[k], k)
			}
		})
	}
}

// TestProdStackWithDevAccountIsRefused: a prod stack whose provider settings name dev's
// account is refused before anything registers, on every cloud.
func TestProdStackWithDevAccountIsRefused(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		cloud  cluster.Cloud
		region string
		acct   string
		config map[string]string
		want   string
	}{
		{"aws allowedAccountIds", cluster.AWS, "us-east-1", prodAWSAccount,
			map[string]string{"aws:allowedAccountIds": `["` + devAWSAccount + `"]`},
			`stack config aws:allowedAccountIds ["111111111111"] does not include the environment's account "222222222222"`},
		{"aws account that is not an account id", cluster.AWS, "us-east-1", "flotilla-prod", nil,
			`account "flotilla-prod" is not an AWS account id`},
		{"gcp account that is not a project id", cluster.GCP, "europe-west1", "111111111111", nil,
			`account "111111111111" is not a GCP project id`},
		{"azure account that is not a subscription id", cluster.Azure, "westeurope", "flotilla-prod", nil,
			`account "flotilla-prod" is not an Azure subscription id`},
		{"gcp project", cluster.GCP, "europe-west1", prodGCPProject,
			map[string]string{"gcp:project": devGCPProject},
			`stack config gcp:project "flotilla-dev" is not the environment's account "flotilla-prod"`},
		{"azure subscription", cluster.Azure, "westeurope", prodAzureSub,
			map[string]string{"azure-native:subscriptionId": devAzureSub},
			`stack config azure-native:subscriptionId "11111111-1111-1111-1111-111111111111" is not the environment's account "22222222-2222-2222-2222-222222222222"`},
		{"aws two roles", cluster.AWS, "us-east-1", prodAWSAccount,
			map[string]string{"aws:assumeRoles": `[` + prodAssumeRole + `,` + prodAssumeRole + `]`},
			`the AWS provider (pulumi-aws v6) assumes one role`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := pulumitest.New().FakeClouds()
			err := m.RunWithConfig("prod", tt.config, func(ctx *pulumi.Context) error {
				_, err := geofleet.New(ctx, "prod", oneCloud(tt.cloud, tt.region, tt.acct))
				return err
			})
			require.Error(t, err)
			assert.True(t, geofleet.IsInvalidArgs(err), "%v", err)
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, m.Resources(), "nothing registers")
		})
	}
}

// TestCheckRegistersNothing: Check refuses what New refuses, without registering.
func TestCheckRegistersNothing(t *testing.T) {
	t.Parallel()
	m := pulumitest.New().FakeClouds()
	require.NoError(t, m.RunWithConfig("prod", nil, func(ctx *pulumi.Context) error {
		return geofleet.Check(ctx, "prod", oneCloud(cluster.AWS, "us-east-1", prodAWSAccount))
	}))
	assert.Empty(t, m.Resources())
	err := m.RunWithConfig("prod", map[string]string{"gcp:project": devGCPProject}, func(ctx *pulumi.Context) error {
		return geofleet.Check(ctx, "prod", oneCloud(cluster.GCP, "europe-west1", prodGCPProject))
	})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `stack config gcp:project "flotilla-dev" is not the environment's account "flotilla-prod"`)
}
