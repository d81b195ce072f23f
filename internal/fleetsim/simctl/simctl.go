// Package simctl implements `flotilla sim`: inspecting the simulated cloud, starting and
// stopping its daemon, injecting and clearing faults, and making out-of-band changes.
// Each command is a function taking an options struct and writing to an io.Writer.
//
//	err := simctl.SpotShortage(ctx, os.Stdout, simctl.SpotShortageOptions{Region: "sim-east-1"})
package simctl

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
)

// Target says which daemon to talk to; empty fields follow FLEETSIM_HOME/FLEETSIM_ADDR.
type Target struct {
	Home string
	Addr string
}

func (t Target) client(autoStart bool) (*client.Client, error) {
	return client.New(client.Options{Home: t.Home, Addr: t.Addr, AutoStart: autoStart && t.Addr == ""})
}

// StatusOptions configure Status.
type StatusOptions struct {
	Target
	JSON bool // print the whole state as JSON
}

// Status prints the daemon, the clusters and node pools with their versions, ready
// nodes and costs, and the faults in force. It never starts a daemon.
func Status(ctx context.Context, w io.Writer, o StatusOptions) error {
	c, err := o.client(false)
	if err != nil {
		return err
	}
	h, ok := c.Running(ctx)
	if !ok {
		if o.JSON {
			return fmt.Errorf("no fleetsim daemon is running (home %s)", c.Home())
		}
		_, err := fmt.Fprintf(w, "fleetsim daemon: not running (home %s); it starts on demand, or with `flotilla sim start`\n", c.Home())
		return err
	}
	st, err := c.State(ctx)
	if err != nil {
		return err
	}
	if o.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	return printStatus(w, h, st)
}

func printStatus(w io.Writer, h cloud.Health, st *cloud.State) error {
	d := h.Durations
	fmt.Fprintf(w, "fleetsim daemon: pid %d at %s, up %s (home %s, kube %s)\n", h.PID, h.Addr, time.Since(h.Started).Round(time.Second), h.Home, h.Kube)
	fmt.Fprintf(w, "durations: cluster create %s, upgrade %s, node pool create/update %s; time scale %gx\n\n", d.ClusterCreate, d.ClusterUpgrade, d.PoolCreate, h.TimeScale)

	clusters := st.SortedClusters()
	if len(clusters) == 0 {
		fmt.Fprintln(w, "no clusters")
	} else {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CLUSTER\tREGION\tVERSION\tKUBE\tSTATUS\tPOOLS\tNODES\t$/HOUR\tID")
		total := 0.0
		for _, cl := range clusters {
			pools := st.PoolsOf(cl.ID)
			nodes := 0
			for _, p := range pools {
				nodes += p.ReadyNodes
			}
			cost := st.ClusterHourlyCost(cl.ID)
			total += cost
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%.4f\t%s\n", cl.Name, cl.Region, cl.Version, dash(cl.KubeVersion), cl.Status, len(pools), nodes, cost, cl.ID)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(w, "fleet: %d clusters, $%.4f per hour\n\n", len(clusters), total)

		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NODE POOL\tCAPACITY\tTYPE\tVERSION\tREADY/DESIRED\tMIN-MAX\tFALLBACK\t$/HOUR\tSTATUS")
		for _, cl := range clusters {
			for _, p := range st.PoolsOf(cl.ID) {
				fb := "-"
				if p.FallbackNodes > 0 {
					fb = fmt.Sprintf("+%d", p.FallbackNodes)
				}
				fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\t%d/%d\t%d-%d\t%s\t%.4f\t%s\n", cl.Name, p.Name, p.CapacityType, strings.Join(p.InstanceTypes, ","), p.Version, p.ReadyNodes, p.DesiredSize, p.MinSize, p.MaxSize, fb, p.HourlyCost, p.Status)
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	for _, line := range faultLines(st.Faults) {
		fmt.Fprintln(w, line)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func faultLines(f cloud.Faults) []string {
	if f.Empty() {
		return []string{"faults: none"}
	}
	out := []string{"faults:"}
	for _, s := range f.SpotShortages {
		where := s.Region + " (all zones)"
		if s.Zone != "" {
			where = s.Zone
		}
		out = append(out, "  spot-shortage    "+where)
	}
	for _, c := range f.UpgradeFailures {
		out = append(out, "  upgrade-failure  "+c)
	}
	if f.APIErrorRate > 0 {
		out = append(out, fmt.Sprintf("  api-errors       rate %g (seed %d)", f.APIErrorRate, f.APIErrorSeed))
	}
	for _, u := range f.Unoffered {
		out = append(out, fmt.Sprintf("  unoffer          %s in %s", u.Version, u.Region))
	}
	return out
}

// Start starts a daemon unless one is running, and says where it runs.
func Start(ctx context.Context, w io.Writer, t Target) error {
	c, err := t.client(true)
	if err != nil {
		return err
	}
	_, already := c.Running(ctx)
	h, err := c.Start(ctx)
	if err != nil {
		return err
	}
	verb := "started"
	if already {
		verb = "already running"
	}
	_, err = fmt.Fprintf(w, "fleetsim daemon %s: pid %d at %s (home %s, kube %s)\n", verb, h.PID, h.Addr, h.Home, h.Kube)
	return err
}

// SpotShortageOptions configure SpotShortage.
type SpotShortageOptions struct {
	Target
	Region string
	Zone   string // empty: every zone of Region
}

// SpotShortage makes spot capacity run out.
func SpotShortage(ctx context.Context, w io.Writer, o SpotShortageOptions) error {
	c, err := o.client(true)
	if err != nil {
		return err
	}
	if err := c.SpotShortage(ctx, o.Region, o.Zone); err != nil {
		return err
	}
	where := o.Region + " (all zones)"
	if o.Zone != "" {
		where = o.Zone
	}
	_, err = fmt.Fprintf(w, "spot capacity is short in %s: spot nodes there are gone; fallback pools take over after their provision timeout\n", where)
	return err
}

// UpgradeFailureOptions configure UpgradeFailure.
type UpgradeFailureOptions struct {
	Target
	Cluster string // a name, <region>/<name> or id
}

// UpgradeFailure makes a cluster's control-plane upgrades fail until cleared.
func UpgradeFailure(ctx context.Context, w io.Writer, o UpgradeFailureOptions) error {
	c, err := o.client(true)
	if err != nil {
		return err
	}
	if err := c.UpgradeFailure(ctx, o.Cluster); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "upgrades of cluster %q will fail until the fault is cleared\n", o.Cluster)
	return err
}

// APIErrorsOptions configure APIErrors.
type APIErrorsOptions struct {
	Target
	Rate float64
	Seed int64
}

// APIErrors makes a fraction of API requests fail with throttling errors.
func APIErrors(ctx context.Context, w io.Writer, o APIErrorsOptions) error {
	c, err := o.client(true)
	if err != nil {
		return err
	}
	if err := c.APIErrors(ctx, o.Rate, o.Seed); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%g%% of API requests now fail with a throttling error (seed %d); clients retry %d times\n", o.Rate*100, o.Seed, client.DefaultAttempts)
	return err
}

// UnofferOptions configure Unoffer.
type UnofferOptions struct {
	Target
	Region  string
	Version string
}

// Unoffer makes a region stop offering a version.
func Unoffer(ctx context.Context, w io.Writer, o UnofferOptions) error {
	c, err := o.client(true)
	if err != nil {
		return err
	}
	if err := c.Unoffer(ctx, o.Region, o.Version); err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s no longer offers Kubernetes %s\n", o.Region, o.Version)
	return err
}

// ClearOptions configure Clear.
type ClearOptions struct {
	Target
	cloud.FaultFilter
}

// Clear removes faults: all of them, or those the filter selects.
func Clear(ctx context.Context, w io.Writer, o ClearOptions) error {
	c, err := o.client(true)
	if err != nil {
		return err
	}
	n, err := c.ClearFaults(ctx, o.FaultFilter)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "cleared %d fault(s)\n", n)
	return err
}

// DriftPoolOptions configure DriftPool. Nil and empty fields stay unchanged.
type DriftPoolOptions struct {
	Target
	Pool        string // an id or <cluster>/<pool>
	DesiredSize *int
	MinSize     *int
	MaxSize     *int
	Tags        map[string]string
	Labels      map[string]string
	Version     string
	Delete      bool
}

// DriftPool changes a node pool out of band, as someone using the cloud's console.
func DriftPool(ctx context.Context, w io.Writer, o DriftPoolOptions) error {
	c, err := o.client(true)
	if err != nil {
		return err
	}
	d := cloud.NodePoolDrift{DesiredSize: o.DesiredSize, MinSize: o.MinSize, MaxSize: o.MaxSize, Tags: o.Tags, Labels: o.Labels, Version: o.Version, Delete: o.Delete}
	if err := c.DriftNodePool(ctx, o.Pool, d); err != nil {
		return err
	}
	if o.Delete {
		_, err = fmt.Fprintf(w, "node pool %s deleted out of band\n", o.Pool)
		return err
	}
	p, err := c.GetNodePool(ctx, o.Pool)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "node pool %s changed out of band: desired %d (min %d, max %d), version %s, tags %s; `pulumi refresh` will see it\n", o.Pool, p.DesiredSize, p.MinSize, p.MaxSize, p.Version, formatMap(p.Tags))
	return err
}

// DriftClusterOptions configure DriftCluster. Nil and empty fields stay unchanged.
type DriftClusterOptions struct {
	Target
	Cluster string
	Tags    map[string]string
	Version string
	Delete  bool
}

// DriftCluster changes a cluster out of band.
func DriftCluster(ctx context.Context, w io.Writer, o DriftClusterOptions) error {
	c, err := o.client(true)
	if err != nil {
		return err
	}
	if err := c.DriftCluster(ctx, o.Cluster, cloud.ClusterDrift{Tags: o.Tags, Version: o.Version, Delete: o.Delete}); err != nil {
		return err
	}
	if o.Delete {
		_, err = fmt.Fprintf(w, "cluster %s and its node pools deleted out of band\n", o.Cluster)
		return err
	}
	cl, err := c.GetCluster(ctx, o.Cluster)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "cluster %s changed out of band: version %s, tags %s; `pulumi refresh` will see it\n", o.Cluster, cl.Version, formatMap(cl.Tags))
	return err
}

func formatMap(m map[string]string) string {
	if len(m) == 0 {
		return "{}"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// ParseKeyValues parses k=v pairs, as given to --tag and --label.
func ParseKeyValues(pairs []string) (map[string]string, error) {
	if len(pairs) == 0 {
		return nil, nil
	}
	out := map[string]string{}
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, fmt.Errorf("%q: use key=value", p)
		}
		out[k] = v
	}
	return out, nil
}
