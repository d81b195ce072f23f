package geofleet

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/cluster"
)

// named is a fleet of simulator clusters with the given names.
func named(names ...string) []ClusterSpec {
	specs := make([]ClusterSpec, len(names))
	for i, n := range names {
		specs[i] = ClusterSpec{Name: n, Cloud: cluster.Sim, Region: "local"}
	}
	return specs
}

func network(vpc, pod, svc string) cluster.Network {
	return cluster.Network{VPCCIDR: vpc, PodCIDR: pod, ServiceCIDR: svc}
}

func gkeNetwork(vpc, pod, svc, master string) cluster.Network {
	return cluster.Network{VPCCIDR: vpc, PodCIDR: pod, ServiceCIDR: svc, MasterCIDR: master}
}

func TestPlanNetworksAllocates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		space    string
		clusters []ClusterSpec
		previous map[string]cluster.Network
		want     map[string]cluster.Network
	}{
		{
			name:     "lowest slots in name order, small ranges packed below the pod ranges",
			space:    "10.32.0.0/11",
			clusters: named("c", "a", "b"),
			want: map[string]cluster.Network{
				"a": network("10.32.0.0/20", "10.33.0.0/16", "10.32.16.0/20"),
				"b": network("10.32.32.0/20", "10.34.0.0/16", "10.32.48.0/20"),
				"c": network("10.32.64.0/20", "10.35.0.0/16", "10.32.80.0/20"),
			},
		},
		{
			name:  "names default to cloud and region",
			space: "10.32.0.0/11",
			clusters: []ClusterSpec{
				{Cloud: cluster.GCP, Region: "europe-west1"},
				{Cloud: cluster.AWS, Region: "us-east-1"},
			},
			want: map[string]cluster.Network{
				"aws-us-east-1":    network("10.32.0.0/20", "10.33.0.0/16", "10.32.16.0/20"),
				"gcp-europe-west1": gkeNetwork("10.32.32.0/20", "10.34.0.0/16", "10.32.48.0/20", "10.63.255.240/28"),
			},
		},
		{
			// GKE's private nodes need a control-plane /28 clear of every range of the VPC
			// (terraform-provider-google: "master_ipv4_cidr_block must be set if
			// enable_private_nodes is true"; https://cloud.google.com/kubernetes-engine/docs/how-to/private-clusters#req_res_lim).
			// It comes from the top of the space, so the slots below stay as they were.
			name:  "GKE clusters get a control-plane /28; plans pinned without one keep their ranges",
			space: "10.32.0.0/11",
			clusters: []ClusterSpec{
				{Name: "old", Cloud: cluster.GCP, Region: "europe-west1"},
				{Name: "kept", Cloud: cluster.GCP, Region: "europe-west1"},
				{Name: "new", Cloud: cluster.GCP, Region: "us-central1"},
				{Name: "mine", Cloud: cluster.GCP, Region: "us-east1", Network: &cluster.Network{VPCCIDR: "10.40.0.0/20", PodCIDR: "10.41.0.0/16", ServiceCIDR: "10.40.16.0/20"}},
				{Name: "aws", Cloud: cluster.AWS, Region: "us-east-1"},
			},
			previous: map[string]cluster.Network{
				"old":  network("10.32.0.0/20", "10.33.0.0/16", "10.32.16.0/20"),
				"kept": gkeNetwork("10.32.32.0/20", "10.34.0.0/16", "10.32.48.0/20", "10.63.255.240/28"),
			},
			want: map[string]cluster.Network{
				"old":  gkeNetwork("10.32.0.0/20", "10.33.0.0/16", "10.32.16.0/20", "10.63.255.192/28"),
				"kept": gkeNetwork("10.32.32.0/20", "10.34.0.0/16", "10.32.48.0/20", "10.63.255.240/28"),
				"aws":  network("10.32.64.0/20", "10.35.0.0/16", "10.32.80.0/20"),
				"new":  gkeNetwork("10.32.96.0/20", "10.36.0.0/16", "10.32.112.0/20", "10.63.255.208/28"),
				"mine": gkeNetwork("10.40.0.0/20", "10.41.0.0/16", "10.40.16.0/20", "10.63.255.224/28"),
			},
		},
		{
			name:     "an explicit control-plane range is kept",
			space:    "10.32.0.0/11",
			clusters: []ClusterSpec{{Name: "g", Cloud: cluster.GCP, Region: "europe-west1", Network: &cluster.Network{VPCCIDR: "10.40.0.0/20", PodCIDR: "10.41.0.0/16", ServiceCIDR: "10.40.16.0/20", MasterCIDR: "10.40.32.0/28"}}},
			want:     map[string]cluster.Network{"g": gkeNetwork("10.40.0.0/20", "10.41.0.0/16", "10.40.16.0/20", "10.40.32.0/28")},
		},
		{
			name:     "AKS's default service range at the start of 10/8 is skipped",
			space:    "10.0.0.0/14",
			clusters: named("a", "b"),
			want: map[string]cluster.Network{
				"a": network("10.1.0.0/20", "10.2.0.0/16", "10.1.16.0/20"),
				"b": network("10.1.32.0/20", "10.3.0.0/16", "10.1.48.0/20"),
			},
		},
		{
			name:     "Docker's bridge and EKS's alternative service range are skipped",
			space:    "172.16.0.0/12",
			clusters: named("a", "b", "c"),
			want: map[string]cluster.Network{
				"a": network("172.16.0.0/20", "172.18.0.0/16", "172.16.16.0/20"),
				"b": network("172.16.32.0/20", "172.19.0.0/16", "172.16.48.0/20"),
				"c": network("172.16.64.0/20", "172.21.0.0/16", "172.16.80.0/20"),
			},
		},
		{
			name:     "previous ranges are kept and new clusters fill around them",
			space:    "10.32.0.0/11",
			clusters: named("a", "z"),
			previous: map[string]cluster.Network{
				"z": network("10.32.0.0/20", "10.33.0.0/16", "10.32.16.0/20"),
			},
			want: map[string]cluster.Network{
				"a": network("10.32.32.0/20", "10.34.0.0/16", "10.32.48.0/20"),
				"z": network("10.32.0.0/20", "10.33.0.0/16", "10.32.16.0/20"),
			},
		},
		{
			name:  "an explicit network wins over previous and may lie outside the space",
			space: "10.32.0.0/11",
			clusters: []ClusterSpec{
				{Name: "legacy", Cloud: cluster.AWS, Region: "us-east-1", Network: &cluster.Network{VPCCIDR: "192.168.0.0/20", PodCIDR: "192.168.64.0/18", ServiceCIDR: "192.168.16.0/20"}},
				{Name: "new", Cloud: cluster.AWS, Region: "us-west-2"},
			},
			previous: map[string]cluster.Network{
				"legacy": network("10.32.0.0/20", "10.33.0.0/16", "10.32.16.0/20"),
			},
			want: map[string]cluster.Network{
				"legacy": network("192.168.0.0/20", "192.168.64.0/18", "192.168.16.0/20"),
				// The legacy cluster's old ranges are still in use until it is replaced.
				"new": network("10.32.32.0/20", "10.34.0.0/16", "10.32.48.0/20"),
			},
		},
		{
			name:     "a removed cluster's ranges are not reused in the same plan",
			space:    "10.32.0.0/11",
			clusters: named("b", "c"),
			previous: map[string]cluster.Network{
				"a": network("10.32.0.0/20", "10.33.0.0/16", "10.32.16.0/20"),
				"b": network("10.32.32.0/20", "10.34.0.0/16", "10.32.48.0/20"),
			},
			want: map[string]cluster.Network{
				"b": network("10.32.32.0/20", "10.34.0.0/16", "10.32.48.0/20"),
				"c": network("10.32.64.0/20", "10.35.0.0/16", "10.32.80.0/20"),
			},
		},
		{
			name:     "once the removal is deployed its ranges are free again",
			space:    "10.32.0.0/11",
			clusters: named("b", "c", "d"),
			previous: map[string]cluster.Network{
				"b": network("10.32.32.0/20", "10.34.0.0/16", "10.32.48.0/20"),
				"c": network("10.32.64.0/20", "10.35.0.0/16", "10.32.80.0/20"),
			},
			want: map[string]cluster.Network{
				"b": network("10.32.32.0/20", "10.34.0.0/16", "10.32.48.0/20"),
				"c": network("10.32.64.0/20", "10.35.0.0/16", "10.32.80.0/20"),
				"d": network("10.32.0.0/20", "10.33.0.0/16", "10.32.16.0/20"),
			},
		},
		{
			name:     "no clusters, no plan",
			space:    "10.32.0.0/11",
			clusters: nil,
			want:     map[string]cluster.Network{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := PlanNetworks(tt.space, tt.clusters, tt.previous)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestPlanNetworksErrors(t *testing.T) {
	t.Parallel()
	ok := named("a")
	tests := []struct {
		name      string
		space     string
		clusters  []ClusterSpec
		previous  map[string]cluster.Network
		wantParts []string
		exhausted bool
	}{
		{name: "empty space", space: "", clusters: ok,
			wantParts: []string{`address space "" is not a CIDR block`}},
		{name: "not a prefix", space: "10.32.0.0", clusters: ok,
			wantParts: []string{`address space "10.32.0.0" is not a CIDR block such as "10.32.0.0/11"`}},
		{name: "IPv6", space: "fd00::/8", clusters: ok,
			wantParts: []string{`address space "fd00::/8" is not IPv4`}},
		{name: "host bits", space: "10.33.0.0/11", clusters: ok,
			wantParts: []string{`address space "10.33.0.0/11" has host bits set; did you mean "10.32.0.0/11"?`}},
		{name: "public space", space: "8.0.0.0/8", clusters: ok,
			wantParts: []string{`address space "8.0.0.0/8" is not inside an RFC 1918 block`}},
		{name: "wider than a private block", space: "10.0.0.0/7", clusters: ok,
			wantParts: []string{`address space "10.0.0.0/7" is not inside an RFC 1918 block`}},
		{name: "CGNAT space", space: "100.64.0.0/10", clusters: ok,
			wantParts: []string{`address space "100.64.0.0/10" is not inside an RFC 1918 block`}},
		{name: "no name", space: "10.32.0.0/11", clusters: []ClusterSpec{{Cloud: cluster.AWS}},
			wantParts: []string{"cluster 0 has no Name, and no Cloud and Region to derive one from"}},
		{name: "duplicate names", space: "10.32.0.0/11", clusters: named("a", "b", "a"),
			wantParts: []string{`clusters 0 and 2 are both named "a"`}},
		{name: "explicit name collides with a derived one", space: "10.32.0.0/11",
			clusters:  []ClusterSpec{{Cloud: cluster.AWS, Region: "us-east-1"}, {Name: "aws-us-east-1"}},
			wantParts: []string{`clusters 0 and 1 are both named "aws-us-east-1"`}},
		{name: "malformed explicit ranges", space: "10.32.0.0/11",
			clusters: []ClusterSpec{{Name: "x", Network: &cluster.Network{VPCCIDR: "10.40.0.0/33", PodCIDR: "fd00::/64", ServiceCIDR: "10.40.16.1/20"}}},
			wantParts: []string{
				`cluster "x" VPCCIDR "10.40.0.0/33" is not an IPv4 CIDR block`,
				`cluster "x" PodCIDR "fd00::/64" is not an IPv4 CIDR block`,
				`cluster "x" ServiceCIDR "10.40.16.1/20" has host bits set; did you mean "10.40.16.0/20"?`,
			}},
		{name: "ranges overlap within a cluster", space: "10.32.0.0/11",
			clusters:  []ClusterSpec{{Name: "x", Network: &cluster.Network{VPCCIDR: "10.40.0.0/20", PodCIDR: "10.40.0.0/16", ServiceCIDR: "10.41.0.0/20"}}},
			wantParts: []string{`cluster "x" VPC range "10.40.0.0/20" overlaps cluster "x" pod range "10.40.0.0/16"`}},
		{name: "explicit overlaps a previous range of another cluster", space: "10.32.0.0/11",
			clusters:  []ClusterSpec{{Name: "x", Network: &cluster.Network{VPCCIDR: "10.40.0.0/20", PodCIDR: "10.41.0.0/16", ServiceCIDR: "10.32.16.0/24"}}, {Name: "y"}},
			previous:  map[string]cluster.Network{"y": network("10.32.0.0/20", "10.33.0.0/16", "10.32.16.0/20")},
			wantParts: []string{`cluster "x" service range "10.32.16.0/24" overlaps cluster "y" previous service range "10.32.16.0/20"`}},
		{name: "explicit overlaps the defaults", space: "10.32.0.0/11",
			clusters: []ClusterSpec{{Name: "x", Network: &cluster.Network{VPCCIDR: "172.16.0.0/12", PodCIDR: "10.244.0.0/16", ServiceCIDR: "10.100.16.0/20"}}},
			wantParts: []string{
				`cluster "x" VPC range "172.16.0.0/12" overlaps reserved range "172.17.0.0/16" (Docker's default bridge)`,
				`cluster "x" VPC range "172.16.0.0/12" overlaps reserved range "172.20.0.0/16" (EKS's alternative default service range)`,
				`cluster "x" pod range "10.244.0.0/16" overlaps reserved range "10.244.0.0/16" (the default pod range of AKS kubenet and overlay)`,
				`cluster "x" service range "10.100.16.0/20" overlaps reserved range "10.100.0.0/16" (EKS's default service range)`,
			}},
		{name: "explicit overlaps link-local and GKE's service default", space: "10.32.0.0/11",
			clusters: []ClusterSpec{{Name: "x", Network: &cluster.Network{VPCCIDR: "169.254.0.0/20", PodCIDR: "10.40.0.0/16", ServiceCIDR: "34.118.224.0/20"}}},
			wantParts: []string{
				`cluster "x" VPC range "169.254.0.0/20" overlaps reserved range "169.254.0.0/16" (link-local and instance metadata)`,
				`cluster "x" service range "34.118.224.0/20" overlaps reserved range "34.118.224.0/20" (GKE's default service range)`,
			}},
		{name: "previous outside the space", space: "10.32.0.0/11", clusters: named("a"),
			previous:  map[string]cluster.Network{"a": network("10.64.0.0/20", "10.33.0.0/16", "10.32.16.0/20")},
			wantParts: []string{`cluster "a" previous VPC range "10.64.0.0/20" lies outside address space "10.32.0.0/11"`}},
		{name: "previous ranges overlap each other", space: "10.32.0.0/11", clusters: named("a", "b"),
			previous: map[string]cluster.Network{
				"a": network("10.32.0.0/20", "10.33.0.0/16", "10.32.16.0/20"),
				"b": network("10.32.32.0/20", "10.33.0.0/16", "10.32.48.0/20"),
			},
			wantParts: []string{`cluster "b" previous pod range "10.33.0.0/16" overlaps cluster "a" previous pod range "10.33.0.0/16"`}},
		{name: "malformed previous", space: "10.32.0.0/11", clusters: named("a"),
			previous:  map[string]cluster.Network{"a": network("10.32.0.0/20", "", "10.32.16.0/20")},
			wantParts: []string{`cluster "a" previous PodCIDR "" is not an IPv4 CIDR block`}},
		{name: "every problem at once", space: "10.33.0.0/11",
			clusters: []ClusterSpec{{}, {Name: "x", Network: &cluster.Network{VPCCIDR: "nope", PodCIDR: "10.40.0.0/16", ServiceCIDR: "172.17.0.0/20"}}},
			wantParts: []string{
				`address space "10.33.0.0/11" has host bits set`,
				"cluster 0 has no Name",
				`cluster "x" VPCCIDR "nope" is not an IPv4 CIDR block`,
				`cluster "x" service range "172.17.0.0/20" overlaps reserved range "172.17.0.0/16"`,
			}},
		{name: "a space too small for one cluster", space: "10.32.0.0/16", clusters: named("a", "b", "c"), exhausted: true,
			wantParts: []string{`address space "10.32.0.0/16" fits 0 clusters; 3 clusters need at least a /14`}},
		{name: "a space that fits some", space: "10.32.0.0/13", clusters: named("a", "b", "c", "d", "e", "f", "g", "h"), exhausted: true,
			wantParts: []string{`address space "10.32.0.0/13" fits 7 clusters; 8 clusters need at least a /12`}},
		{name: "big enough but reserved", space: "10.0.0.0/15", clusters: named("a"), exhausted: true,
			wantParts: []string{`address space "10.0.0.0/15" fits 0 clusters; 1 cluster needs at least a /15; this /15 is big enough, but reserved ranges and ranges already in use leave too little room`}},
		{name: "more than 10/8 holds", space: "10.0.0.0/8", clusters: named(manyNames(230)...), exhausted: true,
			wantParts: []string{`address space "10.0.0.0/8" fits 224 clusters; 230 clusters need at least a /7, larger than 10.0.0.0/8: split the fleet across environments`}},
		{name: "removed clusters hold their ranges for one plan", space: "10.32.0.0/15", clusters: named("b"), exhausted: true,
			previous: map[string]cluster.Network{"a": network("10.32.0.0/20", "10.33.0.0/16", "10.32.16.0/20")},
			wantParts: []string{`address space "10.32.0.0/15" fits 0 clusters; 1 cluster needs at least a /15; this /15 is big enough`,
				"(ranges of 1 cluster removed or renumbered in this plan stay held until the next one)"}},
		{name: "kept clusters count towards the space", space: "10.32.0.0/14", clusters: named("a", "b", "c", "d"), exhausted: true,
			previous:  map[string]cluster.Network{"d": network("10.32.0.0/20", "10.33.0.0/16", "10.32.16.0/20")},
			wantParts: []string{`address space "10.32.0.0/14" fits 3 clusters; 4 clusters need at least a /13`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			plan, err := PlanNetworks(tt.space, tt.clusters, tt.previous)
			require.Error(t, err)
			assert.Nil(t, plan)
			for _, part := range tt.wantParts {
				assert.Contains(t, err.Error(), part)
			}
			assert.Equal(t, tt.exhausted, IsExhausted(err), "IsExhausted(%v)", err)
		})
	}
}

func TestExhaustedErrorWraps(t *testing.T) {
	t.Parallel()
	_, err := PlanNetworks("10.32.0.0/16", named("a"), nil)
	require.Error(t, err)
	wrapped := fmt.Errorf("staging: plan networks: %w", err)
	assert.True(t, IsExhausted(wrapped))
	assert.False(t, IsExhausted(fmt.Errorf("other")))
}

func manyNames(n int) []string {
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("cluster-%03d", i)
	}
	return names
}

// The capacity table in the package documentation, computed by the planner.
func TestCapacityTable(t *testing.T) {
	t.Parallel()
	want := map[string]int{
		"10.32.0.0/15": 1, "10.32.0.0/14": 3, "10.32.0.0/13": 7, "10.32.0.0/12": 14,
		"10.32.0.0/11": 28, "10.64.0.0/10": 56, "10.128.0.0/9": 112, "10.0.0.0/8": 224,
		"172.16.0.0/12": 12, "192.168.0.0/16": 0,
	}
	for space, fits := range want {
		_, err := PlanNetworks(space, named(manyNames(300)...), nil)
		var ex *ExhaustedError
		require.ErrorAs(t, err, &ex, space)
		assert.Equal(t, fits, ex.Fits, space)
		if fits > 0 {
			plan, err := PlanNetworks(space, named(manyNames(fits)...), nil)
			require.NoError(t, err, space)
			assert.Len(t, plan, fits)
		}
	}
}
