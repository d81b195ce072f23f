package kubeplane

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/flotilla-io/flotilla/internal/fleetsim/simapi"
)

// TestStopPlanes stops a running plane twice, once without its Manager (as for a daemon
// that died) and once through the Manager (as the daemon does when it shuts down). Each
// time no PID is left and every port is free, and the plane comes back on its data.
func TestStopPlanes(t *testing.T) {
	t.Parallel()
	m, home := newManager(t)
	ctx := ctxTimeout(t, 5*time.Minute)
	const id = "stopped"
	dir := filepath.Join(home, "planes", id)
	started := ensurePlane(t, m, id)
	_, err := clientFor(t, started).CoreV1().ConfigMaps("default").Create(ctx, configMap("survivor"), metav1.CreateOptions{})
	require.NoError(t, err)

	running, err := Running(home)
	require.NoError(t, err)
	assert.Equal(t, []simapi.StoppedPlane{{ClusterID: id, PIDs: started.PIDs}}, running)

	assertStopped := func(t *testing.T, stopped []simapi.StoppedPlane, plane simapi.Plane) {
		t.Helper()
		assert.Equal(t, []simapi.StoppedPlane{{ClusterID: id, PIDs: plane.PIDs}}, stopped)
		for c, pid := range plane.PIDs {
			assert.False(t, alive(pid), "%s (pid %d) is still running", c, pid)
			// Without the Manager that started it, its parent reaps it a moment later.
			assert.Eventually(t, func() bool { return pidGone(pid) }, 5*time.Second, 10*time.Millisecond, "%s (pid %d) is not reaped", c, pid)
		}
		for _, port := range planePorts(t, home, id).list() {
			assert.True(t, portFree(port), "port %d is still in use", port)
		}
		st, err := readState(dir)
		require.NoError(t, err)
		assert.Empty(t, st.PIDs, "the state file no longer names the stopped processes")
		assert.DirExists(t, filepath.Join(dir, "etcd"), "the data stays")
		running, err := Running(home)
		require.NoError(t, err)
		assert.Empty(t, running)
	}

	t.Run("without a Manager", func(t *testing.T) {
		stopped, err := StopPlanes(ctx, home)
		require.NoError(t, err)
		assertStopped(t, stopped, started)
	})

	restarted, err := m.EnsurePlane(ctx, id)
	require.NoError(t, err)
	cm, err := clientFor(t, restarted).CoreV1().ConfigMaps("default").Get(ctx, "survivor", noGet)
	require.NoError(t, err, "the plane restarts on its data")
	assert.Equal(t, "survivor", cm.Data["kept"])

	t.Run("through the Manager", func(t *testing.T) {
		stopped, err := m.StopPlanes(ctx)
		require.NoError(t, err)
		assertStopped(t, stopped, restarted)
		again, err := m.StopPlanes(ctx)
		require.NoError(t, err)
		assert.Empty(t, again, "stopping stopped planes stops nothing")
	})

	_, err = New(home, m.binDir).EnsurePlane(ctx, id)
	require.NoError(t, err, "a new Manager starts the stopped plane again")
}

func TestStopPlanesWithoutPlanes(t *testing.T) {
	t.Parallel()
	stopped, err := StopPlanes(context.Background(), t.TempDir())
	require.NoError(t, err)
	assert.Empty(t, stopped)
}
