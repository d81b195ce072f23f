// Command pulumi-resource-kubernetes is the Pulumi Kubernetes provider plugin, built from
// its Go module because no release binary can be downloaded. The module does not ship the
// generated schema its own main embeds, so the Makefile copies schema.json and
// terraform-mapping.json out of the module cache next to this file before building.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
)

// version is the SDK version the plugin answers for; it matches the main module's
// github.com/pulumi/pulumi-kubernetes/sdk/v4 so the engine picks this plugin.
const version = "4.32.0"

//go:embed schema.json
var schema []byte

//go:embed terraform-mapping.json
var mapping []byte

func main() {
	provider.Serve("kubernetes", version, schema, mapping)
}
