package cluster_test

import (
	"testing"

	"github.com/flotilla-io/flotilla/components/cluster"
	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"
)

// Type tokens the tests look resources up by.
const (
	tokCluster     = cluster.TypeToken
	tokAWSProvider = "pulumi:providers:aws"
	tokGCPProvider = "pulumi:providers:gcp"
	tokAzProvider  = "pulumi:providers:azure-native"
	tokK8sProvider = "pulumi:providers:kubernetes"
	tokVPC         = "aws:ec2/vpc:Vpc"
	tokCidrAssoc   = "aws:ec2/vpcIpv4CidrBlockAssociation:VpcIpv4CidrBlockAssociation"
	tokSubnet      = "aws:ec2/subnet:Subnet"
	tokNAT         = "aws:ec2/natGateway:NatGateway"
	tokRouteTable  = "aws:ec2/routeTable:RouteTable"
	tokLT          = "aws:ec2/launchTemplate:LaunchTemplate"
	tokRole        = "aws:iam/role:Role"
	tokAttachment  = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
	tokRolePolicy  = "aws:iam/rolePolicy:RolePolicy"
	tokEKS         = "aws:eks/cluster:Cluster"
	tokNodeGroup   = "aws:eks/nodeGroup:NodeGroup"
	tokAddon       = "aws:eks/addon:Addon"
	tokPodIdentity = "aws:eks/podIdentityAssociation:PodIdentityAssociation"
	tokRelease     = "kubernetes:helm.sh/v3:Release"
	tokConfigMap   = "kubernetes:core/v1:ConfigMap"
	tokENIConfig   = "kubernetes:crd.k8s.amazonaws.com/v1alpha1:ENIConfig"
	tokNetwork     = "gcp:compute/network:Network"
	tokSubnetwork  = "gcp:compute/subnetwork:Subnetwork"
	tokRouterNat   = "gcp:compute/routerNat:RouterNat"
	tokSA          = "gcp:serviceaccount/account:Account"
	tokIAMMember   = "gcp:projects/iAMMember:IAMMember"
	tokGKE         = "gcp:container/cluster:Cluster"
	tokNodePool    = "gcp:container/nodePool:NodePool"
	tokRG          = "azure-native:resources:ResourceGroup"
	tokVNet        = "azure-native:network:VirtualNetwork"
	tokAzSubnet    = "azure-native:network:Subnet"
	tokAKS         = "azure-native:containerservice:ManagedCluster"
)

// Values the mocks answer with, as the clouds would.
const (
	gcpProject   = pulumitest.FakeGCPProject
	gkeVersion   = pulumitest.FakeGKEVersion
	gkeEndpoint  = pulumitest.FakeGKEEndpoint
	caData       = pulumitest.FakeCAData
	aksUserKube  = pulumitest.FakeAKSKubeconfig
	sgClusterEKS = pulumitest.FakeEKSSecurityGrp
)

// newMocks returns the recording mocks, answering what the clouds compute.
func newMocks() *pulumitest.Mocks { return pulumitest.New().FakeClouds() }

// baseArgs are valid args for a cluster on cloud.
func baseArgs(cloud cluster.Cloud) *cluster.Args {
	regions := map[cluster.Cloud]string{
		cluster.AWS:   "eu-west-1",
		cluster.GCP:   "europe-west1",
		cluster.Azure: "westeurope",
		cluster.Sim:   "sim-eu-1",
	}
	return &cluster.Args{
		Cloud:   cloud,
		Region:  regions[cloud],
		Version: "1.31",
		Tags:    costtags.Tags{"team": "payments", "env": "staging"},
	}
}

// run creates one cluster under fresh mocks and returns both.
func run(t *testing.T, name string, args *cluster.Args) (*pulumitest.Mocks, *cluster.Cluster) {
	t.Helper()
	m := newMocks()
	var c *cluster.Cluster
	err := m.Run(func(ctx *pulumi.Context) error {
		var err error
		c, err = cluster.New(ctx, name, args)
		return err
	})
	require.NoError(t, err)
	return m, c
}

// Shorthands for the harness's property readers.
func await(t testing.TB, o pulumi.Output) any { t.Helper(); return pulumitest.Await(t, o) }

func at(t testing.TB, v resource.PropertyValue, path ...any) resource.PropertyValue {
	t.Helper()
	return pulumitest.Prop(t, v, path...)
}

func in(t testing.TB, r pulumitest.Resource, path ...any) resource.PropertyValue {
	t.Helper()
	return r.Input(t, path...)
}

func strs(t testing.TB, v resource.PropertyValue) []string {
	t.Helper()
	return pulumitest.PropStrings(t, v)
}

func strMap(t testing.TB, v resource.PropertyValue) map[string]string {
	t.Helper()
	return pulumitest.PropStringMap(t, v)
}
