package spotpool_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/spotpool"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGCPNodePools(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		edit          func(*spotpool.Args)
		zones         []string
		fallbackTypes []string
		fallbackMax   float64
	}{
		{
			name:          "a pool per type, fallback like spot",
			zones:         []string{"europe-west1-b", "europe-west1-c", "europe-west1-d"},
			fallbackTypes: instanceTypes[cluster.GCP],
			fallbackMax:   10,
		},
		{
			name: "own fallback in two zones",
			edit: func(a *spotpool.Args) {
				a.Zones = []string{"europe-west1-c", "europe-west1-d"}
				a.Fallback = spotpool.Fallback{InstanceTypes: []string{"n2-standard-8"}, MaxSize: 3}
			},
			zones:         []string{"europe-west1-c", "europe-west1-d"},
			fallbackTypes: []string{"n2-standard-8"},
			fallbackMax:   3,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, pool := mustRun(t, cluster.GCP, tt.edit)
			wantLabels, err := costtags.ForGCP(costtags.Tags{"team": "data", "env": "staging", "cost-center": "cc-100", "app": "etl"})
			require.NoError(t, err)
			comp := m.MustGet(t, tokPool, "batch")
			provider := m.MustGet(t, "pulumi:providers:gcp", "eu-provider").URN

			check := func(resourceName, poolName, machineType string, spot bool, min, max float64, policy string) {
				t.Helper()
				np := m.MustGet(t, tokNodePool, resourceName)
				assert.Equal(t, comp.URN, np.Parent)
				assert.True(t, strings.HasPrefix(np.Provider, provider+"::"), "uses the cluster's provider")
				assert.Equal(t, poolName, in(t, np, "name").StringValue())
				assert.Equal(t, "eu-gke-5c2a", in(t, np, "cluster").StringValue())
				assert.Equal(t, "europe-west1", in(t, np, "location").StringValue())
				assert.Equal(t, tt.zones, strs(t, in(t, np, "nodeLocations")))
				assert.Equal(t, pulumitest.FakeGKEVersion, in(t, np, "version").StringValue())
				assert.Equal(t, machineType, in(t, np, "nodeConfig", "machineType").StringValue())
				assert.Equal(t, spot, in(t, np, "nodeConfig", "spot").BoolValue())
				assert.Equal(t, min, in(t, np, "autoscaling", "totalMinNodeCount").NumberValue())
				assert.Equal(t, max, in(t, np, "autoscaling", "totalMaxNodeCount").NumberValue())
				assert.Equal(t, policy, in(t, np, "autoscaling", "locationPolicy").StringValue())
				assert.Equal(t, wantLabels, strMap(t, in(t, np, "nodeConfig", "resourceLabels")), "cost labels")
				assert.Equal(t, "eu-nodes@"+pulumitest.FakeGCPProject+".iam.gserviceaccount.com", in(t, np, "nodeConfig", "serviceAccount").StringValue())
				capacity, wantTaints := "on-demand", []string{"cloud.google.com/compute-class=batch:NO_SCHEDULE", "dedicated=batch:NO_EXECUTE"}
				if spot {
					capacity = "spot"
					wantTaints = append([]string{"flotilla.io/capacity=spot:NO_SCHEDULE"}, wantTaints...)
				}
				assert.Equal(t, map[string]string{
					"workload":                       "batch",
					"flotilla.io/pool":               "batch",
					"flotilla.io/capacity":           capacity,
					"cloud.google.com/compute-class": "batch",
				}, strMap(t, in(t, np, "nodeConfig", "labels")))
				assert.Equal(t, wantTaints, taints(t, in(t, np, "nodeConfig", "taints")))
			}
			var spotNames, fallbackNames []string
			for i, typ := range instanceTypes[cluster.GCP] {
				min := 0.0
				if i == 0 {
					min = 1 // the preferred type holds the pool's minimum
				}
				name := fmt.Sprintf("batch-spot-%d", i)
				check(name, name, typ, true, min, 10, "ANY")
				spotNames = append(spotNames, name)
			}
			for i, typ := range tt.fallbackTypes {
				name := fmt.Sprintf("batch-fallback-%d", i)
				check(name, name, typ, false, 0, tt.fallbackMax, "BALANCED")
				fallbackNames = append(fallbackNames, name)
			}
			assert.Len(t, m.ByType(tokNodePool), 1+len(spotNames)+len(fallbackNames), "and the system pool")

			// The ComputeClass ranks spot first, the fallback second, and moves back.
			cc := m.MustGet(t, tokComputeClass, "batch-class")
			assert.Equal(t, comp.URN, cc.Parent)
			assert.True(t, strings.HasPrefix(cc.Provider, m.MustGet(t, "pulumi:providers:kubernetes", "eu-k8s").URN+"::"))
			assert.Equal(t, "batch", in(t, cc, "metadata", "name").StringValue())
			prios := in(t, cc, "spec", "priorities").ArrayValue()
			require.Len(t, prios, 2)
			assert.Equal(t, spotNames, strs(t, pulumitest.Prop(t, prios[0], "nodepools")))
			assert.Equal(t, fallbackNames, strs(t, pulumitest.Prop(t, prios[1], "nodepools")))
			assert.True(t, in(t, cc, "spec", "activeMigration", "optimizeRulePriority").BoolValue())
			assert.False(t, in(t, cc, "spec", "nodePoolAutoCreation", "enabled").BoolValue())

			assert.Equal(t, "batch-spot-0", pulumitest.Await(t, pool.SpotPoolName))
			assert.Equal(t, "batch-fallback-0", pulumitest.Await(t, pool.FallbackPoolName))
			assert.Equal(t, map[string]string{"flotilla.io/pool": "batch", "cloud.google.com/compute-class": "batch"}, pulumitest.Await(t, pool.NodeSelector))
			assert.Equal(t, []string{
				"flotilla.io/capacity=spot:NoSchedule",
				"cloud.google.com/compute-class=batch:NoSchedule",
				"dedicated=batch:NoExecute",
			}, pulumitest.Await(t, pool.Tolerations))
		})
	}
}

func TestGCPComputeClassWithoutFallback(t *testing.T) {
	t.Parallel()
	m, _ := mustRun(t, cluster.GCP, func(a *spotpool.Args) { a.Fallback.Disabled = true })
	prios := in(t, m.MustGet(t, tokComputeClass, "batch-class"), "spec", "priorities").ArrayValue()
	require.Len(t, prios, 1)
	assert.Equal(t, []string{"batch-spot-0", "batch-spot-1", "batch-spot-2", "batch-spot-3"}, strs(t, pulumitest.Prop(t, prios[0], "nodepools")))
}

// gkeNodePoolForceNew classifies node pool inputs by whether a change replaces the pool
// (ForceNew) or updates it in place, at the provider behind the pinned SDK: pulumi-gcp
// v7.38.0 bridges terraform-provider-google-beta v5.42.0 (its SDK has 5.42.0's fields
// and none of 5.43.0's), whose google_container_node_pool schema is
// google-beta/services/container/resource_container_node_pool.go (the pool's own
// fields) and node_config.go (schemaNodeConfig, the nodeConfig block):
//   - ForceNew on the pool: name, name_prefix, cluster, location, project,
//     initial_node_count, max_pods_per_node, placement_policy, queued_provisioning;
//     updated in place: node_locations, version, node_count, autoscaling, management,
//     upgrade_settings.
//   - ForceNew in node_config: spot, preemptible, service_account, oauth_scopes,
//     metadata, min_cpu_platform, local_ssd_count, guest_accelerator,
//     boot_disk_kms_key, shielded_instance_config, reservation_affinity, gvnic; and
//     taint, which the v5 upgrade guide (website/docs/guides/version_5_upgrade.html.markdown,
//     "node_config.0.taint field change") keeps immutable: "any changes will cause a
//     recreate to be planned".
//   - Updated in place in node_config: labels, resource_labels, tags, image_type,
//     workload_metadata_config, and, since v5.10.0, machine_type, disk_type and
//     disk_size_gb (GoogleCloudPlatform/magic-modules#9575 dropped their ForceNew).
//
// Every input a Flotilla pool sends must be classified here, so that a new input is
// looked up in the provider source before it ships.
var gkeNodePoolForceNew = map[string]bool{
	"name":               true,
	"namePrefix":         true,
	"cluster":            true,
	"location":           true,
	"project":            true,
	"initialNodeCount":   true,
	"maxPodsPerNode":     true,
	"placementPolicy":    true,
	"queuedProvisioning": true,
	"nodeLocations":      false,
	"version":            false,
	"nodeCount":          false,
	"autoscaling":        false,
	"management":         false,
	"upgradeSettings":    false,

	"nodeConfig.spot":                   true,
	"nodeConfig.preemptible":            true,
	"nodeConfig.serviceAccount":         true,
	"nodeConfig.oauthScopes":            true,
	"nodeConfig.taints":                 true,
	"nodeConfig.metadata":               true,
	"nodeConfig.minCpuPlatform":         true,
	"nodeConfig.localSsdCount":          true,
	"nodeConfig.guestAccelerators":      true,
	"nodeConfig.bootDiskKmsKey":         true,
	"nodeConfig.shieldedInstanceConfig": true,
	"nodeConfig.reservationAffinity":    true,
	"nodeConfig.gvnic":                  true,
	"nodeConfig.machineType":            false,
	"nodeConfig.diskType":               false,
	"nodeConfig.diskSizeGb":             false,
	"nodeConfig.labels":                 false,
	"nodeConfig.resourceLabels":         false,
	"nodeConfig.tags":                   false,
	"nodeConfig.imageType":              false,
	"nodeConfig.workloadMetadataConfig": false,
}

// TestGCPNodePoolNamesSurviveReplacement checks every GKE node pool of a cluster, the
// system pool and a spot pool's spot and fallback pools: each has a fixed name, which the
// ComputeClass ranks, and sets inputs whose change replaces it. So each must be deleted
// before its replacement is created, or GKE refuses the replacement's duplicate name.
func TestGCPNodePoolNamesSurviveReplacement(t *testing.T) {
	t.Parallel()
	rec := &optsRecorder{Mocks: pulumitest.New().FakeClouds(), deleteBeforeReplace: map[string]bool{}}
	err := pulumi.RunErr(func(ctx *pulumi.Context) error {
		c, err := cluster.New(ctx, "eu", clusterArgs(cluster.GCP, "staging"))
		if err != nil {
			return err
		}
		_, err = spotpool.New(ctx, "batch", poolArgs(c))
		return err
	}, pulumi.WithMocks(pulumitest.Project, pulumitest.Stack, rec))
	require.NoError(t, err)

	pools := rec.ByType(tokNodePool)
	require.Len(t, pools, 1+2*len(instanceTypes[cluster.GCP]), "the system pool, and a spot and a fallback pool per type")
	for _, np := range pools {
		var forceNew []string
		classify := func(field string) {
			replaces, known := gkeNodePoolForceNew[field]
			assert.True(t, known, "%s: input %q is not classified: look it up in the provider source and add it to gkeNodePoolForceNew", np.Name, field)
			if replaces {
				forceNew = append(forceNew, field)
			}
		}
		for key, v := range np.Inputs {
			if key != "nodeConfig" {
				classify(string(key))
				continue
			}
			require.True(t, v.IsObject())
			for sub := range v.ObjectValue() {
				classify("nodeConfig." + string(sub))
			}
		}
		assert.Subset(t, forceNew, []string{"name", "cluster", "location", "initialNodeCount", "nodeConfig.serviceAccount", "nodeConfig.oauthScopes"}, "%s", np.Name)
		if _, tainted := np.Inputs["nodeConfig"].ObjectValue()["taints"]; tainted {
			assert.Contains(t, forceNew, "nodeConfig.taints", "%s: a change of taints replaces the pool", np.Name)
		}
		_, prefixed := np.Inputs["namePrefix"]
		assert.False(t, prefixed, "%s: named, not prefixed", np.Name)
		name := in(t, np, "name").StringValue()
		require.NotEmpty(t, name, "%s: a fixed name, ranked by the ComputeClass", np.Name)
		assert.True(t, rec.deleteBeforeReplace[tokNodePool+"::"+np.Name],
			"%s: a replacement of node pool %q (a change of %v) must delete it first, or GKE refuses the duplicate name", np.Name, name, forceNew)
	}
}
