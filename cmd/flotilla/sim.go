package main

import (
	"github.com/spf13/cobra"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/daemon"
	"github.com/flotilla-io/flotilla/internal/fleetsim/simctl"
)

func init() { subcommands = append(subcommands, newSimCmd) }

func newSimCmd() *cobra.Command {
	var t simctl.Target
	sim := &cobra.Command{
		Use:   "sim",
		Short: "Inspect and change the local simulated cloud (fleetsim)",
		Long: `fleetsim simulates a managed-Kubernetes cloud on this machine: regions sim-east-1,
sim-west-1, sim-central-1, sim-eu-1 and sim-ap-1, clusters with real local control planes
(unless FLEETSIM_KUBE=off), node pools, spot capacity and its failures.

Its daemon keeps the cloud's state in FLEETSIM_HOME (default .flotilla/fleetsim in the
project root). The provider plugin starts it on demand; these commands inspect it, start
and stop it, inject faults and make out-of-band changes that "pulumi refresh" detects.`,
	}
	sim.PersistentFlags().StringVar(&t.Home, "home", "", "the simulator's state directory (default $FLEETSIM_HOME, else .flotilla/fleetsim in the project root)")
	sim.PersistentFlags().StringVar(&t.Addr, "addr", "", "a running daemon's address (default $FLEETSIM_ADDR, else found through the home)")

	sim.AddCommand(
		newSimStatusCmd(&t), newSimStartCmd(&t), newSimStopCmd(&t), newSimDaemonCmd(&t),
		newSimFaultCmd(&t), newSimDriftCmd(&t),
	)
	return sim
}

func newSimStatusCmd(t *simctl.Target) *cobra.Command {
	o := simctl.StatusOptions{}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the daemon, clusters, node pools, costs and faults",
		Long: `Show the daemon (pid, address, home), every cluster with its simulated version,
control-plane binary version and hourly cost, every node pool with its ready and desired
nodes and the nodes it covers for a spot pool, and the faults in force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Target = *t
			return simctl.Status(cmd.Context(), cmd.OutOrStdout(), o)
		},
	}
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print the whole state as JSON")
	return cmd
}

func newSimStartCmd(t *simctl.Target) *cobra.Command {
	return &cobra.Command{
		Use:   "start",
		Short: "Start the simulator's daemon in the background",
		Long:  "Start the daemon in the background (it logs to <home>/daemon.log), unless one is running.",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return simctl.Start(cmd.Context(), cmd.OutOrStdout(), *t)
		},
	}
}

func newSimStopCmd(t *simctl.Target) *cobra.Command {
	return &cobra.Command{
		Use:   "stop",
		Short: "Stop the simulator's daemon and every control plane it started",
		Long: `Stop the daemon and every cluster's control plane (etcd, kube-apiserver,
kube-scheduler, kube-controller-manager and kwok), and wait until their processes are
gone and their ports are free. It says what it stopped.

The cloud's state and each plane's data (etcd, certificates) stay in the home directory:
the next daemon brings the clusters back and restarts their planes on that data.

When no daemon answers (it was killed, or it hangs), the planes it left behind are still
stopped: by the PIDs their state files under <home>/planes record, each checked in /proc
to still be that plane's binary before it is signalled. A hung daemon is sent SIGTERM,
then SIGKILL. "make clean" runs this before it removes .flotilla/.`,
		Example: "  flotilla sim stop\n  flotilla sim stop --home .flotilla/fleetsim",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return simctl.Stop(cmd.Context(), cmd.OutOrStdout(), *t)
		},
	}
}

func newSimDaemonCmd(t *simctl.Target) *cobra.Command {
	return &cobra.Command{
		Use:    "daemon",
		Short:  "Run the simulator's daemon in the foreground",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var args []string
			if t.Home != "" {
				args = append(args, "--home", t.Home)
			}
			if t.Addr != "" {
				args = append(args, "--addr", t.Addr)
			}
			return daemon.Main(cmd.Context(), args, cmd.ErrOrStderr())
		},
	}
}

func newSimFaultCmd(t *simctl.Target) *cobra.Command {
	fault := &cobra.Command{
		Use:   "fault",
		Short: "Inject or clear faults: spot shortages, failed upgrades, API errors, unoffered versions",
	}

	var ss simctl.SpotShortageOptions
	spot := &cobra.Command{
		Use:   "spot-shortage",
		Short: "Make spot capacity run out in a region or one of its zones",
		Long: `Make spot capacity run out. Spot pools in the region (or zone) lose their nodes at
once. After a spot pool's provision timeout (scaled by FLEETSIM_TIME_SCALE) its on-demand
fallback pool scales up to cover them, within its max size, as the cluster-autoscaler's
priority expander does. Clear the fault and spot nodes return.`,
		Example: "  flotilla sim fault spot-shortage --region sim-east-1\n  flotilla sim fault spot-shortage --region sim-east-1 --zone sim-east-1b",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ss.Target = *t
			return simctl.SpotShortage(cmd.Context(), cmd.OutOrStdout(), ss)
		},
	}
	spot.Flags().StringVar(&ss.Region, "region", "", "the region (required)")
	spot.Flags().StringVar(&ss.Zone, "zone", "", "one zone of the region (default: all of them)")
	_ = spot.MarkFlagRequired("region")

	var uf simctl.UpgradeFailureOptions
	upgrade := &cobra.Command{
		Use:     "upgrade-failure",
		Short:   "Make a cluster's control-plane upgrades fail until cleared",
		Long:    "Make every control-plane upgrade of a cluster fail after its simulated duration; the cluster stays at its version.",
		Example: "  flotilla sim fault upgrade-failure --cluster staging-east",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			uf.Target = *t
			return simctl.UpgradeFailure(cmd.Context(), cmd.OutOrStdout(), uf)
		},
	}
	upgrade.Flags().StringVar(&uf.Cluster, "cluster", "", "the cluster: a name, <region>/<name> or id (required)")
	_ = upgrade.MarkFlagRequired("cluster")

	var ae simctl.APIErrorsOptions
	api := &cobra.Command{
		Use:   "api-errors",
		Short: "Make a fraction of API requests fail with throttling errors",
		Long: `Make a fraction of the cloud API's requests fail with a throttling error, drawn from a
seeded generator. Clients retry a few times with backoff, so a small rate slows things
down and a rate of 1 makes every operation fail with a readable error.`,
		Example: "  flotilla sim fault api-errors --rate 0.2",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ae.Target = *t
			return simctl.APIErrors(cmd.Context(), cmd.OutOrStdout(), ae)
		},
	}
	api.Flags().Float64Var(&ae.Rate, "rate", 0, "the fraction of requests that fail, 0 to 1 (required)")
	api.Flags().Int64Var(&ae.Seed, "seed", 1, "the generator's seed")
	_ = api.MarkFlagRequired("rate")

	var un simctl.UnofferOptions
	unoffer := &cobra.Command{
		Use:     "unoffer",
		Short:   "Make a region stop offering a Kubernetes version",
		Example: "  flotilla sim fault unoffer --region sim-eu-1 --version 1.33",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			un.Target = *t
			return simctl.Unoffer(cmd.Context(), cmd.OutOrStdout(), un)
		},
	}
	unoffer.Flags().StringVar(&un.Region, "region", "", "the region (required)")
	unoffer.Flags().StringVar(&un.Version, "version", "", "the Kubernetes minor version, e.g. 1.33 (required)")
	_ = unoffer.MarkFlagRequired("region")
	_ = unoffer.MarkFlagRequired("version")

	var cl simctl.ClearOptions
	clearCmd := &cobra.Command{
		Use:   "clear",
		Short: "Clear faults: all of them, or those the flags select",
		Example: "  flotilla sim fault clear\n  flotilla sim fault clear --kind spot-shortage --region sim-east-1\n" +
			"  flotilla sim fault clear --kind upgrade-failure --cluster staging-east",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl.Target = *t
			return simctl.Clear(cmd.Context(), cmd.OutOrStdout(), cl)
		},
	}
	clearCmd.Flags().StringVar(&cl.Kind, "kind", "", "one kind: "+cloud.FaultSpotShortage+", "+cloud.FaultUpgradeFailure+", "+cloud.FaultAPIErrors+" or "+cloud.FaultUnoffer)
	clearCmd.Flags().StringVar(&cl.Region, "region", "", "only faults in this region")
	clearCmd.Flags().StringVar(&cl.Zone, "zone", "", "only spot shortages in this zone")
	clearCmd.Flags().StringVar(&cl.Cluster, "cluster", "", "only upgrade failures of this cluster")
	clearCmd.Flags().StringVar(&cl.Version, "version", "", "only this unoffered version")

	fault.AddCommand(spot, upgrade, api, unoffer, clearCmd)
	return fault
}

func newSimDriftCmd(t *simctl.Target) *cobra.Command {
	drift := &cobra.Command{
		Use:   "drift",
		Short: "Change clusters and node pools out of band, as someone in the cloud's console would",
		Long: `Change clusters and node pools behind Pulumi's back. The change takes effect at once;
"pulumi refresh" then sees it, and the next "pulumi up" puts the program's values back.`,
	}

	var (
		po                   simctl.DriftPoolOptions
		desired, minN, maxN  int
		poolTags, poolLabels []string
		clusterTags          []string
		co                   simctl.DriftClusterOptions
	)
	pool := &cobra.Command{
		Use:     "pool <cluster>/<pool>",
		Short:   "Change a node pool out of band",
		Example: "  flotilla sim drift pool dev-east/app-spot --desired 5\n  flotilla sim drift pool dev-east/app-spot --tag owner=someone-else",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			po.Target, po.Pool = *t, args[0]
			f := cmd.Flags()
			if f.Changed("desired") {
				po.DesiredSize = &desired
			}
			if f.Changed("min") {
				po.MinSize = &minN
			}
			if f.Changed("max") {
				po.MaxSize = &maxN
			}
			var err error
			if po.Tags, err = simctl.ParseKeyValues(poolTags); err != nil {
				return err
			}
			if po.Labels, err = simctl.ParseKeyValues(poolLabels); err != nil {
				return err
			}
			return simctl.DriftPool(cmd.Context(), cmd.OutOrStdout(), po)
		},
	}
	pool.Flags().IntVar(&desired, "desired", 0, "set the desired size")
	pool.Flags().IntVar(&minN, "min", 0, "set the minimum size")
	pool.Flags().IntVar(&maxN, "max", 0, "set the maximum size")
	pool.Flags().StringArrayVar(&poolTags, "tag", nil, "replace the tags with these key=value pairs (repeatable)")
	pool.Flags().StringArrayVar(&poolLabels, "label", nil, "replace the labels with these key=value pairs (repeatable)")
	pool.Flags().StringVar(&po.Version, "version", "", "upgrade the pool to this version")
	pool.Flags().BoolVar(&po.Delete, "delete", false, "delete the pool")

	cluster := &cobra.Command{
		Use:     "cluster <cluster>",
		Short:   "Change a cluster out of band",
		Example: "  flotilla sim drift cluster dev-east --tag team=unknown\n  flotilla sim drift cluster dev-east --version 1.32",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			co.Target, co.Cluster = *t, args[0]
			var err error
			if co.Tags, err = simctl.ParseKeyValues(clusterTags); err != nil {
				return err
			}
			return simctl.DriftCluster(cmd.Context(), cmd.OutOrStdout(), co)
		},
	}
	cluster.Flags().StringArrayVar(&clusterTags, "tag", nil, "replace the tags with these key=value pairs (repeatable)")
	cluster.Flags().StringVar(&co.Version, "version", "", "upgrade the control plane to this version (one minor at a time)")
	cluster.Flags().BoolVar(&co.Delete, "delete", false, "delete the cluster and its node pools")

	drift.AddCommand(pool, cluster)
	return drift
}
