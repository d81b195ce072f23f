package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/flotilla-io/flotilla/automation"
)

func init() {
	subcommands = append(subcommands, newDestroyCmd, newUnlockCmd)
}

type destroyOptions struct {
	commonOptions
	env            string
	yes            bool
	allowProtected bool
}

func newDestroyCmd() *cobra.Command {
	o := destroyOptions{}
	cmd := &cobra.Command{
		Use:   "destroy",
		Short: "Destroy every stack of one environment, last wave first",
		Long: `destroy removes every resource of one environment's stacks, last wave first, under
the fleet lock (a run in progress refuses it, exit 4).

Gates:
  - confirmation: on a terminal it asks you to type the environment's name; otherwise
    it requires --yes, and refuses without it (exit 2).
  - protection: a protected environment (prod) is refused unless --allow-protected is
    given (exit 2).
  - lock: one run at a time holds the fleet lock.`,
		Example: `  flotilla destroy --sim --env dev
  flotilla destroy --sim --env staging --yes
  flotilla destroy --sim --env prod --allow-protected`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDestroy(cmd, o) },
	}
	addCommonFlags(cmd, &o.commonOptions)
	f := cmd.Flags()
	f.StringVar(&o.env, "env", "", "the environment to destroy (required)")
	f.BoolVar(&o.yes, "yes", false, "do not ask for confirmation: required when not run on a terminal")
	f.BoolVar(&o.allowProtected, "allow-protected", false, "allow destroying a protected environment, e.g. prod")
	return cmd
}

func runDestroy(cmd *cobra.Command, o destroyOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	if o.env == "" {
		return usagef("destroy needs --env: the environment to destroy")
	}
	ask := !o.yes && interactive(cmd)
	if !o.yes && !ask {
		return usagef("destroy --env %s removes every resource of its stacks, and this run is not interactive: run again with --yes to confirm", o.env)
	}
	p := newProgress(cmd, o.commonOptions)
	d, err := o.deployer(p.events())
	if err != nil {
		return p.finish(result{command: "destroy", err: err})
	}
	env, ok := d.Environments().Get(o.env)
	if !ok {
		return p.finish(result{command: "destroy", err: checkEnvironments(d, "--env", []string{o.env})})
	}
	if env.Protected && !o.allowProtected {
		return p.finish(result{command: "destroy", err: usagef("%s is protected: destroying it needs --allow-protected as well", o.env)})
	}
	if ask {
		var answer string
		p.ask(func() {
			fmt.Fprintf(cmd.ErrOrStderr(), "destroy removes every resource of %s's stacks (%s).\ntype %q to confirm: ",
				o.env, strings.Join(env.Stacks(), ", "), o.env)
			answer, err = readLine(cmd.Context(), cmd.InOrStdin())
		})
		if err == nil && answer != o.env {
			err = usagef("not confirmed: nothing was destroyed")
		}
		if err != nil {
			return p.finish(result{command: "destroy", err: err})
		}
	}
	res, err := d.Destroy(cmd.Context(), automation.DestroyRequest{Environment: o.env, AllowProtected: o.allowProtected})
	return p.finish(result{command: "destroy", err: err, data: map[string]any{"destroy": res},
		report: func(w io.Writer) { printDestroy(w, o.env, res, err) }})
}

func printDestroy(w io.Writer, env string, res automation.DestroyResult, err error) {
	for _, s := range res.Stacks {
		if s.Error != "" {
			fmt.Fprintf(w, "    %s  destroy failed: %s\n", s.Stack, indent(s.Error, "      "))
			continue
		}
		fmt.Fprintf(w, "    %s  destroyed (%s)\n", s.Stack, strings.TrimPrefix(changes(s.Changes, true), "no changes, "))
	}
	if err == nil {
		fmt.Fprintf(w, "==> %s destroyed in %s\n", env, fmtDur(res.Duration))
	}
}

type unlockOptions struct {
	commonOptions
	force bool
}

func newUnlockCmd() *cobra.Command {
	o := unlockOptions{}
	cmd := &cobra.Command{
		Use:   "unlock",
		Short: "Clear the fleet lock a dead run left behind, and say what it cleared",
		Long: `unlock clears the fleet lock (.flotilla/lock.json) and says whose it was: its run,
user, host, PID, since when and its last heartbeat. A stale lock (its process is gone
from this host, or its heartbeat expired) is cleared at once. A live lock belongs to a
run in progress: unlock refuses it (exit 4) unless --force is given, since clearing it
would let a second run start beside the first. Rollout and resume take over a lock left
by a dead run of this host on their own; unlock is for the others.`,
		Example: `  flotilla unlock --sim
  flotilla unlock --force   # the holder is on another host and known to be dead`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runUnlock(cmd, o) },
	}
	addCommonFlags(cmd, &o.commonOptions)
	cmd.Flags().BoolVar(&o.force, "force", false, "clear the lock even when its holder looks alive")
	return cmd
}

func runUnlock(cmd *cobra.Command, o unlockOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	p := newProgress(cmd, o.commonOptions)
	d, err := o.deployer()
	if err != nil {
		return p.finish(result{command: "unlock", err: err})
	}
	holder, stale, err := d.Lock()
	if err == nil && holder != nil && stale == "" && !o.force {
		err = &automation.LockedError{Holder: *holder}
		return p.finish(result{command: "unlock", err: fmt.Errorf("%w\nunlock refuses a live lock; pass --force if you are sure its holder is dead", err)})
	}
	var cleared *automation.LockHolder
	if err == nil {
		cleared, err = d.Unlock()
	}
	data := map[string]any{"cleared": cleared}
	if stale != "" {
		data["stale"] = stale
	}
	return p.finish(result{command: "unlock", err: err, data: data, report: func(w io.Writer) {
		switch {
		case err != nil:
		case cleared == nil:
			fmt.Fprintln(w, "the fleet was not locked: nothing to clear")
		case stale != "":
			fmt.Fprintf(w, "cleared the stale fleet lock of %s\n(it was stale: %s)\n", cleared, stale)
		default:
			fmt.Fprintf(w, "cleared the live fleet lock of %s (--force)\n", cleared)
		}
	}})
}
