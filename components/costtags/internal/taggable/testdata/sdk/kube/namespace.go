// A Kubernetes-style resource with ObjectMeta (taggable), and a list with ListMeta (not).
package v1

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	meta "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
)

type Namespace struct {
	pulumi.CustomResourceState

	Metadata meta.ObjectMetaOutput `pulumi:"metadata"`
}

func NewNamespace(ctx *pulumi.Context, name string, args *NamespaceArgs, opts ...pulumi.ResourceOption) (*Namespace, error) {
	var resource Namespace
	err := ctx.RegisterResource("kubernetes:core/v1:Namespace", name, args, &resource, opts...)
	return &resource, err
}

type NamespaceArgs struct {
	Metadata meta.ObjectMetaPtrInput
}

type NamespaceList struct {
	pulumi.CustomResourceState

	Metadata meta.ListMetaOutput `pulumi:"metadata"`
}

func NewNamespaceList(ctx *pulumi.Context, name string, args *NamespaceListArgs, opts ...pulumi.ResourceOption) (*NamespaceList, error) {
	var resource NamespaceList
	err := ctx.RegisterResource("kubernetes:core/v1:NamespaceList", name, args, &resource, opts...)
	return &resource, err
}

type NamespaceListArgs struct {
	Metadata meta.ListMetaPtrInput
}
