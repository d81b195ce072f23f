package cluster

import (
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"sync"

	"github.com/pulumi/pulumi-azure-native-sdk/containerservice/v2"
	"github.com/pulumi/pulumi-azure-native-sdk/network/v2"
	"github.com/pulumi/pulumi-azure-native-sdk/resources/v2"
	azurenative "github.com/pulumi/pulumi-azure-native-sdk/v2"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// aksDNSPrefixMax is the longest DNS prefix AKS accepts.
const aksDNSPrefixMax = 54

// AzureCluster is what agent pools on an AKS cluster attach to.
type AzureCluster struct {
	Cluster       *containerservice.ManagedCluster
	ResourceGroup *resources.ResourceGroup
	// Subnet is the nodes' subnet; with Azure CNI overlay pods take PodCIDR addresses instead.
	Subnet *network.Subnet

	agentPools    sync.Mutex
	lastAgentPool pulumi.Resource // the agent pool registered last on the cluster
}

// AddAgentPool registers an agent pool on the cluster with register, which is given the
// agent pool registered last on the cluster (none for the first) to depend on. AKS runs
// one operation on a cluster at a time and refuses others while one runs
// (https://learn.microsoft.com/troubleshoot/azure/azure-kubernetes/create-upgrade-delete/error-code-operationnotallowed),
// so every agent pool of a cluster, whichever component creates it, goes through here
// and waits for the one before.
func (a *AzureCluster) AddAgentPool(register func(after []pulumi.Resource) (*containerservice.AgentPool, error)) (*containerservice.AgentPool, error) {
	a.agentPools.Lock()
	defer a.agentPools.Unlock()
	var after []pulumi.Resource
	if a.lastAgentPool != nil {
		after = []pulumi.Resource{a.lastAgentPool}
	}
	ap, err := register(after)
	if err != nil {
		return nil, err
	}
	a.lastAgentPool = ap
	return ap, nil
}

// aksUpgradeChannel "none" leaves the cluster's minor to Flotilla: AKS upgrades nothing
// on its own (https://learn.microsoft.com/azure/aks/auto-upgrade-cluster).
const aksUpgradeChannel = "none"

// AgentPoolUpgradeSettings is how every Flotilla AKS agent pool rolls its nodes in an
// upgrade: a third of the pool's nodes are added before old ones are drained, the value
// AKS recommends for production pools; without it AKS surges one node at a time in the
// API version the provider pins (2023-04-01)
// (https://learn.microsoft.com/azure/aks/upgrade-aks-node-pools-rolling#customize-node-surge).
func AgentPoolUpgradeSettings() *containerservice.AgentPoolUpgradeSettingsArgs {
	return &containerservice.AgentPoolUpgradeSettingsArgs{MaxSurge: pulumi.String("33%")}
}

// systemPoolCountPath is the inline system pool's node count as a Pulumi property path:
// the autoscaler owns the count once the pool exists, so an update after a refresh must
// not scale the pool back to its minimum, as the spot pools' agent pools already ignore
// theirs (https://www.pulumi.com/docs/iac/concepts/options/ignorechanges/).
const systemPoolCountPath = "agentPoolProfiles[0].count"

// The autoscaler's scale-down on AKS: how long a node stays under-used before it goes,
// and the share of its allocatable CPU and memory that pods request below which it is
// under-used (AKS's defaults: 10m and 0.5).
const (
	aksScaleDownUnneededTime         = "5m"
	aksScaleDownUtilizationThreshold = "0.7"
)

type azureBackend struct{}

func (azureBackend) provision(ctx *pulumi.Context, c *Cluster, s *spec) error {
	p := inheritedProvider(c, "azure-native")
	if p == nil {
		created, err := azurenative.NewProvider(ctx, s.name+"-provider", &azurenative.ProviderArgs{
			Location: pulumi.String(s.region),
		}, pulumi.Parent(c))
		if err != nil {
			return fmt.Errorf("provider: %w", err)
		}
		p = created
	}
	c.Provider = p
	opts := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Provider(p)}
	tags := pulumi.ToStringMap(s.cloudTags)

	var client clientConfig
	if err := ctx.Invoke(clientConfigToken, struct{}{}, &client, pulumi.Provider(p)); err != nil {
		return fmt.Errorf("client config: %w", err)
	}
	aad, err := aadProfile(s, client)
	if err != nil {
		return err
	}

	rg, err := resources.NewResourceGroup(ctx, s.name+"-rg", &resources.ResourceGroupArgs{
		Location: pulumi.String(s.region),
		Tags:     tags,
	}, opts...)
	if err != nil {
		return fmt.Errorf("resource group: %w", err)
	}
	vnet, err := network.NewVirtualNetwork(ctx, s.name+"-vnet", &network.VirtualNetworkArgs{
		ResourceGroupName: rg.Name,
		Location:          pulumi.String(s.region),
		AddressSpace: &network.AddressSpaceArgs{
			AddressPrefixes: pulumi.StringArray{pulumi.String(s.network.VPCCIDR)},
		},
		Tags: tags,
	}, append(opts, pulumi.IgnoreChanges([]string{"subnets"}))...) // subnets are resources of their own
	if err != nil {
		return fmt.Errorf("virtual network: %w", err)
	}
	// Nodes take the first half of the VNet; the rest is left for what runs beside them.
	subnet, err := network.NewSubnet(ctx, s.name+"-nodes", &network.SubnetArgs{
		ResourceGroupName:  rg.Name,
		VirtualNetworkName: vnet.Name,
		AddressPrefix:      pulumi.String(nodeSubnet(s).String()),
	}, opts...)
	if err != nil {
		return fmt.Errorf("subnet: %w", err)
	}

	tier := "Free"
	if s.prod {
		tier = "Standard" // the uptime SLA
	}
	security := &containerservice.ManagedClusterSecurityProfileArgs{
		WorkloadIdentity: &containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs{Enabled: pulumi.Bool(true)},
	}
	if s.secretsKey != "" {
		// Secrets are encrypted with the Key Vault key (a key ID with its version); the vault
		// stays reachable from the public network
		// (https://learn.microsoft.com/azure/aks/use-kms-etcd-encryption).
		security.AzureKeyVaultKms = &containerservice.AzureKeyVaultKmsArgs{
			Enabled:               pulumi.Bool(true),
			KeyId:                 pulumi.String(s.secretsKey),
			KeyVaultNetworkAccess: pulumi.String("Public"),
		}
	}
	clusterOpts := append(slices.Clone(opts), pulumi.IgnoreChanges([]string{systemPoolCountPath}))
	if s.prod {
		clusterOpts = append(clusterOpts, pulumi.Protect(true))
	}
	aks, err := containerservice.NewManagedCluster(ctx, s.name+"-aks", &containerservice.ManagedClusterArgs{
		ResourceGroupName: rg.Name,
		Location:          pulumi.String(s.region),
		DnsPrefix:         pulumi.String(dnsLabel(s.name, aksDNSPrefixMax)),
		KubernetesVersion: pulumi.String(s.version),
		EnableRBAC:        pulumi.Bool(true),
		AadProfile:        aad,
		// In prod only Entra ID signs in: the local accounts' static admin certificate,
		// which cannot be revoked, is refused (https://learn.microsoft.com/azure/aks/manage-local-accounts-managed-azure-ad).
		DisableLocalAccounts: pulumi.Bool(s.prod),
		Identity: &containerservice.ManagedClusterIdentityArgs{
			Type: containerservice.ResourceIdentityTypeSystemAssigned,
		},
		Sku: &containerservice.ManagedClusterSKUArgs{
			Name: pulumi.String("Base"),
			Tier: pulumi.String(tier),
		},
		AgentPoolProfiles: containerservice.ManagedClusterAgentPoolProfileArray{
			&containerservice.ManagedClusterAgentPoolProfileArgs{
				Name:                pulumi.String(SystemPoolName),
				Mode:                pulumi.String("System"),
				Type:                pulumi.String("VirtualMachineScaleSets"),
				OsType:              pulumi.String("Linux"),
				VmSize:              pulumi.String(s.system.InstanceType),
				OrchestratorVersion: pulumi.String(s.nodeVersion),
				UpgradeSettings:     AgentPoolUpgradeSettings(),
				EnableAutoScaling:   pulumi.Bool(true),
				Count:               pulumi.Int(s.system.MinSize),
				MinCount:            pulumi.Int(s.system.MinSize),
				MaxCount:            pulumi.Int(s.system.MaxSize),
				AvailabilityZones:   pulumi.ToStringArray(s.zones),
				VnetSubnetID:        subnet.ID(),
				NodeLabels:          pulumi.ToStringMap(systemLabels()),
				Tags:                tags,
			},
		},
		NetworkProfile: &containerservice.ContainerServiceNetworkProfileArgs{
			NetworkPlugin:     pulumi.String("azure"),
			NetworkPluginMode: pulumi.String("overlay"),
			// Cilium enforces the NetworkPolicies the environments create; without a
			// policy engine AKS enforces none
			// (https://learn.microsoft.com/azure/aks/azure-cni-powered-by-cilium,
			// https://learn.microsoft.com/azure/aks/use-network-policies).
			NetworkDataplane: pulumi.String("cilium"),
			NetworkPolicy:    pulumi.String("cilium"),
			PodCidr:          pulumi.String(s.network.PodCIDR),
			ServiceCidr:      pulumi.String(s.network.ServiceCIDR),
			DnsServiceIP:     pulumi.String(host(s.services, 10).String()),
			LoadBalancerSku:  pulumi.String("standard"),
			OutboundType:     pulumi.String("loadBalancer"),
		},
		// AKS runs the autoscaler itself; these are its cluster-wide flags.
		AutoScalerProfile: &containerservice.ManagedClusterPropertiesAutoScalerProfileArgs{
			Expander:                 pulumi.String("priority"),
			BalanceSimilarNodeGroups: pulumi.String("true"),
			MaxNodeProvisionTime:     pulumi.String(autoscalerDuration(s.maxNodeProvisionTime)),
			// Back to spot: a fallback node whose pods fit on other nodes (spot nodes with
			// room) is removed once it has been under 70% of its requests for 5 minutes,
			// instead of AKS's 10 minutes under 50%. These are cluster-wide on AKS, not
			// per pool (https://learn.microsoft.com/azure/aks/cluster-autoscaler#cluster-autoscaler-profile-settings).
			ScaleDownUnneededTime:         pulumi.String(aksScaleDownUnneededTime),
			ScaleDownUtilizationThreshold: pulumi.String(aksScaleDownUtilizationThreshold),
		},
		// Flotilla's rollout owns upgrades.
		AutoUpgradeProfile:     &containerservice.ManagedClusterAutoUpgradeProfileArgs{UpgradeChannel: pulumi.String(aksUpgradeChannel)},
		OidcIssuerProfile:      &containerservice.ManagedClusterOIDCIssuerProfileArgs{Enabled: pulumi.Bool(true)},
		SecurityProfile:        security,
		ApiServerAccessProfile: apiServerAccess(s),
		Tags:                   tags,
	}, clusterOpts...)
	if err != nil {
		return fmt.Errorf("aks cluster: %w", err)
	}

	if err := grantNetworkContributor(ctx, s.name+"-subnet-network-contributor", client, aks, subnet, opts...); err != nil {
		return err
	}

	if err := sendControlPlaneLogs(ctx, s, rg, aks, tags, opts...); err != nil {
		return err
	}

	admin, err := grantDeployerClusterAdmin(ctx, s.name+"-deployer-cluster-admin", client, aks, opts...)
	if err != nil {
		return err
	}

	// The cluster user's kubeconfig of an Entra ID cluster holds no credential, only the
	// API server and its CA; its user is replaced by kubelogin in Auth.Kubelogin's mode.
	creds := containerservice.ListManagedClusterUserCredentialsOutput(ctx, containerservice.ListManagedClusterUserCredentialsOutputArgs{
		ResourceGroupName: rg.Name,
		ResourceName:      aks.Name,
	}, pulumi.Provider(p))
	user := kubeloginUser(s, aad)
	kubeconfig := creds.Kubeconfigs().ApplyT(func(ks []containerservice.CredentialResultResponse) (string, error) {
		if len(ks) == 0 {
			return "", errors.New("AKS returned no kubeconfig for the cluster's user")
		}
		raw, err := base64.StdEncoding.DecodeString(ks[0].Value)
		if err != nil {
			return "", fmt.Errorf("kubeconfig %q: %w", ks[0].Name, err)
		}
		return execKubeconfigFrom(raw, user)
	}).(pulumi.StringOutput)

	c.Name = aks.Name
	c.Endpoint = pulumi.Sprintf("https://%s:443", aks.Fqdn)
	c.Version = aks.KubernetesVersion.ApplyT(func(v *string) string { return MinorOf(deref(v)) }).(pulumi.StringOutput)
	c.NodeVersion = aks.AgentPoolProfiles.ApplyT(func(pools []containerservice.ManagedClusterAgentPoolProfileResponse) string {
		for _, p := range pools {
			if p.Name != SystemPoolName {
				continue
			}
			// What the pool runs; orchestratorVersion is what was asked for.
			if p.CurrentOrchestratorVersion != "" {
				return MinorOf(p.CurrentOrchestratorVersion)
			}
			return MinorOf(deref(p.OrchestratorVersion))
		}
		return ""
	}).(pulumi.StringOutput)
	c.AutoUpgrade = aks.AutoUpgradeProfile.UpgradeChannel().ApplyT(func(ch *string) string {
		return autoUpgrade("AKS upgrade channel", deref(ch), aksUpgradeChannel)
	}).(pulumi.StringOutput)
	// An agent pool takes a minor ("1.31"); following the cluster's version output, it
	// is updated after the control plane.
	c.NodePoolVersion = aks.KubernetesVersion
	if s.nodeVersion != s.version {
		c.NodePoolVersion = pulumi.String(s.nodeVersion)
	}
	c.Kubeconfig = pulumi.ToSecret(kubeconfig).(pulumi.StringOutput)
	kubeOpts := []pulumi.ResourceOption{pulumi.Parent(c)}
	if admin != nil {
		kubeOpts = append(kubeOpts, pulumi.DependsOn([]pulumi.Resource{admin}))
	}
	if c.KubeProvider, err = kubernetes.NewProvider(ctx, s.name+"-k8s", &kubernetes.ProviderArgs{
		Kubeconfig: c.Kubeconfig,
	}, kubeOpts...); err != nil {
		return fmt.Errorf("kubernetes provider: %w", err)
	}
	c.Azure = &AzureCluster{Cluster: aks, ResourceGroup: rg, Subnet: subnet}

	if _, err := newPriorityExpander(ctx, c, s); err != nil {
		return err
	}
	return nil
}

// apiServerAccess is who reaches the API server: the network only for a private cluster,
// else the allowed ranges; nil leaves the endpoint open
// (https://learn.microsoft.com/azure/aks/api-server-authorized-ip-ranges,
// https://learn.microsoft.com/azure/aks/private-clusters). Authorized ranges do not apply
// to a private cluster's endpoint, so a private cluster lists none.
func apiServerAccess(s *spec) *containerservice.ManagedClusterAPIServerAccessProfileArgs {
	if s.api.Private {
		return &containerservice.ManagedClusterAPIServerAccessProfileArgs{EnablePrivateCluster: pulumi.Bool(true)}
	}
	if len(s.allowed) == 0 {
		return nil
	}
	ranges := make(pulumi.StringArray, len(s.allowed))
	for i, p := range s.allowed {
		ranges[i] = pulumi.String(p.String())
	}
	return &containerservice.ManagedClusterAPIServerAccessProfileArgs{AuthorizedIPRanges: ranges}
}

// networkContributorRole is the built-in Network Contributor role's ID
// (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/networking#network-contributor).
const networkContributorRole = "4d97b98b-1d4f-4787-a291-c67834d212e7"

// roleAssignmentToken is azure-native's RoleAssignment. It is registered by its token, with
// the properties of the authorization module's RoleAssignmentArgs, so that the cluster
// needs no SDK module for one resource.
const roleAssignmentToken = "azure-native:authorization:RoleAssignment"

// clientConfigToken is azure-native's getClientConfig: the subscription the provider
// deploys to, and the tenant and object id of the identity that deploys.
const clientConfigToken = "azure-native:authorization:getClientConfig"

// clientConfig is getClientConfig's result, with the properties of the authorization
// module's GetClientConfigResult.
type clientConfig struct {
	SubscriptionID string `pulumi:"subscriptionId"`
	TenantID       string `pulumi:"tenantId"`
	ObjectID       string `pulumi:"objectId"`
}

// roleDefinition is a built-in role's ID under the subscription a grant is made in.
func (c clientConfig) roleDefinition(role string) string {
	return "/subscriptions/" + c.SubscriptionID + "/providers/Microsoft.Authorization/roleDefinitions/" + role
}

type roleAssignment struct{ pulumi.CustomResourceState }

// grantNetworkContributor gives the cluster's identity Network Contributor on its subnet.
// On a subnet of its own AKS needs it to place internal load balancers and their IPs; the
// Azure CLI grants it when it creates the cluster, ARM and Pulumi do not
// (https://learn.microsoft.com/azure/aks/configure-azure-cni#prerequisites,
// https://learn.microsoft.com/azure/aks/internal-lb#before-you-begin).
func grantNetworkContributor(ctx *pulumi.Context, name string, client clientConfig, aks *containerservice.ManagedCluster, subnet *network.Subnet, opts ...pulumi.ResourceOption) error {
	var ra roleAssignment
	if err := ctx.RegisterResource(roleAssignmentToken, name, pulumi.Map{
		"principalId":      aks.Identity.PrincipalId(),
		"principalType":    pulumi.String("ServicePrincipal"),
		"roleDefinitionId": pulumi.String(client.roleDefinition(networkContributorRole)),
		"scope":            subnet.ID(),
	}, &ra, opts...); err != nil {
		return fmt.Errorf("network contributor on the subnet: %w", err)
	}
	return nil
}

// nodeSubnet is the first half of the VNet.
func nodeSubnet(s *spec) netip.Prefix {
	return subnet(s.vpc, 1, 0)
}

// aksClusterAdminRole is the built-in Azure Kubernetes Service RBAC Cluster Admin role's ID
// (https://learn.microsoft.com/azure/role-based-access-control/built-in-roles/containers#azure-kubernetes-service-rbac-cluster-admin).
const aksClusterAdminRole = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"

// grantDeployerClusterAdmin makes the identity that deploys (getClientConfig's objectId)
// cluster-admin of the cluster through Azure RBAC, so that the stack's Kubernetes provider,
// which signs in through Entra ID, can deploy in it with local accounts off
// (https://learn.microsoft.com/azure/aks/manage-azure-rbac). The provider takes the object
// id from the deploying identity's token; where it reports none, nothing is granted and
// nil is returned, and only Auth.EntraAdminGroupIDs are cluster-admin.
func grantDeployerClusterAdmin(ctx *pulumi.Context, name string, client clientConfig, aks *containerservice.ManagedCluster, opts ...pulumi.ResourceOption) (pulumi.Resource, error) {
	if client.ObjectID == "" {
		return nil, nil
	}
	var ra roleAssignment
	if err := ctx.RegisterResource(roleAssignmentToken, name, pulumi.Map{
		"principalId":      pulumi.String(client.ObjectID),
		"roleDefinitionId": pulumi.String(client.roleDefinition(aksClusterAdminRole)),
		"scope":            aks.ID(),
	}, &ra, opts...); err != nil {
		return nil, fmt.Errorf("cluster admin for the deployer: %w", err)
	}
	return &ra, nil
}

// aksAADServerID is the application id of the AKS AAD server, the audience of every
// Entra ID token for an AKS API server (https://azure.github.io/kubelogin/,
// https://learn.microsoft.com/azure/aks/kubelogin-authentication).
const aksAADServerID = "6dae42f8-4368-4678-94ff-3960e28e3630"

// DefaultKubelogin is the kubelogin login mode when Auth.Kubelogin is empty.
const DefaultKubelogin = "azurecli"

// kubeloginModes are the login modes Auth.Kubelogin takes: the ones that need no person at
// a prompt, since the stack's provider runs kubelogin with interactiveMode Never
// (https://learn.microsoft.com/azure/aks/kubelogin-authentication#authentication-methods).
var kubeloginModes = []string{"azurecli", "workloadidentity", "spn", "msi"}

// kubeloginUser is the kubeconfig user that gets an Entra ID token for the cluster from
// kubelogin get-token (https://azure.github.io/kubelogin/), in the
// cluster's tenant; a service principal's or workload identity's client id and secret come
// from kubelogin's own environment variables.
func kubeloginUser(s *spec, aad *containerservice.ManagedClusterAADProfileArgs) execUser {
	mode := s.auth.Kubelogin
	if mode == "" {
		mode = DefaultKubelogin
	}
	args := []string{"get-token", "--login", mode, "--server-id", aksAADServerID}
	if t, ok := aad.TenantID.(pulumi.String); ok && t != "" {
		args = append(args, "--tenant-id", string(t))
	}
	return execUser{
		Command:     "kubelogin",
		Args:        args,
		InstallHint: "Install kubelogin: az aks install-cli, or see https://azure.github.io/kubelogin/",
	}
}

// objectIDPattern is an Entra ID object or tenant id: a GUID.
var objectIDPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

// checkAzure checks what only an AKS cluster takes: Auth's Entra tenant and admin groups,
// which are GUIDs (a group's display name is not its object id).
func checkAzure(s *spec, errs *problems) {
	if s.cloud != Azure {
		if s.auditLogWorkspace != "" {
			errs.add("AuditLogWorkspace %q is the Log Analytics workspace of an AKS cluster's logs; %s clusters have none", s.auditLogWorkspace, s.cloud)
		}
		return // a fleet gives every cluster the same Auth; only AKS reads the Entra fields
	}
	if w := s.auditLogWorkspace; w != "" && !workspaceIDPattern.MatchString(w) {
		errs.add("AuditLogWorkspace %q is not a Log Analytics workspace's resource ID: "+
			"/subscriptions/<subscription id>/resourceGroups/<group>/providers/Microsoft.OperationalInsights/workspaces/<name>", w)
	}
	a := s.auth
	if a.EntraTenantID != "" && !objectIDPattern.MatchString(a.EntraTenantID) {
		errs.add("Auth.EntraTenantID %q is not a tenant id (a GUID such as \"72f988bf-86f1-41af-91ab-2d7cd011db47\")", a.EntraTenantID)
	}
	for i, g := range a.EntraAdminGroupIDs {
		switch {
		case !objectIDPattern.MatchString(g):
			errs.add("Auth.EntraAdminGroupIDs[%d] %q is not an Entra group object id (a GUID); AKS names groups by their object id, not their display name", i, g)
		case slices.IndexFunc(a.EntraAdminGroupIDs, func(o string) bool { return strings.EqualFold(o, g) }) != i:
			errs.add("Auth.EntraAdminGroupIDs[%d] %q is listed twice", i, g)
		}
	}
	if a.Kubelogin != "" && !slices.Contains(kubeloginModes, a.Kubelogin) {
		errs.add("Auth.Kubelogin %q is not a kubelogin login mode the stack can use without a prompt: use %s", a.Kubelogin, strings.Join(kubeloginModes, ", "))
	}
}

// aadProfile is the cluster's AKS-managed Microsoft Entra ID integration
// (https://learn.microsoft.com/azure/aks/enable-authentication-microsoft-entra-id): people
// and automation sign in with Entra ID; Auth.EntraAdminGroupIDs are cluster-admin (AKS
// binds them to the cluster-admin ClusterRole); the tenant is Auth.EntraTenantID, or the
// tenant of the identity that deploys.
//
// Azure RBAC for Kubernetes authorization is on, so that the identity that deploys can be
// made cluster-admin by an Azure role assignment on the cluster, which needs no group.
// Kubernetes RBAC still decides whatever no Azure role assignment allows, so the team
// RoleBindings of package envset, which name Entra groups by object id, keep applying
// (https://learn.microsoft.com/azure/aks/concepts-cluster-authorization: both models on one
// cluster). Azure RBAC takes only the tenant of the cluster's subscription
// (https://learn.microsoft.com/azure/aks/manage-azure-rbac#before-you-begin), so another
// tenant is refused.
func aadProfile(s *spec, client clientConfig) (*containerservice.ManagedClusterAADProfileArgs, error) {
	tenant := s.auth.EntraTenantID
	if tenant == "" {
		tenant = client.TenantID
	} else if client.TenantID != "" && !strings.EqualFold(tenant, client.TenantID) {
		return nil, fmt.Errorf("Auth.EntraTenantID %q is not the tenant %q of the subscription the cluster is deployed to; "+
			"Azure RBAC for Kubernetes authorization takes only the subscription's tenant: leave it empty or set %q", tenant, client.TenantID, client.TenantID)
	}
	p := &containerservice.ManagedClusterAADProfileArgs{
		Managed:         pulumi.Bool(true),
		EnableAzureRBAC: pulumi.Bool(true),
	}
	if tenant != "" {
		p.TenantID = pulumi.String(strings.ToLower(tenant))
	}
	if len(s.auth.EntraAdminGroupIDs) > 0 {
		ids := make(pulumi.StringArray, len(s.auth.EntraAdminGroupIDs))
		for i, g := range s.auth.EntraAdminGroupIDs {
			ids[i] = pulumi.String(strings.ToLower(g))
		}
		p.AdminGroupObjectIDs = ids
	}
	return p, nil
}

// The Azure resources of the control plane's logs, registered by their tokens with the
// properties of the operationalinsights module's WorkspaceArgs and the insights module's
// DiagnosticSettingArgs, so that the cluster needs no SDK module for them.
const (
	workspaceToken         = "azure-native:operationalinsights:Workspace"
	diagnosticSettingToken = "azure-native:insights:DiagnosticSetting"
)

// aksControlPlaneLogs are the AKS resource log categories sent to the workspace: the API
// server, the audit log without get and list requests (kube-audit-admin, which keeps every
// change at a fraction of kube-audit's volume), the controller manager, the scheduler, the
// cluster-autoscaler and guard, the Entra ID and Azure RBAC webhook
// (https://learn.microsoft.com/azure/aks/monitor-aks-reference#resource-logs).
var aksControlPlaneLogs = []string{
	"kube-apiserver", "kube-audit-admin", "kube-controller-manager", "kube-scheduler", "cluster-autoscaler", "guard",
}

// auditLogRetentionDays is how long a workspace the cluster creates keeps its logs: the 30
// days the pay-as-you-go plan (PerGB2018) retains at no charge
// (https://learn.microsoft.com/azure/azure-monitor/logs/data-retention-configure).
const auditLogRetentionDays = 30

// workspaceIDPattern is a Log Analytics workspace's resource ID. ARM IDs are
// case-insensitive; a resource group is 1 to 90 of letters, digits, -_.() not ending in a
// period, and a workspace 4 to 63 letters, digits and hyphens that starts and ends with a
// letter or digit (https://learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules).
var workspaceIDPattern = regexp.MustCompile(`(?i)^/subscriptions/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}` +
	`/resourceGroups/[-\w.()]{0,89}[-\w()]/providers/Microsoft\.OperationalInsights/workspaces/[a-z0-9][a-z0-9-]{2,61}[a-z0-9]$`)

type azureResource struct{ pulumi.CustomResourceState }

// sendControlPlaneLogs turns on the control plane's and audit logs, which AKS keeps
// nowhere by default: a diagnostic setting on the cluster sends them to AuditLogWorkspace,
// or to a workspace the cluster creates in its resource group, into resource-specific
// tables (https://learn.microsoft.com/azure/aks/monitor-aks#aks-control-planeresource-logs).
func sendControlPlaneLogs(ctx *pulumi.Context, s *spec, rg *resources.ResourceGroup, aks *containerservice.ManagedCluster, tags pulumi.StringMap, opts ...pulumi.ResourceOption) error {
	var workspace pulumi.StringInput = pulumi.String(s.auditLogWorkspace)
	if s.auditLogWorkspace == "" {
		wsOpts := slices.Clone(opts)
		if s.prod {
			wsOpts = append(wsOpts, pulumi.Protect(true)) // a prod cluster's audit trail
		}
		var ws azureResource
		if err := ctx.RegisterResource(workspaceToken, s.name+"-logs", pulumi.Map{
			"resourceGroupName": rg.Name,
			"location":          pulumi.String(s.region),
			"sku":               pulumi.Map{"name": pulumi.String("PerGB2018")},
			"retentionInDays":   pulumi.Int(auditLogRetentionDays),
			"tags":              tags,
		}, &ws, wsOpts...); err != nil {
			return fmt.Errorf("log analytics workspace: %w", err)
		}
		workspace = ws.ID().ToStringOutput()
	}
	logs := make(pulumi.Array, len(aksControlPlaneLogs))
	for i, c := range aksControlPlaneLogs {
		logs[i] = pulumi.Map{"category": pulumi.String(c), "enabled": pulumi.Bool(true)}
	}
	var ds azureResource
	if err := ctx.RegisterResource(diagnosticSettingToken, s.name+"-control-plane-logs", pulumi.Map{
		"resourceUri":                 aks.ID(),
		"workspaceId":                 workspace,
		"logAnalyticsDestinationType": pulumi.String("Dedicated"),
		"logs":                        logs,
	}, &ds, opts...); err != nil {
		return fmt.Errorf("control-plane logs: %w", err)
	}
	return nil
}
