// Registrations that are not resource constructors: none is taggable.
package fake

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

type Provider struct {
	pulumi.ProviderResourceState
}

type ProviderArgs struct {
	Tags pulumi.StringMapInput
}

// The provider's own registration.
func NewProvider(ctx *pulumi.Context, name string, args *ProviderArgs, opts ...pulumi.ResourceOption) (*Provider, error) {
	var resource Provider
	err := ctx.RegisterResource("pulumi:providers:fake", name, args, &resource, opts...)
	return &resource, err
}

type Thing struct {
	pulumi.ResourceState

	Tags pulumi.StringMapOutput `pulumi:"tags"`
}

type ThingArgs struct {
	Tags pulumi.StringMapInput
}

// A component, not a custom resource.
func NewThing(ctx *pulumi.Context, name string, args *ThingArgs, opts ...pulumi.ResourceOption) (*Thing, error) {
	var resource Thing
	err := ctx.RegisterResource("fake:index/thing:Thing", name, args, &resource, opts...)
	return &resource, err
}

// A parser that registers many types with computed arguments.
func parse(ctx *pulumi.Context, kind string, obj map[string]any) error {
	var res Widget
	return ctx.RegisterResource("fake:index/widget:Other", kind, pulumi.ToMap(obj), &res)
}
