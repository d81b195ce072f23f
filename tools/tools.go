//go:build tools

// Package tools pins the third-party command-line tools Flotilla builds from source:
// the Pulumi CLI and golangci-lint. The Makefile builds them into bin/.
package tools

import (
	_ "github.com/golangci/golangci-lint/v2/cmd/golangci-lint"
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
)
