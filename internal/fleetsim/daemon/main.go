package daemon

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/flotilla-io/flotilla/internal/fleetsim/store"
)

// Main runs a daemon in the foreground until SIGINT, SIGTERM or a shutdown request. It
// is the `daemon` subcommand of pulumi-resource-fleetsim (and of `flotilla sim`):
//
//	pulumi-resource-fleetsim daemon [--home DIR] [--addr 127.0.0.1:PORT]
//
// Durations and the time scale come from the FLEETSIM_* environment variables.
func Main(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("daemon", flag.ContinueOnError)
	fs.SetOutput(stderr)
	home := fs.String("home", "", "state directory (default $FLEETSIM_HOME, else .flotilla/fleetsim in the project root, else ~/.flotilla/fleetsim)")
	defAddr := os.Getenv(EnvAddr)
	if defAddr == "" {
		defAddr = "127.0.0.1:0"
	}
	addr := fs.String("addr", defAddr, "loopback address to listen on; port 0 picks a free port")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("daemon: unexpected arguments %q", fs.Args())
	}
	if *home == "" {
		h, err := store.ResolveHome()
		if err != nil {
			return err
		}
		*home = h
	}
	abs, err := filepath.Abs(*home)
	if err != nil {
		return err
	}
	durations, scale, err := DurationsFromEnv()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := New(Options{
		Home: abs, Addr: *addr, Kube: selectKube(abs), Durations: durations, TimeScale: scale,
		Logger: slog.New(slog.NewTextHandler(stderr, nil)),
	})
	if err != nil {
		return err
	}
	return d.Serve(ctx)
}
