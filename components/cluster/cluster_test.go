package cluster_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	azurenative "github.com/pulumi/pulumi-azure-native-sdk/v2"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		cloud cluster.Cloud
		edit  func(a *cluster.Args)
		want  []string
	}{
		{name: "unknown cloud", cloud: cluster.AWS, edit: func(a *cluster.Args) { a.Cloud = "oci" },
			want: []string{`Cloud "oci" is unknown`}},
		{name: "no cloud", cloud: cluster.AWS, edit: func(a *cluster.Args) { a.Cloud = "" },
			want: []string{`Cloud "" is unknown`}},
		{name: "region of another cloud", cloud: cluster.AWS, edit: func(a *cluster.Args) { a.Region = "europe-west1" },
			want: []string{`Region "europe-west1" is unknown for cloud "aws"`}},
		{name: "unknown sim region", cloud: cluster.Sim, edit: func(a *cluster.Args) { a.Region = "sim-mars-1" },
			want: []string{`Region "sim-mars-1" is unknown for cloud "sim"`}},
		{name: "zone of another region", cloud: cluster.AWS, edit: func(a *cluster.Args) { a.Zones = []string{"eu-west-1a", "us-east-1b"} },
			want: []string{`Zones[1] "us-east-1b" is not a zone of "eu-west-1"`}},
		{name: "zone twice", cloud: cluster.GCP, edit: func(a *cluster.Args) {
			a.Zones = []string{"europe-west1-b", "europe-west1-c", "europe-west1-b"}
		}, want: []string{`Zones[2] "europe-west1-b" is listed twice`}},
		{name: "one zone", cloud: cluster.Azure, edit: func(a *cluster.Args) { a.Zones = []string{"1"} },
			want: []string{`has 1 zone(s) in "westeurope", but a cluster spreads over at least 2 zones`}},
		{name: "prod in two zones", cloud: cluster.AWS, edit: func(a *cluster.Args) {
			a.Zones = []string{"eu-west-1a", "eu-west-1b"}
			a.Tags = costtags.Tags{"env": "prod"}
		}, want: []string{`a prod cluster (tag env=prod) spreads over at least 3 zones`}},
		{name: "prod in a two-zone region", cloud: cluster.AWS, edit: func(a *cluster.Args) {
			a.Region = "us-west-1"
			a.Tags = costtags.Tags{"env": "prod"}
		}, want: []string{`Zones ["us-west-1a" "us-west-1c"] has 2 zone(s) in "us-west-1"`}},
		{name: "patch version", cloud: cluster.GCP, edit: func(a *cluster.Args) { a.Version = "1.31.2" },
			want: []string{`Version "1.31.2" is not a Kubernetes minor in MAJOR.MINOR form`}},
		{name: "v prefix", cloud: cluster.AWS, edit: func(a *cluster.Args) { a.Version = "v1.31" },
			want: []string{`Version "v1.31" is not`}},
		{name: "no version", cloud: cluster.Azure, edit: func(a *cluster.Args) { a.Version = "" },
			want: []string{`Version "" is not`}},
		{name: "version no sim region offers", cloud: cluster.Sim, edit: func(a *cluster.Args) { a.Version = "1.28" },
			want: []string{`Version "1.28" is not offered in "sim-eu-1", which offers 1.29, 1.30, 1.31, 1.32, 1.33`}},
		{name: "newest version not yet in the region", cloud: cluster.Sim, edit: func(a *cluster.Args) { a.Version = "1.34" },
			want: []string{`Version "1.34" is not offered in "sim-eu-1"`}},
		{name: "malformed vpc", cloud: cluster.GCP, edit: func(a *cluster.Args) { a.Network.VPCCIDR = "10.0.0/16" },
			want: []string{`Network.VPCCIDR: "10.0.0/16" is not a CIDR`}},
		{name: "prefix too long", cloud: cluster.GCP, edit: func(a *cluster.Args) { a.Network.PodCIDR = "10.4.0.0/33" },
			want: []string{`Network.PodCIDR: "10.4.0.0/33" is not a CIDR`}},
		{name: "host bits", cloud: cluster.Azure, edit: func(a *cluster.Args) { a.Network.ServiceCIDR = "10.0.0.1/16" },
			want: []string{`Network.ServiceCIDR: "10.0.0.1/16" has host bits set; did you mean "10.0.0.0/16"?`}},
		{name: "ipv6", cloud: cluster.AWS, edit: func(a *cluster.Args) { a.Network.VPCCIDR = "fd00::/48" },
			want: []string{`Network.VPCCIDR: "fd00::/48" is not an IPv4 range`}},
		{name: "vpc overlaps pods", cloud: cluster.GCP, edit: func(a *cluster.Args) {
			a.Network = cluster.Network{VPCCIDR: "10.0.0.0/16", PodCIDR: "10.0.128.0/17", ServiceCIDR: "10.8.0.0/20"}
		}, want: []string{`Network.VPCCIDR "10.0.0.0/16" overlaps Network.PodCIDR "10.0.128.0/17"`}},
		{name: "pods overlap services", cloud: cluster.Azure, edit: func(a *cluster.Args) {
			a.Network = cluster.Network{PodCIDR: "10.0.0.0/12", ServiceCIDR: "10.0.0.0/16"}
		}, want: []string{`Network.PodCIDR "10.0.0.0/12" overlaps Network.ServiceCIDR "10.0.0.0/16"`}},
		{name: "docker bridge", cloud: cluster.GCP, edit: func(a *cluster.Args) { a.Network.ServiceCIDR = "172.17.0.0/20" },
			want: []string{`Network.ServiceCIDR "172.17.0.0/20" overlaps 172.17.0.0/16 Docker's default bridge`}},
		{name: "aks default service range", cloud: cluster.Azure, edit: func(a *cluster.Args) {
			a.Network = cluster.Network{VPCCIDR: "10.0.0.0/16", ServiceCIDR: "10.1.0.0/16"}
		}, want: []string{`Network.VPCCIDR "10.0.0.0/16" overlaps 10.0.0.0/16 the azure default service range`}},
		{name: "gke default service range", cloud: cluster.GCP, edit: func(a *cluster.Args) { a.Network.PodCIDR = "34.118.0.0/16" },
			want: []string{`Network.PodCIDR "34.118.0.0/16" overlaps 34.118.224.0/20 the gcp default service range`}},
		{name: "eks default service range", cloud: cluster.AWS, edit: func(a *cluster.Args) { a.Network.VPCCIDR = "10.100.0.0/16" },
			want: []string{`Network.VPCCIDR "10.100.0.0/16" overlaps 10.100.0.0/16 the aws default service range`}},
		{name: "vpc too small for aws", cloud: cluster.AWS, edit: func(a *cluster.Args) { a.Network.VPCCIDR = "10.0.0.0/24" },
			want: []string{`Network.VPCCIDR "10.0.0.0/24" is a /24; an AWS VPC for Flotilla is /16 to /22`}},
		{name: "pods not associable", cloud: cluster.AWS, edit: func(a *cluster.Args) { a.Network.PodCIDR = "192.168.0.0/16" },
			want: []string{`Network.PodCIDR "192.168.0.0/16" cannot be added to a VPC in "10.0.0.0/16"`}},
		{name: "public service range", cloud: cluster.AWS, edit: func(a *cluster.Args) { a.Network.ServiceCIDR = "100.66.0.0/16" },
			want: []string{`Network.ServiceCIDR "100.66.0.0/16" is not accepted by EKS`}},
		{name: "system min above max", cloud: cluster.AWS, edit: func(a *cluster.Args) { a.SystemPool = cluster.SystemPool{MinSize: 5, MaxSize: 3} },
			want: []string{"SystemPool.MinSize 5 is greater than SystemPool.MaxSize 3"}},
		{name: "empty system pool", cloud: cluster.GCP, edit: func(a *cluster.Args) { a.SystemPool = cluster.SystemPool{MaxSize: 3} },
			want: []string{"SystemPool.MinSize 0 is below 1"}},
		{name: "negative provision time", cloud: cluster.AWS, edit: func(a *cluster.Args) { a.MaxNodeProvisionTime = -time.Minute },
			want: []string{`MaxNodeProvisionTime "-1m0s" is negative`}},
		{name: "aks provision time in seconds", cloud: cluster.Azure, edit: func(a *cluster.Args) { a.MaxNodeProvisionTime = 90 * time.Second },
			want: []string{`MaxNodeProvisionTime "1m30s" is not a whole number of minutes`}},
		{name: "reserved aws tag", cloud: cluster.AWS, edit: func(a *cluster.Args) { a.Tags = costtags.Tags{"aws:owner": "x"} },
			want: []string{"Tags:", `"aws:owner"`}},
		{name: "every problem at once", cloud: cluster.AWS, edit: func(a *cluster.Args) {
			a.Region = "mars-1"
			a.Version = "latest"
			a.Network.ServiceCIDR = "172.17.0.0/16"
			a.SystemPool = cluster.SystemPool{MinSize: 4, MaxSize: 2}
		}, want: []string{`Region "mars-1"`, `Version "latest"`, "Docker's default bridge", "SystemPool.MinSize 4 is greater"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(tt.cloud)
			tt.edit(args)
			m := newMocks()
			err := m.Run(func(ctx *pulumi.Context) error {
				_, err := cluster.New(ctx, "eu", args)
				return err
			})
			require.Error(t, err)
			assert.True(t, cluster.IsInvalidArgs(err), "%v", err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Empty(t, m.Resources(), "nothing may be registered when args are invalid")
		})
	}
}

func TestNilArgs(t *testing.T) {
	t.Parallel()
	m := newMocks()
	err := m.Run(func(ctx *pulumi.Context) error {
		_, err := cluster.New(ctx, "eu", nil)
		return err
	})
	require.ErrorContains(t, err, `cluster "eu": args are required`)
	assert.Empty(t, m.Resources())
}

func TestInvalidArgsErrorUnwraps(t *testing.T) {
	t.Parallel()
	args := baseArgs(cluster.AWS)
	args.Version = "1"
	args.Region = "nowhere"
	m := newMocks()
	err := m.Run(func(ctx *pulumi.Context) error {
		_, err := cluster.New(ctx, "eu", args)
		return err
	})
	var invalid *cluster.InvalidArgsError
	require.True(t, errors.As(err, &invalid))
	assert.Equal(t, "eu", invalid.Name)
	assert.Len(t, invalid.Problems, 2)
}

// cloudCase describes, per cloud, the package prefix of its resources and its provider.
type cloudCase struct {
	cloud    cluster.Cloud
	prefix   string
	provider string
	newProv  func(ctx *pulumi.Context, name, region string) (pulumi.ProviderResource, error)
}

var cloudCases = []cloudCase{
	{cluster.AWS, "aws:", tokAWSProvider, func(ctx *pulumi.Context, name, region string) (pulumi.ProviderResource, error) {
		return aws.NewProvider(ctx, name, &aws.ProviderArgs{Region: pulumi.String(region)})
	}},
	{cluster.GCP, "gcp:", tokGCPProvider, func(ctx *pulumi.Context, name, region string) (pulumi.ProviderResource, error) {
		return gcp.NewProvider(ctx, name, &gcp.ProviderArgs{Region: pulumi.String(region)})
	}},
	{cluster.Azure, "azure-native:", tokAzProvider, func(ctx *pulumi.Context, name, region string) (pulumi.ProviderResource, error) {
		return azurenative.NewProvider(ctx, name, &azurenative.ProviderArgs{Location: pulumi.String(region)})
	}},
}

func TestChildrenAreParentedAndUseTheRegionProvider(t *testing.T) {
	t.Parallel()
	for _, cc := range cloudCases {
		t.Run(string(cc.cloud), func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cc.cloud)
			m, _ := run(t, "eu", args)

			comp := m.MustGet(t, tokCluster, "eu")
			prov := m.MustGet(t, cc.provider, "eu-provider")
			assert.Equal(t, comp.URN, prov.Parent)
			region := "region"
			if cc.cloud == cluster.Azure {
				region = "location"
			}
			assert.Equal(t, args.Region, in(t, prov, region).StringValue())

			var cloudResources int
			for _, r := range m.Resources() {
				if r.URN == comp.URN {
					continue
				}
				assert.Equal(t, comp.URN, r.Parent, "%s %s is a child of the cluster", r.Type, r.Name)
				assert.True(t, strings.HasPrefix(r.Name, "eu-"), "%s is named after the cluster", r.Name)
				if strings.HasPrefix(r.Type, cc.prefix) {
					cloudResources++
					assert.True(t, strings.HasPrefix(r.Provider, prov.URN+"::"), "%s %s uses the cluster's provider", r.Type, r.Name)
				}
			}
			assert.Greater(t, cloudResources, 3)
		})
	}
}

func TestProvidersFromOptions(t *testing.T) {
	t.Parallel()
	ways := []struct {
		name string
		opts func(p pulumi.ProviderResource, parent pulumi.Resource) []pulumi.ResourceOption
	}{
		{"Providers", func(p pulumi.ProviderResource, _ pulumi.Resource) []pulumi.ResourceOption {
			return []pulumi.ResourceOption{pulumi.Providers(p)}
		}},
		{"Provider", func(p pulumi.ProviderResource, _ pulumi.Resource) []pulumi.ResourceOption {
			return []pulumi.ResourceOption{pulumi.Provider(p)}
		}},
		{"parent's Providers", func(_ pulumi.ProviderResource, parent pulumi.Resource) []pulumi.ResourceOption {
			return []pulumi.ResourceOption{pulumi.Parent(parent)}
		}},
	}
	for _, cc := range cloudCases {
		for _, way := range ways {
			t.Run(string(cc.cloud)+" "+way.name, func(t *testing.T) {
				t.Parallel()
				m := newMocks()
				var a, b *cluster.Cluster
				var shared pulumi.ProviderResource
				err := m.Run(func(ctx *pulumi.Context) error {
					var err error
					if shared, err = cc.newProv(ctx, "shared", baseArgs(cc.cloud).Region); err != nil {
						return err
					}
					fleet := &pulumi.ResourceState{}
					if err := ctx.RegisterComponentResource("flotilla:test:Fleet", "fleet", fleet, pulumi.Providers(shared)); err != nil {
						return err
					}
					if a, err = cluster.New(ctx, "a", baseArgs(cc.cloud), way.opts(shared, fleet)...); err != nil {
						return err
					}
					b, err = cluster.New(ctx, "b", baseArgs(cc.cloud), way.opts(shared, fleet)...)
					return err
				})
				require.NoError(t, err)

				assert.Same(t, shared, a.Provider)
				assert.Same(t, shared, b.Provider)
				require.Len(t, m.ByType(cc.provider), 1, "the clusters create no provider of their own")
				sharedURN := m.MustGet(t, cc.provider, "shared").URN
				for _, r := range m.Resources() {
					if strings.HasPrefix(r.Type, cc.prefix) {
						assert.True(t, strings.HasPrefix(r.Provider, sharedURN+"::"), "%s %s uses the shared provider", r.Type, r.Name)
					}
				}
			})
		}
	}
}

func TestTwoClustersDoNotCollide(t *testing.T) {
	t.Parallel()
	for _, cc := range cloudCases {
		t.Run(string(cc.cloud), func(t *testing.T) {
			t.Parallel()
			m := newMocks()
			err := m.Run(func(ctx *pulumi.Context) error {
				for _, name := range []string{"blue", "green"} {
					if _, err := cluster.New(ctx, name, baseArgs(cc.cloud)); err != nil {
						return err
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
			blue := m.Children(m.MustGet(t, tokCluster, "blue").URN)
			green := m.Children(m.MustGet(t, tokCluster, "green").URN)
			assert.Equal(t, len(blue), len(green))
			assert.NotEmpty(t, blue)
		})
	}
}

func TestRegionsAndZones(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"sim-ap-1", "sim-central-1", "sim-east-1", "sim-eu-1", "sim-west-1"}, cluster.Regions(cluster.Sim))
	assert.Nil(t, cluster.Regions("oci"))
	for _, cloud := range []cluster.Cloud{cluster.AWS, cluster.GCP, cluster.Azure, cluster.Sim} {
		regions := cluster.Regions(cloud)
		assert.NotEmpty(t, regions)
		assert.IsIncreasing(t, regions)
		for _, r := range regions {
			assert.GreaterOrEqual(t, len(cluster.DefaultZones(cloud, r)), 2, "%s/%s", cloud, r)
		}
	}

	tests := []struct {
		cloud  cluster.Cloud
		region string
		want   []string
	}{
		{cluster.AWS, "us-east-1", []string{"us-east-1a", "us-east-1b", "us-east-1c"}},
		{cluster.AWS, "us-west-1", []string{"us-west-1a", "us-west-1c"}},
		{cluster.AWS, "ap-northeast-1", []string{"ap-northeast-1a", "ap-northeast-1c", "ap-northeast-1d"}},
		{cluster.GCP, "us-central1", []string{"us-central1-a", "us-central1-b", "us-central1-c"}},
		{cluster.Azure, "eastus2", []string{"1", "2", "3"}},
		{cluster.Sim, "sim-west-1", []string{"sim-west-1a", "sim-west-1b", "sim-west-1c"}},
		{cluster.AWS, "europe-west1", nil},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, cluster.DefaultZones(tt.cloud, tt.region), "%s/%s", tt.cloud, tt.region)
	}
}

func TestOfferedVersions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cloud  cluster.Cloud
		region string
		want   []string
	}{
		{cluster.Sim, "sim-eu-1", []string{"1.29", "1.30", "1.31", "1.32", "1.33"}},
		{cluster.Sim, "sim-east-1", []string{"1.29", "1.30", "1.31", "1.32", "1.33", "1.34"}},
		{cluster.Sim, "sim-mars-1", nil},
		{cluster.AWS, "us-east-1", nil}, // the managed clouds check their own offers
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, cluster.OfferedVersions(tt.cloud, tt.region), "%s/%s", tt.cloud, tt.region)
	}

	args := baseArgs(cluster.Sim)
	args.Region, args.Zones, args.Version = "sim-east-1", nil, "1.34"
	_, c := runSim(t, "off", args)
	assert.Equal(t, "sim-east-1", c.Region, "a region that offers the newest version takes it")
}

func TestGroupName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		cloud    cluster.Cloud
		pool     string
		capacity cluster.Capacity
		index    int
		want     string
	}{
		{cluster.AWS, "batch", cluster.Spot, 0, "batch-spot"},
		{cluster.AWS, "batch", cluster.OnDemand, 3, "batch-fallback"},
		{cluster.AWS, "eu.batch/jobs", cluster.Spot, 0, "eu-batch-jobs-spot"},
		{cluster.GCP, "batch", cluster.Spot, 1, "batch-spot-1"},
		{cluster.GCP, "Batch_Jobs", cluster.OnDemand, 0, "batch-jobs-fallback-0"},
		{cluster.Azure, "batch", cluster.Spot, 0, "batch0spot"},
		{cluster.Azure, "batch", cluster.OnDemand, 2, "batch2fall"},
		{cluster.Azure, "gpu-1", cluster.Spot, 0, "gpu10spot"},
		{cluster.Azure, "9lives", cluster.Spot, 0, "p9lives0spot"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, cluster.GroupName(tt.cloud, tt.pool, tt.capacity, tt.index), "%s %s %s %d", tt.cloud, tt.pool, tt.capacity, tt.index)
	}

	limits := []struct {
		cloud cluster.Cloud
		max   int
		valid *regexp.Regexp
	}{
		{cluster.AWS, 63, regexp.MustCompile(`^[0-9A-Za-z][0-9A-Za-z_-]*$`)},
		{cluster.GCP, 40, regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)},
		{cluster.Azure, 12, regexp.MustCompile(`^[a-z][a-z0-9]*$`)},
	}
	long := strings.Repeat("payments-settlement-", 5)
	for _, l := range limits {
		for _, c := range []cluster.Capacity{cluster.Spot, cluster.OnDemand} {
			a := cluster.GroupName(l.cloud, long+"a", c, 9)
			b := cluster.GroupName(l.cloud, long+"b", c, 9)
			assert.LessOrEqual(t, len(a), l.max, a)
			assert.Regexp(t, l.valid, a)
			assert.NotEqual(t, a, b, "long names that differ at the end stay distinct")
		}
	}
}

func TestIsProd(t *testing.T) {
	t.Parallel()
	assert.True(t, cluster.IsProd(costtags.Tags{"env": "prod"}))
	assert.True(t, cluster.IsProd(costtags.Tags{"env": "Prod"}))
	assert.False(t, cluster.IsProd(costtags.Tags{"env": "production-like"}))
	assert.False(t, cluster.IsProd(nil))
}

// TestProdRefusesAnOpenAPIEndpoint plays item 17's rule over every cloud: a prod cluster
// (tag env=prod) on AWS, GCP or Azure whose public endpoint is open to anywhere, by an
// empty API.AllowedCIDRs or by 0.0.0.0/0 or ::/0 in it, is refused before anything
// registers unless API.AllowAnywhere is set. The simulator is exempt: its API servers
// listen on loopback only. An allow-list naming anywhere needs AllowAnywhere everywhere.
func TestProdRefusesAnOpenAPIEndpoint(t *testing.T) {
	t.Parallel()
	const (
		emptyList = "API.AllowedCIDRs is empty, which leaves a prod cluster's (tag env=prod) public API endpoint open to anywhere: " +
			"list the ranges that may reach it in API.AllowedCIDRs (or set API.Private), or set API.AllowAnywhere to mean it"
		prodAnywhere = "opens a prod cluster's (tag env=prod) public API endpoint to anywhere: " +
			"list only the ranges that may reach it in API.AllowedCIDRs (or set API.Private), or set API.AllowAnywhere to mean it"
		anywhere = "opens the API endpoint to anywhere: set API.AllowAnywhere to mean it"
	)
	ways := []struct {
		name string
		api  cluster.APIAccess
		// prod and other are the refusal (empty: accepted) of a prod and a staging
		// cluster on AWS, GCP and Azure; sim is the simulator's, prod or not.
		prod, other, sim string
	}{
		{name: "open", api: cluster.APIAccess{}, prod: emptyList},
		{name: "0.0.0.0/0", api: cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24", "0.0.0.0/0"}},
			prod: `API.AllowedCIDRs: "0.0.0.0/0" ` + prodAnywhere, other: `API.AllowedCIDRs: "0.0.0.0/0" ` + anywhere, sim: `"0.0.0.0/0" ` + anywhere},
		{name: "::/0", api: cluster.APIAccess{AllowedCIDRs: []string{"::/0"}},
			prod: `API.AllowedCIDRs: "::/0" ` + prodAnywhere, other: `API.AllowedCIDRs: "::/0" ` + anywhere, sim: `"::/0" ` + anywhere},
		{name: "private", api: cluster.APIAccess{Private: true}},
		{name: "private with anywhere listed", api: cluster.APIAccess{Private: true, AllowedCIDRs: []string{"0.0.0.0/0"}},
			prod: `"0.0.0.0/0" ` + anywhere, other: `"0.0.0.0/0" ` + anywhere, sim: `"0.0.0.0/0" ` + anywhere},
		{name: "allowed", api: cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24", "2001:db8::/32"}}},
		{name: "AllowAnywhere", api: cluster.APIAccess{AllowAnywhere: true}},
		{name: "AllowAnywhere with 0.0.0.0/0", api: cluster.APIAccess{AllowAnywhere: true, AllowedCIDRs: []string{"0.0.0.0/0", "::/0"}}},
	}
	for _, w := range ways {
		for _, cloud := range []cluster.Cloud{cluster.AWS, cluster.GCP, cluster.Azure, cluster.Sim} {
			for _, env := range []string{"prod", "staging"} {
				t.Run(w.name+" "+string(cloud)+" "+env, func(t *testing.T) {
					t.Parallel()
					want := w.other
					switch {
					case cloud == cluster.Sim:
						want = w.sim
					case env == "prod":
						want = w.prod
					}
					args := baseArgs(cloud)
					args.Tags = costtags.Tags{"team": "payments", "env": env}
					args.API = w.api
					if cloud == cluster.Sim {
						args.SimLite = true
					}
					m := newMocks()
					err := m.Run(func(ctx *pulumi.Context) error {
						_, err := cluster.New(ctx, "eu", args)
						return err
					})
					if want == "" {
						require.NoError(t, err)
						assert.NotEmpty(t, m.ByType(tokCluster))
						return
					}
					require.Error(t, err)
					assert.True(t, cluster.IsInvalidArgs(err), "%v", err)
					assert.Contains(t, err.Error(), want)
					var invalid *cluster.InvalidArgsError
					require.True(t, errors.As(err, &invalid))
					assert.Len(t, invalid.Problems, 1, "%v", err)
					assert.Empty(t, m.Resources(), "nothing may be registered when args are invalid")
				})
			}
		}
	}
}
