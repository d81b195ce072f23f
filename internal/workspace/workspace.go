// Package workspace builds the Pulumi automation-API workspace of one stack: a directory
// of its own with the project and a copy of the stack file, the pinned Pulumi CLI, the
// environment the CLI runs with, and the provider plugins found in a bin directory.
//
// It imports nothing of Flotilla's, so that the deploy program and the test harnesses
// build stacks the same way:
//
//	st, err := workspace.New(ctx, workspace.Options{
//		Dir: ".flotilla/workspaces/dev", Project: "flotilla", Stack: "dev",
//		StackFile: "stacks/Pulumi.dev.yaml", Bin: "bin",
//		Backend: "file:///home/me/.flotilla/state", Program: stacks.Program,
//	})
//
// Each stack gets a directory of its own: selecting stacks in parallel on one workspace
// corrupts its workspace.json.
package workspace

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	pworkspace "github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Options describes one stack's workspace.
type Options struct {
	// Dir is the workspace's own directory; it is created when missing.
	Dir string
	// Project and Stack name the Pulumi project and stack.
	Project, Stack string
	// StackFile, when set, is copied into Dir as Pulumi.<stack>.yaml before every
	// operation, so that the committed file is never rewritten by the CLI (it records
	// the secrets salt in the copy).
	StackFile string
	// Bin holds the pulumi CLI and provider plugins (pulumi-resource-*).
	Bin string
	// Backend is the state backend URL: file://, s3://, gs://, azblob:// or Pulumi Cloud.
	Backend string
	// SecretsProvider defaults to "passphrase".
	SecretsProvider string
	// PulumiHome, when set, is the CLI's PULUMI_HOME.
	PulumiHome string
	// Env is added to the CLI's environment, over the defaults.
	Env map[string]string
	// Program is the inline program the stack runs.
	Program pulumi.RunFunc
	// Config is set on the stack after it is selected (key -> plain value).
	Config map[string]string
}

// New creates or selects the stack in its workspace.
func New(ctx context.Context, o Options) (auto.Stack, error) {
	if o.Dir == "" || o.Project == "" || o.Stack == "" {
		return auto.Stack{}, fmt.Errorf("workspace: Dir, Project and Stack are required")
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return auto.Stack{}, err
	}
	if o.StackFile != "" {
		if err := CopyStackFile(o.StackFile, filepath.Join(o.Dir, "Pulumi."+o.Stack+".yaml")); err != nil {
			return auto.Stack{}, fmt.Errorf("workspace %s: %w", o.Stack, err)
		}
	}
	cmd, err := Command(o.Bin)
	if err != nil {
		return auto.Stack{}, err
	}
	secrets := o.SecretsProvider
	if secrets == "" {
		secrets = "passphrase"
	}
	opts := []auto.LocalWorkspaceOption{
		auto.WorkDir(o.Dir),
		auto.Pulumi(cmd),
		auto.EnvVars(Env(o)),
		auto.SecretsProvider(secrets),
		auto.Project(pworkspace.Project{
			Name:    tokens.PackageName(o.Project),
			Runtime: pworkspace.NewProjectRuntimeInfo("go", nil),
			Plugins: &pworkspace.Plugins{Providers: LocalPlugins(o.Bin)},
		}),
	}
	if o.PulumiHome != "" {
		opts = append(opts, auto.PulumiHome(o.PulumiHome))
	}
	st, err := auto.UpsertStackInlineSource(ctx, o.Stack, o.Project, o.Program, opts...)
	if err != nil {
		return auto.Stack{}, err
	}
	for k, v := range o.Config {
		if err := st.SetConfig(ctx, k, auto.ConfigValue{Value: v}); err != nil {
			return auto.Stack{}, err
		}
	}
	return st, nil
}

// Env is the environment the CLI runs with: bin first on PATH (where the engine finds
// the plugins), the backend, no update check, an empty passphrase unless the caller's
// environment or o.Env brings one, then o.Env.
func Env(o Options) map[string]string {
	env := map[string]string{
		"PATH":                     o.Bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"PULUMI_SKIP_UPDATE_CHECK": "true",
	}
	if o.Backend != "" {
		env["PULUMI_BACKEND_URL"] = o.Backend
	}
	if os.Getenv("PULUMI_CONFIG_PASSPHRASE") == "" && os.Getenv("PULUMI_CONFIG_PASSPHRASE_FILE") == "" &&
		o.Env["PULUMI_CONFIG_PASSPHRASE"] == "" && o.Env["PULUMI_CONFIG_PASSPHRASE_FILE"] == "" {
		// A local state's secrets are encrypted with an empty passphrase unless the caller
		// brings one.
		env["PULUMI_CONFIG_PASSPHRASE"] = ""
	}
	if o.PulumiHome != "" {
		env["PULUMI_HOME"] = o.PulumiHome
	}
	for k, v := range o.Env {
		env[k] = v
	}
	return env
}

var saltRE = regexp.MustCompile(`(?m)^encryptionsalt:.*$`)

// CopyStackFile copies a committed stack file over a workspace's copy, keeping the
// secrets salt the CLI wrote into the copy.
func CopyStackFile(src, dst string) error {
	data, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(dst); err == nil {
		if salt := saltRE.Find(old); salt != nil && !saltRE.Match(data) {
			data = append(append(append([]byte{}, salt...), '\n'), data...)
		}
	}
	tmp := dst + ".tmp"
	if err := os.WriteFile(tmp, data, 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

// LocalPlugins lists the provider plugins in bin (pulumi-resource-*) as project
// plugins, so that the engine loads them from there: it neither looks for them in the
// plugin cache nor downloads them, and does not warn, as it does for plugins it merely
// finds on PATH.
func LocalPlugins(bin string) []pworkspace.PluginOptions {
	matches, _ := filepath.Glob(filepath.Join(bin, "pulumi-resource-*"))
	var out []pworkspace.PluginOptions
	for _, m := range matches {
		name := strings.TrimPrefix(filepath.Base(m), "pulumi-resource-")
		if fi, err := os.Stat(m); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 || strings.Contains(name, ".") {
			continue
		}
		out = append(out, pworkspace.PluginOptions{Name: name, Path: bin})
	}
	return out
}
