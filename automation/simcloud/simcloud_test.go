package simcloud_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/diagnose"
	"github.com/flotilla-io/flotilla/automation/simcloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/daemon"
	"github.com/flotilla-io/flotilla/internal/fleetsim/simapi"
)

// startSim runs a daemon in-process on a temporary home, in lite mode when kube is nil,
// and returns a client of it.
func startSim(t *testing.T, kube simapi.Kube) *client.Client {
	t.Helper()
	home := t.TempDir()
	d, err := daemon.New(daemon.Options{
		Home: home, Kube: kube, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Durations: cloud.Durations{ClusterCreate: 50 * time.Millisecond, ClusterUpgrade: 50 * time.Millisecond,
			ClusterDelete: 20 * time.Millisecond, PoolCreate: 20 * time.Millisecond, PoolDelete: 10 * time.Millisecond},
		TimeScale: 6000, // a 300 s provision timeout passes in 50 ms
	})
	require.NoError(t, err)
	require.NoError(t, d.Listen())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = d.Serve(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	c, err := client.New(client.Options{Home: home, Addr: d.Addr()})
	require.NoError(t, err)
	return c
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fleet is one simulated cluster with a system pool, and a spot pool of 2 with (or
// without) its fallback, as the stacks program builds them.
type fleet struct {
	cluster  *cloud.Cluster
	outputs  automation.Outputs
	spot, fb *cloud.NodePool
}

func newFleet(t *testing.T, c *client.Client, name, region string, fallback bool) fleet {
	t.Helper()
	ctx := ctxT(t)
	cl, err := c.CreateCluster(ctx, cloud.ClusterSpec{Name: name, Region: region}, name+"-token")
	require.NoError(t, err)
	ref := region + "/" + name
	_, err = c.CreateNodePool(ctx, cloud.NodePoolSpec{Name: "system", Cluster: ref, CapacityType: cloud.OnDemand,
		InstanceTypes: []string{"sim.small"}, MinSize: 1, MaxSize: 3, DesiredSize: 1,
		Labels: map[string]string{cloud.LabelPool: "system"}}, name+"-system")
	require.NoError(t, err)
	labels := map[string]string{cloud.LabelPool: name + "-general"}
	f := fleet{}
	f.spot, err = c.CreateNodePool(ctx, cloud.NodePoolSpec{Name: name + "-general-spot", Cluster: ref, CapacityType: cloud.Spot,
		InstanceTypes: []string{"sim.small", "sim.medium"}, MinSize: 2, MaxSize: 4, DesiredSize: 2, Labels: labels, ProvisionTimeout: 300}, name+"-spot")
	require.NoError(t, err)
	if fallback {
		f.fb, err = c.CreateNodePool(ctx, cloud.NodePoolSpec{Name: name + "-general-fallback", Cluster: ref, CapacityType: cloud.OnDemand,
			InstanceTypes: []string{"sim.small"}, MinSize: 0, MaxSize: 4, DesiredSize: 0, Labels: labels, FallbackFor: name + "-general-spot"}, name+"-fallback")
		require.NoError(t, err)
	}
	cl, err = c.GetCluster(ctx, cl.ID)
	require.NoError(t, err)
	f.cluster = cl
	f.outputs = automation.Outputs{
		"endpoints":   {Value: map[string]any{"east-1": cl.Endpoint}},
		"kubeconfigs": {Secret: true, Value: map[string]any{"east-1": cl.Kubeconfig}},
		"clusters":    {Value: map[string]any{"east-1": map[string]any{"name": name, "region": region, "cloud": "sim"}}},
	}
	return f
}

var stack = automation.StackRef{Environment: "staging", Stack: "staging"}

func TestLiteHealth(t *testing.T) {
	t.Parallel()
	c := startSim(t, nil)
	h := simcloud.NewHealth(c, simcloud.WithSettle(2*time.Second, 20*time.Millisecond))

	t.Run("healthy", func(t *testing.T) {
		f := newFleet(t, c, "staging-east-1", "sim-east-1", true)
		before := time.Now()
		rep, err := h.Check(ctxT(t), stack, f.outputs)
		require.NoError(t, err)
		assert.Empty(t, rep.Problems())
		assert.False(t, rep.Checked.Before(before))
		require.Len(t, rep.Clusters, 1)
		assert.Equal(t, "cloud", rep.Clusters[0].Source)
		assert.Equal(t, "3 node(s) Ready in 3 pool(s), from the simulated cloud (lite mode: no Kubernetes API)", rep.Clusters[0].Summary)

		// Found by endpoint when the stack predates the clusters output.
		delete(f.outputs, "clusters")
		rep, err = h.Check(ctxT(t), stack, f.outputs)
		require.NoError(t, err)
		assert.Empty(t, rep.Problems())
	})

	t.Run("spot shortage covered by the fallback, then not when the fallback is too small", func(t *testing.T) {
		f := newFleet(t, c, "staging-west-1", "sim-west-1", true)
		require.NoError(t, c.SpotShortage(ctxT(t), "sim-west-1", ""))
		rep, err := h.Check(ctxT(t), stack, f.outputs)
		require.NoError(t, err)
		assert.Empty(t, rep.Problems(), "the fallback takes over after the provision timeout")

		spec := f.fb.NodePoolSpec
		spec.MaxSize = 1
		_, err = c.UpdateNodePool(ctxT(t), f.fb.ID, spec)
		require.NoError(t, err)
		rep, err = h.Check(ctxT(t), stack, f.outputs)
		require.NoError(t, err)
		assert.Equal(t, []string{"east-1: pool staging-west-1-general-spot: 0/2 nodes Ready; its fallback staging-west-1-general-fallback covers 1 of the 2 missing (spot shortage not covered)"}, rep.Problems())
	})

	t.Run("spot shortage without a fallback", func(t *testing.T) {
		f := newFleet(t, c, "staging-eu-1", "sim-eu-1", false)
		require.NoError(t, c.SpotShortage(ctxT(t), "sim-eu-1", ""))
		start := time.Now()
		rep, err := h.Check(ctxT(t), stack, f.outputs)
		require.NoError(t, err)
		assert.Less(t, time.Since(start), 4*time.Second, "bounded by the settle time")
		assert.Equal(t, []string{"east-1: pool staging-eu-1-general-spot: 0/2 nodes Ready; it has no fallback pool (spot shortage of 2 not covered)"}, rep.Problems())
	})

	t.Run("a deleted cluster fails at once", func(t *testing.T) {
		f := newFleet(t, c, "staging-ap-1", "sim-ap-1", true)
		pools, err := c.ListNodePools(ctxT(t), f.cluster.ID)
		require.NoError(t, err)
		for _, p := range pools {
			require.NoError(t, c.DeleteNodePool(ctxT(t), p.ID))
		}
		require.NoError(t, c.DeleteCluster(ctxT(t), f.cluster.ID))
		start := time.Now()
		rep, err := h.Check(ctxT(t), stack, f.outputs)
		require.NoError(t, err)
		assert.Less(t, time.Since(start), time.Second, "nothing to wait for")
		require.Len(t, rep.Problems(), 1)
		assert.Contains(t, rep.Problems()[0], "east-1: the simulated cloud has no cluster sim-ap-1/staging-ap-1")
	})

	t.Run("no kubeconfigs output", func(t *testing.T) {
		_, err := h.Check(ctxT(t), stack, automation.Outputs{})
		assert.ErrorContains(t, err, `no "kubeconfigs" output`)
	})
}

// planes stands in for kubeplane behind the daemon: each cluster's "API server" is a
// fake clientset, reached through a loopback address nothing listens on, that the
// daemon syncs Nodes into. A killed plane's address answers nothing.
type planes struct {
	mu     sync.Mutex
	byHost map[string]*fake.Clientset
	byID   map[string]string // cluster id -> host
	dead   map[string]bool   // host -> killed
	frozen bool              // Nodes are not synced: the API lags the cloud
}

func newPlanes() *planes {
	return &planes{byHost: map[string]*fake.Clientset{}, byID: map[string]string{}, dead: map[string]bool{}}
}

func (p *planes) EnsurePlane(_ context.Context, id string) (simapi.Plane, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if host, ok := p.byID[id]; ok {
		return simapi.Plane{Endpoint: host, Kubeconfig: kubeconfig(host), BinaryVersion: "v1.33.0"}, nil
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return simapi.Plane{}, err
	}
	host := "https://" + l.Addr().String()
	_ = l.Close()
	p.byID[id], p.byHost[host] = host, fake.NewClientset()
	return simapi.Plane{Endpoint: host, Kubeconfig: kubeconfig(host), BinaryVersion: "v1.33.0"}, nil
}

func (p *planes) SyncNodes(ctx context.Context, id string, nodes []simapi.Node) error {
	p.mu.Lock()
	cs, frozen := p.byHost[p.byID[id]], p.frozen
	p.mu.Unlock()
	if frozen {
		return nil
	}
	if cs == nil {
		return fmt.Errorf("no plane for %s", id)
	}
	have, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	want := map[string]bool{}
	for _, n := range nodes {
		want[n.Name] = true
		obj := &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: n.Name, Labels: n.Labels},
			Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}}}}
		if _, err := cs.CoreV1().Nodes().Create(ctx, obj, metav1.CreateOptions{}); err != nil {
			if _, err := cs.CoreV1().Nodes().Update(ctx, obj, metav1.UpdateOptions{}); err != nil {
				return err
			}
		}
	}
	for _, n := range have.Items {
		if !want[n.Name] {
			if err := cs.CoreV1().Nodes().Delete(ctx, n.Name, metav1.DeleteOptions{}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (p *planes) DeletePlane(_ context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.byHost, p.byID[id])
	delete(p.byID, id)
	return nil
}

func (p *planes) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen = true
}

func (p *planes) kill(host string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.dead[host] = true
}

// clientset serves a live plane's fake clientset and, for a killed one, a real client
// of its address, which nothing answers.
func (p *planes) clientset(cfg *rest.Config) (kubernetes.Interface, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if cs, ok := p.byHost[cfg.Host]; ok && !p.dead[cfg.Host] {
		return cs, nil
	}
	return kubernetes.NewForConfig(cfg)
}

func kubeconfig(server string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: {server: %q, insecure-skip-tls-verify: true}
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
users:
- name: u
  user: {token: t}
`, server)
}

func TestKubeModeHealth(t *testing.T) {
	t.Parallel()
	p := newPlanes()
	c := startSim(t, p)
	h := simcloud.NewHealth(c,
		simcloud.WithSettle(3*time.Second, 20*time.Millisecond),
		simcloud.WithKubeHealth(automation.NewKubeHealth(automation.WithClientsets(p.clientset), automation.WithKubeCallTimeout(time.Second))))
	f := newFleet(t, c, "staging-east-1", "sim-east-1", true)
	require.NotEmpty(t, f.cluster.KubeVersion, "the cluster has a control plane")

	rep, err := h.Check(ctxT(t), stack, f.outputs)
	require.NoError(t, err)
	assert.Empty(t, rep.Problems())
	require.Len(t, rep.Clusters, 1)
	assert.Equal(t, "kubernetes", rep.Clusters[0].Source, "read through the Kubernetes API")
	assert.Contains(t, rep.Clusters[0].Summary, "3 node(s) Ready in 3 pool(s)")

	// The desired sizes come from the daemon: a pool grown in the cloud wants more Nodes,
	// which the daemon syncs into the API.
	spec := f.spot.NodePoolSpec
	spec.DesiredSize = 3
	_, err = c.UpdateNodePool(ctxT(t), f.spot.ID, spec)
	require.NoError(t, err)
	rep, err = h.Check(ctxT(t), stack, f.outputs)
	require.NoError(t, err)
	assert.Empty(t, rep.Problems())
	assert.Contains(t, rep.Clusters[0].Summary, "4 node(s) Ready in 3 pool(s)")

	// The API lags the cloud: a spot pool the cloud reports short, with no fallback, fails
	// though its Nodes are still in the API.
	g := newFleet(t, c, "staging-west-1", "sim-west-1", false)
	p.freeze()
	require.NoError(t, c.SpotShortage(ctxT(t), "sim-west-1", ""))
	rep, err = h.Check(ctxT(t), stack, g.outputs)
	require.NoError(t, err)
	assert.Equal(t, []string{"east-1: the simulated cloud reports pool staging-west-1-general-spot: 0/2 nodes Ready; it has no fallback pool (spot shortage of 2 not covered), which the Kubernetes API does not show yet"}, rep.Problems())

	// Every control plane killed: health fails, at once.
	p.kill(f.cluster.Endpoint)
	start := time.Now()
	rep, err = h.Check(ctxT(t), stack, f.outputs)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 2*time.Second)
	require.False(t, rep.Healthy())
	require.Len(t, rep.Problems(), 1)
	assert.Contains(t, rep.Problems()[0], "east-1: the API server at "+f.cluster.Endpoint+" does not answer")
}

func TestPendingResolver(t *testing.T) {
	t.Parallel()
	c := startSim(t, nil)
	f := newFleet(t, c, "dev-east-1", "sim-east-1", true)
	r := simcloud.NewPendingResolver(c)

	pending := []automation.PendingOp{
		{URN: "urn:cluster", Type: "fleetsim:index:Cluster", Kind: "creating", Inputs: map[string]any{"name": "dev-east-1", "region": "sim-east-1"}},
		{URN: "urn:pool", Type: "fleetsim:index:NodePool", Kind: "creating", Inputs: map[string]any{"name": "dev-east-1-general-spot", "cluster": "sim-east-1/dev-east-1"}},
		{URN: "urn:pool-by-id", Type: "fleetsim:index:NodePool", Kind: "creating", Inputs: map[string]any{"name": "dev-east-1-general-fallback", "cluster": f.cluster.ID}},
		{URN: "urn:never-created", Type: "fleetsim:index:Cluster", Kind: "creating", Inputs: map[string]any{"name": "dev-west-1", "region": "sim-west-1"}},
		{URN: "urn:pool-never-created", Type: "fleetsim:index:NodePool", Kind: "creating", Inputs: map[string]any{"name": "other", "cluster": "sim-east-1/dev-east-1"}},
		{URN: "urn:pool-no-cluster", Type: "fleetsim:index:NodePool", Kind: "creating", Inputs: map[string]any{"name": "other", "cluster": "sim-west-1/nowhere"}},
		{URN: "urn:updating", Type: "fleetsim:index:Cluster", Kind: "updating", Inputs: map[string]any{"name": "dev-east-1", "region": "sim-east-1"}},
		{URN: "urn:ns", Type: "kubernetes:core/v1:Namespace", Kind: "creating", Inputs: map[string]any{"metadata": map[string]any{"name": "payments"}}},
		{URN: "urn:cm", Type: "kubernetes:core/v1:ConfigMap", Kind: "creating", Inputs: map[string]any{"metadata": map[string]any{"name": "cluster-autoscaler-priority-expander", "namespace": "kube-system"}}},
		{URN: "urn:rb", Type: "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", Kind: "creating", Inputs: map[string]any{"metadata": map[string]any{"name": "edit"}}},
		{URN: "urn:unnamed", Type: "kubernetes:core/v1:ConfigMap", Kind: "creating", Inputs: map[string]any{}},
	}
	got, err := r.Resolve(ctxT(t), stack, pending)
	require.NoError(t, err)
	assert.Equal(t, []automation.PendingCreate{
		{URN: "urn:cluster", ID: f.cluster.ID},
		{URN: "urn:pool", ID: f.spot.ID},
		{URN: "urn:pool-by-id", ID: f.fb.ID},
		{URN: "urn:ns", ID: "payments"},
		{URN: "urn:cm", ID: "kube-system/cluster-autoscaler-priority-expander"},
		{URN: "urn:rb", ID: "default/edit"},
	}, got)
}

// A kube-mode cluster is diagnosed through its Kubernetes API, against the pools the
// simulated cloud holds; an unhealthy reading says why. A lite-mode cluster is not
// diagnosable, and that is no error.
func TestDiagnose(t *testing.T) {
	t.Parallel()
	p := newPlanes()
	c := startSim(t, p)
	h := simcloud.NewHealth(c,
		simcloud.WithSettle(500*time.Millisecond, 20*time.Millisecond),
		simcloud.WithKubeHealth(automation.NewKubeHealth(automation.WithClientsets(p.clientset), automation.WithKubeCallTimeout(time.Second))))
	g := newFleet(t, c, "staging-west-1", "sim-west-1", false)
	require.NoError(t, c.SpotShortage(ctxT(t), "sim-west-1", ""))

	// A worker of the spot pool, Pending as the scheduler leaves it once spot is gone.
	worker := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: "payments", Name: "worker-0", UID: "w0", CreationTimestamp: metav1.NewTime(time.Now().Add(-5 * time.Minute))},
		Spec: corev1.PodSpec{
			NodeSelector: map[string]string{cloud.LabelPool: "staging-west-1-general"},
			Tolerations:  []corev1.Toleration{{Key: "flotilla.io/capacity", Operator: corev1.TolerationOpEqual, Value: "spot", Effect: corev1.TaintEffectNoSchedule}},
			Containers:   []corev1.Container{{Name: "app", Image: "registry.example/worker:1"}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
			Message: "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.",
		}}},
	}
	p.mu.Lock()
	cs := p.byHost[g.cluster.Endpoint]
	p.mu.Unlock()
	_, err := cs.CoreV1().Pods("payments").Create(ctxT(t), worker, metav1.CreateOptions{})
	require.NoError(t, err)

	rep, err := h.Check(ctxT(t), stack, g.outputs)
	require.NoError(t, err)
	problems := rep.Problems()
	require.Len(t, problems, 2, "%q", problems)
	assert.Contains(t, problems[0], "pool staging-west-1-general-spot: 0/2 nodes Ready")
	assert.Equal(t, "east-1: pod payments/worker-0 Pending: 0/1 nodes fit it: 1 do not match its node selector or affinity; "+
		"spot pool staging-west-1-general-spot (flotilla.io/pool=staging-west-1-general) has 0 of its 2 nodes Ready: spot capacity is short, and it has no fallback pool to take over; "+
		"next: enable the spot pool's on-demand fallback (remove fallback: {disabled: true} from the pool in its stack file), or wait for spot capacity to return", problems[1])

	diag, err := h.DiagnoseStack(ctxT(t), stack, g.outputs, automation.DiagnoseScope{})
	require.NoError(t, err)
	require.Len(t, diag, 1)
	require.Len(t, diag[0].Findings, 1)
	assert.Equal(t, diagnose.CauseSpotShortage, diag[0].Findings[0].Cause)

	lite := startSim(t, nil)
	f := newFleet(t, lite, "dev-east-1", "sim-east-1", true)
	diag, err = simcloud.NewHealth(lite).DiagnoseStack(ctxT(t), stack, f.outputs, automation.DiagnoseScope{})
	require.NoError(t, err)
	require.Len(t, diag, 1)
	assert.Equal(t, "east-1", diag[0].Name)
	assert.Equal(t, "sim-east-1/dev-east-1 has no Kubernetes API (the simulator's lite mode): there are no pods to diagnose", diag[0].NotDiagnosable)
	assert.Empty(t, diag[0].Error)
}
