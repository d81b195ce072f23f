package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/simcloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/stacks"
)

// simLite reports whether the simulator that --sim drives runs lite: the daemon that
// answers says so, else the daemon this run starts on demand inherits FLEETSIM_KUBE=off.
func simLite(c *client.Client) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if h, ok := c.Running(ctx); ok {
		return h.Kube == "off"
	}
	return os.Getenv("FLEETSIM_KUBE") == "off"
}

// liteStackOps are the Deployer options of --sim on a lite simulator: the automation
// API, as the Deployer builds it by default, with every stack run lite (stack config
// fleetsim:kube "off", simcloud.LiteStacks), since a stack's mode is its own config and
// never the environment. The program's hash says lite too, so that a run in the other
// mode never skips a stack as unchanged: a lite run over a kube fleet is refused by the
// simulator, and a kube run over a lite fleet gives its clusters their control planes.
func liteStackOps(project, stateDir, backend, bin string, env map[string]string) ([]automation.Option, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(exe)
	if err != nil {
		return nil, fmt.Errorf("hashing the program build: %w", err)
	}
	ops := automation.NewPulumiOps(automation.PulumiOpsOptions{
		ProjectDir: project, WorkDir: filepath.Join(stateDir, "workspaces"),
		Bin: bin, Backend: backend, Project: automation.Project, Program: stacks.Program, Env: env,
	})
	return []automation.Option{
		automation.WithStackOps(simcloud.LiteStacks(ops, project, filepath.Join(stateDir, "lite"))),
		automation.WithProgramHash(fmt.Sprintf("sha256:%x+lite", sha256.Sum256(data))),
	}, nil
}
