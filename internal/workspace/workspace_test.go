package workspace

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCopyStackFileKeepsTheSaltTheCLIWrote(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "committed.yaml"), filepath.Join(dir, "copy.yaml")
	require.NoError(t, os.WriteFile(src, []byte("config:\n  flotilla:version: \"1.31\"\n"), 0o644))
	require.NoError(t, CopyStackFile(src, dst))
	got, err := os.ReadFile(dst)
	require.NoError(t, err)
	assert.Equal(t, "config:\n  flotilla:version: \"1.31\"\n", string(got))

	// The CLI records the secrets salt in the copy; the next copy keeps it.
	require.NoError(t, os.WriteFile(dst, append([]byte("encryptionsalt: v1:abc\n"), got...), 0o644))
	require.NoError(t, os.WriteFile(src, []byte("config:\n  flotilla:version: \"1.32\"\n"), 0o644))
	require.NoError(t, CopyStackFile(src, dst))
	got, err = os.ReadFile(dst)
	require.NoError(t, err)
	assert.Equal(t, "encryptionsalt: v1:abc\nconfig:\n  flotilla:version: \"1.32\"\n", string(got))
	committed, err := os.ReadFile(src)
	require.NoError(t, err)
	assert.NotContains(t, string(committed), "encryptionsalt", "the committed file is never rewritten")
}

func TestLocalPluginsListsExecutableProviderPlugins(t *testing.T) {
	t.Parallel()
	bin := t.TempDir()
	for name, mode := range map[string]os.FileMode{
		"pulumi-resource-fleetsim":     0o755,
		"pulumi-resource-kubernetes":   0o755,
		"pulumi-resource-notexec":      0o644,
		"pulumi-resource-backup.old":   0o755,
		"pulumi-language-go-something": 0o755,
	} {
		require.NoError(t, os.WriteFile(filepath.Join(bin, name), nil, mode))
	}
	var names []string
	for _, p := range LocalPlugins(bin) {
		names = append(names, p.Name)
		assert.Equal(t, bin, p.Path)
	}
	assert.ElementsMatch(t, []string{"fleetsim", "kubernetes"}, names)
}

func TestEnvKeepsACallersPassphrase(t *testing.T) {
	t.Setenv("PULUMI_CONFIG_PASSPHRASE", "")
	t.Setenv("PULUMI_CONFIG_PASSPHRASE_FILE", "")
	env := Env(Options{Bin: "/b", Backend: "file:///s"})
	assert.Equal(t, "", env["PULUMI_CONFIG_PASSPHRASE"], "a local state gets the empty passphrase")
	assert.Equal(t, "file:///s", env["PULUMI_BACKEND_URL"])
	assert.True(t, strings.HasPrefix(env["PATH"], "/b"+string(os.PathListSeparator)))

	env = Env(Options{Bin: "/b", Env: map[string]string{"PULUMI_CONFIG_PASSPHRASE_FILE": "/p"}})
	_, set := env["PULUMI_CONFIG_PASSPHRASE"]
	assert.False(t, set, "a passphrase file is not overridden by an empty passphrase")
}

func TestNonInteractiveIsAddedOnceBeforeTheSeparator(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"up", "--yes", "--non-interactive"}, nonInteractive([]string{"up", "--yes"}))
	assert.Equal(t, []string{"up", "--non-interactive", "--", "x"}, nonInteractive([]string{"up", "--", "x"}))
	assert.Equal(t, []string{"up", "--non-interactive"}, nonInteractive([]string{"up", "--non-interactive"}))
}

// TestCLIDiesWithTheProcessThatStartedIt starts a helper process that runs a long
// command through cli.Run, SIGKILLs the helper, and checks that the command died too:
// a deploy program killed mid-update leaves no update running behind it.
func TestCLIDiesWithTheProcessThatStartedIt(t *testing.T) {
	if os.Getenv("WORKSPACE_TEST_HELPER") == "1" {
		// The stand-in CLI ignores its arguments (Run adds --non-interactive).
		c := cli{path: os.Getenv("WORKSPACE_TEST_CLI")}
		_, _, _, _ = c.Run(context.Background(), "", nil, nil, nil, nil, "up")
		return
	}
	t.Parallel()
	dir := t.TempDir()
	script := filepath.Join(dir, "pulumi")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\nexec sleep 600\n"), 0o755))
	helper := exec.Command(os.Args[0], "-test.run=^TestCLIDiesWithTheProcessThatStartedIt$")
	helper.Env = append(os.Environ(), "WORKSPACE_TEST_HELPER=1", "WORKSPACE_TEST_CLI="+script)
	require.NoError(t, helper.Start())
	defer func() { _ = helper.Process.Kill() }()

	// Find the sleep the helper started: the child whose parent is the helper.
	var child int
	require.Eventually(t, func() bool {
		child = childOf(helper.Process.Pid)
		return child > 0
	}, 10*time.Second, 20*time.Millisecond, "the helper never started its command")

	require.NoError(t, helper.Process.Signal(syscall.SIGKILL))
	_ = helper.Wait()
	assert.Eventually(t, func() bool { return !alive(child) }, 5*time.Second, 20*time.Millisecond,
		"the command (pid %d) outlived the process that started it", child)
}

// childOf returns a child process of pid, or 0.
func childOf(pid int) int {
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		n, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", n))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(stat)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			return n
		}
	}
	return 0
}

func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(stat)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z" // a zombie has exited
}
