// Package cloud is fleetsim's model of a managed-Kubernetes cloud: its regions, zones and
// the Kubernetes versions each region offers, its instance types and prices, the rules
// its API enforces (version skew, immutability, unique names) and the simulated time its
// operations take. It performs no I/O: the daemon owns a State, calls its methods under
// one lock, and persists the result.
//
//	s := cloud.NewState()
//	env := cloud.Env{Now: time.Now(), Durations: cloud.DefaultDurations(), TimeScale: 600, NewID: cloud.RandomID}
//	op, err := s.CreateCluster(env, cloud.ClusterSpec{Name: "dev-east", Region: "sim-east-1", Version: "1.31"}, "")
//	// ... later, as time passes:
//	s.Advance(env)
package cloud

// Version is the version of the simulated cloud's API and of its provider plugin.
const Version = "0.1.0"
