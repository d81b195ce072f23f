package simcloud

import (
	"context"
	"time"

	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
)

// WaitForPlanes waits, up to timeout, until every simulated cluster that has a control
// plane serves it. A daemon that was stopped (`flotilla sim stop`) restarts its planes
// when it comes back, which takes seconds; an operation that reads a cluster meanwhile
// (a refresh of its Kubernetes resources) would fail on an API that is still starting.
// It starts the daemon when none runs. Clusters whose plane failed are not waited for:
// the health gate reports them. It returns how many planes it waited for.
func WaitForPlanes(ctx context.Context, c *client.Client, timeout time.Duration) (int, error) {
	deadline := time.Now().Add(timeout)
	waited := 0
	for {
		st, err := c.State(ctx)
		if err != nil {
			return waited, err
		}
		starting := 0
		for _, cl := range st.Clusters {
			if cl.Status == cloud.StatusDeleting || cl.PlaneGone || cl.PlaneError != "" || !hasKubeAPI(cl) {
				continue
			}
			if !cl.PlaneReady {
				starting++
			}
		}
		waited = max(waited, starting)
		if starting == 0 || time.Now().After(deadline) {
			return waited, nil
		}
		select {
		case <-ctx.Done():
			return waited, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
