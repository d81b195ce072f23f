package e2e_test

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/simtest"
)

// nodeLog follows the Nodes of a cluster's real API server through a watch and keeps,
// per pool, the most Nodes it had at once and the fewest schedulable ones.
type nodeLog struct {
	mu         sync.Mutex
	ready      map[string]map[string]bool // pool -> node -> schedulable
	maxPresent map[string]int
	minReady   map[string]int
}

func schedulable(n *corev1.Node) bool {
	if n.Spec.Unschedulable {
		return false
	}
	for _, t := range n.Spec.Taints {
		if t.Key == corev1.TaintNodeNotReady || t.Key == corev1.TaintNodeUnreachable {
			return false
		}
	}
	for _, c := range n.Status.Conditions {
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func (l *nodeLog) apply(ev watch.Event) {
	n, ok := ev.Object.(*corev1.Node)
	if !ok {
		return
	}
	pool := n.Labels[cloud.LabelNodePool]
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ready[pool] == nil {
		l.ready[pool] = map[string]bool{}
	}
	if ev.Type == watch.Deleted {
		delete(l.ready[pool], n.Name)
	} else {
		l.ready[pool][n.Name] = schedulable(n)
	}
	ready := 0
	for _, r := range l.ready[pool] {
		if r {
			ready++
		}
	}
	l.maxPresent[pool] = max(l.maxPresent[pool], len(l.ready[pool]))
	if cur, ok := l.minReady[pool]; !ok || ready < cur {
		l.minReady[pool] = ready
	}
}

// TestUpgradeRollsRealNodes upgrades a kube-mode cluster's control plane, then its pools,
// through the daemon, and reads the cluster's real API server: each pool's Nodes are
// replaced one at a time by Nodes whose kubelet reports the new version, none of the pool
// ever unavailable, and the pool's upgrade is over in the cloud's operation history only
// once its Nodes are; the history records the control plane before the pools, one
// operation after the other.
func TestUpgradeRollsRealNodes(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, simtest.WithKube())
	c := sim.Client
	ctx := ctxT(t)

	cl, err := c.CreateCluster(ctx, cloud.ClusterSpec{Name: "upg", Region: "sim-east-1", Version: "1.31"}, "upg")
	require.NoError(t, err)
	system, err := c.CreateNodePool(ctx, cloud.NodePoolSpec{Name: "system", Cluster: cl.ID, InstanceTypes: []string{"sim.medium"},
		MinSize: 2, MaxSize: 3, DesiredSize: 2, Labels: map[string]string{cloud.LabelPool: "system"}}, "upg-system")
	require.NoError(t, err)
	spot, err := c.CreateNodePool(ctx, cloud.NodePoolSpec{Name: "app-spot", Cluster: cl.ID, CapacityType: cloud.Spot,
		InstanceTypes: []string{"sim.medium"}, MinSize: 2, MaxSize: 4, DesiredSize: 2, Labels: map[string]string{cloud.LabelPool: "app"},
		Taints: []cloud.Taint{{Key: "flotilla.io/capacity", Value: "spot", Effect: "NoSchedule"}}}, "upg-spot")
	require.NoError(t, err)
	cs := clientFor(t, cl.Kubeconfig)

	kubelets := func() map[string][]string { // pool -> its Nodes' kubelet versions
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		out := map[string][]string{}
		for _, n := range list.Items {
			pool := n.Labels[cloud.LabelNodePool]
			out[pool] = append(out[pool], n.Status.NodeInfo.KubeletVersion)
		}
		for _, v := range out {
			sort.Strings(v)
		}
		return out
	}
	eventually(t, 60*time.Second, func() (string, bool) {
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil || len(list.Items) != 4 {
			return "", false
		}
		for i := range list.Items {
			if !schedulable(&list.Items[i]) {
				return "", false
			}
		}
		return "", true
	})
	assert.Equal(t, map[string][]string{"system": {"v1.31.0", "v1.31.0"}, "app-spot": {"v1.31.0", "v1.31.0"}}, kubelets())

	list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	w, err := cs.CoreV1().Nodes().Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	require.NoError(t, err)
	log := &nodeLog{ready: map[string]map[string]bool{}, maxPresent: map[string]int{}, minReady: map[string]int{}}
	for i := range list.Items {
		n := &list.Items[i]
		pool := n.Labels[cloud.LabelNodePool]
		if log.ready[pool] == nil {
			log.ready[pool] = map[string]bool{}
		}
		require.True(t, schedulable(n), "%s is schedulable before the upgrade", n.Name)
		log.ready[pool][n.Name] = true
		log.maxPresent[pool], log.minReady[pool] = len(log.ready[pool]), len(log.ready[pool])
	}
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for ev := range w.ResultChan() {
			log.apply(ev)
		}
	}()

	_, err = c.UpdateCluster(ctx, cl.ID, cloud.ClusterSpec{Version: "1.32"})
	require.NoError(t, err)
	for _, p := range []*cloud.NodePool{system, spot} {
		spec := p.NodePoolSpec
		spec.Version = "1.32"
		got, err := c.UpdateNodePool(ctx, p.ID, spec)
		require.NoError(t, err)
		assert.Equal(t, "1.32", got.NodesVersion, p.Name)
		assert.Equal(t, []string{"v1.32.0", "v1.32.0"}, kubelets()[p.Name],
			"when the cloud says %s's upgrade is over, its Nodes run the new version", p.Name)
	}
	w.Stop()
	<-watched

	log.mu.Lock()
	assert.Equal(t, map[string]int{"system": 3, "app-spot": 3}, log.maxPresent, "max surge 1")
	assert.Equal(t, map[string]int{"system": 2, "app-spot": 2}, log.minReady, "max unavailable 0")
	log.mu.Unlock()
	for _, n := range nodeNames(t, ctx, cs.CoreV1().Nodes().List) {
		assert.Contains(t, n, "-v1-32-", "every Node was replaced")
	}

	st := sim.State(t)
	var ups []*cloud.Operation
	for _, op := range st.Operations {
		if op.ToVersion != "" {
			ups = append(ups, op)
		}
	}
	sort.Slice(ups, func(i, j int) bool { return ups[i].Started.Before(ups[j].Started) })
	var order []string
	for i, op := range ups {
		order = append(order, op.Kind+" "+op.FromVersion+"→"+op.ToVersion+" "+op.Status)
		require.False(t, op.Finished.IsZero())
		if i > 0 {
			assert.False(t, op.Started.Before(ups[i-1].Finished), "%s started before %s finished", op.ID, ups[i-1].ID)
		}
	}
	assert.Equal(t, []string{
		"UpgradeCluster 1.31→1.32 DONE", "UpdateNodePool 1.31→1.32 DONE", "UpdateNodePool 1.31→1.32 DONE",
	}, order)
	assert.Equal(t, system.ID, ups[1].Target)
	assert.Equal(t, spot.ID, ups[2].Target)
}

func nodeNames(t *testing.T, ctx context.Context, list func(context.Context, metav1.ListOptions) (*corev1.NodeList, error)) []string {
	t.Helper()
	l, err := list(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	var out []string
	for _, n := range l.Items {
		out = append(out, n.Name)
	}
	require.NotEmpty(t, out)
	return out
}
