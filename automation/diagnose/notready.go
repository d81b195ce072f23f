package diagnose

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// The kubelet's words, from kubernetes/kubernetes pkg/kubelet: the Unhealthy event of a
// failed probe ("Readiness probe failed: HTTP probe failed with statuscode: 503",
// "Liveness probe errored and resulted in unknown state: ...": prober/prober.go), the
// BackOff event of a container in CrashLoopBackOff ("Back-off restarting failed
// container app in pod ...": kuberuntime/kuberuntime_manager.go), the waiting reasons of
// images/types.go and container/sync_result.go, and the Ready condition's reasons
// (status/generate.go: ContainersNotReady "containers with unready status: [app]",
// ContainersNotInitialized "containers with incomplete status: [init]",
// ReadinessGatesNotReady).
const (
	eventUnhealthy = "Unhealthy"
	eventBackOff   = "BackOff"
)

// waitingImage are the waiting reasons of a container whose image cannot be pulled.
var waitingImage = map[string]bool{
	"ImagePullBackOff": true, "ErrImagePull": true, "InvalidImageName": true, "ErrImageNeverPull": true,
	"RegistryUnavailable": true, "SignatureValidationFailed": true,
}

// waitingNormal are the waiting reasons of a container that is merely starting.
var waitingNormal = map[string]bool{"ContainerCreating": true, "PodInitializing": true}

// notReady explains a scheduled pod that is not Ready: Running, or Pending with its
// containers not started.
func (c *clusterView) notReady(p *corev1.Pod, evs []*corev1.Event) Finding {
	kind := KindNotReady
	if p.Status.Phase != corev1.PodRunning {
		kind = KindPending
	}
	f := base(kind, p)
	f.Containers = containerStatuses(p)
	for _, t := range []corev1.PodConditionType{corev1.PodReady, corev1.ContainersReady, corev1.PodInitialized} {
		if cond := condition(p, t); cond != nil && cond.Status != corev1.ConditionTrue && (cond.Reason != "" || cond.Message != "") {
			f.Evidence = append(f.Evidence, Evidence{Source: "condition", Reason: string(t) + "=" + string(cond.Status) + " " + cond.Reason, Message: cond.Message, First: cond.LastTransitionTime.Time})
		}
	}
	for _, cs := range f.Containers {
		if cs.Message != "" {
			f.Evidence = append(f.Evidence, Evidence{Source: "status", Reason: cs.Name + ": " + cs.Reason, Message: cs.Message})
		}
	}
	probes := withReason(evs, eventUnhealthy)
	for _, e := range probes {
		f.Evidence = append(f.Evidence, evidenceOf(e))
	}
	for _, e := range warnings(evs, eventUnhealthy, eventFailedScheduling) {
		f.Evidence = append(f.Evidence, evidenceOf(e))
	}

	if n, ok := c.byName[p.Spec.NodeName]; !ok {
		f.Cause = CauseNodeNotReady
		f.Summary = fmt.Sprintf("its node %s no longer exists", p.Spec.NodeName)
		f.Next = "the pod is removed with its node, and its controller recreates it elsewhere; a bare pod must be recreated by hand"
		return f
	} else if ready, cond := nodeReady(n); !ready {
		f.Cause = CauseNodeNotReady
		f.Summary = fmt.Sprintf("its node %s is NotReady", n.Name)
		if cond != nil {
			f.Summary += reasonMessage(cond.Reason, cond.Message)
		}
		f.Next = "see the node's finding; its pods are evicted and rescheduled once their tolerationSeconds (5m by default) are over"
		return f
	}

	if cs, ok := unfinishedInit(p, f.Containers); ok {
		f.Cause = CauseInitContainers
		f.Summary = fmt.Sprintf("init container %s has not finished: %s", cs.Name, stateWords(cs))
		f.Next = fmt.Sprintf("read its logs (kubectl logs -n %s %s -c %s): it must exit 0 before the other containers start", p.Namespace, p.Name, cs.Name)
		if cs.Reason == "CrashLoopBackOff" || cs.LastExitCode != nil {
			f.Next = fmt.Sprintf("read its last logs (kubectl logs -n %s %s -c %s --previous): it keeps failing, and the other containers wait for it", p.Namespace, p.Name, cs.Name)
		}
		if waitingImage[cs.Reason] {
			f.Next = "fix its image reference or the registry credentials (imagePullSecrets)"
		}
		return f
	}
	for _, cs := range f.Containers {
		if cs.Init && cs.State == "terminated" {
			continue
		}
		switch {
		case waitingImage[cs.Reason]:
			f.Cause = CauseImagePull
			f.Summary = fmt.Sprintf("container %s cannot pull its image: %s", cs.Name, first(oneLine(cs.Message), cs.Reason))
			f.Next = "check the image name and tag, that the registry is reachable from the nodes, and the pull credentials (imagePullSecrets)"
			return f
		case cs.LastReason == "OOMKilled" || (cs.State == "terminated" && cs.Reason == "OOMKilled"):
			f.Cause = CauseOOMKilled
			f.Summary = fmt.Sprintf("container %s was OOMKilled (exit %s), %s", cs.Name, exitOf(cs), restartsWords(cs))
			f.Next = fmt.Sprintf("raise its memory limit%s or make it use less memory", limitOf(p, cs.Name))
			return f
		case cs.Reason == "CrashLoopBackOff":
			f.Cause = CauseCrashLoop
			f.Summary = fmt.Sprintf("container %s keeps exiting (%s), %s", cs.Name, lastExit(cs), restartsWords(cs))
			f.Next = fmt.Sprintf("read its last logs (kubectl logs -n %s %s -c %s --previous) to see why it exits", p.Namespace, p.Name, cs.Name)
			return f
		case cs.State == "terminated" && (cs.ExitCode == nil || *cs.ExitCode != 0):
			f.Cause = CauseContainerTerminated
			f.Summary = fmt.Sprintf("container %s terminated: %s", cs.Name, stateWords(cs))
			f.Next = fmt.Sprintf("read its logs (kubectl logs -n %s %s -c %s); with restartPolicy %s it is not restarted", p.Namespace, p.Name, cs.Name, first(string(p.Spec.RestartPolicy), "Always"))
			return f
		case cs.State == "waiting" && cs.Reason != "" && !waitingNormal[cs.Reason]:
			f.Cause = CauseContainerWaiting
			f.Summary = fmt.Sprintf("container %s is waiting: %s", cs.Name, stateWords(cs))
			f.Next = waitingNext(cs.Reason)
			return f
		}
	}
	if unhealthy := readinessFailures(probes); len(unhealthy) > 0 {
		e := latest(unhealthy)
		total := int32(0)
		for _, u := range unhealthy {
			total += count(u)
		}
		f.Cause = CauseReadinessProbe
		who := "a container"
		if name := containerOf(e, f.Containers); name != "" {
			who = "container " + name
		}
		f.Summary = fmt.Sprintf("%s fails its probe %d time(s) recently, last: %s", who, total, oneLine(message(e)))
		f.Next = "check what the probe asks (its path, port and timeout) against what the container serves, and its logs; the pod gets traffic once the probe passes"
		return f
	}
	for _, cs := range f.Containers {
		if cs.State == "waiting" || (cs.State == "" && !cs.Ready) {
			f.Cause = CauseContainerWaiting
			f.Summary = fmt.Sprintf("container %s has not started: %s", cs.Name, first(stateWords(cs), "no status yet"))
			if w := latest(warnings(evs, eventUnhealthy, eventFailedScheduling)); w != nil {
				f.Summary += "; " + w.Reason + ": " + oneLine(message(w))
			}
			f.Next = "look at the pod's events (kubectl describe pod): volumes that do not mount and sandboxes that do not start keep containers waiting"
			return f
		}
	}
	if gates := unmetGates(p); len(gates) > 0 {
		f.Cause = CauseReadinessGates
		f.Summary = "its readiness gates are not met: " + strings.Join(gates, "; ")
		f.Next = "the controller that owns each gate (a load balancer controller, for one) sets its condition: check that it runs and can register the pod"
		return f
	}
	var unready []string
	for _, cs := range f.Containers {
		if !cs.Init && !cs.Ready {
			unready = append(unready, cs.Name)
		}
	}
	if len(unready) > 0 {
		f.Cause = CauseContainersNotReady
		f.Summary = fmt.Sprintf("container(s) %s running but not ready, with no probe failure recorded", strings.Join(unready, ", "))
		f.Next = "check the containers' readiness probes and logs; probe failures older than the events' retention (1h) are gone"
		return f
	}
	f.Cause = CauseNotReady
	f.Summary = "not Ready"
	if cond := condition(p, corev1.PodReady); cond != nil {
		f.Summary += reasonMessage(cond.Reason, cond.Message)
	}
	f.Next = "read the pod's conditions and events above (kubectl describe pod)"
	return f
}

// containerStatuses are the pod's init and app containers, as their statuses say.
func containerStatuses(p *corev1.Pod) []ContainerStatus {
	var out []ContainerStatus
	seen := map[string]bool{}
	add := func(st corev1.ContainerStatus, init bool) {
		cs := ContainerStatus{Name: st.Name, Init: init, Ready: st.Ready, Restarts: st.RestartCount}
		switch {
		case st.State.Waiting != nil:
			cs.State, cs.Reason, cs.Message = "waiting", st.State.Waiting.Reason, st.State.Waiting.Message
		case st.State.Running != nil:
			cs.State = "running"
		case st.State.Terminated != nil:
			t := st.State.Terminated
			code := t.ExitCode
			cs.State, cs.Reason, cs.Message, cs.ExitCode = "terminated", t.Reason, t.Message, &code
		}
		if t := st.LastTerminationState.Terminated; t != nil {
			code := t.ExitCode
			cs.LastReason, cs.LastExitCode = t.Reason, &code
		}
		seen[st.Name] = true
		out = append(out, cs)
	}
	for _, st := range p.Status.InitContainerStatuses {
		add(st, true)
	}
	for _, st := range p.Status.ContainerStatuses {
		add(st, false)
	}
	for _, ct := range p.Spec.Containers {
		if !seen[ct.Name] {
			out = append(out, ContainerStatus{Name: ct.Name})
		}
	}
	return out
}

// unfinishedInit returns the first init container that must complete and has not.
// Restartable (sidecar) init containers run beside the app and are read as app containers.
func unfinishedInit(p *corev1.Pod, statuses []ContainerStatus) (ContainerStatus, bool) {
	sidecar := map[string]bool{}
	for _, ct := range p.Spec.InitContainers {
		if ct.RestartPolicy != nil && *ct.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			sidecar[ct.Name] = true
		}
	}
	byName := map[string]ContainerStatus{}
	for _, cs := range statuses {
		if cs.Init {
			byName[cs.Name] = cs
		}
	}
	for _, ct := range p.Spec.InitContainers {
		if sidecar[ct.Name] {
			continue
		}
		cs, ok := byName[ct.Name]
		if !ok {
			if cond := condition(p, corev1.PodInitialized); cond != nil && cond.Status == corev1.ConditionFalse {
				return ContainerStatus{Name: ct.Name, Init: true}, true
			}
			continue
		}
		if cs.State == "terminated" && cs.ExitCode != nil && *cs.ExitCode == 0 {
			continue
		}
		return cs, true
	}
	return ContainerStatus{}, false
}

// readinessFailures are the Unhealthy events of readiness and startup probes (the
// kubelet's "<Probe> probe failed: ..." and "<Probe> probe errored ..."), oldest first.
// A liveness probe's failures restart the container, which CrashLoopBackOff reports.
func readinessFailures(evs []*corev1.Event) []*corev1.Event {
	var out []*corev1.Event
	for _, e := range evs {
		m := message(e)
		if strings.HasPrefix(m, "Readiness probe ") || strings.HasPrefix(m, "Startup probe ") {
			out = append(out, e)
		}
	}
	return out
}

// containerOf names the container an event is about: by its field path
// ("spec.containers{app}"), else the only container that is not ready.
func containerOf(e *corev1.Event, statuses []ContainerStatus) string {
	if fp := e.InvolvedObject.FieldPath; strings.Contains(fp, "{") {
		return strings.TrimSuffix(fp[strings.Index(fp, "{")+1:], "}")
	}
	name := ""
	for _, cs := range statuses {
		if !cs.Init && !cs.Ready {
			if name != "" {
				return ""
			}
			name = cs.Name
		}
	}
	return name
}

// unmetGates lists the readiness gates whose condition is missing or not True.
func unmetGates(p *corev1.Pod) []string {
	var out []string
	for _, g := range p.Spec.ReadinessGates {
		cond := condition(p, g.ConditionType)
		switch {
		case cond == nil:
			out = append(out, fmt.Sprintf("%s has no condition yet", g.ConditionType))
		case cond.Status != corev1.ConditionTrue:
			out = append(out, fmt.Sprintf("%s is %s%s", g.ConditionType, cond.Status, reasonMessage(cond.Reason, cond.Message)))
		}
	}
	return out
}

func stateWords(cs ContainerStatus) string {
	switch cs.State {
	case "waiting":
		s := first(cs.Reason, "waiting")
		if cs.Message != "" {
			s += ": " + oneLine(cs.Message)
		}
		if cs.LastExitCode != nil {
			s += fmt.Sprintf(" (last exit %d%s)", *cs.LastExitCode, paren(cs.LastReason))
		}
		return s
	case "running":
		return "running"
	case "terminated":
		s := fmt.Sprintf("exit %s", exitOf(cs))
		if cs.Reason != "" {
			s += " (" + cs.Reason + ")"
		}
		if cs.Message != "" {
			s += ": " + oneLine(cs.Message)
		}
		return s
	}
	return ""
}

func exitOf(cs ContainerStatus) string {
	switch {
	case cs.State == "terminated" && cs.ExitCode != nil:
		return fmt.Sprint(*cs.ExitCode)
	case cs.LastExitCode != nil:
		return fmt.Sprint(*cs.LastExitCode)
	}
	return "unknown"
}

func lastExit(cs ContainerStatus) string {
	if cs.LastExitCode == nil {
		return "its exit is not recorded"
	}
	return fmt.Sprintf("last exit %d%s", *cs.LastExitCode, paren(cs.LastReason))
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " " + s
}

func restartsWords(cs ContainerStatus) string {
	if cs.Restarts == 1 {
		return "1 restart"
	}
	return fmt.Sprintf("%d restarts", cs.Restarts)
}

// limitOf renders a container's memory limit for a sentence.
func limitOf(p *corev1.Pod, name string) string {
	for _, ct := range append(p.Spec.InitContainers, p.Spec.Containers...) {
		if ct.Name != name {
			continue
		}
		if q, ok := ct.Resources.Limits[corev1.ResourceMemory]; ok {
			return " (now " + q.String() + ")"
		}
	}
	return ""
}

// waitingNext says what to do about a container waiting for a reason of the kubelet's.
func waitingNext(reason string) string {
	switch reason {
	case "CreateContainerConfigError":
		return "create the ConfigMap or Secret (or the key) it references, or fix the reference"
	case "CreateContainerError", "RunContainerError", "StartError":
		return "the runtime cannot create or start it: check its command, mounts and security context against the message"
	}
	return "read the container's waiting message above"
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " ..."
	}
	return s
}
