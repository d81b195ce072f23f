// Command flotilla drives Flotilla's fleet: rollouts, upgrades and the local simulator.
//
//	flotilla sim status
//	flotilla sim fault spot-shortage --region sim-east-1
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}
