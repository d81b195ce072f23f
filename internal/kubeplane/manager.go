package kubeplane

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/flotilla-io/flotilla/internal/fleetsim/simapi"
)

// Manager runs the control planes of simulated clusters. It implements simapi.Kube.
// Calls for one cluster are serialised; calls for different clusters run in parallel.
type Manager struct {
	home, binDir string
	startTimeout time.Duration
	stopGrace    time.Duration

	mu     sync.Mutex
	locks  map[string]chan struct{}
	planes map[string]*plane

	// portsChosen, when set, is called once a start has chosen the plane's ports and
	// before any component binds them.
	portsChosen func(ports)
}

var _ simapi.Kube = (*Manager)(nil)

// Option configures a Manager.
type Option func(*Manager)

// WithStartTimeout bounds how long EnsurePlane waits for a plane to become ready.
func WithStartTimeout(d time.Duration) Option {
	return func(m *Manager) { m.startTimeout = d }
}

// WithStopGrace sets how long a process may take to exit after SIGTERM before SIGKILL.
func WithStopGrace(d time.Duration) Option {
	return func(m *Manager) { m.stopGrace = d }
}

// New returns a Manager keeping planes under <home>/planes and running the binaries built
// by `make kube` from binDir.
func New(home, binDir string, opts ...Option) *Manager {
	m := &Manager{
		home:         home,
		binDir:       binDir,
		startTimeout: 2 * time.Minute,
		stopGrace:    10 * time.Second,
		locks:        map[string]chan struct{}{},
		planes:       map[string]*plane{},
	}
	for _, o := range opts {
		o(m)
	}
	return m
}

// plane is one cluster's control plane as this Manager knows it.
type plane struct {
	id     string
	dir    string
	state  *planeState
	ca     []byte
	client kubernetes.Interface
	// exited holds, for processes this Manager started, a channel closed at their exit.
	exited map[string]<-chan struct{}
}

var clusterIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,126}$`)

func (m *Manager) dir(clusterID string) (string, error) {
	if !clusterIDPattern.MatchString(clusterID) {
		return "", fmt.Errorf("kubeplane: cluster ID %q: want letters, digits, '.', '_' or '-', starting with a letter or digit", clusterID)
	}
	return filepath.Join(m.home, "planes", clusterID), nil
}

// lock serialises the calls for one cluster, giving up when ctx ends.
func (m *Manager) lock(ctx context.Context, clusterID string) (func(), error) {
	m.mu.Lock()
	l, ok := m.locks[clusterID]
	if !ok {
		l = make(chan struct{}, 1)
		m.locks[clusterID] = l
	}
	m.mu.Unlock()
	select {
	case l <- struct{}{}:
		return func() { <-l }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("kubeplane: %s: waiting for another operation on the plane: %w", clusterID, ctx.Err())
	}
}

func (m *Manager) binary(component string) string {
	return filepath.Join(m.binDir, component)
}

// checkBinaries fails with what to do when `make kube` has not been run.
func (m *Manager) checkBinaries() error {
	var missing []string
	for _, c := range slices.Concat(components, []string{stagesFile}) {
		if _, err := os.Stat(m.binary(c)); err != nil {
			missing = append(missing, c)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("kubeplane: %s missing from %s: run `make kube` to build the local control plane",
			strings.Join(missing, ", "), m.binDir)
	}
	return nil
}

// EnsurePlane starts the cluster's control plane, or adopts it when all its processes are
// alive and healthy, and returns how to reach it. A plane with a dead or unhealthy
// process is restarted on its existing data.
func (m *Manager) EnsurePlane(ctx context.Context, clusterID string) (simapi.Plane, error) {
	dir, err := m.dir(clusterID)
	if err != nil {
		return simapi.Plane{}, err
	}
	if err := m.checkBinaries(); err != nil {
		return simapi.Plane{}, err
	}
	unlock, err := m.lock(ctx, clusterID)
	if err != nil {
		return simapi.Plane{}, err
	}
	defer unlock()

	p, err := m.load(clusterID, dir)
	if err != nil {
		return simapi.Plane{}, fmt.Errorf("kubeplane: %s: %w", clusterID, err)
	}
	if p == nil {
		if p, err = m.create(clusterID, dir); err != nil {
			return simapi.Plane{}, fmt.Errorf("kubeplane: %s: %w", clusterID, err)
		}
	}
	if !m.adopt(ctx, p) {
		if err := m.startFresh(ctx, p); err != nil {
			return simapi.Plane{}, fmt.Errorf("kubeplane: %s: %w", clusterID, err)
		}
	}
	m.mu.Lock()
	m.planes[clusterID] = p
	m.mu.Unlock()
	return p.public()
}

func (p *plane) endpoint() string {
	return loopbackURL("https", p.state.Ports.APIServer)
}

func (p *plane) public() (simapi.Plane, error) {
	kc, err := kubeconfig(p.id, p.endpoint(), p.state.Token, p.ca)
	if err != nil {
		return simapi.Plane{}, fmt.Errorf("kubeplane: %s: %w", p.id, err)
	}
	return simapi.Plane{
		Endpoint:      p.endpoint(),
		Kubeconfig:    kc,
		BinaryVersion: p.state.BinaryVersion,
		PIDs:          maps.Clone(p.state.PIDs),
	}, nil
}

// load returns the plane recorded in dir, or nil when there is none. The state file is
// the truth; what this Manager remembers of the plane (its client, and the exit channels
// of processes it started) is reused while the file still says the same.
func (m *Manager) load(clusterID, dir string) (*plane, error) {
	st, err := readState(dir)
	m.mu.Lock()
	cached := m.planes[clusterID]
	if st == nil && err == nil {
		delete(m.planes, clusterID)
	}
	m.mu.Unlock()
	if err != nil || st == nil {
		return nil, err
	}
	if cached != nil && reflect.DeepEqual(cached.state, st) {
		return cached, nil
	}
	p := &plane{id: clusterID, dir: dir, state: st, exited: map[string]<-chan struct{}{}}
	if cached != nil {
		for c, ch := range cached.exited {
			if cached.state.PIDs[c] == st.PIDs[c] {
				p.exited[c] = ch
			}
		}
	}
	if ca, err := os.ReadFile(p.path("ca.crt")); err == nil {
		p.ca = ca
		if err := p.connect(); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// create lays out a new plane's directory, with fresh ports and credentials.
func (m *Manager) create(clusterID, dir string) (*plane, error) {
	if err := os.MkdirAll(filepath.Join(dir, "logs"), 0o755); err != nil {
		return nil, err
	}
	token, err := newToken()
	if err != nil {
		return nil, err
	}
	p := &plane{
		id:     clusterID,
		dir:    dir,
		state:  &planeState{ClusterID: clusterID, Token: token, PIDs: map[string]int{}},
		exited: map[string]<-chan struct{}{},
	}
	if err := m.assignPorts(p); err != nil {
		return nil, err
	}
	return p, writeState(dir, p.state)
}

// assignPorts gives the plane a free port wherever it has none or its port is now taken.
func (m *Manager) assignPorts(p *plane) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	taken := map[int]bool{}
	for id, other := range m.planes {
		if id != p.id {
			for _, port := range other.state.Ports.list() {
				taken[port] = true
			}
		}
	}
	pt := &p.state.Ports
	for _, port := range []*int{&pt.Etcd, &pt.EtcdPeer, &pt.APIServer, &pt.Scheduler, &pt.ControllerManager, &pt.Kwok} {
		if *port != 0 && !taken[*port] && portFree(*port) {
			taken[*port] = true
			continue
		}
		free, err := freePort(taken)
		if err != nil {
			return err
		}
		*port = free
	}
	return nil
}

// adopt reports whether every process of the plane is alive, is the plane's own, and
// answers its health check within a few seconds.
func (m *Manager) adopt(ctx context.Context, p *plane) bool {
	if p.client == nil {
		return false
	}
	for _, c := range components {
		if !ownedBy(p.state.PIDs[c], c, p.dir) {
			return false
		}
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for _, c := range components {
		for p.probe(ctx, c) != nil {
			select {
			case <-ctx.Done():
				return false
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return true
}

// start (re)starts every process of the plane on its data directory. Processes of the
// plane still running are stopped first. On failure, what was started is stopped again
// and the error carries the failing component's log tail.
func (m *Manager) start(ctx context.Context, p *plane) (err error) {
	if err := m.stopAll(ctx, p); err != nil {
		return err
	}
	if err := m.assignPorts(p); err != nil {
		return err
	}
	if m.portsChosen != nil {
		m.portsChosen(p.state.Ports)
	}
	if err := writeCredentials(p.dir, p.state.Token); err != nil {
		return err
	}
	stages, err := os.ReadFile(m.binary(stagesFile))
	if err != nil {
		return err
	}
	if err := writeFileAtomic(p.path(stagesFile), withOwnStages(stages), 0o644); err != nil {
		return err
	}
	if err := os.MkdirAll(p.path("logs"), 0o755); err != nil {
		return err
	}
	p.client = nil
	if err := writeState(p.dir, p.state); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = m.stopAll(context.WithoutCancel(ctx), p)
		}
	}()

	deadline := time.Now().Add(m.startTimeout)
	for _, c := range []string{etcd, apiServer} {
		if err := m.startComponent(p, c); err != nil {
			return err
		}
		if err := m.waitReady(ctx, p, c, deadline); err != nil {
			return err
		}
	}
	if err := m.afterAPIServer(p); err != nil {
		return err
	}
	for _, c := range clientSide {
		if err := m.startComponent(p, c); err != nil {
			return err
		}
	}
	for _, c := range clientSide {
		if err := m.waitReady(ctx, p, c, deadline); err != nil {
			return err
		}
	}
	return nil
}

// portAttempts bounds how often a plane is started again on new ports when one of its
// ports was taken between being chosen and being bound.
const portAttempts = 4

// startFresh starts the plane, and starts it again on new ports when a component could
// not bind one: a port is free when it is chosen, but another process on the machine
// may bind it before the component does.
func (m *Manager) startFresh(ctx context.Context, p *plane) error {
	var err error
	for range portAttempts {
		if err = m.start(ctx, p); err == nil || !strings.Contains(err.Error(), "address already in use") {
			return err
		}
		p.state.Ports = ports{}
	}
	return fmt.Errorf("every port tried was taken (%d attempts): %w", portAttempts, err)
}

// afterAPIServer extracts the CA the API server generated, writes the kubeconfig its
// clients use, and records the binary's version.
func (m *Manager) afterAPIServer(p *plane) error {
	ca, err := extractCA(p.path("certs", "apiserver.crt"))
	if err != nil {
		return err
	}
	p.ca = ca
	if err := writeFileAtomic(p.path("ca.crt"), ca, 0o644); err != nil {
		return err
	}
	kc, err := kubeconfig(p.id, p.endpoint(), p.state.Token, ca)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(p.path("kubeconfig"), []byte(kc), 0o600); err != nil {
		return err
	}
	if err := p.connect(); err != nil {
		return err
	}
	v, err := p.client.Discovery().ServerVersion()
	if err != nil {
		return fmt.Errorf("reading the API server's version: %w", err)
	}
	p.state.BinaryVersion = v.GitVersion
	return writeState(p.dir, p.state)
}

// connect builds the plane's client-go client from its endpoint, CA and token.
func (p *plane) connect() error {
	cs, err := kubernetes.NewForConfig(p.restConfig())
	if err != nil {
		return err
	}
	p.client = cs
	return nil
}

func (p *plane) restConfig() *rest.Config {
	return &rest.Config{
		Host:            p.endpoint(),
		BearerToken:     p.state.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: p.ca},
		QPS:             100,
		Burst:           200,
		Timeout:         30 * time.Second,
	}
}

func (m *Manager) startComponent(p *plane, c string) error {
	pid, exited, err := startProcess(m.binary(c), p.args(c), p.dir, p.logFile(c))
	if err != nil {
		return fmt.Errorf("starting %s: %w", c, err)
	}
	p.state.PIDs[c] = pid
	p.exited[c] = exited
	return writeState(p.dir, p.state)
}

// waitReady polls a component's health until it answers, it exits, or deadline passes.
func (m *Manager) waitReady(ctx context.Context, p *plane, c string, deadline time.Time) error {
	ctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()
	var last error
	for {
		if last = p.probe(ctx, c); last == nil {
			return nil
		}
		select {
		case <-p.exited[c]:
			return fmt.Errorf("%s exited while starting; last lines of %s:\n%s", c, p.logFile(c), tail(p.logFile(c), 20))
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s (%w); last lines of %s:\n%s",
				c, m.startTimeout, last, p.logFile(c), tail(p.logFile(c), 20))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stopAll stops the plane's recorded processes by PID: the API server's clients first,
// then the API server, then etcd, since an API server whose etcd is gone hangs on
// SIGTERM. A PID that now belongs to some other process is left alone.
func (m *Manager) stopAll(ctx context.Context, p *plane) error {
	var errs []error
	for _, stage := range [][]string{clientSide, {apiServer}, {etcd}} {
		var (
			wg sync.WaitGroup
			mu sync.Mutex
		)
		for _, c := range stage {
			pid := p.state.PIDs[c]
			if !ownedBy(pid, c, p.dir) {
				continue
			}
			exited := p.exited[c]
			wg.Go(func() {
				err := stopProcess(ctx, pid, m.stopGrace)
				if err == nil && exited != nil {
					// Our own child: wait until it is reaped, so its PID is really gone.
					select {
					case <-exited:
					case <-time.After(5 * time.Second):
					}
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("stopping %s: %w", c, err))
					mu.Unlock()
				}
			})
		}
		wg.Wait()
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	clear(p.state.PIDs)
	clear(p.exited)
	if _, err := os.Stat(p.dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return writeState(p.dir, p.state)
}

// DeletePlane stops the plane's processes by PID, waits for them to exit, and removes
// its directory. Deleting a plane that does not exist is not an error.
func (m *Manager) DeletePlane(ctx context.Context, clusterID string) error {
	dir, err := m.dir(clusterID)
	if err != nil {
		return err
	}
	unlock, err := m.lock(ctx, clusterID)
	if err != nil {
		return err
	}
	defer unlock()
	p, err := m.load(clusterID, dir)
	if err != nil {
		return fmt.Errorf("kubeplane: %s: %w", clusterID, err)
	}
	if p != nil {
		if err := m.stopAll(ctx, p); err != nil {
			return fmt.Errorf("kubeplane: %s: %w", clusterID, err)
		}
	}
	m.mu.Lock()
	delete(m.planes, clusterID)
	m.mu.Unlock()
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("kubeplane: %s: removing its data: %w", clusterID, err)
	}
	return nil
}

// RSS returns the resident memory of each running process of the plane, in bytes.
func (m *Manager) RSS(clusterID string) (map[string]int64, error) {
	dir, err := m.dir(clusterID)
	if err != nil {
		return nil, err
	}
	st, err := readState(dir)
	if err != nil {
		return nil, err
	}
	if st == nil {
		return nil, fmt.Errorf("kubeplane: %s: no such plane", clusterID)
	}
	out := map[string]int64{}
	for c, pid := range st.PIDs {
		if !ownedBy(pid, c, dir) {
			continue
		}
		rss, err := rssBytes(pid)
		if err != nil {
			return nil, fmt.Errorf("kubeplane: %s: %s: %w", clusterID, c, err)
		}
		out[c] = rss
	}
	return out, nil
}

// client returns a client of the cluster's running plane.
func (m *Manager) client(clusterID string) (kubernetes.Interface, error) {
	dir, err := m.dir(clusterID)
	if err != nil {
		return nil, err
	}
	p, err := m.load(clusterID, dir)
	if err != nil {
		return nil, fmt.Errorf("kubeplane: %s: %w", clusterID, err)
	}
	if p == nil || p.client == nil {
		return nil, fmt.Errorf("kubeplane: %s: the plane is not running: call EnsurePlane first", clusterID)
	}
	return p.client, nil
}
