package main

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPluginExitsWithItsEngine runs the plugin's watch in a child of a stand-in engine
// (a shell), SIGKILLs the shell as a killed deploy program's CLI would die, and checks
// the plugin process exits within a few seconds instead of outliving it.
func TestPluginExitsWithItsEngine(t *testing.T) {
	if os.Getenv("FLEETSIM_PLUGIN_TEST") == "1" {
		go exitWithEngine(os.Getppid(), 50*time.Millisecond)
		time.Sleep(time.Minute)
		os.Exit(3) // never reached when the watch works
	}
	t.Parallel()
	pidFile := t.TempDir() + "/pid"
	engine := exec.Command("/bin/sh", "-c", `"$0" -test.run='^TestPluginExitsWithItsEngine$' & echo $! > "$1"; wait`, os.Args[0], pidFile)
	engine.Env = append(os.Environ(), "FLEETSIM_PLUGIN_TEST=1")
	require.NoError(t, engine.Start())
	var plugin int
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(pidFile)
		plugin, _ = strconv.Atoi(strings.TrimSpace(string(b)))
		return err == nil && plugin > 0
	}, 10*time.Second, 20*time.Millisecond)
	time.Sleep(200 * time.Millisecond)
	require.True(t, running(plugin), "the plugin runs while its engine does")

	require.NoError(t, engine.Process.Signal(syscall.SIGKILL))
	_ = engine.Wait()
	assert.Eventually(t, func() bool { return !running(plugin) }, 5*time.Second, 50*time.Millisecond,
		"the plugin (pid %d) outlived its engine", plugin)
}

func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z"
}
