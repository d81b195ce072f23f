package diagnose_test

import (
	"context"
	"fmt"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/flotilla-io/flotilla/automation/diagnose"
)

// A pod that selects a spot pool without tolerating its taint, as the real scheduler
// reports it.
func ExampleDiagnose() {
	p := pod("payments", "worker-5f6d", selecting("flotilla.io/pool", "general"),
		unschedulable("0/3 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 2 node(s) had untolerated taint(s). preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling."))
	cs := fake.NewClientset(sysNode(), spotNode("spot-0"), spotNode("spot-1"), p)

	rep, err := diagnose.Diagnose(context.Background(), cs, diagnose.Options{Now: now, Pools: basePools})
	if err != nil {
		panic(err)
	}
	f := rep.Findings[0]
	fmt.Println(f.Cause)
	fmt.Println(f.Summary)
	fmt.Println(f.Next)
	fmt.Println(f.Spot.NodeSelector, f.Spot.Tolerations)
	// Output:
	// MissingSpotToleration
	// 0/3 nodes fit it: 1 do not match its node selector or affinity, 2 have a taint it does not tolerate (flotilla.io/capacity=spot:NoSchedule); it selects spot pool east-1-general-spot (flotilla.io/pool=general) but does not tolerate flotilla.io/capacity=spot:NoSchedule
	// add the SpotNodePool's tolerations to the pod: tolerations: [{key: flotilla.io/capacity, operator: Equal, value: spot, effect: NoSchedule}]
	// map[flotilla.io/pool:general] [flotilla.io/capacity=spot:NoSchedule]
}

// Lines groups the pods of one namespace that share a cause.
func ExampleLines() {
	findings := []diagnose.Finding{
		{Kind: diagnose.KindNotReady, Namespace: "search", Pod: "index-0", Cause: diagnose.CauseOOMKilled, Summary: "container app was OOMKilled (exit 137), 4 restarts", Next: "raise its memory limit (now 512Mi) or make it use less memory"},
		{Kind: diagnose.KindNotReady, Namespace: "search", Pod: "index-1", Cause: diagnose.CauseOOMKilled, Summary: "container app was OOMKilled (exit 137), 4 restarts", Next: "raise its memory limit (now 512Mi) or make it use less memory"},
		{Kind: diagnose.KindNode, Node: "sim-east-1a-general-spot-2", Cause: diagnose.CauseNodeNotReady, Summary: "NotReady (Ready=Unknown): NodeStatusUnknown: Kubelet stopped posting node status.", Next: "check the machine"},
	}
	for _, l := range diagnose.Lines(findings) {
		fmt.Println(l)
	}
	// Output:
	// 2 pods not Ready in search (index-0, index-1): container app was OOMKilled (exit 137), 4 restarts; next: raise its memory limit (now 512Mi) or make it use less memory
	// node sim-east-1a-general-spot-2: NotReady (Ready=Unknown): NodeStatusUnknown: Kubelet stopped posting node status.; next: check the machine
}
