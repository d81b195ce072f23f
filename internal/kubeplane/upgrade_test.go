package kubeplane

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"

	"github.com/flotilla-io/flotilla/internal/fleetsim/simapi"
)

// versionedNodes are a pool's Nodes at a kubelet version, named for it as the simulated
// cloud names them.
func versionedNodes(pool, version string, n int) []simapi.Node {
	nodes := make([]simapi.Node, n)
	for i := range nodes {
		nodes[i] = simapi.Node{
			Name:           fmt.Sprintf("%s-%s-%c", pool, version, 'a'+i),
			Labels:         map[string]string{"flotilla.io/pool": pool, simapi.LabelNodePool: pool},
			MilliCPU:       2000,
			MemoryBytes:    8 << 30,
			Pods:           29,
			KubeletVersion: "v" + version + ".0",
		}
	}
	return nodes
}

// poolWatch follows one pool's Nodes through a watch: the most present at once, and the
// fewest schedulable once the pool first had its full size.
type poolWatch struct {
	present, ready map[string]bool
	maxPresent     int
	minReady       int
	deleted        []string
	// readyBeforeDelete records, at each deletion, how many Nodes of the new version
	// were schedulable.
	readyBeforeDelete []int
}

func (w *poolWatch) apply(ev watch.Event, pool, newVersion string) {
	n, ok := ev.Object.(*corev1.Node)
	if !ok || n.Labels[simapi.LabelNodePool] != pool {
		return
	}
	switch ev.Type {
	case watch.Added, watch.Modified:
		w.present[n.Name], w.ready[n.Name] = true, schedulable(n) && !n.Spec.Unschedulable
	case watch.Deleted:
		newReady := 0
		for name := range w.ready {
			if w.ready[name] && name != n.Name && w.isNew(name, pool, newVersion) {
				newReady++
			}
		}
		w.readyBeforeDelete = append(w.readyBeforeDelete, newReady)
		w.deleted = append(w.deleted, n.Name)
		delete(w.present, n.Name)
		delete(w.ready, n.Name)
	}
	w.maxPresent = max(w.maxPresent, len(w.present))
	ready := 0
	for _, r := range w.ready {
		if r {
			ready++
		}
	}
	w.minReady = min(w.minReady, ready)
}

func (w *poolWatch) isNew(name, pool, version string) bool {
	return len(name) > len(pool)+1+len(version) && name[:len(pool)+1+len(version)] == pool+"-"+version
}

// TestUpgradeReplacesNodesSurgeStyle shows that Nodes replaced by Nodes of a new version
// roll in one at a time, each schedulable before an old one goes (max surge 1, max
// unavailable 0), while the Nodes of other pools and the kubelet version of a Node kept
// by name are changed in place.
func TestUpgradeReplacesNodesSurgeStyle(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	const id = "plane-upgrade"
	plane := ensurePlane(t, m, id)
	cs := clientFor(t, plane)
	ctx := ctxTimeout(t, 5*time.Minute)

	system := versionedNodes("system", "1.31", 1)
	system[0].Name = "system-0"
	before := append(versionedNodes("general", "1.31", 3), system...)
	require.NoError(t, m.SyncNodes(ctx, id, before))
	got, err := cs.CoreV1().Nodes().Get(ctx, "general-1.31-a", noGet)
	require.NoError(t, err)
	assert.Equal(t, "v1.31.0", got.Status.NodeInfo.KubeletVersion, "kwok keeps the kubelet version the Node was created with")
	systemUID := mustNode(ctx, t, cs.CoreV1().Nodes().Get, "system-0").UID

	// A pod on an old Node goes with it, as when the cloud drains and terminates it.
	p := pod("on-old", "100m")
	p.Spec.NodeName = "general-1.31-b"
	_, err = cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{})
	require.NoError(t, err)

	list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	w, err := cs.CoreV1().Nodes().Watch(ctx, metav1.ListOptions{ResourceVersion: list.ResourceVersion})
	require.NoError(t, err)
	defer w.Stop()
	pw := &poolWatch{present: map[string]bool{}, ready: map[string]bool{}, minReady: 3}
	for _, n := range list.Items {
		if n.Labels[simapi.LabelNodePool] == "general" {
			pw.present[n.Name], pw.ready[n.Name] = true, schedulable(&n)
		}
	}
	require.Len(t, pw.present, 3)

	after := append(versionedNodes("general", "1.32", 3), system...)
	after[3].KubeletVersion = "v1.32.0" // the same Node, upgraded in place
	synced := make(chan error, 1)
	go func() { synced <- m.SyncNodes(ctx, id, after) }()

	done := false
	for !done {
		select {
		case ev, ok := <-w.ResultChan():
			require.True(t, ok, "the watch ended early")
			pw.apply(ev, "general", "1.32")
		case err := <-synced:
			require.NoError(t, err)
			done = true
		}
	}
	// Drain what the watch still holds of the sync.
	for deadline := time.After(5 * time.Second); len(pw.deleted) < 3; {
		select {
		case ev := <-w.ResultChan():
			pw.apply(ev, "general", "1.32")
		case <-deadline:
			t.Fatalf("the watch saw %d of 3 deletions", len(pw.deleted))
		}
	}

	sort.Strings(pw.deleted)
	assert.Equal(t, []string{"general-1.31-a", "general-1.31-b", "general-1.31-c"}, pw.deleted)
	assert.Equal(t, 4, pw.maxPresent, "max surge 1: never more than one Node beyond the pool's size")
	assert.Equal(t, 3, pw.minReady, "max unavailable 0: the pool never had fewer than 3 schedulable Nodes")
	assert.Equal(t, []int{1, 2, 3}, pw.readyBeforeDelete, "each old Node goes only once one more new Node is schedulable")

	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	versions := map[string]string{}
	for _, n := range nodes.Items {
		versions[n.Name] = n.Status.NodeInfo.KubeletVersion
		assert.False(t, n.Spec.Unschedulable, n.Name)
	}
	assert.Equal(t, map[string]string{
		"general-1.32-a": "v1.32.0", "general-1.32-b": "v1.32.0", "general-1.32-c": "v1.32.0", "system-0": "v1.32.0",
	}, versions)
	assert.Equal(t, systemUID, mustNode(ctx, t, cs.CoreV1().Nodes().Get, "system-0").UID, "a Node kept by name is not replaced")
	_, err = cs.CoreV1().Pods("default").Get(ctx, "on-old", noGet)
	assert.True(t, apierrors.IsNotFound(err), "the pod on the replaced Node is gone: %v", err)
}

func mustNode(ctx context.Context, t *testing.T, get func(context.Context, string, metav1.GetOptions) (*corev1.Node, error), name string) *corev1.Node {
	t.Helper()
	n, err := get(ctx, name, noGet)
	require.NoError(t, err)
	return n
}
