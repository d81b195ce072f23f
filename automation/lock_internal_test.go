package automation

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPIDAliveTreatsAZombieAsDead(t *testing.T) {
	t.Parallel()
	assert.True(t, pidAlive(os.Getpid()))
	assert.False(t, pidAlive(0))

	// A child that exited and was not reaped yet is a zombie: its lock is a dead run's.
	cmd := exec.Command("/bin/true")
	require.NoError(t, cmd.Start())
	pid := cmd.Process.Pid
	assert.Eventually(t, func() bool { return !pidAlive(pid) }, 5*time.Second, 10*time.Millisecond,
		"an exited, unreaped process counts as gone")
	require.NoError(t, cmd.Wait())
	assert.False(t, pidAlive(pid), "a reaped process is gone")
}
