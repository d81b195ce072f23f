package store_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/store"
)

func TestSaveLoadRoundTrip(t *testing.T) {
	t.Parallel()
	st, err := store.Open(filepath.Join(t.TempDir(), "home"))
	require.NoError(t, err)
	empty, err := st.Load()
	require.NoError(t, err)
	assert.Empty(t, empty.Clusters)

	s := cloud.NewState()
	_, err = s.CreateCluster(cloud.Env{Durations: cloud.DefaultDurations()}, cloud.ClusterSpec{Name: "dev", Region: "sim-east-1"}, "tok")
	require.NoError(t, err)
	require.NoError(t, s.AddSpotShortage("sim-east-1", "sim-east-1a"))
	require.NoError(t, st.Save(s))
	got, err := st.Load()
	require.NoError(t, err)
	assert.Equal(t, s, got)

	entries, err := os.ReadDir(st.Dir())
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file is left behind")
	info, err := entries[0].Info()
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())
}

func TestLoadRejectsCorruptState(t *testing.T) {
	t.Parallel()
	st, err := store.Open(t.TempDir())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(st.Path(store.StateFile), []byte("{not json"), 0o600))
	_, err = st.Load()
	assert.ErrorContains(t, err, "is not valid state")
}

func TestLockIsExclusive(t *testing.T) {
	t.Parallel()
	st, err := store.Open(t.TempDir())
	require.NoError(t, err)
	f, err := st.Lock()
	require.NoError(t, err)
	_, err = st.Lock()
	assert.ErrorIs(t, err, store.ErrLocked)
	require.NoError(t, f.Close())
	f, err = st.Lock()
	require.NoError(t, err)
	require.NoError(t, f.Close())
}

func TestDaemonInfo(t *testing.T) {
	t.Parallel()
	st, err := store.Open(t.TempDir())
	require.NoError(t, err)
	_, err = st.ReadDaemonInfo()
	assert.ErrorIs(t, err, os.ErrNotExist)
	require.NoError(t, st.WriteDaemonInfo(store.DaemonInfo{Addr: "127.0.0.1:1234", PID: 42, Kube: "off"}))
	info, err := st.ReadDaemonInfo()
	require.NoError(t, err)
	assert.Equal(t, "127.0.0.1:1234", info.Addr)
	st.RemoveDaemonInfo(7) // another daemon's pid: kept
	_, err = st.ReadDaemonInfo()
	require.NoError(t, err)
	st.RemoveDaemonInfo(42)
	_, err = st.ReadDaemonInfo()
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestProjectRoot(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	deep := filepath.Join(root, "a", "b")
	require.NoError(t, os.MkdirAll(deep, 0o755))
	assert.Empty(t, store.ProjectRoot(deep))
	require.NoError(t, os.WriteFile(filepath.Join(root, "Pulumi.yaml"), []byte("name: x\n"), 0o644))
	assert.Equal(t, root, store.ProjectRoot(deep))
}
