package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/flotilla-io/flotilla/automation"
)

func init() {
	subcommands = append(subcommands, newPlanCmd, newStatusCmd, newDriftCmd)
}

type planOptions struct {
	commonOptions
	envs []string
}

func newPlanCmd() *cobra.Command {
	o := planOptions{}
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Preview every stack: what a rollout would create, update, replace and delete",
		Long: `plan previews every stack of the selected environments, after the same pre-flight as a
rollout (stack files and program validated; bad input exits 2). It prints, per stack,
the resources it would create, update, replace and delete, says which stacks a rollout
would skip as unchanged, and flags what the preview policy would stop: in a protected
environment (prod), a replace or delete is refused unless the rollout is given
--allow-replace. plan changes nothing and takes no lock; approval gates do not apply.`,
		Example: `  flotilla plan --sim
  flotilla plan --sim --env prod
  flotilla plan --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runPlan(cmd, o) },
	}
	addCommonFlags(cmd, &o.commonOptions)
	cmd.Flags().StringSliceVar(&o.envs, "env", nil, "only these environments (default: all)")
	return cmd
}

func runPlan(cmd *cobra.Command, o planOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	p := newProgress(cmd, o.commonOptions)
	d, err := o.deployer(p.events())
	if err == nil {
		err = checkEnvironments(d, "--env", o.envs)
	}
	if err != nil {
		return p.finish(result{command: "plan", err: err})
	}
	res, err := d.Plan(cmd.Context(), automation.Selection{Environments: o.envs})
	if err == nil {
		err = planErrors(res)
	}
	return p.finish(result{command: "plan", err: err, data: map[string]any{"plan": res},
		report: func(w io.Writer) { printPlan(w, res) }})
}

// planErrors fails a plan in which a stack's preview failed.
func planErrors(res automation.PlanResult) error {
	var failed []string
	for _, s := range res.Stacks {
		if s.Error != "" {
			failed = append(failed, s.Stack.Stack)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("the preview of %s failed (the reasons are above)", strings.Join(failed, ", "))
	}
	return nil
}

func printPlan(w io.Writer, res automation.PlanResult) {
	if len(res.Stacks) == 0 {
		return
	}
	fmt.Fprintln(w, "==> plan")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "    STACK\tENVIRONMENT\tCHANGES")
	blocked := 0
	for _, s := range res.Stacks {
		what := changes(s.Changes, false)
		switch {
		case s.Error != "":
			what = "FAILED: " + firstLine(s.Error)
		case s.Skip != "":
			what = "unchanged: a rollout skips it (" + s.Skip + ")"
		case len(s.Blocked) > 0:
			what += "  (stopped by the preview policy)"
			blocked++
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\n", s.Stack.Stack, s.Stack.Environment, what)
	}
	tw.Flush()
	for _, s := range res.Stacks {
		if s.Error != "" && strings.Contains(s.Error, "\n") {
			fmt.Fprintf(w, "    %s failed:\n      %s\n", s.Stack.Stack, indent(s.Error, "      "))
		}
		if len(s.Blocked) == 0 {
			continue
		}
		fmt.Fprintf(w, "    %s is protected; a rollout stops at its preview unless given --allow-replace:\n", s.Stack)
		for _, v := range s.Blocked {
			fmt.Fprintf(w, "      - %s %s\n", v.Op, v.URN)
		}
	}
	if blocked > 0 {
		fmt.Fprintf(w, "    the preview policy would stop %d stack(s)\n", blocked)
	}
}

func firstLine(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}

func newStatusCmd() *cobra.Command {
	o := commonOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the last run and where it stopped, each stack's last update and lag, and the lock",
		Long: `status shows where the fleet stands: the last run (rollout, resume or retry), how it
ended and where it stopped; each stack's last update, the run that last brought it up
successfully, and whether its inputs (its stack file, the program build) are newer than
what it runs (lag); its clusters' Kubernetes versions; and whether a run is in progress:
who holds the fleet lock, since when, its last heartbeat, and whether the lock is stale
(its process gone, or its heartbeat expired), which ` + "`flotilla unlock`" + ` clears.
status changes nothing and takes no lock.`,
		Example: `  flotilla status --sim
  flotilla status --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runStatus(cmd, o) },
	}
	addCommonFlags(cmd, &o)
	return cmd
}

func runStatus(cmd *cobra.Command, o commonOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	p := newProgress(cmd, o)
	d, err := o.deployer()
	if err != nil {
		return p.finish(result{command: "status", err: err})
	}
	st, err := d.Status(cmd.Context())
	res := result{command: "status", err: err, data: map[string]any{"fleet": st}}
	if err == nil {
		res.report = func(w io.Writer) { printStatus(w, st, time.Now(), o.again()) }
	}
	return p.finish(res)
}

func printStatus(w io.Writer, st automation.Status, now time.Time, again string) {
	ago := func(t time.Time) string {
		return fmt.Sprintf("%s (%s ago)", t.Local().Format("2006-01-02 15:04:05"), fmtDur(now.Sub(t).Round(time.Second)))
	}
	switch {
	case st.Lock == nil:
		fmt.Fprintln(w, "lock:      free: no run is in progress")
	case st.LockStale != "":
		fmt.Fprintf(w, "lock:      STALE, held by %s@%s (pid %d, %s, run %s) since %s, last heartbeat %s\n",
			st.Lock.User, st.Lock.Host, st.Lock.PID, st.Lock.Command, st.Lock.RunID, ago(st.Lock.Since), ago(st.Lock.Heartbeat))
		fmt.Fprintf(w, "           it is stale: %s; `flotilla unlock%s` clears it\n", st.LockStale, again)
	default:
		fmt.Fprintf(w, "lock:      a run is in progress: %s@%s (pid %d, %s, run %s) since %s, last heartbeat %s\n",
			st.Lock.User, st.Lock.Host, st.Lock.PID, st.Lock.Command, st.Lock.RunID, ago(st.Lock.Since), ago(st.Lock.Heartbeat))
	}
	if j := st.Run; j == nil {
		fmt.Fprintln(w, "last run:  none yet: `flotilla rollout` starts one")
	} else {
		fmt.Fprintf(w, "last run:  %s (%s, by %s@%s), started %s: %s\n", j.RunID, j.Command, j.User, j.Host, ago(j.Started), runState(j, st))
		if where := stoppedAt(j); where != "" {
			fmt.Fprintf(w, "           stopped at %s\n", where)
		}
		for _, rec := range j.Failed() {
			fmt.Fprintf(w, "           %s %s: %s\n", rec.Stack, rec.Status, indent(rec.Error, "             "))
		}
		if next := runNext(j, st, again); next != "" {
			fmt.Fprintf(w, "           next: %s\n", next)
		}
	}
	if f := st.Freeze; f != nil {
		fmt.Fprintf(w, "freeze:    the fleet is %s\n", f)
		fmt.Fprintf(w, "           no rollout or upgrade starts; `flotilla unfreeze%s` lifts it\n", again)
	}
	for _, win := range st.Windows {
		state := fmt.Sprintf("closed; next opens %s", win.Opens.UTC().Format("Mon 2006-01-02 15:04 MST"))
		switch {
		case win.Open && win.Closes.IsZero():
			state = "always open"
		case win.Open:
			state = fmt.Sprintf("OPEN now, until %s", win.Closes.UTC().Format("Mon 2006-01-02 15:04 MST"))
		}
		fmt.Fprintf(w, "window:    %s upgrades only in %s: %s\n", win.Environment, win.Window, state)
	}
	if len(st.Stacks) == 0 {
		return
	}
	fmt.Fprintln(w, "stacks:")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "    STACK\tENVIRONMENT\tLAST UPDATE\tLAST GOOD RUN\tLAG\tVERSIONS")
	for _, s := range st.Stacks {
		last := "never deployed"
		if u := s.LastUpdate; u != nil {
			last = fmt.Sprintf("%s %s %s", u.Kind, u.Result, ago(u.Ended))
			if u.Ended.IsZero() {
				last = fmt.Sprintf("%s %s %s", u.Kind, u.Result, ago(u.Started))
			}
		}
		good := "-"
		if g := s.LastGood; g != nil {
			good = g.RunID
		}
		lag := "up to date"
		if len(s.Lag) > 0 {
			lag = "BEHIND (below)"
		}
		if s.LastUpdate == nil && s.LastGood == nil {
			lag = "-"
		}
		versions := versionList(s.Versions)
		if s.Error != "" {
			versions = "unknown (below)"
		}
		fmt.Fprintf(tw, "    %s\t%s\t%s\t%s\t%s\t%s\n", s.Stack.Stack, s.Stack.Environment, last, good, lag, versions)
	}
	tw.Flush()
	printClusterVersions(w, st)
	for _, s := range st.Stacks {
		if len(s.Lag) > 0 && (s.LastUpdate != nil || s.LastGood != nil) {
			fmt.Fprintf(w, "    %s is behind its inputs: %s\n", s.Stack.Stack, strings.Join(s.Lag, "; "))
		}
		if s.Error != "" {
			fmt.Fprintf(w, "    %s could not be read: %s\n", s.Stack.Stack, indent(s.Error, "      "))
		}
	}
}

func versionList(v map[string]string) string {
	if len(v) == 0 {
		return "-"
	}
	names := make([]string, 0, len(v))
	for n := range v {
		names = append(names, n)
	}
	sort.Strings(names)
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = n + " " + v[n]
	}
	return strings.Join(parts, ", ")
}

// runState says how the last run stands, telling a live run from a dead one.
func runState(j *automation.Journal, st automation.Status) string {
	if j.Status != automation.RunRunning {
		s := string(j.Status)
		if j.Finished != nil {
			s += " after " + fmtDur(j.Finished.Sub(j.Started))
		}
		return s
	}
	if st.Lock != nil && st.Lock.RunID == j.RunID && st.LockStale == "" {
		return "in progress"
	}
	return "stopped without finishing (its process died); `flotilla resume` continues it"
}

// stoppedAt names the first environment the run has not finished, and its state.
func stoppedAt(j *automation.Journal) string {
	if j.Status == automation.RunSucceeded {
		return ""
	}
	for _, sr := range j.Stages {
		if sr.Finished != nil {
			continue
		}
		if sr.Started == nil {
			st, _ := j.Plan.Stage(sr.Environment)
			if st.RequiresApproval && sr.Approved == "" {
				return sr.Environment + ", before its approval gate"
			}
			return sr.Environment + ", before it started"
		}
		var running, pending []string
		for _, ref := range j.Plan.Stacks() {
			if ref.Environment != sr.Environment {
				continue
			}
			switch j.Stacks[ref.Stack].Status {
			case automation.StatusRunning:
				running = append(running, ref.Stack)
			case automation.StatusPending:
				pending = append(pending, ref.Stack)
			}
		}
		where := sr.Environment
		switch {
		case len(running) > 0:
			where += " with " + strings.Join(running, ", ") + " mid-step"
		case sr.SoakStarted != nil && !sr.SoakDone:
			where += ", during its soak"
		}
		if len(pending) > 0 {
			where += "; not started: " + strings.Join(pending, ", ")
		}
		return where
	}
	return ""
}

func runNext(j *automation.Journal, st automation.Status, again string) string {
	switch j.Status {
	case automation.RunSucceeded:
		return ""
	case automation.RunFailedWithExceptions:
		return "flotilla retry" + again
	case automation.RunFailed:
		return "fix the cause, then flotilla retry" + again + " or flotilla resume" + again
	case automation.RunRunning:
		if st.Lock != nil && st.Lock.RunID == j.RunID && st.LockStale == "" {
			return ""
		}
	}
	return "flotilla resume" + again
}

type driftOptions struct {
	commonOptions
	envs []string
}

func newDriftCmd() *cobra.Command {
	o := driftOptions{}
	cmd := &cobra.Command{
		Use:   "drift",
		Short: "Check every stack against the clouds: what changed outside the deploy program",
		Long: `drift refreshes every stack of the selected environments from the clouds and previews
it, expecting no changes (preview --refresh --expect-no-changes). It lists each stack
that drifted and the resources that differ, and exits 1 when any did. It changes no
resource, and holds the fleet lock while it reads (a run in progress refuses it, exit 4).
` + "`flotilla rollout --refresh`" + ` brings drifted stacks back, through every gate.`,
		Example: `  flotilla drift --sim
  flotilla drift --sim --env prod --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDrift(cmd, o) },
	}
	addCommonFlags(cmd, &o.commonOptions)
	cmd.Flags().StringSliceVar(&o.envs, "env", nil, "only these environments (default: all)")
	return cmd
}

func runDrift(cmd *cobra.Command, o driftOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	p := newProgress(cmd, o.commonOptions)
	d, err := o.deployer(p.events())
	if err == nil {
		err = checkEnvironments(d, "--env", o.envs)
	}
	if err != nil {
		return p.finish(result{command: "drift", err: err})
	}
	res, err := d.Drift(cmd.Context(), automation.Selection{Environments: o.envs})
	return p.finish(result{command: "drift", err: err, data: map[string]any{"drift": res},
		report: func(w io.Writer) { printDrift(w, res) }})
}

func printDrift(w io.Writer, res automation.DriftResult) {
	if len(res.Stacks) == 0 {
		return
	}
	fmt.Fprintln(w, "==> drift")
	for _, s := range res.Stacks {
		switch {
		case s.Error != "":
			fmt.Fprintf(w, "    %s  check failed: %s\n", s.Stack, indent(s.Error, "      "))
		case s.Drifted:
			if len(s.Resources) == 0 {
				fmt.Fprintf(w, "    %s  DRIFTED: a refreshed preview would change it\n", s.Stack)
				continue
			}
			fmt.Fprintf(w, "    %s  DRIFTED: %d resource(s) differ from the state\n", s.Stack, len(s.Resources))
			for _, r := range s.Resources {
				fmt.Fprintf(w, "      - %s %s\n", r.Op, r.URN)
			}
		default:
			fmt.Fprintf(w, "    %s  no drift\n", s.Stack)
		}
	}
}

// printClusterVersions lists each cluster's control-plane and pool versions, marking
// those that lag the fleet's target.
func printClusterVersions(w io.Writer, st automation.Status) {
	some := false
	for _, s := range st.Stacks {
		some = some || len(s.Clusters) > 0
	}
	if !some {
		return
	}
	head := "clusters:"
	if st.Target != "" {
		head = fmt.Sprintf("clusters (fleet target %s):", st.Target)
	}
	fmt.Fprintln(w, head)
	target, err := automation.ParseMinor(st.Target)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range st.Stacks {
		for _, c := range s.Clusters {
			lag := "at the target"
			switch {
			case err != nil:
				lag = ""
			case c.ControlPlane.Less(target) || c.Nodes().Less(target):
				lag = "BEHIND the target"
			}
			fmt.Fprintf(tw, "    %s\t%s\tcontrol plane %s\t%s\t%s\n", s.Stack.Stack, c.Cluster, c.ControlPlane, poolVersions(c), lag)
		}
	}
	tw.Flush()
}
