package kubeplane

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/flotilla-io/flotilla/internal/fleetsim/simapi"
)

// binDir is where `make kube` put the binaries: $FLOTILLA_BIN, or bin/ at the repository
// root. The tests fail, never skip, when they are missing.
func binDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("FLOTILLA_BIN")
	if dir == "" {
		wd, err := os.Getwd()
		require.NoError(t, err)
		for d := wd; ; d = filepath.Dir(d) {
			if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.HasPrefix(string(b), "module github.com/flotilla-io/flotilla\n") {
				dir = filepath.Join(d, "bin")
				break
			}
			if filepath.Dir(d) == d {
				t.Fatalf("no repository root above %s", wd)
			}
		}
	}
	require.NoError(t, New(t.TempDir(), dir).checkBinaries(), "the control-plane binaries are missing: run make kube")
	return dir
}

// newManager returns a Manager on a fresh home whose planes are deleted when the test ends.
func newManager(t testing.TB) (*Manager, string) {
	t.Helper()
	home := t.TempDir()
	return New(home, binDir(t)), home
}

func ensurePlane(t testing.TB, m *Manager, id string) simapi.Plane {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	p, err := m.EnsurePlane(ctx, id)
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, m.DeletePlane(context.Background(), id))
	})
	return p
}

// clientFor builds a client-go client from the plane's kubeconfig alone, as a user would.
func clientFor(t testing.TB, p simapi.Plane) kubernetes.Interface {
	t.Helper()
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(p.Kubeconfig))
	require.NoError(t, err)
	cs, err := kubernetes.NewForConfig(cfg)
	require.NoError(t, err)
	return cs
}

// pidGone reports whether no process, not even a zombie, has the PID.
func pidGone(pid int) bool {
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

func planePorts(t testing.TB, home, id string) ports {
	t.Helper()
	st, err := readState(filepath.Join(home, "planes", id))
	require.NoError(t, err)
	require.NotNil(t, st)
	return st.Ports
}

func ctxTimeout(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

var noGet = metav1.GetOptions{}
