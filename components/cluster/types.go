package cluster

import (
	"time"

	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Cloud names a managed-Kubernetes cloud.
type Cloud string

// The clouds a Cluster can run on. Sim is Flotilla's local simulator (fleetsim).
const (
	AWS   Cloud = "aws"
	GCP   Cloud = "gcp"
	Azure Cloud = "azure"
	Sim   Cloud = "sim"
)

// Network is a cluster's address plan: the VPC (or VNet), pod and service ranges, and on
// GKE the control plane's range.
type Network struct {
	VPCCIDR, PodCIDR, ServiceCIDR string
	// MasterCIDR is the /28 of a GKE cluster's control plane (masterIpv4CidrBlock), which
	// private nodes require: RFC 1918 and clear of every other range of the VPC. Empty
	// on GKE picks a /28 clear of the cluster's three ranges; other clouds leave it empty.
	MasterCIDR string
}

// APIAccess limits who reaches a cluster's Kubernetes API endpoint: EKS
// publicAccessCidrs, GKE master authorized networks, AKS authorizedIpRanges.
type APIAccess struct {
	// AllowedCIDRs may reach the public endpoint. Empty means anywhere, which a prod
	// cluster (tag env=prod) refuses unless AllowAnywhere is set.
	AllowedCIDRs []string
	// AllowAnywhere says an endpoint open to anywhere (no AllowedCIDRs, or 0.0.0.0/0 or
	// ::/0 among them) is meant; without it a prod cluster on AWS, GCP or Azure is
	// refused. The simulator, on loopback only, needs none.
	AllowAnywhere bool
	// Private turns the public endpoint off: the API is reached from the network only.
	Private bool
}

// Auth says how people and automation sign in to a cluster's Kubernetes API, beyond the
// cloud's defaults. Team groups themselves are bound by package envset.
type Auth struct {
	// GoogleSecurityGroup turns on Google Groups for RBAC on GKE: the
	// gke-security-groups@<domain> group that the teams' Google Groups are members of
	// (authenticatorGroupsConfig.securityGroup). Empty: Google Groups are not resolved,
	// and a RoleBinding to a Google Group matches no one.
	GoogleSecurityGroup string
	// EntraTenantID is the Microsoft Entra ID tenant of an AKS cluster's sign-in (every AKS
	// cluster has AKS-managed Entra ID integration). Empty: the tenant of the identity that
	// deploys. Azure RBAC, which is on, takes only the subscription's tenant.
	EntraTenantID string
	// EntraAdminGroupIDs are the object ids of Entra groups that are cluster-admin on AKS.
	// They are optional: the identity that deploys is made cluster-admin of the cluster by
	// an Azure role assignment (Azure Kubernetes Service RBAC Cluster Admin, through Azure
	// RBAC for Kubernetes authorization), which can take a few minutes to apply on a new
	// cluster. Team RoleBindings (package envset) stay Kubernetes RBAC on group object ids.
	EntraAdminGroupIDs []string
	// Kubelogin is how the stack's AKS kubeconfig, on every AKS cluster, gets its Entra ID
	// tokens: the kubelogin login mode (azurecli, workloadidentity, spn, msi), so kubelogin
	// must be on the PATH of the program. The kubeconfig holds no credential; prod clusters
	// (env=prod) also turn local accounts off, so no admin certificate exists there.
	// Empty: azurecli.
	Kubelogin string
}

// SystemPool is the on-demand pool that runs cluster add-ons.
type SystemPool struct {
	InstanceType     string
	MinSize, MaxSize int
}

// Args configures a Cluster.
type Args struct {
	Cloud   Cloud
	Region  string
	Zones   []string // empty: the cloud's default zones for Region
	Version string   // the control plane's Kubernetes minor, e.g. "1.31"
	// NodeVersion is the Kubernetes minor every node pool of the cluster runs: the system
	// pool, and the spot pools and fallbacks of package spotpool. Empty means Version.
	// It is never newer than Version and at most MaxNodeSkew(Cloud) minors older
	// (https://kubernetes.io/releases/version-skew-policy/#kubelet).
	NodeVersion string
	Network     Network
	SystemPool  SystemPool
	Tags        costtags.Tags
	// API says who may reach the cluster's Kubernetes API endpoint.
	API APIAccess
	// SecretsKey is a customer-managed key that encrypts the cluster's Kubernetes
	// Secrets at rest: an AWS KMS key ARN (EKS encryptionConfig), a Cloud KMS key name
	// (GKE databaseEncryption) or a Key Vault key ID (AKS KMS). Empty: the cloud's own key.
	SecretsKey string
	// Auth says how people and automation sign in to the cluster's API.
	Auth Auth
	// AuditLogWorkspace is the resource ID of the Azure Log Analytics workspace that
	// receives an AKS cluster's control-plane and audit logs (kube-apiserver,
	// kube-audit-admin, kube-controller-manager, kube-scheduler, cluster-autoscaler, guard):
	// /subscriptions/<id>/resourceGroups/<group>/providers/Microsoft.OperationalInsights/workspaces/<name>.
	// Empty: the cluster creates one in its resource group, keeping 30 days (protected in
	// prod). Other clouds must leave it empty.
	AuditLogWorkspace string
	// SimLite runs a simulator cluster (Cloud Sim) without a Kubernetes API, the
	// simulator's lite mode: the Cluster has no KubeProvider and nothing is deployed in
	// it. It is the only input of the mode: New reads neither the environment
	// (FLEETSIM_KUBE) nor the stack config (fleetsim:kube); stacks set it from their own
	// fleetsim:kube. The simulator refuses SimLite for a cluster that has a control plane,
	// instead of deleting what the stack deployed in it, and refuses false from a daemon
	// started lite. Other clouds must leave it false.
	SimLite bool
	// MaxNodeProvisionTime is the cluster-autoscaler's --max-node-provision-time: how long
	// it waits for a node group (a spot pool) before trying the next priority. It is one
	// setting per cluster on every cloud; 0 means 5m.
	MaxNodeProvisionTime time.Duration
}

// Cluster is a managed Kubernetes cluster with its network and system node pool.
type Cluster struct {
	pulumi.ResourceState

	Cloud  Cloud
	Region string
	// Zones are the zones the cluster's nodes run in, resolved from Args or the defaults.
	Zones []string
	// Tags are the cluster's cost tags; node pools on it merge theirs over these.
	Tags costtags.Tags

	Name     pulumi.StringOutput `pulumi:"name"`
	Endpoint pulumi.StringOutput `pulumi:"endpoint"`
	// Version is the control plane's Kubernetes minor, read from the cluster's resource.
	Version pulumi.StringOutput `pulumi:"version"`
	// NodeVersion is the Kubernetes minor the system pool runs, read from the pool's
	// resource, so that it reflects the state rather than the arguments.
	NodeVersion pulumi.StringOutput `pulumi:"nodeVersion"`
	// AutoUpgrade says what upgrades the cluster's minor besides Flotilla, as the cluster's
	// resource says: AutoUpgradeNone, or the cloud's setting that would (a GKE release
	// channel, an AKS upgrade channel, EKS's standard support policy).
	AutoUpgrade pulumi.StringOutput `pulumi:"autoUpgrade"`
	Kubeconfig  pulumi.StringOutput `pulumi:"kubeconfig"` // a secret
	// KubeProvider deploys in-cluster resources; it is built from Kubeconfig.
	KubeProvider *kubernetes.Provider

	// Provider is the cloud's provider for Region that the cluster's resources use, and
	// node pools on the cluster after them: the one passed in the options, or one the
	// cluster created.
	Provider pulumi.ProviderResource
	// NodePoolVersion is the version every node pool on the cluster gives its cloud. When
	// the nodes run the control plane's minor it is the control plane's own version
	// output, so that pools follow their control plane through an upgrade and are
	// updated after it; otherwise it is NodeVersion in the form the cloud takes.
	NodePoolVersion pulumi.StringPtrInput
	// MaxNodeProvisionTime is the autoscaler's --max-node-provision-time, resolved from Args.
	MaxNodeProvisionTime time.Duration
	// Prod is set when the cluster's tags say env=prod.
	Prod bool

	// AWS, GCP and Azure hold what node pools attach to; only the cluster's cloud's is set.
	AWS   *AWSCluster
	GCP   *GCPCluster
	Azure *AzureCluster
}
