package diagnose

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/flotilla-io/flotilla/components/cluster"
)

// computeClassLabel is GKE's label (and taint) that ties a node pool to a ComputeClass;
// a SpotNodePool on GCP selects it (components/spotpool/validate.go).
const computeClassLabel = "cloud.google.com/compute-class"

// spotTaint is the taint every Flotilla spot node carries, and a workload tolerates to
// run on spot (components/spotpool: Taints, Tolerations).
var spotTaint = corev1.Taint{Key: cluster.LabelCapacity, Value: string(cluster.Spot), Effect: corev1.TaintEffectNoSchedule}

// clusterView is what the cluster's nodes and pools tell a diagnosis.
type clusterView struct {
	opts   Options
	nodes  []*corev1.Node
	byName map[string]*corev1.Node
	spot   []*spotPool
}

// spotPool is one SpotNodePool of the cluster, as its nodes and Options.Pools show it.
type spotPool struct {
	label    string
	name     string
	taints   []corev1.Taint
	selector map[string]string
	ready    int
	desired  int // -1: not known
	// fallback is its fallback pool's name; fallbackKnown says Options.Pools told.
	fallback      string
	fallbackKnown bool
	fallbackNodes int
}

func newCluster(nodes []corev1.Node, opts Options) *clusterView {
	c := &clusterView{opts: opts, byName: map[string]*corev1.Node{}}
	for i := range nodes {
		n := &nodes[i]
		c.nodes = append(c.nodes, n)
		c.byName[n.Name] = n
	}
	sort.Slice(c.nodes, func(i, j int) bool { return c.nodes[i].Name < c.nodes[j].Name })

	pools := map[string]*spotPool{}
	get := func(label string) *spotPool {
		if sp, ok := pools[label]; ok {
			return sp
		}
		sp := &spotPool{label: label, name: label, desired: -1, selector: map[string]string{cluster.LabelPool: label}}
		pools[label] = sp
		return sp
	}
	for _, p := range opts.Pools {
		if p.Capacity == string(cluster.Spot) {
			sp := get(poolLabel(p))
			sp.name, sp.desired = p.Name, p.Desired
		}
	}
	for _, p := range opts.Pools {
		if p.FallbackFor == "" {
			continue
		}
		for _, sp := range pools {
			if sp.name == p.FallbackFor {
				sp.fallback = p.Name
			}
		}
	}
	for _, n := range c.nodes {
		label := n.Labels[cluster.LabelPool]
		if label == "" {
			continue
		}
		if n.Labels[cluster.LabelCapacity] == string(cluster.Spot) {
			sp := get(label)
			if cc := n.Labels[computeClassLabel]; cc != "" {
				sp.selector[computeClassLabel] = cc
			}
			for _, t := range n.Spec.Taints {
				if blocking(t) && !hasTaint(sp.taints, t) {
					sp.taints = append(sp.taints, t)
				}
			}
			if ok, _ := nodeReady(n); ok {
				sp.ready++
			}
		}
	}
	// A spot pool's on-demand nodes are its fallback's, whatever Options.Pools say.
	for _, sp := range pools {
		sp.fallbackKnown = len(opts.Pools) > 0
		for _, n := range c.nodes {
			if n.Labels[cluster.LabelPool] == sp.label && n.Labels[cluster.LabelCapacity] == string(cluster.OnDemand) {
				if ok, _ := nodeReady(n); ok {
					sp.fallbackNodes++
				}
			}
		}
		if len(sp.taints) == 0 {
			sp.taints = []corev1.Taint{spotTaint}
		}
		sort.Slice(sp.taints, func(i, j int) bool { return sp.taints[i].ToString() < sp.taints[j].ToString() })
		c.spot = append(c.spot, sp)
	}
	sort.Slice(c.spot, func(i, j int) bool { return c.spot[i].label < c.spot[j].label })
	return c
}

func poolLabel(p Pool) string {
	if p.Label != "" {
		return p.Label
	}
	return p.Name
}

// blocking reports whether a taint keeps pods that do not tolerate it off a node. The
// node.kubernetes.io/ taints come and go with the node's conditions: they are the
// node's findings, not a pool's.
func blocking(t corev1.Taint) bool {
	return (t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute) &&
		!strings.HasPrefix(t.Key, "node.kubernetes.io/")
}

func hasTaint(ts []corev1.Taint, t corev1.Taint) bool {
	for _, x := range ts {
		if x.Key == t.Key && x.Value == t.Value && x.Effect == t.Effect {
			return true
		}
	}
	return false
}

// tolerates reports whether tolerations tolerate taint, as the scheduler decides
// (k8s.io/api core/v1 Toleration.ToleratesTaint).
func tolerates(tolerations []corev1.Toleration, taint corev1.Taint) bool {
	for _, t := range tolerations {
		if t.Effect != "" && t.Effect != taint.Effect {
			continue
		}
		if t.Key != "" && t.Key != taint.Key {
			continue
		}
		switch t.Operator {
		case corev1.TolerationOpExists:
			return true
		case corev1.TolerationOpEqual, "":
			if t.Key != "" && t.Value == taint.Value {
				return true
			}
		}
	}
	return false
}

// untolerated returns the blocking taints of nodes that the pod does not tolerate, as
// "key=value:Effect", sorted.
func untolerated(p *corev1.Pod, nodes []*corev1.Node) []string {
	set := map[string]bool{}
	for _, n := range nodes {
		for _, t := range n.Spec.Taints {
			if (t.Effect == corev1.TaintEffectNoSchedule || t.Effect == corev1.TaintEffectNoExecute) && !tolerates(p.Spec.Tolerations, t) {
				set[t.ToString()] = true
			}
		}
	}
	return sortedKeys(set)
}

// selects reports whether the pod's node selector and required node affinity admit a
// node with these labels. Affinity terms are ORed, their expressions ANDed.
func selects(p *corev1.Pod, labels map[string]string) bool {
	for k, v := range p.Spec.NodeSelector {
		if labels[k] != v {
			return false
		}
	}
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return true
	}
	terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) == 0 {
		return true
	}
	for _, term := range terms {
		if termMatches(term, labels) {
			return true
		}
	}
	return false
}

func termMatches(term corev1.NodeSelectorTerm, labels map[string]string) bool {
	for _, e := range term.MatchExpressions {
		v, has := labels[e.Key]
		switch e.Operator {
		case corev1.NodeSelectorOpIn:
			if !has || !contains(e.Values, v) {
				return false
			}
		case corev1.NodeSelectorOpNotIn:
			if has && contains(e.Values, v) {
				return false
			}
		case corev1.NodeSelectorOpExists:
			if !has {
				return false
			}
		case corev1.NodeSelectorOpDoesNotExist:
			if has {
				return false
			}
		default: // Gt, Lt: leave it to the scheduler
		}
	}
	return len(term.MatchExpressions) > 0 || len(term.MatchFields) > 0
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// selectedValue returns the value the pod requires for a label key: by its node
// selector, or by every required affinity term naming that single value.
func selectedValue(p *corev1.Pod, key string) string {
	if v, ok := p.Spec.NodeSelector[key]; ok {
		return v
	}
	a := p.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	value := ""
	for _, term := range a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms {
		found := ""
		for _, e := range term.MatchExpressions {
			if e.Key == key && e.Operator == corev1.NodeSelectorOpIn && len(e.Values) == 1 {
				found = e.Values[0]
			}
		}
		if found == "" || (value != "" && value != found) {
			return ""
		}
		value = found
	}
	return value
}

// candidates are the nodes a pod could run on by its selector, affinity and
// tolerations; failing that, the nodes it selects; failing that, every node.
func (c *clusterView) candidates(p *corev1.Pod) []*corev1.Node {
	var matching, usable []*corev1.Node
	for _, n := range c.nodes {
		if !selects(p, n.Labels) {
			continue
		}
		matching = append(matching, n)
		if len(untolerated(p, []*corev1.Node{n})) == 0 {
			usable = append(usable, n)
		}
	}
	switch {
	case len(usable) > 0:
		return usable
	case len(matching) > 0:
		return matching
	}
	return c.nodes
}

func (c *clusterView) selected(p *corev1.Pod) []*corev1.Node {
	var out []*corev1.Node
	for _, n := range c.nodes {
		if selects(p, n.Labels) {
			out = append(out, n)
		}
	}
	return out
}

// requests is what a pod asks the scheduler for: the sum of its containers' requests
// (restartable init containers included), or its largest init container's if larger,
// plus its overhead.
func requests(p *corev1.Pod) corev1.ResourceList {
	sum := corev1.ResourceList{}
	add := func(rl corev1.ResourceList) {
		for r, q := range rl {
			cur := sum[r]
			cur.Add(q)
			sum[r] = cur
		}
	}
	for _, ct := range p.Spec.Containers {
		add(requestsOf(ct))
	}
	for _, ct := range p.Spec.InitContainers {
		if ct.RestartPolicy != nil && *ct.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			add(requestsOf(ct))
		}
	}
	for _, ct := range p.Spec.InitContainers {
		if ct.RestartPolicy != nil && *ct.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			continue
		}
		for r, q := range requestsOf(ct) {
			if cur, ok := sum[r]; !ok || q.Cmp(cur) > 0 {
				sum[r] = q.DeepCopy()
			}
		}
	}
	add(p.Spec.Overhead)
	return sum
}

// requestsOf is a container's requests, its limits standing in where it sets none (as
// the API server defaults them).
func requestsOf(ct corev1.Container) corev1.ResourceList {
	out := corev1.ResourceList{}
	for r, q := range ct.Resources.Limits {
		out[r] = q
	}
	for r, q := range ct.Resources.Requests {
		out[r] = q
	}
	return out
}

// largest returns the largest allocatable of a resource among nodes, and its node.
func largest(nodes []*corev1.Node, r corev1.ResourceName) (resource.Quantity, string) {
	var best resource.Quantity
	name := ""
	for _, n := range nodes {
		q, ok := n.Status.Allocatable[r]
		if !ok {
			continue
		}
		if name == "" || q.Cmp(best) > 0 {
			best, name = q.DeepCopy(), n.Name
		}
	}
	return best, name
}

// nodeReady reports whether a node's Ready condition is True, and why not.
func nodeReady(n *corev1.Node) (bool, *corev1.NodeCondition) {
	for i := range n.Status.Conditions {
		c := &n.Status.Conditions[i]
		if c.Type == corev1.NodeReady {
			return c.Status == corev1.ConditionTrue, c
		}
	}
	return false, nil
}

// nodeFindings are the nodes NotReady, under pressure, or without network.
func (c *clusterView) nodeFindings() []Finding {
	var out []Finding
	for _, n := range c.nodes {
		if ok, cond := nodeReady(n); !ok {
			f := Finding{Kind: KindNode, Node: n.Name, Cause: CauseNodeNotReady}
			if cond == nil {
				f.Summary = "NotReady: its kubelet has not reported a Ready condition yet"
				f.Since = n.CreationTimestamp.Time
				f.Next = "check that the machine booted and its kubelet registered (its logs, the cloud's console)"
			} else {
				f.Since = cond.LastTransitionTime.Time
				f.Summary = fmt.Sprintf("NotReady (Ready=%s)%s", cond.Status, reasonMessage(cond.Reason, cond.Message))
				f.Evidence = []Evidence{{Source: "condition", Reason: cond.Reason, Message: cond.Message, Last: cond.LastHeartbeatTime.Time, First: cond.LastTransitionTime.Time}}
				if cond.Status == corev1.ConditionUnknown {
					f.Next = "its kubelet stopped reporting: check the machine in the cloud (stopped, cut off, out of resources); its pods are evicted after their tolerationSeconds (5m by default) and rescheduled"
				} else {
					f.Next = "its kubelet reports it not ready: check the container runtime and the network plugin on it (its condition's message), or replace the node"
				}
			}
			if c.opts.old(f.Since) {
				out = append(out, f)
			}
		}
		for _, cond := range n.Status.Conditions {
			if cond.Status != corev1.ConditionTrue {
				continue
			}
			var cause Cause
			var next string
			switch cond.Type {
			case corev1.NodeMemoryPressure:
				cause, next = CauseMemoryPressure, "the kubelet evicts pods to free memory: find what uses it on the node, set memory limits, or move workloads off it (cordon and drain)"
			case corev1.NodeDiskPressure:
				cause, next = CauseDiskPressure, "the kubelet evicts pods and removes images to free disk: clean up images and logs, or give the pool larger disks"
			case corev1.NodePIDPressure:
				cause, next = CausePIDPressure, "a workload on it starts too many processes: find it, or set a pod PID limit"
			case corev1.NodeNetworkUnavailable:
				cause, next = CauseNetworkUnavailable, "its network is not configured: check the network plugin (CNI) on it"
			default:
				continue
			}
			f := Finding{Kind: KindNode, Node: n.Name, Cause: cause, Since: cond.LastTransitionTime.Time, Next: next,
				Evidence: []Evidence{{Source: "condition", Reason: cond.Reason, Message: cond.Message, First: cond.LastTransitionTime.Time, Last: cond.LastHeartbeatTime.Time}}}
			if cause == CauseNetworkUnavailable {
				f.Summary = "its network is unavailable" + reasonMessage(cond.Reason, cond.Message)
			} else {
				f.Summary = "under " + pressureName(cond.Type) + " pressure" + reasonMessage(cond.Reason, cond.Message)
			}
			if c.opts.old(f.Since) {
				out = append(out, f)
			}
		}
	}
	return out
}

func pressureName(t corev1.NodeConditionType) string {
	switch t {
	case corev1.NodeMemoryPressure:
		return "memory"
	case corev1.NodeDiskPressure:
		return "disk"
	case corev1.NodePIDPressure:
		return "PID"
	}
	return string(t)
}

// reasonMessage renders a condition's reason and message as ": Reason: message".
func reasonMessage(reason, msg string) string {
	switch {
	case reason != "" && msg != "":
		return ": " + reason + ": " + msg
	case reason != "":
		return ": " + reason
	case msg != "":
		return ": " + msg
	}
	return ""
}
