package diagnose

import (
	"context"
	"fmt"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// DefaultMinAge is how old a pod must be to be reported: a younger one is most likely
// still being scheduled or started.
const DefaultMinAge = time.Minute

// DefaultExpendableCutoff is the cluster-autoscaler's --expendable-pods-priority-cutoff
// default: pods with a priority below it never make it add nodes
// (kubernetes/autoscaler cluster-autoscaler/config/flags/flags.go).
const DefaultExpendableCutoff int32 = -10

// Options narrow and inform a diagnosis.
type Options struct {
	// Namespace limits the pods looked at; empty means every namespace. Nodes are always
	// read in full.
	Namespace string
	// MinAge: pods younger than it, and node conditions more recent than it, are not
	// reported. Zero means DefaultMinAge; a negative value reports everything.
	MinAge time.Duration
	// Now is the time ages are measured at; zero means time.Now().
	Now time.Time
	// Pools are the cluster's node pools as Flotilla deployed them, so that a spot pool
	// with no node left (a spot shortage) is still known, with its fallback. Without
	// them, pools are read from the nodes' flotilla.io/pool and flotilla.io/capacity labels.
	Pools []Pool
	// ExpendableCutoff is the cluster-autoscaler's expendable-pods-priority-cutoff; nil
	// means DefaultExpendableCutoff.
	ExpendableCutoff *int32
}

// Pool is one node pool of the cluster.
type Pool struct {
	// Name is the cloud's name of the pool.
	Name string `json:"name"`
	// Label and Capacity are its nodes' flotilla.io/pool and flotilla.io/capacity labels.
	Label    string `json:"label"`
	Capacity string `json:"capacityType"`
	// Desired is how many nodes it should have at least.
	Desired int `json:"desired"`
	// FallbackFor names the spot pool (by Name) this on-demand pool backs.
	FallbackFor string `json:"fallbackFor,omitempty"`
}

func (o Options) withDefaults() Options {
	if o.MinAge == 0 {
		o.MinAge = DefaultMinAge
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.ExpendableCutoff == nil {
		c := DefaultExpendableCutoff
		o.ExpendableCutoff = &c
	}
	return o
}

// old reports whether something that started at t is old enough to be reported.
func (o Options) old(t time.Time) bool {
	return o.MinAge < 0 || t.IsZero() || o.Now.Sub(t) >= o.MinAge
}

// Report is one diagnosis of a cluster.
type Report struct {
	// Findings are the problems found: pods first (Pending, then not Ready, by namespace
	// and name), then nodes.
	Findings []Finding `json:"findings"`
	// Pods and Nodes count what was read.
	Pods  int `json:"pods"`
	Nodes int `json:"nodes"`
	// Young counts the pods with a problem that were not reported because they are
	// younger than MinAge.
	Young int `json:"young,omitempty"`
}

// Kind is what a finding is about.
type Kind string

// The kinds of finding.
const (
	// KindPending is a pod that is not running yet: not scheduled, or scheduled with its
	// containers not started.
	KindPending Kind = "pending"
	// KindNotReady is a Running pod that is not Ready.
	KindNotReady Kind = "not-ready"
	// KindNode is a node that is NotReady or under pressure.
	KindNode Kind = "node"
)

// Cause is a finding's structured cause; its values are stable, for scripts to branch on.
type Cause string

// The causes of a Pending pod that the scheduler cannot place.
const (
	CausePodTooBig             Cause = "PodTooBig"             // it requests more than any node it can run on holds
	CauseInsufficientResources Cause = "InsufficientResources" // the nodes it can run on are full
	CauseTooManyPods           Cause = "TooManyPods"           // the nodes run their maximum number of pods
	CauseUntoleratedTaint      Cause = "UntoleratedTaint"      // the nodes it selects carry taints it does not tolerate
	CauseMissingSpotToleration Cause = "MissingSpotToleration" // it selects a spot pool without tolerating its taints
	CauseMissingSpotSelector   Cause = "MissingSpotSelector"   // it tolerates spot without selecting the spot pool
	CauseSpotShortage          Cause = "SpotShortage"          // its spot pool has no node, and no fallback has one for it
	CauseNodeSelectorMismatch  Cause = "NodeSelectorMismatch"  // no node matches its node selector or affinity
	CausePodAffinity           Cause = "PodAffinity"           // its pod affinity or anti-affinity cannot be met
	CauseTopologySpread        Cause = "TopologySpread"        // its topology spread constraints cannot be met
	CauseUnboundPVC            Cause = "UnboundPVC"            // its PersistentVolumeClaims are not bound
	CauseVolumeNodeAffinity    Cause = "VolumeNodeAffinity"    // its volumes are tied to where no node fits
	CauseNodesUnschedulable    Cause = "NodesUnschedulable"    // the nodes are cordoned
	CauseNoNodes               Cause = "NoNodes"               // the cluster has no node at all
	CauseSchedulingGated       Cause = "SchedulingGated"       // it waits for its scheduling gates
	CauseNotScheduledYet       Cause = "NotScheduledYet"       // the scheduler has said nothing about it
	CauseUnschedulable         Cause = "Unschedulable"         // another reason, passed through
)

// The causes of a scheduled pod that is not Ready (or whose containers did not start).
const (
	CauseNodeNotReady        Cause = "NodeNotReady"              // its node is NotReady (also a node's own cause)
	CauseInitContainers      Cause = "InitContainersNotFinished" // an init container has not completed
	CauseImagePull           Cause = "ImagePullBackOff"          // an image cannot be pulled
	CauseOOMKilled           Cause = "OOMKilled"                 // a container was killed for exceeding its memory
	CauseCrashLoop           Cause = "CrashLoopBackOff"          // a container keeps exiting
	CauseContainerTerminated Cause = "ContainerTerminated"       // a container exited and is not restarted
	CauseContainerWaiting    Cause = "ContainerWaiting"          // a container waits to be created or started
	CauseReadinessProbe      Cause = "ReadinessProbeFailing"     // a container fails its readiness (or startup) probe
	CauseReadinessGates      Cause = "ReadinessGatesNotReady"    // a readiness gate's condition is not True
	CauseContainersNotReady  Cause = "ContainersNotReady"        // a container is not ready, with no probe failure recorded
	CauseNotReady            Cause = "NotReady"                  // another reason, passed through
)

// The causes of a node finding (besides CauseNodeNotReady).
const (
	CauseMemoryPressure     Cause = "MemoryPressure"
	CauseDiskPressure       Cause = "DiskPressure"
	CausePIDPressure        Cause = "PIDPressure"
	CauseNetworkUnavailable Cause = "NetworkUnavailable"
)

// Finding is one problem: a pod or a node, its cause, why, and what to do next.
type Finding struct {
	Kind      Kind   `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Pod       string `json:"pod,omitempty"`
	// Node is the node of a node finding, or the node a pod runs on.
	Node string `json:"node,omitempty"`
	// Owner is the pod's controller, e.g. "ReplicaSet/api-7d9c"; pods of one owner with
	// one cause are reported together.
	Owner string `json:"owner,omitempty"`
	Cause Cause  `json:"cause"`
	// Summary says what is wrong and why, in one line that names no pod.
	Summary string `json:"summary"`
	// Next says what to do.
	Next string `json:"next"`
	// Since is when the pod was created, or when the node's condition began.
	Since time.Time `json:"since,omitempty"`

	Scheduling *Scheduling       `json:"scheduling,omitempty"`
	Autoscaler *Autoscaler       `json:"autoscaler,omitempty"`
	Spot       *SpotNeed         `json:"spot,omitempty"`
	Containers []ContainerStatus `json:"containers,omitempty"`
	// Evidence are the messages the cause rests on, as the cluster holds them.
	Evidence []Evidence `json:"evidence,omitempty"`
}

// SpotNeed is what a pod needs to run on one of the cluster's SpotNodePools, and what
// it lacks.
type SpotNeed struct {
	// Pool is the pool's flotilla.io/pool label; Name its spot node group in the cloud.
	Pool string `json:"pool"`
	Name string `json:"name,omitempty"`
	// NodeSelector and Tolerations are what the SpotNodePool asks of a workload (its
	// NodeSelector and Tolerations outputs); tolerations read "key=value:Effect".
	NodeSelector map[string]string `json:"nodeSelector"`
	Tolerations  []string          `json:"tolerations"`
	// MissingSelector and MissingTolerations are the part of them the pod does not have.
	MissingSelector    map[string]string `json:"missingSelector,omitempty"`
	MissingTolerations []string          `json:"missingTolerations,omitempty"`
	// ReadyNodes is how many spot nodes are Ready, of Desired (-1: not known).
	ReadyNodes int `json:"readyNodes"`
	Desired    int `json:"desired"`
	// Fallback is the on-demand pool that backs it ("" for none, or not known when
	// FallbackKnown is false), with its Ready nodes.
	Fallback      string `json:"fallback,omitempty"`
	FallbackKnown bool   `json:"fallbackKnown"`
	FallbackNodes int    `json:"fallbackNodes"`
}

// ContainerStatus is one container of a pod that is not ready, as its status says.
type ContainerStatus struct {
	Name string `json:"name"`
	Init bool   `json:"init,omitempty"`
	// State is waiting, running or terminated; Reason, Message and ExitCode are the
	// state's.
	State    string `json:"state"`
	Reason   string `json:"reason,omitempty"`
	Message  string `json:"message,omitempty"`
	ExitCode *int32 `json:"exitCode,omitempty"`
	Ready    bool   `json:"ready"`
	Restarts int32  `json:"restarts,omitempty"`
	// LastReason and LastExitCode are the last termination's, if the container restarted.
	LastReason   string `json:"lastReason,omitempty"`
	LastExitCode *int32 `json:"lastExitCode,omitempty"`
}

// Evidence is one message from the cluster: a pod or node condition, a container's
// status, or an event (aggregated by the cluster: Count times, First to Last).
type Evidence struct {
	// Source is "condition", "status" or "event".
	Source  string    `json:"source"`
	Reason  string    `json:"reason,omitempty"`
	Message string    `json:"message"`
	Count   int32     `json:"count,omitempty"`
	First   time.Time `json:"first,omitempty"`
	Last    time.Time `json:"last,omitempty"`
	// From is the component that reported it (default-scheduler, kubelet, cluster-autoscaler).
	From string `json:"from,omitempty"`
}

// Diagnose reads the cluster's nodes, the pods of opts.Namespace (every namespace when
// empty) and the events of the namespaces with a problem, and explains every Pending
// pod, every Running pod that is not Ready, and every node NotReady or under pressure.
func Diagnose(ctx context.Context, cs kubernetes.Interface, opts Options) (Report, error) {
	opts = opts.withDefaults()
	nodes, err := cs.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return Report{}, fmt.Errorf("listing nodes: %w", err)
	}
	pods, err := cs.CoreV1().Pods(opts.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return Report{}, fmt.Errorf("listing pods: %w", err)
	}
	c := newCluster(nodes.Items, opts)
	rep := Report{Pods: len(pods.Items), Nodes: len(nodes.Items)}

	var todo []*corev1.Pod
	namespaces := map[string]bool{}
	for i := range pods.Items {
		p := &pods.Items[i]
		if !troubled(p) {
			continue
		}
		if !opts.old(p.CreationTimestamp.Time) {
			rep.Young++
			continue
		}
		todo = append(todo, p)
		namespaces[p.Namespace] = true
	}
	events := podEvents{}
	for _, ns := range sortedKeys(namespaces) {
		list, err := cs.CoreV1().Events(ns).List(ctx, metav1.ListOptions{FieldSelector: "involvedObject.kind=Pod"})
		if err != nil {
			return Report{}, fmt.Errorf("listing the events of namespace %s: %w", ns, err)
		}
		events.add(list.Items)
	}
	for _, p := range todo {
		evs := events.of(p)
		if p.Spec.NodeName == "" {
			rep.Findings = append(rep.Findings, c.pending(p, evs))
		} else {
			rep.Findings = append(rep.Findings, c.notReady(p, evs))
		}
	}
	sort.SliceStable(rep.Findings, func(i, j int) bool {
		a, b := rep.Findings[i], rep.Findings[j]
		if kindOrder[a.Kind] != kindOrder[b.Kind] {
			return kindOrder[a.Kind] < kindOrder[b.Kind]
		}
		if a.Namespace != b.Namespace {
			return a.Namespace < b.Namespace
		}
		return a.Pod < b.Pod
	})
	rep.Findings = append(rep.Findings, c.nodeFindings()...)
	return rep, nil
}

var kindOrder = map[Kind]int{KindPending: 0, KindNotReady: 1, KindNode: 2}

// troubled reports whether a pod is one to explain: Pending, or Running and not Ready.
// Pods that finished or are being deleted are not.
func troubled(p *corev1.Pod) bool {
	if p.DeletionTimestamp != nil {
		return false
	}
	switch p.Status.Phase {
	case corev1.PodPending, "":
		return true
	case corev1.PodRunning:
		c := condition(p, corev1.PodReady)
		return c == nil || c.Status != corev1.ConditionTrue
	}
	return false
}

func condition(p *corev1.Pod, t corev1.PodConditionType) *corev1.PodCondition {
	for i := range p.Status.Conditions {
		if p.Status.Conditions[i].Type == t {
			return &p.Status.Conditions[i]
		}
	}
	return nil
}

// base is a pod's finding before its cause is known.
func base(kind Kind, p *corev1.Pod) Finding {
	f := Finding{Kind: kind, Namespace: p.Namespace, Pod: p.Name, Node: p.Spec.NodeName, Since: p.CreationTimestamp.Time}
	if ref := metav1.GetControllerOf(p); ref != nil {
		f.Owner = ref.Kind + "/" + ref.Name
	}
	return f
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
