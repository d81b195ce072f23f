package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flotilla-io/flotilla/automation"
)

func init() { subcommands = append(subcommands, newRolloutCmd) }

type rolloutOptions struct {
	projectDir   string
	backend      string
	bin          string
	environments []string
	approve      []string
	sim          bool
	verbose      bool
}

func newRolloutCmd() *cobra.Command {
	o := rolloutOptions{}
	cmd := &cobra.Command{
		Use:   "rollout",
		Short: "Roll the stacks out across environments in promotion order",
		Long: `rollout runs stacks.Program on each environment's stack in the order of
stacks/environments.yaml (dev -> staging -> prod), through the Pulumi automation API.

Before anything changes it validates every stack file. An environment that requires
approval (prod) is only entered when named with --approve; otherwise the rollout stops
at that gate, after the environments before it are done. After a healthy environment
the rollout soaks for the environment's soak time before promoting; on the simulator,
soak times are scaled by its time scale (FLEETSIM_TIME_SCALE, default 600).

Running rollout again after a failure is safe: each stack is read from the backend, and
environments already up to date update with no changes.`,
		Example: `  # the main job: everything on the local simulator, state in .flotilla/state
  flotilla rollout --sim --approve prod

  # dev only, against a shared backend
  flotilla rollout --env dev --backend s3://my-bucket/flotilla`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runRollout(cmd, o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.projectDir, "project", ".", "directory holding Pulumi.yaml and stacks/")
	f.StringVar(&o.backend, "backend", "", "Pulumi state backend URL (default with --sim: file://<project>/.flotilla/state)")
	f.StringVar(&o.bin, "bin", "", "directory holding the pulumi CLI and provider plugins (default: bin/ beside this program)")
	f.StringSliceVar(&o.environments, "env", nil, "environments to roll out, in promotion order (default: all)")
	f.StringSliceVar(&o.approve, "approve", nil, "environments whose approval gate is granted, e.g. --approve prod")
	f.BoolVar(&o.sim, "sim", false, "run on the local simulator, with its state under <project>/.flotilla/fleetsim")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "show the engine's progress lines")
	return cmd
}

func runRollout(cmd *cobra.Command, o rolloutOptions) error {
	project, err := filepath.Abs(o.projectDir)
	if err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(project, "Pulumi.yaml")); err != nil {
		return fmt.Errorf("%s has no Pulumi.yaml: run flotilla from the project root or pass --project", project)
	}
	bin := o.bin
	if bin == "" {
		if bin, err = defaultBin(); err != nil {
			return err
		}
	}
	opts := automation.Options{
		ProjectDir:   project,
		Backend:      o.backend,
		BinDir:       bin,
		Environments: o.environments,
		Approve:      o.approve,
		Env:          map[string]string{},
	}
	if o.sim {
		home := filepath.Join(project, ".flotilla", "fleetsim")
		opts.Env["FLEETSIM_HOME"] = home
		opts.TimeScale = 600
		if s := os.Getenv("FLEETSIM_TIME_SCALE"); s != "" {
			if _, err := fmt.Sscan(s, &opts.TimeScale); err != nil {
				return fmt.Errorf("FLEETSIM_TIME_SCALE=%q is not a number", s)
			}
		}
		if opts.Backend == "" {
			state := filepath.Join(project, ".flotilla", "state")
			if err := os.MkdirAll(state, 0o755); err != nil {
				return err
			}
			opts.Backend = "file://" + state
		}
	}
	if opts.Backend == "" {
		return fmt.Errorf("no backend: pass --backend (e.g. file://$HOME/.flotilla/state) or --sim")
	}

	events := make(chan automation.Event)
	done := make(chan struct{})
	go func() {
		defer close(done)
		render(cmd.OutOrStdout(), events, o.verbose)
	}()
	opts.Events = events
	res, err := automation.Rollout(cmd.Context(), opts)
	close(events)
	<-done
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "rollout complete: %s\n", strings.Join(res.Environments, " -> "))
	return nil
}

// defaultBin is bin/ beside the flotilla executable, where `make` puts everything.
func defaultBin() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	exe, err = filepath.EvalSymlinks(exe)
	if err != nil {
		return "", err
	}
	return filepath.Dir(exe), nil
}

func render(w io.Writer, events <-chan automation.Event, verbose bool) {
	for e := range events {
		switch e := e.(type) {
		case automation.EnvironmentStarted:
			fmt.Fprintf(w, "==> %s: updating %s\n", e.Environment, strings.Join(e.Stacks, ", "))
		case automation.EngineOutput:
			if verbose {
				fmt.Fprintf(w, "    %s | %s\n", e.Stack, e.Line)
			}
		case automation.StackUpdated:
			fmt.Fprintf(w, "    %s: done in %s (%s)\n", e.Stack, e.Duration.Round(100*time.Millisecond), changes(e.Changes))
		case automation.Soaking:
			fmt.Fprintf(w, "    %s: healthy; soaking %s (%s real time) before promoting\n", e.Environment, e.Soak, e.Wait.Round(100*time.Millisecond))
		case automation.GateBlocked:
			fmt.Fprintf(w, "==> %s: gate closed: %s\n", e.Environment, e.Reason)
		case automation.EnvironmentDone:
			fmt.Fprintf(w, "==> %s: done in %s\n", e.Environment, e.Duration.Round(100*time.Millisecond))
		}
	}
}

func changes(c map[string]int) string {
	ops := make([]string, 0, len(c))
	for op, n := range c {
		ops = append(ops, fmt.Sprintf("%d %s", n, op))
	}
	sort.Strings(ops)
	if len(ops) == 0 {
		return "no changes"
	}
	return strings.Join(ops, ", ")
}
