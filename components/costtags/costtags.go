package costtags

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/costexplorer"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

//go:generate go run ./internal/gentaggable -o zz_taggable.go

// TypeToken is the Pulumi type of the CostTags component.
const TypeToken = "flotilla:costtags:CostTags"

// New checks args.Tags against the policy and normalises them for every cloud, then
// registers a stack transform that merges them into every taggable resource
// registered after it. It registers nothing when the tags break the policy or cannot
// be normalised; the error lists every problem. Create one CostTags per stack, before
// the resources it should tag.
//
// With ActivateAWSCostAllocation, New also activates each AWS tag key for cost
// allocation (aws.costexplorer.CostAllocationTag, children of the component). Cost
// allocation tags are global to the AWS account, so one stack per account should
// activate them, and AWS accepts a key only once it has seen it on a resource. They
// use the AWS provider given to the component through pulumi.Provider or
// pulumi.Providers, or the default provider otherwise.
func New(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*CostTags, error) {
	if args == nil {
		args = &Args{}
	}
	policy := DefaultPolicy()
	if args.Policy != nil {
		policy = *args.Policy
	}
	tags, enforced, err := prepare(args.Tags, policy)
	if err != nil {
		return nil, fmt.Errorf("costtags %q: %w", name, err)
	}

	c := &CostTags{}
	if err := ctx.RegisterComponentResource(TypeToken, name, c, opts...); err != nil {
		return nil, fmt.Errorf("costtags %q: %w", name, err)
	}
	a := newApplier(tags, enforced, func(msg string) { _ = ctx.Log.Warn(msg, nil) })
	if err := ctx.RegisterResourceTransform(a.transform); err != nil {
		return nil, fmt.Errorf("costtags %q: register transform: %w", name, err)
	}
	if args.ActivateAWSCostAllocation {
		for _, k := range sortedKeys(tags[cloudAWS]) {
			// QueryEscape keeps child names readable and distinct for every key.
			_, err := costexplorer.NewCostAllocationTag(ctx, name+"-"+url.QueryEscape(k), &costexplorer.CostAllocationTagArgs{
				TagKey: pulumi.String(k),
				Status: pulumi.String("Active"),
			}, pulumi.Parent(c))
			if err != nil {
				return nil, fmt.Errorf("costtags %q: activate AWS cost allocation tag %q: %w", name, k, err)
			}
		}
	}

	c.AWS = pulumi.ToStringMap(tags[cloudAWS]).ToStringMapOutput()
	c.GCP = pulumi.ToStringMap(tags[cloudGCP]).ToStringMapOutput()
	c.Azure = pulumi.ToStringMap(tags[cloudAzure]).ToStringMapOutput()
	c.Kubernetes = pulumi.ToStringMap(tags[cloudKubernetes]).ToStringMapOutput()
	if err := ctx.RegisterResourceOutputs(c, pulumi.Map{
		"aws":        c.AWS,
		"gcp":        c.GCP,
		"azure":      c.Azure,
		"kubernetes": c.Kubernetes,
	}); err != nil {
		return nil, fmt.Errorf("costtags %q: register outputs: %w", name, err)
	}
	return c, nil
}

// prepare validates t against p and normalises it for every cloud. It returns, per
// cloud, the normalised tags and the normalised enforced keys with their values.
func prepare(t Tags, p Policy) (tags, enforced [numClouds]map[string]string, err error) {
	errs := []error{p.Validate(t)}
	targets := [numClouds]target{
		cloudAWS:        awsTarget,
		cloudGCP:        gcpTarget,
		cloudAzure:      azureTarget,
		cloudKubernetes: kubeTarget,
	}
	for c, tg := range targets {
		norm, err := tg.normalize(t)
		errs = append(errs, err)
		tags[c] = norm
		enforced[c] = map[string]string{}
		for _, k := range p.Enforced {
			if _, ok := t[k]; !ok {
				continue
			}
			// A key that does not normalise is already reported above.
			if nk, err := tg.key(k); err == nil {
				enforced[c][nk] = norm[nk]
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return tags, enforced, err
	}
	return tags, enforced, nil
}
