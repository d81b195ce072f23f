package cluster_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

func TestAzureCluster(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		tags      costtags.Tags
		api       cluster.APIAccess
		network   cluster.Network
		provision time.Duration
		tier      string
		want      cluster.Network
		dns       string
		subnet    string
		wantTime  string
	}{
		{
			name: "defaults", tags: costtags.Tags{"team": "payments", "env": "staging"}, tier: "Free",
			want: cluster.Network{VPCCIDR: "10.224.0.0/16", PodCIDR: "10.244.0.0/16", ServiceCIDR: "10.0.0.0/16"},
			dns:  "10.0.0.10", subnet: "10.224.0.0/17", wantTime: "5m",
		},
		{
			name: "prod with its own ranges", tags: costtags.Tags{"team": "payments", "env": "prod"}, tier: "Standard",
			api:       cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24"}},
			network:   cluster.Network{VPCCIDR: "10.50.0.0/16", PodCIDR: "192.168.0.0/16", ServiceCIDR: "10.0.0.0/16"},
			provision: 12 * time.Minute,
			want:      cluster.Network{VPCCIDR: "10.50.0.0/16", PodCIDR: "192.168.0.0/16", ServiceCIDR: "10.0.0.0/16"},
			dns:       "10.0.0.10", subnet: "10.50.0.0/17", wantTime: "12m",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cluster.Azure)
			args.Tags = tt.tags
			args.Network = tt.network
			args.API = tt.api
			args.MaxNodeProvisionTime = tt.provision
			m, c := run(t, "eu", args)
			wantTags, err := costtags.ForAzure(tt.tags)
			require.NoError(t, err)

			rg := m.MustGet(t, tokRG, "eu-rg")
			assert.Equal(t, "westeurope", in(t, rg, "location").StringValue())
			assert.Equal(t, wantTags, strMap(t, in(t, rg, "tags")))
			vnet := m.MustGet(t, tokVNet, "eu-vnet")
			assert.Equal(t, []string{tt.want.VPCCIDR}, strs(t, in(t, vnet, "addressSpace", "addressPrefixes")))
			assert.Equal(t, "eu-rg1a2b", in(t, vnet, "resourceGroupName").StringValue())
			assert.Equal(t, tt.subnet, in(t, m.MustGet(t, tokAzSubnet, "eu-nodes"), "addressPrefix").StringValue())

			aks := m.MustGet(t, tokAKS, "eu-aks")
			assert.Equal(t, "1.31", in(t, aks, "kubernetesVersion").StringValue())
			assert.Equal(t, "SystemAssigned", in(t, aks, "identity", "type").StringValue())
			assert.Equal(t, tt.tier, in(t, aks, "sku", "tier").StringValue())
			assert.Equal(t, "none", in(t, aks, "autoUpgradeProfile", "upgradeChannel").StringValue())
			assert.True(t, in(t, aks, "securityProfile", "workloadIdentity", "enabled").BoolValue())
			assert.Equal(t, wantTags, strMap(t, in(t, aks, "tags")))

			np := in(t, aks, "networkProfile")
			assert.Equal(t, "azure", at(t, np, "networkPlugin").StringValue())
			assert.Equal(t, "overlay", at(t, np, "networkPluginMode").StringValue())
			assert.Equal(t, tt.want.PodCIDR, at(t, np, "podCidr").StringValue())
			assert.Equal(t, tt.want.ServiceCIDR, at(t, np, "serviceCidr").StringValue())
			assert.Equal(t, tt.dns, at(t, np, "dnsServiceIP").StringValue())
			assert.Equal(t, "cilium", at(t, np, "networkDataplane").StringValue())
			assert.Equal(t, "cilium", at(t, np, "networkPolicy").StringValue())
			enforced, err := aksEnforcesNetworkPolicy(np)
			require.NoError(t, err)
			assert.True(t, enforced, "NetworkPolicies are enforced")

			asp := in(t, aks, "autoScalerProfile")
			assert.Equal(t, "priority", at(t, asp, "expander").StringValue())
			assert.Equal(t, "true", at(t, asp, "balanceSimilarNodeGroups").StringValue())
			assert.Equal(t, tt.wantTime, at(t, asp, "maxNodeProvisionTime").StringValue())
			assert.Equal(t, "5m", at(t, asp, "scaleDownUnneededTime").StringValue(), "fallback nodes go 5m after spot takes their pods")
			assert.Equal(t, "0.7", at(t, asp, "scaleDownUtilizationThreshold").StringValue())

			pools := in(t, aks, "agentPoolProfiles").ArrayValue()
			require.Len(t, pools, 1)
			sys := pools[0]
			assert.Equal(t, "system", at(t, sys, "name").StringValue())
			assert.Equal(t, "System", at(t, sys, "mode").StringValue())
			assert.Equal(t, "Standard_D4s_v5", at(t, sys, "vmSize").StringValue())
			assert.Equal(t, []string{"1", "2", "3"}, strs(t, at(t, sys, "availabilityZones")))
			assert.True(t, at(t, sys, "enableAutoScaling").BoolValue())
			assert.Equal(t, m.MustGet(t, tokAzSubnet, "eu-nodes").ID, at(t, sys, "vnetSubnetID").StringValue())
			assert.Equal(t, map[string]string{cluster.LabelPool: "system", cluster.LabelCapacity: "on-demand"}, strMap(t, at(t, sys, "nodeLabels")))

			kube := parseKubeconfig(t, await(t, c.Kubeconfig).(string))
			assert.Equal(t, "kubelogin", kube.Users[0].User.Exec.Command, "the cluster user's kubeconfig with kubelogin as its user")
			assert.Equal(t, "aks", kube.Clusters[0].Name, "the cluster AKS names")
			assert.Equal(t, "https://eu-aks.hcp.azmk8s.io:443", await(t, c.Endpoint))
			assert.Equal(t, "1.31", await(t, c.Version))
			assert.True(t, m.MustGet(t, tokK8sProvider, "eu-k8s").Inputs["kubeconfig"].IsSecret())
			require.NotNil(t, c.Azure)
		})
	}
}

func TestAzurePriorityExpander(t *testing.T) {
	t.Parallel()
	m, _ := run(t, "eu", baseArgs(cluster.Azure))

	cm := m.MustGet(t, tokConfigMap, "eu-priority-expander")
	assert.Equal(t, cluster.PriorityExpanderConfigMap, in(t, cm, "metadata", "name").StringValue())
	assert.Equal(t, "kube-system", in(t, cm, "metadata", "namespace").StringValue())
	assert.True(t, strings.HasPrefix(cm.Provider, m.MustGet(t, tokK8sProvider, "eu-k8s").URN+"::"), "the ConfigMap uses the cluster's kube provider")
	prios := parsePriorities(t, in(t, cm, "data", "priorities").StringValue())

	vmss := func(pool string) string { return "aks-" + pool + "-31415926-vmss" }
	var spot, fallback []string
	for _, pool := range []string{"batch", "a-very-long-pool-name", "9lives"} {
		for i := range 3 {
			spot = append(spot, vmss(cluster.GroupName(cluster.Azure, pool, cluster.Spot, i)))
			fallback = append(fallback, vmss(cluster.GroupName(cluster.Azure, pool, cluster.OnDemand, i)))
		}
	}
	system := vmss(cluster.SystemPoolName)
	require.Len(t, prios, 3, "spot, the system pool, fallbacks")
	// Every agent pool of the cluster is ranked (the upstream expander drops the others):
	// spot above the system pool, the system pool above every fallback, so that an
	// ordinary pod, which fits the system pool and an untainted fallback, gets the system
	// pool's scale set.
	for _, s := range spot {
		assert.Greater(t, rankOf(prios, s), rankOf(prios, system), "%s must outrank %s", s, system)
	}
	for _, f := range fallback {
		assert.NotEqual(t, -1, rankOf(prios, f), f)
		assert.Greater(t, rankOf(prios, system), rankOf(prios, f), "%s must outrank %s", system, f)
	}
	for _, g := range []string{vmss("nodepool1"), "aks-batch0spot-vmss", vmss("batchspot"), "aks-system-vmss", vmss("system1"), "aks-system-31415926-vmss-x"} {
		assert.Equal(t, -1, rankOf(prios, g), "%s must match no regex", g)
	}
}

// rpcMocks records, beside what pulumitest.Mocks records, the options each resource was
// registered with (dependencies, ignoreChanges, protect, deleteBeforeReplace), which the
// engine acts on but which are no input.
type rpcMocks struct {
	*pulumitest.Mocks
	mu   sync.Mutex
	reqs map[string]*pulumirpc.RegisterResourceRequest // by type and name
	// invoked are the credential invokes made, in order.
	invoked []string
}

// What Azure answers with under rpcMocks: a subnet's resource ID and the principal of
// the cluster's system-assigned identity.
const (
	azSubscription = "0b1c2d3e-0000-4000-8000-000000000001"
	azTenant       = "72f988bf-0000-4000-8000-0000000000aa"
	azDeployer     = "3c4d5e6f-0000-4000-8000-0000000000de" // the object id of the identity that deploys
	azSubnetID     = "/subscriptions/" + azSubscription + "/resourceGroups/eu-rg1a2b/providers/Microsoft.Network/virtualNetworks/eu-vnet/subnets/eu-nodes"
	aksPrincipal   = "5f6e7d8c-0000-4000-8000-0000000000aa"
)

// aksEntraUserKube is the cluster user's kubeconfig AKS returns for an Entra ID cluster
// (listClusterUserCredential, exec format): the API server and CA, and a kubelogin user in
// device-code mode, which needs a person at a prompt.
const aksEntraUserKube = `apiVersion: v1
kind: Config
clusters:
- name: eu-aks9f3c
  cluster:
    server: https://eu-aks-1a2b3c4d.hcp.westeurope.azmk8s.io:443
    certificate-authority-data: Q0FEQVRB
contexts:
- name: eu-aks9f3c
  context:
    cluster: eu-aks9f3c
    user: clusterUser_eu-rg1a2b_eu-aks9f3c
current-context: eu-aks9f3c
users:
- name: clusterUser_eu-rg1a2b_eu-aks9f3c
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --environment, AzurePublicCloud, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630, --client-id, 80faf920-1908-4b52-b5ef-a8e7bedfc67a, --tenant-id, 72f988bf-0000-4000-8000-0000000000aa, --login, devicecode]
`

func newRPCMocks() *rpcMocks {
	m := &rpcMocks{Mocks: newMocks(), reqs: map[string]*pulumirpc.RegisterResourceRequest{}}
	aks := m.Outputs[tokAKS]
	m.Outputs[tokAKS] = func(r pulumitest.Resource) resource.PropertyMap {
		out := aks(r)
		out["identity"] = resource.NewProperty(resource.PropertyMap{
			"type":        resource.NewProperty("SystemAssigned"),
			"principalId": resource.NewProperty(aksPrincipal),
		})
		return out
	}
	m.Calls["azure-native:containerservice:listManagedClusterUserCredentials"] = func(args resource.PropertyMap) (resource.PropertyMap, error) {
		m.mu.Lock()
		m.invoked = append(m.invoked, "listManagedClusterUserCredentials")
		m.mu.Unlock()
		return resource.PropertyMap{"kubeconfigs": resource.NewProperty([]resource.PropertyValue{
			resource.NewProperty(resource.PropertyMap{
				"name":  resource.NewProperty("clusterUser"),
				"value": resource.NewProperty(base64.StdEncoding.EncodeToString([]byte(aksEntraUserKube))),
			}),
		})}, nil
	}
	m.Calls["azure-native:authorization:getClientConfig"] = func(resource.PropertyMap) (resource.PropertyMap, error) {
		return resource.PropertyMap{
			"subscriptionId": resource.NewProperty(azSubscription),
			"tenantId":       resource.NewProperty(azTenant),
			"objectId":       resource.NewProperty(azDeployer),
		}, nil
	}
	return m
}

func (m *rpcMocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	if args.RegisterRPC != nil {
		m.mu.Lock()
		m.reqs[args.TypeToken+"/"+args.Name] = args.RegisterRPC
		m.mu.Unlock()
	}
	id, state, err := m.Mocks.NewResource(args)
	if args.TypeToken == tokAzSubnet {
		id = azSubnetID
	}
	return id, state, err
}

func (m *rpcMocks) run(t *testing.T, fn pulumi.RunFunc) {
	t.Helper()
	require.NoError(t, pulumi.RunErr(fn, pulumi.WithMocks(pulumitest.Project, pulumitest.Stack, m)))
}

func (m *rpcMocks) req(t *testing.T, typ, name string) *pulumirpc.RegisterResourceRequest {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.reqs[typ+"/"+name]
	require.True(t, ok, "%s %q registered", typ, name)
	return r
}

// runAzure creates one AKS cluster from args under rpcMocks.
func runAzure(t *testing.T, args *cluster.Args) (*rpcMocks, *cluster.Cluster) {
	t.Helper()
	m := newRPCMocks()
	var c *cluster.Cluster
	m.run(t, func(ctx *pulumi.Context) error {
		var err error
		c, err = cluster.New(ctx, "eu", args)
		return err
	})
	return m, c
}

// TestAzureSystemPoolCountIgnored: the autoscaler owns the system pool's count, so the
// ManagedCluster ignores it, as a Pulumi property path into agentPoolProfiles.
func TestAzureSystemPoolCountIgnored(t *testing.T) {
	t.Parallel()
	m, _ := runAzure(t, baseArgs(cluster.Azure))
	aks := m.req(t, tokAKS, "eu-aks")
	assert.Equal(t, []string{"agentPoolProfiles[0].count"}, aks.GetIgnoreChanges())
	pools := in(t, m.MustGet(t, tokAKS, "eu-aks"), "agentPoolProfiles").ArrayValue()
	require.Len(t, pools, 1)
	assert.Equal(t, "system", at(t, pools[0], "name").StringValue(), "index 0 is the system pool")
	// The engine resolves the path the way resource.PropertyPath does: it names the count.
	path, err := resource.ParsePropertyPath(aks.GetIgnoreChanges()[0])
	require.NoError(t, err)
	count, ok := path.Get(resource.NewProperty(m.MustGet(t, tokAKS, "eu-aks").Inputs))
	require.True(t, ok)
	assert.Equal(t, 2.0, count.NumberValue(), "the default system pool minimum")
}

// TestAzureNetworkContributorOnSubnet: the cluster's identity holds Network Contributor on
// the nodes' subnet, which AKS needs for internal load balancers and the CLI would grant.
func TestAzureNetworkContributorOnSubnet(t *testing.T) {
	t.Parallel()
	m, _ := runAzure(t, baseArgs(cluster.Azure))
	ra := m.MustGet(t, "azure-native:authorization:RoleAssignment", "eu-subnet-network-contributor")
	assert.Equal(t, m.MustGet(t, tokCluster, "eu").URN, ra.Parent)
	assert.True(t, strings.HasPrefix(ra.Provider, m.MustGet(t, tokAzProvider, "eu-provider").URN+"::"), "uses the cluster's provider")
	assert.Equal(t, resource.PropertyMap{
		"principalId":      resource.NewProperty(aksPrincipal),
		"principalType":    resource.NewProperty("ServicePrincipal"),
		"roleDefinitionId": resource.NewProperty("/subscriptions/" + azSubscription + "/providers/Microsoft.Authorization/roleDefinitions/4d97b98b-1d4f-4787-a291-c67834d212e7"),
		"scope":            resource.NewProperty(azSubnetID),
	}, ra.Inputs)
}

// aksEnforcesNetworkPolicy is AKS's rule for a network profile: whether NetworkPolicies
// are enforced, or why AKS refuses the profile. From
// https://learn.microsoft.com/azure/aks/use-network-policies (no policy engine means none
// is enforced; Azure NPM needs the Azure CNI; Calico runs on Azure CNI or kubenet) and
// https://learn.microsoft.com/azure/aks/azure-cni-powered-by-cilium (Cilium policy comes
// with the Cilium dataplane only, on the Azure CNI; the Cilium dataplane takes no other
// policy engine).
func aksEnforcesNetworkPolicy(np resource.PropertyValue) (bool, error) {
	get := func(k string) string {
		if v, ok := np.ObjectValue()[resource.PropertyKey(k)]; ok && v.IsString() {
			return v.StringValue()
		}
		return ""
	}
	plugin, dataplane, policy := get("networkPlugin"), get("networkDataplane"), get("networkPolicy")
	if dataplane == "cilium" {
		if plugin != "azure" {
			return false, errors.New("the Cilium dataplane needs networkPlugin azure")
		}
		if policy != "cilium" {
			return false, fmt.Errorf("the Cilium dataplane takes networkPolicy cilium, not %q", policy)
		}
		return true, nil
	}
	switch policy {
	case "", "none":
		return false, nil
	case "azure":
		if plugin != "azure" {
			return false, errors.New("Azure network policy needs networkPlugin azure")
		}
		return true, nil
	case "calico":
		return true, nil
	case "cilium":
		return false, errors.New("networkPolicy cilium needs networkDataplane cilium")
	}
	return false, fmt.Errorf("networkPolicy %q is none of azure, calico, cilium", policy)
}

func TestAKSNetworkPolicyRule(t *testing.T) {
	t.Parallel()
	profile := func(plugin, dataplane, policy string) resource.PropertyValue {
		m := resource.PropertyMap{"networkPlugin": resource.NewProperty(plugin), "networkPluginMode": resource.NewProperty("overlay")}
		if dataplane != "" {
			m["networkDataplane"] = resource.NewProperty(dataplane)
		}
		if policy != "" {
			m["networkPolicy"] = resource.NewProperty(policy)
		}
		return resource.NewProperty(m)
	}
	tests := []struct {
		name                      string
		plugin, dataplane, policy string
		enforced, refused         bool
	}{
		{name: "unset: none enforced", plugin: "azure"},
		{name: "none", plugin: "azure", policy: "none"},
		{name: "azure NPM", plugin: "azure", policy: "azure", enforced: true},
		{name: "azure NPM on kubenet", plugin: "kubenet", policy: "azure", refused: true},
		{name: "calico", plugin: "azure", policy: "calico", enforced: true},
		{name: "cilium", plugin: "azure", dataplane: "cilium", policy: "cilium", enforced: true},
		{name: "cilium policy without its dataplane", plugin: "azure", policy: "cilium", refused: true},
		{name: "cilium dataplane with azure NPM", plugin: "azure", dataplane: "cilium", policy: "azure", refused: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			enforced, err := aksEnforcesNetworkPolicy(profile(tt.plugin, tt.dataplane, tt.policy))
			assert.Equal(t, tt.refused, err != nil, "refused: %v", err)
			assert.Equal(t, tt.enforced, enforced)
		})
	}
}

// TestAzureAPIAccessSecretsAndProtection: the API endpoint takes the allowed ranges or
// goes private, Secrets are encrypted with the Key Vault key, and a prod cluster is
// protected from deletion.
func TestAzureAPIAccessSecretsAndProtection(t *testing.T) {
	t.Parallel()
	const key = "https://flotilla-kv.vault.azure.net/keys/etcd/0123456789abcdef0123456789abcdef"
	tests := []struct {
		name      string
		env       string
		api       cluster.APIAccess
		key       string
		access    resource.PropertyValue // nil: no apiServerAccessProfile
		protected bool
	}{
		{name: "staging defaults", env: "staging"},
		{
			name: "prod with allowed ranges and a key", env: "prod", key: key, protected: true,
			api: cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24", "198.51.100.7/32"}},
			access: resource.NewProperty(resource.PropertyMap{"authorizedIPRanges": resource.NewProperty([]resource.PropertyValue{
				resource.NewProperty("203.0.113.0/24"), resource.NewProperty("198.51.100.7/32"),
			})}),
		},
		{
			name: "private prod", env: "prod", protected: true, api: cluster.APIAccess{Private: true},
			access: resource.NewProperty(resource.PropertyMap{"enablePrivateCluster": resource.NewProperty(true)}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cluster.Azure)
			args.Tags = costtags.Tags{"team": "payments", "env": tt.env}
			args.API = tt.api
			args.SecretsKey = tt.key
			m, _ := runAzure(t, args)
			aks := m.MustGet(t, tokAKS, "eu-aks")
			if tt.access.IsNull() {
				assert.NotContains(t, aks.Inputs, resource.PropertyKey("apiServerAccessProfile"))
			} else {
				assert.Equal(t, tt.access, in(t, aks, "apiServerAccessProfile"))
			}
			sec := in(t, aks, "securityProfile").ObjectValue()
			if tt.key == "" {
				assert.NotContains(t, sec, resource.PropertyKey("azureKeyVaultKms"))
			} else {
				assert.Equal(t, resource.NewProperty(resource.PropertyMap{
					"enabled":               resource.NewProperty(true),
					"keyId":                 resource.NewProperty(tt.key),
					"keyVaultNetworkAccess": resource.NewProperty("Public"),
				}), sec["azureKeyVaultKms"])
			}
			assert.Equal(t, tt.protected, m.req(t, tokAKS, "eu-aks").GetProtect())
		})
	}
}

// TestAzureEntraID: every AKS cluster has AKS-managed Entra ID integration with Azure RBAC
// (https://learn.microsoft.com/azure/aks/enable-authentication-microsoft-entra-id), in the
// tenant of Auth.EntraTenantID or of the identity that deploys, with Auth's admin groups.
func TestAzureEntraID(t *testing.T) {
	t.Parallel()
	const (
		groupA = "0f1e2d3c-0000-4000-8000-00000000000a"
		groupB = "0F1E2D3C-0000-4000-8000-00000000000B"
	)
	ids := func(v ...string) resource.PropertyValue {
		out := make([]resource.PropertyValue, len(v))
		for i, s := range v {
			out[i] = resource.NewProperty(s)
		}
		return resource.NewProperty(out)
	}
	tests := []struct {
		name string
		env  string
		auth cluster.Auth
		want resource.PropertyMap
	}{
		{
			name: "defaults: the deployer's tenant, no admin group", env: "staging",
			want: resource.PropertyMap{
				"managed":         resource.NewProperty(true),
				"enableAzureRBAC": resource.NewProperty(true),
				"tenantID":        resource.NewProperty(azTenant),
			},
		},
		{
			name: "prod with its tenant and admin groups", env: "prod",
			auth: cluster.Auth{EntraTenantID: strings.ToUpper(azTenant), EntraAdminGroupIDs: []string{groupA, groupB}},
			want: resource.PropertyMap{
				"managed":             resource.NewProperty(true),
				"enableAzureRBAC":     resource.NewProperty(true),
				"tenantID":            resource.NewProperty(azTenant),
				"adminGroupObjectIDs": ids(groupA, strings.ToLower(groupB)),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := azureIn(tt.env)
			args.Auth = tt.auth
			m, _ := runAzure(t, args)
			aks := m.MustGet(t, tokAKS, "eu-aks")
			assert.Equal(t, resource.NewProperty(tt.want), in(t, aks, "aadProfile"))
			assert.True(t, in(t, aks, "enableRBAC").BoolValue())
		})
	}
}

// TestAzureEntraIDRefused: Entra ids that are not GUIDs are refused before anything
// registers, and a tenant other than the subscription's (which Azure RBAC refuses,
// https://learn.microsoft.com/azure/aks/manage-azure-rbac#before-you-begin) before the
// cluster's cloud resources.
func TestAzureEntraIDRefused(t *testing.T) {
	t.Parallel()
	t.Run("not GUIDs", func(t *testing.T) {
		t.Parallel()
		args := baseArgs(cluster.Azure)
		args.Auth = cluster.Auth{
			EntraTenantID:      "contoso.onmicrosoft.com",
			EntraAdminGroupIDs: []string{"aks-admins", "0f1e2d3c-0000-4000-8000-00000000000a", "0F1E2D3C-0000-4000-8000-00000000000A"},
		}
		m := newRPCMocks()
		err := pulumi.RunErr(func(ctx *pulumi.Context) error {
			_, err := cluster.New(ctx, "eu", args)
			return err
		}, pulumi.WithMocks(pulumitest.Project, pulumitest.Stack, m))
		require.Error(t, err)
		assert.True(t, cluster.IsInvalidArgs(err), "%v", err)
		for _, w := range []string{
			`Auth.EntraTenantID "contoso.onmicrosoft.com" is not a tenant id`,
			`Auth.EntraAdminGroupIDs[0] "aks-admins" is not an Entra group object id`,
			`Auth.EntraAdminGroupIDs[2] "0F1E2D3C-0000-4000-8000-00000000000A" is listed twice`,
		} {
			assert.Contains(t, err.Error(), w)
		}
		assert.Empty(t, m.Resources(), "nothing may be registered when args are invalid")
	})
	t.Run("not the subscription's tenant", func(t *testing.T) {
		t.Parallel()
		args := baseArgs(cluster.Azure)
		args.Auth = cluster.Auth{EntraTenantID: "11111111-0000-4000-8000-000000000000"}
		m := newRPCMocks()
		err := pulumi.RunErr(func(ctx *pulumi.Context) error {
			_, err := cluster.New(ctx, "eu", args)
			return err
		}, pulumi.WithMocks(pulumitest.Project, pulumitest.Stack, m))
		require.ErrorContains(t, err, `Auth.EntraTenantID "11111111-0000-4000-8000-000000000000" is not the tenant "`+azTenant+`"`)
		assert.Empty(t, m.ByType(tokRG), "no cloud resource is registered")
		assert.Empty(t, m.ByType(tokAKS))
	})
	t.Run("other clouds ignore Entra ids", func(t *testing.T) {
		t.Parallel()
		args := baseArgs(cluster.GCP)
		args.Auth = cluster.Auth{EntraAdminGroupIDs: []string{"aks-admins"}}
		run(t, "eu", args)
	})
}

// kubeconfig is what the tests read of a kubeconfig.
type kubeconfig struct {
	CurrentContext string `yaml:"current-context"`
	Clusters       []struct {
		Name    string         `yaml:"name"`
		Cluster map[string]any `yaml:"cluster"`
	} `yaml:"clusters"`
	Contexts []struct {
		Name    string            `yaml:"name"`
		Context map[string]string `yaml:"context"`
	} `yaml:"contexts"`
	Users []struct {
		Name string `yaml:"name"`
		User struct {
			Exec struct {
				APIVersion      string   `yaml:"apiVersion"`
				Command         string   `yaml:"command"`
				Args            []string `yaml:"args"`
				InteractiveMode string   `yaml:"interactiveMode"`
				InstallHint     string   `yaml:"installHint"`
			} `yaml:"exec"`
		} `yaml:"user"`
	} `yaml:"users"`
}

func parseKubeconfig(t *testing.T, raw string) kubeconfig {
	t.Helper()
	var k kubeconfig
	require.NoError(t, yaml.Unmarshal([]byte(raw), &k))
	require.Len(t, k.Clusters, 1)
	require.Len(t, k.Users, 1)
	return k
}

// TestAzureEntraKubeconfig: the stack's kubeconfig signs in through Entra ID on every AKS
// cluster, with kubelogin get-token in Auth.Kubelogin's mode for the AKS AAD server
// application (https://azure.github.io/kubelogin/,
// https://learn.microsoft.com/azure/aks/kubelogin-authentication), and holds no credential.
// Prod turns local accounts off; the identity that deploys is cluster-admin through an
// Azure role assignment on the cluster, and the Kubernetes provider waits for it.
func TestAzureEntraKubeconfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		env      string
		auth     cluster.Auth
		wantArgs []string
		noLocal  bool
	}{
		{
			name: "staging: azurecli", env: "staging",
			wantArgs: []string{"get-token", "--login", "azurecli", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630", "--tenant-id", azTenant},
		},
		{
			name: "prod: workload identity", env: "prod", noLocal: true,
			auth:     cluster.Auth{Kubelogin: "workloadidentity"},
			wantArgs: []string{"get-token", "--login", "workloadidentity", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630", "--tenant-id", azTenant},
		},
		{
			name: "prod: service principal", env: "prod", noLocal: true,
			auth:     cluster.Auth{Kubelogin: "spn", EntraTenantID: azTenant},
			wantArgs: []string{"get-token", "--login", "spn", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630", "--tenant-id", azTenant},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := azureIn(tt.env)
			args.Auth = tt.auth
			m, c := runAzure(t, args)

			aks := m.MustGet(t, tokAKS, "eu-aks")
			assert.Equal(t, tt.noLocal, in(t, aks, "disableLocalAccounts").BoolValue())
			assert.Equal(t, []string{"listManagedClusterUserCredentials"}, m.invoked, "never the admin credentials")

			raw := await(t, c.Kubeconfig).(string)
			kube := parseKubeconfig(t, raw)
			assert.Equal(t, "eu-aks9f3c", kube.CurrentContext)
			assert.Equal(t, "eu-aks9f3c", kube.Clusters[0].Name)
			assert.Equal(t, map[string]any{
				"server":                     "https://eu-aks-1a2b3c4d.hcp.westeurope.azmk8s.io:443",
				"certificate-authority-data": "Q0FEQVRB",
			}, kube.Clusters[0].Cluster, "AKS's server and CA")
			require.Len(t, kube.Contexts, 1)
			assert.Equal(t, map[string]string{"cluster": "eu-aks9f3c", "user": "eu-aks9f3c"}, kube.Contexts[0].Context)
			exec := kube.Users[0].User.Exec
			assert.Equal(t, "client.authentication.k8s.io/v1beta1", exec.APIVersion)
			assert.Equal(t, "kubelogin", exec.Command)
			assert.Equal(t, tt.wantArgs, exec.Args)
			assert.Equal(t, "Never", exec.InteractiveMode)
			assert.NotEmpty(t, exec.InstallHint)
			for _, secret := range []string{"client-certificate-data", "client-key-data", "token:", "devicecode", "password"} {
				assert.NotContains(t, raw, secret)
			}
			assert.True(t, m.MustGet(t, tokK8sProvider, "eu-k8s").Inputs["kubeconfig"].IsSecret())

			ra := m.MustGet(t, "azure-native:authorization:RoleAssignment", "eu-deployer-cluster-admin")
			assert.Equal(t, resource.PropertyMap{
				"principalId":      resource.NewProperty(azDeployer),
				"roleDefinitionId": resource.NewProperty("/subscriptions/" + azSubscription + "/providers/Microsoft.Authorization/roleDefinitions/b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"),
				"scope":            resource.NewProperty(aks.ID),
			}, ra.Inputs)
			assert.Equal(t, m.MustGet(t, tokCluster, "eu").URN, ra.Parent)
			assert.Contains(t, m.req(t, tokK8sProvider, "eu-k8s").GetDependencies(), ra.URN, "the provider signs in after the grant")
		})
	}
}

// TestAzureKubeloginModes: only the login modes that need no prompt are taken.
func TestAzureKubeloginModes(t *testing.T) {
	t.Parallel()
	for mode, ok := range map[string]bool{
		"": true, "azurecli": true, "workloadidentity": true, "spn": true, "msi": true,
		"devicecode": false, "interactive": false, "ropc": false, "AzureCLI": false,
	} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			args := baseArgs(cluster.Azure)
			args.Auth.Kubelogin = mode
			m := newRPCMocks()
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := cluster.New(ctx, "eu", args)
				return err
			}, pulumi.WithMocks(pulumitest.Project, pulumitest.Stack, m))
			if ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, cluster.IsInvalidArgs(err), "%v", err)
			assert.Contains(t, err.Error(), fmt.Sprintf("Auth.Kubelogin %q is not a kubelogin login mode", mode))
			assert.Empty(t, m.Resources())
		})
	}
}

// TestAzureControlPlaneLogs: a diagnostic setting sends the control plane's and audit logs
// (https://learn.microsoft.com/azure/aks/monitor-aks-reference#resource-logs) to
// AuditLogWorkspace, or to a workspace the cluster creates (30 days, protected in prod).
func TestAzureControlPlaneLogs(t *testing.T) {
	t.Parallel()
	const given = "/subscriptions/" + azSubscription + "/resourceGroups/platform-logs/providers/Microsoft.OperationalInsights/workspaces/fleet-audit"
	tests := []struct {
		name      string
		env       string
		workspace string
		protected bool
	}{
		{name: "staging creates its workspace", env: "staging"},
		{name: "prod creates a protected workspace", env: "prod", protected: true},
		{name: "prod sends to the given workspace", env: "prod", workspace: given},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			args := azureIn(tt.env)
			args.AuditLogWorkspace = tt.workspace
			m, _ := runAzure(t, args)
			wantTags, err := costtags.ForAzure(args.Tags)
			require.NoError(t, err)

			workspaceID := tt.workspace
			wss := m.ByType("azure-native:operationalinsights:Workspace")
			if tt.workspace != "" {
				assert.Empty(t, wss, "no workspace is created")
			} else {
				require.Len(t, wss, 1)
				ws := wss[0]
				assert.Equal(t, "eu-logs", ws.Name)
				assert.Equal(t, m.MustGet(t, tokCluster, "eu").URN, ws.Parent)
				tagProps := resource.PropertyMap{}
				for k, v := range wantTags {
					tagProps[resource.PropertyKey(k)] = resource.NewProperty(v)
				}
				assert.Equal(t, resource.PropertyMap{
					"resourceGroupName": resource.NewProperty("eu-rg1a2b"),
					"location":          resource.NewProperty("westeurope"),
					"sku":               resource.NewProperty(resource.PropertyMap{"name": resource.NewProperty("PerGB2018")}),
					"retentionInDays":   resource.NewProperty(30.0),
					"tags":              resource.NewProperty(tagProps),
				}, ws.Inputs)
				assert.Equal(t, tt.protected, m.req(t, "azure-native:operationalinsights:Workspace", "eu-logs").GetProtect())
				require.NotEmpty(t, ws.ID)
				workspaceID = ws.ID
			}

			ds := m.MustGet(t, "azure-native:insights:DiagnosticSetting", "eu-control-plane-logs")
			assert.Equal(t, m.MustGet(t, tokCluster, "eu").URN, ds.Parent)
			assert.True(t, strings.HasPrefix(ds.Provider, m.MustGet(t, tokAzProvider, "eu-provider").URN+"::"), "uses the cluster's provider")
			var logs []resource.PropertyValue
			for _, c := range []string{"kube-apiserver", "kube-audit-admin", "kube-controller-manager", "kube-scheduler", "cluster-autoscaler", "guard"} {
				logs = append(logs, resource.NewProperty(resource.PropertyMap{
					"category": resource.NewProperty(c),
					"enabled":  resource.NewProperty(true),
				}))
			}
			assert.Equal(t, resource.PropertyMap{
				"resourceUri":                 resource.NewProperty(m.MustGet(t, tokAKS, "eu-aks").ID),
				"workspaceId":                 resource.NewProperty(workspaceID),
				"logAnalyticsDestinationType": resource.NewProperty("Dedicated"),
				"logs":                        resource.NewProperty(logs),
			}, ds.Inputs)
		})
	}
}

// TestAzureAuditLogWorkspaceRefused: AuditLogWorkspace is a workspace's resource ID, on
// AKS only, checked before anything registers.
func TestAzureAuditLogWorkspaceRefused(t *testing.T) {
	t.Parallel()
	const sub = "/subscriptions/" + azSubscription
	tests := []struct {
		name, workspace string
		cloud           cluster.Cloud
		ok              bool
		want            string
	}{
		{name: "ID", workspace: sub + "/resourceGroups/platform-logs/providers/Microsoft.OperationalInsights/workspaces/fleet-audit", ok: true},
		{name: "ID in lower case", workspace: strings.ToLower(sub + "/resourceGroups/Platform.Logs(eu)/providers/Microsoft.OperationalInsights/workspaces/fleet-audit"), ok: true},
		{name: "a name", workspace: "fleet-audit", want: "is not a Log Analytics workspace's resource ID"},
		{name: "the customer id", workspace: "0b1c2d3e-0000-4000-8000-0000000000ff", want: "is not a Log Analytics workspace's resource ID"},
		{name: "another resource type", workspace: sub + "/resourceGroups/platform-logs/providers/Microsoft.Storage/storageAccounts/fleetaudit", want: "is not a Log Analytics workspace's resource ID"},
		{name: "a subscription that is no GUID", workspace: "/subscriptions/prod/resourceGroups/logs/providers/Microsoft.OperationalInsights/workspaces/fleet-audit", want: "is not a Log Analytics workspace's resource ID"},
		{name: "a workspace name too short", workspace: sub + "/resourceGroups/logs/providers/Microsoft.OperationalInsights/workspaces/fa", want: "is not a Log Analytics workspace's resource ID"},
		{name: "a trailing slash", workspace: sub + "/resourceGroups/logs/providers/Microsoft.OperationalInsights/workspaces/fleet-audit/", want: "is not a Log Analytics workspace's resource ID"},
		{name: "on GKE", cloud: cluster.GCP, workspace: sub + "/resourceGroups/logs/providers/Microsoft.OperationalInsights/workspaces/fleet-audit", want: "gcp clusters have none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cloud := tt.cloud
			if cloud == "" {
				cloud = cluster.Azure
			}
			args := baseArgs(cloud)
			args.AuditLogWorkspace = tt.workspace
			m := newRPCMocks()
			err := pulumi.RunErr(func(ctx *pulumi.Context) error {
				_, err := cluster.New(ctx, "eu", args)
				return err
			}, pulumi.WithMocks(pulumitest.Project, pulumitest.Stack, m))
			if tt.ok {
				require.NoError(t, err)
				assert.Equal(t, tt.workspace, m.MustGet(t, "azure-native:insights:DiagnosticSetting", "eu-control-plane-logs").Inputs["workspaceId"].StringValue())
				return
			}
			require.Error(t, err)
			assert.True(t, cluster.IsInvalidArgs(err), "%v", err)
			assert.Contains(t, err.Error(), fmt.Sprintf("AuditLogWorkspace %q ", tt.workspace))
			assert.Contains(t, err.Error(), tt.want)
			assert.Empty(t, m.Resources())
		})
	}
}

// azureIn is an AKS cluster of team payments in env, its API open to one range (as prod
// requires).
func azureIn(env string) *cluster.Args {
	args := baseArgs(cluster.Azure)
	args.Tags = costtags.Tags{"team": "payments", "env": env}
	args.API = cluster.APIAccess{AllowedCIDRs: []string{"203.0.113.0/24"}}
	return args
}
