package automation

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/flotilla-io/flotilla/automation/diagnose"
)

// Node labels every Flotilla node pool puts on its nodes (see components/cluster).
const (
	labelPool     = "flotilla.io/pool"
	labelCapacity = "flotilla.io/capacity"
)

// Capacity types of a pool, as its nodes' flotilla.io/capacity label says.
const (
	CapacitySpot     = "spot"
	CapacityOnDemand = "on-demand"
)

// DefaultKubeCallTimeout bounds each call to a cluster's Kubernetes API, so that a dead
// control plane fails the health gate in seconds instead of hanging it.
const DefaultKubeCallTimeout = 5 * time.Second

// PoolSpec is one node pool of a cluster as health sees it: which nodes are its, and how
// many of them should be Ready.
type PoolSpec struct {
	// Name is the cloud's name of the pool; problems name the pool by it.
	Name string `json:"name"`
	// Label and Capacity are its nodes' flotilla.io/pool and flotilla.io/capacity labels.
	Label    string `json:"label"`
	Capacity string `json:"capacityType"`
	// Desired is how many Ready nodes the pool should have at least.
	Desired int `json:"desired"`
	// FallbackFor names the spot pool (by Name) this on-demand pool backs: its Ready
	// nodes beyond its own Desired cover that pool's shortage.
	FallbackFor string `json:"fallbackFor,omitempty"`
}

// PoolSource says which node pools each cluster of a stack has and how many Ready nodes
// each should have, keyed by the cluster's name in the stack's outputs. On the real
// clouds OutputPools reads it from the stack's "pools" output; the simulator's adapter
// (automation/simcloud) asks the simulated cloud for each pool's desired size.
type PoolSource interface {
	Pools(ctx context.Context, s StackRef, outputs Outputs) (map[string][]PoolSpec, error)
}

// PoolSourceFunc adapts a function to PoolSource.
type PoolSourceFunc func(ctx context.Context, s StackRef, outputs Outputs) (map[string][]PoolSpec, error)

// Pools calls f.
func (f PoolSourceFunc) Pools(ctx context.Context, s StackRef, outputs Outputs) (map[string][]PoolSpec, error) {
	return f(ctx, s, outputs)
}

// OutputPools reads the pools from the stack's "pools" output (see stacks.Program): per
// cluster, a list of {name, label, capacityType, minSize, maxSize, fallbackFor}. The
// clouds' autoscalers own a pool's size, so a pool should have at least its minSize.
func OutputPools() PoolSource {
	return PoolSourceFunc(func(_ context.Context, _ StackRef, outputs Outputs) (map[string][]PoolSpec, error) {
		o, ok := outputs["pools"]
		if !ok {
			return nil, errors.New(`the stack has no "pools" output: run an up with this version of the stacks program first`)
		}
		clusters, ok := o.Value.(map[string]any)
		if !ok {
			return nil, fmt.Errorf(`the stack's "pools" output is a %T, not a map of clusters`, o.Value)
		}
		out := map[string][]PoolSpec{}
		for name, v := range clusters {
			list, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf(`the stack's "pools" output for cluster %q is a %T, not a list of pools`, name, v)
			}
			for i, e := range list {
				m, ok := e.(map[string]any)
				if !ok {
					return nil, fmt.Errorf(`the stack's "pools" output for cluster %q: pool %d is a %T, not a map`, name, i, e)
				}
				p := PoolSpec{Name: str(m["name"]), Label: str(m["label"]), Capacity: str(m["capacityType"]), FallbackFor: str(m["fallbackFor"])}
				p.Desired = whole(m["minSize"])
				if p.Label == "" {
					p.Label = p.Name
				}
				out[name] = append(out[name], p)
			}
		}
		return out, nil
	})
}

// whole reads a whole number of an output, which the engine hands over as a float64
// (an inline program's may still be an int).
func whole(v any) int {
	switch n := v.(type) {
	case float64:
		return int(n)
	case int:
		return n
	case int64:
		return int(n)
	}
	return 0
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// Clientsets builds a client for one cluster from its REST config. Tests pass one that
// returns client-go's fake clientset.
type Clientsets func(cfg *rest.Config) (kubernetes.Interface, error)

// KubeHealth reads each cluster's Kubernetes API with client-go: every pool's Nodes are
// Ready and as many as desired, a spot pool's shortage is covered by its fallback, and
// no kube-system pod is Pending.
//
//	h := automation.NewKubeHealth(automation.WithPoolSource(automation.OutputPools()))
//	rep, err := h.Check(ctx, ref, outputs)
type KubeHealth struct {
	pools    PoolSource
	clients  Clientsets
	timeout  time.Duration
	settle   time.Duration
	interval time.Duration
	now      func() time.Time
}

// KubeHealthOption configures a KubeHealth.
type KubeHealthOption func(*KubeHealth)

// WithPoolSource sets where the desired pools come from; the default is OutputPools.
func WithPoolSource(p PoolSource) KubeHealthOption { return func(h *KubeHealth) { h.pools = p } }

// WithClientsets sets how clients are built; the default is kubernetes.NewForConfig.
func WithClientsets(c Clientsets) KubeHealthOption { return func(h *KubeHealth) { h.clients = c } }

// WithKubeCallTimeout bounds each API call; the default is DefaultKubeCallTimeout.
func WithKubeCallTimeout(d time.Duration) KubeHealthOption {
	return func(h *KubeHealth) { h.timeout = d }
}

// WithSettle lets a cluster whose nodes or kube-system pods are still coming up settle:
// it is read again, every interval, until it is healthy or d has passed, and the last
// reading counts. An API server that does not answer is never waited for.
func WithSettle(d, interval time.Duration) KubeHealthOption {
	return func(h *KubeHealth) { h.settle, h.interval = d, interval }
}

// NewKubeHealth returns the health checker that reads each cluster's Kubernetes API
// through the kubeconfigs in the stack's outputs.
func NewKubeHealth(opts ...KubeHealthOption) *KubeHealth {
	h := &KubeHealth{
		pools:    OutputPools(),
		clients:  func(cfg *rest.Config) (kubernetes.Interface, error) { return kubernetes.NewForConfig(cfg) },
		timeout:  DefaultKubeCallTimeout,
		interval: 500 * time.Millisecond,
		now:      time.Now,
	}
	for _, o := range opts {
		o(h)
	}
	if h.interval <= 0 {
		h.interval = 500 * time.Millisecond
	}
	return h
}

// Check reads every cluster in the stack's "kubeconfigs" output. Checked is when the
// first of the readings was taken, so that no part of the report is older than it.
func (h *KubeHealth) Check(ctx context.Context, s StackRef, outputs Outputs) (HealthReport, error) {
	kubeconfigs, err := Kubeconfigs(outputs)
	if err != nil {
		return HealthReport{}, err
	}
	pools, err := h.pools.Pools(ctx, s, outputs)
	if err != nil {
		return HealthReport{}, fmt.Errorf("%s: reading the desired node pools: %w", s, err)
	}
	rep := HealthReport{Stack: s, Checked: h.now()}
	for _, name := range sortedKeys(kubeconfigs) {
		rep.Clusters = append(rep.Clusters, h.CheckCluster(ctx, name, kubeconfigs[name], pools[name]))
	}
	return rep, nil
}

// Kubeconfigs returns the stack's "kubeconfigs" output: cluster name to kubeconfig YAML.
func Kubeconfigs(outputs Outputs) (map[string]string, error) {
	o, ok := outputs["kubeconfigs"]
	if !ok {
		return nil, errors.New(`the stack has no "kubeconfigs" output, so its clusters cannot be read: has it been deployed?`)
	}
	out := map[string]string{}
	switch v := o.Value.(type) {
	case map[string]string:
		for k, s := range v {
			out[k] = s
		}
	case map[string]any:
		for k, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf(`the stack's "kubeconfigs" output for cluster %q is a %T, not a kubeconfig`, k, e)
			}
			out[k] = s
		}
	default:
		return nil, fmt.Errorf(`the stack's "kubeconfigs" output is a %T, not a map of kubeconfigs`, o.Value)
	}
	return out, nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// CheckCluster reads one cluster through its kubeconfig against its pools, letting it
// settle as WithSettle says. An unhealthy last reading says why (Explain).
func (h *KubeHealth) CheckCluster(ctx context.Context, name, kubeconfig string, pools []PoolSpec) ClusterHealth {
	deadline := h.now().Add(h.settle)
	for {
		ch, answered := h.ReadCluster(ctx, name, kubeconfig, pools)
		if len(ch.Problems) == 0 || !answered || !h.now().Before(deadline) {
			if len(ch.Problems) > 0 && answered {
				h.Explain(ctx, kubeconfig, pools, &ch)
			}
			return ch
		}
		select {
		case <-ctx.Done():
			ch.Problems = append(ch.Problems, fmt.Sprintf("health reading cancelled: %v", ctx.Err()))
			return ch
		case <-time.After(h.interval):
		}
	}
}

// ReadCluster takes one reading of a cluster, and says whether its API server answered.
func (h *KubeHealth) ReadCluster(ctx context.Context, name, kubeconfig string, pools []PoolSpec) (ClusterHealth, bool) {
	ch := ClusterHealth{Name: name, Source: "kubernetes"}
	cs, host, err := h.client(kubeconfig)
	if err != nil {
		ch.Problems = []string{err.Error()}
		return ch, false
	}
	r := h.read(ctx, cs, host, pools)
	ch.Problems, ch.Summary = r.problems, r.summary
	return ch, !r.unreachable
}

// client builds a client for a cluster's kubeconfig, each call bounded by the timeout,
// and returns its API server's address.
func (h *KubeHealth) client(kubeconfig string) (kubernetes.Interface, string, error) {
	cfg, err := clientcmd.RESTConfigFromKubeConfig([]byte(kubeconfig))
	if err != nil {
		return nil, "", fmt.Errorf("its kubeconfig does not load: %w", err)
	}
	cfg.Timeout = h.timeout
	cs, err := h.clients(cfg)
	if err != nil {
		return nil, cfg.Host, fmt.Errorf("no client for the API server at %s: %w", cfg.Host, err)
	}
	return cs, cfg.Host, nil
}

// maxExplained bounds the diagnosis lines an unhealthy reading carries; `flotilla
// diagnose` lists them all.
const maxExplained = 6

// Explain diagnoses an unhealthy cluster and puts the causes into its reading, so that a
// failed gate says why: a Pending kube-system pod's structured cause replaces the
// scheduler's raw message, and the findings on every other namespace's pods and on the
// nodes follow, each with what to do next. It reads the cluster once more (its pods,
// nodes and the events of the namespaces with a problem), within twice the call
// timeout. Every pod counts, however young: the gate reads the cluster as it is now.
func (h *KubeHealth) Explain(ctx context.Context, kubeconfig string, pools []PoolSpec, ch *ClusterHealth) {
	cs, _, err := h.client(kubeconfig)
	if err != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 2*h.timeout)
	defer cancel()
	rep, err := diagnose.Diagnose(ctx, cs, diagnose.Options{MinAge: -1, Now: h.now(), Pools: diagnosePools(pools)})
	if err != nil {
		ch.Problems = append(ch.Problems, fmt.Sprintf("why: the diagnosis could not read the cluster: %v", err))
		return
	}
	explained := map[string]bool{}
	for _, f := range rep.Findings {
		if f.Kind == diagnose.KindPending && f.Namespace == "kube-system" && f.Node == "" {
			explained[pendingLine(f.Pod)] = true
		}
	}
	var problems []string
	for _, p := range ch.Problems {
		if head, _, _ := strings.Cut(p, ": "); explained[head] {
			continue
		}
		problems = append(problems, p)
	}
	lines := diagnose.Lines(rep.Findings)
	if len(lines) > maxExplained {
		lines = append(lines[:maxExplained:maxExplained], fmt.Sprintf("and %d more finding(s): `flotilla diagnose` lists them", len(lines)-maxExplained))
	}
	problems = append(problems, lines...)
	ch.Problems = problems
}

// pendingLine is how a reading names a Pending kube-system pod, before the scheduler's
// message.
func pendingLine(pod string) string { return "kube-system pod " + pod + " Pending" }

// diagnosePools are a cluster's pools as the diagnosis takes them.
func diagnosePools(pools []PoolSpec) []diagnose.Pool {
	out := make([]diagnose.Pool, 0, len(pools))
	for _, p := range pools {
		out = append(out, diagnose.Pool{Name: p.Name, Label: p.Label, Capacity: p.Capacity, Desired: p.Desired, FallbackFor: p.FallbackFor})
	}
	return out
}

// DiagnoseStack diagnoses the clusters of the stack's "kubeconfigs" output (only
// scope.Cluster when set), with the pools the PoolSource gives; without them the nodes'
// labels say which pools are spot.
func (h *KubeHealth) DiagnoseStack(ctx context.Context, s StackRef, outputs Outputs, scope DiagnoseScope) ([]ClusterDiagnosis, error) {
	kubeconfigs, err := Kubeconfigs(outputs)
	if err != nil {
		return nil, err
	}
	pools, err := h.pools.Pools(ctx, s, outputs)
	if err != nil {
		pools = nil
	}
	var out []ClusterDiagnosis
	for _, name := range sortedKeys(kubeconfigs) {
		if scope.Cluster != "" && name != scope.Cluster {
			continue
		}
		out = append(out, h.DiagnoseCluster(ctx, name, kubeconfigs[name], pools[name], scope))
	}
	return out, nil
}

// DiagnoseCluster diagnoses one cluster through its kubeconfig.
func (h *KubeHealth) DiagnoseCluster(ctx context.Context, name, kubeconfig string, pools []PoolSpec, scope DiagnoseScope) ClusterDiagnosis {
	cd := ClusterDiagnosis{Name: name}
	cs, host, err := h.client(kubeconfig)
	if err != nil {
		cd.Error = err.Error()
		return cd
	}
	rep, err := diagnose.Diagnose(ctx, cs, diagnose.Options{Namespace: scope.Namespace, MinAge: scope.MinAge, Now: h.now(), Pools: diagnosePools(pools)})
	if err != nil {
		cd.Error = fmt.Sprintf("the API server at %s: %v", host, err)
		return cd
	}
	cd.Report = rep
	return cd
}

var _ StackDiagnoser = (*KubeHealth)(nil)

type reading struct {
	problems    []string
	summary     string
	unreachable bool
}

// read takes one reading of a cluster: its Nodes against the pools, and its kube-system
// pods.
func (h *KubeHealth) read(ctx context.Context, cs kubernetes.Interface, host string, pools []PoolSpec) reading {
	var r reading
	nodes, err := callWithTimeout(ctx, h.timeout, func(ctx context.Context) (*corev1.NodeList, error) {
		return cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	})
	if err != nil {
		r.unreachable = true
		r.problems = []string{fmt.Sprintf("the API server at %s does not answer: %v", host, err)}
		return r
	}
	pods, err := callWithTimeout(ctx, h.timeout, func(ctx context.Context) (*corev1.PodList, error) {
		return cs.CoreV1().Pods("kube-system").List(ctx, metav1.ListOptions{})
	})
	if err != nil {
		r.unreachable = true
		r.problems = []string{fmt.Sprintf("the API server at %s does not list kube-system pods: %v", host, err)}
		return r
	}
	counts := countPools(pools, nodes.Items)
	r.problems = append(r.problems, poolProblems(counts)...)
	pending := 0
	for i := range pods.Items {
		p := &pods.Items[i]
		if p.Status.Phase == corev1.PodPending && p.DeletionTimestamp == nil {
			pending++
			r.problems = append(r.problems, pendingLine(p.Name)+": "+pendingReason(p))
		}
	}
	ready := 0
	for _, c := range counts {
		ready += len(c.ready)
	}
	r.summary = fmt.Sprintf("%d node(s) Ready in %d pool(s), %d kube-system pod(s), none Pending", ready, len(pools), len(pods.Items))
	for _, c := range counts {
		if c.coveredBy != "" {
			r.summary += fmt.Sprintf("; spot pool %s short %d, covered by %s", c.pool.Name, c.pool.Desired-len(c.ready), c.coveredBy)
		}
	}
	return r
}

func callWithTimeout[T any](ctx context.Context, d time.Duration, f func(context.Context) (T, error)) (T, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	return f(ctx)
}

// poolCount is one pool's Nodes.
type poolCount struct {
	pool     PoolSpec
	ready    []string
	notReady []string // "name (reason)"
	// spare is how many Ready nodes an on-demand fallback has beyond its Desired, left to
	// cover its spot pool; coveredBy names the fallback that covered a spot shortage.
	spare     int
	coveredBy string
}

// countPools assigns each node to the pool its labels name. Pools sharing labels take
// Ready nodes in turn, each up to its Desired, the last one the rest.
func countPools(pools []PoolSpec, nodes []corev1.Node) []*poolCount {
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	type key struct{ label, capacity string }
	byKey := map[key][]*poolCount{}
	var out []*poolCount
	for _, p := range pools {
		c := &poolCount{pool: p}
		k := key{p.Label, p.Capacity}
		byKey[k] = append(byKey[k], c)
		out = append(out, c)
	}
	for i := range nodes {
		n := &nodes[i]
		group := byKey[key{n.Labels[labelPool], n.Labels[labelCapacity]}]
		if len(group) == 0 {
			continue
		}
		ok, why := nodeReady(n)
		if !ok {
			last := group[len(group)-1]
			last.notReady = append(last.notReady, fmt.Sprintf("%s (%s)", n.Name, why))
			continue
		}
		for j, c := range group {
			if len(c.ready) < c.pool.Desired || j == len(group)-1 {
				c.ready = append(c.ready, n.Name)
				break
			}
		}
	}
	for _, c := range out {
		if c.pool.FallbackFor != "" {
			c.spare = max(len(c.ready)-c.pool.Desired, 0)
		}
	}
	return out
}

// poolProblems says what is wrong with each pool, a spot pool's shortage net of what its
// fallback covers.
func poolProblems(counts []*poolCount) []string {
	var problems []string
	for _, c := range counts {
		p := c.pool
		missing := p.Desired - len(c.ready)
		if missing <= 0 {
			continue
		}
		head := fmt.Sprintf("pool %s: %d/%d nodes Ready", p.Name, len(c.ready), p.Desired)
		if len(c.notReady) > 0 {
			head += fmt.Sprintf(" (not Ready: %s)", strings.Join(firstN(c.notReady, 3), ", "))
		}
		if p.Capacity != CapacitySpot {
			problems = append(problems, head+fmt.Sprintf("; %d missing", missing))
			continue
		}
		var fb *poolCount
		for _, f := range counts {
			if f.pool.FallbackFor == p.Name && f.pool.Capacity != CapacitySpot {
				fb = f
				break
			}
		}
		if fb == nil {
			problems = append(problems, head+fmt.Sprintf("; it has no fallback pool (spot shortage of %d not covered)", missing))
			continue
		}
		covered := min(fb.spare, missing)
		fb.spare -= covered
		if covered < missing {
			problems = append(problems, head+fmt.Sprintf("; its fallback %s covers %d of the %d missing (spot shortage not covered)", fb.pool.Name, covered, missing))
			continue
		}
		c.coveredBy = fb.pool.Name
	}
	return problems
}

func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
}

// nodeReady reports whether a Node's Ready condition is True, and why not.
func nodeReady(n *corev1.Node) (bool, string) {
	for _, c := range n.Status.Conditions {
		if c.Type != corev1.NodeReady {
			continue
		}
		if c.Status == corev1.ConditionTrue {
			return true, ""
		}
		why := "Ready=" + string(c.Status)
		if c.Reason != "" {
			why += ", " + c.Reason
		}
		if c.Message != "" {
			why += ": " + c.Message
		}
		return false, why
	}
	return false, "no Ready condition reported yet"
}

// pendingReason says why a pod is Pending: the scheduler's message, else a container's
// waiting reason.
func pendingReason(p *corev1.Pod) string {
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodScheduled && c.Status == corev1.ConditionFalse {
			if c.Message != "" {
				return c.Message
			}
			if c.Reason != "" {
				return c.Reason
			}
		}
	}
	for _, cs := range append(p.Status.InitContainerStatuses, p.Status.ContainerStatuses...) {
		if w := cs.State.Waiting; w != nil && w.Reason != "" {
			if w.Message != "" {
				return fmt.Sprintf("container %s %s: %s", cs.Name, w.Reason, w.Message)
			}
			return fmt.Sprintf("container %s %s", cs.Name, w.Reason)
		}
	}
	if p.Spec.NodeName == "" {
		return "not scheduled to a node yet"
	}
	return "scheduled to " + p.Spec.NodeName + ", containers not started yet"
}
