package cloud_test

import (
	"fmt"
	"time"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
)

func ExampleState_CreateCluster() {
	s := cloud.NewState()
	n := 0
	env := cloud.Env{
		Now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Durations: cloud.DefaultDurations(), TimeScale: cloud.DefaultTimeScale,
		NewID: func(prefix string) string { n++; return fmt.Sprint(prefix, n) },
	}
	op, err := s.CreateCluster(env, cloud.ClusterSpec{Name: "dev-east", Region: "sim-east-1", Version: "1.31"}, "")
	if err != nil {
		panic(err)
	}
	c := s.Clusters[op.Target]
	fmt.Println(c.Name, c.Status, c.Zones)

	// The daemon records the control plane; time passes.
	c.PlaneReady = true
	env.Now = env.Now.Add(env.Durations.ClusterCreate)
	s.Advance(env)
	fmt.Println(c.Name, c.Status, op.Status)

	_, err = s.UpdateCluster(env, c.ID, cloud.ClusterSpec{Version: "1.33"})
	fmt.Println(err)
	// Output:
	// dev-east CREATING [sim-east-1a sim-east-1b sim-east-1c]
	// dev-east ACTIVE DONE
	// cluster "dev-east": cannot upgrade from 1.31 to 1.33: the control plane upgrades one minor version at a time (next: 1.32)
}
