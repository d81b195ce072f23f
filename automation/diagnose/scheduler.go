package diagnose

import (
	"regexp"
	"strconv"
	"strings"
)

// Scheduling is the scheduler's account of why it cannot place a pod, parsed from its
// FailedScheduling message.
//
// The message is built by FitError.Error in kubernetes/kubernetes
// pkg/scheduler/framework/types.go: "0/<nodes> nodes are available: <PreFilter message>."
// or "0/<nodes> nodes are available: <count> <reason>, <count> <reason>." (the reasons
// sorted as strings), then the PostFilter plugins' messages, of which the default
// preemption's starts "preemption: " (pkg/scheduler/framework/plugins/defaultpreemption).
type Scheduling struct {
	// Nodes is how many nodes the scheduler considered.
	Nodes int `json:"nodes"`
	// Reasons count the nodes each reason ruled out; a reason with Count 0 (a PreFilter
	// plugin's) rules out every node.
	Reasons []Reason `json:"reasons"`
	// Preemption is what the scheduler's preemption concluded, e.g. "0/3 nodes are
	// available: 3 Preemption is not helpful for scheduling".
	Preemption string `json:"preemption,omitempty"`
	// Other are the other PostFilter plugins' messages, passed through.
	Other []string `json:"other,omitempty"`
	// Message is the scheduler's message as it was written.
	Message string `json:"message"`
}

// Reason is one reason of a scheduler's or an autoscaler's message, with the number of
// nodes (or, for the autoscaler, node groups) it applies to.
type Reason struct {
	Code    ReasonCode `json:"code"`
	Count   int        `json:"count"`
	Message string     `json:"message"`
	// Resource is what an InsufficientResource reason lacks: cpu, memory, nvidia.com/gpu.
	Resource string `json:"resource,omitempty"`
	// Taint is the taint the message names, "key=value" (or "key"), in the releases that
	// name it.
	Taint string `json:"taint,omitempty"`
}

// ReasonCode classifies one reason.
type ReasonCode string

// The scheduler's reasons, from the filter plugins of kubernetes/kubernetes
// pkg/scheduler/framework/plugins/* (each plugin's ErrReason constants).
const (
	ReasonInsufficientResource ReasonCode = "InsufficientResource" // noderesources: "Insufficient cpu"
	ReasonTooManyPods          ReasonCode = "TooManyPods"          // noderesources: "Too many pods"
	ReasonUntoleratedTaint     ReasonCode = "UntoleratedTaint"     // tainttoleration
	ReasonNodeAffinity         ReasonCode = "NodeAffinity"         // nodeaffinity: "node(s) didn't match Pod's node affinity/selector"
	ReasonPodAffinity          ReasonCode = "PodAffinity"          // interpodaffinity
	ReasonTopologySpread       ReasonCode = "TopologySpread"       // podtopologyspread
	ReasonUnboundPVC           ReasonCode = "UnboundPVC"           // volumebinding: unbound or missing claims
	ReasonVolumeNodeAffinity   ReasonCode = "VolumeNodeAffinity"   // volumebinding, volumezone: the volume is elsewhere
	ReasonVolumeLimits         ReasonCode = "VolumeLimits"         // nodevolumelimits, volumerestrictions, storage capacity
	ReasonNodeUnschedulable    ReasonCode = "NodeUnschedulable"    // nodeunschedulable: cordoned nodes
	ReasonNodeName             ReasonCode = "NodeName"             // nodename
	ReasonHostPort             ReasonCode = "HostPort"             // nodeports
	ReasonNoPreemptionVictims  ReasonCode = "NoPreemptionVictims"  // defaultpreemption
	ReasonPreemptionNotHelpful ReasonCode = "PreemptionNotHelpful" // preemption
	ReasonUnknown              ReasonCode = "Unknown"              // anything else, passed through
)

// The cluster-autoscaler's reasons for not scaling up, from kubernetes/autoscaler
// cluster-autoscaler/core/scaleup/orchestrator/skippedreasons.go and
// processors/status/eventing_scale_up_processor.go (ReasonsMessage).
const (
	ReasonMaxNodeGroupSize ReasonCode = "MaxNodeGroupSize" // "max node group size reached"
	ReasonBackoff          ReasonCode = "Backoff"          // "in backoff after failed scale-up"
	ReasonGroupNotReady    ReasonCode = "GroupNotReady"    // "not ready for scale-up"
	ReasonResourceLimit    ReasonCode = "ResourceLimit"    // "max cluster cpu, memory limit reached"
	ReasonMaxNodesTotal    ReasonCode = "MaxNodesTotal"    // "max total nodes in cluster reached"
)

var (
	fitPrefix = regexp.MustCompile(`^0/(\d+) nodes are available:\s*`)
	// taintNamed is how older releases named the untolerated taint:
	// "node(s) had untolerated taint {key: value}" (1.26 to 1.34) and
	// "node(s) had taint {key: value}, that the pod didn't tolerate" (up to 1.25). Since
	// kubernetes/kubernetes#134740 (1.35, and 1.34 patch releases through #135023) it
	// says "node(s) had untolerated taint(s)", and Diagnose finds the taints itself.
	taintNamed = regexp.MustCompile(`\{([^:{}]+): ?([^{}]*)\}`)
	countFirst = regexp.MustCompile(`^(\d+) (.+)$`)
)

// noNodesMsg is the scheduler's error for a cluster without nodes (ErrNoNodesAvailable,
// pkg/scheduler/scheduler.go).
const noNodesMsg = "no nodes available to schedule pods"

// ParseScheduling parses a FailedScheduling message. It reports false for a message of
// another shape, which the caller passes through.
func ParseScheduling(msg string) (Scheduling, bool) {
	s := Scheduling{Message: msg}
	text := strings.TrimSpace(strings.TrimPrefix(msg, combinedPrefix))
	if strings.HasPrefix(text, noNodesMsg) {
		return s, true
	}
	m := fitPrefix.FindStringSubmatchIndex(text)
	if m == nil {
		return s, false
	}
	s.Nodes, _ = strconv.Atoi(text[m[2]:m[3]])
	rest := text[m[1]:]
	if i := strings.Index(rest, "preemption: "); i >= 0 {
		s.Preemption = trimSentence(rest[i+len("preemption: "):])
		rest = rest[:i]
	}
	// Older releases end every part with "." (SeparatorFormat " %v."), so that a
	// preemption message ends in ".."; v1.37 leaves the PostFilter part without it.
	sentences := strings.Split(strings.TrimSpace(rest), ". ")
	for i, sentence := range sentences {
		sentence = trimSentence(sentence)
		if sentence == "" {
			continue
		}
		if i > 0 {
			s.Other = append(s.Other, sentence)
			continue
		}
		for _, item := range splitCounted(sentence) {
			s.Reasons = append(s.Reasons, classify(item))
		}
	}
	return s, true
}

// trimSentence drops the separators around one part of a message.
func trimSentence(s string) string {
	return strings.TrimRight(strings.TrimSpace(s), ".,; ")
}

// splitCounted splits "1 Insufficient cpu, 2 node(s) had untolerated taint(s)" into its
// items. It splits only at a ", " followed by a count, since a reason may hold ", "
// itself ("max cluster cpu, memory limit reached"; "node(s) had taint {a: b}, that the
// pod didn't tolerate").
func splitCounted(s string) []string {
	var out []string
	start := 0
	for i := 0; i+2 < len(s); i++ {
		if s[i] != ',' || s[i+1] != ' ' {
			continue
		}
		if countFirst.MatchString(s[i+2:]) && startsWithCount(s[i+2:]) {
			out = append(out, s[start:i])
			start = i + 2
		}
	}
	return append(out, s[start:])
}

func startsWithCount(s string) bool {
	j := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	return j > 0 && j < len(s) && s[j] == ' '
}

// classify reads one "<count> <reason>" item (or a PreFilter's reason without a count).
func classify(item string) Reason {
	r := Reason{Message: strings.TrimSpace(item)}
	if m := countFirst.FindStringSubmatch(r.Message); m != nil && startsWithCount(r.Message) {
		r.Count, _ = strconv.Atoi(m[1])
		r.Message = m[2]
	}
	r.Code, r.Resource, r.Taint = code(r.Message)
	return r
}

// code classifies a reason's text.
func code(msg string) (c ReasonCode, resource, taint string) {
	switch {
	case strings.HasPrefix(msg, "Insufficient "):
		return ReasonInsufficientResource, strings.TrimPrefix(msg, "Insufficient "), ""
	case msg == "Too many pods":
		return ReasonTooManyPods, "", ""
	case strings.Contains(msg, "untolerated taint"), strings.Contains(msg, "that the pod didn't tolerate"):
		if m := taintNamed.FindStringSubmatch(msg); m != nil {
			taint = strings.TrimSpace(m[1])
			if v := strings.TrimSpace(m[2]); v != "" {
				taint += "=" + v
			}
		}
		return ReasonUntoleratedTaint, "", taint
	case strings.HasPrefix(msg, "node(s) didn't match Pod's node affinity"),
		strings.HasPrefix(msg, "node(s) didn't match node selector"),
		strings.HasPrefix(msg, "node(s) didn't match scheduler-enforced node affinity"):
		return ReasonNodeAffinity, "", ""
	case strings.HasPrefix(msg, "node(s) didn't match pod affinity"),
		strings.HasPrefix(msg, "node(s) didn't match pod anti-affinity"),
		strings.HasPrefix(msg, "node(s) didn't satisfy existing pods anti-affinity"):
		return ReasonPodAffinity, "", ""
	case strings.HasPrefix(msg, "node(s) didn't match pod topology spread constraints"):
		return ReasonTopologySpread, "", ""
	case strings.Contains(msg, "unbound immediate PersistentVolumeClaims"),
		strings.HasPrefix(msg, "node(s) didn't find available persistent volumes to bind"),
		strings.Contains(msg, "bound to non-existent pv"),
		strings.HasPrefix(msg, `persistentvolumeclaim "`) && strings.HasSuffix(msg, "not found"):
		return ReasonUnboundPVC, "", ""
	case msg == "node(s) had volume node affinity conflict",
		strings.HasPrefix(msg, "node(s) didn't match PersistentVolume's node affinity"),
		msg == "node(s) had no available volume zone":
		return ReasonVolumeNodeAffinity, "", ""
	case msg == "node(s) exceed max volume count",
		msg == "node(s) did not have enough free storage",
		msg == "node(s) had no available disk",
		strings.Contains(msg, "ReadWriteOncePod"):
		return ReasonVolumeLimits, "", ""
	case msg == "node(s) were unschedulable", msg == "node(s) had unknown conditions":
		return ReasonNodeUnschedulable, "", ""
	case msg == "node(s) didn't match the requested node name":
		return ReasonNodeName, "", ""
	case msg == "node(s) didn't have free ports for the requested pod ports":
		return ReasonHostPort, "", ""
	case strings.HasPrefix(msg, "No preemption victims found"):
		return ReasonNoPreemptionVictims, "", ""
	case msg == "Preemption is not helpful for scheduling":
		return ReasonPreemptionNotHelpful, "", ""
	}
	return ReasonUnknown, "", ""
}

// count returns the reason of the given code, if the message has it.
func (s *Scheduling) reason(c ReasonCode) (Reason, bool) {
	if s == nil {
		return Reason{}, false
	}
	for _, r := range s.Reasons {
		if r.Code == c {
			return r, true
		}
	}
	return Reason{}, false
}

func (s *Scheduling) has(codes ...ReasonCode) bool {
	for _, c := range codes {
		if _, ok := s.reason(c); ok {
			return true
		}
	}
	return false
}

// only reports whether every reason is one of codes.
func (s *Scheduling) only(codes ...ReasonCode) bool {
	for _, r := range s.Reasons {
		ok := false
		for _, c := range codes {
			ok = ok || r.Code == c
		}
		if !ok {
			return false
		}
	}
	return len(s.Reasons) > 0
}
