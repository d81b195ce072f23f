package fleetsim

import (
	"errors"
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Cluster is a simulated managed-Kubernetes cluster (fleetsim:index:Cluster).
type Cluster struct {
	pulumi.CustomResourceState

	Name        pulumi.StringOutput      `pulumi:"name"`
	Region      pulumi.StringOutput      `pulumi:"region"`
	Zones       pulumi.StringArrayOutput `pulumi:"zones"`
	Version     pulumi.StringOutput      `pulumi:"version"` // the simulated Kubernetes minor version
	VpcCidr     pulumi.StringOutput      `pulumi:"vpcCidr"`
	PodCidr     pulumi.StringOutput      `pulumi:"podCidr"`
	ServiceCidr pulumi.StringOutput      `pulumi:"serviceCidr"`
	Tags        pulumi.StringMapOutput   `pulumi:"tags"`
	// Endpoint and Kubeconfig reach the cluster's local control plane; in lite mode
	// (a daemon started with FLEETSIM_KUBE=off) they are placeholders that reach nothing.
	Endpoint   pulumi.StringOutput `pulumi:"endpoint"`
	Kubeconfig pulumi.StringOutput `pulumi:"kubeconfig"` // a secret
	// KubeVersion is the control-plane binary's version, empty in lite mode.
	KubeVersion pulumi.StringOutput `pulumi:"kubeVersion"`
	Status      pulumi.StringOutput `pulumi:"status"`
}

// ClusterArgs are the inputs of a Cluster.
type ClusterArgs struct {
	// Name is the cluster's name, unique per region; it defaults to the resource's name.
	Name pulumi.StringPtrInput
	// Region is one of sim-east-1, sim-west-1, sim-central-1, sim-eu-1, sim-ap-1.
	Region pulumi.StringInput
	// Zones default to the region's three zones.
	Zones pulumi.StringArrayInput
	// Version is a Kubernetes minor such as "1.31"; it defaults to the newest version
	// every region offers.
	Version pulumi.StringPtrInput
	// VpcCidr, PodCidr and ServiceCidr are the address ranges; they are immutable.
	VpcCidr     pulumi.StringPtrInput
	PodCidr     pulumi.StringPtrInput
	ServiceCidr pulumi.StringPtrInput
	// Tags are cost-allocation tags.
	Tags pulumi.StringMapInput
	// Kube is the program's mode for the cluster: true when it builds on the cluster's
	// Kubernetes API (kube mode), false when it runs the cluster lite. The plugin refuses
	// false for a cluster that has a control plane, which would delete everything the
	// stack deployed in it, and true from a daemon started lite (FLEETSIM_KUBE=off).
	// Nil leaves the mode to the daemon.
	Kube pulumi.BoolPtrInput
}

type clusterArgs struct {
	Name        *string           `pulumi:"name"`
	Region      string            `pulumi:"region"`
	Zones       []string          `pulumi:"zones"`
	Version     *string           `pulumi:"version"`
	VpcCidr     *string           `pulumi:"vpcCidr"`
	PodCidr     *string           `pulumi:"podCidr"`
	ServiceCidr *string           `pulumi:"serviceCidr"`
	Tags        map[string]string `pulumi:"tags"`
	Kube        *bool             `pulumi:"kube"`
}

// ElementType returns the type the arguments resolve to.
func (ClusterArgs) ElementType() reflect.Type { return reflect.TypeOf((*clusterArgs)(nil)).Elem() }

// NewCluster registers a new Cluster.
func NewCluster(ctx *pulumi.Context, name string, args *ClusterArgs, opts ...pulumi.ResourceOption) (*Cluster, error) {
	if args == nil {
		return nil, errors.New("fleetsim.NewCluster: missing one or more required arguments")
	}
	if args.Region == nil {
		return nil, errors.New("fleetsim.NewCluster: invalid value for required argument 'Region'")
	}
	opts = append(defaultOpts(opts), pulumi.AdditionalSecretOutputs([]string{"kubeconfig"}))
	var r Cluster
	if err := ctx.RegisterResource(ClusterType, name, args, &r, opts...); err != nil {
		return nil, err
	}
	return &r, nil
}

// GetCluster reads an existing Cluster's state by id, as `pulumi import` does.
func GetCluster(ctx *pulumi.Context, name string, id pulumi.IDInput, opts ...pulumi.ResourceOption) (*Cluster, error) {
	var r Cluster
	if err := ctx.ReadResource(ClusterType, name, id, nil, &r, defaultOpts(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}
