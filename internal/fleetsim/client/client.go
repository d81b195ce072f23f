// Package client is the Go client of the fleetsim daemon, used by the provider plugin,
// the sim command and tests. It finds the daemon through $FLEETSIM_ADDR or the home's
// daemon.json, starts one on demand, retries what a real cloud's SDK retries (throttling,
// a busy cluster, a daemon restarting), and waits for long-running operations.
//
//	c, err := client.FromEnv()
//	cl, err := c.CreateCluster(ctx, cloud.ClusterSpec{Name: "dev", Region: "sim-east-1"}, "token-1")
//	fmt.Println(cl.Status, cl.Endpoint)
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/store"
)

// EnvAddr names the variable that points clients at a daemon, e.g. 127.0.0.1:7070.
const EnvAddr = "FLEETSIM_ADDR"

// DefaultAttempts is how many times a throttled request is tried before the error is
// returned, as cloud SDKs do.
const DefaultAttempts = 4

// Options configure a Client.
type Options struct {
	// Home is the daemon's state directory; empty means store.ResolveHome().
	Home string
	// Addr is a fixed daemon address. When empty, $FLEETSIM_ADDR, then the home's
	// daemon.json, are used.
	Addr string
	// AutoStart starts a daemon when none answers (never with a fixed Addr).
	AutoStart bool
	// DaemonCommand is the command line that runs a daemon in the foreground; "--home
	// <home>" is appended. Empty means DefaultDaemonCommand().
	DaemonCommand []string
	// Attempts bounds the tries of a throttled request; 0 means DefaultAttempts.
	Attempts int
	// Backoff is the first retry delay, doubled on every retry; 0 means 50ms.
	Backoff time.Duration
}

// Client talks to one daemon.
type Client struct {
	opts Options
	http *http.Client

	mu   sync.Mutex
	addr string // the daemon's address, once found
}

// New returns a client. It does not contact the daemon.
func New(opts Options) (*Client, error) {
	if opts.Home == "" {
		h, err := store.ResolveHome()
		if err != nil {
			return nil, err
		}
		opts.Home = h
	}
	if opts.Addr == "" {
		opts.Addr = os.Getenv(EnvAddr)
	}
	if opts.Attempts <= 0 {
		opts.Attempts = DefaultAttempts
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 50 * time.Millisecond
	}
	return &Client{opts: opts, http: &http.Client{}}, nil
}

// FromEnv returns a client configured by FLEETSIM_HOME and FLEETSIM_ADDR that starts a
// daemon on demand when FLEETSIM_ADDR is not set.
func FromEnv() (*Client, error) {
	return New(Options{AutoStart: os.Getenv(EnvAddr) == ""})
}

// Home returns the daemon's state directory.
func (c *Client) Home() string { return c.opts.Home }

// Health asks the daemon to describe itself, starting one if the client may.
func (c *Client) Health(ctx context.Context) (cloud.Health, error) {
	var h cloud.Health
	err := c.do(ctx, http.MethodGet, "/v1/health", nil, &h)
	return h, err
}

// Running reports the daemon's health when one answers, without starting one.
func (c *Client) Running(ctx context.Context) (cloud.Health, bool) {
	addr := c.opts.Addr
	if addr == "" {
		st, err := store.Open(c.opts.Home)
		if err != nil {
			return cloud.Health{}, false
		}
		info, err := st.ReadDaemonInfo()
		if err != nil {
			return cloud.Health{}, false
		}
		addr = info.Addr
	}
	h, err := c.probe(ctx, addr)
	return h, err == nil
}

// State returns the whole simulated cloud: clusters, pools, operations and faults.
func (c *Client) State(ctx context.Context) (*cloud.State, error) {
	st := cloud.NewState()
	if err := c.do(ctx, http.MethodGet, "/v1/state", nil, st); err != nil {
		return nil, err
	}
	st.Normalize()
	return st, nil
}

// Shutdown asks the daemon to stop and waits until it no longer answers.
func (c *Client) Shutdown(ctx context.Context) error {
	addr, err := c.find(ctx, false)
	if err != nil {
		return err
	}
	if err := c.call(ctx, addr, http.MethodPost, "/v1/shutdown", nil, nil); err != nil {
		return err
	}
	c.forget()
	for {
		if _, err := c.probe(ctx, addr); err != nil && c.homeUnlocked() {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("fleetsim daemon at %s did not stop: %w", addr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// homeUnlocked reports whether no daemon holds the home's lock any more, so that a
// daemon started next can take it. A client of a fixed address does not know the
// daemon's home and does not wait for it.
func (c *Client) homeUnlocked() bool {
	if c.opts.Addr != "" {
		return true
	}
	st, err := store.Open(c.opts.Home)
	if err != nil {
		return true
	}
	f, err := st.Lock()
	if err != nil {
		return !errors.Is(err, store.ErrLocked)
	}
	_ = f.Close()
	return true
}

// Wait polls a long-running operation until it finishes; a failed operation returns
// its error.
func (c *Client) Wait(ctx context.Context, op *cloud.Operation) (*cloud.Operation, error) {
	for !op.Done() {
		next := &cloud.Operation{}
		if err := c.do(ctx, http.MethodGet, "/v1/operations/"+url.PathEscape(op.ID)+"?wait=10s", nil, next); err != nil {
			return op, err
		}
		op = next
	}
	if op.Status == cloud.OpFailed && op.Error != nil {
		return op, op.Error
	}
	return op, nil
}

// CreateCluster creates a cluster and waits until it is ACTIVE. A repeated token makes
// the call idempotent, so that retries never create a second cluster.
func (c *Client) CreateCluster(ctx context.Context, spec cloud.ClusterSpec, token string) (*cloud.Cluster, error) {
	op := &cloud.Operation{}
	if err := c.do(ctx, http.MethodPost, "/v1/clusters", cloud.CreateClusterRequest{Spec: spec, Token: token}, op); err != nil {
		return nil, err
	}
	if _, err := c.Wait(ctx, op); err != nil {
		return nil, err
	}
	return c.GetCluster(ctx, op.Target)
}

// GetCluster returns a cluster by id, "<region>/<name>" or unique name.
func (c *Client) GetCluster(ctx context.Context, ref string) (*cloud.Cluster, error) {
	cl := &cloud.Cluster{}
	if err := c.do(ctx, http.MethodGet, "/v1/clusters/"+ref, nil, cl); err != nil {
		return nil, err
	}
	return cl, nil
}

// ListClusters returns every cluster, ordered by region and name.
func (c *Client) ListClusters(ctx context.Context) ([]*cloud.Cluster, error) {
	var out []*cloud.Cluster
	err := c.do(ctx, http.MethodGet, "/v1/clusters", nil, &out)
	return out, err
}

// UpdateCluster moves a cluster to spec (see cloud.State.UpdateCluster) and waits for
// the change, e.g. an upgrade, to complete.
func (c *Client) UpdateCluster(ctx context.Context, id string, spec cloud.ClusterSpec) (*cloud.Cluster, error) {
	op := &cloud.Operation{}
	if err := c.do(ctx, http.MethodPut, "/v1/clusters/"+url.PathEscape(id), spec, op); err != nil {
		return nil, err
	}
	if _, err := c.Wait(ctx, op); err != nil {
		return nil, err
	}
	return c.GetCluster(ctx, id)
}

// DeleteCluster deletes a cluster and waits until it is gone. A cluster that does not
// exist counts as deleted.
func (c *Client) DeleteCluster(ctx context.Context, id string) error {
	op := &cloud.Operation{}
	if err := c.do(ctx, http.MethodDelete, "/v1/clusters/"+url.PathEscape(id), nil, op); err != nil {
		if cloud.IsNotFound(err) {
			return nil
		}
		return err
	}
	_, err := c.Wait(ctx, op)
	return err
}

// CreateNodePool creates a node pool and waits until it is ACTIVE.
func (c *Client) CreateNodePool(ctx context.Context, spec cloud.NodePoolSpec, token string) (*cloud.NodePool, error) {
	op := &cloud.Operation{}
	if err := c.do(ctx, http.MethodPost, "/v1/pools", cloud.CreateNodePoolRequest{Spec: spec, Token: token}, op); err != nil {
		return nil, err
	}
	if _, err := c.Wait(ctx, op); err != nil {
		return nil, err
	}
	return c.GetNodePool(ctx, op.Target)
}

// GetNodePool returns a node pool by id or "<cluster>/<pool>".
func (c *Client) GetNodePool(ctx context.Context, ref string) (*cloud.NodePool, error) {
	p := &cloud.NodePool{}
	if err := c.do(ctx, http.MethodGet, "/v1/pools/"+ref, nil, p); err != nil {
		return nil, err
	}
	return p, nil
}

// ListNodePools returns the pools of a cluster (any reference), or every pool when
// cluster is empty.
func (c *Client) ListNodePools(ctx context.Context, cluster string) ([]*cloud.NodePool, error) {
	path := "/v1/pools"
	if cluster != "" {
		path += "?cluster=" + url.QueryEscape(cluster)
	}
	var out []*cloud.NodePool
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out, err
}

// UpdateNodePool moves a node pool to spec and waits for the change to complete.
func (c *Client) UpdateNodePool(ctx context.Context, id string, spec cloud.NodePoolSpec) (*cloud.NodePool, error) {
	op := &cloud.Operation{}
	if err := c.do(ctx, http.MethodPut, "/v1/pools/"+url.PathEscape(id), spec, op); err != nil {
		return nil, err
	}
	if _, err := c.Wait(ctx, op); err != nil {
		return nil, err
	}
	return c.GetNodePool(ctx, id)
}

// DeleteNodePool deletes a node pool and waits until it is gone. A pool that does not
// exist counts as deleted.
func (c *Client) DeleteNodePool(ctx context.Context, id string) error {
	op := &cloud.Operation{}
	if err := c.do(ctx, http.MethodDelete, "/v1/pools/"+url.PathEscape(id), nil, op); err != nil {
		if cloud.IsNotFound(err) {
			return nil
		}
		return err
	}
	_, err := c.Wait(ctx, op)
	return err
}

// OfferedVersions returns the Kubernetes minors region offers now, oldest first, with
// the unoffer faults in force taken into account.
func (c *Client) OfferedVersions(ctx context.Context, region string) ([]string, error) {
	var resp cloud.OfferedVersionsResponse
	if err := c.do(ctx, http.MethodGet, "/v1/regions/"+url.PathEscape(region)+"/versions", nil, &resp); err != nil {
		return nil, err
	}
	return resp.Versions, nil
}

// SpotShortage injects a spot shortage in region, or in one zone of it.
func (c *Client) SpotShortage(ctx context.Context, region, zone string) error {
	return c.do(ctx, http.MethodPost, "/v1/faults/spot-shortage", cloud.SpotShortage{Region: region, Zone: zone}, nil)
}

// UpgradeFailure makes every control-plane upgrade of a cluster (name or id) fail.
func (c *Client) UpgradeFailure(ctx context.Context, cluster string) error {
	return c.do(ctx, http.MethodPost, "/v1/faults/upgrade-failure", cloud.UpgradeFailureRequest{Cluster: cluster}, nil)
}

// APIErrors makes a fraction rate of API requests fail with throttling errors.
func (c *Client) APIErrors(ctx context.Context, rate float64, seed int64) error {
	return c.do(ctx, http.MethodPost, "/v1/faults/api-errors", cloud.APIErrorsRequest{Rate: rate, Seed: seed}, nil)
}

// Unoffer makes region stop offering a version.
func (c *Client) Unoffer(ctx context.Context, region, version string) error {
	return c.do(ctx, http.MethodPost, "/v1/faults/unoffer", cloud.Unoffered{Region: region, Version: version}, nil)
}

// ClearFaults removes the faults f selects (every fault for a zero filter) and returns
// how many it removed.
func (c *Client) ClearFaults(ctx context.Context, f cloud.FaultFilter) (int, error) {
	var resp cloud.ClearFaultsResponse
	err := c.do(ctx, http.MethodPost, "/v1/faults/clear", f, &resp)
	return resp.Cleared, err
}

// DriftCluster changes a cluster out of band, as someone using the cloud's console.
func (c *Client) DriftCluster(ctx context.Context, ref string, d cloud.ClusterDrift) error {
	return c.do(ctx, http.MethodPost, "/v1/drift/clusters/"+ref, d, nil)
}

// DriftNodePool changes a node pool (id or "<cluster>/<pool>") out of band.
func (c *Client) DriftNodePool(ctx context.Context, ref string, d cloud.NodePoolDrift) error {
	return c.do(ctx, http.MethodPost, "/v1/drift/pools/"+ref, d, nil)
}

// do sends a request to the daemon, finding or starting it first, and retries what is
// transient: throttling (a few attempts), a busy cluster (until ctx ends) and a daemon
// that is restarting (a few seconds).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	throttled := 0
	var downSince time.Time
	for {
		addr, err := c.find(ctx, c.opts.AutoStart)
		if err == nil {
			err = c.call(ctx, addr, method, path, in, out)
		}
		switch {
		case err == nil:
			return nil
		case ctx.Err() != nil:
			return err
		case cloud.IsThrottling(err):
			throttled++
			if throttled >= c.opts.Attempts {
				return &cloud.Error{Code: cloud.Throttling, Message: fmt.Sprintf("%s (gave up after %d attempts)", err.Error(), throttled)}
			}
			if !sleep(ctx, c.opts.Backoff<<(throttled-1)) {
				return err
			}
		case cloud.IsResourceInUse(err):
			if !sleep(ctx, 100*time.Millisecond) {
				return err
			}
		case isUnreachable(err):
			c.forget()
			if downSince.IsZero() {
				downSince = time.Now()
			}
			if time.Since(downSince) > 10*time.Second {
				return err
			}
			if !sleep(ctx, 100*time.Millisecond) {
				return err
			}
		default:
			return err
		}
	}
}

// unreachableError says no daemon answered at an address.
type unreachableError struct {
	addr string
	err  error
}

func (e *unreachableError) Error() string {
	return fmt.Sprintf("the fleetsim daemon at %s does not answer: %v", e.addr, e.err)
}
func (e *unreachableError) Unwrap() error { return e.err }

func isUnreachable(err error) bool {
	var u *unreachableError
	return errors.As(err, &u)
}

// ErrNotRunning is returned when no daemon answers and the client may not start one.
var ErrNotRunning = errors.New("no fleetsim daemon is running (start one with `flotilla sim start`)")

// call sends one request to addr.
func (c *Client) call(ctx context.Context, addr, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+addr+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &unreachableError{addr: addr, err: err}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return &unreachableError{addr: addr, err: err}
	}
	if resp.StatusCode >= 400 {
		var er cloud.ErrorResponse
		if json.Unmarshal(b, &er) == nil && er.Error != nil {
			return er.Error
		}
		return cloud.Errorf(cloud.Internal, "fleetsim daemon: %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("fleetsim daemon: %s %s: decoding the answer: %w", method, path, err)
		}
	}
	return nil
}

func (c *Client) forget() {
	c.mu.Lock()
	c.addr = ""
	c.mu.Unlock()
}

// find returns the address of a daemon that answers, starting one when allowed.
func (c *Client) find(ctx context.Context, start bool) (string, error) {
	c.mu.Lock()
	addr := c.addr
	c.mu.Unlock()
	if addr != "" {
		return addr, nil
	}
	if c.opts.Addr != "" {
		if _, err := c.probe(ctx, c.opts.Addr); err != nil {
			return "", err
		}
		c.remember(c.opts.Addr)
		return c.opts.Addr, nil
	}
	if h, ok := c.Running(ctx); ok {
		c.remember(h.Addr)
		return h.Addr, nil
	}
	if !start {
		return "", fmt.Errorf("%w (home %s)", ErrNotRunning, c.opts.Home)
	}
	h, err := c.startDaemon(ctx)
	if err != nil {
		return "", err
	}
	c.remember(h.Addr)
	return h.Addr, nil
}

func (c *Client) remember(addr string) {
	c.mu.Lock()
	c.addr = addr
	c.mu.Unlock()
}

// probe checks that a daemon answers at addr.
func (c *Client) probe(ctx context.Context, addr string) (cloud.Health, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var h cloud.Health
	if err := c.call(ctx, addr, http.MethodGet, "/v1/health", nil, &h); err != nil {
		if _, ok := errors.AsType[*cloud.Error](err); ok {
			return h, err
		}
		return h, &unreachableError{addr: addr, err: err}
	}
	return h, nil
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
