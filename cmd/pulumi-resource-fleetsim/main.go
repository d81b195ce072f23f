// Command pulumi-resource-fleetsim is the Pulumi resource provider plugin of fleetsim,
// Flotilla's local managed-Kubernetes cloud. The Pulumi engine starts it (it finds the
// binary on PATH); it talks to the fleetsim daemon, starting one when none runs.
//
//	pulumi-resource-fleetsim daemon [--home DIR] [--addr 127.0.0.1:PORT]  # run the daemon in the foreground
//	pulumi-resource-fleetsim version
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/daemon"
	"github.com/flotilla-io/flotilla/internal/fleetsim/provider"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "daemon":
			return daemon.Main(context.Background(), os.Args[2:], os.Stderr)
		case "version", "--version":
			fmt.Println(cloud.Version)
			return nil
		}
	}
	return provider.Main()
}
