package workspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/auto"
)

// cli runs the pinned Pulumi CLI as the SDK's own command does (non-interactive, in a
// process group of its own, interrupted on cancellation and killed ten seconds later),
// and also asks the kernel to kill it when the process that started it dies. A deploy
// program killed mid-update then leaves no update running behind it.
type cli struct {
	path    string
	version semver.Version
}

var (
	versionsMu sync.Mutex
	versions   = map[string]semver.Version{}
)

// Command returns the Pulumi CLI in bin, checked against the SDK's minimum version
// once per binary.
func Command(bin string) (auto.PulumiCommand, error) {
	path := filepath.Join(bin, "pulumi")
	versionsMu.Lock()
	defer versionsMu.Unlock()
	v, ok := versions[path]
	if !ok {
		root := filepath.Dir(bin)
		if filepath.Base(bin) != "bin" {
			// The SDK looks for <root>/bin/pulumi.
			tmp, err := os.MkdirTemp("", "pulumi-root-")
			if err != nil {
				return nil, err
			}
			defer os.RemoveAll(tmp)
			if err := os.Symlink(bin, filepath.Join(tmp, "bin")); err != nil {
				return nil, err
			}
			root = tmp
		}
		sdk, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root})
		if err != nil {
			return nil, fmt.Errorf("the Pulumi CLI in %s: %w (run `make pulumi`)", bin, err)
		}
		v = sdk.Version()
		versions[path] = v
	}
	return cli{path: path, version: v}, nil
}

func (c cli) Version() semver.Version { return c.version }

func (c cli) Run(ctx context.Context, workdir string, stdin io.Reader, out, errOut []io.Writer,
	extraEnv []string, args ...string,
) (string, string, int, error) {
	args = nonInteractive(args)
	cmd := exec.CommandContext(ctx, c.path, args...)
	cmd.Dir = workdir
	cmd.Env = append(append(os.Environ(), extraEnv...), "PULUMI_AUTOMATION_API=true")
	var stdout, stderr bytes.Buffer
	cmd.Stdout = io.MultiWriter(append(out, &stdout)...)
	cmd.Stderr = io.MultiWriter(append(errOut, &stderr)...)
	cmd.Stdin = stdin
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error {
		// SIGINT lets the engine finish or cancel its in-flight steps and release its
		// lock; WaitDelay kills it if it does not stop in time.
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			_ = cmd.Process.Kill()
		}
		return nil
	}
	cmd.WaitDelay = 10 * time.Second
	code := -2
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err == nil {
		code = 0
	}
	return stdout.String(), stderr.String(), code, err
}

func nonInteractive(args []string) []string {
	head := args
	if i := slices.Index(args, "--"); i >= 0 {
		head = args[:i]
	}
	if slices.Contains(head, "--non-interactive") {
		return args
	}
	if i := slices.Index(args, "--"); i >= 0 {
		return slices.Concat(args[:i], []string{"--non-interactive"}, args[i:])
	}
	return append(args, "--non-interactive")
}
