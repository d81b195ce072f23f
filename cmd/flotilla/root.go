package main

import "github.com/spf13/cobra"

// subcommands build the root command's subcommands. Each subcommand's file adds its
// constructor in an init function, so that commands are added without editing this file.
var subcommands []func() *cobra.Command

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "flotilla",
		Short: "Roll out, upgrade and inspect a multi-region Kubernetes fleet",
		Long: `flotilla rolls Flotilla's stacks out across environments and regions, upgrades
them, and runs the local simulator (fleetsim) that stands in for the clouds.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	for _, sub := range subcommands {
		root.AddCommand(sub())
	}
	return root
}
