package costtags_test

import (
	"fmt"
	"sort"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/flotilla-io/flotilla/components/costtags"
	"github.com/flotilla-io/flotilla/internal/pulumitest"
)

func printTags(tags map[string]string) {
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%s=%s\n", k, tags[k])
	}
}

func ExampleNew() {
	program := func(ctx *pulumi.Context) error {
		// First, so that the transform sees every resource after it.
		if _, err := costtags.New(ctx, "costs", &costtags.Args{
			Tags: costtags.Tags{"env": "prod", "team": "payments", "cost-center": "CC-1234"},
		}); err != nil {
			return err
		}
		// A team-specific VPC keeps its own team; env is enforced, so dev becomes prod.
		_, err := ec2.NewVpc(ctx, "ledger", &ec2.VpcArgs{
			CidrBlock: pulumi.String("10.0.0.0/16"),
			Tags:      pulumi.StringMap{"team": pulumi.String("ledger"), "env": pulumi.String("dev")},
		})
		return err
	}

	// Run the program against the recording mocks to see what the engine would get.
	m := pulumitest.New()
	if err := m.Run(program); err != nil {
		fmt.Println(err)
		return
	}
	vpc, _ := m.Get("aws:ec2/vpc:Vpc", "ledger")
	tags := map[string]string{}
	for k, v := range vpc.Inputs["tags"].ObjectValue() {
		tags[string(k)] = v.StringValue()
	}
	printTags(tags)
	fmt.Println(m.Warnings()[0])
	// Output:
	// cost-center=CC-1234
	// env=prod
	// team=ledger
	// costtags: aws:ec2/vpc:Vpc "ledger": tag "env" is enforced by the stack's policy; it is set to "prod", replacing the resource's own "dev"
}

func ExampleNew_policyViolation() {
	_ = pulumitest.New().Run(func(ctx *pulumi.Context) error {
		_, err := costtags.New(ctx, "costs", &costtags.Args{Tags: costtags.Tags{"env": "qa", "team": "payments"}})
		fmt.Println(err)
		return nil
	})
	// Output:
	// costtags "costs": required tag "cost-center" is missing; add it to the stack's tags
	// tag "env" is "qa"; set it to one of "dev", "staging", "prod"
}

func ExampleForAWS() {
	tags, err := costtags.ForAWS(costtags.Tags{"Cost Center": "CC#1234", "team": "Payments (EU)"})
	if err != nil {
		fmt.Println(err)
		return
	}
	printTags(tags)
	// Output:
	// Cost Center=CC_1234
	// team=Payments _EU_
}

func ExampleForGCP() {
	labels, err := costtags.ForGCP(costtags.Tags{"Cost Center": "CC#1234", "team": "Payments (EU)"})
	if err != nil {
		fmt.Println(err)
		return
	}
	printTags(labels)

	_, err = costtags.ForGCP(costtags.Tags{"Team": "payments", "team": "ledger"})
	fmt.Println(err)
	// Output:
	// cost_center=cc_1234
	// team=payments_eu_
	// GCP labels "Team" and "team" both become "team"; rename or remove one of them
}

func ExampleForAzure() {
	tags, err := costtags.ForAzure(costtags.Tags{"cost/center": "CC#1234", "team": "Payments (EU)"})
	if err != nil {
		fmt.Println(err)
		return
	}
	printTags(tags)
	// Output:
	// cost_center=CC#1234
	// team=Payments (EU)
}

func ExampleForKubernetes() {
	labels, err := costtags.ForKubernetes(costtags.Tags{"Example.com/Cost Center": "CC#1234", "team": "Payments (EU)"})
	if err != nil {
		fmt.Println(err)
		return
	}
	printTags(labels)
	// Output:
	// example.com/Cost_Center=CC_1234
	// team=Payments_EU
}
