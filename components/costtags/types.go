package costtags

import "github.com/pulumi/pulumi/sdk/v3/go/pulumi"

// Tags are cost-allocation tags as a team writes them, before any cloud's normalisation.
type Tags map[string]string

// Policy says which tags every resource must carry.
type Policy struct {
	Required []string            // keys that must be present and non-empty
	Allowed  map[string][]string // optional allow-list of values per key
	Enforced []string            // keys whose stack-wide value overrides a resource's own
}

// Args configures a CostTags component.
type Args struct {
	Tags                      Tags
	Policy                    *Policy // nil means DefaultPolicy()
	ActivateAWSCostAllocation bool    // create aws.costexplorer.CostAllocationTag per key
}

// CostTags applies cost tags to every taggable resource registered after it.
type CostTags struct {
	pulumi.ResourceState

	AWS        pulumi.StringMapOutput `pulumi:"aws"`
	GCP        pulumi.StringMapOutput `pulumi:"gcp"`
	Azure      pulumi.StringMapOutput `pulumi:"azure"`
	Kubernetes pulumi.StringMapOutput `pulumi:"kubernetes"`
}
