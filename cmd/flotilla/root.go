package main

import (
	"github.com/spf13/cobra"
)

// subcommands build the root command's subcommands. Each subcommand's file adds its
// constructor in an init function, so that commands are added without editing this file.
var subcommands []func() *cobra.Command

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "flotilla",
		Short: "Roll out, upgrade and inspect a multi-region Kubernetes fleet",
		Long: `flotilla rolls Flotilla's stacks out across environments and regions, in the
promotion order of stacks/environments.yaml (dev -> staging -> prod), with gates between
them: approval, the preview policy, health, soak and failure budgets. One run at a time
holds the fleet lock; every run is journaled under .flotilla/, so that it can be
resumed or retried. It also runs the local simulator (fleetsim) that stands in for the
clouds.

Exit codes: 0 success; 1 failure; 2 bad usage or input; 3 a gate refused (approval or
preview policy); 4 locked by another run.`,
		Example: `  # preview everything, then roll out on the local simulator, approving prod
  flotilla plan --sim
  flotilla rollout --sim --approve prod

  # where the fleet stands
  flotilla status --sim`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err: err} })
	for _, sub := range subcommands {
		root.AddCommand(sub())
	}
	return root
}

// noArgs refuses positional arguments as bad usage.
func noArgs(cmd *cobra.Command, args []string) error {
	if err := cobra.NoArgs(cmd, args); err != nil {
		return &usageError{err: err}
	}
	return nil
}
