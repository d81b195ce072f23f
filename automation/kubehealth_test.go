package automation_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/rest"

	"github.com/flotilla-io/flotilla/automation"
)

func khKubeconfig(server string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: c
  cluster:
    server: %s
    insecure-skip-tls-verify: true
contexts:
- name: c
  context: {cluster: c, user: u}
current-context: c
users:
- name: u
  user: {token: t}
`, server)
}

func khNode(name, pool, capacity string, ready bool) *corev1.Node {
	status := corev1.ConditionTrue
	reason, msg := "KubeletReady", ""
	if !ready {
		status, reason, msg = corev1.ConditionFalse, "KubeletNotReady", "container runtime is down"
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"flotilla.io/pool": pool, "flotilla.io/capacity": capacity}},
		Status: corev1.NodeStatus{Conditions: []corev1.NodeCondition{
			{Type: corev1.NodeReady, Status: status, Reason: reason, Message: msg},
		}},
	}
}

func khPod(name string, phase corev1.PodPhase, schedMsg string) *corev1.Pod {
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: "kube-system"}, Status: corev1.PodStatus{Phase: phase}}
	if schedMsg != "" {
		p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: "Unschedulable", Message: schedMsg}}
	}
	return p
}

// khWorkload is a team's pod the scheduler cannot place, created five minutes ago.
func khWorkload(ns, name, schedMsg string) *corev1.Pod {
	p := khPod(name, corev1.PodPending, schedMsg)
	p.Namespace, p.UID = ns, types.UID(ns+"-"+name)
	p.CreationTimestamp = metav1.NewTime(time.Now().Add(-5 * time.Minute))
	p.Spec.Containers = []corev1.Container{{Name: "app", Image: "registry.example/api:1", Resources: corev1.ResourceRequirements{
		Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1500m")},
	}}}
	return p
}

// khAutoscalerEvent is the cluster-autoscaler's NotTriggerScaleUp on a pod
// (kubernetes/autoscaler cluster-autoscaler/processors/status/eventing_scale_up_processor.go).
func khAutoscalerEvent(p *corev1.Pod, msg string) *corev1.Event {
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: p.Namespace, Name: p.Name + ".ca"},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID},
		Type:           corev1.EventTypeNormal, Reason: "NotTriggerScaleUp", Message: msg, Count: 4,
		Source:        corev1.EventSource{Component: "cluster-autoscaler"},
		LastTimestamp: metav1.NewTime(time.Now().Add(-30 * time.Second)),
	}
}

// khPools is a cluster with a system pool of 1 and a spot pool of 2 with its fallback.
var khPools = map[string][]automation.PoolSpec{"east-1": {
	{Name: "system", Label: "system", Capacity: "on-demand", Desired: 1},
	{Name: "general-spot", Label: "general", Capacity: "spot", Desired: 2},
	{Name: "general-fallback", Label: "general", Capacity: "on-demand", FallbackFor: "general-spot"},
}}

func fakeHealth(objs ...runtime.Object) *automation.KubeHealth {
	return automation.NewKubeHealth(
		automation.WithPoolSource(automation.PoolSourceFunc(func(context.Context, automation.StackRef, automation.Outputs) (map[string][]automation.PoolSpec, error) {
			return khPools, nil
		})),
		automation.WithClientsets(func(*rest.Config) (kubernetes.Interface, error) { return fake.NewClientset(objs...), nil }),
	)
}

var (
	khRef     = automation.StackRef{Environment: "staging", Stack: "staging"}
	khOutputs = automation.Outputs{"kubeconfigs": {Secret: true, Value: map[string]any{"east-1": khKubeconfig("https://127.0.0.1:6443")}}}
)

func TestKubeHealth(t *testing.T) {
	t.Parallel()
	healthy := []runtime.Object{
		khNode("sys-a-0", "system", "on-demand", true),
		khNode("gen-a-0", "general", "spot", true), khNode("gen-b-0", "general", "spot", true),
		khPod("coredns-1", corev1.PodRunning, ""),
	}
	tests := []struct {
		name    string
		objs    []runtime.Object
		want    []string // problems, exactly
		summary string
	}{
		{name: "healthy", objs: healthy, summary: "3 node(s) Ready in 3 pool(s), 1 kube-system pod(s), none Pending"},
		{name: "node NotReady", objs: []runtime.Object{
			khNode("sys-a-0", "system", "on-demand", false),
			khNode("gen-a-0", "general", "spot", true), khNode("gen-b-0", "general", "spot", true),
		}, want: []string{
			"east-1: pool system: 0/1 nodes Ready (not Ready: sys-a-0 (Ready=False, KubeletNotReady: container runtime is down)); 1 missing",
			"east-1: node sys-a-0: NotReady (Ready=False): KubeletNotReady: container runtime is down; next: its kubelet reports it not ready: check the container runtime and the network plugin on it (its condition's message), or replace the node",
		}},
		{name: "missing nodes", objs: []runtime.Object{
			khNode("gen-a-0", "general", "spot", true), khNode("gen-b-0", "general", "spot", true),
		}, want: []string{"east-1: pool system: 0/1 nodes Ready; 1 missing"}},
		{name: "spot short, covered by the fallback", objs: []runtime.Object{
			khNode("sys-a-0", "system", "on-demand", true),
			khNode("fb-a-0", "general", "on-demand", true), khNode("fb-b-0", "general", "on-demand", true),
		}, summary: "3 node(s) Ready in 3 pool(s), 0 kube-system pod(s), none Pending; spot pool general-spot short 2, covered by general-fallback"},
		{name: "spot short, not covered", objs: []runtime.Object{
			khNode("sys-a-0", "system", "on-demand", true),
			khNode("fb-a-0", "general", "on-demand", true),
		}, want: []string{"east-1: pool general-spot: 0/2 nodes Ready; its fallback general-fallback covers 1 of the 2 missing (spot shortage not covered)"}},
		{name: "spot short, no fallback at all", objs: []runtime.Object{
			khNode("sys-a-0", "system", "on-demand", true),
		}, want: []string{"east-1: pool general-spot: 0/2 nodes Ready; its fallback general-fallback covers 0 of the 2 missing (spot shortage not covered)"}},
		{name: "Pending kube-system pod", objs: append(healthy[:3:3], khPod("coredns-xyz", corev1.PodPending, "0/3 nodes are available: 3 node(s) had untolerated taint")),
			// The diagnosis's cause replaces the scheduler's raw message.
			want: []string{"east-1: pod kube-system/coredns-xyz Pending: 0/3 nodes fit it: 3 have a taint it does not tolerate; next: tolerate the taints of the pool it should run on, or select a pool without them"}},
		{name: "a workload Pending outside kube-system does not fail the gate", objs: append(healthy[:4:4], khWorkload("payments", "api-a", "0/3 nodes are available: 3 Insufficient cpu.")),
			summary: "3 node(s) Ready in 3 pool(s), 1 kube-system pod(s), none Pending"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			before := time.Now()
			rep, err := fakeHealth(tt.objs...).Check(context.Background(), khRef, khOutputs)
			require.NoError(t, err)
			assert.Equal(t, khRef, rep.Stack)
			assert.False(t, rep.Checked.Before(before), "Checked is when the reading was taken")
			require.Len(t, rep.Clusters, 1)
			assert.Equal(t, "kubernetes", rep.Clusters[0].Source)
			assert.Equal(t, tt.want, rep.Problems())
			assert.Equal(t, len(tt.want) == 0, rep.Healthy())
			if tt.summary != "" {
				assert.Equal(t, tt.summary, rep.Clusters[0].Summary)
			}
		})
	}
}

// An unhealthy cluster says why: the diagnosis's causes follow the gate's problems.
func TestKubeHealthSaysWhy(t *testing.T) {
	t.Parallel()
	msg := "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod."
	a, b := khWorkload("payments", "api-a", msg), khWorkload("payments", "api-b", msg)
	objs := []runtime.Object{
		khNode("sys-a-0", "system", "on-demand", true),
		khNode("fb-a-0", "general", "on-demand", true), // the fallback covers 1 of 2
		a, b,
		khAutoscalerEvent(a, "pod didn't trigger scale-up: 1 max node group size reached"),
		khAutoscalerEvent(b, "pod didn't trigger scale-up: 1 max node group size reached"),
	}
	rep, err := fakeHealth(objs...).Check(context.Background(), khRef, khOutputs)
	require.NoError(t, err)
	assert.Equal(t, []string{
		"east-1: pool general-spot: 0/2 nodes Ready; its fallback general-fallback covers 1 of the 2 missing (spot shortage not covered)",
		"east-1: 2 pods Pending in payments (api-a, api-b): 0/2 nodes fit it: 2 lack free cpu; the autoscaler cannot add nodes for it: max node group size reached (1 node group); " +
			"next: raise the max size of the node group(s) at their limit (the pool's maxSize in its stack file), or lower the pod's requests",
	}, rep.Problems())
}

func TestKubeHealthExplainsAtMostAFewFindings(t *testing.T) {
	t.Parallel()
	objs := []runtime.Object{khNode("sys-a-0", "system", "on-demand", false)}
	for i := range 8 {
		objs = append(objs, khWorkload(fmt.Sprintf("team-%d", i), "api", "0/1 nodes are available: 1 node(s) had untolerated taint(s)."))
	}
	rep, err := fakeHealth(objs...).Check(context.Background(), khRef, khOutputs)
	require.NoError(t, err)
	problems := rep.Problems()
	require.Len(t, problems, 2+6+1, "the pools' problems, six findings, and how many more: %q", problems)
	assert.Contains(t, problems[2], "east-1: pod team-0/api Pending: 0/1 nodes fit it: 1 have a taint it does not tolerate; next: ")
	assert.Equal(t, "east-1: and 3 more finding(s): `flotilla diagnose` lists them", problems[8])
}

func TestKubeHealthUnreachableAPIFailsQuickly(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	server := "https://" + l.Addr().String()
	require.NoError(t, l.Close()) // nothing answers there any more

	h := automation.NewKubeHealth(
		automation.WithPoolSource(automation.PoolSourceFunc(func(context.Context, automation.StackRef, automation.Outputs) (map[string][]automation.PoolSpec, error) {
			return khPools, nil
		})),
		automation.WithSettle(time.Minute, 100*time.Millisecond), // never waited for
	)
	start := time.Now()
	rep, err := h.Check(context.Background(), khRef, automation.Outputs{"kubeconfigs": {Value: map[string]any{"east-1": khKubeconfig(server)}}})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 5*time.Second)
	require.False(t, rep.Healthy())
	require.Len(t, rep.Problems(), 1)
	assert.Contains(t, rep.Problems()[0], "east-1: the API server at "+server+" does not answer: ")
	assert.Contains(t, rep.Problems()[0], "connection refused")
}

func TestKubeHealthHungAPIIsBounded(t *testing.T) {
	t.Parallel()
	// A server that accepts connections and never answers, as a wedged control plane.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
		}
	}()
	h := automation.NewKubeHealth(
		automation.WithPoolSource(automation.PoolSourceFunc(func(context.Context, automation.StackRef, automation.Outputs) (map[string][]automation.PoolSpec, error) {
			return khPools, nil
		})),
		automation.WithKubeCallTimeout(500*time.Millisecond),
	)
	start := time.Now()
	rep, err := h.Check(context.Background(), khRef, automation.Outputs{"kubeconfigs": {Value: map[string]any{"east-1": khKubeconfig("https://" + l.Addr().String())}}})
	require.NoError(t, err)
	assert.Less(t, time.Since(start), 3*time.Second)
	require.False(t, rep.Healthy())
	assert.Contains(t, rep.Problems()[0], "does not answer")
}

func TestKubeHealthSettlesWhileNodesArrive(t *testing.T) {
	t.Parallel()
	cs := fake.NewClientset(khNode("sys-a-0", "system", "on-demand", true), khNode("gen-a-0", "general", "spot", true))
	h := automation.NewKubeHealth(
		automation.WithPoolSource(automation.PoolSourceFunc(func(context.Context, automation.StackRef, automation.Outputs) (map[string][]automation.PoolSpec, error) {
			return khPools, nil
		})),
		automation.WithClientsets(func(*rest.Config) (kubernetes.Interface, error) { return cs, nil }),
		automation.WithSettle(10*time.Second, 50*time.Millisecond),
	)
	go func() {
		time.Sleep(200 * time.Millisecond)
		_, _ = cs.CoreV1().Nodes().Create(context.Background(), khNode("gen-b-0", "general", "spot", true), metav1.CreateOptions{})
	}()
	rep, err := h.Check(context.Background(), khRef, khOutputs)
	require.NoError(t, err)
	assert.Empty(t, rep.Problems())
}

func TestKubeHealthNeedsKubeconfigs(t *testing.T) {
	t.Parallel()
	_, err := fakeHealth().Check(context.Background(), khRef, automation.Outputs{})
	assert.ErrorContains(t, err, `the stack has no "kubeconfigs" output`)
}

func TestKubeHealthOutputPools(t *testing.T) {
	t.Parallel()
	out := automation.Outputs{"pools": {Value: map[string]any{"east-1": []any{
		map[string]any{"name": "system", "label": "system", "capacityType": "on-demand", "minSize": 1.0, "maxSize": 3.0},
		map[string]any{"name": "general-spot", "label": "general", "capacityType": "spot", "minSize": 2, "maxSize": 6},
		map[string]any{"name": "general-fallback", "label": "general", "capacityType": "on-demand", "minSize": 0.0, "maxSize": 6.0, "fallbackFor": "general-spot"},
	}}}}
	got, err := automation.OutputPools().Pools(context.Background(), khRef, out)
	require.NoError(t, err)
	assert.Equal(t, khPools, got)

	_, err = automation.OutputPools().Pools(context.Background(), khRef, automation.Outputs{})
	assert.ErrorContains(t, err, `no "pools" output`)
}
