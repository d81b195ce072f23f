package stacks_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/envset"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
	"github.com/flotilla-io/flotilla/stacks"
)

const (
	devAccount  = "111111111111"
	prodAccount = "222222222222"
)

// twoAccounts is dev and prod, each in an AWS account of its own.
func twoAccounts(t *testing.T) envset.Set {
	t.Helper()
	set, err := envset.Parse([]byte(`environments:
  - name: dev
    maxConcurrency: 1
    account: "`+devAccount+`"
  - name: prod
    maxConcurrency: 1
    protected: true
    account: "`+prodAccount+`"
`), "environments.yaml")
	require.NoError(t, err)
	return set
}

// awsProdStack is a prod stack with one EKS cluster, as its stack file would hold it.
func awsProdStack(t *testing.T, extra map[string]string) map[string]string {
	t.Helper()
	clusters, err := json.Marshal([]map[string]any{{
		"name": "use1", "cloud": "aws", "region": "us-east-1",
		"api": map[string]any{"allowedCIDRs": []string{"203.0.113.0/24"}},
	}})
	require.NoError(t, err)
	cfg := map[string]string{
		"flotilla:environment":  "prod",
		"flotilla:version":      "1.31",
		"flotilla:addressSpace": "10.64.0.0/13",
		"flotilla:tags":         `{"team":"platform","cost-center":"cc-1001"}`,
		"flotilla:clusters":     string(clusters),
	}
	for k, v := range extra {
		cfg[k] = v
	}
	return cfg
}

// TestProdStackWithDevsAccountIsRefused: a prod stack whose AWS settings name dev's
// account is refused before anything registers, not even the cost tags.
func TestProdStackWithDevsAccountIsRefused(t *testing.T) {
	t.Parallel()
	m := pulumitest.New().FakeClouds()
	err := m.RunWithConfig("prod", awsProdStack(t, map[string]string{
		"aws:allowedAccountIds": `["` + devAccount + `"]`,
	}), stacks.ProgramFor(twoAccounts(t)))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `stack config aws:allowedAccountIds ["111111111111"] does not include the environment's account "222222222222"`)
	assert.Empty(t, m.Resources(), "nothing registers")
}

// TestProdStackIsPinnedToProdsAccount: without settings of its own, the prod stack's AWS
// provider may act in prod's account only, and takes the stack's profile and role.
func TestProdStackIsPinnedToProdsAccount(t *testing.T) {
	t.Parallel()
	m := pulumitest.New().FakeClouds()
	require.NoError(t, m.RunWithConfig("prod", awsProdStack(t, map[string]string{
		"aws:profile":    "prod-deploy",
		"aws:assumeRole": `{"roleArn":"arn:aws:iam::222222222222:role/flotilla-deploy"}`,
	}), stacks.ProgramFor(twoAccounts(t))))
	providers := m.ByType("pulumi:providers:aws")
	require.Len(t, providers, 1)
	in := providers[0].Inputs.Mappable()
	assert.Equal(t, []any{prodAccount}, in["allowedAccountIds"])
	assert.Equal(t, "prod-deploy", in["profile"])
	assert.Equal(t, map[string]any{"roleArn": "arn:aws:iam::222222222222:role/flotilla-deploy"}, in["assumeRole"])
	assert.NotEmpty(t, m.ByType(cluster.TypeToken))
}

// TestStackConfigReachesTheClouds: a cluster's api, a team's identity and pod security
// in the stack file reach the resources: the EKS endpoint's allowed ranges, the team
// role's access entry, the namespace's enforced level.
func TestStackConfigReachesTheClouds(t *testing.T) {
	t.Parallel()
	role := "arn:aws:iam::" + prodAccount + ":role/payments"
	m := pulumitest.New().FakeClouds()
	require.NoError(t, m.RunWithConfig("prod", awsProdStack(t, map[string]string{
		"flotilla:teams": `[{"name":"payments","namespaces":["payments"],"access":{"prod":"view"},` +
			`"podSecurity":{"prod":"baseline"},"identity":{"awsRoleARNs":["` + role + `"]}}]`,
	}), stacks.ProgramFor(twoAccounts(t))))

	eks := m.ByType("aws:eks/cluster:Cluster")
	require.Len(t, eks, 1)
	vpc := eks[0].Inputs["vpcConfig"].ObjectValue()
	assert.Equal(t, []any{"203.0.113.0/24"}, vpc["publicAccessCidrs"].Mappable())

	entries := m.ByType("aws:eks/accessEntry:AccessEntry")
	require.Len(t, entries, 1)
	assert.Equal(t, role, entries[0].Inputs["principalArn"].StringValue())
	assert.Equal(t, []any{"flotilla:payments"}, entries[0].Inputs["kubernetesGroups"].Mappable())

	var labels map[string]any
	for _, ns := range m.ByType("kubernetes:core/v1:Namespace") {
		meta := ns.Inputs["metadata"].ObjectValue()
		if meta["name"].StringValue() == "payments" {
			labels = meta["labels"].Mappable().(map[string]any)
		}
	}
	require.NotNil(t, labels, "the team's namespace")
	assert.Equal(t, "baseline", labels["pod-security.kubernetes.io/enforce"])
}
