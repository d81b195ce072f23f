package diagnose

import (
	"fmt"
	"strings"
)

// Lines renders findings one line each, pods of one namespace with the same cause and
// summary together:
//
//	2 pods Pending in payments (api-7d9c-a, api-7d9c-b): 0/3 nodes fit it: 3 lack free cpu; the autoscaler cannot add nodes for it: max node group size reached (1 node group); next: raise the max size ...
//	node ip-10-0-1-7 NotReady (Ready=Unknown): NodeStatusUnknown: Kubelet stopped posting node status.; next: ...
func Lines(findings []Finding) []string {
	type group struct {
		f    Finding
		pods []string
	}
	var order []string
	groups := map[string]*group{}
	for _, f := range findings {
		key := fmt.Sprintf("%s\x00%s\x00%s\x00%s\x00%s", f.Kind, f.Namespace, f.Cause, f.Summary, f.Next)
		if f.Kind == KindNode {
			key += "\x00" + f.Node
		}
		g, ok := groups[key]
		if !ok {
			g = &group{f: f}
			groups[key] = g
			order = append(order, key)
		}
		if f.Pod != "" {
			g.pods = append(g.pods, f.Pod)
		}
	}
	out := make([]string, 0, len(order))
	for _, key := range order {
		g := groups[key]
		out = append(out, headline(g.f, g.pods)+": "+g.f.Summary+"; next: "+g.f.Next)
	}
	return out
}

// Headline names what a finding is about: "pod payments/api-1 Pending", "2 pods not
// Ready in payments (a, b)", "node n1".
func Headline(f Finding) string { return headline(f, []string{f.Pod}) }

func headline(f Finding, pods []string) string {
	if f.Kind == KindNode {
		return "node " + f.Node
	}
	state := "Pending"
	if f.Kind == KindNotReady {
		state = "not Ready"
	}
	if len(pods) == 1 {
		return fmt.Sprintf("pod %s/%s %s", f.Namespace, pods[0], state)
	}
	return fmt.Sprintf("%d pods %s in %s (%s)", len(pods), state, f.Namespace, strings.Join(firstN(pods, 5), ", "))
}

func firstN(s []string, n int) []string {
	if len(s) <= n {
		return s
	}
	return append(s[:n:n], fmt.Sprintf("and %d more", len(s)-n))
}
