package costtags

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/components/costtags/internal/taggable"
)

// TestTaggableTableIsCurrent regenerates the table from the SDK sources in the module
// cache and fails when the committed zz_taggable.go differs, e.g. after an SDK bump.
func TestTaggableTableIsCurrent(t *testing.T) {
	t.Parallel()
	table, err := taggable.Load(context.Background(), ".")
	require.NoError(t, err)
	want, err := table.Render("costtags", "taggableTypes")
	require.NoError(t, err)
	got, err := os.ReadFile("zz_taggable.go")
	require.NoError(t, err)

	if !bytes.Equal(want, got) {
		var added, removed, changed []string
		scanned := map[string]string{}
		for _, e := range table.Entries {
			scanned[e.Token] = e.Property
			prop, ok := taggableTypes[e.Token]
			switch {
			case !ok:
				added = append(added, e.Token)
			case prop != e.Property:
				changed = append(changed, e.Token)
			}
		}
		for tok := range taggableTypes {
			if _, ok := scanned[tok]; !ok {
				removed = append(removed, tok)
			}
		}
		t.Fatalf("zz_taggable.go does not match the SDKs in go.mod (%d types to add, %d to remove, %d changed: %.5q %.5q %.5q); run `go generate ./components/costtags`",
			len(added), len(removed), len(changed), added, removed, changed)
	}
	// What the binary holds is what the file says.
	require.Len(t, taggableTypes, len(table.Entries))
	for _, e := range table.Entries {
		assert.Equal(t, e.Property, taggableTypes[e.Token], e.Token)
	}
}

func TestTaggableTable(t *testing.T) {
	t.Parallel()
	cases := []struct {
		token string
		want  string // empty: not taggable
	}{
		{"aws:ec2/vpc:Vpc", "tags"},
		{"aws:eks/cluster:Cluster", "tags"},
		{"aws:ec2/launchTemplate:LaunchTemplate", "tags"},
		{"gcp:organizations/project:Project", "labels"},
		{"gcp:compute/instance:Instance", "labels"},
		{"gcp:container/cluster:Cluster", "resourceLabels"},
		{"azure-native:resources:ResourceGroup", "tags"},
		{"azure-native:containerservice:ManagedCluster", "tags"},
		{"azure-native:containerservice:AgentPool", "tags"},
		{"azure-native:network:VirtualNetwork", "tags"},
		{"kubernetes:core/v1:Namespace", "metadata.labels"},
		{"kubernetes:apps/v1:Deployment", "metadata.labels"},
		{"kubernetes:core/v1:Event", "metadata.labels"},
		// Tags of another shape: a list of structs, network tags, a ListMeta, a patch.
		{"aws:autoscaling/group:Group", ""},
		{"gcp:compute/network:Network", ""},
		{"kubernetes:core/v1:ConfigMapList", ""},
		{"kubernetes:core/v1:NamespacePatch", ""},
		// No tags at all.
		{"aws:ec2/routeTableAssociation:RouteTableAssociation", ""},
		{"aws:costexplorer/costAllocationTag:CostAllocationTag", ""},
		{"gcp:projects/iAMMember:IAMMember", ""},
		{"gcp:container/nodePool:NodePool", ""},
		{"azure-native:resources:TagAtScope", ""},
		{"pulumi:providers:aws", ""},
	}
	for _, tc := range cases {
		t.Run(tc.token, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tc.want, taggableTypes[tc.token])
		})
	}
}
