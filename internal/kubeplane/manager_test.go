package kubeplane

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/client-go/kubernetes"

	"github.com/flotilla-io/flotilla/internal/fleetsim/simapi"
)

func poolNodes(pool string, n int, taints []simapi.Taint, milliCPU int64) []simapi.Node {
	nodes := make([]simapi.Node, n)
	for i := range nodes {
		nodes[i] = simapi.Node{
			Name: pool + "-" + string(rune('a'+i)),
			Labels: map[string]string{
				"flotilla.io/pool":                 pool,
				"node.kubernetes.io/instance-type": "m5.xlarge",
				"topology.kubernetes.io/zone":      "eu-west-1" + string(rune('a'+i)),
			},
			Taints:      taints,
			MilliCPU:    milliCPU,
			MemoryBytes: 16 << 30,
			Pods:        58,
		}
	}
	return nodes
}

func pod(name string, cpu string) *corev1.Pod {
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: corev1.PodSpec{Containers: []corev1.Container{{
			Name:      "app",
			Image:     "registry.example/app:1",
			Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}},
		}}},
	}
}

// TestPlane drives one real control plane through what the simulator needs of it: Nodes
// that match the pools, the real scheduler's decisions, scaling, and kubectl access.
func TestPlane(t *testing.T) {
	t.Parallel()
	m, _ := newManager(t)
	plane := ensurePlane(t, m, "plane-nodes")
	cs := clientFor(t, plane)
	ctx := ctxTimeout(t, 5*time.Minute)

	want, err := exec.Command(filepath.Join(m.binDir, apiServer), "--version").Output()
	require.NoError(t, err)
	assert.Equal(t, strings.TrimPrefix(strings.TrimSpace(string(want)), "Kubernetes "), plane.BinaryVersion)
	assert.True(t, strings.HasPrefix(plane.Endpoint, "https://127.0.0.1:"), plane.Endpoint)
	for _, c := range components {
		assert.Positive(t, plane.PIDs[c], c)
	}

	spotTaint := []simapi.Taint{{Key: "flotilla.io/capacity", Value: "spot", Effect: "NoSchedule"}}
	nodes := append(poolNodes("general", 2, nil, 2000), poolNodes("spot", 1, spotTaint, 2000)...)
	nodes[2].Labels["flotilla.io/capacity"] = "spot"
	require.NoError(t, m.SyncNodes(ctx, "plane-nodes", nodes))

	t.Run("nodes read back through client-go match the pools", func(t *testing.T) {
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		require.Len(t, list.Items, 3)
		for _, want := range nodes {
			got, err := cs.CoreV1().Nodes().Get(ctx, want.Name, noGet)
			require.NoError(t, err)
			for k, v := range want.Labels {
				assert.Equal(t, v, got.Labels[k], "%s label %s", want.Name, k)
			}
			assert.Equal(t, "fake", got.Annotations["kwok.x-k8s.io/node"])
			var taints []simapi.Taint
			for _, tt := range got.Spec.Taints {
				taints = append(taints, simapi.Taint{Key: tt.Key, Value: tt.Value, Effect: string(tt.Effect)})
			}
			assert.Equal(t, want.Taints, taints, want.Name)
			for _, res := range []corev1.ResourceList{got.Status.Capacity, got.Status.Allocatable} {
				assert.Equal(t, want.MilliCPU, res.Cpu().MilliValue(), want.Name)
				assert.Equal(t, want.MemoryBytes, res.Memory().Value(), want.Name)
				assert.Equal(t, want.Pods, res.Pods().Value(), want.Name)
			}
			assert.True(t, schedulable(got), "%s is not Ready and untainted: %+v", want.Name, got.Status.Conditions)
		}
	})

	t.Run("a pod that fits no node stays Pending with the scheduler's message", func(t *testing.T) {
		big := pod("too-big", "3")
		big.Spec.Tolerations = []corev1.Toleration{{Key: "flotilla.io/capacity", Operator: corev1.TolerationOpExists}}
		_, err := cs.CoreV1().Pods("default").Create(ctx, big, metav1.CreateOptions{})
		require.NoError(t, err)
		var msg string
		require.Eventually(t, func() bool {
			ev, err := cs.CoreV1().Events("default").List(ctx, metav1.ListOptions{
				FieldSelector: fields.Set{"involvedObject.name": "too-big", "reason": "FailedScheduling"}.String(),
			})
			if err != nil || len(ev.Items) == 0 {
				return false
			}
			msg = ev.Items[0].Message
			return true
		}, time.Minute, 200*time.Millisecond)
		assert.Contains(t, msg, "0/3 nodes are available")
		assert.Contains(t, msg, "3 Insufficient cpu")
		got, err := cs.CoreV1().Pods("default").Get(ctx, "too-big", noGet)
		require.NoError(t, err)
		assert.Equal(t, corev1.PodPending, got.Status.Phase)
		assert.Empty(t, got.Spec.NodeName)
	})

	t.Run("a pod selecting the spot pool and tolerating spot runs there", func(t *testing.T) {
		p := pod("on-spot", "500m")
		p.Spec.NodeSelector = map[string]string{"flotilla.io/pool": "spot"}
		p.Spec.Tolerations = []corev1.Toleration{{Key: "flotilla.io/capacity", Operator: corev1.TolerationOpEqual, Value: "spot", Effect: corev1.TaintEffectNoSchedule}}
		_, err := cs.CoreV1().Pods("default").Create(ctx, p, metav1.CreateOptions{})
		require.NoError(t, err)
		require.Eventually(t, func() bool {
			got, err := cs.CoreV1().Pods("default").Get(ctx, "on-spot", noGet)
			return err == nil && got.Status.Phase == corev1.PodRunning
		}, time.Minute, 200*time.Millisecond)
		got, err := cs.CoreV1().Pods("default").Get(ctx, "on-spot", noGet)
		require.NoError(t, err)
		assert.Equal(t, "spot-a", got.Spec.NodeName)
	})

	t.Run("kubectl works with the kubeconfig", func(t *testing.T) {
		kc := filepath.Join(t.TempDir(), "kubeconfig")
		require.NoError(t, os.WriteFile(kc, []byte(plane.Kubeconfig), 0o600))
		out, err := exec.CommandContext(ctx, "kubectl", "--kubeconfig", kc, "get", "nodes", "-o", "name").CombinedOutput()
		require.NoError(t, err, string(out))
		assert.Equal(t, "node/general-a\nnode/general-b\nnode/spot-a\n", string(out))
	})

	t.Run("updates change labels, taints and capacity in place", func(t *testing.T) {
		changed := append([]simapi.Node(nil), nodes...)
		changed[0].Labels = map[string]string{"flotilla.io/pool": "general", "tier": "gold"}
		changed[0].Taints = []simapi.Taint{{Key: "dedicated", Value: "gold", Effect: "NoExecute"}}
		changed[0].MilliCPU = 8000
		require.NoError(t, m.SyncNodes(ctx, "plane-nodes", changed))
		got, err := cs.CoreV1().Nodes().Get(ctx, "general-a", noGet)
		require.NoError(t, err)
		assert.Equal(t, "gold", got.Labels["tier"])
		assert.NotContains(t, got.Labels, "topology.kubernetes.io/zone")
		assert.Equal(t, []corev1.Taint{{Key: "dedicated", Value: "gold", Effect: corev1.TaintEffectNoExecute}}, got.Spec.Taints)
		assert.Equal(t, int64(8000), got.Status.Allocatable.Cpu().MilliValue())
		assert.Equal(t, int64(8000), got.Status.Capacity.Cpu().MilliValue())
	})

	t.Run("scaling down removes Nodes and their pods", func(t *testing.T) {
		require.NoError(t, m.SyncNodes(ctx, "plane-nodes", nodes[:1]))
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		require.Len(t, list.Items, 1)
		assert.Equal(t, "general-a", list.Items[0].Name)
		_, err = cs.CoreV1().Pods("default").Get(ctx, "on-spot", noGet)
		assert.True(t, apierrors.IsNotFound(err), "the pod on the removed node is gone: %v", err)

		require.NoError(t, m.SyncNodes(ctx, "plane-nodes", nil))
		list, err = cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		assert.Empty(t, list.Items)
	})
}

func configMap(name string) *corev1.ConfigMap {
	return &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: map[string]string{"kept": name}}
}

// TestPlanesSideBySide runs two planes at once and deletes them one after the other.
func TestPlanesSideBySide(t *testing.T) {
	t.Parallel()
	m, home := newManager(t)
	ctx := ctxTimeout(t, 5*time.Minute)
	ids := []string{"side-a", "side-b"}
	planes := make([]simapi.Plane, len(ids))
	var wg sync.WaitGroup
	errs := make([]error, len(ids))
	for i, id := range ids {
		wg.Go(func() { planes[i], errs[i] = m.EnsurePlane(ctx, id) })
	}
	// Both planes are deleted whatever happens, even when only one of them started.
	t.Cleanup(func() {
		for _, id := range ids {
			assert.NoError(t, m.DeletePlane(context.Background(), id))
		}
	})
	wg.Wait()
	for i, id := range ids {
		require.NoError(t, errs[i], id)
	}
	assert.NotEqual(t, planes[0].Endpoint, planes[1].Endpoint)
	pa, pb := planePorts(t, home, ids[0]), planePorts(t, home, ids[1])
	for _, port := range pa.list() {
		assert.NotContains(t, pb.list(), port)
	}

	a, b := clientFor(t, planes[0]), clientFor(t, planes[1])
	_, err := a.CoreV1().ConfigMaps("default").Create(ctx, configMap("only-in-a"), metav1.CreateOptions{})
	require.NoError(t, err)
	_, err = b.CoreV1().ConfigMaps("default").Get(ctx, "only-in-a", noGet)
	assert.True(t, apierrors.IsNotFound(err), "planes share no data: %v", err)

	require.NoError(t, m.DeletePlane(ctx, ids[0]))
	for c, pid := range planes[0].PIDs {
		assert.True(t, pidGone(pid), "%s (pid %d) is still alive", c, pid)
	}
	for _, port := range pa.list() {
		assert.True(t, portFree(port), "port %d is still in use", port)
	}
	assert.NoDirExists(t, filepath.Join(home, "planes", ids[0]))
	require.NoError(t, m.DeletePlane(ctx, ids[0]), "deleting twice is fine")

	_, err = b.CoreV1().Namespaces().Get(ctx, "default", noGet)
	assert.NoError(t, err, "the other plane still serves")
	for c, pid := range planes[1].PIDs {
		assert.False(t, pidGone(pid), "%s of the other plane died", c)
	}
}

// TestAdoption shows that planes outlive their Manager: a new one adopts a healthy plane
// as it is, and restarts a plane whose processes were killed, with its data intact.
func TestAdoption(t *testing.T) {
	t.Parallel()
	first, home := newManager(t)
	ctx := ctxTimeout(t, 5*time.Minute)
	const id = "adopted"
	started := ensurePlane(t, first, id)
	_, err := clientFor(t, started).CoreV1().ConfigMaps("default").Create(ctx, configMap("survivor"), metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, first.SyncNodes(ctx, id, poolNodes("general", 2, nil, 2000)))

	second := New(home, first.binDir)
	adopted, err := second.EnsurePlane(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, started.PIDs, adopted.PIDs, "a healthy plane is adopted, not restarted")
	assert.Equal(t, started.Endpoint, adopted.Endpoint)
	assert.Equal(t, started.Kubeconfig, adopted.Kubeconfig)

	for _, c := range []string{etcd, apiServer, kwok} {
		require.NoError(t, syscall.Kill(started.PIDs[c], syscall.SIGKILL))
	}
	require.Eventually(t, func() bool {
		return !alive(started.PIDs[etcd]) && !alive(started.PIDs[apiServer]) && !alive(started.PIDs[kwok])
	}, 10*time.Second, 50*time.Millisecond)

	third := New(home, first.binDir)
	restarted, err := third.EnsurePlane(ctx, id)
	require.NoError(t, err)
	for _, c := range components {
		assert.NotEqual(t, started.PIDs[c], restarted.PIDs[c], "%s restarted", c)
		assert.True(t, ownedBy(restarted.PIDs[c], c, filepath.Join(home, "planes", id)), c)
		if c != etcd && c != apiServer && c != kwok {
			assert.True(t, pidGone(started.PIDs[c]), "the survivor %s was stopped before the restart", c)
		}
	}
	cs := clientFor(t, restarted)
	cm, err := cs.CoreV1().ConfigMaps("default").Get(ctx, "survivor", noGet)
	require.NoError(t, err, "data survives the restart")
	assert.Equal(t, "survivor", cm.Data["kept"])
	nodeNames := func(cs kubernetes.Interface) []string {
		list, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
		require.NoError(t, err)
		var names []string
		for _, n := range list.Items {
			names = append(names, n.Name)
		}
		return names
	}
	assert.ElementsMatch(t, []string{"general-a", "general-b"}, nodeNames(cs))
	require.NoError(t, third.SyncNodes(ctx, id, poolNodes("general", 3, nil, 2000)), "the restarted kwok plays the nodes")
	assert.ElementsMatch(t, []string{"general-a", "general-b", "general-c"}, nodeNames(cs))

	require.NoError(t, third.DeletePlane(ctx, id))
	for c, pid := range restarted.PIDs {
		assert.True(t, pidGone(pid), "%s (pid %d) is still alive", c, pid)
	}
}

func TestInputsAreValidated(t *testing.T) {
	t.Parallel()
	m := New(t.TempDir(), t.TempDir())
	ctx := context.Background()
	tests := []struct {
		name  string
		err   func() error
		wants []string
	}{
		{
			name:  "binaries missing",
			err:   func() error { _, err := m.EnsurePlane(ctx, "ok"); return err },
			wants: []string{"kube-apiserver", "kwok-stages.yaml", "run `make kube`"},
		},
		{
			name:  "cluster ID that is no path element",
			err:   func() error { _, err := m.EnsurePlane(ctx, "../escape"); return err },
			wants: []string{`"../escape"`},
		},
		{
			name: "every bad node at once",
			err: func() error {
				return m.SyncNodes(ctx, "ok", []simapi.Node{
					{Name: "Bad_Name", MilliCPU: 1, MemoryBytes: 1, Pods: 1},
					{Name: "dup", MilliCPU: 1, MemoryBytes: 1, Pods: 1},
					{Name: "dup", MilliCPU: 0, MemoryBytes: 1, Pods: 1, Taints: []simapi.Taint{{Key: "k", Effect: "Sometimes"}}},
				})
			},
			wants: []string{`"Bad_Name"`, `"dup" appears twice`, `effect "Sometimes"`, "cpu=0m"},
		},
		{
			name:  "nodes of a plane never started",
			err:   func() error { return m.SyncNodes(ctx, "never", nil) },
			wants: []string{"call EnsurePlane first"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.err()
			require.Error(t, err)
			for _, w := range tt.wants {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

// TestPortTakenBeforeBind shows that a plane whose port another process binds between
// being chosen and being bound starts on new ports instead of failing.
func TestPortTakenBeforeBind(t *testing.T) {
	t.Parallel()
	m, home := newManager(t)
	var squatted []int
	m.portsChosen = func(pt ports) {
		if len(squatted) > 0 {
			return
		}
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(pt.APIServer)))
		require.NoError(t, err)
		t.Cleanup(func() { l.Close() })
		squatted = append(squatted, pt.APIServer)
	}
	p := ensurePlane(t, m, "squatted")
	require.Len(t, squatted, 1, "the hook took a port")
	assert.NotEqual(t, squatted[0], planePorts(t, home, "squatted").APIServer, "the plane moved off the taken port")
	_, err := clientFor(t, p).CoreV1().Namespaces().Get(context.Background(), "default", noGet)
	assert.NoError(t, err, "the plane serves on its new port")
}
