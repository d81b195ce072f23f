// Package daemon is the simulated cloud's API server. It owns the cloud's state, serves
// an HTTP/JSON API on loopback to the provider plugin and the sim command, persists every
// committed change before answering, drives simulated time (operations completing, spot
// fallbacks) in a background loop, and runs a control plane per cluster through a
// simapi.Kube.
//
//	d, err := daemon.New(daemon.Options{Home: home})
//	if err != nil { ... }
//	err = d.Serve(ctx) // until ctx is done or a client asks it to shut down
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/simapi"
	"github.com/flotilla-io/flotilla/internal/fleetsim/store"
)

// Options configure a daemon.
type Options struct {
	Home string // the state directory
	Addr string // listen address; default 127.0.0.1:0 (a free port)
	// Kube runs the control planes; nil means lite mode.
	Kube      simapi.Kube
	Durations cloud.Durations // zero means cloud.DefaultDurations()
	TimeScale float64         // zero means cloud.DefaultTimeScale
	Logger    *slog.Logger    // nil logs to stderr
}

// Daemon is a running simulated cloud.
type Daemon struct {
	opts    Options
	store   *store.Store
	lock    *os.File
	log     *slog.Logger
	kube    simapi.Kube
	started time.Time

	mu      sync.Mutex // serialises every change of state
	state   *cloud.State
	changed chan struct{} // closed and replaced by every commit
	planes  map[string]chan struct{}
	rng     *rand.Rand
	// advanced is the time of the last Advance: deadlines up to it have been handled.
	advanced time.Time
	rngKey   [2]float64 // the rate and seed rng was made for

	ln       net.Listener
	ctx      context.Context // cancelled when the daemon stops
	shutdown chan struct{}
	once     sync.Once
	wg       sync.WaitGroup
}

// New opens the home directory, takes its lock and loads the state. It fails when another
// daemon owns the home.
func New(opts Options) (*Daemon, error) {
	if opts.Home == "" {
		return nil, errors.New("fleetsim daemon: no home directory")
	}
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if err := checkLoopback(opts.Addr); err != nil {
		return nil, err
	}
	if opts.Durations == (cloud.Durations{}) {
		opts.Durations = cloud.DefaultDurations()
	}
	if opts.TimeScale <= 0 {
		opts.TimeScale = cloud.DefaultTimeScale
	}
	if opts.Kube == nil {
		opts.Kube = Lite()
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	st, err := store.Open(opts.Home)
	if err != nil {
		return nil, err
	}
	lock, err := st.Lock()
	if err != nil {
		if errors.Is(err, store.ErrLocked) {
			if info, ierr := st.ReadDaemonInfo(); ierr == nil {
				return nil, fmt.Errorf("%w (pid %d at %s)", err, info.PID, info.Addr)
			}
		}
		return nil, err
	}
	state, err := st.Load()
	if err != nil {
		_ = lock.Close()
		return nil, err
	}
	return &Daemon{
		opts: opts, store: st, lock: lock, log: opts.Logger, kube: opts.Kube,
		state: state, changed: make(chan struct{}), planes: map[string]chan struct{}{},
		shutdown: make(chan struct{}),
	}, nil
}

// Addr returns the address the daemon listens on, once Serve has started listening.
func (d *Daemon) Addr() string {
	if d.ln == nil {
		return ""
	}
	return d.ln.Addr().String()
}

// Listen binds the listen address; Serve calls it when it has not been called.
func (d *Daemon) Listen() error {
	if d.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", d.opts.Addr)
	if err != nil {
		return fmt.Errorf("fleetsim daemon: listen on %s: %w", d.opts.Addr, err)
	}
	d.ln = ln
	return nil
}

// Serve runs the daemon until ctx is done or a client asks it to shut down. It records
// itself in daemon.json, brings back the control planes of existing clusters, and
// resumes operations that were running when an earlier daemon stopped. When it returns,
// the control planes it ran are stopped (their data stays) and the home is unlocked.
func (d *Daemon) Serve(ctx context.Context) error {
	defer d.lock.Close()
	if err := d.Listen(); err != nil {
		return err
	}
	d.started = time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	d.ctx = ctx

	srv := &http.Server{Handler: d.routes(), ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	// Bring derived values up to date with the time that passed while no daemon ran.
	if err := d.commit(func(*cloud.State, cloud.Env) error { return nil }); err != nil {
		return err
	}
	d.wg.Add(1)
	go func() { defer d.wg.Done(); d.reconcile(ctx) }()

	info := store.DaemonInfo{Addr: d.Addr(), PID: os.Getpid(), Started: d.started, Version: cloud.Version, Kube: d.kubeMode()}
	if err := d.store.WriteDaemonInfo(info); err != nil {
		return err
	}
	defer d.store.RemoveDaemonInfo(info.PID)
	d.log.Info("fleetsim daemon serving", "addr", info.Addr, "pid", info.PID, "home", d.opts.Home, "kube", info.Kube)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(d.ln) }()
	select {
	case <-ctx.Done():
	case <-d.shutdown:
	case err := <-errc:
		d.Shutdown()
		cancel()
		d.wg.Wait()
		d.stopPlanes()
		return err
	}
	d.log.Info("fleetsim daemon stopping")
	// daemon.json goes before the listener closes, so that a client that no longer gets
	// an answer never finds a file naming this daemon.
	d.store.RemoveDaemonInfo(info.PID)
	d.Shutdown()
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer scancel()
	_ = srv.Shutdown(sctx)
	d.wg.Wait()
	d.stopPlanes()
	if c, ok := d.kube.(io.Closer); ok {
		if err := c.Close(); err != nil {
			d.log.Warn("closing the control-plane runner", "err", err)
		}
	}
	return nil
}

// planeStopTimeout bounds how long a stopping daemon waits for its control planes to exit.
const planeStopTimeout = 2 * time.Minute

// stopPlanes stops every control plane of the home, once no worker drives them any more,
// so that none outlives the daemon. Their data stays; the next daemon restarts them on it.
// Only a daemon that is killed leaves its planes running, for the next one to adopt.
func (d *Daemon) stopPlanes() {
	s, ok := d.kube.(simapi.PlaneStopper)
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), planeStopTimeout)
	defer cancel()
	stopped, err := s.StopPlanes(ctx)
	for _, p := range stopped {
		d.log.Info("stopped control plane", "cluster", p.ClusterID, "pids", p.PIDs)
	}
	if err != nil {
		d.log.Error("stopping control planes", "err", err)
	}
}

// Shutdown asks Serve to return.
func (d *Daemon) Shutdown() { d.once.Do(func() { close(d.shutdown) }) }

func (d *Daemon) kubeMode() string {
	if IsLite(d.kube) {
		return "off"
	}
	return "on"
}

func (d *Daemon) env() cloud.Env {
	return cloud.Env{Now: time.Now(), Durations: d.opts.Durations, TimeScale: d.opts.TimeScale, NewID: cloud.RandomID}
}

// snapshot returns the current state. Committed states are never modified (every change
// works on a copy), so the snapshot may be read without the lock.
func (d *Daemon) snapshot() (*cloud.State, <-chan struct{}) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.state, d.changed
}

// commit applies fn to a copy of the state, advances it to now, writes it to disk and
// only then makes it current. When fn fails nothing changes; the returned channel is
// closed by the next commit, so that a caller may wait for the state to change.
func (d *Daemon) commit(fn func(*cloud.State, cloud.Env) error) error {
	_, err := d.commitWait(fn)
	return err
}

func (d *Daemon) commitWait(fn func(*cloud.State, cloud.Env) error) (<-chan struct{}, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	next := d.state.Clone()
	env := d.env()
	if err := fn(next, env); err != nil {
		return d.changed, err
	}
	next.Advance(env)
	d.advanced = env.Now
	next.Rev = d.state.Rev + 1
	if err := d.store.Save(next); err != nil {
		d.log.Error("persisting state", "err", err)
		return d.changed, cloud.Errorf(cloud.Internal, "the simulated cloud could not persist its state: %v", err)
	}
	d.state = next
	close(d.changed)
	d.changed = make(chan struct{})
	d.startPlanesLocked()
	return d.changed, nil
}

// reconcile drives simulated time: it wakes when an operation's time is up or a
// fallback's provision timeout passes, and commits what changed.
func (d *Daemon) reconcile(ctx context.Context) {
	for {
		d.mu.Lock()
		st, changed, after := d.state, d.changed, d.advanced
		d.mu.Unlock()
		var timer *time.Timer
		var fire <-chan time.Time
		if next := st.NextDue(d.env(), after); !next.IsZero() {
			timer = time.NewTimer(time.Until(next) + time.Millisecond)
			fire = timer.C
		}
		woke := false
		select {
		case <-ctx.Done():
		case <-changed:
		case <-fire:
			woke = true
		}
		if timer != nil {
			timer.Stop()
		}
		if ctx.Err() != nil {
			return
		}
		if !woke {
			continue
		}
		d.mu.Lock()
		next := d.state.Clone()
		env := d.env()
		d.advanced = env.Now
		if next.Advance(env) {
			next.Rev = d.state.Rev + 1
			if err := d.store.Save(next); err != nil {
				d.log.Error("persisting state", "err", err)
			} else {
				d.state = next
				close(d.changed)
				d.changed = make(chan struct{})
				d.startPlanesLocked()
			}
		}
		d.mu.Unlock()
	}
}

// allowRequest draws whether an API request passes the api-errors fault.
func (d *Daemon) allowRequest() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	f := d.state.Faults
	if f.APIErrorRate <= 0 {
		return true
	}
	key := [2]float64{f.APIErrorRate, float64(f.APIErrorSeed)}
	if d.rng == nil || d.rngKey != key {
		d.rng = rand.New(rand.NewSource(f.APIErrorSeed)) //nolint:gosec // a reproducible fault, not a secret
		d.rngKey = key
	}
	return d.rng.Float64() >= f.APIErrorRate
}

// startPlanesLocked starts a control-plane worker for every cluster that has none and
// wakes every worker, so that each syncs its cluster's nodes. d.mu is held.
func (d *Daemon) startPlanesLocked() {
	for id := range d.state.Clusters {
		if _, ok := d.planes[id]; !ok {
			kick := make(chan struct{}, 1)
			d.planes[id] = kick
			d.wg.Add(1)
			go func() { defer d.wg.Done(); d.runPlane(id, kick) }()
		}
	}
	for _, kick := range d.planes {
		select {
		case kick <- struct{}{}:
		default:
		}
	}
}

// runPlane keeps one cluster's control plane in step with the state: it starts (or
// adopts) the plane, syncs its nodes whenever they change, and tears it down when the
// cluster is deleted. It never holds the state lock while the plane works.
func (d *Daemon) runPlane(id string, kick chan struct{}) {
	ctx := d.ctx
	log := d.log.With("cluster", id)
	ensured, synced := false, false
	var last []simapi.Node
	failures := 0
	retry := func(err error, what string) {
		failures++
		log.Warn(what, "err", err, "attempt", failures)
		select {
		case <-d.shutdown:
		case <-time.After(min(time.Duration(failures)*200*time.Millisecond, 5*time.Second)):
		}
	}
	for {
		select {
		case <-d.shutdown:
			return
		default:
		}
		st, _ := d.snapshot()
		c := st.Clusters[id]
		switch {
		case c == nil:
			d.mu.Lock()
			delete(d.planes, id)
			d.mu.Unlock()
			return
		case c.Status == cloud.StatusDeleting && !c.PlaneGone:
			if err := d.kube.DeletePlane(ctx, id); err != nil {
				retry(err, "deleting control plane")
				continue
			}
			failures = 0
			if err := d.commit(func(s *cloud.State, _ cloud.Env) error {
				if c := s.Clusters[id]; c != nil {
					c.PlaneGone, c.PlaneReady = true, false
				}
				return nil
			}); err != nil {
				retry(err, "recording the control plane's deletion")
			}
			continue
		case c.Status == cloud.StatusDeleting:
		case !ensured:
			plane, err := d.kube.EnsurePlane(ctx, id)
			if err != nil {
				if c.Status == cloud.StatusCreating && failures >= 2 {
					_ = d.commit(func(s *cloud.State, _ cloud.Env) error {
						if c := s.Clusters[id]; c != nil && c.Status == cloud.StatusCreating {
							c.PlaneError = err.Error()
						}
						return nil
					})
				}
				retry(err, "starting control plane")
				continue
			}
			failures = 0
			if err := d.recordPlane(id, plane); err != nil {
				retry(err, "recording the control plane")
				continue
			}
			ensured = true
			continue
		default:
			nodes := st.Nodes(id)
			if !synced || !slices.EqualFunc(nodes, last, nodeEqual) {
				if err := d.kube.SyncNodes(ctx, id, nodes); err != nil {
					retry(err, "syncing nodes")
					continue
				}
				failures = 0
				last, synced = nodes, true
			}
			if err := d.recordNodesVersions(st, c); err != nil {
				retry(err, "recording the nodes' versions")
				continue
			}
		}
		select {
		case <-d.shutdown:
			return
		case <-kick:
		}
	}
}

// recordPlane stores how to reach a cluster's plane; in lite mode it stores placeholders.
func (d *Daemon) recordPlane(id string, p simapi.Plane) error {
	return d.commit(func(s *cloud.State, _ cloud.Env) error {
		c := s.Clusters[id]
		if c == nil || c.Status == cloud.StatusDeleting {
			return nil
		}
		if p.Endpoint == "" {
			p.Endpoint, p.Kubeconfig = liteEndpoint(c), liteKubeconfig(c)
		}
		c.Endpoint, c.Kubeconfig, c.KubeVersion = p.Endpoint, p.Kubeconfig, p.BinaryVersion
		c.PlaneReady, c.PlaneError = true, ""
		return nil
	})
}

// recordNodesVersions records, once the Nodes of st have been synced, the version each
// pool's Nodes run now, so that a pool's upgrade ends when its Nodes are at the new
// version (cloud.NodePool.NodesVersion). Lite clusters have no Nodes to record.
func (d *Daemon) recordNodesVersions(st *cloud.State, c *cloud.Cluster) error {
	if c.KubeVersion == "" {
		return nil
	}
	synced := map[string]string{} // pool id -> the version its synced Nodes run
	for _, p := range st.PoolsOf(c.ID) {
		if p.NodesVersion != p.Version {
			synced[p.ID] = p.Version
		}
	}
	if len(synced) == 0 {
		return nil
	}
	return d.commit(func(s *cloud.State, _ cloud.Env) error {
		for id, v := range synced {
			if p := s.Pools[id]; p != nil && p.Version == v {
				p.NodesVersion = v
			}
		}
		return nil
	})
}

func nodeEqual(a, b simapi.Node) bool {
	return a.Name == b.Name && a.MilliCPU == b.MilliCPU && a.MemoryBytes == b.MemoryBytes && a.Pods == b.Pods &&
		a.KubeletVersion == b.KubeletVersion && mapsEqual(a.Labels, b.Labels) && slices.Equal(a.Taints, b.Taints)
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}
