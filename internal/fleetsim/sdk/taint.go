package fleetsim

import (
	"context"
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Taint is a Kubernetes node taint.
type Taint struct {
	Key    string  `pulumi:"key"`
	Value  *string `pulumi:"value"`
	Effect string  `pulumi:"effect"` // NoSchedule, PreferNoSchedule or NoExecute
}

// TaintInput is an input of type Taint.
type TaintInput interface {
	pulumi.Input
	ToTaintOutput() TaintOutput
	ToTaintOutputWithContext(context.Context) TaintOutput
}

// TaintArgs is a Taint of inputs.
type TaintArgs struct {
	Key    pulumi.StringInput    `pulumi:"key"`
	Value  pulumi.StringPtrInput `pulumi:"value"`
	Effect pulumi.StringInput    `pulumi:"effect"`
}

// ElementType returns the type the input resolves to.
func (TaintArgs) ElementType() reflect.Type { return reflect.TypeOf((*Taint)(nil)).Elem() }

// ToTaintOutput converts the input to an output.
func (i TaintArgs) ToTaintOutput() TaintOutput {
	return i.ToTaintOutputWithContext(context.Background())
}

// ToTaintOutputWithContext converts the input to an output.
func (i TaintArgs) ToTaintOutputWithContext(ctx context.Context) TaintOutput {
	return pulumi.ToOutputWithContext(ctx, i).(TaintOutput)
}

// TaintArrayInput is an input of type []Taint.
type TaintArrayInput interface {
	pulumi.Input
	ToTaintArrayOutput() TaintArrayOutput
	ToTaintArrayOutputWithContext(context.Context) TaintArrayOutput
}

// TaintArray is a list of TaintInputs.
type TaintArray []TaintInput

// ElementType returns the type the input resolves to.
func (TaintArray) ElementType() reflect.Type { return reflect.TypeOf((*[]Taint)(nil)).Elem() }

// ToTaintArrayOutput converts the input to an output.
func (i TaintArray) ToTaintArrayOutput() TaintArrayOutput {
	return i.ToTaintArrayOutputWithContext(context.Background())
}

// ToTaintArrayOutputWithContext converts the input to an output.
func (i TaintArray) ToTaintArrayOutputWithContext(ctx context.Context) TaintArrayOutput {
	return pulumi.ToOutputWithContext(ctx, i).(TaintArrayOutput)
}

// TaintOutput is an output of type Taint.
type TaintOutput struct{ *pulumi.OutputState }

// ElementType returns the type the output resolves to.
func (TaintOutput) ElementType() reflect.Type { return reflect.TypeOf((*Taint)(nil)).Elem() }

// ToTaintOutput returns the output itself.
func (o TaintOutput) ToTaintOutput() TaintOutput { return o }

// ToTaintOutputWithContext returns the output itself.
func (o TaintOutput) ToTaintOutputWithContext(context.Context) TaintOutput { return o }

// Key returns the taint's key.
func (o TaintOutput) Key() pulumi.StringOutput {
	return o.ApplyT(func(t Taint) string { return t.Key }).(pulumi.StringOutput)
}

// Effect returns the taint's effect.
func (o TaintOutput) Effect() pulumi.StringOutput {
	return o.ApplyT(func(t Taint) string { return t.Effect }).(pulumi.StringOutput)
}

// TaintArrayOutput is an output of type []Taint.
type TaintArrayOutput struct{ *pulumi.OutputState }

// ElementType returns the type the output resolves to.
func (TaintArrayOutput) ElementType() reflect.Type { return reflect.TypeOf((*[]Taint)(nil)).Elem() }

// ToTaintArrayOutput returns the output itself.
func (o TaintArrayOutput) ToTaintArrayOutput() TaintArrayOutput { return o }

// ToTaintArrayOutputWithContext returns the output itself.
func (o TaintArrayOutput) ToTaintArrayOutputWithContext(context.Context) TaintArrayOutput { return o }

// Index returns the i-th taint.
func (o TaintArrayOutput) Index(i pulumi.IntInput) TaintOutput {
	return pulumi.All(o, i).ApplyT(func(vs []any) Taint {
		return vs[0].([]Taint)[vs[1].(int)]
	}).(TaintOutput)
}

func init() {
	pulumi.RegisterInputType(reflect.TypeOf((*TaintInput)(nil)).Elem(), TaintArgs{})
	pulumi.RegisterInputType(reflect.TypeOf((*TaintArrayInput)(nil)).Elem(), TaintArray{})
	pulumi.RegisterOutputType(TaintOutput{})
	pulumi.RegisterOutputType(TaintArrayOutput{})
}
