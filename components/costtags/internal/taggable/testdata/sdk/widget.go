// A resource whose Args carry a tag map: taggable.
package fake

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

type Widget struct {
	pulumi.CustomResourceState

	Tags pulumi.StringMapOutput `pulumi:"tags"`
}

func NewWidget(ctx *pulumi.Context,
	name string, args *WidgetArgs, opts ...pulumi.ResourceOption) (*Widget, error) {
	if args == nil {
		args = &WidgetArgs{}
	}
	var resource Widget
	err := ctx.RegisterResource("fake:index/widget:Widget", name, args, &resource, opts...)
	if err != nil {
		return nil, err
	}
	return &resource, nil
}

type widgetArgs struct {
	Tags map[string]string `pulumi:"tags"`
}

type WidgetArgs struct {
	Tags pulumi.StringMapInput
}
