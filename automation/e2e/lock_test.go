package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation"
)

var devOnly = automation.RolloutRequest{Selection: automation.Selection{Environments: []string{"dev"}}}

// TestSecondRolloutIsRefusedWhileOneRuns: while a rollout holds the fleet lock, a second
// one is refused at once with a message naming the holder; the first is unaffected.
func TestSecondRolloutIsRefusedWhileOneRuns(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()

	events := make(chan automation.Event, 256)
	first := make(chan run, 1)
	go func() {
		j, err := f.deployer(events).Rollout(ctx, devOnly)
		first <- run{journal: j, err: err}
	}()
	// The lock is held once the run has started a step.
	var got []automation.Event
	for started := false; !started; {
		select {
		case e := <-events:
			got = append(got, e)
			_, started = e.(automation.StepStarted)
		case r := <-first:
			t.Fatalf("the first rollout ended before it started a step: %v", r.err)
		case <-ctx.Done():
			t.Fatal("the first rollout never started a step")
		}
	}

	began := time.Now()
	second := f.rollout(devOnly)
	assert.Less(t, time.Since(began), 10*time.Second, "refused at once, not after waiting")
	require.Error(t, second.err)
	assert.True(t, automation.IsLocked(second.err), "%v", second.err)
	var le *automation.LockedError
	require.True(t, errors.As(second.err, &le))
	host, _ := os.Hostname()
	u, err := user.Current()
	require.NoError(t, err)
	assert.Equal(t, os.Getpid(), le.Holder.PID)
	assert.Equal(t, host, le.Holder.Host)
	assert.Equal(t, u.Username, le.Holder.User)
	assert.Equal(t, "rollout", le.Holder.Command)
	assert.Empty(t, le.Stale, "a live holder is not stale")
	msg := second.err.Error()
	for _, want := range []string{u.Username + "@" + host, fmt.Sprintf("pid %d", os.Getpid()), "since", "last heartbeat"} {
		assert.Contains(t, msg, want)
	}
	assert.Empty(t, eventsOf[automation.StepStarted](second.events), "the refused run did nothing")

	go func() {
		for e := range events {
			got = append(got, e)
		}
	}()
	r := <-first
	require.NoError(t, r.err, "the running rollout is unaffected")
	f.assertCloud("dev")
	assert.NoFileExists(t, filepath.Join(f.state, "lock.json"), "the lock is released")
}

// TestStaleLockIsRecognised: a lock left by a dead process of this host is reported as
// stale and taken over by the next rollout, which says what it cleared; an expired lock
// of another host is reported as stale and left alone.
func TestStaleLockIsRecognised(t *testing.T) {
	t.Parallel()
	f := newFleet(t)
	lockFile := filepath.Join(f.state, "lock.json")
	host, _ := os.Hostname()

	// Another host's lock whose heartbeat expired: stale, but not ours to clear.
	old := time.Now().Add(-time.Hour)
	writeLock(t, lockFile, automation.LockHolder{RunID: "r-elsewhere", Command: "rollout", User: "ci", Host: "build-7", PID: 4242, Since: old, Heartbeat: old})
	r := f.rollout(devOnly)
	require.Error(t, r.err)
	var le *automation.LockedError
	require.True(t, errors.As(r.err, &le), "%v", r.err)
	assert.Equal(t, "build-7", le.Holder.Host)
	assert.Contains(t, le.Stale, "heartbeat")
	assert.Contains(t, r.err.Error(), "stale")
	assert.Contains(t, r.err.Error(), "flotilla unlock")
	assert.FileExists(t, lockFile, "another host's lock is never taken over")
	assert.Empty(t, f.sim.State(t).Clusters)

	// This host's lock, of a process that is gone.
	dead := exec.Command("true")
	require.NoError(t, dead.Run())
	now := time.Now()
	writeLock(t, lockFile, automation.LockHolder{RunID: "r-dead", Command: "rollout", User: "someone", Host: host, PID: dead.Process.Pid, Since: now, Heartbeat: now})
	holder, stale, err := f.deployer(nil).Lock()
	require.NoError(t, err)
	require.NotNil(t, holder)
	assert.Equal(t, dead.Process.Pid, holder.PID)
	assert.Contains(t, stale, fmt.Sprintf("process %d is gone", dead.Process.Pid))

	r = f.rollout(devOnly)
	logEvents(t, "rollout over a stale lock", r)
	require.NoError(t, r.err)
	var cleared bool
	for _, c := range eventsOf[automation.Cleared](r.events) {
		cleared = cleared || (strings.Contains(c.What, "r-dead") && strings.Contains(c.What, fmt.Sprintf("pid %d", dead.Process.Pid)))
	}
	assert.True(t, cleared, "the rollout says which stale lock it cleared")
	assert.NoFileExists(t, lockFile)
	f.assertCloud("dev")
}

func writeLock(t *testing.T, path string, h automation.LockHolder) {
	t.Helper()
	data, err := json.Marshal(h)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, data, 0o644))
}
