package fleetsim

import (
	"errors"
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// NodePool is a simulated node pool (fleetsim:index:NodePool).
type NodePool struct {
	pulumi.CustomResourceState

	Name             pulumi.StringOutput      `pulumi:"name"`
	Cluster          pulumi.StringOutput      `pulumi:"cluster"`
	ClusterId        pulumi.StringOutput      `pulumi:"clusterId"` //nolint:revive // generated-SDK naming
	CapacityType     pulumi.StringOutput      `pulumi:"capacityType"`
	InstanceTypes    pulumi.StringArrayOutput `pulumi:"instanceTypes"`
	Zones            pulumi.StringArrayOutput `pulumi:"zones"`
	MinSize          pulumi.IntOutput         `pulumi:"minSize"`
	MaxSize          pulumi.IntOutput         `pulumi:"maxSize"`
	DesiredSize      pulumi.IntOutput         `pulumi:"desiredSize"`
	Version          pulumi.StringOutput      `pulumi:"version"`
	Labels           pulumi.StringMapOutput   `pulumi:"labels"`
	Taints           TaintArrayOutput         `pulumi:"taints"`
	Tags             pulumi.StringMapOutput   `pulumi:"tags"`
	ProvisionTimeout pulumi.IntOutput         `pulumi:"provisionTimeout"`
	FallbackFor      pulumi.StringOutput      `pulumi:"fallbackFor"`
	// ReadyNodes is how many nodes run; during a spot shortage a spot pool reports 0
	// and its fallback pool reports the nodes it took over (also in FallbackNodes).
	ReadyNodes    pulumi.IntOutput     `pulumi:"readyNodes"`
	FallbackNodes pulumi.IntOutput     `pulumi:"fallbackNodes"`
	HourlyCost    pulumi.Float64Output `pulumi:"hourlyCost"` // US dollars per hour
	Status        pulumi.StringOutput  `pulumi:"status"`
}

// NodePoolArgs are the inputs of a NodePool.
type NodePoolArgs struct {
	// Name is the pool's name, unique in its cluster; it defaults to the resource's name.
	Name pulumi.StringPtrInput
	// Cluster is the cluster's id (preferred: it orders creation and replacement), its
	// "<region>/<name>", or a name unique across regions.
	Cluster pulumi.StringInput
	// CapacityType is "spot" or "on-demand" (the default).
	CapacityType pulumi.StringPtrInput
	// InstanceTypes are machine types of the simulated cloud; nodes run the first.
	InstanceTypes pulumi.StringArrayInput
	// Zones default to the cluster's.
	Zones pulumi.StringArrayInput
	// MinSize defaults to 1, DesiredSize to MinSize, MaxSize to max(2, DesiredSize).
	MinSize     pulumi.IntPtrInput
	MaxSize     pulumi.IntPtrInput
	DesiredSize pulumi.IntPtrInput
	// Version defaults to the control plane's; it is at most the control plane's and at
	// most 3 minors older.
	Version pulumi.StringPtrInput
	Labels  pulumi.StringMapInput
	Taints  TaintArrayInput
	Tags    pulumi.StringMapInput
	// ProvisionTimeout is how many simulated seconds the autoscaler waits for this
	// (spot) pool's nodes before its fallback pool takes over; 300 by default.
	ProvisionTimeout pulumi.IntPtrInput
	// FallbackFor names the spot pool of the same cluster this on-demand pool backs.
	// Without it, an on-demand pool backs the spot pool whose flotilla.io/pool label it
	// shares.
	FallbackFor pulumi.StringPtrInput
}

type nodePoolArgs struct {
	Name             *string           `pulumi:"name"`
	Cluster          string            `pulumi:"cluster"`
	CapacityType     *string           `pulumi:"capacityType"`
	InstanceTypes    []string          `pulumi:"instanceTypes"`
	Zones            []string          `pulumi:"zones"`
	MinSize          *int              `pulumi:"minSize"`
	MaxSize          *int              `pulumi:"maxSize"`
	DesiredSize      *int              `pulumi:"desiredSize"`
	Version          *string           `pulumi:"version"`
	Labels           map[string]string `pulumi:"labels"`
	Taints           []Taint           `pulumi:"taints"`
	Tags             map[string]string `pulumi:"tags"`
	ProvisionTimeout *int              `pulumi:"provisionTimeout"`
	FallbackFor      *string           `pulumi:"fallbackFor"`
}

// ElementType returns the type the arguments resolve to.
func (NodePoolArgs) ElementType() reflect.Type { return reflect.TypeOf((*nodePoolArgs)(nil)).Elem() }

// NewNodePool registers a new NodePool.
func NewNodePool(ctx *pulumi.Context, name string, args *NodePoolArgs, opts ...pulumi.ResourceOption) (*NodePool, error) {
	if args == nil {
		return nil, errors.New("fleetsim.NewNodePool: missing one or more required arguments")
	}
	if args.Cluster == nil {
		return nil, errors.New("fleetsim.NewNodePool: invalid value for required argument 'Cluster'")
	}
	if args.InstanceTypes == nil {
		return nil, errors.New("fleetsim.NewNodePool: invalid value for required argument 'InstanceTypes'")
	}
	var r NodePool
	if err := ctx.RegisterResource(NodePoolType, name, args, &r, defaultOpts(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}

// GetNodePool reads an existing NodePool's state by id.
func GetNodePool(ctx *pulumi.Context, name string, id pulumi.IDInput, opts ...pulumi.ResourceOption) (*NodePool, error) {
	var r NodePool
	if err := ctx.ReadResource(NodePoolType, name, id, nil, &r, defaultOpts(opts)...); err != nil {
		return nil, err
	}
	return &r, nil
}
