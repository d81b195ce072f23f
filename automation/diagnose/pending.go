package diagnose

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/flotilla-io/flotilla/components/cluster"
)

// The scheduler's event for a pod it cannot place (pkg/scheduler/schedule_one.go).
const eventFailedScheduling = "FailedScheduling"

// pending explains a pod that is not scheduled.
func (c *clusterView) pending(p *corev1.Pod, evs []*corev1.Event) Finding {
	f := base(KindPending, p)
	cond := condition(p, corev1.PodScheduled)
	if cond != nil && cond.Message != "" {
		f.Evidence = append(f.Evidence, Evidence{Source: "condition", Reason: cond.Reason, Message: cond.Message, First: cond.LastTransitionTime.Time})
	}
	failed := withReason(evs, eventFailedScheduling)
	for _, e := range failed {
		f.Evidence = append(f.Evidence, evidenceOf(e))
	}

	// Scheduling gates keep a pod out of the scheduler until a controller removes them
	// (the API server sets PodScheduled=False, reason SchedulingGated:
	// pkg/registry/core/pod/strategy.go).
	if len(p.Spec.SchedulingGates) > 0 || (cond != nil && cond.Reason == corev1.PodReasonSchedulingGated) {
		var gates []string
		for _, g := range p.Spec.SchedulingGates {
			gates = append(gates, g.Name)
		}
		f.Cause = CauseSchedulingGated
		f.Summary = "it waits for its scheduling gates"
		if len(gates) > 0 {
			f.Summary += ": " + strings.Join(gates, ", ")
		}
		f.Next = "the controller that set the gates (a queue such as Kueue, or an admission webhook) removes them when it admits the pod: check that controller"
		return f
	}

	msg := ""
	if cond != nil && cond.Status == corev1.ConditionFalse && cond.Message != "" {
		msg = cond.Message
	} else if e := latest(failed); e != nil {
		msg = message(e)
	}
	if msg == "" {
		f.Cause = CauseNotScheduledYet
		f.Summary = "not scheduled, and the scheduler has said nothing about it"
		sched := p.Spec.SchedulerName
		if sched == "" {
			sched = corev1.DefaultSchedulerName
		}
		f.Next = fmt.Sprintf("check that the scheduler %q runs and sees the pod (its logs)", sched)
		return f
	}
	s, ok := ParseScheduling(msg)
	if !ok {
		f.Cause = CauseUnschedulable
		f.Summary = "the scheduler cannot place it: " + msg
		f.Next = "read the scheduler's message above; it is not one Flotilla recognises"
		return f
	}
	f.Scheduling = &s
	a, evidence := autoscalerOf(p, evs, *c.opts.ExpendableCutoff)
	f.Evidence = append(f.Evidence, evidence...)
	if a.Expendable || a.Last != "" {
		f.Autoscaler = a
	}
	c.explain(&f, p, &s, a)
	return f
}

// explain sets a Pending pod's cause, summary and next step from the scheduler's
// reasons, the spot pools and the autoscaler.
func (c *clusterView) explain(f *Finding, p *corev1.Pod, s *Scheduling, a *Autoscaler) {
	fits := fitsLine(s, p, c)
	scaler := a.phrase()
	with := func(parts ...string) string {
		var out []string
		for _, x := range parts {
			if x != "" {
				out = append(out, x)
			}
		}
		return strings.Join(out, "; ")
	}
	if s.Nodes == 0 && len(s.Reasons) == 0 {
		f.Cause = CauseNoNodes
		f.Summary = with("the cluster has no node", scaler)
		f.Next = first(a.next(), "add nodes: the cluster's node pools are all empty (check their sizes and the cloud's errors)")
		return
	}
	if need := c.spotNeed(p, s); need != nil {
		f.Spot = need
		explainSpot(f, a, need, fits, scaler)
		return
	}
	switch {
	case s.has(ReasonUnboundPVC):
		f.Cause = CauseUnboundPVC
		f.Summary = with(fits, "its PersistentVolumeClaims are not bound")
		f.Next = fmt.Sprintf("look at its claims (kubectl get pvc -n %s): a claim that does not exist, or whose StorageClass provisions nothing, keeps it Pending", p.Namespace)
	case s.has(ReasonInsufficientResource, ReasonTooManyPods):
		if big := c.tooBig(p, s); big != "" {
			f.Cause = CausePodTooBig
			f.Summary = with(fits, big)
			f.Next = "lower its requests to what a node holds, or add a node pool with a larger instance type"
			return
		}
		f.Cause = CauseInsufficientResources
		if !s.has(ReasonInsufficientResource) {
			f.Cause = CauseTooManyPods
		}
		f.Summary = with(fits, first(scaler, noAutoscaler(a)))
		f.Next = first(a.next(), "the nodes it can run on are full: free capacity, lower its requests, or raise the pool's size; no cluster-autoscaler event names this pod, so check that the autoscaler runs and that a node group fits it")
	case s.has(ReasonVolumeNodeAffinity):
		f.Cause = CauseVolumeNodeAffinity
		f.Summary = with(fits, "its volumes are bound where none of the nodes it can use are (a zone or a node)")
		f.Next = "run a node where its volumes are (the pool's zones), or move the data to a volume in a zone the pool covers"
	case s.has(ReasonTopologySpread):
		f.Cause = CauseTopologySpread
		f.Summary = with(fits, "its topology spread constraints cannot be met by the nodes' zones and hosts", scaler)
		f.Next = "add nodes in the zones or hosts it must spread over, or relax the constraint (whenUnsatisfiable: ScheduleAnyway, or a larger maxSkew)"
	case s.has(ReasonPodAffinity):
		f.Cause = CausePodAffinity
		f.Summary = with(fits, "its pod affinity or anti-affinity cannot be met", scaler)
		f.Next = "relax its pod (anti-)affinity rules, or add nodes where they can be met"
	case s.has(ReasonNodeUnschedulable):
		f.Cause = CauseNodesUnschedulable
		f.Summary = with(fits, "the nodes it could use are cordoned")
		f.Next = "uncordon them (kubectl uncordon) once their maintenance is over, or wait for their replacements"
	case s.only(ReasonUntoleratedTaint, ReasonNodeAffinity) && len(c.selected(p)) == 0,
		s.only(ReasonNodeAffinity):
		// The scheduler checks taints before labels: a node that has a taint the pod
		// does not tolerate is counted for its taint even when the pod does not select it.
		f.Cause = CauseNodeSelectorMismatch
		f.Summary = with(fits, "no node has the labels it selects"+selectorText(p))
		f.Next = "fix its node selector or affinity to match a pool (" + c.poolLabels() + "), or add a pool with those labels"
	case s.has(ReasonUntoleratedTaint) && s.only(ReasonUntoleratedTaint, ReasonNodeAffinity):
		taints := untolerated(p, c.selected(p))
		f.Cause = CauseUntoleratedTaint
		f.Summary = fits
		if len(taints) > 0 {
			f.Summary = with(fits, "it does not tolerate "+strings.Join(taints, ", "))
		}
		f.Next = "tolerate the taints of the pool it should run on, or select a pool without them"
	default:
		f.Cause = CauseUnschedulable
		f.Summary = with(fits, scaler)
		f.Next = "read the scheduler's reasons above"
	}
}

// explainSpot explains a pod aimed at a spot pool.
func explainSpot(f *Finding, a *Autoscaler, need *SpotNeed, fits, scaler string) {
	join := func(parts ...string) string {
		var out []string
		for _, x := range parts {
			if x != "" {
				out = append(out, x)
			}
		}
		return strings.Join(out, "; ")
	}
	pool := fmt.Sprintf("spot pool %s (%s=%s)", need.Name, cluster.LabelPool, need.Pool)
	switch {
	case need.ReadyNodes == 0 && len(need.MissingSelector) == 0:
		f.Cause = CauseSpotShortage
		have := fmt.Sprintf("%s has no Ready node", pool)
		if need.Desired > 0 {
			have = fmt.Sprintf("%s has %d of its %d nodes Ready: spot capacity is short", pool, need.ReadyNodes, need.Desired)
		}
		switch {
		case need.Fallback == "" && need.FallbackNodes == 0 && need.FallbackKnown:
			f.Summary = join(fits, have+", and it has no fallback pool to take over", scaler)
			f.Next = "enable the spot pool's on-demand fallback (remove fallback: {disabled: true} from the pool in its stack file), or wait for spot capacity to return"
		case need.FallbackNodes == 0:
			fb := "its fallback pool"
			if need.Fallback != "" {
				fb = "its fallback " + need.Fallback
			}
			f.Summary = join(fits, have+", and "+fb+" has no node for it yet", scaler)
			f.Next = first(a.next(), "the fallback takes over after the autoscaler's max-node-provision-time; if it does not, check its max size and the cloud's errors for it")
		default:
			f.Summary = join(fits, have+fmt.Sprintf(", and its fallback's %d node(s) have no room for it", need.FallbackNodes), first(scaler, noAutoscaler(a)))
			f.Next = first(a.next(), "raise the fallback's max size, or lower the pod's requests")
		}
		if len(need.MissingTolerations) > 0 {
			f.Summary += "; once spot returns it still cannot land there: it does not tolerate " + strings.Join(need.MissingTolerations, ", ")
			f.Next += "; and add the SpotNodePool's tolerations to the pod: " + tolerationsYAML(need.MissingTolerations)
		}
	case len(need.MissingTolerations) > 0 && len(need.MissingSelector) == 0:
		f.Cause = CauseMissingSpotToleration
		f.Summary = join(fits, fmt.Sprintf("it selects %s but does not tolerate %s", pool, strings.Join(need.MissingTolerations, ", ")))
		f.Next = "add the SpotNodePool's tolerations to the pod: " + tolerationsYAML(need.MissingTolerations)
	default:
		f.Cause = CauseMissingSpotSelector
		f.Summary = join(fits, fmt.Sprintf("it tolerates spot but does not select %s: it lacks the node selector %s", pool, labelsText(need.MissingSelector)))
		f.Next = "set the SpotNodePool's node selector on the pod: nodeSelector " + labelsText(need.NodeSelector)
		if len(need.MissingTolerations) > 0 {
			f.Summary += " and the tolerations " + strings.Join(need.MissingTolerations, ", ")
			f.Next += ", and tolerate " + tolerationsYAML(need.MissingTolerations)
		}
	}
}

// spotNeed finds the spot pool a pod is aimed at (it selects it, or tolerates the spot
// taint) and says what it lacks to land there. It returns nil when the pod is not aimed
// at a spot pool, or when spot is not why it is Pending.
func (c *clusterView) spotNeed(p *corev1.Pod, s *Scheduling) *SpotNeed {
	for _, sp := range c.spot {
		selectsPool := selectedValue(p, cluster.LabelPool) == sp.label
		// A pod that tolerates spot is aimed at spot pools unless it selects another pool.
		aimed := selectsPool || (tolerates(p.Spec.Tolerations, spotTaint) &&
			(selectedValue(p, cluster.LabelCapacity) == string(cluster.Spot) || selectedValue(p, cluster.LabelPool) == ""))
		if !aimed {
			continue
		}
		need := &SpotNeed{
			Pool: sp.label, Name: sp.name, NodeSelector: sp.selector, ReadyNodes: sp.ready, Desired: sp.desired,
			Fallback: sp.fallback, FallbackKnown: sp.fallbackKnown, FallbackNodes: sp.fallbackNodes,
		}
		for _, t := range sp.taints {
			need.Tolerations = append(need.Tolerations, t.ToString())
			if !tolerates(p.Spec.Tolerations, t) {
				need.MissingTolerations = append(need.MissingTolerations, t.ToString())
			}
		}
		for k, v := range sp.selector {
			if selectedValue(p, k) != v {
				if need.MissingSelector == nil {
					need.MissingSelector = map[string]string{}
				}
				need.MissingSelector[k] = v
			}
		}
		switch {
		case selectsPool && len(need.MissingTolerations) > 0 && s.has(ReasonUntoleratedTaint):
			return need
		case !selectsPool && len(need.MissingSelector) > 0 && s.has(ReasonUntoleratedTaint) && sp.ready > 0:
			// It tolerates spot but lands on no spot node: the pool's other taints (a
			// ComputeClass's, AKS's, the pool's own) need its selector.
			if len(need.MissingTolerations) > 0 {
				return need
			}
		case selectsPool && sp.ready == 0:
			need.MissingSelector = nil
			return need
		}
	}
	return nil
}

// standard are the resources every node reports in its allocatable.
var standard = map[corev1.ResourceName]bool{corev1.ResourceCPU: true, corev1.ResourceMemory: true, corev1.ResourceEphemeralStorage: true, corev1.ResourcePods: true}

// tooBig says how the pod's requests exceed every node it could run on, "" when they
// do not.
func (c *clusterView) tooBig(p *corev1.Pod, s *Scheduling) string {
	req := requests(p)
	nodes := c.candidates(p)
	var parts []string
	for _, r := range s.Reasons {
		if r.Code != ReasonInsufficientResource {
			continue
		}
		name := corev1.ResourceName(r.Resource)
		want, ok := req[name]
		if !ok {
			continue
		}
		most, node := largest(nodes, name)
		if node == "" && standard[name] {
			continue // the nodes do not say: leave it to the scheduler's words
		}
		if node == "" || want.Cmp(most) > 0 {
			if node == "" {
				parts = append(parts, fmt.Sprintf("it requests %s %s, which no node it can run on offers", name, want.String()))
			} else {
				parts = append(parts, fmt.Sprintf("it requests %s %s, more than any node it can run on holds (the largest, %s, has %s allocatable)", name, want.String(), node, most.String()))
			}
		}
	}
	return strings.Join(parts, "; ")
}

// fitsLine says, in words, how many nodes fit and why the others do not.
func fitsLine(s *Scheduling, p *corev1.Pod, c *clusterView) string {
	var parts []string
	for _, r := range s.Reasons {
		parts = append(parts, reasonWords(r, p, c))
	}
	line := fmt.Sprintf("0/%d nodes fit it", s.Nodes)
	if len(parts) > 0 {
		line += ": " + strings.Join(parts, ", ")
	}
	return line
}

func reasonWords(r Reason, p *corev1.Pod, c *clusterView) string {
	n := "all"
	if r.Count > 0 {
		n = fmt.Sprint(r.Count)
	}
	switch r.Code {
	case ReasonInsufficientResource:
		return fmt.Sprintf("%s lack free %s", n, r.Resource)
	case ReasonTooManyPods:
		return n + " run their maximum number of pods"
	case ReasonUntoleratedTaint:
		taint := r.Taint
		if taint == "" {
			taint = strings.Join(untolerated(p, c.nodes), ", ")
		}
		if taint != "" {
			return fmt.Sprintf("%s have a taint it does not tolerate (%s)", n, taint)
		}
		return n + " have a taint it does not tolerate"
	case ReasonNodeAffinity:
		return n + " do not match its node selector or affinity"
	case ReasonPodAffinity:
		return fmt.Sprintf("%s fail its pod affinity rules (%s)", n, r.Message)
	case ReasonTopologySpread:
		return n + " would break its topology spread constraints"
	case ReasonUnboundPVC:
		return n + ": " + r.Message
	case ReasonVolumeNodeAffinity:
		return n + " are not where its volumes are"
	case ReasonVolumeLimits:
		return fmt.Sprintf("%s cannot take its volumes (%s)", n, r.Message)
	case ReasonNodeUnschedulable:
		return n + " are cordoned"
	case ReasonNodeName:
		return n + " are not the node it names"
	case ReasonHostPort:
		return n + " have its host port taken"
	}
	if r.Count > 0 {
		return fmt.Sprintf("%d: %s", r.Count, r.Message)
	}
	return r.Message
}

// noAutoscaler is what to say when the autoscaler said nothing about a pod short of
// capacity.
func noAutoscaler(a *Autoscaler) string {
	if a.Last == "" && !a.Expendable {
		return "no cluster-autoscaler event names it"
	}
	return ""
}

// selectorText renders a pod's node selector for a sentence.
func selectorText(p *corev1.Pod) string {
	if len(p.Spec.NodeSelector) == 0 {
		return " (by its node affinity)"
	}
	return " (" + labelsText(p.Spec.NodeSelector) + ")"
}

func labelsText(m map[string]string) string {
	var parts []string
	for _, k := range sortedKeys(m) {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ", ")
}

// poolLabels lists the flotilla.io/pool values the nodes carry.
func (c *clusterView) poolLabels() string {
	set := map[string]bool{}
	for _, n := range c.nodes {
		if v := n.Labels[cluster.LabelPool]; v != "" {
			set[cluster.LabelPool+"="+v] = true
		}
	}
	if len(set) == 0 {
		return "the nodes carry no " + cluster.LabelPool + " label"
	}
	return "the pools are " + strings.Join(sortedKeys(set), ", ")
}

// tolerationsYAML renders "key=value:Effect" tolerations as a pod spec's.
func tolerationsYAML(ts []string) string {
	var out []string
	for _, t := range ts {
		kv, effect, _ := strings.Cut(t, ":")
		k, v, hasValue := strings.Cut(kv, "=")
		if hasValue {
			out = append(out, fmt.Sprintf("{key: %s, operator: Equal, value: %s, effect: %s}", k, v, effect))
		} else {
			out = append(out, fmt.Sprintf("{key: %s, operator: Exists, effect: %s}", k, effect))
		}
	}
	sort.Strings(out)
	return "tolerations: [" + strings.Join(out, ", ") + "]"
}

func first(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}
