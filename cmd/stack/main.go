// Command stack is the Pulumi program of Flotilla's own project (Pulumi.yaml at the
// repository root): `pulumi up -s dev` builds it and runs stacks.Program with the
// settings in stacks/Pulumi.dev.yaml. The deploy program runs the same Program inline.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/flotilla-io/flotilla/stacks"
)

func main() {
	pulumi.Run(stacks.Program)
}
