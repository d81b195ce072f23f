package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/flotilla-io/flotilla/internal/pulumitest"
)

const (
	tokProvider   = "pulumi:providers:azure-native"
	tokAKS        = "azure-native:containerservice:ManagedCluster"
	tokAgentPool  = "azure-native:containerservice:AgentPool"
	tokConfigMap  = "kubernetes:core/v1:ConfigMap"
	reportsTaint  = "workload=reports:NoSchedule"
	flotillaTaint = "flotilla.io/capacity=spot:NoSchedule"
)

var (
	spotSizes     = []string{"Standard_D8s_v5", "Standard_D8as_v5", "Standard_D8s_v4", "Standard_E8s_v5"}
	fallbackSizes = []string{"Standard_D8s_v5", "Standard_D8as_v5"}
)

func TestProgram(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		config       map[string]string
		env          string
		location     string
		subscription string // empty: the Azure CLI's
		tier         string
		// api is the API server's authorized IP ranges; nil: none, open to anywhere.
		api []string
	}{
		{name: "defaults", env: "dev", location: "westeurope", tier: "Free"},
		{
			name: "prod in the US",
			config: map[string]string{
				"flotilla:environment":        "prod",
				"flotilla:location":           "eastus2",
				"azure-native:subscriptionId": "0b1f6471-1bf0-4dda-aec3-cb9272f09590",
				"flotilla:apiAllowedCidrs":    `["203.0.113.0/24", "198.51.100.7/32"]`,
			},
			env:          "prod",
			location:     "eastus2",
			subscription: "0b1f6471-1bf0-4dda-aec3-cb9272f09590",
			tier:         "Standard",
			api:          []string{"203.0.113.0/24", "198.51.100.7/32"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := pulumitest.New().FakeClouds()
			require.NoError(t, m.RunWithConfig(pulumitest.Stack, tt.config, program))

			providers := m.ByType(tokProvider)
			require.Len(t, providers, 1, "one Azure provider, shared by the cluster and the pool")
			provider := providers[0]
			assert.Equal(t, tt.location, provider.Input(t, "location").StringValue())
			if tt.subscription == "" {
				assert.False(t, provider.Inputs.HasValue("subscriptionId"))
			} else {
				assert.Equal(t, tt.subscription, provider.Input(t, "subscriptionId").StringValue())
			}

			wantTags := map[string]string{"env": tt.env, "team": "ledger", "cost-center": "CC-3100"}
			aks := m.MustGet(t, tokAKS, "ledger-aks")
			assert.Equal(t, provider.URN, providerURN(aks.Provider))
			assert.Equal(t, tt.location, aks.Input(t, "location").StringValue())
			assert.Equal(t, "1.31", aks.Input(t, "kubernetesVersion").StringValue())
			assert.Equal(t, tt.tier, aks.Input(t, "sku", "tier").StringValue())
			var authorized []string
			if aks.Inputs.HasValue("apiServerAccessProfile") {
				authorized = pulumitest.PropStrings(t, aks.Input(t, "apiServerAccessProfile", "authorizedIPRanges"))
			}
			assert.Equal(t, tt.api, authorized, "authorized IP ranges")
			assert.Equal(t, "priority", aks.Input(t, "autoScalerProfile", "expander").StringValue())
			assert.Equal(t, "10m", aks.Input(t, "autoScalerProfile", "maxNodeProvisionTime").StringValue())
			assert.Equal(t, "10.64.0.0/16", aks.Input(t, "networkProfile", "podCidr").StringValue())
			assert.Equal(t, "10.60.16.0/20", aks.Input(t, "networkProfile", "serviceCidr").StringValue())
			assertTags(t, aks, wantTags)

			var spot, fallback []string // the pools' scale sets, as the autoscaler names them
			for i, size := range spotSizes {
				ap := m.MustGet(t, tokAgentPool, fmt.Sprintf("reports-spot-%d", i))
				assert.Equal(t, provider.URN, providerURN(ap.Provider))
				assert.Equal(t, "Spot", ap.Input(t, "scaleSetPriority").StringValue(), ap.Name)
				assert.Equal(t, "Delete", ap.Input(t, "scaleSetEvictionPolicy").StringValue(), "evicted nodes are deleted, not kept stopped")
				assert.Equal(t, -1.0, ap.Input(t, "spotMaxPrice").NumberValue(), "never evicted on price")
				assert.Equal(t, "User", ap.Input(t, "mode").StringValue())
				assert.Equal(t, size, ap.Input(t, "vmSize").StringValue())
				assert.Equal(t, 12.0, ap.Input(t, "maxCount").NumberValue())
				assert.Subset(t, pulumitest.PropStrings(t, ap.Input(t, "nodeTaints")), []string{flotillaTaint, reportsTaint})
				assertTags(t, ap, wantTags)
				spot = append(spot, scaleSet(ap.Input(t, "agentPoolName").StringValue()))
			}
			for i, size := range fallbackSizes {
				ap := m.MustGet(t, tokAgentPool, fmt.Sprintf("reports-fallback-%d", i))
				assert.Equal(t, "Regular", ap.Input(t, "scaleSetPriority").StringValue(), ap.Name)
				assert.Equal(t, size, ap.Input(t, "vmSize").StringValue())
				assert.Zero(t, ap.Input(t, "minCount").NumberValue(), "the fallback scales from zero")
				assert.Equal(t, 6.0, ap.Input(t, "maxCount").NumberValue())
				taints := pulumitest.PropStrings(t, ap.Input(t, "nodeTaints"))
				assert.Contains(t, taints, reportsTaint)
				assert.NotContains(t, taints, flotillaTaint)
				assertTags(t, ap, wantTags)
				fallback = append(fallback, scaleSet(ap.Input(t, "agentPoolName").StringValue()))
			}
			assert.Len(t, m.ByType(tokAgentPool), len(spotSizes)+len(fallbackSizes))

			// The autoscaler tries every spot scale set before any fallback one.
			cm := m.MustGet(t, tokConfigMap, "ledger-priority-expander")
			var priorities map[int][]string
			require.NoError(t, yaml.Unmarshal([]byte(cm.Input(t, "data", "priorities").StringValue()), &priorities))
			for _, f := range fallback {
				require.GreaterOrEqual(t, rank(priorities, f), 0, "fallback %s is ranked", f)
				for _, s := range spot {
					assert.Greater(t, rank(priorities, s), rank(priorities, f), "spot %s ranks above fallback %s", s, f)
				}
			}
			// An ordinary pod, which no spot node takes, scales the system pool before any
			// fallback: the system pool ranks between the two.
			system := rank(priorities, scaleSet("system"))
			for _, s := range spot {
				assert.Greater(t, rank(priorities, s), system, "spot %s ranks above the system pool", s)
			}
			for _, f := range fallback {
				assert.Greater(t, system, rank(priorities, f), "the system pool ranks above fallback %s", f)
			}
		})
	}
}

// TestProgramRefusesAnOpenProdEndpoint: a prod stack without apiAllowedCidrs would open
// its API endpoint to anywhere, and is refused before anything registers.
func TestProgramRefusesAnOpenProdEndpoint(t *testing.T) {
	t.Parallel()
	m := pulumitest.New().FakeClouds()
	err := m.RunWithConfig(pulumitest.Stack, map[string]string{"flotilla:environment": "prod"}, program)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "API.AllowedCIDRs is empty, which leaves a prod cluster's (tag env=prod) public API endpoint open to anywhere")
	assert.Empty(t, m.ByType(tokAKS))
}

// scaleSet is the name AKS gives an agent pool's scale set, which the autoscaler sees.
func scaleSet(agentPool string) string {
	return "aks-" + agentPool + "-31415926-vmss"
}

// rank is the highest priority whose regexes match group, or -1.
func rank(priorities map[int][]string, group string) int {
	best := -1
	for p, patterns := range priorities {
		for _, pattern := range patterns {
			if regexp.MustCompile(pattern).MatchString(group) && p > best {
				best = p
			}
		}
	}
	return best
}

// assertTags checks that r carries every cost tag in want.
func assertTags(t *testing.T, r pulumitest.Resource, want map[string]string) {
	t.Helper()
	got := pulumitest.PropStringMap(t, r.Input(t, "tags"))
	for k, v := range want {
		assert.Equal(t, v, got[k], "%s %s: tag %q", r.Type, r.Name, k)
	}
}

// providerURN is the URN part of a provider reference, "urn::id".
func providerURN(ref string) string {
	return ref[:max(strings.LastIndex(ref, "::"), 0)]
}
