package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/simcloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
)

// commonOptions are the flags every deploy verb takes, with the same defaults.
type commonOptions struct {
	project string
	backend string
	bin     string
	sim     bool
	output  string
	verbose bool
}

// addCommonFlags registers the flags shared by plan, rollout, status, resume, retry,
// unlock, drift and destroy.
func addCommonFlags(cmd *cobra.Command, o *commonOptions) {
	f := cmd.Flags()
	f.StringVar(&o.project, "project", ".", "directory holding Pulumi.yaml and stacks/")
	f.StringVar(&o.backend, "backend", "", "Pulumi state backend URL: file://, s3://, gs://, azblob:// or https://api.pulumi.com (default file://<project>/.flotilla/state)")
	f.StringVar(&o.bin, "bin", "", "directory holding the pulumi CLI and provider plugins (default: bin/ beside this program, else <project>/bin)")
	f.BoolVar(&o.sim, "sim", false, "run on the local simulator: its state in <project>/.flotilla/fleetsim, soaks scaled by FLEETSIM_TIME_SCALE (default 600)")
	f.StringVarP(&o.output, "output", "o", "text", "output format: text (live progress for people) or json (one JSON object per event, then a result, for CI)")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "show the engine's own progress lines")
}

// validate checks the shared flags before anything is read or changed.
func (o commonOptions) validate() error {
	switch o.output {
	case "text", "json":
	default:
		return usagef("--output %q: use text or json", o.output)
	}
	if o.project == "" {
		return usagef("--project is empty: pass the directory holding Pulumi.yaml")
	}
	return nil
}

// newDeployer builds the Deployer of a command in a project; tests replace it to run
// the commands over fake stack operations.
var newDeployer = func(_ string, opts ...automation.Option) (*automation.Deployer, error) {
	return automation.New(opts...)
}

// deployer builds the Deployer the shared flags describe, with extra options (events,
// an approver) from the command.
func (o commonOptions) deployer(extra ...automation.Option) (*automation.Deployer, error) {
	project, err := filepath.Abs(o.project)
	if err != nil {
		return nil, &automation.InputError{Msg: "--project", Err: err}
	}
	if _, err := os.Stat(filepath.Join(project, "Pulumi.yaml")); err != nil {
		return nil, &automation.InputError{Msg: fmt.Sprintf("%s has no Pulumi.yaml: run flotilla from the project root, or pass --project", project)}
	}
	stateDir := filepath.Join(project, ".flotilla")
	backend := o.backend
	if backend == "" {
		backend = "file://" + filepath.Join(stateDir, "state")
	}
	if dir, ok := strings.CutPrefix(backend, "file://"); ok {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, &automation.InputError{Msg: "--backend " + backend, Err: err}
		}
	}
	bin := o.bin
	if bin == "" {
		bin = defaultBin(project)
	}
	opts := []automation.Option{
		automation.WithProjectDir(project), automation.WithStateDir(stateDir),
		automation.WithBackend(backend), automation.WithBin(bin),
	}
	if o.sim {
		sim, lite, err := simOptions(project)
		if err != nil {
			return nil, err
		}
		opts = append(opts, sim...)
		if lite {
			more, err := liteStackOps(project, stateDir, backend, bin, simEnv(project))
			if err != nil {
				return nil, err
			}
			opts = append(opts, more...)
		}
	}
	for _, e := range extra {
		if e != nil {
			opts = append(opts, e)
		}
	}
	return newDeployer(project, opts...)
}

// defaultBin is bin/ beside the flotilla executable, where `make` puts it with the
// pulumi CLI and the plugins; else <project>/bin (e.g. under `go run`).
func defaultBin(project string) string {
	if exe, err := os.Executable(); err == nil {
		if exe, err = filepath.EvalSymlinks(exe); err == nil {
			dir := filepath.Dir(exe)
			if _, err := os.Stat(filepath.Join(dir, "pulumi")); err == nil {
				return dir
			}
		}
	}
	return filepath.Join(project, "bin")
}

// simOptions are the Deployer options of --sim: the simulator's home in the CLI's
// environment, soaks scaled by its time scale, health read from the simulated cloud
// (and each cluster's Kubernetes API in kube mode), and pending creates found in it. lite
// reports a simulator that runs lite (simLite), whose stacks must run lite too.
func simOptions(project string) (_ []automation.Option, lite bool, _ error) {
	scale := 600.0
	if s := os.Getenv("FLEETSIM_TIME_SCALE"); s != "" {
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || v <= 0 {
			return nil, false, usagef("FLEETSIM_TIME_SCALE=%q: use a positive number of simulated seconds per real second, e.g. 600", s)
		}
		scale = v
	}
	home := filepath.Join(project, ".flotilla", "fleetsim")
	c, err := client.New(client.Options{Home: home, AutoStart: os.Getenv(client.EnvAddr) == ""})
	if err != nil {
		return nil, false, fmt.Errorf("the simulator's client: %w", err)
	}
	if _, err := os.Stat(home); err == nil {
		// A simulator stopped since the last run restarts its control planes when it
		// comes back; wait for them, so that the first refresh does not meet an API
		// that is still starting.
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		if _, err := simcloud.WaitForPlanes(ctx, c, 60*time.Second); err != nil {
			return nil, false, fmt.Errorf("the simulator in %s: %w", home, err)
		}
	}
	return []automation.Option{
		automation.WithEnv(simEnv(project)),
		automation.WithTimeScale(scale),
		automation.WithHealth(simcloud.NewHealth(c)),
		automation.WithPendingResolver(simcloud.NewPendingResolver(c)),
		automation.WithVersionSource(simcloud.NewVersions(c)),
		automation.WithVersionCatalog(simcloud.NewVersions(c)),
	}, simLite(c), nil
}

// simEnv is the Pulumi CLI's environment under --sim: the simulator's home.
func simEnv(project string) map[string]string {
	return map[string]string{"FLEETSIM_HOME": filepath.Join(project, ".flotilla", "fleetsim")}
}

// checkEnvironments refuses environment names the set does not know, naming those
// it does.
func checkEnvironments(d *automation.Deployer, flag string, names []string) error {
	known := d.Environments().Names()
	for _, n := range names {
		if !slices.Contains(known, n) {
			return &automation.InputError{Msg: fmt.Sprintf("%s %s: unknown environment %q: the environments are %s", flag, n, n, strings.Join(known, ", "))}
		}
	}
	return nil
}

// isTerminal reports whether f is a terminal; tests replace it.
var isTerminal = func(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	return term.IsTerminal(int(file.Fd()))
}

// interactive reports whether the command can ask its user questions: its input is a
// terminal.
func interactive(cmd *cobra.Command) bool { return isTerminal(cmd.InOrStdin()) }

// readLine reads one line from in, or gives up when ctx is done.
func readLine(ctx context.Context, in io.Reader) (string, error) {
	type line struct {
		s   string
		err error
	}
	ch := make(chan line, 1)
	go func() {
		var b []byte
		buf := make([]byte, 1)
		for {
			n, err := in.Read(buf)
			if n > 0 {
				if buf[0] == '\n' {
					break
				}
				b = append(b, buf[0])
			}
			if err != nil {
				if errors.Is(err, io.EOF) && len(b) > 0 {
					break
				}
				ch <- line{err: err}
				return
			}
		}
		ch <- line{s: strings.TrimSpace(string(b))}
	}()
	select {
	case l := <-ch:
		return l.s, l.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}
