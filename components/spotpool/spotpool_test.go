package spotpool_test

import (
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/components/spotpool"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var clouds = []cluster.Cloud{cluster.AWS, cluster.GCP, cluster.Azure}

func TestValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cloud cluster.Cloud
		env   string
		edit  func(a *spotpool.Args)
		want  []string
	}{
		{name: "one instance type", cloud: cluster.AWS, edit: func(a *spotpool.Args) { a.InstanceTypes = []string{"m6i.xlarge"} },
			want: []string{`InstanceTypes ["m6i.xlarge"] has 1 type(s); a spot pool needs at least 2`}},
		{name: "no instance types", cloud: cluster.GCP, edit: func(a *spotpool.Args) { a.InstanceTypes = nil },
			want: []string{`InstanceTypes [] has 0 type(s)`}},
		{name: "type twice", cloud: cluster.Azure, edit: func(a *spotpool.Args) {
			a.InstanceTypes = []string{"Standard_D4s_v5", "Standard_D4as_v5", "Standard_D4s_v5"}
		}, want: []string{`InstanceTypes[2] "Standard_D4s_v5" is listed twice`}},
		{name: "empty type", cloud: cluster.AWS, edit: func(a *spotpool.Args) { a.InstanceTypes = []string{"m6i.xlarge", " "} },
			want: []string{"InstanceTypes[1] is empty"}},
		{name: "too many types for aks", cloud: cluster.Azure, edit: func(a *spotpool.Args) {
			a.InstanceTypes = nil
			for _, s := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"} {
				a.InstanceTypes = append(a.InstanceTypes, "Standard_"+s)
			}
		}, want: []string{"InstanceTypes has 11 types; on Azure each type is an agent pool and a spot pool has at most 10"}},
		{name: "min above max", cloud: cluster.AWS, edit: func(a *spotpool.Args) { a.MinSize, a.MaxSize = 5, 3 },
			want: []string{"MinSize 5 is greater than MaxSize 3"}},
		{name: "fallback smaller than the minimum", cloud: cluster.AWS, edit: func(a *spotpool.Args) { a.MinSize, a.MaxSize, a.Fallback.MaxSize = 4, 6, 2 },
			want: []string{"Fallback.MaxSize 2 is below MinSize 4"}},
		{name: "no max", cloud: cluster.GCP, edit: func(a *spotpool.Args) { a.MinSize, a.MaxSize = 0, 0 },
			want: []string{"MaxSize 0 is below 1"}},
		{name: "negative min", cloud: cluster.Azure, edit: func(a *spotpool.Args) { a.MinSize = -1 },
			want: []string{"MinSize -1 is negative"}},
		{name: "zone outside the cluster", cloud: cluster.AWS, edit: func(a *spotpool.Args) { a.Zones = []string{"eu-west-1a", "us-east-1a"} },
			want: []string{`Zones[1] "us-east-1a" is not one of the cluster's zones`}},
		{name: "zone twice", cloud: cluster.GCP, edit: func(a *spotpool.Args) { a.Zones = []string{"europe-west1-b", "europe-west1-b"} },
			want: []string{`Zones[1] "europe-west1-b" is listed twice`}},
		{name: "aks system mode label", cloud: cluster.Azure, edit: func(a *spotpool.Args) {
			a.Labels = map[string]string{"kubernetes.azure.com/mode": "system"}
		}, want: []string{`Labels["kubernetes.azure.com/mode"] = "system" asks for a system pool: a spot pool cannot be a system pool`}},
		{name: "critical addons taint", cloud: cluster.AWS, edit: func(a *spotpool.Args) {
			a.Taints = []spotpool.Taint{{Key: "CriticalAddonsOnly", Value: "true", Effect: "NoSchedule"}}
		}, want: []string{`Taints[0] "CriticalAddonsOnly" asks for a system pool`}},
		{name: "reserved label", cloud: cluster.GCP, edit: func(a *spotpool.Args) { a.Labels = map[string]string{"flotilla.io/pool": "other"} },
			want: []string{`Labels["flotilla.io/pool"]: the flotilla.io/ prefix is Flotilla's`}},
		{name: "reserved taint", cloud: cluster.AWS, edit: func(a *spotpool.Args) {
			a.Taints = []spotpool.Taint{{Key: "flotilla.io/capacity", Value: "spot", Effect: "NoSchedule"}}
		}, want: []string{`Taints[0] key "flotilla.io/capacity": the flotilla.io/ prefix is Flotilla's`}},
		{name: "bad taint", cloud: cluster.Azure, edit: func(a *spotpool.Args) {
			a.Taints = []spotpool.Taint{{Key: "", Value: "x", Effect: "NoScheduling"}}
		}, want: []string{"Taints[0] has an empty key", `Taints[0] effect "NoScheduling" is not one of NoSchedule, PreferNoSchedule, NoExecute`}},
		{name: "no fallback and no minimum on prod", cloud: cluster.AWS, env: "prod", edit: func(a *spotpool.Args) {
			a.MinSize = 0
			a.Fallback.Disabled = true
		}, want: []string{"Fallback.Disabled with MinSize 0 on a prod cluster leaves no guaranteed capacity"}},
		{name: "negative fallback size", cloud: cluster.GCP, edit: func(a *spotpool.Args) { a.Fallback.MaxSize = -2 },
			want: []string{"Fallback.MaxSize -2 is negative"}},
		{name: "negative provision timeout", cloud: cluster.AWS, edit: func(a *spotpool.Args) { a.Fallback.ProvisionTimeout = -time.Second },
			want: []string{`Fallback.ProvisionTimeout "-1s" is negative`}},
		{name: "fallback type twice", cloud: cluster.AWS, edit: func(a *spotpool.Args) { a.Fallback.InstanceTypes = []string{"m5.large", "m5.large"} },
			want: []string{`Fallback.InstanceTypes[1] "m5.large" is listed twice`}},
		{name: "no cluster", cloud: cluster.AWS, edit: func(a *spotpool.Args) { a.Cluster = nil },
			want: []string{"Cluster is nil: pass the *cluster.Cluster that cluster.New returned"}},
		{name: "cluster not from New", cloud: cluster.GCP, edit: func(a *spotpool.Args) {
			a.Cluster = &cluster.Cluster{Cloud: cluster.GCP, Region: "europe-west1", Zones: []string{"europe-west1-b"}}
		}, want: []string{`Cluster "europe-west1" has no gcp resources to attach to`}},
		{name: "sim cluster not from New", cloud: cluster.Sim, edit: func(a *spotpool.Args) {
			a.Cluster = &cluster.Cluster{Cloud: cluster.Sim, Region: "sim-eu-1", Zones: []string{"sim-eu-1a"}}
		}, want: []string{`Cluster "sim-eu-1" has no node version for its pools: build it with cluster.New`}},
		{name: "reserved aws tag", cloud: cluster.AWS, edit: func(a *spotpool.Args) { a.Tags = costtags.Tags{"aws:createdBy": "me"} },
			want: []string{"Tags:", `"aws:createdBy"`}},
		{name: "every problem at once", cloud: cluster.Azure, env: "prod", edit: func(a *spotpool.Args) {
			a.InstanceTypes = []string{"Standard_D4s_v5"}
			a.MinSize, a.MaxSize = 0, 0
			a.Fallback.Disabled = true
			a.Labels = map[string]string{"flotilla.io/capacity": "x"}
		}, want: []string{"has 1 type(s)", "MaxSize 0 is below 1", "no guaranteed capacity", `Labels["flotilla.io/capacity"]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := tt.env
			if env == "" {
				env = "staging"
			}
			m, _, err := run(t, tt.cloud, env, tt.edit)
			require.Error(t, err)
			assert.True(t, spotpool.IsInvalidArgs(err), "%v", err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assertNothingRegistered(t, m)
		})
	}
}

func TestValidationOfNames(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		want string
	}{
		{"system", `name "system" is the cluster's system pool: a spot pool cannot be a system pool`},
		{"batch jobs!", `name "batch jobs!" cannot be the value of the flotilla.io/pool label`},
		{"-batch", `name "-batch" cannot be the value`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m := pulumitest.New().FakeClouds()
			err := m.Run(func(ctx *pulumi.Context) error {
				c, err := cluster.New(ctx, "eu", clusterArgs(cluster.AWS, "staging"))
				if err != nil {
					return err
				}
				_, err = spotpool.New(ctx, tt.name, poolArgs(c))
				return err
			})
			require.ErrorContains(t, err, tt.want)
			assert.Empty(t, m.ByType(tokPool))
			assert.Len(t, m.ByType(tokNodeGroup), 1, "only the cluster's system group")
		})
	}
}

func TestNilArgs(t *testing.T) {
	t.Parallel()
	m := pulumitest.New()
	err := m.Run(func(ctx *pulumi.Context) error {
		_, err := spotpool.New(ctx, "batch", nil)
		return err
	})
	require.ErrorContains(t, err, `spot pool "batch": args are required`)
	assert.Empty(t, m.Resources())
}

func TestFallbackMayBeDisabledWithCapacityOrOffProd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  string
		min  int
	}{
		{"prod with a minimum", "prod", 2},
		{"staging without a minimum", "staging", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := run(t, cluster.AWS, tt.env, func(a *spotpool.Args) {
				a.MinSize = tt.min
				a.Fallback.Disabled = true
			})
			require.NoError(t, err)
		})
	}
}

// assertNothingRegistered checks that the pool registered nothing: only the cluster's
// resources exist.
func assertNothingRegistered(t *testing.T, m *pulumitest.Mocks) {
	t.Helper()
	assert.Empty(t, m.ByType(tokPool))
	for _, r := range m.Resources() {
		assert.False(t, strings.HasPrefix(r.Name, "batch"), "%s %s was registered", r.Type, r.Name)
	}
}

func TestWarnings(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cloud cluster.Cloud
		edit  func(a *spotpool.Args)
		want  []string
	}{
		{name: "four types and the cluster's timeout", cloud: cluster.AWS},
		{name: "the cluster's timeout said again", cloud: cluster.Azure, edit: func(a *spotpool.Args) { a.Fallback.ProvisionTimeout = 5 * time.Minute }},
		{name: "two types", cloud: cluster.GCP, edit: func(a *spotpool.Args) { a.InstanceTypes = a.InstanceTypes[:2] },
			want: []string{`spot pool "batch" has 2 instance types; 4 or more`}},
		{name: "aws timeout differs", cloud: cluster.AWS, edit: func(a *spotpool.Args) { a.Fallback.ProvisionTimeout = 3 * time.Minute },
			want: []string{`Fallback.ProvisionTimeout 3m0s does not apply: the cluster-autoscaler's --max-node-provision-time is one setting per cluster, and this cluster's is 5m0s`}},
		{name: "azure timeout differs", cloud: cluster.Azure, edit: func(a *spotpool.Args) { a.Fallback.ProvisionTimeout = 10 * time.Minute },
			want: []string{`Fallback.ProvisionTimeout 10m0s does not apply: the cluster-autoscaler's --max-node-provision-time is one setting per cluster, and this cluster's is 5m0s`}},
		{name: "gcp has no timeout", cloud: cluster.GCP, edit: func(a *spotpool.Args) { a.Fallback.ProvisionTimeout = 3 * time.Minute },
			want: []string{"does not apply on GCP"}},
		{name: "no fallback, no timeout", cloud: cluster.AWS, edit: func(a *spotpool.Args) {
			a.Fallback = spotpool.Fallback{Disabled: true, ProvisionTimeout: time.Minute}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, _ := mustRun(t, tt.cloud, tt.edit)
			warnings := strings.Join(m.Warnings(), "\n")
			assert.Len(t, m.Warnings(), len(tt.want), warnings)
			for _, w := range tt.want {
				assert.Contains(t, warnings, w)
			}
			for _, l := range m.Logs() {
				if l.Severity == "warn" {
					assert.Equal(t, m.MustGet(t, tokPool, "batch").URN, l.Resource, "the warning is about the pool")
				}
			}
		})
	}
}

func TestChildrenAreParentedAndNamed(t *testing.T) {
	t.Parallel()
	for _, cloud := range clouds {
		t.Run(string(cloud), func(t *testing.T) {
			t.Parallel()
			m, _ := mustRun(t, cloud, nil)
			comp := m.MustGet(t, tokPool, "batch")
			children := poolResources(m, "batch")
			require.NotEmpty(t, children)
			for _, r := range m.Resources() {
				if strings.HasPrefix(r.Name, "batch-") {
					assert.Equal(t, comp.URN, r.Parent, "%s %s is a child of the pool", r.Type, r.Name)
				}
			}
			for _, r := range children {
				assert.True(t, strings.HasPrefix(r.Name, "batch-"), "%s is named after the pool", r.Name)
				assert.NotEmpty(t, r.Provider, "%s %s has an explicit provider", r.Type, r.Name)
			}
		})
	}
}

func TestTwoPoolsDoNotCollide(t *testing.T) {
	t.Parallel()
	for _, cloud := range clouds {
		t.Run(string(cloud), func(t *testing.T) {
			t.Parallel()
			m := pulumitest.New().FakeClouds()
			err := m.Run(func(ctx *pulumi.Context) error {
				for _, cl := range []string{"eu", "us"} {
					c, err := cluster.New(ctx, cl, clusterArgs(cloud, "staging"))
					if err != nil {
						return err
					}
					for _, pool := range []string{"batch", "web"} {
						if _, err := spotpool.New(ctx, cl+"-"+pool, poolArgs(c)); err != nil {
							return err
						}
					}
				}
				return nil
			})
			require.NoError(t, err)
			seen := map[string]bool{}
			for _, r := range m.Resources() {
				assert.False(t, seen[r.URN], "URN %s registered twice", r.URN)
				seen[r.URN] = true
			}
			require.Len(t, m.ByType(tokPool), 4)
			n := len(poolResources(m, "eu-batch"))
			for _, name := range []string{"eu-web", "us-batch", "us-web"} {
				assert.Len(t, poolResources(m, name), n, name)
			}
		})
	}
}

func TestPoolUsesTheClustersSharedProvider(t *testing.T) {
	t.Parallel()
	m := pulumitest.New().FakeClouds()
	err := m.Run(func(ctx *pulumi.Context) error {
		shared, err := aws.NewProvider(ctx, "eu-west-1", &aws.ProviderArgs{Region: pulumi.String("eu-west-1")})
		if err != nil {
			return err
		}
		c, err := cluster.New(ctx, "eu", clusterArgs(cluster.AWS, "staging"), pulumi.Providers(shared))
		if err != nil {
			return err
		}
		_, err = spotpool.New(ctx, "batch", poolArgs(c))
		return err
	})
	require.NoError(t, err)
	shared := m.MustGet(t, "pulumi:providers:aws", "eu-west-1").URN
	require.Len(t, m.ByType("pulumi:providers:aws"), 1)
	for _, r := range poolResources(m, "batch") {
		assert.True(t, strings.HasPrefix(r.Provider, shared+"::"), "%s %s uses the shared provider", r.Type, r.Name)
	}
}
