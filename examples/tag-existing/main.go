// Command tag-existing is an ordinary program (an AWS VPC, subnet and bucket, a GCS
// bucket and a Kubernetes Deployment) that gets cost tags by adding costtags.New at the
// top. None of the resources below it mentions tags; every one of them is tagged.
//
//	pulumi config set aws:region eu-west-1
//	pulumi config set gcp:project my-project
//	pulumi up
package main

import (
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-gcp/sdk/v7/go/gcp/storage"
	appsv1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/apps/v1"
	corev1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/core/v1"
	metav1 "github.com/pulumi/pulumi-kubernetes/sdk/v4/go/kubernetes/meta/v1"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/flotilla-io/flotilla/components/costtags"
)

func main() { pulumi.Run(program) }

func program(ctx *pulumi.Context) error {
	// The one addition: cost tags, first, so that every resource after them is tagged.
	cfg := config.New(ctx, "")
	costs, err := costtags.New(ctx, "costs", &costtags.Args{Tags: costtags.Tags{
		"env":         getOr(cfg, "environment", "dev"),
		"team":        "reports",
		"cost-center": "CC-4200",
	}})
	if err != nil {
		return err
	}

	// The program as it was.
	vpc, err := ec2.NewVpc(ctx, "reports", &ec2.VpcArgs{
		CidrBlock:          pulumi.String("10.50.0.0/16"),
		EnableDnsHostnames: pulumi.Bool(true),
		Tags:               pulumi.StringMap{"Name": pulumi.String("reports")}, // kept beside the cost tags
	})
	if err != nil {
		return err
	}
	if _, err := ec2.NewSubnet(ctx, "reports-private", &ec2.SubnetArgs{
		VpcId:     vpc.ID(),
		CidrBlock: pulumi.String("10.50.0.0/20"),
	}); err != nil {
		return err
	}
	archive, err := s3.NewBucketV2(ctx, "reports-archive", &s3.BucketV2Args{})
	if err != nil {
		return err
	}
	exports, err := storage.NewBucket(ctx, "reports-exports", &storage.BucketArgs{
		Location:                 pulumi.String("EU"),
		StorageClass:             pulumi.String("STANDARD"),
		UniformBucketLevelAccess: pulumi.Bool(true),
	})
	if err != nil {
		return err
	}

	ns, err := corev1.NewNamespace(ctx, "reports", &corev1.NamespaceArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("reports")},
	})
	if err != nil {
		return err
	}
	labels := pulumi.StringMap{"app": pulumi.String("reports-api")}
	if _, err := appsv1.NewDeployment(ctx, "reports-api", &appsv1.DeploymentArgs{
		Metadata: &metav1.ObjectMetaArgs{Name: pulumi.String("reports-api"), Namespace: ns.Metadata.Name()},
		Spec: &appsv1.DeploymentSpecArgs{
			Replicas: pulumi.Int(2),
			Selector: &metav1.LabelSelectorArgs{MatchLabels: labels},
			Template: &corev1.PodTemplateSpecArgs{
				Metadata: &metav1.ObjectMetaArgs{Labels: labels},
				Spec: &corev1.PodSpecArgs{
					Containers: corev1.ContainerArray{&corev1.ContainerArgs{
						Name:  pulumi.String("api"),
						Image: pulumi.String("ghcr.io/acme/reports-api:1.4.2"),
						Resources: &corev1.ResourceRequirementsArgs{
							Requests: pulumi.StringMap{"cpu": pulumi.String("250m"), "memory": pulumi.String("256Mi")},
						},
					}},
				},
			},
		},
	}); err != nil {
		return err
	}

	ctx.Export("archiveBucket", archive.Bucket)
	ctx.Export("exportsBucket", exports.Url)
	ctx.Export("awsTags", costs.AWS)
	ctx.Export("gcpLabels", costs.GCP)
	return nil
}

// getOr reads an optional config value, with a default for when it is not set.
func getOr(cfg *config.Config, key, def string) string {
	if v := cfg.Get(key); v != "" {
		return v
	}
	return def
}
