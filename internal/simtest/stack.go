package simtest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	pworkspace "github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/workspace"
)

// Project is the project name of test stacks unless StackProject says otherwise.
const Project = "simtest"

// OpTimeout bounds one Pulumi operation of a test.
const OpTimeout = 5 * time.Minute

type stackOptions struct {
	project string
	config  map[string]string
}

// StackOption configures Stack.
type StackOption func(*stackOptions)

// StackProject sets the project name (default "simtest").
func StackProject(name string) StackOption { return func(o *stackOptions) { o.project = name } }

// StackConfig sets stack configuration values, e.g. {"flotilla:env": "dev"}.
func StackConfig(cfg map[string]string) StackOption {
	return func(o *stackOptions) {
		for k, v := range cfg {
			o.config[k] = v
		}
	}
}

// PulumiCommand returns the Pulumi CLI in bin, checked against the SDK's version.
func PulumiCommand(t testing.TB, bin string) auto.PulumiCommand {
	t.Helper()
	root := filepath.Dir(bin)
	if filepath.Base(bin) != "bin" {
		// The automation API looks for <root>/bin/pulumi.
		root = t.TempDir()
		require.NoError(t, os.Symlink(bin, filepath.Join(root, "bin")))
	}
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root})
	require.NoError(t, err, "run `make pulumi` to build the Pulumi CLI into bin/")
	return cmd
}

// Stack creates (or selects) an inline automation-API stack running program, in a
// workspace of its own (built by internal/workspace, as the deploy program builds its
// own), against the sim's backend and daemon. The stack's config has fleetsim:kube set
// to the sim's mode, so that programs know whether clusters have a Kubernetes API.
func Stack(t testing.TB, sim *Sim, name string, program pulumi.RunFunc, opts ...StackOption) auto.Stack {
	t.Helper()
	o := stackOptions{project: Project, config: map[string]string{}}
	for _, opt := range opts {
		opt(&o)
	}
	kube := "off"
	if sim.Kube {
		kube = "on"
	}
	o.config["fleetsim:kube"] = kube

	ctx, cancel := context.WithTimeout(context.Background(), OpTimeout)
	defer cancel()
	s, err := workspace.New(ctx, workspace.Options{
		Dir: t.TempDir(), Project: o.project, Stack: name, Bin: sim.Bin, Backend: sim.Backend,
		PulumiHome: sim.PulumiHome, Env: sim.Env(), Program: program, Config: o.config,
	})
	require.NoError(t, err, "run `make pulumi` to build the Pulumi CLI into bin/")
	return s
}

// LocalPlugins lists the provider plugins in bin as project plugins; see
// workspace.LocalPlugins, which the deploy program uses the same way.
func LocalPlugins(bin string) []pworkspace.PluginOptions { return workspace.LocalPlugins(bin) }

// Up runs `pulumi up` and fails the test on error. The engine's output goes to the
// test log.
func Up(t testing.TB, s auto.Stack) auto.UpResult {
	t.Helper()
	res, err := TryUp(t, s)
	require.NoError(t, err)
	return res
}

// TryUp runs `pulumi up` and returns its error, for tests of failures.
func TryUp(t testing.TB, s auto.Stack) (auto.UpResult, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), OpTimeout)
	defer cancel()
	w := logWriter(t)
	return s.Up(ctx, optup.ProgressStreams(w), optup.ErrorProgressStreams(w))
}

// Preview runs `pulumi preview` and fails the test on error.
func Preview(t testing.TB, s auto.Stack) auto.PreviewResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), OpTimeout)
	defer cancel()
	w := logWriter(t)
	res, err := s.Preview(ctx, optpreview.ProgressStreams(w), optpreview.ErrorProgressStreams(w))
	require.NoError(t, err)
	return res
}

// Refresh runs `pulumi refresh` and fails the test on error.
func Refresh(t testing.TB, s auto.Stack) auto.RefreshResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), OpTimeout)
	defer cancel()
	w := logWriter(t)
	res, err := s.Refresh(ctx, optrefresh.ProgressStreams(w), optrefresh.ErrorProgressStreams(w))
	require.NoError(t, err)
	return res
}

// Destroy runs `pulumi destroy` and fails the test on error.
func Destroy(t testing.TB, s auto.Stack) auto.DestroyResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), OpTimeout)
	defer cancel()
	w := logWriter(t)
	res, err := s.Destroy(ctx, optdestroy.ProgressStreams(w), optdestroy.ErrorProgressStreams(w))
	require.NoError(t, err)
	return res
}

// logWriter sends the engine's output to the test log, one line at a time.
func logWriter(t testing.TB) *testLog { return &testLog{t: t} }

type testLog struct {
	t   testing.TB
	mu  sync.Mutex
	buf strings.Builder
}

func (l *testLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf.Write(p)
	s := l.buf.String()
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimRight(s[:i], "\r "); line != "" {
			l.t.Log(line)
		}
		s = s[i+1:]
	}
	l.buf.Reset()
	l.buf.WriteString(s)
	return len(p), nil
}
