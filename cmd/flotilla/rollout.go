package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/flotilla-io/flotilla/automation"
)

func init() {
	subcommands = append(subcommands, newRolloutCmd, newResumeCmd, newRetryCmd)
}

// gatesHelp says what stands between a change and prod; every command that runs stacks
// shows it.
const gatesHelp = `Gates, in the order a run meets them:
  - pre-flight: every stack file and the program are validated before anything
    changes; bad input exits 2.
  - lock: one run at a time holds the fleet lock (.flotilla/lock.json); a second run is
    refused at once, naming the holder (exit 4). A lock left by a dead run of this host
    is taken over; ` + "`flotilla unlock`" + ` clears any other stale one.
  - approval: an environment with requiresApproval (prod) is entered only when named
    with --approve, or approved at a prompt when run on a terminal; a non-interactive
    run without it is refused before anything changes (exit 3).
  - preview policy: in a protected environment (prod), a preview that would replace
    or delete a resource stops the stack unless --allow-replace is given (exit 3).
  - health: after each wave, every cluster is read fresh through its Kubernetes API
    (or the cloud's pool status): nodes Ready and as many as desired, spot shortfalls
    covered by the fallback, no kube-system pod Pending.
  - soak: after a healthy environment, its soak time (scaled on the simulator), with
    health re-checked during it and at its end.
  - failure budget: a failure halts the stage (running stacks finish, nothing new
    starts) unless the environment's maxFailures sets it aside for ` + "`flotilla retry`" + `.

Stacks whose stack file, program build and state match their last successful update
are skipped. Ctrl-C once stops new work and lets running operations finish; twice
cancels them. ` + "`flotilla resume`" + ` continues either way.`

type rolloutOptions struct {
	commonOptions
	to             string
	envs           []string
	approve        []string
	allowReplace   bool
	maxConcurrency int
	refresh        bool
}

func newRolloutCmd() *cobra.Command {
	o := rolloutOptions{}
	cmd := &cobra.Command{
		Use:   "rollout",
		Short: "Roll the stacks out across environments in promotion order, through every gate",
		Long: `rollout previews and updates every stack of stacks/environments.yaml, environment by
environment (dev -> staging -> prod) and wave by wave, at most maxConcurrency stacks at
once, each in a workspace of its own. Progress is shown per stack; a summary at the end
says what ran, what was skipped, what failed and why, and what to run next.

` + gatesHelp,
		Example: `  # the main job: everything on the local simulator, approving prod
  flotilla rollout --sim --approve prod

  # dev and staging only
  flotilla rollout --sim --to staging

  # check the clouds for drift instead of skipping unchanged stacks
  flotilla rollout --sim --refresh --approve prod

  # against a shared backend, for CI
  flotilla rollout --backend s3://my-bucket/flotilla --approve prod --output json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRollout(cmd, o) },
	}
	addCommonFlags(cmd, &o.commonOptions)
	f := cmd.Flags()
	f.StringVar(&o.to, "to", "", "stop after this environment, e.g. --to staging")
	f.StringSliceVar(&o.envs, "env", nil, "only these environments, in promotion order (default: all)")
	f.StringSliceVar(&o.approve, "approve", nil, "environments whose approval gate is granted, e.g. --approve prod")
	f.BoolVar(&o.allowReplace, "allow-replace", false, "let protected environments replace and delete resources")
	f.IntVar(&o.maxConcurrency, "max-concurrency", 0, "cap every environment's concurrency at N stacks (default: each environment's maxConcurrency)")
	f.BoolVar(&o.refresh, "refresh", false, "read the clouds before each preview (drift), and skip no stack")
	return cmd
}

func (o rolloutOptions) validate() error {
	if err := o.commonOptions.validate(); err != nil {
		return err
	}
	if o.maxConcurrency < 0 {
		return usagef("--max-concurrency %d: use a positive number of stacks, or 0 for each environment's own", o.maxConcurrency)
	}
	for _, flag := range []struct {
		name   string
		values []string
	}{{"--env", o.envs}, {"--approve", o.approve}} {
		for _, v := range flag.values {
			if v == "" {
				return usagef("%s has an empty environment name", flag.name)
			}
		}
	}
	return nil
}

func runRollout(cmd *cobra.Command, o rolloutOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	p := newProgress(cmd, o.commonOptions)
	d, err := o.deployer(p.events(), approver(cmd, p))
	if err == nil {
		err = checkEnvironments(d, "--env", o.envs)
	}
	if err == nil && o.to != "" {
		err = checkEnvironments(d, "--to", []string{o.to})
	}
	if err == nil {
		err = checkEnvironments(d, "--approve", o.approve)
	}
	if err != nil {
		return p.finish(result{command: "rollout", err: err})
	}
	req := automation.RolloutRequest{
		Selection:    automation.Selection{Environments: o.envs, To: o.to, MaxConcurrency: o.maxConcurrency},
		Approve:      o.approve,
		AllowReplace: o.allowReplace,
		Refresh:      o.refresh,
		Stop:         p.watch(stopOf(cmd.Context())),
	}
	j, err := d.Rollout(cmd.Context(), req)
	return p.finish(result{command: "rollout", journal: j, err: err})
}

type resumeOptions struct {
	commonOptions
	approve []string
}

func newResumeCmd() *cobra.Command {
	o := resumeOptions{}
	cmd := &cobra.Command{
		Use:   "resume",
		Short: "Continue the last run where it stopped: after a kill, a gate, a failure or Ctrl-C",
		Long: `resume continues the last rollout from where it stopped, whether it was killed, stopped
at a gate, failed, or was interrupted. It re-reads each stack's real state rather than
trusting the journal alone: a stack whose update finished after the journal's last
write is not run again, a soak already served is not served again, and pending
operations a killed update left in the state are imported (when the cloud has the
resource) or cleared. A Pulumi stack lock left by a dead run of this host is cleared,
and the output says what was cleared. The run's own request (selection, approvals,
--allow-replace) is kept; --approve adds approvals.

` + gatesHelp,
		Example: `  # the run stopped at prod's approval gate
  flotilla resume --sim --approve prod

  # continue after Ctrl-C or a kill
  flotilla resume --sim`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runResume(cmd, o) },
	}
	addCommonFlags(cmd, &o.commonOptions)
	cmd.Flags().StringSliceVar(&o.approve, "approve", nil, "environments whose approval gate is granted now, e.g. --approve prod")
	return cmd
}

func runResume(cmd *cobra.Command, o resumeOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	p := newProgress(cmd, o.commonOptions)
	d, err := o.deployer(p.events(), approver(cmd, p))
	if err == nil {
		err = checkEnvironments(d, "--approve", o.approve)
	}
	if err != nil {
		return p.finish(result{command: "resume", err: err})
	}
	j, err := d.Resume(cmd.Context(), o.approve, p.watch(stopOf(cmd.Context())))
	return p.finish(result{command: "resume", journal: j, err: err})
}

type retryOptions struct {
	commonOptions
	stacks []string
}

func newRetryCmd() *cobra.Command {
	o := retryOptions{}
	cmd := &cobra.Command{
		Use:   "retry",
		Short: "Rerun the failed or set-aside stacks of the last run, with the inputs they failed with",
		Long: `retry reruns only the stacks of the last run that failed or were set aside by a
failure budget (only those named with --stack, when given), then continues the run. It
uses the inputs the journal recorded: it refuses, and says what changed, when a stack
file or the program build changed since (use ` + "`flotilla resume`" + ` to continue with new
inputs). Use it after a transient fault: a cloud error, a spot shortage that cleared.

` + gatesHelp,
		Example: `  # a staging stack failed on a cloud fault that has cleared
  flotilla retry --sim

  # only one of the failed stacks
  flotilla retry --sim --stack prod-eu`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runRetry(cmd, o) },
	}
	addCommonFlags(cmd, &o.commonOptions)
	cmd.Flags().StringSliceVar(&o.stacks, "stack", nil, "only these failed stacks (default: every failed or set-aside stack)")
	return cmd
}

func runRetry(cmd *cobra.Command, o retryOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	for _, s := range o.stacks {
		if s == "" {
			return usagef("--stack has an empty stack name")
		}
	}
	p := newProgress(cmd, o.commonOptions)
	d, err := o.deployer(p.events(), approver(cmd, p))
	if err != nil {
		return p.finish(result{command: "retry", err: err})
	}
	j, err := d.Retry(cmd.Context(), o.stacks, p.watch(stopOf(cmd.Context())))
	return p.finish(result{command: "retry", journal: j, err: err})
}

// approver asks for approvals at a prompt when the command's input is a terminal;
// otherwise it adds nothing, so that a missing approval refuses the run before
// anything changes.
func approver(cmd *cobra.Command, p *progress) automation.Option {
	if !interactive(cmd) {
		return nil
	}
	in, out := cmd.InOrStdin(), cmd.ErrOrStderr()
	return automation.WithApprover(func(ctx context.Context, env, summary string) (bool, error) {
		var answer string
		var err error
		p.ask(func() {
			fmt.Fprintf(out, "==> %s requires approval before it changes: %s\n    promote into %s? [y/N] ", env, summary, env)
			answer, err = readLine(ctx, in)
		})
		if err != nil {
			return false, err
		}
		return answer == "y" || answer == "Y" || answer == "yes", nil
	})
}
