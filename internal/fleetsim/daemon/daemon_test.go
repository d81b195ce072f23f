package daemon_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/daemon"
	"github.com/flotilla-io/flotilla/internal/fleetsim/simapi"
	"github.com/flotilla-io/flotilla/internal/fleetsim/store"
)

var fast = cloud.Durations{
	ClusterCreate:  150 * time.Millisecond,
	ClusterUpgrade: 100 * time.Millisecond,
	ClusterDelete:  50 * time.Millisecond,
	PoolCreate:     60 * time.Millisecond,
	PoolDelete:     30 * time.Millisecond,
}

// running is a daemon served in-process for one test.
type running struct {
	d    *daemon.Daemon
	c    *client.Client
	home string
	done chan error
}

func start(t *testing.T, home string, kube simapi.Kube) *running {
	t.Helper()
	d, err := daemon.New(daemon.Options{
		Home: home, Kube: kube, Durations: fast, TimeScale: 600,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	require.NoError(t, err)
	require.NoError(t, d.Listen())
	r := &running{d: d, home: home, done: make(chan error, 1)}
	go func() { r.done <- d.Serve(context.Background()) }()
	r.c, err = client.New(client.Options{Home: home, Addr: d.Addr()})
	require.NoError(t, err)
	require.Eventually(t, func() bool { _, ok := r.c.Running(context.Background()); return ok }, 5*time.Second, 10*time.Millisecond)
	t.Cleanup(r.stop)
	return r
}

func (r *running) stop() {
	r.d.Shutdown()
	<-r.done      //nolint:errcheck // how Serve ended does not matter once the test stops it
	r.done <- nil // later stops return at once
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func spot(cluster string, desired int) cloud.NodePoolSpec {
	return cloud.NodePoolSpec{
		Name: "app-spot", Cluster: cluster, CapacityType: cloud.Spot, InstanceTypes: []string{"m6i.large"},
		MinSize: 0, MaxSize: 10, DesiredSize: desired, Labels: map[string]string{cloud.LabelPool: "app"},
		Taints: []cloud.Taint{{Key: "flotilla.io/spot", Value: "true", Effect: "NoSchedule"}}, ProvisionTimeout: 60,
	}
}

func TestLifecycleThroughTheAPI(t *testing.T) {
	t.Parallel()
	r := start(t, t.TempDir(), nil)
	ctx := ctxT(t)

	h, err := r.c.Health(ctx)
	require.NoError(t, err)
	assert.Equal(t, "off", h.Kube)
	assert.Equal(t, cloud.Version, h.Version)

	cl, err := r.c.CreateCluster(ctx, cloud.ClusterSpec{Name: "dev", Region: "sim-east-1", Version: "1.31", Tags: map[string]string{"team": "a"}}, "tok")
	require.NoError(t, err)
	assert.Equal(t, cloud.StatusActive, cl.Status)
	assert.Equal(t, fmt.Sprintf("https://%s.sim-east-1.fleetsim.invalid", cl.ID), cl.Endpoint)
	assert.Contains(t, cl.Kubeconfig, "server: "+cl.Endpoint)
	assert.Empty(t, cl.KubeVersion, "lite mode runs no control-plane binary")

	again, err := r.c.CreateCluster(ctx, cloud.ClusterSpec{Name: "dev", Region: "sim-east-1", Version: "1.31"}, "tok")
	require.NoError(t, err, "a retried create with the same token is not a second cluster")
	assert.Equal(t, cl.ID, again.ID)

	_, err = r.c.CreateCluster(ctx, cloud.ClusterSpec{Name: "dev", Region: "sim-east-1"}, "")
	assert.True(t, cloud.IsAlreadyExists(err), "%v", err)

	p, err := r.c.CreateNodePool(ctx, spot(cl.ID, 3), "")
	require.NoError(t, err)
	assert.Equal(t, 3, p.ReadyNodes)
	assert.InDelta(t, 3*0.0336, p.HourlyCost, 1e-9)

	_, err = r.c.UpdateCluster(ctx, cl.ID, cloud.ClusterSpec{Version: "1.33"})
	require.Error(t, err)
	assert.Equal(t, `cluster "dev": cannot upgrade from 1.31 to 1.33: the control plane upgrades one minor version at a time (next: 1.32)`, err.Error())
	assert.True(t, cloud.IsFailedPrecondition(err))

	cl, err = r.c.UpdateCluster(ctx, cl.ID, cloud.ClusterSpec{Version: "1.32", Tags: map[string]string{"team": "b"}})
	require.NoError(t, err)
	assert.Equal(t, "1.32", cl.Version)
	assert.Equal(t, map[string]string{"team": "b"}, cl.Tags)

	byRef, err := r.c.GetNodePool(ctx, "sim-east-1/dev/app-spot")
	require.NoError(t, err)
	assert.Equal(t, p.ID, byRef.ID)

	require.ErrorContains(t, r.c.DeleteCluster(ctx, cl.ID), "cannot delete a cluster that has node pools")
	require.NoError(t, r.c.DeleteNodePool(ctx, p.ID))
	require.NoError(t, r.c.DeleteNodePool(ctx, p.ID), "deleting what is gone succeeds")
	require.NoError(t, r.c.DeleteCluster(ctx, cl.ID))
	_, err = r.c.GetCluster(ctx, cl.ID)
	assert.True(t, cloud.IsNotFound(err))

	st, err := r.c.State(ctx)
	require.NoError(t, err)
	assert.Empty(t, st.Clusters)
	assert.Empty(t, st.Pools)
}

func TestUpgradeFailureReachesTheCaller(t *testing.T) {
	t.Parallel()
	r := start(t, t.TempDir(), nil)
	ctx := ctxT(t)
	cl, err := r.c.CreateCluster(ctx, cloud.ClusterSpec{Name: "dev", Region: "sim-west-1", Version: "1.31"}, "")
	require.NoError(t, err)
	require.NoError(t, r.c.UpgradeFailure(ctx, "dev"))
	_, err = r.c.UpdateCluster(ctx, cl.ID, cloud.ClusterSpec{Version: "1.32"})
	require.Error(t, err)
	assert.True(t, cloud.IsOperationFailed(err))
	assert.Contains(t, err.Error(), `cluster "dev": upgrade from 1.31 to 1.32 failed`)
	cl, err = r.c.GetCluster(ctx, "sim-west-1/dev")
	require.NoError(t, err)
	assert.Equal(t, "1.31", cl.Version)

	n, err := r.c.ClearFaults(ctx, cloud.FaultFilter{Kind: cloud.FaultUpgradeFailure})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	cl, err = r.c.UpdateCluster(ctx, cl.ID, cloud.ClusterSpec{Version: "1.32"})
	require.NoError(t, err)
	assert.Equal(t, "1.32", cl.Version)
}

func TestAPIErrorsAreRetriedThenSurfaced(t *testing.T) {
	t.Parallel()
	r := start(t, t.TempDir(), nil)
	ctx := ctxT(t)
	require.NoError(t, r.c.APIErrors(ctx, 1, 1))
	_, err := r.c.ListClusters(ctx)
	require.Error(t, err)
	assert.True(t, cloud.IsThrottling(err))
	assert.Equal(t, "Throttling: rate exceeded (the api-errors fault is in force); retry with backoff (gave up after 4 attempts)", err.Error())

	// At a moderate rate, the client's retries carry every call through.
	require.NoError(t, r.c.APIErrors(ctx, 0.3, 42))
	for range 20 {
		_, err := r.c.ListClusters(ctx)
		require.NoError(t, err)
	}
	_, err = r.c.CreateCluster(ctx, cloud.ClusterSpec{Name: "dev", Region: "sim-west-1"}, "t1")
	require.NoError(t, err)
	_, err = r.c.ClearFaults(ctx, cloud.FaultFilter{Kind: cloud.FaultAPIErrors})
	require.NoError(t, err)
}

// TestConcurrentClients runs a whole lifecycle on several clusters at once, each from
// its own client, plus several pools on one cluster at once. Operations on different
// clusters overlap in time; operations on one cluster never do.
func TestConcurrentClients(t *testing.T) {
	t.Parallel()
	r := start(t, t.TempDir(), nil)
	ctx := ctxT(t)
	const clusters = 6
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range clusters {
		wg.Go(func() {
			c, err := client.New(client.Options{Home: r.home, Addr: r.d.Addr()})
			if err != nil {
				errs <- err
				return
			}
			name := fmt.Sprintf("c%d", i)
			cl, err := c.CreateCluster(ctx, cloud.ClusterSpec{Name: name, Region: cloud.Regions()[i%5], Version: "1.31"}, "")
			if err != nil {
				errs <- fmt.Errorf("%s: %w", name, err)
				return
			}
			var pwg sync.WaitGroup
			for j := range 3 {
				pwg.Go(func() {
					spec := spot(cl.ID, 1)
					spec.Name = fmt.Sprintf("p%d", j)
					if _, err := c.CreateNodePool(ctx, spec, ""); err != nil {
						errs <- fmt.Errorf("%s/p%d: %w", name, j, err)
					}
				})
			}
			pwg.Wait()
			if _, err := c.UpdateCluster(ctx, cl.ID, cloud.ClusterSpec{Version: "1.32"}); err != nil {
				errs <- err
			}
			pools, err := c.ListNodePools(ctx, cl.ID)
			if err != nil {
				errs <- err
				return
			}
			for _, p := range pools {
				if err := c.DeleteNodePool(ctx, p.ID); err != nil {
					errs <- err
				}
			}
			if err := c.DeleteCluster(ctx, cl.ID); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}

	st, err := r.c.State(ctx)
	require.NoError(t, err)
	assert.Empty(t, st.Clusters)
	assert.Empty(t, st.Pools)
	byCluster := map[string][]*cloud.Operation{}
	var creates []*cloud.Operation
	for _, op := range st.Operations {
		require.Equal(t, cloud.OpDone, op.Status, "%+v", op)
		if op.Until.After(op.Started) {
			byCluster[op.ClusterID] = append(byCluster[op.ClusterID], op)
		}
		if op.Kind == cloud.OpCreateCluster {
			creates = append(creates, op)
		}
	}
	require.Len(t, byCluster, clusters)
	for id, ops := range byCluster {
		assert.Len(t, ops, 1+3+1+3+1, id)
		sort.Slice(ops, func(i, j int) bool { return ops[i].Started.Before(ops[j].Started) })
		for i := 1; i < len(ops); i++ {
			assert.False(t, ops[i].Started.Before(ops[i-1].Finished), "operations on cluster %s overlap: %s and %s", id, ops[i-1].Kind, ops[i].Kind)
		}
	}
	require.Len(t, creates, clusters)
	peak := 0
	for _, a := range creates {
		running := 0
		for _, b := range creates {
			if !b.Started.After(a.Started) && b.Finished.After(a.Started) {
				running++
			}
		}
		peak = max(peak, running)
	}
	assert.GreaterOrEqual(t, peak, 2, "cluster creations ran one after the other instead of in parallel")
}

// fakeKube records what the daemon asks of the control planes.
type fakeKube struct {
	mu      sync.Mutex
	Calls   []string
	Nodes   map[string][]simapi.Node
	NextErr error // returned once by the next EnsurePlane
	// SyncDelay is how long each SyncNodes takes, as a plane rolling in new Nodes does.
	SyncDelay time.Duration
}

func newFakeKube() *fakeKube { return &fakeKube{Nodes: map[string][]simapi.Node{}} }

func (f *fakeKube) EnsurePlane(_ context.Context, id string) (simapi.Plane, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls = append(f.Calls, "ensure "+id)
	if err := f.NextErr; err != nil {
		f.NextErr = nil
		return simapi.Plane{}, err
	}
	return simapi.Plane{Endpoint: "https://127.0.0.1:6443", Kubeconfig: "kubeconfig-of-" + id, BinaryVersion: "v1.37.2"}, nil
}

func (f *fakeKube) SyncNodes(_ context.Context, id string, nodes []simapi.Node) error {
	f.mu.Lock()
	delay := f.SyncDelay
	f.mu.Unlock()
	time.Sleep(delay)
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls = append(f.Calls, fmt.Sprintf("sync %s %d", id, len(nodes)))
	f.Nodes[id] = nodes
	return nil
}

func (f *fakeKube) DeletePlane(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls = append(f.Calls, "delete "+id)
	delete(f.Nodes, id)
	return nil
}

func (f *fakeKube) StopPlanes(context.Context) ([]simapi.StoppedPlane, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Calls = append(f.Calls, "stop planes")
	var out []simapi.StoppedPlane
	for id := range f.Nodes {
		out = append(out, simapi.StoppedPlane{ClusterID: id, PIDs: map[string]int{"etcd": 1}})
	}
	return out, nil
}

func (f *fakeKube) nodes(id string) []simapi.Node {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Nodes[id]
}

func (f *fakeKube) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.Calls...)
}

func TestControlPlanesAndSpotFallback(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	kube := newFakeKube()
	kube.NextErr = errors.New("port in use") // the first start fails and is retried
	r := start(t, home, kube)
	ctx := ctxT(t)

	cl, err := r.c.CreateCluster(ctx, cloud.ClusterSpec{Name: "dev", Region: "sim-east-1", Version: "1.31"}, "")
	require.NoError(t, err)
	assert.Equal(t, "https://127.0.0.1:6443", cl.Endpoint)
	assert.Equal(t, "kubeconfig-of-"+cl.ID, cl.Kubeconfig)
	assert.Equal(t, "v1.37.2", cl.KubeVersion)
	assert.Equal(t, "1.31", cl.Version, "the simulated version is not the binary's")

	sp, err := r.c.CreateNodePool(ctx, spot(cl.ID, 4), "")
	require.NoError(t, err)
	fb := spot(cl.ID, 0)
	fb.Name, fb.CapacityType, fb.Taints, fb.MaxSize = "app-fallback", cloud.OnDemand, nil, 3
	fbp, err := r.c.CreateNodePool(ctx, fb, "")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(kube.nodes(cl.ID)) == 4 }, 5*time.Second, 10*time.Millisecond)
	for _, n := range kube.nodes(cl.ID) {
		assert.Equal(t, "spot", n.Labels[cloud.LabelCapacity])
		assert.Equal(t, []cloud.Taint{{Key: "flotilla.io/spot", Value: "true", Effect: "NoSchedule"}}, n.Taints)
	}

	// Spot capacity runs out: the spot pool drops to 0 at once...
	require.NoError(t, r.c.SpotShortage(ctx, "sim-east-1", ""))
	p, err := r.c.GetNodePool(ctx, sp.ID)
	require.NoError(t, err)
	assert.Equal(t, 0, p.ReadyNodes)
	require.NotNil(t, p.ShortageSince)
	// ...and after the provision timeout (60 simulated seconds = 100ms) the fallback
	// covers what its max allows.
	require.Eventually(t, func() bool {
		f, err := r.c.GetNodePool(ctx, fbp.ID)
		return err == nil && f.ReadyNodes == 3 && f.FallbackNodes == 3
	}, 5*time.Second, 10*time.Millisecond)
	assert.False(t, time.Now().Before(p.ShortageSince.Add(100*time.Millisecond)))
	require.Eventually(t, func() bool {
		nodes := kube.nodes(cl.ID)
		return len(nodes) == 3 && nodes[0].Labels[cloud.LabelCapacity] == "on-demand"
	}, 5*time.Second, 10*time.Millisecond)

	// The shortage clears: spot nodes return and the fallback scales back.
	_, err = r.c.ClearFaults(ctx, cloud.FaultFilter{Kind: cloud.FaultSpotShortage})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(kube.nodes(cl.ID)) == 4 }, 5*time.Second, 10*time.Millisecond)
	f, err := r.c.GetNodePool(ctx, fbp.ID)
	require.NoError(t, err)
	assert.Equal(t, 0, f.ReadyNodes)

	// A restarted daemon adopts the planes of existing clusters.
	r.stop()
	before := len(kube.calls())
	r2 := start(t, home, kube)
	require.Eventually(t, func() bool {
		calls := kube.calls()[before:]
		return len(calls) >= 2 && calls[0] == "ensure "+cl.ID && calls[1] == "sync "+cl.ID+" 4"
	}, 5*time.Second, 10*time.Millisecond)

	require.NoError(t, r2.c.DeleteNodePool(ctx, sp.ID))
	require.NoError(t, r2.c.DeleteNodePool(ctx, fbp.ID))
	require.NoError(t, r2.c.DeleteCluster(ctx, cl.ID))
	assert.Contains(t, kube.calls(), "delete "+cl.ID)
}

// TestPoolUpgradeEndsOnceItsNodesAreIn shows that on a cluster with a control plane a
// node pool's upgrade lasts until the plane has its Nodes at the new version, so that
// the cloud's operation history covers the nodes' roll.
func TestPoolUpgradeEndsOnceItsNodesAreIn(t *testing.T) {
	t.Parallel()
	kube := newFakeKube()
	r := start(t, t.TempDir(), kube)
	ctx := ctxT(t)
	cl, err := r.c.CreateCluster(ctx, cloud.ClusterSpec{Name: "dev", Region: "sim-east-1", Version: "1.31"}, "")
	require.NoError(t, err)
	p, err := r.c.CreateNodePool(ctx, spot(cl.ID, 2), "")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		p, err := r.c.GetNodePool(ctx, p.ID)
		return err == nil && p.NodesVersion == "1.31"
	}, 5*time.Second, 10*time.Millisecond, "the daemon records the version of the Nodes it synced")
	_, err = r.c.UpdateCluster(ctx, cl.ID, cloud.ClusterSpec{Version: "1.32"})
	require.NoError(t, err)

	const roll = 400 * time.Millisecond
	kube.mu.Lock()
	kube.SyncDelay = roll
	kube.mu.Unlock()
	spec := p.NodePoolSpec
	spec.Version = "1.32"
	p, err = r.c.UpdateNodePool(ctx, p.ID, spec)
	require.NoError(t, err)
	assert.Equal(t, "1.32", p.Version)
	assert.Equal(t, "1.32", p.NodesVersion)
	assert.Equal(t, cloud.StatusActive, p.Status)
	for _, n := range kube.nodes(cl.ID) {
		assert.Equal(t, "v1.32.0", n.KubeletVersion, n.Name)
		assert.Contains(t, n.Name, "-v1-32-", "the Nodes were replaced, not edited")
	}

	st, err := r.c.State(ctx)
	require.NoError(t, err)
	var op *cloud.Operation
	for _, o := range st.Operations {
		if o.Kind == cloud.OpUpdateNodePool && o.ToVersion == "1.32" {
			op = o
		}
	}
	require.NotNil(t, op)
	assert.Equal(t, cloud.OpDone, op.Status)
	assert.Equal(t, "1.31", op.FromVersion)
	assert.GreaterOrEqual(t, op.Finished.Sub(op.Started), fast.PoolCreate+roll, "the upgrade lasted until the Nodes were in")
}

// TestShutdownStopsThePlanes shows that a daemon asked to stop stops its control planes
// before it lets go of the home, after its workers stopped driving them.
func TestShutdownStopsThePlanes(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	kube := newFakeKube()
	r := start(t, home, kube)
	ctx := ctxT(t)
	cl, err := r.c.CreateCluster(ctx, cloud.ClusterSpec{Name: "dev", Region: "sim-east-1", Version: "1.31"}, "")
	require.NoError(t, err)
	require.Eventually(t, func() bool { return slices.Contains(kube.calls(), "sync "+cl.ID+" 0") }, 5*time.Second, 10*time.Millisecond)

	c, err := client.New(client.Options{Home: home})
	require.NoError(t, err)
	require.NoError(t, c.Shutdown(ctx))
	calls := kube.calls()
	assert.Equal(t, "stop planes", calls[len(calls)-1], "the planes are stopped last, before the home is unlocked: %q", calls)
	lock, err := store.Open(home)
	require.NoError(t, err)
	f, err := lock.Lock()
	require.NoError(t, err, "the home is free once Shutdown returns")
	require.NoError(t, f.Close())
}

func TestRestartResumesOperations(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	r := start(t, home, nil)
	ctx := ctxT(t)
	op := &cloud.Operation{}
	// Start a creation, then stop the daemon before it completes.
	raw, err := client.New(client.Options{Home: home, Addr: r.d.Addr()})
	require.NoError(t, err)
	_ = raw
	st, err := store.Open(home)
	require.NoError(t, err)
	require.NoError(t, r.c.SpotShortage(ctx, "sim-ap-1", ""))
	go func() { _, _ = r.c.CreateCluster(ctx, cloud.ClusterSpec{Name: "dev", Region: "sim-ap-1"}, "tok-r") }()
	require.Eventually(t, func() bool {
		s, err := st.Load()
		return err == nil && len(s.Clusters) == 1
	}, 5*time.Second, 5*time.Millisecond)
	r.stop()
	saved, err := st.Load()
	require.NoError(t, err)
	for _, o := range saved.Operations {
		op = o
	}
	require.Equal(t, cloud.OpCreateCluster, op.Kind)

	r2 := start(t, home, nil)
	done, err := r2.c.Wait(ctx, op)
	require.NoError(t, err)
	assert.Equal(t, cloud.OpDone, done.Status)
	cl, err := r2.c.GetCluster(ctx, "dev")
	require.NoError(t, err)
	assert.Equal(t, cloud.StatusActive, cl.Status)
	s, err := r2.c.State(ctx)
	require.NoError(t, err)
	assert.Equal(t, []cloud.SpotShortage{{Region: "sim-ap-1"}}, s.Faults.SpotShortages)
}

func TestOneDaemonPerHome(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	r := start(t, home, nil)
	_, err := daemon.New(daemon.Options{Home: home})
	require.Error(t, err)
	assert.ErrorIs(t, err, store.ErrLocked)
	assert.Contains(t, err.Error(), r.d.Addr())
}

func TestListensOnLoopbackOnly(t *testing.T) {
	t.Parallel()
	_, err := daemon.New(daemon.Options{Home: t.TempDir(), Addr: "0.0.0.0:0"})
	assert.ErrorContains(t, err, "the simulator listens on loopback only")
}

func TestDriftAndFaultsAreInstant(t *testing.T) {
	t.Parallel()
	r := start(t, t.TempDir(), nil)
	ctx := ctxT(t)
	cl, err := r.c.CreateCluster(ctx, cloud.ClusterSpec{Name: "dev", Region: "sim-eu-1", Version: "1.31"}, "")
	require.NoError(t, err)
	p, err := r.c.CreateNodePool(ctx, spot(cl.ID, 2), "")
	require.NoError(t, err)
	five := 5
	require.NoError(t, r.c.DriftNodePool(ctx, "dev/app-spot", cloud.NodePoolDrift{DesiredSize: &five}))
	p, err = r.c.GetNodePool(ctx, p.ID)
	require.NoError(t, err)
	assert.Equal(t, 5, p.DesiredSize)
	assert.Equal(t, 5, p.ReadyNodes)
	require.NoError(t, r.c.DriftCluster(ctx, "dev", cloud.ClusterDrift{Tags: map[string]string{"owner": "ops"}}))
	cl, err = r.c.GetCluster(ctx, cl.ID)
	require.NoError(t, err)
	assert.Equal(t, map[string]string{"owner": "ops"}, cl.Tags)
	err = r.c.Unoffer(ctx, "sim-eu-1", "1.32")
	require.NoError(t, err)
	_, err = r.c.UpdateCluster(ctx, cl.ID, cloud.ClusterSpec{Version: "1.32"})
	assert.ErrorContains(t, err, "version 1.32 is not offered in sim-eu-1")
	assert.ErrorContains(t, r.c.SpotShortage(ctx, "mars-1", ""), `"mars-1" is not a region`)
}

func TestOfferedVersionsFollowTheUnofferFaults(t *testing.T) {
	t.Parallel()
	r := start(t, t.TempDir(), nil)
	ctx := ctxT(t)

	east, err := r.c.OfferedVersions(ctx, "sim-east-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"1.29", "1.30", "1.31", "1.32", "1.33", "1.34"}, east)
	eu, err := r.c.OfferedVersions(ctx, "sim-eu-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"1.29", "1.30", "1.31", "1.32", "1.33"}, eu, "the newest minor has not reached sim-eu-1")

	require.NoError(t, r.c.Unoffer(ctx, "sim-east-1", "1.32"))
	east, err = r.c.OfferedVersions(ctx, "sim-east-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"1.29", "1.30", "1.31", "1.33", "1.34"}, east)
	eu, err = r.c.OfferedVersions(ctx, "sim-eu-1")
	require.NoError(t, err)
	assert.Contains(t, eu, "1.32", "a fault in one region leaves the others alone")

	for _, v := range []string{"1.29", "1.30", "1.31", "1.33", "1.34"} {
		require.NoError(t, r.c.Unoffer(ctx, "sim-east-1", v))
	}
	east, err = r.c.OfferedVersions(ctx, "sim-east-1")
	require.NoError(t, err)
	assert.NotNil(t, east)
	assert.Empty(t, east)

	_, err = r.c.OfferedVersions(ctx, "mars-1")
	assert.True(t, cloud.IsNotFound(err), "%v", err)
	assert.ErrorContains(t, err, `"mars-1" is not a region of the simulated cloud`)
}

func TestDurationsFromEnv(t *testing.T) {
	t.Setenv(daemon.EnvClusterCreate, "3s")
	t.Setenv(daemon.EnvPoolCreate, "200ms")
	t.Setenv(daemon.EnvTimeScale, "60")
	d, scale, err := daemon.DurationsFromEnv()
	require.NoError(t, err)
	assert.Equal(t, 3*time.Second, d.ClusterCreate)
	assert.Equal(t, time.Second, d.ClusterDelete)
	assert.Equal(t, 200*time.Millisecond, d.PoolCreate)
	assert.Equal(t, 100*time.Millisecond, d.PoolDelete)
	assert.Equal(t, time.Second, d.ClusterUpgrade)
	assert.Equal(t, 60.0, scale)
	t.Setenv(daemon.EnvUpgrade, "soon")
	_, _, err = daemon.DurationsFromEnv()
	assert.ErrorContains(t, err, `FLEETSIM_UPGRADE="soon": use a Go duration such as 1.5s or 200ms`)
}
