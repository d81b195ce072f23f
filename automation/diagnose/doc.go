// Package diagnose explains, from a cluster's Kubernetes API, why pods are Pending and why
// Running pods are not Ready: a structured cause per pod or node, the evidence it rests
// on (the scheduler's and the controllers' own messages), and what to do next.
//
//	rep, err := diagnose.Diagnose(ctx, clientset, diagnose.Options{Namespace: "payments"})
//	for _, line := range diagnose.Lines(rep.Findings) {
//		fmt.Println(line)
//	}
//
// A Pending pod's FailedScheduling message (or its PodScheduled=False condition) is
// parsed into node counts per reason: insufficient resources, untolerated taints, node
// selector or affinity mismatches, too many pods, unbound or misplaced volumes, topology
// spread, pod affinity, and the scheduler's preemption verdict. It is joined with the
// cluster-autoscaler's TriggeredScaleUp, NotTriggerScaleUp and FailedScaleUp events,
// with the autoscaler's expendable-priority cutoff, with scheduling gates, and with the
// cluster's SpotNodePools: a pod aimed at a spot pool without its toleration or its node
// selector is told exactly which labels and tolerations it needs.
//
// A pod that is scheduled but not Ready is read from its container statuses and events:
// failing probes (every recent Unhealthy message, with its count), CrashLoopBackOff,
// image pulls, containers terminated with their reason and exit code (OOMKilled
// included), init containers that have not finished, readiness gates, and a node that
// is NotReady. Nodes NotReady or under memory, disk or PID pressure are findings too.
//
// A message that is not recognised is passed through as it is, never dropped. Pods
// younger than Options.MinAge (a minute by default) are not reported: they are still
// being scheduled and started.
package diagnose
