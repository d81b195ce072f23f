package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
)

const (
	tokProvider     = "pulumi:providers:gcp"
	tokKubeProvider = "pulumi:providers:kubernetes"
	tokGKE          = "gcp:container/cluster:Cluster"
	tokNodePool     = "gcp:container/nodePool:NodePool"
	tokSubnetwork   = "gcp:compute/subnetwork:Subnetwork"
	tokComputeClass = "kubernetes:cloud.google.com/v1:ComputeClass"
)

var spotTypes = []string{"n2-standard-8", "n2d-standard-8", "c3-standard-8", "e2-standard-8"}

func TestProgram(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		config  map[string]string
		env     string
		region  string
		project string // empty: the provider's own default
		// api is the GKE master authorized networks; nil: none, open to anywhere.
		api []string
	}{
		{name: "defaults", env: "dev", region: "us-central1"},
		{
			name: "prod in europe",
			config: map[string]string{
				"flotilla:environment":     "prod",
				"flotilla:region":          "europe-west4",
				"gcp:project":              "acme-search-prod",
				"flotilla:apiAllowedCidrs": `["203.0.113.0/24"]`,
			},
			env:     "prod",
			region:  "europe-west4",
			project: "acme-search-prod",
			api:     []string{"203.0.113.0/24"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := pulumitest.New().FakeClouds()
			require.NoError(t, m.RunWithConfig(pulumitest.Stack, tt.config, program))

			providers := m.ByType(tokProvider)
			require.Len(t, providers, 1, "one GCP provider, shared by the cluster and the pool")
			provider := providers[0]
			assert.Equal(t, tt.region, provider.Input(t, "region").StringValue())
			if tt.project == "" {
				assert.False(t, provider.Inputs.HasValue("project"))
			} else {
				assert.Equal(t, tt.project, provider.Input(t, "project").StringValue())
			}

			wantLabels := map[string]string{"env": tt.env, "team": "search", "cost-center": "cc-2040"}
			gke := m.MustGet(t, tokGKE, "search-gke")
			assert.Equal(t, provider.URN, providerURN(gke.Provider))
			assert.Equal(t, tt.region, gke.Input(t, "location").StringValue())
			assert.Equal(t, "1.31", gke.Input(t, "minMasterVersion").StringValue())
			assert.Equal(t, tt.env == "prod", gke.Input(t, "deletionProtection").BoolValue(), "prod clusters are protected")
			assert.Len(t, pulumitest.PropStrings(t, gke.Input(t, "nodeLocations")), 3)
			var authorized []string
			if gke.Inputs.HasValue("masterAuthorizedNetworksConfig") {
				for _, b := range gke.Input(t, "masterAuthorizedNetworksConfig", "cidrBlocks").ArrayValue() {
					authorized = append(authorized, pulumitest.Prop(t, b, "cidrBlock").StringValue())
				}
			}
			assert.Equal(t, tt.api, authorized, "master authorized networks")
			assertLabels(t, gke, wantLabels, "resourceLabels")

			subnet := m.MustGet(t, tokSubnetwork, "search-nodes")
			assert.Equal(t, "10.40.0.0/20", subnet.Input(t, "ipCidrRange").StringValue())
			assert.Equal(t, "10.44.0.0/14", subnet.Input(t, "secondaryIpRanges", 0, "ipCidrRange").StringValue())
			assert.Equal(t, "10.40.16.0/20", subnet.Input(t, "secondaryIpRanges", 1, "ipCidrRange").StringValue())

			var spotNames []string
			for i, typ := range spotTypes {
				np := m.MustGet(t, tokNodePool, fmt.Sprintf("indexer-spot-%d", i))
				spotNames = append(spotNames, np.Input(t, "name").StringValue())
				assert.Equal(t, cluster.GroupName(cluster.GCP, "indexer", cluster.Spot, i), np.Input(t, "name").StringValue())
				assert.True(t, np.Input(t, "nodeConfig", "spot").BoolValue(), "%s is spot", np.Name)
				assert.Equal(t, typ, np.Input(t, "nodeConfig", "machineType").StringValue())
				assert.Equal(t, 30.0, np.Input(t, "autoscaling", "totalMaxNodeCount").NumberValue())
				assert.Equal(t, provider.URN, providerURN(np.Provider))
				assert.Equal(t, "indexer", np.Input(t, "nodeConfig", "labels").ObjectValue()["workload"].StringValue())
				assertLabels(t, np, wantLabels, "nodeConfig", "resourceLabels")
			}
			fallback := m.MustGet(t, tokNodePool, "indexer-fallback-0")
			assert.False(t, fallback.Input(t, "nodeConfig", "spot").BoolValue(), "the fallback is on-demand")
			assert.Equal(t, "n2-standard-8", fallback.Input(t, "nodeConfig", "machineType").StringValue())
			assert.Zero(t, fallback.Input(t, "autoscaling", "totalMinNodeCount").NumberValue(), "the fallback scales from zero")
			assert.Equal(t, 10.0, fallback.Input(t, "autoscaling", "totalMaxNodeCount").NumberValue())
			assertLabels(t, fallback, wantLabels, "nodeConfig", "resourceLabels")
			// The system pool and five pools of the spot pool.
			assert.Len(t, m.ByType(tokNodePool), 1+len(spotTypes)+1)

			class := m.MustGet(t, tokComputeClass, "indexer-class")
			assert.Equal(t, "indexer", class.Input(t, "metadata", "name").StringValue())
			assert.Equal(t, spotNames, pulumitest.PropStrings(t, class.Input(t, "spec", "priorities", 0, "nodepools")), "spot first")
			assert.Equal(t, []string{fallback.Input(t, "name").StringValue()},
				pulumitest.PropStrings(t, class.Input(t, "spec", "priorities", 1, "nodepools")), "then the fallback")
			assert.True(t, class.Input(t, "spec", "activeMigration", "optimizeRulePriority").BoolValue(), "back to spot when it returns")
			kube := m.MustGet(t, tokKubeProvider, "search-k8s")
			assert.Equal(t, kube.URN, providerURN(class.Provider), "the class is created in the new cluster")
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
	assert.Empty(t, m.ByType(tokGKE))
}

// assertLabels checks that the label map at path in r's inputs carries every label in want.
func assertLabels(t *testing.T, r pulumitest.Resource, want map[string]string, path ...any) {
	t.Helper()
	got := pulumitest.PropStringMap(t, r.Input(t, path...))
	for k, v := range want {
		assert.Equal(t, v, got[k], "%s %s: label %q", r.Type, r.Name, k)
	}
}

// providerURN is the URN part of a provider reference, "urn::id".
func providerURN(ref string) string {
	return ref[:max(strings.LastIndex(ref, "::"), 0)]
}
