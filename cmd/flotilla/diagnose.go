package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/diagnose"
)

func init() {
	subcommands = append(subcommands, newDiagnoseCmd)
}

// diagnoseWith reads the clusters for `flotilla diagnose`; nil means the Deployer's
// choice (the simulator's health checker with --sim, else client-go). Tests set it.
var diagnoseWith automation.StackDiagnoser

// maxEvidence bounds the messages printed under one finding; --output json has them all.
const maxEvidence = 8

type diagnoseOptions struct {
	commonOptions
	env, stack, cluster, namespace string
	minAge                         time.Duration
}

func newDiagnoseCmd() *cobra.Command {
	o := diagnoseOptions{}
	cmd := &cobra.Command{
		Use:   "diagnose",
		Short: "Explain why pods are Pending and Running pods are not Ready, and which nodes are unwell",
		Long: `diagnose reads each selected cluster through its Kubernetes API (client-go, with the
kubeconfig from its stack's outputs) and explains, with a structured cause and what to
do next:

  - every Pending pod: the scheduler's reasons with the number of nodes each rules out
    (resources, taints, node selector or affinity, too many pods, volumes, topology
    spread, pod affinity), joined with the cluster-autoscaler's events (scale-up
    triggered, max node group size, backoff after a failed scale-up, the expendable
    priority cutoff) and scheduling gates; a pod aimed at a SpotNodePool without its
    toleration or node selector is told which ones it needs;
  - every Running pod that is not Ready: failing probes (every recent message),
    CrashLoopBackOff, image pulls, terminated containers with their reason and exit
    code (OOMKilled included), init containers not finished, readiness gates;
  - nodes NotReady or under memory, disk or PID pressure.

Pods younger than --min-age are still starting, and are not reported. A cluster without
a Kubernetes API (the simulator's lite mode) is listed as not diagnosable. diagnose
changes nothing and takes no lock.

Exit codes: 0 no problem found; 1 problems found, or a cluster could not be read; 2 bad
usage or input (an unknown environment, stack or cluster).`,
		Example: `  flotilla diagnose --sim
  flotilla diagnose --env prod --namespace payments
  flotilla diagnose --stack prod-eu --cluster eu-1 --min-age 5m --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDiagnose(cmd, o) },
	}
	addCommonFlags(cmd, &o.commonOptions)
	f := cmd.Flags()
	f.StringVar(&o.env, "env", "", "only this environment's stacks (default: all)")
	f.StringVar(&o.stack, "stack", "", "only this stack")
	f.StringVar(&o.cluster, "cluster", "", "only this cluster (its name in the stack file)")
	f.StringVarP(&o.namespace, "namespace", "n", "", "only the pods of this namespace (default: all); nodes are always read")
	f.DurationVar(&o.minAge, "min-age", diagnose.DefaultMinAge, "report only pods at least this old (0: every pod)")
	return cmd
}

func runDiagnose(cmd *cobra.Command, o diagnoseOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	if o.minAge < 0 {
		return usagef("--min-age %s: use a duration of 0 or more, e.g. 1m", o.minAge)
	}
	p := newProgress(cmd, o.commonOptions)
	d, err := o.deployer()
	if err != nil {
		return p.finish(result{command: "diagnose", err: err})
	}
	minAge := o.minAge
	if minAge == 0 {
		minAge = -1 // every pod
	}
	rep, err := d.Diagnose(cmd.Context(), automation.DiagnoseRequest{
		Environment: o.env, Stack: o.stack, Cluster: o.cluster, Namespace: o.namespace, MinAge: minAge,
		Diagnoser: diagnoseWith,
	})
	if err != nil {
		return p.finish(result{command: "diagnose", err: err})
	}
	return p.finish(result{command: "diagnose", err: diagnoseOutcome(rep), data: map[string]any{"diagnosis": rep},
		report: func(w io.Writer) { printDiagnosis(w, rep, time.Now(), o.minAge) }})
}

// diagnoseOutcome is the error a diagnosis exits with: problems found, or clusters that
// could not be read.
func diagnoseOutcome(rep *automation.DiagnoseReport) error {
	n, unread := rep.Findings(), rep.Unread()
	switch {
	case n > 0 && len(unread) > 0:
		return fmt.Errorf("%d problem(s) found, and %s could not be read", n, strings.Join(unread, ", "))
	case n > 0:
		return fmt.Errorf("%d problem(s) found; each says what to do next", n)
	case len(unread) > 0:
		return fmt.Errorf("%s could not be read, so no problem found does not vouch for it", strings.Join(unread, ", "))
	}
	return nil
}

func printDiagnosis(w io.Writer, rep *automation.DiagnoseReport, now time.Time, minAge time.Duration) {
	for _, s := range rep.Stacks {
		if s.NotDeployed {
			fmt.Fprintf(w, "==> %s: not deployed yet: no cluster to diagnose\n", s.Stack)
			continue
		}
		if s.Error != "" {
			fmt.Fprintf(w, "==> %s: could not be read: %s\n", s.Stack, indent(s.Error, "    "))
			continue
		}
		for _, c := range s.Clusters {
			head := fmt.Sprintf("==> %s %s: ", s.Stack, c.Name)
			switch {
			case c.NotDiagnosable != "":
				fmt.Fprintln(w, head+"not diagnosable: "+c.NotDiagnosable)
				continue
			case c.Error != "":
				fmt.Fprintln(w, head+"could not be read: "+indent(c.Error, "    "))
				continue
			case len(c.Findings) == 0:
				head += "no problem found"
			default:
				head += fmt.Sprintf("%d problem(s)", len(c.Findings))
			}
			head += fmt.Sprintf(" (%d pod(s), %d node(s) read", c.Pods, c.Nodes)
			if c.Young > 0 && minAge > 0 {
				head += fmt.Sprintf("; %d pod(s) younger than %s not reported", c.Young, minAge)
			}
			fmt.Fprintln(w, head+")")
			for _, f := range c.Findings {
				printFinding(w, f, now)
			}
		}
	}
}

func printFinding(w io.Writer, f diagnose.Finding, now time.Time) {
	fmt.Fprintf(w, "  %s [%s]\n", diagnose.Headline(f), f.Cause)
	fmt.Fprintf(w, "    why:  %s\n", f.Summary)
	if s := f.Spot; s != nil && (len(s.MissingTolerations) > 0 || len(s.MissingSelector) > 0) {
		fmt.Fprintf(w, "    spot: pool %s asks for nodeSelector %s and tolerations %s\n", s.Pool, labelList(s.NodeSelector), strings.Join(s.Tolerations, ", "))
	}
	fmt.Fprintf(w, "    next: %s\n", f.Next)
	evidence := f.Evidence
	if len(evidence) == 0 {
		return
	}
	fmt.Fprintln(w, "    evidence:")
	if len(evidence) > maxEvidence {
		fmt.Fprintf(w, "      (%d older message(s) left out; --output json has them)\n", len(evidence)-maxEvidence)
		evidence = evidence[len(evidence)-maxEvidence:]
	}
	for _, e := range evidence {
		var meta []string
		if e.Count > 1 {
			meta = append(meta, fmt.Sprintf("x%d", e.Count))
		}
		if e.From != "" {
			meta = append(meta, e.From)
		}
		if !e.Last.IsZero() {
			meta = append(meta, fmtDur(now.Sub(e.Last).Round(time.Second))+" ago")
		}
		what := e.Source
		if e.Reason != "" {
			what += " " + e.Reason
		}
		if len(meta) > 0 {
			what += " (" + strings.Join(meta, ", ") + ")"
		}
		msg := e.Message
		if msg == "" {
			msg = "-"
		}
		fmt.Fprintf(w, "      - %s: %s\n", what, indent(msg, "        "))
	}
}

func labelList(m map[string]string) string {
	var parts []string
	for k, v := range m {
		parts = append(parts, k+"="+v)
	}
	if len(parts) == 0 {
		return "{}"
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
