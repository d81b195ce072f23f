package daemon

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
)

// Environment variables that configure the daemon.
const (
	EnvAddr          = "FLEETSIM_ADDR"           // listen address, 127.0.0.1:<port>
	EnvClusterCreate = "FLEETSIM_CLUSTER_CREATE" // e.g. 1.5s
	EnvUpgrade       = "FLEETSIM_UPGRADE"        // e.g. 1s
	EnvClusterDelete = "FLEETSIM_CLUSTER_DELETE" // e.g. 500ms
	EnvPoolCreate    = "FLEETSIM_POOL_CREATE"    // node pool create and update, e.g. 500ms
	EnvPoolDelete    = "FLEETSIM_POOL_DELETE"    // e.g. 250ms
	EnvTimeScale     = "FLEETSIM_TIME_SCALE"     // simulated seconds per real second, e.g. 600
)

// DurationsFromEnv returns the default durations overridden by the environment. A pool
// create duration set without a delete one also scales the delete (half of it); the
// same holds for clusters.
func DurationsFromEnv() (cloud.Durations, float64, error) {
	d := cloud.DefaultDurations()
	set := func(name string, into *time.Duration) error {
		v := os.Getenv(name)
		if v == "" {
			return nil
		}
		x, err := time.ParseDuration(v)
		if err != nil || x < 0 {
			return fmt.Errorf("%s=%q: use a Go duration such as 1.5s or 200ms", name, v)
		}
		*into = x
		return nil
	}
	for _, e := range []struct {
		name string
		into *time.Duration
	}{{EnvClusterCreate, &d.ClusterCreate}, {EnvUpgrade, &d.ClusterUpgrade}, {EnvPoolCreate, &d.PoolCreate}} {
		if err := set(e.name, e.into); err != nil {
			return d, 0, err
		}
	}
	d.ClusterDelete, d.PoolDelete = d.ClusterCreate/3, d.PoolCreate/2
	if err := set(EnvClusterDelete, &d.ClusterDelete); err != nil {
		return d, 0, err
	}
	if err := set(EnvPoolDelete, &d.PoolDelete); err != nil {
		return d, 0, err
	}
	scale := float64(cloud.DefaultTimeScale)
	if v := os.Getenv(EnvTimeScale); v != "" {
		x, err := strconv.ParseFloat(v, 64)
		if err != nil || x <= 0 {
			return d, 0, fmt.Errorf("%s=%q: use a positive number of simulated seconds per real second", EnvTimeScale, v)
		}
		scale = x
	}
	return d, scale, nil
}

// checkLoopback refuses to listen anywhere but on loopback: the simulator is a local
// service and has no authentication.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("listen address %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("listen address %q: the simulator listens on loopback only (e.g. 127.0.0.1:0)", addr)
	}
	return nil
}
