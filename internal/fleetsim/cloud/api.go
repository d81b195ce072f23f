package cloud

import "time"

// The bodies of the daemon's HTTP API. Resources travel as Cluster, NodePool and
// Operation; errors as ErrorResponse.

// CreateClusterRequest asks for a new cluster. Token makes retries safe.
type CreateClusterRequest struct {
	Spec  ClusterSpec `json:"spec"`
	Token string      `json:"token,omitempty"`
}

// CreateNodePoolRequest asks for a new node pool. Token makes retries safe.
type CreateNodePoolRequest struct {
	Spec  NodePoolSpec `json:"spec"`
	Token string       `json:"token,omitempty"`
}

// UpgradeFailureRequest sets the upgrade-failure fault on a cluster.
type UpgradeFailureRequest struct {
	Cluster string `json:"cluster"`
}

// APIErrorsRequest sets the api-errors fault.
type APIErrorsRequest struct {
	Rate float64 `json:"rate"`
	Seed int64   `json:"seed,omitempty"`
}

// ClearFaultsResponse says how many faults a clear removed.
type ClearFaultsResponse struct {
	Cleared int `json:"cleared"`
}

// OfferedVersionsResponse lists the Kubernetes minors a region offers now, oldest
// first, as GKE's serverConfig lists a location's valid versions.
type OfferedVersionsResponse struct {
	Region   string   `json:"region"`
	Versions []string `json:"versions"`
	// Default is the version a new cluster gets when it asks for none.
	Default string `json:"default"`
}

// ErrorResponse carries an API error.
type ErrorResponse struct {
	Error *Error `json:"error"`
}

// Health describes a running daemon.
type Health struct {
	Version   string    `json:"version"`
	PID       int       `json:"pid"`
	Addr      string    `json:"addr"`
	Home      string    `json:"home"`
	Started   time.Time `json:"started"`
	Kube      string    `json:"kube"` // "on" or "off" (lite mode)
	Durations Durations `json:"durations"`
	TimeScale float64   `json:"timeScale"`
}
