package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/daemon"
	"github.com/flotilla-io/flotilla/internal/fleetsim/store"
)

// envDaemon makes the test binary run a daemon instead of the tests: the crash test
// re-executes itself this way so that it can SIGKILL a real daemon process.
const envDaemon = "FLEETSIM_TEST_RUN_DAEMON"

func TestMain(m *testing.M) {
	if home := os.Getenv(envDaemon); home != "" {
		if err := daemon.Main(context.Background(), []string{"--home", home}, os.Stderr); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// spawn runs a daemon process on home and returns it with its address.
func spawn(t *testing.T, home string) (*exec.Cmd, string) {
	t.Helper()
	st, err := store.Open(home)
	require.NoError(t, err)
	_ = os.Remove(st.Path(store.DaemonFile))
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), envDaemon+"="+home, "FLEETSIM_KUBE=off", "FLEETSIM_CLUSTER_CREATE=50ms", "FLEETSIM_POOL_CREATE=20ms")
	logs := &syncBuffer{}
	cmd.Stderr = logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("daemon %d log:\n%s", cmd.Process.Pid, logs.String())
		}
	})
	var addr string
	require.Eventually(t, func() bool {
		info, err := st.ReadDaemonInfo()
		if err != nil || info.PID != cmd.Process.Pid {
			return false
		}
		addr = info.Addr
		return true
	}, 10*time.Second, 10*time.Millisecond, "daemon did not start")
	return cmd, addr
}

// TestSIGKILLMidWriteStorm kills a daemon while several clients write as fast as they
// can, restarts it, and checks that everything the daemon acknowledged is there: a
// change is on disk before its answer is sent, and a torn write never replaces the state.
func TestSIGKILLMidWriteStorm(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	cmd, addr := spawn(t, home)

	var (
		mu       sync.Mutex
		clusters []string // acknowledged cluster creations
		failures []string // acknowledged upgrade-failure faults
		stop     = make(chan struct{})
		wg       sync.WaitGroup
		httpc    = &http.Client{Timeout: 5 * time.Second}
		regions  = cloud.Regions()
		post     = func(path string, body any) bool {
			b, _ := json.Marshal(body)
			resp, err := httpc.Post("http://"+addr+path, "application/json", bytes.NewReader(b))
			if err != nil {
				return false
			}
			defer resp.Body.Close()
			return resp.StatusCode < 300
		}
	)
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if w%2 == 0 {
					name := fmt.Sprintf("w%d-c%d", w, i)
					spec := cloud.ClusterSpec{Name: name, Region: regions[i%len(regions)]}
					if post("/v1/clusters", cloud.CreateClusterRequest{Spec: spec, Token: name}) {
						mu.Lock()
						clusters = append(clusters, spec.Region+"/"+name)
						mu.Unlock()
					}
				} else {
					name := fmt.Sprintf("w%d-f%d", w, i)
					if post("/v1/faults/upgrade-failure", cloud.UpgradeFailureRequest{Cluster: name}) {
						mu.Lock()
						failures = append(failures, name)
						mu.Unlock()
					}
				}
			}
		})
	}
	// Let the storm run until the daemon has committed a good number of writes.
	st, err := store.Open(home)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(clusters) >= 20 && len(failures) >= 20
	}, 20*time.Second, 5*time.Millisecond)
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	_ = cmd.Wait()
	close(stop)
	wg.Wait()

	state, err := st.Load()
	require.NoError(t, err, "the state file is never torn")

	_, addr2 := spawn(t, home)
	c, err := client.New(client.Options{Home: home, Addr: addr2})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	got, err := c.State(ctx)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, got.Rev, state.Rev)
	for _, ref := range clusters {
		_, err := got.ClusterByRef(ref)
		assert.NoError(t, err, "acknowledged cluster %s was lost", ref)
	}
	for _, f := range failures {
		assert.Contains(t, got.Faults.UpgradeFailures, f, "acknowledged fault was lost")
	}
	// Creations cut short by the kill resume and complete under the new daemon.
	require.Eventually(t, func() bool {
		s, err := c.State(ctx)
		if err != nil {
			return false
		}
		for _, cl := range s.Clusters {
			if cl.Status != cloud.StatusActive {
				return false
			}
		}
		return len(s.Clusters) >= len(clusters)
	}, 15*time.Second, 20*time.Millisecond)
	require.NoError(t, c.Shutdown(ctx))
}

// syncBuffer collects a subprocess's output.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
