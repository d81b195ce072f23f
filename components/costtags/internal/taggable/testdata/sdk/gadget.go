// A resource with no Labels but ResourceLabels, the second rule: taggable.
package fake

import pl "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

type Gadget struct {
	pl.CustomResourceState

	ResourceLabels pl.StringMapOutput `pulumi:"resourceLabels"`
}

func NewGadget(ctx *pl.Context, name string, args *GadgetArgs, opts ...pl.ResourceOption) (*Gadget, error) {
	var resource Gadget
	err := ctx.RegisterResource("fake:index/gadget:Gadget", name, args, &resource, opts...)
	return &resource, err
}

type GadgetArgs struct {
	ResourceLabels pl.StringMapInput
}
