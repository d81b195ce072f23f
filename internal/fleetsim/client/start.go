package client

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/store"
)

// PluginBinary is the name of the provider plugin, which also runs the daemon.
const PluginBinary = "pulumi-resource-fleetsim"

// startTimeout bounds how long a started daemon may take to answer.
const startTimeout = 20 * time.Second

// DefaultDaemonCommand returns the command that runs a daemon: the running binary if it
// is the plugin, else the plugin next to it or on PATH, else `flotilla sim daemon` when
// the running binary is flotilla.
func DefaultDaemonCommand() ([]string, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	if filepath.Base(exe) == PluginBinary {
		return []string{exe, "daemon"}, nil
	}
	if sibling := filepath.Join(filepath.Dir(exe), PluginBinary); isExecutable(sibling) {
		return []string{sibling, "daemon"}, nil
	}
	if p, err := exec.LookPath(PluginBinary); err == nil {
		return []string{p, "daemon"}, nil
	}
	if filepath.Base(exe) == "flotilla" {
		return []string{exe, "sim", "daemon"}, nil
	}
	return nil, fmt.Errorf("cannot start a fleetsim daemon: %s is not on PATH (run `make plugins`, which builds it into bin/)", PluginBinary)
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// Start makes sure a daemon serves the client's home, starting one if none answers, and
// returns its health.
func (c *Client) Start(ctx context.Context) (cloud.Health, error) {
	if c.opts.Addr != "" {
		h, err := c.probe(ctx, c.opts.Addr)
		if err != nil {
			return h, fmt.Errorf("%s=%s is set but %w", EnvAddr, c.opts.Addr, err)
		}
		return h, nil
	}
	if h, ok := c.Running(ctx); ok {
		return h, nil
	}
	return c.startDaemon(ctx)
}

// startDaemon runs a daemon detached from this process (its own session, so that it
// outlives a Pulumi operation and the terminal), logging to <home>/daemon.log, and
// waits until it answers. When several clients race to start one, the home's lock lets
// one daemon win and every client finds that one.
func (c *Client) startDaemon(ctx context.Context) (cloud.Health, error) {
	argv := c.opts.DaemonCommand
	if len(argv) == 0 {
		var err error
		if argv, err = DefaultDaemonCommand(); err != nil {
			return cloud.Health{}, err
		}
	}
	st, err := store.Open(c.opts.Home)
	if err != nil {
		return cloud.Health{}, err
	}
	logf, err := os.OpenFile(st.Path(store.LogFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return cloud.Health{}, err
	}
	defer logf.Close()
	cmd := exec.Command(argv[0], append(argv[1:], "--home", c.opts.Home)...) //nolint:gosec // our own binary
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	cmd.Env = withoutEnv(os.Environ(), EnvAddr)
	if err := cmd.Start(); err != nil {
		return cloud.Health{}, fmt.Errorf("starting the fleetsim daemon (%s): %w", argv[0], err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	var exitErr error
	for {
		if info, err := st.ReadDaemonInfo(); err == nil {
			if h, err := c.probe(ctx, info.Addr); err == nil {
				return h, nil
			}
		}
		select {
		case exitErr = <-exited:
			// It may have lost the race for the home's lock to another daemon, which
			// then serves: keep looking for a while.
			exited = nil
		case <-ctx.Done():
			msg := fmt.Sprintf("the fleetsim daemon did not start within %s; see %s", startTimeout, st.Path(store.LogFile))
			if exitErr != nil {
				msg += fmt.Sprintf(" (it exited: %v)", exitErr)
			}
			return cloud.Health{}, errors.New(msg)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func withoutEnv(env []string, name string) []string {
	out := env[:0:0]
	for _, kv := range env {
		if len(kv) > len(name) && kv[:len(name)+1] == name+"=" {
			continue
		}
		out = append(out, kv)
	}
	return out
}
