package diagnose_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/flotilla-io/flotilla/automation/diagnose"
)

// v1.37's message for a pod no untainted node has room for, on the base cluster.
const cpuShort = "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint(s). preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling."

func TestPendingPods(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		nodes []runtime.Object // default baseNodes()
		pools []diagnose.Pool  // default basePools
		pod   *corev1.Pod
		// extra objects: events, about the pod
		events  func(p *corev1.Pod) []runtime.Object
		cause   diagnose.Cause
		summary []string // substrings of the summary
		next    []string // substrings of the next step
		check   func(t *testing.T, f diagnose.Finding)
	}{
		{
			name:    "too big for any node",
			pod:     pod("payments", "huge", cpu("64"), unschedulable(cpuShort)),
			cause:   diagnose.CausePodTooBig,
			summary: []string{"0/3 nodes fit it: 1 lack free cpu, 2 have a taint it does not tolerate (flotilla.io/capacity=spot:NoSchedule)", "it requests cpu 64, more than any node it can run on holds (the largest, sys-0, has 2 allocatable)"},
			next:    []string{"lower its requests", "larger instance type"},
			check: func(t *testing.T, f diagnose.Finding) {
				require.NotNil(t, f.Scheduling)
				assert.Equal(t, 3, f.Scheduling.Nodes)
				assert.Equal(t, "0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling", f.Scheduling.Preemption)
			},
		},
		{
			name: "full, and the autoscaler's node group is at its max size",
			pod:  pod("payments", "api-a", cpu("1500m"), unschedulable(cpuShort)),
			events: func(p *corev1.Pod) []runtime.Object {
				return []runtime.Object{
					schedulerEvent(p, cpuShort, 14, time.Minute),
					autoscalerEvent(p, "NotTriggerScaleUp", "pod didn't trigger scale-up: 1 max node group size reached", 30*time.Second),
				}
			},
			cause:   diagnose.CauseInsufficientResources,
			summary: []string{"1 lack free cpu", "the autoscaler cannot add nodes for it: max node group size reached (1 node group)"},
			next:    []string{"raise the max size of the node group(s) at their limit"},
			check: func(t *testing.T, f diagnose.Finding) {
				require.NotNil(t, f.Autoscaler)
				assert.Equal(t, []diagnose.Reason{{Code: diagnose.ReasonMaxNodeGroupSize, Count: 1, Message: "max node group size reached"}}, f.Autoscaler.NoScaleUp)
				var counts []int32
				for _, e := range f.Evidence {
					if e.Source == "event" {
						counts = append(counts, e.Count)
					}
				}
				assert.Equal(t, []int32{14, 3}, counts, "the scheduler's event counted by its Series, the autoscaler's by Count")
			},
		},
		{
			name: "full, and the node group is in backoff",
			pod:  pod("payments", "api-b", cpu("1500m"), unschedulable(cpuShort)),
			events: func(p *corev1.Pod) []runtime.Object {
				return []runtime.Object{autoscalerEvent(p, "NotTriggerScaleUp", "(combined from similar events): pod didn't trigger scale-up: 1 in backoff after failed scale-up, 1 node(s) didn't match Pod's node affinity/selector", time.Minute)}
			},
			cause:   diagnose.CauseInsufficientResources,
			summary: []string{"in backoff after a failed scale-up (1 node group)", "a new node would not fit it either: node(s) didn't match Pod's node affinity/selector (1 node group)"},
			next:    []string{"backing off"},
		},
		{
			name: "full, and the autoscaler is adding a node",
			pod:  pod("payments", "api-c", cpu("1500m"), unschedulable(cpuShort)),
			events: func(p *corev1.Pod) []runtime.Object {
				return []runtime.Object{
					autoscalerEvent(p, "NotTriggerScaleUp", "pod didn't trigger scale-up: 1 in backoff after failed scale-up", 5*time.Minute),
					autoscalerEvent(p, "TriggeredScaleUp", "pod triggered scale-up: [{east-1-system 1->2 (max: 3)}]", time.Minute),
				}
			},
			cause:   diagnose.CauseInsufficientResources,
			summary: []string{"the autoscaler is adding nodes for it: east-1-system 1->2 (max 3)"},
			next:    []string{"wait for the new nodes"},
		},
		{
			name: "full, and the scale-up failed",
			pod:  pod("payments", "api-d", cpu("1500m"), unschedulable(cpuShort)),
			events: func(p *corev1.Pod) []runtime.Object {
				e := autoscalerEvent(p, "FailedScaleUp", "Node scale up in zones sim-east-1a associated with this pod failed: GCE quota exceeded. Pod is at risk of not being scheduled.", time.Minute)
				e.Type = corev1.EventTypeWarning
				return []runtime.Object{e}
			},
			cause:   diagnose.CauseInsufficientResources,
			summary: []string{"the autoscaler's scale-up for it failed: Node scale up in zones sim-east-1a associated with this pod failed: GCE quota exceeded. Pod is at risk of not being scheduled"},
			next:    []string{"quota"},
		},
		{
			name: "full, and expendable",
			pod: pod("batch", "low", cpu("1500m"), unschedulable(cpuShort), func(p *corev1.Pod) {
				prio := int32(-20)
				p.Spec.Priority, p.Spec.PriorityClassName = &prio, "batch-low"
			}),
			cause:   diagnose.CauseInsufficientResources,
			summary: []string{"the cluster-autoscaler ignores it: its priority -20 is below the expendable cutoff -10"},
			next:    []string{"priority of at least -10"},
			check: func(t *testing.T, f diagnose.Finding) {
				require.NotNil(t, f.Autoscaler)
				assert.True(t, f.Autoscaler.Expendable)
			},
		},
		{
			name:    "full, and no autoscaler said anything",
			pod:     pod("payments", "api-e", cpu("1500m"), unschedulable(cpuShort)),
			cause:   diagnose.CauseInsufficientResources,
			summary: []string{"no cluster-autoscaler event names it"},
			next:    []string{"check that the autoscaler runs"},
		},
		{
			name:    "too many pods",
			pod:     pod("payments", "many", unschedulable("0/3 nodes are available: 1 Too many pods, 2 node(s) had untolerated taint(s). preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.")),
			cause:   diagnose.CauseTooManyPods,
			summary: []string{"1 run their maximum number of pods"},
		},
		{
			name:    "selects the spot pool without its toleration",
			pod:     pod("payments", "worker", selecting("flotilla.io/pool", "general"), unschedulable("0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 node(s) had untolerated taint(s). preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")),
			cause:   diagnose.CauseMissingSpotToleration,
			summary: []string{"it selects spot pool east-1-general-spot (flotilla.io/pool=general) but does not tolerate flotilla.io/capacity=spot:NoSchedule"},
			next:    []string{"add the SpotNodePool's tolerations to the pod: tolerations: [{key: flotilla.io/capacity, operator: Equal, value: spot, effect: NoSchedule}]"},
			check: func(t *testing.T, f diagnose.Finding) {
				require.NotNil(t, f.Spot)
				assert.Equal(t, "general", f.Spot.Pool)
				assert.Equal(t, map[string]string{"flotilla.io/pool": "general"}, f.Spot.NodeSelector)
				assert.Equal(t, []string{"flotilla.io/capacity=spot:NoSchedule"}, f.Spot.Tolerations)
				assert.Equal(t, []string{"flotilla.io/capacity=spot:NoSchedule"}, f.Spot.MissingTolerations)
				assert.Empty(t, f.Spot.MissingSelector)
			},
		},
		{
			// On GCP the spot pool's nodes also carry the ComputeClass's label and taint,
			// which only the pool's node selector brings (components/spotpool/gcp.go).
			name: "tolerates spot without the pool's selector (GKE ComputeClass)",
			nodes: func() []runtime.Object {
				out := []runtime.Object{sysNode()}
				for _, name := range []string{"spot-0", "spot-1"} {
					n := spotNode(name)
					n.Labels["cloud.google.com/compute-class"] = "general"
					n.Spec.Taints = append(n.Spec.Taints, corev1.Taint{Key: "cloud.google.com/compute-class", Value: "general", Effect: corev1.TaintEffectNoSchedule})
					out = append(out, n)
				}
				return out
			}(),
			pod:     pod("payments", "batch", cpu("1500m"), toleratingSpot, unschedulable(cpuShort)),
			cause:   diagnose.CauseMissingSpotSelector,
			summary: []string{"it tolerates spot but does not select spot pool east-1-general-spot (flotilla.io/pool=general): it lacks the node selector cloud.google.com/compute-class=general, flotilla.io/pool=general and the tolerations cloud.google.com/compute-class=general:NoSchedule"},
			next:    []string{"nodeSelector cloud.google.com/compute-class=general, flotilla.io/pool=general", "{key: cloud.google.com/compute-class, operator: Equal, value: general, effect: NoSchedule}"},
		},
		{
			name:  "spot shortage with the fallback disabled",
			nodes: []runtime.Object{sysNode()},
			pools: []diagnose.Pool{
				{Name: "system", Label: "system", Capacity: "on-demand", Desired: 1},
				{Name: "east-1-general-spot", Label: "general", Capacity: "spot", Desired: 2},
			},
			pod:     pod("payments", "worker", selecting("flotilla.io/pool", "general"), toleratingSpot, unschedulable("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")),
			cause:   diagnose.CauseSpotShortage,
			summary: []string{"0/1 nodes fit it: 1 do not match its node selector or affinity", "spot pool east-1-general-spot (flotilla.io/pool=general) has 0 of its 2 nodes Ready: spot capacity is short, and it has no fallback pool to take over"},
			next:    []string{"enable the spot pool's on-demand fallback"},
			check: func(t *testing.T, f diagnose.Finding) {
				require.NotNil(t, f.Spot)
				assert.Equal(t, 0, f.Spot.ReadyNodes)
				assert.True(t, f.Spot.FallbackKnown)
				assert.Empty(t, f.Spot.Fallback)
			},
		},
		{
			name:  "spot shortage, and no toleration either",
			nodes: []runtime.Object{sysNode()},
			pools: []diagnose.Pool{
				{Name: "system", Label: "system", Capacity: "on-demand", Desired: 1},
				{Name: "east-1-general-spot", Label: "general", Capacity: "spot", Desired: 2},
			},
			pod:     pod("payments", "worker", selecting("flotilla.io/pool", "general"), unschedulable("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")),
			cause:   diagnose.CauseSpotShortage,
			summary: []string{"has 0 of its 2 nodes Ready", "once spot returns it still cannot land there: it does not tolerate flotilla.io/capacity=spot:NoSchedule"},
			next:    []string{"enable the spot pool's on-demand fallback", "add the SpotNodePool's tolerations to the pod: tolerations: [{key: flotilla.io/capacity, operator: Equal, value: spot, effect: NoSchedule}]"},
		},
		{
			name:  "spot shortage, the fallback not up yet",
			nodes: []runtime.Object{sysNode()},
			pod:   pod("payments", "worker", selecting("flotilla.io/pool", "general"), toleratingSpot, unschedulable("0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.")),
			events: func(p *corev1.Pod) []runtime.Object {
				return []runtime.Object{autoscalerEvent(p, "NotTriggerScaleUp", "pod didn't trigger scale-up: 1 in backoff after failed scale-up, 1 max node group size reached", time.Minute)}
			},
			cause:   diagnose.CauseSpotShortage,
			summary: []string{"and its fallback east-1-general-fallback has no node for it yet", "max node group size reached (1 node group)"},
			next:    []string{"raise the max size"},
		},
		{
			name:    "no node has the selected labels",
			pod:     pod("payments", "ssd", selecting("disktype", "ssd"), unschedulable("0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")),
			cause:   diagnose.CauseNodeSelectorMismatch,
			summary: []string{"3 do not match its node selector or affinity", "no node has the labels it selects (disktype=ssd)"},
			next:    []string{"the pools are flotilla.io/pool=general, flotilla.io/pool=system"},
		},
		{
			// Taints are checked before labels, so tainted nodes the pod does not select
			// count for their taint.
			name:    "a pool label that no node has, tainted nodes counted for their taint",
			pod:     pod("payments", "typo", selecting("flotilla.io/pool", "genral"), unschedulable("0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 node(s) had untolerated taint(s). preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")),
			cause:   diagnose.CauseNodeSelectorMismatch,
			summary: []string{"no node has the labels it selects (flotilla.io/pool=genral)"},
			next:    []string{"the pools are flotilla.io/pool=general, flotilla.io/pool=system"},
		},
		{
			name: "an untolerated taint that is not spot's",
			nodes: func() []runtime.Object {
				gpu := node("gpu-0", "gpu", "on-demand", "8")
				gpu.Spec.Taints = []corev1.Taint{{Key: "nvidia.com/gpu", Value: "present", Effect: corev1.TaintEffectNoSchedule}}
				return append(baseNodes(), gpu)
			}(),
			pod:     pod("ml", "train", selecting("flotilla.io/pool", "gpu"), unschedulable("0/4 nodes are available: 1 node(s) had untolerated taint {nvidia.com/gpu: present}, 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling..")),
			cause:   diagnose.CauseUntoleratedTaint,
			summary: []string{"1 have a taint it does not tolerate (nvidia.com/gpu=present)", "it does not tolerate nvidia.com/gpu=present:NoSchedule"},
			next:    []string{"tolerate the taints"},
		},
		{
			name:    "unbound claims",
			pod:     pod("data", "db-0", unschedulable("0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")),
			cause:   diagnose.CauseUnboundPVC,
			summary: []string{"its PersistentVolumeClaims are not bound"},
			next:    []string{"kubectl get pvc -n data"},
		},
		{
			name:    "volume in another zone",
			pod:     pod("data", "db-1", unschedulable("0/3 nodes are available: 1 node(s) didn't match PersistentVolume's node affinity, 2 node(s) had untolerated taint(s). preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")),
			cause:   diagnose.CauseVolumeNodeAffinity,
			summary: []string{"1 are not where its volumes are"},
		},
		{
			name:    "topology spread",
			pod:     pod("payments", "spread", unschedulable("0/3 nodes are available: 1 node(s) didn't match pod topology spread constraints, 2 node(s) had untolerated taint(s). preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.")),
			cause:   diagnose.CauseTopologySpread,
			summary: []string{"1 would break its topology spread constraints"},
			next:    []string{"whenUnsatisfiable"},
		},
		{
			name:    "anti-affinity",
			pod:     pod("payments", "anti", unschedulable("0/3 nodes are available: 1 node(s) didn't match pod anti-affinity rules, 2 node(s) had untolerated taint(s). preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.")),
			cause:   diagnose.CausePodAffinity,
			summary: []string{"1 fail its pod affinity rules (node(s) didn't match pod anti-affinity rules)"},
		},
		{
			name:    "cordoned nodes",
			pod:     pod("payments", "cordon", unschedulable("0/3 nodes are available: 1 node(s) were unschedulable, 2 node(s) had untolerated taint(s). preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.")),
			cause:   diagnose.CauseNodesUnschedulable,
			next:    []string{"kubectl uncordon"},
			summary: []string{"1 are cordoned"},
		},
		{
			// The API server's condition for a gated pod (pkg/registry/core/pod/strategy.go).
			name: "scheduling gates",
			pod: pod("batch", "queued", func(p *corev1.Pod) {
				p.Spec.SchedulingGates = []corev1.PodSchedulingGate{{Name: "kueue.x-k8s.io/admission"}}
				p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonSchedulingGated, Message: "Scheduling is blocked due to non-empty scheduling gates"}}
			}),
			cause:   diagnose.CauseSchedulingGated,
			summary: []string{"it waits for its scheduling gates: kueue.x-k8s.io/admission"},
			next:    []string{"Kueue"},
		},
		{
			name:    "the scheduler said nothing",
			pod:     pod("payments", "silent", func(p *corev1.Pod) { p.Spec.SchedulerName = "my-scheduler" }),
			cause:   diagnose.CauseNotScheduledYet,
			summary: []string{"the scheduler has said nothing about it"},
			next:    []string{`"my-scheduler"`},
		},
		{
			name:    "an unknown reason is passed through with its count",
			pod:     pod("payments", "odd", unschedulable("0/3 nodes are available: 1 node(s) had no free cache slices, 2 node(s) had untolerated taint(s).")),
			cause:   diagnose.CauseUnschedulable,
			summary: []string{"1: node(s) had no free cache slices"},
			check: func(t *testing.T, f diagnose.Finding) {
				assert.Equal(t, diagnose.ReasonUnknown, f.Scheduling.Reasons[0].Code)
			},
		},
		{
			name: "an unknown message is passed through, from the event when the condition has none",
			pod:  pod("payments", "odder"),
			events: func(p *corev1.Pod) []runtime.Object {
				return []runtime.Object{schedulerEvent(p, `running PreBind plugin "VolumeBinding": binding volumes: pv "pv-1" node affinity doesn't match node "sys-0"`, 1, 0)}
			},
			cause:   diagnose.CauseUnschedulable,
			summary: []string{`the scheduler cannot place it: running PreBind plugin "VolumeBinding": binding volumes: pv "pv-1" node affinity doesn't match node "sys-0"`},
		},
		{
			name:    "no nodes",
			nodes:   []runtime.Object{},
			pod:     pod("payments", "alone", unschedulable("no nodes available to schedule pods")),
			cause:   diagnose.CauseNoNodes,
			summary: []string{"the cluster has no node"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			objs := tt.nodes
			if objs == nil {
				objs = baseNodes()
			}
			objs = append(append([]runtime.Object{}, objs...), tt.pod)
			if tt.events != nil {
				objs = append(objs, tt.events(tt.pod)...)
			}
			pools := tt.pools
			if pools == nil {
				pools = basePools
			}
			rep := diagnoseObjects(t, diagnose.Options{Pools: pools}, objs...)
			f := findingOf(t, rep, tt.pod.Namespace, tt.pod.Name, "")
			assert.Equal(t, diagnose.KindPending, f.Kind)
			assert.Equal(t, tt.cause, f.Cause, "summary: %s", f.Summary)
			for _, s := range tt.summary {
				assert.Contains(t, f.Summary, s)
			}
			for _, s := range tt.next {
				assert.Contains(t, f.Next, s)
			}
			assert.NotEmpty(t, f.Next, "every finding says what to do")
			assert.Equal(t, "ReplicaSet/api-7d9c", f.Owner)
			if tt.cause != diagnose.CauseNotScheduledYet {
				assert.NotEmpty(t, f.Evidence, "the messages the cause rests on are kept")
			}
			if tt.check != nil {
				tt.check(t, f)
			}
		})
	}
}

func TestPendingPodsOfOneOwnerAreReportedTogether(t *testing.T) {
	t.Parallel()
	a := pod("payments", "api-7d9c-a", cpu("1500m"), unschedulable(cpuShort))
	b := pod("payments", "api-7d9c-b", cpu("1500m"), unschedulable(cpuShort))
	objs := append(baseNodes(), a, b,
		autoscalerEvent(a, "NotTriggerScaleUp", "pod didn't trigger scale-up: 1 max node group size reached", time.Minute),
		autoscalerEvent(b, "NotTriggerScaleUp", "pod didn't trigger scale-up: 1 max node group size reached", time.Minute))
	rep := diagnoseObjects(t, diagnose.Options{Pools: basePools}, objs...)
	require.Len(t, rep.Findings, 2)
	lines := diagnose.Lines(rep.Findings)
	require.Len(t, lines, 1)
	assert.Equal(t, "2 pods Pending in payments (api-7d9c-a, api-7d9c-b): 0/3 nodes fit it: 1 lack free cpu, 2 have a taint it does not tolerate (flotilla.io/capacity=spot:NoSchedule); "+
		"the autoscaler cannot add nodes for it: max node group size reached (1 node group); "+
		"next: raise the max size of the node group(s) at their limit (the pool's maxSize in its stack file), or lower the pod's requests", lines[0])
}

func TestYoungPodsAreNotReported(t *testing.T) {
	t.Parallel()
	young := pod("payments", "young", cpu("64"), unschedulable(cpuShort), func(p *corev1.Pod) { p.CreationTimestamp = ago(20 * time.Second) })
	old := pod("payments", "old", cpu("64"), unschedulable(cpuShort))

	rep := diagnoseObjects(t, diagnose.Options{}, append(baseNodes(), young, old)...)
	require.Len(t, rep.Findings, 1)
	assert.Equal(t, "old", rep.Findings[0].Pod)
	assert.Equal(t, 1, rep.Young)
	assert.Equal(t, 2, rep.Pods)

	rep = diagnoseObjects(t, diagnose.Options{MinAge: 10 * time.Second}, append(baseNodes(), young, old)...)
	assert.Len(t, rep.Findings, 2, "a shorter MinAge reports it")
	rep = diagnoseObjects(t, diagnose.Options{MinAge: -1}, append(baseNodes(), young, old)...)
	assert.Len(t, rep.Findings, 2, "a negative MinAge reports every pod")
	assert.Zero(t, rep.Young)
}

func TestNamespaceNarrowsThePods(t *testing.T) {
	t.Parallel()
	a := pod("payments", "a", cpu("64"), unschedulable(cpuShort))
	b := pod("search", "b", cpu("64"), unschedulable(cpuShort))
	rep := diagnoseObjects(t, diagnose.Options{Namespace: "search"}, append(baseNodes(), a, b)...)
	require.Len(t, rep.Findings, 1)
	assert.Equal(t, "search", rep.Findings[0].Namespace)
}

func TestPodsThatAreFineAreNotReported(t *testing.T) {
	t.Parallel()
	ok := pod("payments", "ok", running("sys-0", true, "", ""), container(corev1.ContainerStatus{Name: "app", Ready: true, Started: ptr(true), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}))
	done := pod("payments", "done", func(p *corev1.Pod) { p.Spec.NodeName, p.Status.Phase = "sys-0", corev1.PodSucceeded })
	rep := diagnoseObjects(t, diagnose.Options{}, append(baseNodes(), ok, done)...)
	assert.Empty(t, rep.Findings)
	assert.Equal(t, 2, rep.Pods)
	assert.Equal(t, 3, rep.Nodes)
}

func ptr[T any](v T) *T { return &v }
