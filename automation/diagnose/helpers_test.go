package diagnose_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/flotilla-io/flotilla/automation/diagnose"
)

// now is when every test's diagnosis runs.
var now = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func ago(d time.Duration) metav1.Time { return metav1.NewTime(now.Add(-d)) }

// The cluster most tests run on: a system node of 2 CPUs, and a spot pool "general" of
// two 4-CPU nodes with the spot taint, as Flotilla's pools label and taint them.
func sysNode() *corev1.Node { return node("sys-0", "system", "on-demand", "2") }

func spotNode(name string) *corev1.Node {
	n := node(name, "general", "spot", "4")
	n.Spec.Taints = []corev1.Taint{{Key: "flotilla.io/capacity", Value: "spot", Effect: corev1.TaintEffectNoSchedule}}
	return n
}

func baseNodes() []runtime.Object {
	return []runtime.Object{sysNode(), spotNode("spot-0"), spotNode("spot-1")}
}

// basePools are the pools of the stack's "pools" output for that cluster.
var basePools = []diagnose.Pool{
	{Name: "system", Label: "system", Capacity: "on-demand", Desired: 1},
	{Name: "east-1-general-spot", Label: "general", Capacity: "spot", Desired: 2},
	{Name: "east-1-general-fallback", Label: "general", Capacity: "on-demand", FallbackFor: "east-1-general-spot"},
}

func node(name, pool, capacity, cpu string) *corev1.Node {
	alloc := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse(cpu),
		corev1.ResourceMemory: resource.MustParse("16Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	return &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: ago(time.Hour), Labels: map[string]string{
			"flotilla.io/pool": pool, "flotilla.io/capacity": capacity, "kubernetes.io/hostname": name,
			"topology.kubernetes.io/zone": "sim-east-1a",
		}},
		Status: corev1.NodeStatus{
			Capacity: alloc, Allocatable: alloc,
			Conditions: []corev1.NodeCondition{
				{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientMemory", Message: "kubelet has sufficient memory available"},
				{Type: corev1.NodeDiskPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasNoDiskPressure", Message: "kubelet has no disk pressure"},
				{Type: corev1.NodePIDPressure, Status: corev1.ConditionFalse, Reason: "KubeletHasSufficientPID", Message: "kubelet has sufficient PID available"},
				{Type: corev1.NodeReady, Status: corev1.ConditionTrue, Reason: "KubeletReady", Message: "kubelet is posting ready status", LastTransitionTime: ago(time.Hour)},
			},
		},
	}
}

// setCondition replaces a node condition, as the kubelet (pkg/kubelet/nodestatus/
// setters.go) or the node lifecycle controller writes it.
func setCondition(n *corev1.Node, c corev1.NodeCondition) *corev1.Node {
	for i := range n.Status.Conditions {
		if n.Status.Conditions[i].Type == c.Type {
			n.Status.Conditions[i] = c
			return n
		}
	}
	n.Status.Conditions = append(n.Status.Conditions, c)
	return n
}

type podOpt func(*corev1.Pod)

// pod is a pod of a Deployment's ReplicaSet, created ten minutes ago, Pending, with one
// container "app" requesting 100m CPU.
func pod(ns, name string, opts ...podOpt) *corev1.Pod {
	yes := true
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Namespace: ns, Name: name, UID: types.UID(ns + "-" + name), CreationTimestamp: ago(10 * time.Minute),
			OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: "api-7d9c", Controller: &yes}},
		},
		Spec: corev1.PodSpec{
			SchedulerName: corev1.DefaultSchedulerName,
			Containers: []corev1.Container{{Name: "app", Image: "registry.example/app:1", Resources: corev1.ResourceRequirements{
				Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
			}}},
		},
		Status: corev1.PodStatus{Phase: corev1.PodPending},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

// unschedulable is the PodScheduled condition the scheduler writes with its message
// (pkg/scheduler/schedule_one.go, handleSchedulingFailure).
func unschedulable(msg string) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{
			Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable,
			Message: msg, LastProbeTime: ago(time.Minute), LastTransitionTime: ago(9 * time.Minute),
		})
	}
}

func cpu(q string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU] = resource.MustParse(q)
	}
}

func selecting(kv ...string) podOpt {
	return func(p *corev1.Pod) {
		if p.Spec.NodeSelector == nil {
			p.Spec.NodeSelector = map[string]string{}
		}
		for i := 0; i+1 < len(kv); i += 2 {
			p.Spec.NodeSelector[kv[i]] = kv[i+1]
		}
	}
}

// toleratingSpot is the toleration a SpotNodePool's Tolerations output asks for.
func toleratingSpot(p *corev1.Pod) {
	p.Spec.Tolerations = append(p.Spec.Tolerations, corev1.Toleration{Key: "flotilla.io/capacity", Operator: corev1.TolerationOpEqual, Value: "spot", Effect: corev1.TaintEffectNoSchedule})
}

// running puts a pod on a node, Running, with its Ready condition as the kubelet
// generates it (pkg/kubelet/status/generate.go).
func running(nodeName string, ready bool, reason, msg string) podOpt {
	return func(p *corev1.Pod) {
		p.Spec.NodeName = nodeName
		p.Status.Phase = corev1.PodRunning
		status := corev1.ConditionTrue
		if !ready {
			status = corev1.ConditionFalse
		}
		p.Status.Conditions = []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: ago(10 * time.Minute)},
			{Type: corev1.PodInitialized, Status: corev1.ConditionTrue, LastTransitionTime: ago(9 * time.Minute)},
			{Type: corev1.ContainersReady, Status: status, Reason: reason, Message: msg, LastTransitionTime: ago(9 * time.Minute)},
			{Type: corev1.PodReady, Status: status, Reason: reason, Message: msg, LastTransitionTime: ago(9 * time.Minute)},
		}
	}
}

func container(st corev1.ContainerStatus) podOpt {
	return func(p *corev1.Pod) {
		st.Image = "registry.example/app:1"
		p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, st)
	}
}

// schedulerEvent is a FailedScheduling event as the core API shows the scheduler's
// events.k8s.io/v1 Event: EventTime and a Series, no count or timestamps of the old API.
func schedulerEvent(p *corev1.Pod, msg string, n int32, last time.Duration) *corev1.Event {
	e := event(p, corev1.EventTypeWarning, "FailedScheduling", msg)
	e.ReportingController, e.ReportingInstance, e.Action = "default-scheduler", "default-scheduler-sim", "Scheduling"
	e.EventTime = metav1.NewMicroTime(now.Add(-9 * time.Minute))
	if n > 1 {
		e.Series = &corev1.EventSeries{Count: n, LastObservedTime: metav1.NewMicroTime(now.Add(-last))}
	}
	return e
}

// kubeletEvent is an event of client-go's record recorder, as the kubelet sends it:
// Source, Count and the first and last timestamps, about one container.
func kubeletEvent(p *corev1.Pod, typ, reason, msg string, n int32, firstAgo, lastAgo time.Duration) *corev1.Event {
	e := event(p, typ, reason, msg)
	e.Source = corev1.EventSource{Component: "kubelet", Host: p.Spec.NodeName}
	e.InvolvedObject.FieldPath = "spec.containers{app}"
	e.Count, e.FirstTimestamp, e.LastTimestamp = n, ago(firstAgo), ago(lastAgo)
	return e
}

// autoscalerEvent is the cluster-autoscaler's event on a pod (its recorder is client-go's
// record, Source cluster-autoscaler).
func autoscalerEvent(p *corev1.Pod, reason, msg string, lastAgo time.Duration) *corev1.Event {
	e := event(p, corev1.EventTypeNormal, reason, msg)
	e.Source = corev1.EventSource{Component: "cluster-autoscaler"}
	e.Count, e.FirstTimestamp, e.LastTimestamp = 3, ago(8*time.Minute), ago(lastAgo)
	return e
}

var eventSeq int

func event(p *corev1.Pod, typ, reason, msg string) *corev1.Event {
	eventSeq++
	return &corev1.Event{
		ObjectMeta:     metav1.ObjectMeta{Namespace: p.Namespace, Name: fmt.Sprintf("%s.%x", p.Name, eventSeq), CreationTimestamp: ago(9 * time.Minute)},
		InvolvedObject: corev1.ObjectReference{Kind: "Pod", Namespace: p.Namespace, Name: p.Name, UID: p.UID, APIVersion: "v1"},
		Type:           typ, Reason: reason, Message: msg,
	}
}

// diagnoseObjects runs a diagnosis over a fake clientset holding objs.
func diagnoseObjects(t *testing.T, opts diagnose.Options, objs ...runtime.Object) diagnose.Report {
	t.Helper()
	opts.Now = now
	rep, err := diagnose.Diagnose(context.Background(), fake.NewClientset(objs...), opts)
	require.NoError(t, err)
	return rep
}

// findingOf returns the finding of one pod, or of one node when pod is "".
func findingOf(t *testing.T, rep diagnose.Report, ns, pod, node string) diagnose.Finding {
	t.Helper()
	for _, f := range rep.Findings {
		if f.Namespace == ns && f.Pod == pod && (pod != "" || f.Node == node) {
			return f
		}
	}
	t.Fatalf("no finding for %s/%s %s in %+v", ns, pod, node, rep.Findings)
	return diagnose.Finding{}
}
