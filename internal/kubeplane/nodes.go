package kubeplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"

	"github.com/flotilla-io/flotilla/internal/fleetsim/simapi"
)

const (
	// kwokAnnotation marks the Nodes kwok plays; it ignores every other Node.
	kwokAnnotation      = "kwok.x-k8s.io/node"
	kwokAnnotationValue = "fake"
	// nodeReadyTimeout bounds how long SyncNodes waits for new Nodes to become schedulable.
	nodeReadyTimeout = time.Minute
)

// SyncNodes makes the cluster's Nodes exactly nodes. New Nodes are created for kwok to
// play; existing ones get the wanted labels, taints, capacity and kubelet version; the
// others are deleted, together with their pods, as when a cloud terminates an instance.
// New Nodes of a pool (simapi.LabelNodePool) that replace Nodes of the same pool, as in
// an upgrade, roll in surge-style: one new Node at a time, and an old one goes only once
// the new one is schedulable (max surge 1, max unavailable 0). It returns once every
// wanted Node is Ready and no longer carries the not-ready taint, so the scheduler can
// use them.
func (m *Manager) SyncNodes(ctx context.Context, clusterID string, nodes []simapi.Node) error {
	if err := validateNodes(nodes); err != nil {
		return fmt.Errorf("kubeplane: %s: %w", clusterID, err)
	}
	unlock, err := m.lock(ctx, clusterID)
	if err != nil {
		return err
	}
	defer unlock()
	cs, err := m.client(clusterID)
	if err != nil {
		return err
	}
	if err := syncNodes(ctx, cs, nodes); err != nil {
		return fmt.Errorf("kubeplane: %s: syncing nodes: %w", clusterID, err)
	}
	return nil
}

func syncNodes(ctx context.Context, cs kubernetes.Interface, nodes []simapi.Node) error {
	existing, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	have := map[string]*corev1.Node{}
	for i := range existing.Items {
		have[existing.Items[i].Name] = &existing.Items[i]
	}
	want := map[string]bool{}
	var added []simapi.Node
	for _, n := range nodes {
		want[n.Name] = true
		cur, ok := have[n.Name]
		if !ok {
			added = append(added, n)
			continue
		}
		if err := updateNode(ctx, cs, cur, n); err != nil {
			return fmt.Errorf("node %q: %w", n.Name, err)
		}
	}
	var gone []*corev1.Node
	for _, name := range slices.Sorted(maps.Keys(have)) {
		if !want[name] {
			gone = append(gone, have[name])
		}
	}

	// Pair each pool's new Nodes with the Nodes they replace.
	replaced := map[string][]string{} // pool -> names of its Nodes that go
	for _, n := range gone {
		if pool := n.Labels[simapi.LabelNodePool]; pool != "" {
			replaced[pool] = append(replaced[pool], n.Name)
		}
	}
	var rest []simapi.Node
	surged := map[string]bool{} // Nodes already replaced
	for _, n := range added {
		pool := n.Labels[simapi.LabelNodePool]
		old := replaced[pool]
		if pool == "" || len(old) == 0 {
			rest = append(rest, n)
			continue
		}
		if err := surge(ctx, cs, n, old[0]); err != nil {
			return err
		}
		surged[old[0]] = true
		replaced[pool] = old[1:]
	}
	for _, n := range rest {
		if err := createNode(ctx, cs, n); err != nil {
			return fmt.Errorf("node %q: %w", n.Name, err)
		}
	}
	for _, n := range gone {
		if surged[n.Name] {
			continue
		}
		if err := deleteNode(ctx, cs, n.Name); err != nil {
			return fmt.Errorf("node %q: %w", n.Name, err)
		}
	}
	return waitSchedulable(ctx, cs, nodes)
}

// surge replaces the Node old with n: n is created and becomes schedulable before old is
// cordoned and deleted, with its pods, so that the pool never has fewer Nodes than it
// should.
func surge(ctx context.Context, cs kubernetes.Interface, n simapi.Node, old string) error {
	if err := createNode(ctx, cs, n); err != nil {
		return fmt.Errorf("node %q (replacing %q): %w", n.Name, old, err)
	}
	if err := waitSchedulable(ctx, cs, []simapi.Node{n}); err != nil {
		return fmt.Errorf("node %q (replacing %q): %w", n.Name, old, err)
	}
	if err := mergePatch(ctx, cs, old, map[string]any{"spec": map[string]any{"unschedulable": true}}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("node %q: cordoning: %w", old, err)
	}
	if err := deleteNode(ctx, cs, old); err != nil {
		return fmt.Errorf("node %q: %w", old, err)
	}
	return nil
}

// validateNodes reports every problem with the wanted nodes at once.
func validateNodes(nodes []simapi.Node) error {
	var errs []error
	seen := map[string]bool{}
	for i, n := range nodes {
		for _, msg := range validation.IsDNS1123Subdomain(n.Name) {
			errs = append(errs, fmt.Errorf("nodes[%d]: name %q: %s", i, n.Name, msg))
		}
		if seen[n.Name] {
			errs = append(errs, fmt.Errorf("nodes[%d]: name %q appears twice", i, n.Name))
		}
		seen[n.Name] = true
		for k, v := range n.Labels {
			for _, msg := range validation.IsQualifiedName(k) {
				errs = append(errs, fmt.Errorf("nodes[%d] %q: label key %q: %s", i, n.Name, k, msg))
			}
			for _, msg := range validation.IsValidLabelValue(v) {
				errs = append(errs, fmt.Errorf("nodes[%d] %q: label %q value %q: %s", i, n.Name, k, v, msg))
			}
		}
		for _, t := range n.Taints {
			switch corev1.TaintEffect(t.Effect) {
			case corev1.TaintEffectNoSchedule, corev1.TaintEffectPreferNoSchedule, corev1.TaintEffectNoExecute:
			default:
				errs = append(errs, fmt.Errorf("nodes[%d] %q: taint %q: effect %q: want NoSchedule, PreferNoSchedule or NoExecute", i, n.Name, t.Key, t.Effect))
			}
		}
		if n.MilliCPU <= 0 || n.MemoryBytes <= 0 || n.Pods <= 0 {
			errs = append(errs, fmt.Errorf("nodes[%d] %q: capacity cpu=%dm memory=%d pods=%d: each must be positive", i, n.Name, n.MilliCPU, n.MemoryBytes, n.Pods))
		}
	}
	return errors.Join(errs...)
}

// nodeLabels are the labels of a Node: the well-known ones a kubelet sets, then n's.
func nodeLabels(n simapi.Node) map[string]string {
	labels := map[string]string{
		"kubernetes.io/hostname": n.Name,
		"kubernetes.io/os":       "linux",
		"kubernetes.io/arch":     "amd64",
		"type":                   "kwok",
	}
	maps.Copy(labels, n.Labels)
	return labels
}

func nodeTaints(n simapi.Node) []corev1.Taint {
	taints := make([]corev1.Taint, 0, len(n.Taints))
	for _, t := range n.Taints {
		taints = append(taints, corev1.Taint{Key: t.Key, Value: t.Value, Effect: corev1.TaintEffect(t.Effect)})
	}
	return taints
}

func nodeResources(n simapi.Node) corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewMilliQuantity(n.MilliCPU, resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(n.MemoryBytes, resource.BinarySI),
		corev1.ResourcePods:   *resource.NewQuantity(n.Pods, resource.DecimalSI),
	}
}

func createNode(ctx context.Context, cs kubernetes.Interface, n simapi.Node) error {
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:   n.Name,
			Labels: nodeLabels(n),
			Annotations: map[string]string{
				kwokAnnotation:                 kwokAnnotationValue,
				"node.alpha.kubernetes.io/ttl": "0",
			},
		},
		Spec: corev1.NodeSpec{Taints: nodeTaints(n)},
		Status: corev1.NodeStatus{
			Capacity:    nodeResources(n),
			Allocatable: nodeResources(n),
			// kwok keeps the nodeInfo it finds and fills only what is empty.
			NodeInfo: corev1.NodeSystemInfo{KubeletVersion: n.KubeletVersion},
		},
	}
	_, err := cs.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{})
	return err
}

// systemTaint reports whether Kubernetes itself manages the taint (not-ready,
// unreachable, ...); SyncNodes leaves those to the node-lifecycle controller.
func systemTaint(t corev1.Taint) bool {
	return strings.HasPrefix(t.Key, "node.kubernetes.io/") || strings.HasPrefix(t.Key, "node.cloudprovider.kubernetes.io/")
}

// updateNode brings a Node to n with merge patches, which carry no resourceVersion: kwok
// and the node-lifecycle controller write to Nodes all the time, and an Update would keep
// conflicting with them. Taints Kubernetes manages itself are kept as they are.
func updateNode(ctx context.Context, cs kubernetes.Interface, cur *corev1.Node, n simapi.Node) error {
	wantLabels, wantRes := nodeLabels(n), nodeResources(n)
	taints := nodeTaints(n)
	for _, t := range cur.Spec.Taints {
		if systemTaint(t) {
			taints = append(taints, t)
		}
	}
	if !maps.Equal(cur.Labels, wantLabels) || !sameTaints(cur.Spec.Taints, taints) || cur.Annotations[kwokAnnotation] != kwokAnnotationValue {
		labels := map[string]any{}
		for k := range cur.Labels {
			labels[k] = nil
		}
		for k, v := range wantLabels {
			labels[k] = v
		}
		patch := map[string]any{
			"metadata": map[string]any{
				"labels":      labels,
				"annotations": map[string]any{kwokAnnotation: kwokAnnotationValue},
			},
			"spec": map[string]any{"taints": taints},
		}
		if err := mergePatch(ctx, cs, n.Name, patch); err != nil {
			return err
		}
	}
	kubelet := n.KubeletVersion != "" && cur.Status.NodeInfo.KubeletVersion != n.KubeletVersion
	if kubelet || !sameResources(cur.Status.Capacity, wantRes) || !sameResources(cur.Status.Allocatable, wantRes) {
		status := map[string]any{"capacity": wantRes, "allocatable": wantRes}
		if kubelet {
			status["nodeInfo"] = map[string]any{"kubeletVersion": n.KubeletVersion}
		}
		if err := mergePatch(ctx, cs, n.Name, map[string]any{"status": status}, "status"); err != nil {
			return err
		}
	}
	return nil
}

func mergePatch(ctx context.Context, cs kubernetes.Interface, name string, patch map[string]any, subresources ...string) error {
	b, err := json.Marshal(patch)
	if err != nil {
		return err
	}
	_, err = cs.CoreV1().Nodes().Patch(ctx, name, types.MergePatchType, b, metav1.PatchOptions{}, subresources...)
	return err
}

func sameTaints(a, b []corev1.Taint) bool {
	key := func(t corev1.Taint) string { return t.Key + "=" + t.Value + ":" + string(t.Effect) }
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i, t := range a {
		ka[i] = key(t)
	}
	for i, t := range b {
		kb[i] = key(t)
	}
	slices.Sort(ka)
	slices.Sort(kb)
	return slices.Equal(ka, kb)
}

func sameResources(have, want corev1.ResourceList) bool {
	for name, q := range want {
		h, ok := have[name]
		if !ok || h.Cmp(q) != 0 {
			return false
		}
	}
	return true
}

// deleteNode removes the Node and the pods bound to it at once, as when the instance is
// terminated; their controllers then recreate them and the scheduler places them anew.
func deleteNode(ctx context.Context, cs kubernetes.Interface, name string) error {
	err := cs.CoreV1().Nodes().Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	pods, err := cs.CoreV1().Pods("").List(ctx, metav1.ListOptions{
		FieldSelector: fields.OneTermEqualSelector("spec.nodeName", name).String(),
	})
	if err != nil {
		return fmt.Errorf("listing its pods: %w", err)
	}
	for _, pod := range pods.Items {
		err := cs.CoreV1().Pods(pod.Namespace).Delete(ctx, pod.Name, *metav1.NewDeleteOptions(0))
		if err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("deleting pod %s/%s: %w", pod.Namespace, pod.Name, err)
		}
	}
	return nil
}

// waitSchedulable waits until every node is Ready and rid of the not-ready taint.
func waitSchedulable(ctx context.Context, cs kubernetes.Interface, nodes []simapi.Node) error {
	if len(nodes) == 0 {
		return nil
	}
	var pending []string
	err := wait.PollUntilContextTimeout(ctx, 200*time.Millisecond, nodeReadyTimeout, true, func(ctx context.Context) (bool, error) {
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		if err != nil {
			return false, nil //nolint:nilerr // the API server may be briefly busy; retry until the timeout
		}
		ready := map[string]bool{}
		for _, n := range list.Items {
			ready[n.Name] = schedulable(&n)
		}
		pending = pending[:0]
		for _, n := range nodes {
			if !ready[n.Name] {
				pending = append(pending, n.Name)
			}
		}
		return len(pending) == 0, nil
	})
	if err != nil {
		return fmt.Errorf("nodes %s not Ready and schedulable after %s: %w (is kwok running? see its log)",
			strings.Join(pending, ", "), nodeReadyTimeout, err)
	}
	return nil
}

func schedulable(n *corev1.Node) bool {
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
