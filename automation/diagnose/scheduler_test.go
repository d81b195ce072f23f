package diagnose_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/automation/diagnose"
)

// The messages below are the scheduler's FailedScheduling messages as releases write
// them. Their shape is FitError.Error in kubernetes/kubernetes
// pkg/scheduler/framework/types.go; each reason is a filter plugin's (the ErrReason
// constants under pkg/scheduler/framework/plugins/), the "preemption: " part the default
// preemption plugin's (plugins/defaultpreemption/default_preemption.go, with
// framework/preemption/preemption.go's "Preemption is not helpful for scheduling").
func TestParseScheduling(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		msg        string
		nodes      int
		reasons    []diagnose.Reason
		preemption string
		other      []string
	}{
		{
			// v1.37.2, the control plane this project builds: the taint is no longer named
			// (kubernetes/kubernetes#134740) and the PostFilter part ends with one period.
			name:  "v1.37 resources and an unnamed taint",
			msg:   "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint(s). preemption: 0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling.",
			nodes: 3,
			reasons: []diagnose.Reason{
				{Code: diagnose.ReasonInsufficientResource, Count: 1, Message: "Insufficient cpu", Resource: "cpu"},
				{Code: diagnose.ReasonUntoleratedTaint, Count: 2, Message: "node(s) had untolerated taint(s)"},
			},
			preemption: "0/3 nodes are available: 1 No preemption victims found for incoming pod, 2 Preemption is not helpful for scheduling",
		},
		{
			// v1.26 to v1.34 name the taint, and end the preemption part with "..":
			// kubernetes/kubernetes#116133 (a v1.26.1 cluster).
			name:       "v1.26 named taint, double period",
			msg:        "0/1 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }. preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling..",
			nodes:      1,
			reasons:    []diagnose.Reason{{Code: diagnose.ReasonUntoleratedTaint, Count: 1, Message: "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }", Taint: "node-role.kubernetes.io/control-plane"}},
			preemption: "0/1 nodes are available: 1 Preemption is not helpful for scheduling",
		},
		{
			// Up to v1.25 (tainttoleration's "node(s) had taint {%s: %s}, that the pod
			// didn't tolerate"), whose ", " must not split the reason.
			name:  "v1.25 taint with a comma, volume node affinity",
			msg:   "0/133 nodes are available: 1 node(s) had taint {node.kubernetes.io/disk-pressure: }, that the pod didn't tolerate, 130 Insufficient cpu, 2 Insufficient memory, 2 node(s) had volume node affinity conflict.",
			nodes: 133,
			reasons: []diagnose.Reason{
				{Code: diagnose.ReasonUntoleratedTaint, Count: 1, Message: "node(s) had taint {node.kubernetes.io/disk-pressure: }, that the pod didn't tolerate", Taint: "node.kubernetes.io/disk-pressure"},
				{Code: diagnose.ReasonInsufficientResource, Count: 130, Message: "Insufficient cpu", Resource: "cpu"},
				{Code: diagnose.ReasonInsufficientResource, Count: 2, Message: "Insufficient memory", Resource: "memory"},
				{Code: diagnose.ReasonVolumeNodeAffinity, Count: 2, Message: "node(s) had volume node affinity conflict"},
			},
		},
		{
			// A PreFilter plugin's message replaces the histogram (volumebinding's
			// "pod has unbound immediate PersistentVolumeClaims").
			name:       "unbound claims",
			msg:        "0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..",
			nodes:      3,
			reasons:    []diagnose.Reason{{Code: diagnose.ReasonUnboundPVC, Message: "pod has unbound immediate PersistentVolumeClaims"}},
			preemption: "0/3 nodes are available: 3 Preemption is not helpful for scheduling",
		},
		{
			name:       "too many pods",
			msg:        "0/2 nodes are available: 2 Too many pods. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod..",
			nodes:      2,
			reasons:    []diagnose.Reason{{Code: diagnose.ReasonTooManyPods, Count: 2, Message: "Too many pods"}},
			preemption: "0/2 nodes are available: 2 No preemption victims found for incoming pod",
		},
		{
			name:  "topology spread and the v1.37 volume affinity wording",
			msg:   "0/6 nodes are available: 2 node(s) didn't match pod topology spread constraints, 4 node(s) didn't match PersistentVolume's node affinity.",
			nodes: 6,
			reasons: []diagnose.Reason{
				{Code: diagnose.ReasonTopologySpread, Count: 2, Message: "node(s) didn't match pod topology spread constraints"},
				{Code: diagnose.ReasonVolumeNodeAffinity, Count: 4, Message: "node(s) didn't match PersistentVolume's node affinity"},
			},
		},
		{
			name:       "anti-affinity",
			msg:        "0/2 nodes are available: 2 node(s) didn't satisfy existing pods anti-affinity rules. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.",
			nodes:      2,
			reasons:    []diagnose.Reason{{Code: diagnose.ReasonPodAffinity, Count: 2, Message: "node(s) didn't satisfy existing pods anti-affinity rules"}},
			preemption: "0/2 nodes are available: 2 No preemption victims found for incoming pod",
		},
		{
			name:  "selector and cordon",
			msg:   "0/4 nodes are available: 1 node(s) were unschedulable, 3 node(s) didn't match Pod's node affinity/selector. preemption: 0/4 nodes are available: 4 Preemption is not helpful for scheduling.",
			nodes: 4,
			reasons: []diagnose.Reason{
				{Code: diagnose.ReasonNodeUnschedulable, Count: 1, Message: "node(s) were unschedulable"},
				{Code: diagnose.ReasonNodeAffinity, Count: 3, Message: "node(s) didn't match Pod's node affinity/selector"},
			},
			preemption: "0/4 nodes are available: 4 Preemption is not helpful for scheduling",
		},
		{
			// Another PostFilter plugin (dynamicresources) before preemption's.
			name:       "another PostFilter message",
			msg:        "0/2 nodes are available: 2 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling.",
			nodes:      2,
			reasons:    []diagnose.Reason{{Code: diagnose.ReasonUntoleratedTaint, Count: 2, Message: "node(s) had untolerated taint(s)"}},
			preemption: "0/2 nodes are available: 2 Preemption is not helpful for scheduling",
			other:      []string{"no new claims to deallocate"},
		},
		{
			name:       "not eligible to preempt",
			msg:        "0/3 nodes are available: 3 Insufficient memory. preemption: not eligible due to preemptionPolicy=Never.",
			nodes:      3,
			reasons:    []diagnose.Reason{{Code: diagnose.ReasonInsufficientResource, Count: 3, Message: "Insufficient memory", Resource: "memory"}},
			preemption: "not eligible due to preemptionPolicy=Never",
		},
		{
			name:    "an extended resource",
			msg:     "0/4 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 3 Insufficient nvidia.com/gpu.",
			nodes:   4,
			reasons: []diagnose.Reason{{Code: diagnose.ReasonNodeAffinity, Count: 1, Message: "node(s) didn't match Pod's node affinity/selector"}, {Code: diagnose.ReasonInsufficientResource, Count: 3, Message: "Insufficient nvidia.com/gpu", Resource: "nvidia.com/gpu"}},
		},
		{
			// A reason no release of the default plugins writes (an out-of-tree plugin's):
			// passed through with its count.
			name:    "unknown reason",
			msg:     "0/2 nodes are available: 2 node(s) had no free cache slices.",
			nodes:   2,
			reasons: []diagnose.Reason{{Code: diagnose.ReasonUnknown, Count: 2, Message: "node(s) had no free cache slices"}},
		},
		{
			// ErrNoNodesAvailable, pkg/scheduler/scheduler.go.
			name: "no nodes",
			msg:  "no nodes available to schedule pods",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ok := diagnose.ParseScheduling(tt.msg)
			require.True(t, ok)
			assert.Equal(t, tt.nodes, s.Nodes)
			assert.Equal(t, tt.reasons, s.Reasons)
			assert.Equal(t, tt.preemption, s.Preemption)
			assert.Equal(t, tt.other, s.Other)
			assert.Equal(t, tt.msg, s.Message)
		})
	}

	_, ok := diagnose.ParseScheduling("binding rejected: running Bind plugin \"DefaultBinder\": pods \"x\" is forbidden")
	assert.False(t, ok, "a message of another shape is not parsed, so that it is passed through")
}

// The cluster-autoscaler's events: NotTriggerScaleUp and TriggeredScaleUp from
// kubernetes/autoscaler cluster-autoscaler/processors/status/eventing_scale_up_processor.go
// (ReasonsMessage counts node groups per reason), the reasons of
// core/scaleup/orchestrator/skippedreasons.go, ScaleUpInfo.String of
// processors/nodegroupset/nodegroup_set_processor.go.
func TestParseAutoscalerEvents(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		msg  string
		want []diagnose.Reason
	}{
		{name: "max size", msg: "pod didn't trigger scale-up: 1 max node group size reached",
			want: []diagnose.Reason{{Code: diagnose.ReasonMaxNodeGroupSize, Count: 1, Message: "max node group size reached"}}},
		{name: "backoff, combined, with predicate failures on group templates",
			msg: "(combined from similar events): pod didn't trigger scale-up: 1 in backoff after failed scale-up, 6 node(s) had taint {workload: always-on}, that the pod didn't tolerate, 4 node(s) had volume node affinity conflict",
			want: []diagnose.Reason{
				{Code: diagnose.ReasonBackoff, Count: 1, Message: "in backoff after failed scale-up"},
				{Code: diagnose.ReasonUntoleratedTaint, Count: 6, Message: "node(s) had taint {workload: always-on}, that the pod didn't tolerate", Taint: "workload=always-on"},
				{Code: diagnose.ReasonVolumeNodeAffinity, Count: 4, Message: "node(s) had volume node affinity conflict"},
			}},
		{name: "resource limits hold a comma", msg: "pod didn't trigger scale-up: 2 max cluster cpu, memory limit reached",
			want: []diagnose.Reason{{Code: diagnose.ReasonResourceLimit, Count: 2, Message: "max cluster cpu, memory limit reached", Resource: "cpu, memory"}}},
		{name: "not ready", msg: "pod didn't trigger scale-up: 3 not ready for scale-up",
			want: []diagnose.Reason{{Code: diagnose.ReasonGroupNotReady, Count: 3, Message: "not ready for scale-up"}}},
		{name: "max total nodes", msg: "pod didn't trigger scale-up: max total nodes in cluster reached",
			want: []diagnose.Reason{{Code: diagnose.ReasonMaxNodesTotal, Message: "max total nodes in cluster reached"}}},
		{name: "GKE's capital P", msg: "Pod didn't trigger scale-up: 1 max node group size reached",
			want: []diagnose.Reason{{Code: diagnose.ReasonMaxNodeGroupSize, Count: 1, Message: "max node group size reached"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := diagnose.ParseNotTriggerScaleUp(tt.msg)
			require.True(t, ok)
			assert.Equal(t, tt.want, got)
		})
	}

	ups, ok := diagnose.ParseTriggeredScaleUp("pod triggered scale-up: [{https://www.googleapis.com/compute/v1/projects/p/zones/australia-southeast1-b/instanceGroups/gke-demo-nodepool-22330990-grp 2->3 (max: 7)} {eks-general-spot-1 0->2 (max: 6)}]")
	require.True(t, ok)
	assert.Equal(t, []diagnose.ScaleUp{
		{Group: "https://www.googleapis.com/compute/v1/projects/p/zones/australia-southeast1-b/instanceGroups/gke-demo-nodepool-22330990-grp", From: 2, To: 3, Max: 7},
		{Group: "eks-general-spot-1", From: 0, To: 2, Max: 6},
	}, ups)
	_, ok = diagnose.ParseNotTriggerScaleUp("Scale-up: setting group size to 3")
	assert.False(t, ok)
}
