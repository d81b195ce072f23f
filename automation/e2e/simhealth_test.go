package e2e_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/internal/simtest"
)

// simHealth reads a stack's clusters from the simulated cloud's own pool status.
func simHealth(sim *simtest.Sim) automation.HealthChecker {
	return automation.HealthFunc(func(ctx context.Context, s automation.StackRef, _ automation.Outputs) (automation.HealthReport, error) {
		st, err := sim.Client.State(ctx)
		if err != nil {
			return automation.HealthReport{}, err
		}
		rep := automation.HealthReport{Stack: s, Checked: time.Now()}
		for _, want := range wantClusters[s.Stack] {
			ch := automation.ClusterHealth{Name: want, Source: "cloud"}
			found := false
			for id, c := range st.Clusters {
				if c.Region+"/"+c.Name != want {
					continue
				}
				found = true
				ready, desired := 0, 0
				for _, p := range st.Pools {
					if p.ClusterID == id {
						ready += p.ReadyNodes
						desired += p.DesiredSize
						if p.FallbackFor == "" && p.ReadyNodes < p.DesiredSize {
							ch.Problems = append(ch.Problems, fmt.Sprintf("pool %s: %d/%d nodes", p.Name, p.ReadyNodes, p.DesiredSize))
						}
					}
				}
				ch.Summary = fmt.Sprintf("%d/%d nodes ready", ready, desired)
			}
			if !found {
				ch.Problems = append(ch.Problems, "no such cluster")
			}
			rep.Clusters = append(rep.Clusters, ch)
		}
		_ = strings.TrimSpace
		return rep, nil
	})
}

// simResolver finds nothing yet.
func simResolver(*simtest.Sim) automation.PendingResolver { return nil }
