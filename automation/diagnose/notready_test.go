package diagnose_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/flotilla-io/flotilla/automation/diagnose"
)

// The statuses and events below are the kubelet's: the Ready condition's reasons and
// messages of pkg/kubelet/status/generate.go, the waiting reasons and messages of
// pkg/kubelet/images/image_manager.go ("Back-off pulling image %q: <the pull's error>")
// and pkg/kubelet/kuberuntime/kuberuntime_manager.go ("back-off 5m0s restarting failed
// container=app pod=..."), the Unhealthy and BackOff events of pkg/kubelet/prober/
// prober.go ("Readiness probe failed: %s") and kuberuntime.
func TestNotReadyPods(t *testing.T) {
	t.Parallel()
	runningApp := corev1.ContainerStatus{Name: "app", Ready: false, Started: ptr(true), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	notReady := running("sys-0", false, "ContainersNotReady", "containers with unready status: [app]")
	crash := func(reason string, code int32) corev1.ContainerStatus {
		return corev1.ContainerStatus{
			Name: "app", RestartCount: 7, Started: ptr(false),
			State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 5m0s restarting failed container=app pod=api-x_payments(payments-api-x)"}},
			LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason}},
		}
	}
	tests := []struct {
		name    string
		nodes   []runtime.Object
		pod     *corev1.Pod
		events  func(p *corev1.Pod) []runtime.Object
		kind    diagnose.Kind
		cause   diagnose.Cause
		summary []string
		next    []string
		check   func(t *testing.T, f diagnose.Finding)
	}{
		{
			name: "readiness probe failing, every recent message kept",
			pod:  pod("payments", "api-x", notReady, container(runningApp)),
			events: func(p *corev1.Pod) []runtime.Object {
				return []runtime.Object{
					kubeletEvent(p, corev1.EventTypeWarning, "Unhealthy", `Readiness probe failed: Get "http://10.1.0.7:8080/ready": dial tcp 10.1.0.7:8080: connect: connection refused`, 3, 9*time.Minute, 8*time.Minute),
					kubeletEvent(p, corev1.EventTypeWarning, "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", 12, 8*time.Minute, 2*time.Minute),
					kubeletEvent(p, corev1.EventTypeWarning, "Unhealthy", `(combined from similar events): Readiness probe failed: Get "http://10.1.0.7:8080/ready": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, 1, 20*time.Second, 20*time.Second),
					kubeletEvent(p, corev1.EventTypeNormal, "Pulled", `Container image "registry.example/app:1" already present on machine`, 1, 10*time.Minute, 10*time.Minute),
				}
			},
			kind:    diagnose.KindNotReady,
			cause:   diagnose.CauseReadinessProbe,
			summary: []string{`container app fails its probe 16 time(s) recently, last: Readiness probe failed: Get "http://10.1.0.7:8080/ready": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`},
			next:    []string{"probe"},
			check: func(t *testing.T, f diagnose.Finding) {
				var msgs []string
				var counts []int32
				for _, e := range f.Evidence {
					if e.Reason == "Unhealthy" {
						msgs, counts = append(msgs, e.Message), append(counts, e.Count)
						assert.Equal(t, "kubelet", e.From)
					}
				}
				require.Len(t, msgs, 3, "every Unhealthy message, not only the last")
				assert.Contains(t, msgs[0], "connection refused")
				assert.Contains(t, msgs[1], "statuscode: 503")
				assert.Contains(t, msgs[2], "context deadline exceeded")
				assert.Equal(t, []int32{3, 12, 1}, counts)
				assert.Equal(t, "sys-0", f.Node)
			},
		},
		{
			name: "CrashLoopBackOff",
			pod:  pod("payments", "api-y", notReady, container(crash("Error", 1))),
			events: func(p *corev1.Pod) []runtime.Object {
				return []runtime.Object{kubeletEvent(p, corev1.EventTypeWarning, "BackOff", "Back-off restarting failed container app in pod api-y_payments(payments-api-y)", 40, 9*time.Minute, time.Minute)}
			},
			kind:    diagnose.KindNotReady,
			cause:   diagnose.CauseCrashLoop,
			summary: []string{"container app keeps exiting (last exit 1 Error), 7 restarts"},
			next:    []string{"kubectl logs -n payments api-y -c app --previous"},
			check: func(t *testing.T, f diagnose.Finding) {
				require.Len(t, f.Containers, 1)
				assert.Equal(t, "CrashLoopBackOff", f.Containers[0].Reason)
				assert.Equal(t, int32(1), *f.Containers[0].LastExitCode)
				found := false
				for _, e := range f.Evidence {
					found = found || (e.Reason == "BackOff" && e.Count == 40)
				}
				assert.True(t, found, "the BackOff event is evidence: %+v", f.Evidence)
			},
		},
		{
			name: "OOMKilled",
			pod: pod("payments", "api-z", notReady, container(crash("OOMKilled", 137)), func(p *corev1.Pod) {
				p.Spec.Containers[0].Resources.Limits = corev1.ResourceList{corev1.ResourceMemory: resource.MustParse("256Mi")}
			}),
			kind:    diagnose.KindNotReady,
			cause:   diagnose.CauseOOMKilled,
			summary: []string{"container app was OOMKilled (exit 137), 7 restarts"},
			next:    []string{"raise its memory limit (now 256Mi)"},
		},
		{
			name: "ImagePullBackOff",
			pod: pod("payments", "api-img", func(p *corev1.Pod) { p.Spec.NodeName = "sys-0" }, container(corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason: "ImagePullBackOff", Message: `Back-off pulling image "registry.example/app:nope": ErrImagePull: rpc error: code = NotFound desc = failed to pull and unpack image "registry.example/app:nope": not found`,
			}}})),
			kind:    diagnose.KindPending,
			cause:   diagnose.CauseImagePull,
			summary: []string{`container app cannot pull its image: Back-off pulling image "registry.example/app:nope": ErrImagePull`},
			next:    []string{"imagePullSecrets"},
		},
		{
			name: "ErrImagePull",
			pod: pod("payments", "api-pull", func(p *corev1.Pod) { p.Spec.NodeName = "sys-0" }, container(corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason: "ErrImagePull", Message: `failed to pull and unpack image "registry.example/app:2": failed to resolve reference: unexpected status from HEAD request: 401 Unauthorized`,
			}}})),
			kind:    diagnose.KindPending,
			cause:   diagnose.CauseImagePull,
			summary: []string{"401 Unauthorized"},
		},
		{
			name: "terminated and not restarted",
			pod: pod("jobs", "once", func(p *corev1.Pod) { p.Spec.RestartPolicy = corev1.RestartPolicyNever }, running("sys-0", false, "PodFailed", ""),
				container(corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 2, Reason: "Error", Message: "config: missing key"}}})),
			kind:    diagnose.KindNotReady,
			cause:   diagnose.CauseContainerTerminated,
			summary: []string{"container app terminated: exit 2 (Error): config: missing key"},
			next:    []string{"restartPolicy Never"},
		},
		{
			name: "init container not finished",
			pod: pod("payments", "migrating", func(p *corev1.Pod) {
				p.Spec.NodeName = "sys-0"
				p.Spec.InitContainers = []corev1.Container{{Name: "migrate", Image: "registry.example/migrate:1"}}
				p.Status.Conditions = []corev1.PodCondition{
					{Type: corev1.PodInitialized, Status: corev1.ConditionFalse, Reason: "ContainersNotInitialized", Message: "containers with incomplete status: [migrate]"},
					{Type: corev1.PodReady, Status: corev1.ConditionFalse, Reason: "ContainersNotReady", Message: "containers with unready status: [app]"},
				}
				p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "migrate", State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}}
				p.Status.ContainerStatuses = []corev1.ContainerStatus{{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "PodInitializing"}}}}
			}),
			kind:    diagnose.KindPending,
			cause:   diagnose.CauseInitContainers,
			summary: []string{"init container migrate has not finished: running"},
			next:    []string{"kubectl logs -n payments migrating -c migrate"},
			check: func(t *testing.T, f diagnose.Finding) {
				found := false
				for _, e := range f.Evidence {
					found = found || e.Message == "containers with incomplete status: [migrate]"
				}
				assert.True(t, found, "the Initialized condition is evidence")
			},
		},
		{
			name: "init container crashing",
			pod: pod("payments", "migrate-crash", func(p *corev1.Pod) {
				p.Spec.NodeName = "sys-0"
				p.Spec.InitContainers = []corev1.Container{{Name: "migrate", Image: "registry.example/migrate:1"}}
				p.Status.InitContainerStatuses = []corev1.ContainerStatus{{Name: "migrate", RestartCount: 4,
					State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff", Message: "back-off 1m20s restarting failed container=migrate pod=migrate-crash_payments(x)"}},
					LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 3, Reason: "Error"}}}}
			}),
			kind:    diagnose.KindPending,
			cause:   diagnose.CauseInitContainers,
			summary: []string{"init container migrate has not finished: CrashLoopBackOff", "(last exit 3 Error)"},
			next:    []string{"--previous"},
		},
		{
			name: "readiness gate not met",
			pod: pod("payments", "gated", running("sys-0", false, "ReadinessGatesNotReady", `corresponding condition of pod readiness gate "target-health.elbv2.k8s.aws/k8s-payments-api-0a1b2c" does not exist.`),
				container(corev1.ContainerStatus{Name: "app", Ready: true, Started: ptr(true), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}),
				func(p *corev1.Pod) {
					p.Spec.ReadinessGates = []corev1.PodReadinessGate{{ConditionType: "target-health.elbv2.k8s.aws/k8s-payments-api-0a1b2c"}}
					for i := range p.Status.Conditions {
						if p.Status.Conditions[i].Type == corev1.ContainersReady {
							p.Status.Conditions[i] = corev1.PodCondition{Type: corev1.ContainersReady, Status: corev1.ConditionTrue}
						}
					}
				}),
			kind:    diagnose.KindNotReady,
			cause:   diagnose.CauseReadinessGates,
			summary: []string{"target-health.elbv2.k8s.aws/k8s-payments-api-0a1b2c has no condition yet"},
			next:    []string{"load balancer controller"},
		},
		{
			name:    "on a node that is NotReady",
			nodes:   []runtime.Object{setCondition(sysNode(), corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: "NodeStatusUnknown", Message: "Kubelet stopped posting node status.", LastTransitionTime: ago(6 * time.Minute)})},
			pod:     pod("payments", "stranded", notReady, container(runningApp)),
			kind:    diagnose.KindNotReady,
			cause:   diagnose.CauseNodeNotReady,
			summary: []string{"its node sys-0 is NotReady: NodeStatusUnknown: Kubelet stopped posting node status."},
		},
		{
			name: "a missing ConfigMap",
			pod: pod("payments", "cfg", func(p *corev1.Pod) { p.Spec.NodeName = "sys-0" }, container(corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{
				Reason: "CreateContainerConfigError", Message: `configmap "app-config" not found`,
			}}})),
			kind:    diagnose.KindPending,
			cause:   diagnose.CauseContainerWaiting,
			summary: []string{`container app is waiting: CreateContainerConfigError: configmap "app-config" not found`},
			next:    []string{"ConfigMap or Secret"},
		},
		{
			name: "a volume that does not mount",
			pod:  pod("payments", "mount", func(p *corev1.Pod) { p.Spec.NodeName = "sys-0" }, container(corev1.ContainerStatus{Name: "app", State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}})),
			events: func(p *corev1.Pod) []runtime.Object {
				return []runtime.Object{kubeletEvent(p, corev1.EventTypeWarning, "FailedMount", `MountVolume.SetUp failed for volume "certs" : secret "api-tls" not found`, 6, 9*time.Minute, time.Minute)}
			},
			kind:    diagnose.KindPending,
			cause:   diagnose.CauseContainerWaiting,
			summary: []string{`container app has not started: ContainerCreating; FailedMount: MountVolume.SetUp failed for volume "certs" : secret "api-tls" not found`},
		},
		{
			name:    "not ready with no probe failure recorded",
			pod:     pod("payments", "quiet", notReady, container(runningApp)),
			kind:    diagnose.KindNotReady,
			cause:   diagnose.CauseContainersNotReady,
			summary: []string{"container(s) app running but not ready, with no probe failure recorded"},
		},
		{
			name: "an unknown Ready reason is passed through",
			pod: pod("payments", "custom", running("sys-0", false, "TerminationByKubelet", "Pod was terminated in response to imminent node shutdown."),
				container(corev1.ContainerStatus{Name: "app", Ready: true, Started: ptr(true), State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}})),
			kind:    diagnose.KindNotReady,
			cause:   diagnose.CauseNotReady,
			summary: []string{"not Ready: TerminationByKubelet: Pod was terminated in response to imminent node shutdown."},
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
			rep := diagnoseObjects(t, diagnose.Options{Pools: basePools}, objs...)
			f := findingOf(t, rep, tt.pod.Namespace, tt.pod.Name, "")
			assert.Equal(t, tt.kind, f.Kind)
			assert.Equal(t, tt.cause, f.Cause, "summary: %s", f.Summary)
			for _, s := range tt.summary {
				assert.Contains(t, f.Summary, s)
			}
			for _, s := range tt.next {
				assert.Contains(t, f.Next, s)
			}
			assert.NotEmpty(t, f.Next)
			if tt.check != nil {
				tt.check(t, f)
			}
		})
	}
}

// Node conditions as the kubelet sets them (pkg/kubelet/nodestatus/setters.go) and the
// node lifecycle controller when the kubelet goes silent
// (pkg/controller/nodelifecycle/node_lifecycle_controller.go).
func TestNodeFindings(t *testing.T) {
	t.Parallel()
	unknown := setCondition(node("n-unknown", "general", "on-demand", "4"), corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionUnknown, Reason: "NodeStatusUnknown", Message: "Kubelet stopped posting node status.", LastTransitionTime: ago(7 * time.Minute)})
	notReady := setCondition(node("n-runtime", "general", "on-demand", "4"), corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionFalse, Reason: "KubeletNotReady", Message: "container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized", LastTransitionTime: ago(3 * time.Minute)})
	memory := setCondition(node("n-mem", "general", "on-demand", "4"), corev1.NodeCondition{Type: corev1.NodeMemoryPressure, Status: corev1.ConditionTrue, Reason: "KubeletHasInsufficientMemory", Message: "kubelet has insufficient memory available", LastTransitionTime: ago(5 * time.Minute)})
	disk := setCondition(node("n-disk", "general", "on-demand", "4"), corev1.NodeCondition{Type: corev1.NodeDiskPressure, Status: corev1.ConditionTrue, Reason: "KubeletHasDiskPressure", Message: "kubelet has disk pressure", LastTransitionTime: ago(5 * time.Minute)})
	pid := setCondition(node("n-pid", "general", "on-demand", "4"), corev1.NodeCondition{Type: corev1.NodePIDPressure, Status: corev1.ConditionTrue, Reason: "KubeletHasInsufficientPID", Message: "kubelet has insufficient PID available", LastTransitionTime: ago(5 * time.Minute)})
	fresh := setCondition(node("n-fresh", "general", "on-demand", "4"), corev1.NodeCondition{Type: corev1.NodeReady, Status: corev1.ConditionFalse, Reason: "KubeletNotReady", Message: "PLEG is not healthy", LastTransitionTime: ago(10 * time.Second)})

	rep := diagnoseObjects(t, diagnose.Options{}, sysNode(), unknown, notReady, memory, disk, pid, fresh)
	want := map[string]struct {
		cause   diagnose.Cause
		summary string
		next    string
	}{
		"n-unknown": {diagnose.CauseNodeNotReady, "NotReady (Ready=Unknown): NodeStatusUnknown: Kubelet stopped posting node status.", "stopped reporting"},
		"n-runtime": {diagnose.CauseNodeNotReady, "NotReady (Ready=False): KubeletNotReady: container runtime network not ready", "network plugin"},
		"n-mem":     {diagnose.CauseMemoryPressure, "under memory pressure: KubeletHasInsufficientMemory: kubelet has insufficient memory available", "evicts pods"},
		"n-disk":    {diagnose.CauseDiskPressure, "under disk pressure: KubeletHasDiskPressure: kubelet has disk pressure", "disk"},
		"n-pid":     {diagnose.CausePIDPressure, "under PID pressure: KubeletHasInsufficientPID: kubelet has insufficient PID available", "PID limit"},
	}
	require.Len(t, rep.Findings, len(want), "n-fresh turned NotReady 10s ago: not reported yet; %+v", rep.Findings)
	for _, f := range rep.Findings {
		w, ok := want[f.Node]
		require.True(t, ok, "unexpected finding %+v", f)
		assert.Equal(t, diagnose.KindNode, f.Kind)
		assert.Equal(t, w.cause, f.Cause, f.Node)
		assert.Contains(t, f.Summary, w.summary, f.Node)
		assert.Contains(t, f.Next, w.next, f.Node)
		require.Len(t, f.Evidence, 1)
		assert.Equal(t, "condition", f.Evidence[0].Source)
	}
	lines := diagnose.Lines(rep.Findings)
	assert.Contains(t, lines, "node n-mem: under memory pressure: KubeletHasInsufficientMemory: kubelet has insufficient memory available; next: "+findingOf(t, rep, "", "", "n-mem").Next)
}
