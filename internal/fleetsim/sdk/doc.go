// Package fleetsim is the typed Go SDK of the fleetsim provider, shaped like a generated
// Pulumi SDK: resource structs with typed outputs and Args structs of inputs.
//
//	cl, err := fleetsim.NewCluster(ctx, "dev-east", &fleetsim.ClusterArgs{
//		Region:  pulumi.String("sim-east-1"),
//		Version: pulumi.String("1.31"),
//		Tags:    pulumi.StringMap{"team": pulumi.String("payments")},
//	})
//	pool, err := fleetsim.NewNodePool(ctx, "dev-east-spot", &fleetsim.NodePoolArgs{
//		Cluster:       cl.ID().ToStringOutput(),
//		CapacityType:  pulumi.String("spot"),
//		InstanceTypes: pulumi.StringArray{pulumi.String("m6i.large")},
//		DesiredSize:   pulumi.Int(3),
//	})
//	ctx.Export("readyNodes", pool.ReadyNodes)
//
// The plugin, pulumi-resource-fleetsim, must be on the PATH of the Pulumi CLI.
package fleetsim
