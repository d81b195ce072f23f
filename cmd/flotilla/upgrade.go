package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/flotilla-io/flotilla/automation"
)

func init() {
	subcommands = append(subcommands, newUpgradeCmd, newFreezeCmd, newUnfreezeCmd)
}

type upgradeOptions struct {
	commonOptions
	to             string
	envs           []string
	stacks         []string
	through        string
	approve        []string
	allowReplace   bool
	maxConcurrency int
	planOnly       bool
	waitForWindow  bool
}

func newUpgradeCmd() *cobra.Command {
	o := upgradeOptions{}
	cmd := &cobra.Command{
		Use:   "upgrade --to MINOR",
		Short: "Upgrade the fleet's Kubernetes, control planes then node pools, one minor at a time",
		Long: `upgrade takes the clusters of the selected stacks to a Kubernetes minor, following the
upgrade rules by construction:
  - the control plane first, one minor at a time; its node pools after it;
  - a kubelet never newer than its API server, and at most 3 minors older, in every
    state the upgrade passes through;
  - a spot pool's fallback upgrades before the spot pool, so capacity is there while
    spot rolls (the pools' surge settings apply where the cloud has them);
  - environments in promotion order (dev -> staging -> prod), waves and soaks between
    them, as a rollout.

It starts from the versions the clusters really run, read from the stacks' state and
from the clouds, and prints its plan before anything changes. Pre-flight refuses, with
every problem at once: a target that is not newer than the clusters or not offered in
every region of the fleet (each minor on the way included); a cluster mid-operation;
a cluster upgraded outside Flotilla; a cloud auto-upgrade that would compete; Kubernetes
resources of the stacks in API versions the target removes; a fleet unhealthy now.

Each round of a stack is one update: control planes, or node pools, one minor up. The
stack file (stacks/Pulumi.<stack>.yaml) is rewritten with the new versions as each round
succeeds, so a later ` + "`pulumi up -s <stack>`" + ` agrees with it. Health is read after every round. A
failed round leaves every cluster in a valid state; ` + "`flotilla resume`" + ` continues from the
versions they run. Upgrade steps of an environment with a maintenanceWindow start only
inside it; ` + "`flotilla freeze`" + ` stops every run.

` + gatesHelp,
		Example: `  # see what an upgrade to 1.33 would do, changing nothing
  flotilla upgrade --sim --to 1.33 --plan-only

  # upgrade dev only
  flotilla upgrade --sim --to 1.33 --env dev

  # the whole fleet, approving prod
  flotilla upgrade --sim --to 1.33 --approve prod`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runUpgrade(cmd, o) },
	}
	addCommonFlags(cmd, &o.commonOptions)
	f := cmd.Flags()
	f.StringVar(&o.to, "to", "", "the target Kubernetes minor, e.g. 1.33 (required)")
	f.StringSliceVar(&o.envs, "env", nil, "only these environments, in promotion order (default: all)")
	f.StringSliceVar(&o.stacks, "stack", nil, "only these stacks")
	f.StringVar(&o.through, "through", "", "stop after this environment, e.g. --through staging")
	f.StringSliceVar(&o.approve, "approve", nil, "environments whose approval gate is granted, e.g. --approve prod")
	f.BoolVar(&o.allowReplace, "allow-replace", false, "let protected environments replace and delete resources")
	f.IntVar(&o.maxConcurrency, "max-concurrency", 0, "cap every environment's concurrency at N stacks")
	f.BoolVar(&o.planOnly, "plan-only", false, "run the pre-flight and print the plan, changing nothing")
	f.BoolVar(&o.waitForWindow, "wait-for-window", false, "wait for a closed maintenance window to open instead of stopping at it")
	return cmd
}

func runUpgrade(cmd *cobra.Command, o upgradeOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	if o.to == "" {
		return usagef("--to is required: name the target Kubernetes minor, e.g. --to 1.33")
	}
	if o.maxConcurrency < 0 {
		return usagef("--max-concurrency %d: use a positive number of stacks, or 0 for each environment's own", o.maxConcurrency)
	}
	p := newProgress(cmd, o.commonOptions)
	d, err := o.deployer(p.events(), approver(cmd, p))
	if err == nil {
		err = checkEnvironments(d, "--env", o.envs)
	}
	if err == nil && o.through != "" {
		err = checkEnvironments(d, "--through", []string{o.through})
	}
	if err == nil {
		err = checkEnvironments(d, "--approve", o.approve)
	}
	if err != nil {
		return p.finish(result{command: "upgrade", err: err})
	}
	sel := automation.Selection{Environments: o.envs, To: o.through, Stacks: o.stacks, MaxConcurrency: o.maxConcurrency}
	if o.planOnly {
		plan, err := d.PlanUpgrade(cmd.Context(), sel, o.to)
		res := result{command: "upgrade-plan", err: err}
		if plan != nil {
			res.data = map[string]any{"upgrade": plan}
			res.report = func(w io.Writer) { printUpgradePlan(w, *plan) }
		}
		return p.finish(res)
	}
	j, err := d.Upgrade(cmd.Context(), automation.UpgradeRequest{
		Selection: sel, To: o.to, Approve: o.approve, AllowReplace: o.allowReplace,
		WaitForWindow: o.waitForWindow, Stop: p.watch(stopOf(cmd.Context())),
	})
	return p.finish(result{command: "upgrade", journal: j, err: err})
}

// printUpgradePlan prints an upgrade's plan: each stack's clusters as they run now,
// then its rounds, in the order they run.
func printUpgradePlan(w io.Writer, up automation.UpgradePlan) {
	fmt.Fprintf(w, "==> upgrade plan to %s: %d step(s)\n", up.Target, up.Steps())
	for _, st := range up.Plan.Stages {
		extra := ""
		if st.Window != nil {
			extra = "; steps only in its maintenance window, " + st.Window.String()
		}
		fmt.Fprintf(w, "    %s: %d wave(s), at most %d stack(s) at a time%s\n", st.Environment, len(st.Waves), max(st.MaxConcurrency, 1), extra)
		for wi, wave := range st.Waves {
			for _, s := range wave {
				su := stackUpgrade(up, s)
				fmt.Fprintf(w, "      wave %d  %s\n", wi+1, s)
				tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
				for _, c := range su.Clusters {
					fmt.Fprintf(tw, "        %s\tcontrol plane %s\t%s\n", c.Cluster, c.ControlPlane, poolVersions(c))
				}
				tw.Flush()
				if len(su.Rounds) == 0 {
					fmt.Fprintf(w, "        already at %s: nothing to do\n", up.Target)
				}
				for i, r := range su.Rounds {
					parts := make([]string, len(r))
					for k, step := range r {
						parts[k] = step.String()
					}
					fmt.Fprintf(w, "        %d. %s\n", i+1, strings.Join(parts, "; "))
				}
			}
		}
	}
}

func stackUpgrade(up automation.UpgradePlan, stack string) automation.StackUpgrade {
	for _, s := range up.Stacks {
		if s.Stack == stack {
			return s
		}
	}
	return automation.StackUpgrade{}
}

// poolVersions lists a cluster's pools by version: "pools 1.31 (system, general-spot)".
func poolVersions(c automation.ClusterVersions) string {
	by := map[string][]string{}
	var order []string
	for _, n := range c.PoolNames() {
		v := c.Pools[n].String()
		if _, ok := by[v]; !ok {
			order = append(order, v)
		}
		by[v] = append(by[v], n)
	}
	if len(order) == 0 {
		return "no node pools"
	}
	parts := make([]string, len(order))
	for i, v := range order {
		parts[i] = fmt.Sprintf("pools %s (%s)", v, strings.Join(by[v], ", "))
	}
	return strings.Join(parts, ", ")
}

type freezeOptions struct {
	commonOptions
	reason string
	until  string
}

func newFreezeCmd() *cobra.Command {
	o := freezeOptions{}
	cmd := &cobra.Command{
		Use:   "freeze --reason R [--until T]",
		Short: "Stop every rollout and upgrade of the fleet until unfreeze (or a time)",
		Long: `freeze records a change freeze beside the fleet's state (.flotilla/freeze.json): no
rollout, upgrade, resume or retry starts while it holds, and a run in progress stops
before its next step, saying who froze the fleet, why and until when. It ends with
` + "`flotilla unfreeze`" + `, or by itself at --until.`,
		Example: `  flotilla freeze --reason "incident 4711: payments degraded"
  flotilla freeze --reason "year-end freeze" --until 2027-01-04T08:00:00Z
  flotilla freeze --reason "launch day" --until 48h`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runFreeze(cmd, o) },
	}
	addCommonFlags(cmd, &o.commonOptions)
	cmd.Flags().StringVar(&o.reason, "reason", "", "why the fleet is frozen (required): every refused run shows it")
	cmd.Flags().StringVar(&o.until, "until", "", "when the freeze ends by itself: an RFC 3339 time (2027-01-04T08:00:00Z) or a duration from now (48h)")
	return cmd
}

// parseUntil reads --until: an RFC 3339 time, or a duration from now.
func parseUntil(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	return time.Time{}, usagef("--until %q: use an RFC 3339 time such as 2027-01-04T08:00:00Z, or a duration from now such as 48h", s)
}

func runFreeze(cmd *cobra.Command, o freezeOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	if strings.TrimSpace(o.reason) == "" {
		return usagef("--reason is required: say why the fleet is frozen")
	}
	until, err := parseUntil(o.until, time.Now())
	if err != nil {
		return err
	}
	p := newProgress(cmd, o.commonOptions)
	d, err := o.deployer()
	if err != nil {
		return p.finish(result{command: "freeze", err: err})
	}
	f, err := d.Freeze(o.reason, until)
	res := result{command: "freeze", err: err}
	if f != nil {
		res.data = map[string]any{"freeze": f}
		res.report = func(w io.Writer) { fmt.Fprintf(w, "the fleet is %s\n", f) }
	}
	return p.finish(res)
}

func newUnfreezeCmd() *cobra.Command {
	o := commonOptions{}
	cmd := &cobra.Command{
		Use:   "unfreeze",
		Short: "Lift the fleet's freeze",
		Long: `unfreeze lifts the freeze that ` + "`flotilla freeze`" + ` set and says what it lifted. A run that
the freeze stopped continues with ` + "`flotilla resume`" + `.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			p := newProgress(cmd, o)
			d, err := o.deployer()
			if err != nil {
				return p.finish(result{command: "unfreeze", err: err})
			}
			f, err := d.Unfreeze()
			res := result{command: "unfreeze", err: err, data: map[string]any{"lifted": f}}
			res.report = func(w io.Writer) {
				if f == nil {
					fmt.Fprintln(w, "the fleet was not frozen")
					return
				}
				fmt.Fprintf(w, "lifted: %s\n", f)
			}
			return p.finish(res)
		},
	}
	addCommonFlags(cmd, &o)
	return cmd
}
