package costtags

import (
	"context"
	"fmt"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// benchTags are twenty tags, a third of which need fixing on every target.
func benchTags() Tags {
	t := Tags{"env": "prod", "team": "Platform Team", "cost-center": "CC/42"}
	for i := range 17 {
		k, v := fmt.Sprintf("key-%02d", i), fmt.Sprintf("value-%02d", i)
		if i%3 == 0 {
			k, v = fmt.Sprintf("Key #%02d", i), fmt.Sprintf("Value (%02d)!", i)
		}
		t[k] = v
	}
	return t
}

func BenchmarkForX(b *testing.B) {
	tags := benchTags()
	for _, tc := range []struct {
		name string
		fn   func(Tags) (map[string]string, error)
	}{{"AWS", ForAWS}, {"GCP", ForGCP}, {"Azure", ForAzure}, {"Kubernetes", ForKubernetes}} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tc.fn(tags); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkTransform runs the stack transform over 1000 resources of every kind it
// meets: taggable with and without their own tags, nested GKE node configs, and types
// it leaves alone.
func BenchmarkTransform(b *testing.B) {
	norm, enforced, err := prepare(stackTags, DefaultPolicy())
	if err != nil {
		b.Fatal(err)
	}
	warned := 0
	a := newApplier(norm, enforced, func(string) { warned++ })
	kinds := []func(i int) pulumi.ResourceTransformArgs{
		func(i int) pulumi.ResourceTransformArgs {
			return pulumi.ResourceTransformArgs{Custom: true, Type: "aws:ec2/subnet:Subnet", Name: fmt.Sprint("subnet-", i),
				Props: pulumi.Map{"vpcId": pulumi.String("vpc-1"), "cidrBlock": pulumi.String("10.0.0.0/24")}}
		},
		func(i int) pulumi.ResourceTransformArgs {
			return pulumi.ResourceTransformArgs{Custom: true, Type: "aws:ec2/instance:Instance", Name: fmt.Sprint("vm-", i),
				Props: pulumi.Map{"tags": pulumi.Map{"Name": pulumi.String("vm"), "team": pulumi.String("data"), "env": pulumi.String("dev")}}}
		},
		func(i int) pulumi.ResourceTransformArgs {
			return pulumi.ResourceTransformArgs{Custom: true, Type: "gcp:container/nodePool:NodePool", Name: fmt.Sprint("pool-", i),
				Props: pulumi.Map{"cluster": pulumi.String("gke"), "nodeConfig": pulumi.Map{"machineType": pulumi.String("e2-standard-4")}}}
		},
		func(i int) pulumi.ResourceTransformArgs {
			return pulumi.ResourceTransformArgs{Custom: true, Type: "azure-native:network:VirtualNetwork", Name: fmt.Sprint("vnet-", i),
				Props: pulumi.Map{"location": pulumi.String("westeurope")}}
		},
		func(i int) pulumi.ResourceTransformArgs {
			return pulumi.ResourceTransformArgs{Custom: true, Type: "kubernetes:apps/v1:Deployment", Name: fmt.Sprint("web-", i),
				Props: pulumi.Map{"metadata": pulumi.Map{"name": pulumi.String("web"), "labels": pulumi.Map{"app": pulumi.String("web")}}}}
		},
		func(i int) pulumi.ResourceTransformArgs {
			return pulumi.ResourceTransformArgs{Custom: true, Type: "aws:ec2/routeTableAssociation:RouteTableAssociation", Name: fmt.Sprint("assoc-", i),
				Props: pulumi.Map{"subnetId": pulumi.String("subnet-1")}}
		},
	}
	resources := make([]pulumi.ResourceTransformArgs, 1000)
	for i := range resources {
		resources[i] = kinds[i%len(kinds)](i)
	}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		for i := range resources {
			a.transform(ctx, &resources[i])
		}
	}
}
