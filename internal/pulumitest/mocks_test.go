package pulumitest_test

import (
	"context"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/pulumitest"
)

type bucket struct {
	pulumi.CustomResourceState
}

type parent struct {
	pulumi.ResourceState
}

// addTag is a stack transform that sets tags.owner unless the resource set its own.
func addTag(_ context.Context, args *pulumi.ResourceTransformArgs) *pulumi.ResourceTransformResult {
	if !args.Custom {
		return nil
	}
	tags := pulumi.Map{"owner": pulumi.String("platform")}
	if existing, ok := args.Props["tags"].(pulumi.Map); ok {
		for k, v := range existing {
			tags[k] = v
		}
	}
	args.Props["tags"] = tags
	return &pulumi.ResourceTransformResult{Props: args.Props, Opts: args.Opts}
}

func TestMocksApplyStackTransformsAndRecordParents(t *testing.T) {
	t.Parallel()
	m := pulumitest.New()
	err := m.Run(func(ctx *pulumi.Context) error {
		var before bucket
		if err := ctx.RegisterResource("test:index:Bucket", "before", pulumi.Map{"size": pulumi.Int(1)}, &before); err != nil {
			return err
		}
		if err := ctx.RegisterResourceTransform(addTag); err != nil {
			return err
		}
		var comp parent
		if err := ctx.RegisterComponentResource("test:index:Parent", "p", &comp); err != nil {
			return err
		}
		var after, own bucket
		if err := ctx.RegisterResource("test:index:Bucket", "after", pulumi.Map{}, &after, pulumi.Parent(&comp)); err != nil {
			return err
		}
		if err := ctx.RegisterResource("test:index:Bucket", "own", pulumi.Map{
			"tags": pulumi.Map{"owner": pulumi.String("team-a"), "app": pulumi.String("web")},
		}, &own); err != nil {
			return err
		}
		return ctx.Log.Warn("careful", nil)
	})
	require.NoError(t, err)

	before := m.MustGet(t, "test:index:Bucket", "before")
	assert.NotContains(t, before.Inputs, "tags", "a transform registered later must not apply")
	assert.Equal(t, 1.0, before.Inputs["size"].NumberValue())

	after := m.MustGet(t, "test:index:Bucket", "after")
	assert.Equal(t, "platform", after.Inputs["tags"].ObjectValue()["owner"].StringValue())
	assert.NotContains(t, after.Raw, "tags", "Raw keeps what the program sent")

	comp := m.MustGet(t, "test:index:Parent", "p")
	assert.Equal(t, comp.URN, after.Parent)
	assert.Len(t, m.Children(comp.URN), 1)

	own := m.MustGet(t, "test:index:Bucket", "own")
	ownTags := own.Inputs["tags"].ObjectValue()
	assert.Equal(t, "team-a", ownTags["owner"].StringValue())
	assert.Equal(t, "web", ownTags["app"].StringValue())

	assert.Equal(t, []string{"careful"}, m.Warnings())
}

func TestMocksOutputsAndCalls(t *testing.T) {
	t.Parallel()
	m := pulumitest.New()
	m.Outputs["test:index:Bucket"] = func(r pulumitest.Resource) resource.PropertyMap {
		return resource.NewPropertyMapFromMap(map[string]any{"arn": "arn:test:" + r.Name})
	}
	var arn string
	err := m.Run(func(ctx *pulumi.Context) error {
		var b struct {
			pulumi.CustomResourceState
			Arn pulumi.StringOutput `pulumi:"arn"`
		}
		if err := ctx.RegisterResource("test:index:Bucket", "b", pulumi.Map{}, &b); err != nil {
			return err
		}
		b.Arn.ApplyT(func(s string) string { arn = s; return s })
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, "arn:test:b", arn)
}
