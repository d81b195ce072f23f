// Package simcloud adapts the deploy program to fleetsim, the local cloud simulator:
// health read from the simulated cloud and, where a cluster has a real control plane,
// through its Kubernetes API; and pending creates found in the simulated cloud, so that
// a resumed run adopts what a killed one created; and, on a simulator that runs lite,
// stack operations that run every stack lite (LiteStacks: the stack config
// fleetsim:kube "off", since a stack's mode is never its environment's).
//
//	c, err := client.FromEnv()
//	d, err := automation.New(
//		automation.WithHealth(simcloud.NewHealth(c)),
//		automation.WithPendingResolver(simcloud.NewPendingResolver(c)),
//	)
package simcloud

import (
	"context"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
)

// DefaultSettle is how long a cluster whose nodes are still coming up (a pool being
// resized, a fallback taking over a spot shortage) may take to become healthy before
// the reading counts as unhealthy. A cluster that is gone, or whose control plane does
// not answer, is never waited for.
const DefaultSettle = 10 * time.Second

// Option configures the health checker.
type Option func(*Health)

// WithSettle sets how long, and how often, an unhealthy reading is taken again.
func WithSettle(d, interval time.Duration) Option {
	return func(h *Health) { h.settle, h.interval = d, interval }
}

// WithKubeHealth sets the checker of clusters with a Kubernetes API; its pools come
// from the simulated cloud whatever its own PoolSource says.
func WithKubeHealth(k *automation.KubeHealth) Option { return func(h *Health) { h.kube = k } }

// Health is the health checker of a fleet on the simulator. A cluster with a real
// control plane (kube mode) is read through its Kubernetes API, against the pools'
// desired sizes the simulated cloud holds; a cluster without one (lite mode) is read
// from the cloud's own pool status. Either way the cluster must be ACTIVE in the cloud
// with its control plane ready.
type Health struct {
	c        *client.Client
	kube     *automation.KubeHealth
	settle   time.Duration
	interval time.Duration
}

// NewHealth returns the health checker for --sim.
func NewHealth(c *client.Client, opts ...Option) *Health {
	h := &Health{c: c, kube: automation.NewKubeHealth(), settle: DefaultSettle, interval: 250 * time.Millisecond}
	for _, o := range opts {
		o(h)
	}
	if h.interval <= 0 {
		h.interval = 250 * time.Millisecond
	}
	return h
}

// Check reads every cluster of the stack's outputs fresh.
//
// Without a "kubeconfigs" output (the public outputs of an unchanged stack), it takes
// the clusters from the "clusters" output and each one's credentials from the
// simulated cloud, as `aws eks update-kubeconfig` takes them from EKS.
func (h *Health) Check(ctx context.Context, s automation.StackRef, outputs automation.Outputs) (automation.HealthReport, error) {
	kubeconfigs, err := automation.Kubeconfigs(outputs)
	if err != nil {
		all, ok := outputs["clusters"].Value.(map[string]any)
		if !ok {
			return automation.HealthReport{}, err
		}
		kubeconfigs = map[string]string{}
		for name := range all {
			kubeconfigs[name] = "" // from the cloud, in readCluster
		}
	}
	names := make([]string, 0, len(kubeconfigs))
	for n := range kubeconfigs {
		names = append(names, n)
	}
	sort.Strings(names)

	rep := automation.HealthReport{Stack: s, Checked: time.Now()}
	deadline := rep.Checked.Add(h.settle)
	for _, name := range names {
		ch, err := h.checkCluster(ctx, deadline, name, kubeconfigs[name], outputs)
		if err != nil {
			return automation.HealthReport{}, fmt.Errorf("%s: %w", s, err)
		}
		rep.Clusters = append(rep.Clusters, ch)
	}
	return rep, nil
}

// checkCluster reads one cluster until it is healthy, it cannot become so by waiting,
// or deadline has passed. A kube-mode cluster still unhealthy then says why: the
// diagnosis of its Kubernetes API (automation.KubeHealth.Explain).
func (h *Health) checkCluster(ctx context.Context, deadline time.Time, name, kubeconfig string, outputs automation.Outputs) (automation.ClusterHealth, error) {
	for {
		ch, final, explain, err := h.readCluster(ctx, name, kubeconfig, outputs)
		if err != nil || len(ch.Problems) == 0 || final || !time.Now().Before(deadline) {
			if err == nil && len(ch.Problems) > 0 && explain != nil {
				explain(&ch)
			}
			return ch, err
		}
		select {
		case <-ctx.Done():
			return ch, ctx.Err()
		case <-time.After(h.interval):
		}
	}
}

// readCluster takes one reading of a cluster. final says that waiting would not help:
// the cluster is gone, or its control plane is down. explain, set for a cluster whose
// Kubernetes API answered, adds the diagnosis's causes to an unhealthy reading.
func (h *Health) readCluster(ctx context.Context, name, kubeconfig string, outputs automation.Outputs) (ch automation.ClusterHealth, final bool, explain func(*automation.ClusterHealth), err error) {
	st, err := h.c.State(ctx)
	if err != nil {
		return ch, false, nil, fmt.Errorf("reading the simulated cloud: %w", err)
	}
	ch = automation.ClusterHealth{Name: name, Source: "cloud"}
	c, where := findCluster(st, name, outputs)
	if c == nil {
		ch.Problems = []string{fmt.Sprintf("the simulated cloud has no cluster %s: it was deleted outside the deploy program; run `flotilla drift`, then a rollout to recreate it", where)}
		return ch, true, nil, nil
	}
	var problems []string
	if c.Status != cloud.StatusActive {
		p := fmt.Sprintf("cluster %s/%s is %s, not ACTIVE", c.Region, c.Name, c.Status)
		if c.Operation != "" {
			p += fmt.Sprintf(" (operation %s running)", c.Operation)
		}
		problems = append(problems, p)
	}
	if !c.PlaneReady {
		p := fmt.Sprintf("the control plane of %s/%s is not ready", c.Region, c.Name)
		if c.PlaneError != "" {
			p += ": " + c.PlaneError
		}
		problems = append(problems, p)
		ch.Problems = problems
		return ch, true, nil, nil
	}
	if hasKubeAPI(c) {
		if kubeconfig == "" {
			kubeconfig = c.Kubeconfig
		}
		pools := desiredPools(st, c)
		ch, answered := h.kube.ReadCluster(ctx, name, kubeconfig, pools)
		if !answered {
			if cur := serverOf(c.Kubeconfig); cur != "" && cur != serverOf(kubeconfig) {
				ch.Problems = append(ch.Problems, fmt.Sprintf("the simulated cloud now serves %s/%s at %s, not where the stack's kubeconfig points: run `flotilla rollout --refresh`", c.Region, c.Name, cur))
			}
		}
		if answered && len(ch.Problems) == 0 {
			// The API's Nodes follow the cloud a moment behind: a pool the cloud already
			// reports short must not pass on a reading of the nodes it had.
			pp, _ := poolProblems(st, c)
			for _, p := range pp {
				ch.Problems = append(ch.Problems, "the simulated cloud reports "+p+", which the Kubernetes API does not show yet")
			}
		}
		problems = append(problems, ch.Problems...)
		ch.Problems = problems
		if answered {
			explain = func(ch *automation.ClusterHealth) { h.kube.Explain(ctx, kubeconfig, pools, ch) }
		}
		return ch, !answered, explain, nil
	}
	pp, ready := poolProblems(st, c)
	problems = append(problems, pp...)
	ch.Problems = problems
	ch.Summary = fmt.Sprintf("%d node(s) Ready in %d pool(s), from the simulated cloud (lite mode: no Kubernetes API)", ready, len(st.PoolsOf(c.ID)))
	return ch, false, nil, nil
}

// DiagnoseStack diagnoses the stack's clusters that have a Kubernetes API, against the
// pools the simulated cloud holds; a lite-mode cluster is reported as not diagnosable.
// As Check does, it takes a cluster's credentials from the cloud when the outputs carry
// none.
func (h *Health) DiagnoseStack(ctx context.Context, s automation.StackRef, outputs automation.Outputs, scope automation.DiagnoseScope) ([]automation.ClusterDiagnosis, error) {
	kubeconfigs, err := automation.Kubeconfigs(outputs)
	if err != nil {
		all, ok := outputs["clusters"].Value.(map[string]any)
		if !ok {
			return nil, err
		}
		kubeconfigs = map[string]string{}
		for name := range all {
			kubeconfigs[name] = ""
		}
	}
	st, err := h.c.State(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the simulated cloud: %w", err)
	}
	var out []automation.ClusterDiagnosis
	for name, kubeconfig := range kubeconfigs {
		if scope.Cluster != "" && name != scope.Cluster {
			continue
		}
		c, where := findCluster(st, name, outputs)
		switch {
		case c == nil:
			out = append(out, automation.ClusterDiagnosis{Name: name, Error: fmt.Sprintf("the simulated cloud has no cluster %s", where)})
		case !hasKubeAPI(c):
			out = append(out, automation.ClusterDiagnosis{Name: name, NotDiagnosable: fmt.Sprintf("%s/%s has no Kubernetes API (the simulator's lite mode): there are no pods to diagnose", c.Region, c.Name)})
		case !c.PlaneReady:
			out = append(out, automation.ClusterDiagnosis{Name: name, Error: fmt.Sprintf("the control plane of %s/%s is not ready: %s", c.Region, c.Name, c.PlaneError)})
		default:
			if kubeconfig == "" {
				kubeconfig = c.Kubeconfig
			}
			out = append(out, h.kube.DiagnoseCluster(ctx, name, kubeconfig, desiredPools(st, c), scope))
		}
	}
	return out, nil
}

var _ automation.StackDiagnoser = (*Health)(nil)

// CredentialsFromCloud says that Check takes credentials from the simulated cloud when
// the outputs carry none, so that an unchanged stack's public outputs suffice.
func (h *Health) CredentialsFromCloud() bool { return true }

var _ automation.CloudCredentials = (*Health)(nil)

// findCluster finds the simulated cluster behind the stack's cluster name: by the
// "clusters" output (its name and region in the cloud), else by its endpoint. where
// says what was looked for.
func findCluster(st *cloud.State, name string, outputs automation.Outputs) (c *cloud.Cluster, where string) {
	if o, ok := outputs["clusters"]; ok {
		if all, ok := o.Value.(map[string]any); ok {
			if m, ok := all[name].(map[string]any); ok {
				cname, _ := m["name"].(string)
				region, _ := m["region"].(string)
				for _, c := range st.Clusters {
					if c.Name == cname && c.Region == region && c.Status != cloud.StatusDeleting {
						return c, fmt.Sprintf("%s/%s", region, cname)
					}
				}
				return nil, fmt.Sprintf("%s/%s (the stack's %q)", region, cname, name)
			}
		}
	}
	endpoint := ""
	if o, ok := outputs["endpoints"]; ok {
		switch v := o.Value.(type) {
		case map[string]any:
			endpoint, _ = v[name].(string)
		case map[string]string:
			endpoint = v[name]
		}
	}
	if endpoint != "" {
		for _, c := range st.Clusters {
			if c.Endpoint == endpoint && c.Status != cloud.StatusDeleting {
				return c, endpoint
			}
		}
	}
	return nil, fmt.Sprintf("%q (endpoint %q)", name, endpoint)
}

// hasKubeAPI reports whether a cluster has a real control plane: in lite mode it has no
// control-plane binary and its endpoint is a placeholder under fleetsim.invalid.
func hasKubeAPI(c *cloud.Cluster) bool {
	if c.KubeVersion != "" {
		return true
	}
	u, err := url.Parse(c.Endpoint)
	return err == nil && u.Hostname() != "" && !strings.HasSuffix(u.Hostname(), ".fleetsim.invalid")
}

// serverOf returns the API server a kubeconfig points at, or "".
func serverOf(kubeconfig string) string {
	for _, line := range strings.Split(kubeconfig, "\n") {
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "server:"); ok {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// desiredPools are a cluster's pools as the simulated cloud wants them.
func desiredPools(st *cloud.State, c *cloud.Cluster) []automation.PoolSpec {
	backs := map[string]string{} // fallback pool id -> the spot pool's name
	for spot, fb := range st.Fallbacks() {
		if p := st.Pools[spot]; p != nil {
			backs[fb] = p.Name
		}
	}
	var out []automation.PoolSpec
	for _, p := range st.PoolsOf(c.ID) {
		label := p.Labels[cloud.LabelPool]
		if label == "" {
			label = p.Name
		}
		capacity := p.CapacityType
		if capacity == "" {
			capacity = cloud.OnDemand
		}
		out = append(out, automation.PoolSpec{Name: p.Name, Label: label, Capacity: capacity, Desired: p.DesiredSize, FallbackFor: backs[p.ID]})
	}
	return out
}

// Pools is the PoolSource of a fleet on the simulator: each cluster's pools with the
// desired sizes the simulated cloud holds.
func Pools(c *client.Client) automation.PoolSource {
	return automation.PoolSourceFunc(func(ctx context.Context, _ automation.StackRef, outputs automation.Outputs) (map[string][]automation.PoolSpec, error) {
		kubeconfigs, err := automation.Kubeconfigs(outputs)
		if err != nil {
			return nil, err
		}
		st, err := c.State(ctx)
		if err != nil {
			return nil, fmt.Errorf("reading the simulated cloud: %w", err)
		}
		out := map[string][]automation.PoolSpec{}
		for name := range kubeconfigs {
			if cl, _ := findCluster(st, name, outputs); cl != nil {
				out[name] = desiredPools(st, cl)
			}
		}
		return out, nil
	})
}

// poolProblems reads a lite-mode cluster's pools from the cloud's status: every pool
// ACTIVE with its desired nodes ready, and a spot pool's shortage covered by the nodes
// its fallback runs for it. It returns the problems and the ready nodes.
func poolProblems(st *cloud.State, c *cloud.Cluster) ([]string, int) {
	fallbacks := st.Fallbacks()
	spare := map[string]int{} // fallback pool id -> nodes it runs for spot pools, not yet counted
	for _, p := range st.PoolsOf(c.ID) {
		spare[p.ID] = p.FallbackNodes
	}
	var problems []string
	ready := 0
	for _, p := range st.PoolsOf(c.ID) {
		ready += p.ReadyNodes
		if p.Status != cloud.StatusActive {
			problems = append(problems, fmt.Sprintf("pool %s is %s, not ACTIVE", p.Name, p.Status))
		}
		missing := p.DesiredSize - p.ReadyNodes
		if missing <= 0 {
			continue
		}
		head := fmt.Sprintf("pool %s: %d/%d nodes Ready", p.Name, p.ReadyNodes, p.DesiredSize)
		if p.CapacityType != cloud.Spot {
			problems = append(problems, head+fmt.Sprintf("; %d missing", missing))
			continue
		}
		fb := st.Pools[fallbacks[p.ID]]
		if fb == nil {
			problems = append(problems, head+fmt.Sprintf("; it has no fallback pool (spot shortage of %d not covered)", missing))
			continue
		}
		covered := min(spare[fb.ID], missing)
		spare[fb.ID] -= covered
		if covered < missing {
			problems = append(problems, head+fmt.Sprintf("; its fallback %s covers %d of the %d missing (spot shortage not covered)", fb.Name, covered, missing))
		}
	}
	return problems, ready
}
