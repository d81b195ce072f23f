package cluster

import (
	"fmt"
	"net/netip"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/compute"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/container"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/kms"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/organizations"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/projects"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/serviceaccount"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// The secondary ranges of a GKE cluster's subnetwork (VPC-native networking).
const (
	gkePodRange     = "pods"
	gkeServiceRange = "services"
)

// cloudPlatformScope lets IAM, not access scopes, decide what nodes may do.
const cloudPlatformScope = "https://www.googleapis.com/auth/cloud-platform"

// gkeNodeRoles are the least-privilege roles GKE documents for a node service account.
var gkeNodeRoles = []string{
	"roles/logging.logWriter",
	"roles/monitoring.metricWriter",
	"roles/monitoring.viewer",
	"roles/stackdriver.resourceMetadata.writer",
	"roles/artifactregistry.reader",
}

// GCPCluster is what node pools on a GKE cluster attach to.
type GCPCluster struct {
	Cluster    *container.Cluster
	Network    *compute.Network
	Subnetwork *compute.Subnetwork
	// NodeServiceAccount is the identity every node pool's nodes run as.
	NodeServiceAccount *serviceaccount.Account
	// GoogleSecurityGroup is Args.Auth.GoogleSecurityGroup, the cluster's
	// authenticatorGroupsConfig.securityGroup: empty, GKE resolves no Google Group, and
	// a RoleBinding that names one matches no one.
	GoogleSecurityGroup string
}

// gkeNoChannel keeps a GKE cluster out of release channels, so that GKE never moves its
// minor on a channel's schedule, and its node pools set autoUpgrade false
// (https://cloud.google.com/kubernetes-engine/docs/concepts/release-channels#no_channel).
// Even so GKE upgrades a control plane whose minor reaches its end of life
// (https://cloud.google.com/kubernetes-engine/versioning), and "no channel" is deprecated
// for new projects: Flotilla has to upgrade GKE clusters before their minor's end of life.
const gkeNoChannel = "UNSPECIFIED"

// NodePoolUpgradeSettings is how every Flotilla GKE node pool rolls its nodes in an
// upgrade: a surge upgrade, one new node before one old node goes
// (https://cloud.google.com/kubernetes-engine/docs/concepts/node-pool-upgrade-strategies#surge),
// so that the pool never has fewer nodes than it had.
func NodePoolUpgradeSettings() *container.NodePoolUpgradeSettingsArgs {
	return &container.NodePoolUpgradeSettingsArgs{
		Strategy:       pulumi.String("SURGE"),
		MaxSurge:       pulumi.Int(1),
		MaxUnavailable: pulumi.Int(0),
	}
}

// NodePoolReplacement is how every Flotilla GKE node pool is replaced: the old pool is
// deleted before the new one is created. A pool's name is fixed, because the spot pools'
// ComputeClass ranks pools by name and GroupName is the contract, and inputs every pool
// sets force a replacement when they change (cluster, location, nodeConfig's spot,
// serviceAccount, oauthScopes and taints: ForceNew in google_container_node_pool of
// terraform-provider-google-beta v5.42.0, which pulumi-gcp v7.38.0 bridges; a machine
// type is updated in place since v5.10.0). Created first, the new pool would
// take the old one's name, and GKE refuses it (409 already exists). While a spot pool is
// replaced its fallback takes the pods; while the system pool is, the add-ons wait for
// its new nodes.
func NodePoolReplacement() pulumi.ResourceOption { return pulumi.DeleteBeforeReplace(true) }

type gcpBackend struct{}

// gkeDataplaneV2 is the datapathProvider of GKE Dataplane V2, which enforces Kubernetes
// NetworkPolicies with no network policy add-on
// (https://cloud.google.com/kubernetes-engine/docs/concepts/dataplane-v2).
const gkeDataplaneV2 = "ADVANCED_DATAPATH"

// gkeMasterBits is the size of a private GKE control plane's range: the provider refuses
// private nodes without masterIpv4CidrBlock ("master_ipv4_cidr_block must be set if
// enable_private_nodes is true", terraform-provider-google behind pulumi-gcp v7.38.0),
// and GKE takes a /28 of RFC 1918 space that overlaps no range of the VPC
// (https://cloud.google.com/kubernetes-engine/docs/how-to/private-clusters#req_res_lim).
const gkeMasterBits = 28

// masterCandidates are where a GKE control plane's /28 is looked for when Network leaves
// it empty, in order: GKE's documented example block first.
var masterCandidates = []netip.Prefix{
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("10.0.0.0/8"),
}

// gkeMasterCIDR returns the cluster's control-plane /28: Network.MasterCIDR, checked
// against GKE's rule, or the lowest /28 of masterCandidates clear of the cluster's three
// ranges and Docker's bridge, so that the same ranges always give the same /28.
func gkeMasterCIDR(s *spec) (string, error) {
	others := []netip.Prefix{s.vpc, s.pods, s.services, netip.MustParsePrefix(dockerBridge)}
	clear := func(p netip.Prefix) error {
		for _, o := range others {
			if o.IsValid() && o.Overlaps(p) {
				return fmt.Errorf("Network.MasterCIDR %q overlaps %q: GKE's control-plane range must overlap no range of the VPC", p, o)
			}
		}
		return nil
	}
	if m := s.network.MasterCIDR; m != "" {
		p, err := parseCIDR(m)
		if err != nil {
			return "", fmt.Errorf("Network.MasterCIDR: %w", err)
		}
		if p.Bits() != gkeMasterBits {
			return "", fmt.Errorf("Network.MasterCIDR %q is a /%d; GKE's control plane takes a /%d", m, p.Bits(), gkeMasterBits)
		}
		if _, ok := within(p, privateBlocks); !ok {
			return "", fmt.Errorf("Network.MasterCIDR %q is not RFC 1918 space, which GKE's control plane requires", m)
		}
		return m, clear(p)
	}
	for _, block := range masterCandidates {
		for i := 0; i < 1<<(gkeMasterBits-block.Bits()); i++ {
			p := subnet(block, gkeMasterBits-block.Bits(), i)
			if clear(p) == nil {
				return p.String(), nil
			}
		}
	}
	return "", fmt.Errorf("no /%d of RFC 1918 space is clear of the cluster's ranges: set Network.MasterCIDR", gkeMasterBits)
}

// GKE's rule for cluster names (https://cloud.google.com/kubernetes-engine/docs/reference/rest/v1/projects.locations.clusters#Cluster,
// field name): a lowercase letter first, then lowercase letters, digits and hyphens, no
// hyphen last, at most gkeClusterNameMax characters.
var gkeClusterNamePattern = regexp.MustCompile(`^[a-z]([-a-z0-9]*[a-z0-9])?$`)

const (
	gkeClusterNameMax = 40
	// autonameSuffix is what Pulumi appends to a resource's name when it names the
	// cloud resource: a hyphen and seven random hex digits.
	autonameSuffix = 8
	gkeSuffix      = "-gke"
)

// gkeClusterName is the GKE cluster's name: empty lets Pulumi name it, as every cluster
// whose name fits with Pulumi's suffix always was; a longer one is named exactly, so that
// it fits GKE's limit. A name that does not fit even so, or breaks GKE's rule, is refused.
func gkeClusterName(s *spec) (string, error) {
	name := s.name + gkeSuffix
	switch {
	case !gkeClusterNamePattern.MatchString(name):
		return "", fmt.Errorf("name %q does not make a GKE cluster name: GKE takes lowercase letters, digits and hyphens, starting with a letter", s.name)
	case len(name)+autonameSuffix <= gkeClusterNameMax:
		return "", nil
	case len(name) <= gkeClusterNameMax:
		return name, nil
	}
	return "", fmt.Errorf("name %q is %d characters: its GKE cluster %q would exceed GKE's limit of %d characters for cluster names; use a name of at most %d",
		s.name, len(s.name), name, gkeClusterNameMax, gkeClusterNameMax-len(gkeSuffix))
}

// gkeSecurityGroupLocal is the local part GKE requires of the group that Google Groups
// for RBAC reads team groups from: gke-security-groups@<domain>, whose members (the
// teams' groups) GKE puts in a request's groups by their email
// (https://cloud.google.com/kubernetes-engine/docs/how-to/google-groups-rbac).
const gkeSecurityGroupLocal = "gke-security-groups"

// googleGroupAddress is a Google Group's email address: the local part, and a domain.
var googleGroupAddress = regexp.MustCompile(`^([A-Za-z0-9._%+-]+)@([A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,})$`)

// checkGoogleSecurityGroup applies GKE's rule to Auth.GoogleSecurityGroup: empty, or
// gke-security-groups@<domain>.
func checkGoogleSecurityGroup(g string) error {
	if g == "" {
		return nil
	}
	m := googleGroupAddress.FindStringSubmatch(g)
	if m == nil || m[1] != gkeSecurityGroupLocal {
		return fmt.Errorf("Auth.GoogleSecurityGroup %q is not %s@<your domain>: GKE reads team groups only from the group of that name", g, gkeSecurityGroupLocal)
	}
	return nil
}

// gkeAuthenticatorGroups turns on Google Groups for RBAC with Auth.GoogleSecurityGroup;
// nil, with none, leaves it off.
func gkeAuthenticatorGroups(s *spec) *container.ClusterAuthenticatorGroupsConfigArgs {
	if s.auth.GoogleSecurityGroup == "" {
		return nil
	}
	return &container.ClusterAuthenticatorGroupsConfigArgs{SecurityGroup: pulumi.String(s.auth.GoogleSecurityGroup)}
}

// checkGKE applies GKE's own rules to what the cluster would send: its name, its
// control plane's range and its Google Groups security group.
func checkGKE(s *spec) (name, masterCIDR string, err error) {
	var errs problems
	if err := checkGoogleSecurityGroup(s.auth.GoogleSecurityGroup); err != nil {
		errs = append(errs, err)
	}
	if s.secretsKey != "" && !gkeSecretsKeyPattern.MatchString(s.secretsKey) {
		errs.add("SecretsKey %q is not a Cloud KMS key name on GKE: use projects/<project>/locations/<location>/keyRings/<ring>/cryptoKeys/<key>", s.secretsKey)
	}
	name, nameErr := gkeClusterName(s)
	if nameErr != nil {
		errs = append(errs, nameErr)
	}
	masterCIDR, masterErr := gkeMasterCIDR(s)
	if masterErr != nil {
		errs = append(errs, masterErr)
	}
	if len(errs) > 0 {
		return "", "", &InvalidArgsError{Name: s.name, Problems: errs}
	}
	return name, masterCIDR, nil
}

func (gcpBackend) provision(ctx *pulumi.Context, c *Cluster, s *spec) error {
	clusterName, masterCIDR, err := checkGKE(s)
	if err != nil {
		return err
	}
	if s.maxNodeProvisionTime != DefaultMaxNodeProvisionTime {
		// GKE runs its own autoscaler, whose provision timeout cannot be set.
		_ = ctx.Log.Warn(fmt.Sprintf("cluster %q: MaxNodeProvisionTime %s does not apply on GKE, whose cluster autoscaler GKE runs and configures", s.name, s.maxNodeProvisionTime), &pulumi.LogArgs{Resource: c})
	}
	p := inheritedProvider(c, "gcp")
	if p == nil {
		created, err := gcp.NewProvider(ctx, s.name+"-provider", &gcp.ProviderArgs{
			Region: pulumi.String(s.region),
		}, pulumi.Parent(c))
		if err != nil {
			return fmt.Errorf("provider: %w", err)
		}
		p = created
	}
	c.Provider = p
	opts := []pulumi.ResourceOption{pulumi.Parent(c), pulumi.Provider(p)}
	project := organizations.GetClientConfigOutput(ctx, pulumi.Provider(p)).Project()

	network, err := compute.NewNetwork(ctx, s.name+"-network", &compute.NetworkArgs{
		AutoCreateSubnetworks: pulumi.Bool(false),
		RoutingMode:           pulumi.String("REGIONAL"),
	}, opts...)
	if err != nil {
		return fmt.Errorf("network: %w", err)
	}
	subnet, err := compute.NewSubnetwork(ctx, s.name+"-nodes", &compute.SubnetworkArgs{
		Network:               network.ID(),
		Region:                pulumi.String(s.region),
		IpCidrRange:           pulumi.String(s.network.VPCCIDR),
		PrivateIpGoogleAccess: pulumi.Bool(true),
		SecondaryIpRanges: compute.SubnetworkSecondaryIpRangeArray{
			&compute.SubnetworkSecondaryIpRangeArgs{RangeName: pulumi.String(gkePodRange), IpCidrRange: pulumi.String(s.network.PodCIDR)},
			&compute.SubnetworkSecondaryIpRangeArgs{RangeName: pulumi.String(gkeServiceRange), IpCidrRange: pulumi.String(s.network.ServiceCIDR)},
		},
	}, opts...)
	if err != nil {
		return fmt.Errorf("subnetwork: %w", err)
	}
	// Nodes have no public addresses; Cloud NAT gives them egress.
	router, err := compute.NewRouter(ctx, s.name+"-router", &compute.RouterArgs{
		Network: network.ID(),
		Region:  pulumi.String(s.region),
	}, opts...)
	if err != nil {
		return fmt.Errorf("router: %w", err)
	}
	if _, err := compute.NewRouterNat(ctx, s.name+"-nat", &compute.RouterNatArgs{
		Router:                        router.Name,
		Region:                        pulumi.String(s.region),
		NatIpAllocateOption:           pulumi.String("AUTO_ONLY"),
		SourceSubnetworkIpRangesToNat: pulumi.String("ALL_SUBNETWORKS_ALL_IP_RANGES"),
	}, opts...); err != nil {
		return fmt.Errorf("nat: %w", err)
	}

	sa, err := serviceaccount.NewAccount(ctx, s.name+"-nodes", &serviceaccount.AccountArgs{
		AccountId:   pulumi.String(dnsLabel(s.name+"-nodes", 30)),
		DisplayName: pulumi.String("Flotilla nodes of " + s.name),
	}, opts...)
	if err != nil {
		return fmt.Errorf("node service account: %w", err)
	}
	var grants []pulumi.Resource
	for _, role := range gkeNodeRoles {
		short := strings.ReplaceAll(strings.TrimPrefix(role, "roles/"), ".", "-")
		g, err := projects.NewIAMMember(ctx, s.name+"-nodes-"+short, &projects.IAMMemberArgs{
			Project: project,
			Role:    pulumi.String(role),
			Member:  pulumi.Sprintf("serviceAccount:%s", sa.Email),
		}, opts...)
		if err != nil {
			return fmt.Errorf("node role %s: %w", role, err)
		}
		grants = append(grants, g)
	}

	if s.secretsKey != "" {
		g, err := newGKESecretsKeyGrant(ctx, s, p, project, opts)
		if err != nil {
			return err
		}
		grants = append(grants, g)
	}

	// A prod cluster is protected twice: GKE's own deletionProtection, and Pulumi's.
	clusterOpts := append(slices.Clone(opts), pulumi.DependsOn(grants), pulumi.Protect(s.prod))
	var gkeName pulumi.StringPtrInput
	if clusterName != "" {
		gkeName = pulumi.String(clusterName)
		// A fixed name cannot exist twice: a replacement deletes the old cluster first.
		clusterOpts = append(clusterOpts, pulumi.DeleteBeforeReplace(true))
	}
	gke, err := container.NewCluster(ctx, s.name+gkeSuffix, &container.ClusterArgs{
		Name:             gkeName,
		Location:         pulumi.String(s.region),
		NodeLocations:    pulumi.ToStringArray(s.zones),
		MinMasterVersion: pulumi.String(s.version),
		// No release channel: Flotilla's rollout owns upgrades, not GKE's channels.
		ReleaseChannel:        &container.ClusterReleaseChannelArgs{Channel: pulumi.String(gkeNoChannel)},
		RemoveDefaultNodePool: pulumi.Bool(true),
		InitialNodeCount:      pulumi.Int(1),
		// The default pool lives only while the cluster is created; even so it runs as
		// the node account rather than the project's default compute account.
		NodeConfig: &container.ClusterNodeConfigArgs{
			ServiceAccount: sa.Email,
			OauthScopes:    pulumi.StringArray{pulumi.String(cloudPlatformScope)},
		},
		Network:        network.ID(),
		Subnetwork:     subnet.ID(),
		NetworkingMode: pulumi.String("VPC_NATIVE"),
		// Dataplane V2 enforces NetworkPolicies, the default-deny ones of envset among
		// them; with it GKE's Calico network policy must stay off.
		DatapathProvider: pulumi.String(gkeDataplaneV2),
		IpAllocationPolicy: &container.ClusterIpAllocationPolicyArgs{
			ClusterSecondaryRangeName:  pulumi.String(gkePodRange),
			ServicesSecondaryRangeName: pulumi.String(gkeServiceRange),
		},
		PrivateClusterConfig: &container.ClusterPrivateClusterConfigArgs{
			EnablePrivateNodes:    pulumi.Bool(true),
			EnablePrivateEndpoint: pulumi.Bool(s.api.Private),
			MasterIpv4CidrBlock:   pulumi.String(masterCIDR),
		},
		MasterAuthorizedNetworksConfig: gkeAuthorizedNetworks(s),
		AuthenticatorGroupsConfig:      gkeAuthenticatorGroups(s),
		DatabaseEncryption:             gkeSecretsEncryption(s),
		WorkloadIdentityConfig: &container.ClusterWorkloadIdentityConfigArgs{
			WorkloadPool: pulumi.Sprintf("%s.svc.id.goog", project),
		},
		DeletionProtection: pulumi.Bool(s.prod),
		ResourceLabels:     pulumi.ToStringMap(s.cloudTags),
	}, clusterOpts...)
	if err != nil {
		return fmt.Errorf("gke cluster: %w", err)
	}

	// Nodes at the control plane's minor run its exact version, and follow it through
	// an upgrade. A pool that lags runs the newest patch of its minor that GKE offers in
	// the region: the provider sees spurious diffs for a fuzzy "1.30"
	// (container.NodePool's version, and google_container_engine_versions'
	// version_prefix), so a step may also move a lagging pool's patch.
	c.NodePoolVersion = gke.MasterVersion
	if s.nodeVersion != s.version {
		c.NodePoolVersion = container.GetEngineVersionsOutput(ctx, container.GetEngineVersionsOutputArgs{
			Location:      pulumi.String(s.region),
			VersionPrefix: pulumi.String(s.nodeVersion + "."),
		}, pulumi.Provider(p)).LatestNodeVersion()
	}
	system, err := container.NewNodePool(ctx, s.name+"-system", &container.NodePoolArgs{
		Name:             pulumi.String(SystemPoolName),
		Cluster:          gke.Name,
		Location:         pulumi.String(s.region),
		NodeLocations:    pulumi.ToStringArray(s.zones),
		Version:          c.NodePoolVersion,
		InitialNodeCount: pulumi.Int(perZone(s.system.MinSize, len(s.zones))),
		Autoscaling: &container.NodePoolAutoscalingArgs{
			TotalMinNodeCount: pulumi.Int(s.system.MinSize),
			TotalMaxNodeCount: pulumi.Int(s.system.MaxSize),
			LocationPolicy:    pulumi.String("BALANCED"),
		},
		Management:      NodePoolManagement(),
		UpgradeSettings: NodePoolUpgradeSettings(),
		NodeConfig: &container.NodePoolNodeConfigArgs{
			MachineType:            pulumi.String(s.system.InstanceType),
			ServiceAccount:         sa.Email,
			OauthScopes:            pulumi.StringArray{pulumi.String(cloudPlatformScope)},
			Labels:                 pulumi.ToStringMap(systemLabels()),
			ResourceLabels:         pulumi.ToStringMap(s.cloudTags),
			WorkloadMetadataConfig: &container.NodePoolNodeConfigWorkloadMetadataConfigArgs{Mode: pulumi.String("GKE_METADATA")},
		},
	}, append(slices.Clone(opts), NodePoolReplacement(), pulumi.IgnoreChanges([]string{"initialNodeCount", "nodeCount"}))...)
	if err != nil {
		return fmt.Errorf("system node pool: %w", err)
	}
	c.NodeVersion = system.Version.ApplyT(MinorOf).(pulumi.StringOutput)

	kubeconfig := pulumi.All(gke.Name, gke.Endpoint, gke.MasterAuth.ClusterCaCertificate()).ApplyT(func(v []any) (string, error) {
		return execKubeconfig(v[0].(string), "https://"+v[1].(string), deref(v[2]), execUser{
			Command:            "gke-gcloud-auth-plugin",
			InstallHint:        "Install gke-gcloud-auth-plugin: gcloud components install gke-gcloud-auth-plugin",
			ProvideClusterInfo: true,
		})
	}).(pulumi.StringOutput)
	c.Name = gke.Name
	c.Endpoint = pulumi.Sprintf("https://%s", gke.Endpoint)
	c.Version = gke.MasterVersion.ApplyT(MinorOf).(pulumi.StringOutput)
	c.AutoUpgrade = gke.ReleaseChannel.Channel().ApplyT(func(ch string) string {
		return autoUpgrade("GKE release channel", ch, gkeNoChannel)
	}).(pulumi.StringOutput)
	c.Kubeconfig = pulumi.ToSecret(kubeconfig).(pulumi.StringOutput)
	if c.KubeProvider, err = kubernetes.NewProvider(ctx, s.name+"-k8s", &kubernetes.ProviderArgs{
		Kubeconfig: c.Kubeconfig,
	}, pulumi.Parent(c)); err != nil {
		return fmt.Errorf("kubernetes provider: %w", err)
	}
	c.GCP = &GCPCluster{Cluster: gke, Network: network, Subnetwork: subnet, NodeServiceAccount: sa,
		GoogleSecurityGroup: s.auth.GoogleSecurityGroup}
	return nil
}

// gkeAuthorizedNetworks limits the control plane's endpoint to API.AllowedCIDRs (GKE
// master authorized networks,
// https://cloud.google.com/kubernetes-engine/docs/how-to/authorized-networks); nil, with
// none, leaves a public endpoint open to anywhere.
func gkeAuthorizedNetworks(s *spec) *container.ClusterMasterAuthorizedNetworksConfigArgs {
	if len(s.allowed) == 0 {
		return nil
	}
	var blocks container.ClusterMasterAuthorizedNetworksConfigCidrBlockArray
	for _, p := range s.allowed {
		blocks = append(blocks, &container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs{
			CidrBlock:   pulumi.String(p.String()),
			DisplayName: pulumi.String("flotilla " + p.String()),
		})
	}
	return &container.ClusterMasterAuthorizedNetworksConfigArgs{CidrBlocks: blocks}
}

// gkeSecretsEncryption encrypts the cluster's Secrets with SecretsKey, a Cloud KMS key
// (https://cloud.google.com/kubernetes-engine/docs/how-to/encrypting-secrets); nil, with
// none, leaves Google's own key. GKE's service agent needs
// roles/cloudkms.cryptoKeyEncrypterDecrypter on the key.
func gkeSecretsEncryption(s *spec) *container.ClusterDatabaseEncryptionArgs {
	if s.secretsKey == "" {
		return nil
	}
	return &container.ClusterDatabaseEncryptionArgs{
		State:   pulumi.String("ENCRYPTED"),
		KeyName: pulumi.String(s.secretsKey),
	}
}

// gkeSecretsKeyPattern is the form of a Cloud KMS key's name that
// databaseEncryption.keyName takes, and that CryptoKeyIAMMember's cryptoKeyId takes as
// well (terraform-provider-google's ParseKmsCryptoKeyId, relative link form).
var gkeSecretsKeyPattern = regexp.MustCompile(`^projects/[a-z0-9:.-]+/locations/[a-z0-9-]+/keyRings/[A-Za-z0-9_-]{1,63}/cryptoKeys/[A-Za-z0-9_-]{1,63}$`)

// gkeSecretsKeyRole is what GKE's service agent needs on the secrets key.
const gkeSecretsKeyRole = "roles/cloudkms.cryptoKeyEncrypterDecrypter"

// newGKESecretsKeyGrant lets GKE's service agent of the cluster's project,
// service-<project number>@container-engine-robot.iam.gserviceaccount.com, encrypt and
// decrypt with the secrets key; without it GKE cannot create the cluster with
// databaseEncryption (https://cloud.google.com/kubernetes-engine/docs/how-to/encrypting-secrets).
// The project number comes from the provider's project (getProject).
func newGKESecretsKeyGrant(ctx *pulumi.Context, s *spec, p pulumi.ProviderResource, project pulumi.StringOutput, opts []pulumi.ResourceOption) (pulumi.Resource, error) {
	number := organizations.LookupProjectOutput(ctx, organizations.LookupProjectOutputArgs{ProjectId: project}, pulumi.Provider(p)).Number()
	agent := number.ApplyT(func(n string) (string, error) {
		if n == "" {
			return "", fmt.Errorf("cluster %q: the project's number is unknown, so GKE's service agent cannot be granted the secrets key", s.name)
		}
		return "serviceAccount:service-" + n + "@container-engine-robot.iam.gserviceaccount.com", nil
	}).(pulumi.StringOutput)
	g, err := kms.NewCryptoKeyIAMMember(ctx, s.name+"-secrets-key", &kms.CryptoKeyIAMMemberArgs{
		CryptoKeyId: pulumi.String(s.secretsKey),
		Role:        pulumi.String(gkeSecretsKeyRole),
		Member:      agent,
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("secrets key grant: %w", err)
	}
	return g, nil
}

// NodePoolManagement is every Flotilla GKE node pool's management: GKE repairs nodes,
// and never upgrades them, which Flotilla's rollout does
// (https://cloud.google.com/kubernetes-engine/docs/how-to/node-auto-upgrades).
func NodePoolManagement() *container.NodePoolManagementArgs {
	return &container.NodePoolManagementArgs{
		AutoRepair:  pulumi.Bool(true),
		AutoUpgrade: pulumi.Bool(false),
	}
}

// perZone is a GKE pool's initial node count per zone for at least total nodes in all.
func perZone(total, zones int) int {
	return (total + zones - 1) / zones
}
