package diagnose

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The cluster-autoscaler's events on a pod it considered, from kubernetes/autoscaler
// cluster-autoscaler/processors/status/eventing_scale_up_processor.go: NotTriggerScaleUp
// ("pod didn't trigger scale-up: <count> <reason>, ..."), TriggeredScaleUp ("pod triggered
// scale-up: [{<group> <current>-><new> (max: <max>)}]", ScaleUpInfo.String in
// processors/nodegroupset), and FailedScaleUp, which GKE's autoscaler adds ("Node scale
// up in zones <zones> associated with this pod failed: <why>. Pod is at risk of not
// being scheduled.").
const (
	eventNotTriggerScaleUp = "NotTriggerScaleUp"
	eventTriggeredScaleUp  = "TriggeredScaleUp"
	eventFailedScaleUp     = "FailedScaleUp"
)

var scaleUpInfo = regexp.MustCompile(`\{(\S+) (\d+)->(\d+) \(max: (\d+)\)\}`)

// Autoscaler is what the cluster-autoscaler said, or would do, about a Pending pod.
type Autoscaler struct {
	// Expendable says the pod's priority is below the autoscaler's cutoff: it never adds
	// a node for it.
	Expendable bool   `json:"expendable,omitempty"`
	Priority   *int32 `json:"priority,omitempty"`
	Cutoff     int32  `json:"cutoff"`
	// Last is the reason of its latest event about the pod ("" when it said nothing).
	Last string `json:"last,omitempty"`
	// ScaleUp are the node groups its latest TriggeredScaleUp grows.
	ScaleUp []ScaleUp `json:"scaleUp,omitempty"`
	// NoScaleUp are the reasons of its latest NotTriggerScaleUp, counting node groups.
	NoScaleUp []Reason `json:"noScaleUp,omitempty"`
	// Failed is its latest FailedScaleUp message.
	Failed string `json:"failed,omitempty"`
}

// ScaleUp is one node group a scale-up grows.
type ScaleUp struct {
	Group string `json:"group"`
	From  int    `json:"from"`
	To    int    `json:"to"`
	Max   int    `json:"max"`
}

// ParseNotTriggerScaleUp parses a NotTriggerScaleUp message into its reasons, each
// counting the node groups it ruled out. It reports false for another shape.
func ParseNotTriggerScaleUp(msg string) ([]Reason, bool) {
	text := strings.TrimSpace(strings.TrimPrefix(msg, combinedPrefix))
	const prefix = "pod didn't trigger scale-up"
	if len(text) < len(prefix) || !strings.EqualFold(text[:len(prefix)], prefix) {
		return nil, false
	}
	rest := strings.TrimSpace(strings.TrimPrefix(text[len(prefix):], ":"))
	if rest == "" {
		return nil, true
	}
	if rest == "max total nodes in cluster reached" {
		return []Reason{{Code: ReasonMaxNodesTotal, Message: rest}}, true
	}
	var out []Reason
	for _, item := range splitCounted(rest) {
		r := classify(item)
		switch {
		case r.Message == "max node group size reached":
			r.Code = ReasonMaxNodeGroupSize
		case r.Message == "in backoff after failed scale-up":
			r.Code = ReasonBackoff
		case r.Message == "not ready for scale-up":
			r.Code = ReasonGroupNotReady
		case strings.HasPrefix(r.Message, "max cluster ") && strings.HasSuffix(r.Message, " limit reached"):
			r.Code = ReasonResourceLimit
			r.Resource = strings.TrimSuffix(strings.TrimPrefix(r.Message, "max cluster "), " limit reached")
		}
		out = append(out, r)
	}
	return out, true
}

// ParseTriggeredScaleUp parses a TriggeredScaleUp message into the node groups it grows.
func ParseTriggeredScaleUp(msg string) ([]ScaleUp, bool) {
	text := strings.TrimPrefix(msg, combinedPrefix)
	if !strings.HasPrefix(strings.ToLower(text), "pod triggered scale-up") {
		return nil, false
	}
	var out []ScaleUp
	for _, m := range scaleUpInfo.FindAllStringSubmatch(text, -1) {
		from, _ := strconv.Atoi(m[2])
		to, _ := strconv.Atoi(m[3])
		most, _ := strconv.Atoi(m[4])
		out = append(out, ScaleUp{Group: m[1], From: from, To: to, Max: most})
	}
	return out, true
}

// autoscaler joins a pod with the autoscaler's events about it, and with its cutoff.
func autoscalerOf(p *corev1.Pod, evs []*corev1.Event, cutoff int32) (*Autoscaler, []Evidence) {
	a := &Autoscaler{Cutoff: cutoff, Priority: p.Spec.Priority}
	if p.Spec.Priority != nil && *p.Spec.Priority < cutoff {
		a.Expendable = true
	}
	var evidence []Evidence
	ca := withReason(evs, eventNotTriggerScaleUp, eventTriggeredScaleUp, eventFailedScaleUp)
	for _, e := range ca {
		evidence = append(evidence, evidenceOf(e))
	}
	if last := latest(ca); last != nil {
		a.Last = last.Reason
	}
	if e := latest(withReason(ca, eventNotTriggerScaleUp)); e != nil {
		a.NoScaleUp, _ = ParseNotTriggerScaleUp(e.Message)
		if len(a.NoScaleUp) == 0 {
			a.NoScaleUp = []Reason{{Code: ReasonUnknown, Message: message(e)}}
		}
	}
	if e := latest(withReason(ca, eventTriggeredScaleUp)); e != nil {
		a.ScaleUp, _ = ParseTriggeredScaleUp(e.Message)
	}
	if e := latest(withReason(ca, eventFailedScaleUp)); e != nil {
		a.Failed = message(e)
	}
	return a, evidence
}

func (a *Autoscaler) noScaleUp(c ReasonCode) bool {
	for _, r := range a.NoScaleUp {
		if r.Code == c {
			return true
		}
	}
	return false
}

// phrase says what the autoscaler does about the pod, "" when it said nothing.
func (a *Autoscaler) phrase() string {
	switch {
	case a.Expendable:
		return fmt.Sprintf("the cluster-autoscaler ignores it: its priority %d is below the expendable cutoff %d", *a.Priority, a.Cutoff)
	case a.Last == eventTriggeredScaleUp:
		var groups []string
		for _, s := range a.ScaleUp {
			groups = append(groups, fmt.Sprintf("%s %d->%d (max %d)", s.Group, s.From, s.To, s.Max))
		}
		if len(groups) == 0 {
			return "the autoscaler is adding nodes for it"
		}
		return "the autoscaler is adding nodes for it: " + strings.Join(groups, ", ")
	case a.Last == eventFailedScaleUp:
		return "the autoscaler's scale-up for it failed: " + strings.TrimSuffix(a.Failed, ".")
	case a.Last == eventNotTriggerScaleUp:
		var parts []string
		for _, r := range a.NoScaleUp {
			switch r.Code {
			case ReasonMaxNodeGroupSize:
				parts = append(parts, fmt.Sprintf("max node group size reached (%s)", groups(r.Count)))
			case ReasonBackoff:
				parts = append(parts, fmt.Sprintf("in backoff after a failed scale-up (%s)", groups(r.Count)))
			case ReasonGroupNotReady:
				parts = append(parts, fmt.Sprintf("not ready for scale-up (%s)", groups(r.Count)))
			case ReasonResourceLimit:
				parts = append(parts, fmt.Sprintf("the cluster's %s limit reached (%s)", r.Resource, groups(r.Count)))
			case ReasonMaxNodesTotal:
				parts = append(parts, "the cluster's maximum number of nodes reached")
			default:
				if r.Count > 0 {
					parts = append(parts, fmt.Sprintf("a new node would not fit it either: %s (%s)", r.Message, groups(r.Count)))
				} else {
					parts = append(parts, r.Message)
				}
			}
		}
		if len(parts) == 0 {
			return "the autoscaler cannot add nodes for it: no node group can take it"
		}
		return "the autoscaler cannot add nodes for it: " + strings.Join(parts, ", ")
	}
	return ""
}

func groups(n int) string {
	if n == 1 {
		return "1 node group"
	}
	return fmt.Sprintf("%d node groups", n)
}

// next says what to do about capacity the autoscaler should have added; "" when it
// said nothing.
func (a *Autoscaler) next() string {
	switch {
	case a.Expendable:
		return fmt.Sprintf("give it a priority of at least %d (a PriorityClass), or the autoscaler never adds a node for it", a.Cutoff)
	case a.Last == eventTriggeredScaleUp:
		return "wait for the new nodes to join; if they do not within the autoscaler's max-node-provision-time, look at the node group's errors in the cloud"
	case a.Last == eventFailedScaleUp:
		return "fix what made the scale-up fail (quota, capacity, IP space) in the cloud"
	case a.Last == eventNotTriggerScaleUp:
		if a.noScaleUp(ReasonMaxNodeGroupSize) {
			return "raise the max size of the node group(s) at their limit (the pool's maxSize in its stack file), or lower the pod's requests"
		}
		if a.noScaleUp(ReasonBackoff) {
			return "a scale-up of its node group failed and the autoscaler is backing off: look at the group's errors in the cloud (quota, capacity); a spot pool's fallback takes over after max-node-provision-time"
		}
		if a.noScaleUp(ReasonResourceLimit) {
			return "raise the autoscaler's cluster-wide resource limits, or lower the pod's requests"
		}
		if a.noScaleUp(ReasonMaxNodesTotal) {
			return "raise the autoscaler's --max-nodes-total, or lower the pod's requests"
		}
		return "no node group makes a node the pod fits on: lower its requests or fix its constraints, or add a node pool that matches them"
	}
	return ""
}
