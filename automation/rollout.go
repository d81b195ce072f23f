package automation

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"

	"github.com/flotilla-io/flotilla/components/envset"
	"github.com/flotilla-io/flotilla/stacks"
)

// Project is the Pulumi project name of Flotilla's stacks.
const Project = "flotilla"

// Options configures a rollout.
type Options struct {
	// ProjectDir holds Pulumi.yaml and stacks/ (stack files and environments.yaml).
	ProjectDir string
	// Backend is the Pulumi state backend, e.g. "file:///home/me/.flotilla/state".
	Backend string
	// BinDir holds the pulumi CLI and the provider plugins the engine should use.
	BinDir string
	// Set is the promotion order and gates; zero means stacks.Environments().
	Set envset.Set
	// Environments limits the rollout to these environments, in the Set's order.
	Environments []string
	// Approve lists the environments whose approval gate is granted.
	Approve []string
	// TimeScale divides soak times: the simulator's simulated seconds per real second.
	// Zero or 1 waits the configured soak.
	TimeScale float64
	// Env is added to the environment of the Pulumi CLI (FLEETSIM_HOME, credentials).
	Env map[string]string
	// Events receives progress; nil discards it. Rollout never closes it.
	Events chan<- Event
}

// Result says what a rollout did.
type Result struct {
	Environments []string // rolled out, in order
	Outputs      map[string]auto.OutputMap
}

// Rollout updates each environment's stack in promotion order. It validates every
// stack file first, so that a mistake in prod's configuration stops the rollout before
// dev changes. An environment that requires approval and is not in Approve stops the
// rollout with an ApprovalRequiredError, after the environments before it are done.
func Rollout(ctx context.Context, o Options) (Result, error) {
	set := o.Set
	if len(set.Environments) == 0 {
		s, err := stacks.Environments()
		if err != nil {
			return Result{}, err
		}
		set = s
	}
	if err := set.Validate(); err != nil {
		return Result{}, err
	}
	envs, err := selectEnvironments(set, o.Environments)
	if err != nil {
		return Result{}, err
	}
	for _, env := range envs {
		if _, err := stacks.ReadStackFile(stackFile(o.ProjectDir, env.Name)); err != nil {
			return Result{}, err
		}
	}

	res := Result{Outputs: map[string]auto.OutputMap{}}
	for i, env := range envs {
		if env.RequiresApproval && !contains(o.Approve, env.Name) {
			gate := &ApprovalRequiredError{Environment: env.Name}
			o.emit(GateBlocked{Environment: env.Name, Reason: gate.Error()})
			return res, gate
		}
		start := time.Now()
		o.emit(EnvironmentStarted{Environment: env.Name, Stacks: []string{env.Name}})
		out, err := o.up(ctx, env.Name)
		if err != nil {
			return res, err
		}
		res.Outputs[env.Name] = out
		res.Environments = append(res.Environments, env.Name)
		if i < len(envs)-1 && env.Soak > 0 {
			wait := env.Soak
			if o.TimeScale > 1 {
				wait = time.Duration(float64(env.Soak) / o.TimeScale)
			}
			o.emit(Soaking{Environment: env.Name, Soak: env.Soak, Wait: wait})
			select {
			case <-ctx.Done():
				return res, ctx.Err()
			case <-time.After(wait):
			}
		}
		o.emit(EnvironmentDone{Environment: env.Name, Duration: time.Since(start)})
	}
	return res, nil
}

func selectEnvironments(set envset.Set, names []string) ([]envset.Environment, error) {
	if len(names) == 0 {
		return set.Environments, nil
	}
	var out []envset.Environment
	for _, n := range names {
		if _, ok := set.Get(n); !ok {
			return nil, fmt.Errorf("unknown environment %q: the environments are %s", n, strings.Join(set.Names(), ", "))
		}
	}
	for _, e := range set.Environments {
		if contains(names, e.Name) {
			out = append(out, e)
		}
	}
	return out, nil
}

// up runs `pulumi up` on one environment's stack in a workspace of its own.
func (o Options) up(ctx context.Context, env string) (auto.OutputMap, error) {
	start := time.Now()
	s, err := o.stack(ctx, env)
	if err != nil {
		return nil, &StackError{Environment: env, Stack: env, Op: "select", Err: err}
	}
	w := &lineWriter{emit: func(line string) { o.emit(EngineOutput{Environment: env, Stack: env, Line: line}) }}
	r, err := s.Up(ctx, optup.ProgressStreams(w), optup.ErrorProgressStreams(w))
	w.Flush()
	if err != nil {
		return nil, &StackError{Environment: env, Stack: env, Op: "up", Err: err}
	}
	changes := map[string]int{}
	if r.Summary.ResourceChanges != nil {
		changes = *r.Summary.ResourceChanges
	}
	o.emit(StackUpdated{Environment: env, Stack: env, Changes: changes, Duration: time.Since(start)})
	return r.Outputs, nil
}

// stack prepares the stack's workspace under .flotilla/workspaces/<env>: the project
// file, and a copy of stacks/Pulumi.<env>.yaml. The copy keeps the committed stack file
// untouched when the CLI records its secrets salt.
func (o Options) stack(ctx context.Context, env string) (auto.Stack, error) {
	dir := filepath.Join(o.ProjectDir, ".flotilla", "workspaces", env)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return auto.Stack{}, err
	}
	if err := copyStackFile(stackFile(o.ProjectDir, env), filepath.Join(dir, "Pulumi."+env+".yaml")); err != nil {
		return auto.Stack{}, err
	}
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: filepath.Dir(o.BinDir)})
	if err != nil {
		return auto.Stack{}, fmt.Errorf("the Pulumi CLI in %s: %w (run `make pulumi`)", o.BinDir, err)
	}
	envVars := map[string]string{
		"PATH":                     o.BinDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"PULUMI_BACKEND_URL":       o.Backend,
		"PULUMI_SKIP_UPDATE_CHECK": "true",
	}
	if os.Getenv("PULUMI_CONFIG_PASSPHRASE") == "" && os.Getenv("PULUMI_CONFIG_PASSPHRASE_FILE") == "" {
		// The local state's secrets are encrypted with an empty passphrase unless the
		// caller brings one; a real backend brings its own secrets provider.
		envVars["PULUMI_CONFIG_PASSPHRASE"] = ""
	}
	for k, v := range o.Env {
		envVars[k] = v
	}
	return auto.UpsertStackInlineSource(ctx, env, Project, stacks.Program,
		auto.WorkDir(dir),
		auto.Pulumi(cmd),
		auto.EnvVars(envVars),
		auto.SecretsProvider("passphrase"),
		auto.Project(workspace.Project{
			Name:    tokens.PackageName(Project),
			Runtime: workspace.NewProjectRuntimeInfo("go", nil),
			Plugins: &workspace.Plugins{Providers: LocalPlugins(o.BinDir)},
		}),
	)
}

func stackFile(projectDir, env string) string {
	return filepath.Join(projectDir, "stacks", "Pulumi."+env+".yaml")
}

var saltRE = regexp.MustCompile(`(?m)^encryptionsalt:.*$`)

// copyStackFile copies the committed stack file over the workspace's, keeping the
// secrets salt the CLI wrote into the workspace's copy.
func copyStackFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(dst); err == nil {
		if salt := saltRE.Find(old); salt != nil && !saltRE.Match(data) {
			data = append(append(append([]byte{}, salt...), '\n'), data...)
		}
	}
	return os.WriteFile(dst, data, 0o644)
}

// LocalPlugins lists the provider plugins in bin (pulumi-resource-*) as project
// plugins, so that the engine loads them from there: it neither looks for them in the
// plugin cache nor downloads them, and does not warn, as it does for plugins it merely
// finds on PATH.
func LocalPlugins(bin string) []workspace.PluginOptions {
	matches, _ := filepath.Glob(filepath.Join(bin, "pulumi-resource-*"))
	var out []workspace.PluginOptions
	for _, m := range matches {
		name := strings.TrimPrefix(filepath.Base(m), "pulumi-resource-")
		if fi, err := os.Stat(m); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 || strings.Contains(name, ".") {
			continue
		}
		out = append(out, workspace.PluginOptions{Name: name, Path: bin})
	}
	return out
}

func (o Options) emit(e Event) {
	if o.Events != nil {
		o.Events <- e
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// lineWriter turns the engine's progress stream into one event per line.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	emit func(string)
}

var _ io.Writer = (*lineWriter)(nil)

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			return len(p), nil
		}
		if line := strings.TrimRight(string(w.buf[:i]), "\r "); line != "" {
			w.emit(line)
		}
		w.buf = w.buf[i+1:]
	}
}

// Flush emits a last line without a newline.
func (w *lineWriter) Flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if line := strings.TrimSpace(string(w.buf)); line != "" {
		w.emit(line)
	}
	w.buf = nil
}
