package diagnose

import (
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// podEvents are a namespace's events by the pod they are about.
type podEvents map[string][]*corev1.Event

func (pe podEvents) add(list []corev1.Event) {
	for i := range list {
		e := &list[i]
		if e.InvolvedObject.Kind != "Pod" {
			continue
		}
		k := e.InvolvedObject.Namespace + "/" + e.InvolvedObject.Name
		if e.InvolvedObject.Namespace == "" {
			k = e.Namespace + "/" + e.InvolvedObject.Name
		}
		pe[k] = append(pe[k], e)
	}
}

// of returns a pod's events, oldest first. Events about an earlier pod of the same name
// (a StatefulSet's pod recreated) are left out.
func (pe podEvents) of(p *corev1.Pod) []*corev1.Event {
	var out []*corev1.Event
	for _, e := range pe[p.Namespace+"/"+p.Name] {
		if e.InvolvedObject.UID != "" && p.UID != "" && e.InvolvedObject.UID != p.UID {
			continue
		}
		out = append(out, e)
	}
	sort.SliceStable(out, func(i, j int) bool { return lastSeen(out[i]).Before(lastSeen(out[j])) })
	return out
}

// lastSeen is when an event last happened. The scheduler writes events.k8s.io Events,
// which the core API shows with EventTime and Series instead of the timestamps the
// kubelet's older recorder sets.
func lastSeen(e *corev1.Event) time.Time {
	t := e.LastTimestamp.Time
	if e.Series != nil && e.Series.LastObservedTime.After(t) {
		t = e.Series.LastObservedTime.Time
	}
	if e.EventTime.After(t) {
		t = e.EventTime.Time
	}
	if t.IsZero() {
		t = e.FirstTimestamp.Time
	}
	if t.IsZero() {
		t = e.CreationTimestamp.Time
	}
	return t
}

func firstSeen(e *corev1.Event) time.Time {
	if !e.FirstTimestamp.IsZero() {
		return e.FirstTimestamp.Time
	}
	if !e.EventTime.IsZero() {
		return e.EventTime.Time
	}
	return lastSeen(e)
}

// count is how many times an event happened: its Count, or its Series' count.
func count(e *corev1.Event) int32 {
	n := e.Count
	if e.Series != nil && e.Series.Count > n {
		n = e.Series.Count
	}
	return max(n, 1)
}

func reporter(e *corev1.Event) string {
	if e.ReportingController != "" {
		return e.ReportingController
	}
	return e.Source.Component
}

// combinedPrefix marks an event that client-go's recorder aggregated from similar ones
// (k8s.io/client-go/tools/record/events_cache.go, EventAggregatorByReasonMessageFunc):
// the message that follows is the latest of them.
const combinedPrefix = "(combined from similar events): "

func message(e *corev1.Event) string { return strings.TrimPrefix(e.Message, combinedPrefix) }

func evidenceOf(e *corev1.Event) Evidence {
	return Evidence{Source: "event", Reason: e.Reason, Message: e.Message, Count: count(e), First: firstSeen(e), Last: lastSeen(e), From: reporter(e)}
}

// withReason returns the events of the given reasons, oldest first.
func withReason(evs []*corev1.Event, reasons ...string) []*corev1.Event {
	var out []*corev1.Event
	for _, e := range evs {
		for _, r := range reasons {
			if e.Reason == r {
				out = append(out, e)
				break
			}
		}
	}
	return out
}

func latest(evs []*corev1.Event) *corev1.Event {
	if len(evs) == 0 {
		return nil
	}
	return evs[len(evs)-1]
}

// warnings returns the Warning events not of the given reasons.
func warnings(evs []*corev1.Event, except ...string) []*corev1.Event {
	var out []*corev1.Event
next:
	for _, e := range evs {
		if e.Type != corev1.EventTypeWarning {
			continue
		}
		for _, r := range except {
			if e.Reason == r {
				continue next
			}
		}
		out = append(out, e)
	}
	return out
}
