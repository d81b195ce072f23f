package cluster_test

import (
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestGCPNetwork(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		network cluster.Network
		want    cluster.Network
	}{
		{name: "defaults", want: cluster.Network{VPCCIDR: "10.0.0.0/16", PodCIDR: "10.4.0.0/14", ServiceCIDR: "10.8.0.0/20"}},
		{
			name:    "explicit",
			network: cluster.Network{VPCCIDR: "10.128.0.0/20", PodCIDR: "10.132.0.0/14", ServiceCIDR: "10.136.0.0/20"},
			want:    cluster.Network{VPCCIDR: "10.128.0.0/20", PodCIDR: "10.132.0.0/14", ServiceCIDR: "10.136.0.0/20"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cluster.GCP)
			args.Network = tt.network
			m, _ := run(t, "eu", args)

			assert.False(t, in(t, m.MustGet(t, tokNetwork, "eu-network"), "autoCreateSubnetworks").BoolValue())
			sub := m.MustGet(t, tokSubnetwork, "eu-nodes")
			assert.Equal(t, tt.want.VPCCIDR, in(t, sub, "ipCidrRange").StringValue())
			assert.Equal(t, "europe-west1", in(t, sub, "region").StringValue())
			assert.Equal(t, "pods", in(t, sub, "secondaryIpRanges", 0, "rangeName").StringValue())
			assert.Equal(t, tt.want.PodCIDR, in(t, sub, "secondaryIpRanges", 0, "ipCidrRange").StringValue())
			assert.Equal(t, "services", in(t, sub, "secondaryIpRanges", 1, "rangeName").StringValue())
			assert.Equal(t, tt.want.ServiceCIDR, in(t, sub, "secondaryIpRanges", 1, "ipCidrRange").StringValue())
			assert.Len(t, m.ByType(tokRouterNat), 1, "private nodes reach out through Cloud NAT")
		})
	}
}

func TestGCPCluster(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		tags       costtags.Tags
		protection bool
	}{
		{name: "staging", tags: costtags.Tags{"team": "Payments", "env": "staging"}},
		{name: "prod is protected", tags: costtags.Tags{"team": "Payments", "env": "prod"}, protection: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cluster.GCP)
			args.Tags = tt.tags
			if tt.protection {
				args.API = cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24"}}
			}
			m, c := run(t, "eu", args)

			gke := m.MustGet(t, tokGKE, "eu-gke")
			assert.Equal(t, "europe-west1", in(t, gke, "location").StringValue())
			assert.Equal(t, []string{"europe-west1-b", "europe-west1-c", "europe-west1-d"}, strs(t, in(t, gke, "nodeLocations")))
			assert.Equal(t, "1.31", in(t, gke, "minMasterVersion").StringValue())
			assert.Equal(t, "UNSPECIFIED", in(t, gke, "releaseChannel", "channel").StringValue())
			assert.True(t, in(t, gke, "removeDefaultNodePool").BoolValue())
			assert.Equal(t, "VPC_NATIVE", in(t, gke, "networkingMode").StringValue())
			assert.Equal(t, "pods", in(t, gke, "ipAllocationPolicy", "clusterSecondaryRangeName").StringValue())
			assert.Equal(t, "services", in(t, gke, "ipAllocationPolicy", "servicesSecondaryRangeName").StringValue())
			assert.Equal(t, gcpProject+".svc.id.goog", in(t, gke, "workloadIdentityConfig", "workloadPool").StringValue())
			assert.True(t, in(t, gke, "privateClusterConfig", "enablePrivateNodes").BoolValue())
			assert.Equal(t, tt.protection, in(t, gke, "deletionProtection").BoolValue())
			want, err := costtags.ForGCP(tt.tags)
			require.NoError(t, err)
			assert.Equal(t, want, strMap(t, in(t, gke, "resourceLabels")))
			assert.Equal(t, "payments", want["team"], "GCP labels are lowercase")

			// The node account holds the roles GKE documents, in the caller's project.
			members := m.ByType(tokIAMMember)
			require.Len(t, members, 5)
			for _, mem := range members {
				assert.Equal(t, gcpProject, in(t, mem, "project").StringValue())
				assert.Equal(t, "serviceAccount:eu-nodes@"+gcpProject+".iam.gserviceaccount.com", in(t, mem, "member").StringValue())
			}

			pool := m.MustGet(t, tokNodePool, "eu-system")
			assert.Equal(t, "system", in(t, pool, "name").StringValue())
			assert.Equal(t, "eu-gke-5c2a", in(t, pool, "cluster").StringValue())
			assert.Equal(t, gkeVersion, in(t, pool, "version").StringValue())
			assert.Equal(t, "e2-standard-4", in(t, pool, "nodeConfig", "machineType").StringValue())
			assert.Equal(t, map[string]string{cluster.LabelPool: "system", cluster.LabelCapacity: "on-demand"}, strMap(t, in(t, pool, "nodeConfig", "labels")))
			assert.Equal(t, want, strMap(t, in(t, pool, "nodeConfig", "resourceLabels")))
			assert.False(t, in(t, pool, "management", "autoUpgrade").BoolValue())
			assert.Equal(t, "GKE_METADATA", in(t, pool, "nodeConfig", "workloadMetadataConfig", "mode").StringValue())
			minNodes := 2.0
			if tt.protection {
				minNodes = 3
			}
			assert.Equal(t, minNodes, in(t, pool, "autoscaling", "totalMinNodeCount").NumberValue())
			assert.Equal(t, 1.0, in(t, pool, "initialNodeCount").NumberValue(), "per zone")

			assert.Equal(t, "1.31", await(t, c.Version))
			assert.Equal(t, "https://"+gkeEndpoint, await(t, c.Endpoint))
			require.NotNil(t, c.GCP)
			assert.Nil(t, c.AWS)
			assert.Empty(t, m.ByType(tokConfigMap), "GKE ranks pools with ComputeClasses, not the priority expander")
		})
	}
}

func TestGCPKubeconfigUsesAuthPlugin(t *testing.T) {
	t.Parallel()
	_, c := run(t, "eu", baseArgs(cluster.GCP))
	var kc struct {
		Clusters []struct {
			Cluster map[string]string `yaml:"cluster"`
		} `yaml:"clusters"`
		Users []struct {
			User struct {
				Exec map[string]any `yaml:"exec"`
			} `yaml:"user"`
		} `yaml:"users"`
	}
	require.NoError(t, yaml.Unmarshal([]byte(await(t, c.Kubeconfig).(string)), &kc))
	require.Len(t, kc.Clusters, 1)
	assert.Equal(t, "https://"+gkeEndpoint, kc.Clusters[0].Cluster["server"])
	require.Len(t, kc.Users, 1)
	assert.Equal(t, "gke-gcloud-auth-plugin", kc.Users[0].User.Exec["command"])
	assert.Equal(t, true, kc.Users[0].User.Exec["provideClusterInfo"])
}

// runGCPErr creates one GKE cluster and returns the program's error.
func runGCPErr(t *testing.T, name string, args *cluster.Args) (*pulumitest.Mocks, error) {
	t.Helper()
	m := newMocks()
	err := m.Run(func(ctx *pulumi.Context) error {
		_, err := cluster.New(ctx, name, args)
		return err
	})
	return m, err
}

// TestGKEMasterCIDR encodes the rule for private nodes: terraform-provider-google, behind
// pulumi-gcp v7.38.0, refuses enable_private_nodes without a control-plane range
// ("master_ipv4_cidr_block must be set if enable_private_nodes is true"), and GKE takes a
// /28 of RFC 1918 space that overlaps no range in the VPC
// (https://cloud.google.com/kubernetes-engine/docs/how-to/private-clusters#req_res_lim).
func TestGKEMasterCIDR(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		network cluster.Network
		want    string // the masterIpv4CidrBlock sent
		wantErr string
	}{
		{name: "default ranges: GKE's example block", want: "172.16.0.0/28"},
		{
			name:    "empty: the lowest /28 clear of the cluster's ranges",
			network: cluster.Network{VPCCIDR: "172.16.0.0/20", PodCIDR: "10.4.0.0/14", ServiceCIDR: "10.8.0.0/20"},
			want:    "172.16.16.0/28",
		},
		{
			name:    "explicit",
			network: cluster.Network{MasterCIDR: "10.200.0.16/28"},
			want:    "10.200.0.16/28",
		},
		{name: "not a /28", network: cluster.Network{MasterCIDR: "10.200.0.0/24"}, wantErr: `Network.MasterCIDR "10.200.0.0/24" is a /24; GKE's control plane takes a /28`},
		{name: "not RFC 1918", network: cluster.Network{MasterCIDR: "100.64.0.0/28"}, wantErr: `Network.MasterCIDR "100.64.0.0/28" is not RFC 1918 space`},
		{name: "inside the VPC", network: cluster.Network{MasterCIDR: "10.0.0.16/28"}, wantErr: `Network.MasterCIDR "10.0.0.16/28" overlaps "10.0.0.0/16"`},
		{name: "inside the pods", network: cluster.Network{MasterCIDR: "10.5.0.0/28"}, wantErr: `overlaps "10.4.0.0/14"`},
		{name: "host bits", network: cluster.Network{MasterCIDR: "10.200.0.1/28"}, wantErr: "host bits"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cluster.GCP)
			args.Network = tt.network
			m, err := runGCPErr(t, "eu", args)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.True(t, cluster.IsInvalidArgs(err), "%v", err)
				assert.ErrorContains(t, err, tt.wantErr)
				assert.Empty(t, m.ByType(tokGKE))
				assert.Empty(t, m.ByType("flotilla:cluster:Cluster"), "refused before anything registers, the component included")
				return
			}
			require.NoError(t, err)
			gke := m.MustGet(t, tokGKE, "eu-gke")
			assert.True(t, in(t, gke, "privateClusterConfig", "enablePrivateNodes").BoolValue())
			got := in(t, gke, "privateClusterConfig", "masterIpv4CidrBlock").StringValue()
			assert.Equal(t, tt.want, got)
			// The rule itself, over what was sent.
			p := netip.MustParsePrefix(got)
			assert.Equal(t, 28, p.Bits())
			assert.True(t, p.Addr().IsPrivate())
			sub := m.MustGet(t, tokSubnetwork, "eu-nodes")
			for _, r := range []string{
				in(t, sub, "ipCidrRange").StringValue(),
				in(t, sub, "secondaryIpRanges", 0, "ipCidrRange").StringValue(),
				in(t, sub, "secondaryIpRanges", 1, "ipCidrRange").StringValue(),
			} {
				assert.False(t, p.Overlaps(netip.MustParsePrefix(r)), "%s overlaps %s", got, r)
			}
		})
	}
}

// TestGKEClusterName encodes GKE's rule for cluster names: a lowercase letter first, then
// lowercase letters, digits and hyphens, at most 40 characters
// (https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters#Cluster).
// Pulumi appends a hyphen and 7 hex digits to a name it makes, so a long cluster is named
// exactly, and one too long even so is refused before anything registers.
func TestGKEClusterName(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		sentName string // the name input; empty: Pulumi names the cluster
		wantErr  string
	}{
		{name: "eu"},
		{name: "prod-gcp-europe-west1"}, // 21+4+8 = 33
		{name: "staging-gcp-australia-southeast1", sentName: "staging-gcp-australia-southeast1-gke"},
		{name: "staging-gcp-northamerica-northeast2", sentName: "staging-gcp-northamerica-northeast2-gke"},
		{name: "staging-gcp-northamerica-northeast2x", sentName: "staging-gcp-northamerica-northeast2x-gke"},
		{name: "staging-gcp-northamerica-northeast2xy", wantErr: "exceed GKE's limit of 40 characters for cluster names; use a name of at most 36"},
		{name: "Prod-EU", wantErr: "does not make a GKE cluster name"},
		{name: "1-eu", wantErr: "does not make a GKE cluster name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := runGCPErr(t, tt.name, baseArgs(cluster.GCP))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.True(t, cluster.IsInvalidArgs(err), "%v", err)
				assert.ErrorContains(t, err, tt.wantErr)
				assert.Empty(t, m.ByType(tokGKE))
				return
			}
			require.NoError(t, err)
			gke := m.MustGet(t, tokGKE, tt.name+"-gke")
			if tt.sentName == "" {
				_, named := gke.Inputs["name"]
				assert.False(t, named, "Pulumi names the cluster")
				assert.LessOrEqual(t, len(tt.name+"-gke")+8, 40, "the name Pulumi makes fits GKE's limit")
				return
			}
			got := in(t, gke, "name").StringValue()
			assert.Equal(t, tt.sentName, got)
			assert.LessOrEqual(t, len(got), 40)
		})
	}
}

// TestGKEEnforcesNetworkPolicies encodes GKE's rule: NetworkPolicies are enforced with
// Dataplane V2 (datapathProvider ADVANCED_DATAPATH), which has enforcement built in and
// must not be combined with the Calico network policy add-on
// (https://cloud.google.com/kubernetes-engine/docs/concepts/dataplane-v2,
// https://cloud.google.com/kubernetes-engine/docs/how-to/dataplane-v2), or with the
// legacy datapath and networkPolicy.enabled plus addonsConfig.networkPolicyConfig.
func TestGKEEnforcesNetworkPolicies(t *testing.T) {
	t.Parallel()
	enforces := func(gke pulumitest.Resource) bool {
		dp, hasDP := gke.Inputs["datapathProvider"]
		if hasDP && dp.StringValue() == "ADVANCED_DATAPATH" {
			_, calico := gke.Inputs["networkPolicy"]
			return !calico
		}
		np, ok := gke.Inputs["networkPolicy"]
		return ok && np.ObjectValue()["enabled"].BoolValue()
	}
	for _, tags := range []costtags.Tags{
		{"team": "payments", "env": "staging"},
		{"team": "payments", "env": "prod"},
	} {
		t.Run(tags["env"], func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cluster.GCP)
			args.Tags = tags
			args.API = cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24"}}
			m, _ := run(t, "eu", args)
			gke := m.MustGet(t, tokGKE, "eu-gke")
			assert.Equal(t, "ADVANCED_DATAPATH", in(t, gke, "datapathProvider").StringValue())
			_, calico := gke.Inputs["networkPolicy"]
			assert.False(t, calico, "Dataplane V2 takes no Calico network policy")
			assert.True(t, enforces(gke), "the cluster enforces NetworkPolicies")
		})
	}
}

func TestGKEAPIAccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		api         cluster.APIAccess
		wantBlocks  []string // nil: no master authorized networks
		wantPrivate bool
	}{
		{name: "open", wantBlocks: nil},
		{name: "allow-list", api: cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24", "198.51.100.7/32"}}, wantBlocks: []string{"203.0.113.0/24", "198.51.100.7/32"}},
		{name: "private", api: cluster.APIAccess{Private: true}, wantPrivate: true},
		{name: "private with an allow-list", api: cluster.APIAccess{Private: true, AllowedCIDRs: []string{"10.99.0.0/16"}}, wantBlocks: []string{"10.99.0.0/16"}, wantPrivate: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cluster.GCP)
			args.API = tt.api
			m, _ := run(t, "eu", args)
			gke := m.MustGet(t, tokGKE, "eu-gke")
			assert.Equal(t, tt.wantPrivate, in(t, gke, "privateClusterConfig", "enablePrivateEndpoint").BoolValue())
			cfg, ok := gke.Inputs["masterAuthorizedNetworksConfig"]
			if tt.wantBlocks == nil {
				assert.False(t, ok, "no authorized networks: %v", cfg)
				return
			}
			require.True(t, ok)
			var got []string
			for _, b := range in(t, gke, "masterAuthorizedNetworksConfig", "cidrBlocks").ArrayValue() {
				got = append(got, at(t, b, "cidrBlock").StringValue())
			}
			assert.Equal(t, tt.wantBlocks, got)
		})
	}
}

// gkeProjectNumber is what the mocks answer for the GCP project's number (getProject).
const gkeProjectNumber = "123456789012"

// gkeDepsMocks records, besides what pulumitest.Mocks does, each resource's
// dependencies, and answers getProject with gkeProjectNumber.
type gkeDepsMocks struct {
	*pulumitest.Mocks
	mu       sync.Mutex
	deps     map[string][]string // type::name -> dependency URNs
	projects []string            // the projectId of every getProject
}

func newGKEDepsMocks() *gkeDepsMocks {
	m := &gkeDepsMocks{Mocks: newMocks(), deps: map[string][]string{}}
	m.Calls["gcp:organizations/getProject:getProject"] = func(args resource.PropertyMap) (resource.PropertyMap, error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if v, ok := args["projectId"]; ok && v.IsString() {
			m.projects = append(m.projects, v.StringValue())
		}
		return resource.PropertyMap{"number": resource.NewProperty(gkeProjectNumber)}, nil
	}
	return m
}

func (m *gkeDepsMocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	if args.RegisterRPC != nil {
		m.mu.Lock()
		m.deps[args.TypeToken+"::"+args.Name] = args.RegisterRPC.GetDependencies()
		m.mu.Unlock()
	}
	return m.Mocks.NewResource(args)
}

func (m *gkeDepsMocks) run(t *testing.T, name string, args *cluster.Args) error {
	t.Helper()
	return pulumi.RunErr(func(ctx *pulumi.Context) error {
		_, err := cluster.New(ctx, name, args)
		return err
	}, pulumi.WithMocks(pulumitest.Project, pulumitest.Stack, m))
}

const tokCryptoKeyMember = "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember"

// TestGKESecretsEncryption encodes GKE's rule for application-layer secrets encryption
// (https://cloud.google.com/kubernetes-engine/docs/how-to/encrypting-secrets): the
// cluster's databaseEncryption names the Cloud KMS key, and GKE's service agent of the
// cluster's project, service-<project number>@container-engine-robot.iam.gserviceaccount.com,
// holds roles/cloudkms.cryptoKeyEncrypterDecrypter on the key before the cluster is
// created, or GKE refuses the cluster.
func TestGKESecretsEncryption(t *testing.T) {
	t.Parallel()
	const key = "projects/keys-prj/locations/europe-west1/keyRings/flotilla/cryptoKeys/secrets"
	for _, tt := range []struct {
		name, key string
	}{{name: "cloud's key"}, {name: "customer's key", key: key}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cluster.GCP)
			args.SecretsKey = tt.key
			m := newGKEDepsMocks()
			require.NoError(t, m.run(t, "eu", args))
			gke := m.MustGet(t, tokGKE, "eu-gke")
			if tt.key == "" {
				_, ok := gke.Inputs["databaseEncryption"]
				assert.False(t, ok)
				assert.Empty(t, m.ByType(tokCryptoKeyMember), "no key, no grant")
				return
			}
			assert.Equal(t, resource.PropertyMap{
				"state":   resource.NewProperty("ENCRYPTED"),
				"keyName": resource.NewProperty(key),
			}, in(t, gke, "databaseEncryption").ObjectValue())

			grant := m.MustGet(t, tokCryptoKeyMember, "eu-secrets-key")
			assert.Equal(t, resource.PropertyMap{
				"cryptoKeyId": resource.NewProperty(key),
				"role":        resource.NewProperty("roles/cloudkms.cryptoKeyEncrypterDecrypter"),
				"member":      resource.NewProperty("serviceAccount:service-" + gkeProjectNumber + "@container-engine-robot.iam.gserviceaccount.com"),
			}, grant.Inputs, "exactly GKE's service agent, on the key")
			assert.Equal(t, []string{gcpProject}, m.projects, "the number is the cluster's project's, whichever project holds the key")
			assert.Equal(t, gke.Provider, grant.Provider, "the cluster's provider")
			assert.Contains(t, m.deps[tokGKE+"::eu-gke"], grant.URN, "the cluster is created after the grant")
		})
	}
}

func TestGKESecretsKeyIsAKeyName(t *testing.T) {
	t.Parallel()
	for _, key := range []string{
		"secrets",
		"europe-west1/flotilla/secrets",
		"projects/p/locations/europe-west1/keyRings/flotilla",
		"arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab",
	} {
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cluster.GCP)
			args.SecretsKey = key
			m, err := runGCPErr(t, "eu", args)
			require.Error(t, err)
			assert.True(t, cluster.IsInvalidArgs(err), "%v", err)
			assert.Contains(t, err.Error(), "SecretsKey "+strconv.Quote(key)+" is not a Cloud KMS key name on GKE")
			assert.Empty(t, m.Resources(), "nothing registers")
		})
	}
}

func TestGKEProdClusterProtected(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		env       string
		protected bool
	}{{env: "prod", protected: true}, {env: "staging"}} {
		t.Run(tt.env, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cluster.GCP)
			args.Tags = costtags.Tags{"team": "payments", "env": tt.env}
			args.API = cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24"}}
			rec := &protectRecorder{Mocks: newMocks(), protected: map[string]bool{}}
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := cluster.New(ctx, "eu", args)
				return err
			}, pulumi.WithMocks(pulumitest.Project, pulumitest.Stack, rec))
			require.NoError(t, err)
			assert.Equal(t, tt.protected, rec.protected[tokGKE+"::eu-gke"], "pulumi.Protect")
			assert.Equal(t, tt.protected, in(t, rec.MustGet(t, tokGKE, "eu-gke"), "deletionProtection").BoolValue(), "GKE's own flag")
		})
	}
}

func TestGKEWarnsMaxNodeProvisionTime(t *testing.T) {
	t.Parallel()
	args := baseArgs(cluster.GCP)
	args.MaxNodeProvisionTime = 10 * time.Minute
	m, _ := run(t, "eu", args)
	var warned bool
	for _, l := range m.Logs() {
		warned = warned || (l.Severity == "warn" && strings.Contains(l.Message, "MaxNodeProvisionTime 10m0s does not apply on GKE"))
	}
	assert.True(t, warned, "%v", m.Logs())

	m, _ = run(t, "eu", baseArgs(cluster.GCP))
	for _, l := range m.Logs() {
		assert.NotContains(t, l.Message, "MaxNodeProvisionTime")
	}
}

// TestGKEGoogleGroupsForRBAC encodes GKE's rule for Google Groups for RBAC: the cluster's
// authenticatorGroupsConfig.securityGroup is the group named gke-security-groups@<domain>,
// and GKE resolves only the groups nested in it
// (https://cloud.google.com/kubernetes-engine/docs/how-to/google-groups-rbac). Any other
// address is refused before anything registers; empty leaves the feature off.
func TestGKEGoogleGroupsForRBAC(t *testing.T) {
	t.Parallel()
	tests := []struct {
		group   string
		wantErr string
	}{
		{group: ""},
		{group: "gke-security-groups@example.com"},
		{group: "gke-security-groups@corp.example.co.uk"},
		{group: "payments@example.com", wantErr: `Auth.GoogleSecurityGroup "payments@example.com" is not gke-security-groups@<your domain>`},
		{group: "gke-security-groups", wantErr: `Auth.GoogleSecurityGroup "gke-security-groups" is not gke-security-groups@<your domain>`},
		{group: "GKE-Security-Groups@example.com", wantErr: "is not gke-security-groups@<your domain>"},
		{group: "gke-security-groups@", wantErr: "is not gke-security-groups@<your domain>"},
	}
	for _, tt := range tests {
		t.Run(tt.group, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cluster.GCP)
			args.Auth = cluster.Auth{GoogleSecurityGroup: tt.group}
			m, err := runGCPErr(t, "eu", args)
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.True(t, cluster.IsInvalidArgs(err), "%v", err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Empty(t, m.Resources(), "nothing registers")
				return
			}
			require.NoError(t, err)
			gke := m.MustGet(t, tokGKE, "eu-gke")
			cfg, ok := gke.Inputs["authenticatorGroupsConfig"]
			if tt.group == "" {
				assert.False(t, ok, "Google Groups for RBAC stays off: %v", cfg)
				return
			}
			require.True(t, ok)
			assert.Equal(t, resource.PropertyMap{"securityGroup": resource.NewProperty(tt.group)}, cfg.ObjectValue(), "exactly the security group")
		})
	}
}

// TestGKEGoogleSecurityGroupOnlyOnGKE: a fleet gives every cluster the same Auth, so
// clusters of other clouds ignore GoogleSecurityGroup rather than refuse it.
func TestGKEGoogleSecurityGroupOnlyOnGKE(t *testing.T) {
	t.Parallel()
	args := baseArgs(cluster.AWS)
	args.Auth = cluster.Auth{GoogleSecurityGroup: "not-an-email"}
	_, c := run(t, "eu", args)
	assert.Nil(t, c.GCP)

	args = baseArgs(cluster.GCP)
	args.Auth = cluster.Auth{GoogleSecurityGroup: "gke-security-groups@example.com"}
	_, c = run(t, "eu", args)
	require.NotNil(t, c.GCP)
	assert.Equal(t, "gke-security-groups@example.com", c.GCP.GoogleSecurityGroup, "envset reads it to refuse Google Group bindings that match no one")
}
