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
	"time"

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
	go exitWithEngine(os.Getppid(), time.Second)
	return provider.Main()
}

// exitWithEngine ends the plugin once the engine that started it is gone: the process
// is then reparented, and its parent's PID changes. The SDK's own check of the engine
// runs only every few minutes, so a killed deploy program would otherwise leave its
// plugins behind.
func exitWithEngine(engine int, every time.Duration) {
	for range time.Tick(every) {
		if os.Getppid() != engine {
			fmt.Fprintln(os.Stderr, "pulumi-resource-fleetsim: the engine that started this plugin is gone; exiting")
			os.Exit(0)
		}
	}
}
