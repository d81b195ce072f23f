// A resource whose Tags are a list of structs: not taggable.
package fake

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

type Group struct {
	pulumi.CustomResourceState

	Tags GroupTagArrayOutput `pulumi:"tags"`
}

func NewGroup(ctx *pulumi.Context, name string, args *GroupArgs, opts ...pulumi.ResourceOption) (*Group, error) {
	var resource Group
	err := ctx.RegisterResource("fake:index/group:Group", name, args, &resource, opts...)
	return &resource, err
}

type GroupArgs struct {
	Tags GroupTagArrayInput
}
