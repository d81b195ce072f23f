package main

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/spotpool"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
)

const (
	tokProvider  = "pulumi:providers:aws"
	tokEKS       = "aws:eks/cluster:Cluster"
	tokNodeGroup = "aws:eks/nodeGroup:NodeGroup"
	tokVPC       = "aws:ec2/vpc:Vpc"
)

func TestProgram(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		config  map[string]string
		env     string
		regions []string
		// api is the EKS publicAccessCidrs; nil: unset, open to anywhere.
		api []string
		// kept are ranges from the "networks" config that must come through unchanged.
		kept map[string]network
	}{
		{
			name:    "defaults",
			env:     "dev",
			regions: []string{"us-east-1", "eu-west-1"},
		},
		{
			name: "prod in other regions",
			config: map[string]string{
				"flotilla:environment":     "prod",
				"flotilla:primaryRegion":   "us-west-2",
				"flotilla:secondaryRegion": "eu-central-1",
				"flotilla:apiAllowedCidrs": `["203.0.113.0/24", "198.51.100.7/32"]`,
			},
			env:     "prod",
			regions: []string{"us-west-2", "eu-central-1"},
			api:     []string{"203.0.113.0/24", "198.51.100.7/32"},
		},
		{
			name: "previous plan is kept",
			config: map[string]string{
				"flotilla:networks": `{"aws-eu-west-1": {"vpcCidr": "10.32.192.0/20", "podCidr": "10.38.0.0/16", "serviceCidr": "10.32.208.0/20"}}`,
			},
			env:     "dev",
			regions: []string{"us-east-1", "eu-west-1"},
			kept: map[string]network{
				"eu-west-1": {VPCCIDR: "10.32.192.0/20", PodCIDR: "10.38.0.0/16", ServiceCIDR: "10.32.208.0/20"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := pulumitest.New().FakeClouds()
			require.NoError(t, m.RunWithConfig(pulumitest.Stack, tt.config, program))

			regionOf := map[string]string{} // provider URN -> region
			for _, p := range m.ByType(tokProvider) {
				regionOf[p.URN] = p.Input(t, "region").StringValue()
			}
			assert.ElementsMatch(t, tt.regions, mapValues(regionOf), "one provider per region")

			wantTags := map[string]string{"env": tt.env, "team": "platform", "cost-center": "CC-1001"}
			space := netip.MustParsePrefix("10.32.0.0/13")
			var vpcs []netip.Prefix
			for _, region := range tt.regions {
				name := tt.env + "-aws-" + region
				m.MustGet(t, cluster.TypeToken, name)

				eks := m.MustGet(t, tokEKS, name+"-eks")
				assert.Equal(t, region, regionOf[providerURN(eks.Provider)], "EKS cluster %s", name)
				assert.Equal(t, "1.31", eks.Input(t, "version").StringValue())
				assertTags(t, eks, wantTags)
				if tt.api == nil {
					assert.False(t, eks.Input(t, "vpcConfig").ObjectValue().HasValue("publicAccessCidrs"), "unset")
				} else {
					assert.Equal(t, tt.api, pulumitest.PropStrings(t, eks.Input(t, "vpcConfig", "publicAccessCidrs")))
				}

				vpc := m.MustGet(t, tokVPC, name+"-vpc")
				assertTags(t, vpc, wantTags)
				cidr := netip.MustParsePrefix(vpc.Input(t, "cidrBlock").StringValue())
				if want, ok := tt.kept[region]; ok {
					assert.Equal(t, want.VPCCIDR, cidr.String(), "a range in use never moves")
					assert.Equal(t, want.ServiceCIDR, eks.Input(t, "kubernetesNetworkConfig", "serviceIpv4Cidr").StringValue())
				} else {
					assert.True(t, space.Contains(cidr.Addr()), "VPC %s is outside the address space", cidr)
				}
				for _, other := range vpcs {
					assert.False(t, cidr.Overlaps(other), "VPCs %s and %s overlap", cidr, other)
				}
				vpcs = append(vpcs, cidr)

				for _, pool := range []struct {
					name                 string
					spotTypes, fallTypes []string
					min, max, fallMax    float64
				}{
					{"general", []string{"m6i.xlarge", "m6a.xlarge", "m5.xlarge", "m7i.xlarge"}, []string{"m6i.xlarge", "m6a.xlarge", "m5.xlarge", "m7i.xlarge"}, 1, 20, 20},
					{"batch", []string{"c6i.2xlarge", "c6a.2xlarge", "c5.2xlarge", "c7i.2xlarge"}, []string{"c6i.2xlarge", "c6a.2xlarge"}, 0, 50, 10},
				} {
					poolName := name + "-" + pool.name
					m.MustGet(t, spotpool.TypeToken, poolName)

					spot := m.MustGet(t, tokNodeGroup, poolName+"-spot")
					assert.Equal(t, "SPOT", spot.Input(t, "capacityType").StringValue(), poolName)
					assert.Equal(t, pool.spotTypes, pulumitest.PropStrings(t, spot.Input(t, "instanceTypes")))
					assert.Equal(t, pool.min, spot.Input(t, "scalingConfig", "minSize").NumberValue())
					assert.Equal(t, pool.max, spot.Input(t, "scalingConfig", "maxSize").NumberValue())
					assert.Equal(t, region, regionOf[providerURN(spot.Provider)], "spot group %s", poolName)
					assertTags(t, spot, wantTags)

					fallback := m.MustGet(t, tokNodeGroup, poolName+"-fallback")
					assert.Equal(t, "ON_DEMAND", fallback.Input(t, "capacityType").StringValue(), poolName)
					assert.Equal(t, pool.fallTypes, pulumitest.PropStrings(t, fallback.Input(t, "instanceTypes")))
					assert.Zero(t, fallback.Input(t, "scalingConfig", "minSize").NumberValue(), "the fallback scales from zero")
					assert.Equal(t, pool.fallMax, fallback.Input(t, "scalingConfig", "maxSize").NumberValue())
					assert.Equal(t, region, regionOf[providerURN(fallback.Provider)], "fallback group %s", poolName)
					assertTags(t, fallback, wantTags)
				}
			}
			// The system group of each cluster, plus a spot and a fallback group per pool.
			assert.Len(t, m.ByType(tokNodeGroup), len(tt.regions)*(1+2*2))
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
	assert.Empty(t, m.ByType(tokEKS))
}

func TestProgramRejectsUnknownEnvironment(t *testing.T) {
	t.Parallel()
	err := pulumitest.New().FakeClouds().RunWithConfig(pulumitest.Stack, map[string]string{"flotilla:environment": "qa"}, program)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `tag "env" is "qa"`)
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

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
