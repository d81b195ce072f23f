package main

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
)

const (
	tokAWSProvider   = "pulumi:providers:aws"
	tokGCPProvider   = "pulumi:providers:gcp"
	tokAzureProvider = "pulumi:providers:azure-native"
	tokEKS           = "aws:eks/cluster:Cluster"
	tokVPC           = "aws:ec2/vpc:Vpc"
	tokPodBlock      = "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation"
	tokNodeGroup     = "aws:eks/nodeGroup:NodeGroup"
	tokGKE           = "gcp:container/cluster:Cluster"
	tokSubnetwork    = "gcp:compute/subnetwork:Subnetwork"
	tokNodePool      = "gcp:container/nodePool:NodePool"
	tokComputeClass  = "kubernetes:cloud.google.com/v1:ComputeClass"
	tokAKS           = "azure-native:containerservice:ManagedCluster"
	tokVNet          = "azure-native:network:VirtualNetwork"
	tokAgentPool     = "azure-native:containerservice:AgentPool"
)

var space = netip.MustParsePrefix("10.32.0.0/13")

func TestProgram(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		config map[string]string
		env    string
		// kept is the GKE cluster's subnetwork range from the "networks" config, if any.
		kept string
	}{
		{name: "defaults", env: "dev"},
		{name: "staging", config: map[string]string{"flotilla:environment": "staging"}, env: "staging"},
		{name: "prod", config: map[string]string{"flotilla:environment": "prod", "flotilla:apiAllowedCidrs": `["203.0.113.0/24"]`}, env: "prod"},
		{
			name: "previous plan is kept",
			config: map[string]string{
				"flotilla:networks": `{"gcp-europe-west1": {"vpcCidr": "10.33.96.0/20", "podCidr": "10.39.0.0/16", "serviceCidr": "10.33.112.0/20"}}`,
			},
			env:  "dev",
			kept: "10.33.96.0/20",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := pulumitest.New().FakeClouds()
			require.NoError(t, m.RunWithConfig(pulumitest.Stack, tt.config, program))

			aws, gcp, az := tt.env+"-aws-us-east-1", tt.env+"-gcp-europe-west1", tt.env+"-azure-westeurope"
			for _, name := range []string{aws, gcp, az} {
				m.MustGet(t, cluster.TypeToken, name)
			}
			assert.Len(t, m.ByType(cluster.TypeToken), 3)

			t.Run("one provider per cloud and region", func(t *testing.T) {
				for tok, want := range map[string]struct{ key, region, user string }{
					tokAWSProvider:   {"region", "us-east-1", tokEKS},
					tokGCPProvider:   {"region", "europe-west1", tokGKE},
					tokAzureProvider: {"location", "westeurope", tokAKS},
				} {
					providers := m.ByType(tok)
					require.Len(t, providers, 1, tok)
					assert.Equal(t, want.region, providers[0].Input(t, want.key).StringValue(), tok)
					users := m.ByType(want.user)
					require.Len(t, users, 1, want.user)
					assert.Equal(t, providers[0].URN, providerURN(users[0].Provider), want.user)
				}
			})

			t.Run("spot first on every cloud", func(t *testing.T) {
				spot := m.MustGet(t, tokNodeGroup, aws+"-workers-spot")
				assert.Equal(t, "SPOT", spot.Input(t, "capacityType").StringValue())
				assert.Len(t, pulumitest.PropStrings(t, spot.Input(t, "instanceTypes")), 4)
				fallback := m.MustGet(t, tokNodeGroup, aws+"-workers-fallback")
				assert.Equal(t, "ON_DEMAND", fallback.Input(t, "capacityType").StringValue())

				var gkeSpot []string
				for i := range 4 {
					np := m.MustGet(t, tokNodePool, fmt.Sprintf("%s-workers-spot-%d", gcp, i))
					assert.True(t, np.Input(t, "nodeConfig", "spot").BoolValue(), np.Name)
					gkeSpot = append(gkeSpot, np.Input(t, "name").StringValue())
				}
				gkeFallback := m.MustGet(t, tokNodePool, gcp+"-workers-fallback-0")
				assert.False(t, gkeFallback.Input(t, "nodeConfig", "spot").BoolValue())
				class := m.MustGet(t, tokComputeClass, gcp+"-workers-class")
				assert.Equal(t, gkeSpot, pulumitest.PropStrings(t, class.Input(t, "spec", "priorities", 0, "nodepools")))

				for i := range 4 {
					ap := m.MustGet(t, tokAgentPool, fmt.Sprintf("%s-workers-spot-%d", az, i))
					assert.Equal(t, "Spot", ap.Input(t, "scaleSetPriority").StringValue(), ap.Name)
					ap = m.MustGet(t, tokAgentPool, fmt.Sprintf("%s-workers-fallback-%d", az, i))
					assert.Equal(t, "Regular", ap.Input(t, "scaleSetPriority").StringValue(), ap.Name)
				}
			})

			t.Run("cost tags in each cloud's form", func(t *testing.T) {
				assert.Equal(t, map[string]string{"env": tt.env, "team": "platform", "cost-center": "CC-1001"},
					pick(pulumitest.PropStringMap(t, m.MustGet(t, tokEKS, aws+"-eks").Input(t, "tags")), "env", "team", "cost-center"))
				assert.Equal(t, map[string]string{"env": tt.env, "team": "platform", "cost-center": "cc-1001"},
					pick(pulumitest.PropStringMap(t, m.MustGet(t, tokGKE, gcp+"-gke").Input(t, "resourceLabels")), "env", "team", "cost-center"))
				assert.Equal(t, map[string]string{"env": tt.env, "team": "platform", "cost-center": "CC-1001"},
					pick(pulumitest.PropStringMap(t, m.MustGet(t, tokAKS, az+"-aks").Input(t, "tags")), "env", "team", "cost-center"))
			})

			t.Run("no two ranges overlap", func(t *testing.T) {
				subnet := m.MustGet(t, tokSubnetwork, gcp+"-nodes")
				aks := m.MustGet(t, tokAKS, az+"-aks")
				ranges := map[string]string{
					"aws vpc":        m.MustGet(t, tokVPC, aws+"-vpc").Input(t, "cidrBlock").StringValue(),
					"aws pods":       m.MustGet(t, tokPodBlock, aws+"-pods").Input(t, "cidrBlock").StringValue(),
					"aws services":   m.MustGet(t, tokEKS, aws+"-eks").Input(t, "kubernetesNetworkConfig", "serviceIpv4Cidr").StringValue(),
					"gcp vpc":        subnet.Input(t, "ipCidrRange").StringValue(),
					"gcp pods":       subnet.Input(t, "secondaryIpRanges", 0, "ipCidrRange").StringValue(),
					"gcp services":   subnet.Input(t, "secondaryIpRanges", 1, "ipCidrRange").StringValue(),
					"azure vpc":      m.MustGet(t, tokVNet, az+"-vnet").Input(t, "addressSpace", "addressPrefixes", 0).StringValue(),
					"azure pods":     aks.Input(t, "networkProfile", "podCidr").StringValue(),
					"azure services": aks.Input(t, "networkProfile", "serviceCidr").StringValue(),
				}
				if tt.kept != "" {
					assert.Equal(t, tt.kept, ranges["gcp vpc"], "a range in use never moves")
				}
				parsed := map[string]netip.Prefix{}
				for what, cidr := range ranges {
					p := netip.MustParsePrefix(cidr)
					assert.True(t, space.Contains(p.Addr()), "%s %s is outside %s", what, p, space)
					for other, q := range parsed {
						assert.False(t, p.Overlaps(q), "%s %s overlaps %s %s", what, p, other, q)
					}
					parsed[what] = p
				}
			})
		})
	}
}

// TestProgramRefusesAnOpenProdEndpoint: a prod stack without apiAllowedCidrs would open
// its clusters' API endpoints to anywhere, and is refused before any cluster registers.
func TestProgramRefusesAnOpenProdEndpoint(t *testing.T) {
	t.Parallel()
	m := pulumitest.New().FakeClouds()
	err := m.RunWithConfig(pulumitest.Stack, map[string]string{"flotilla:environment": "prod"}, program)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `cluster "prod-aws-us-east-1": invalid args:
  - API.AllowedCIDRs is empty, which leaves a prod cluster's (tag env=prod) public API endpoint open to anywhere`)
	assert.Empty(t, m.ByType(cluster.TypeToken))
}

func TestProgramRejectsOverlappingPlan(t *testing.T) {
	t.Parallel()
	// Two clusters kept on one range: a hand-edited plan that would break peering.
	networks := `{
		"aws-us-east-1":    {"vpcCidr": "10.32.0.0/20", "podCidr": "10.33.0.0/16", "serviceCidr": "10.32.16.0/20"},
		"gcp-europe-west1": {"vpcCidr": "10.32.0.0/20", "podCidr": "10.34.0.0/16", "serviceCidr": "10.32.48.0/20"}
	}`
	m := pulumitest.New().FakeClouds()
	err := m.RunWithConfig(pulumitest.Stack, map[string]string{"flotilla:networks": networks}, program)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "10.32.0.0/20")
	assert.Contains(t, err.Error(), "overlaps")
	assert.Empty(t, m.ByType(cluster.TypeToken), "nothing is created from a bad plan")
}

// pick returns the entries of m with the given keys.
func pick(m map[string]string, keys ...string) map[string]string {
	out := map[string]string{}
	for _, k := range keys {
		if v, ok := m[k]; ok {
			out[k] = v
		}
	}
	return out
}

// providerURN is the URN part of a provider reference, "urn::id".
func providerURN(ref string) string {
	return ref[:max(strings.LastIndex(ref, "::"), 0)]
}
