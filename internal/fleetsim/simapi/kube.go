package simapi

import "context"

// Taint is a Kubernetes node taint as the simulated cloud stores it.
type Taint struct {
	Key    string `json:"key"`
	Value  string `json:"value,omitempty"`
	Effect string `json:"effect"` // NoSchedule, PreferNoSchedule or NoExecute
}

// LabelNodePool names the simulated node pool a Node belongs to, as
// eks.amazonaws.com/nodegroup or cloud.google.com/gke-nodepool do on the real clouds.
// The nodes replacing a pool's nodes in an upgrade are paired with them by it.
const LabelNodePool = "fleetsim.flotilla.io/nodepool"

// Node is one ready node of a simulated node pool, as it appears in the cluster's
// Kubernetes API (a kwok Node).
type Node struct {
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
	Taints []Taint           `json:"taints,omitempty"`
	// Capacity, equal to allocatable: CPU in millicores, memory in bytes, and pods.
	MilliCPU    int64 `json:"milliCPU"`
	MemoryBytes int64 `json:"memoryBytes"`
	Pods        int64 `json:"pods"`
	// KubeletVersion is the version the Node reports in status.nodeInfo, e.g. "v1.31.0":
	// its pool's simulated version. Empty leaves it to kwok.
	KubeletVersion string `json:"kubeletVersion,omitempty"`
}

// Plane is how to reach a simulated cluster's Kubernetes API.
type Plane struct {
	Endpoint   string `json:"endpoint"`   // https://127.0.0.1:<port>
	Kubeconfig string `json:"kubeconfig"` // works with client-go, kubectl and the Pulumi Kubernetes provider
	// BinaryVersion is the version of the kube-apiserver binary serving the cluster,
	// which differs from the cluster's simulated version.
	BinaryVersion string `json:"binaryVersion"`
	// PIDs of the plane's processes, by component (etcd, kube-apiserver, ...).
	PIDs map[string]int `json:"pids,omitempty"`
}

// Kube runs the Kubernetes control planes behind simulated clusters. The daemon calls it
// with its state lock released; implementations serialise per cluster themselves.
// The lite implementation (FLEETSIM_KUBE=off) returns a zero Plane and ignores nodes.
type Kube interface {
	// EnsurePlane starts the cluster's control plane, or adopts it when its processes
	// from an earlier daemon are still alive and healthy, and returns how to reach it.
	EnsurePlane(ctx context.Context, clusterID string) (Plane, error)
	// SyncNodes makes the cluster's Nodes exactly nodes: it adds, updates and removes.
	// Nodes of one pool (LabelNodePool) that replace others, as in an upgrade, come up
	// one at a time, each Ready before a node it replaces goes.
	SyncNodes(ctx context.Context, clusterID string, nodes []Node) error
	// DeletePlane stops the plane's processes by PID and removes its data.
	DeletePlane(ctx context.Context, clusterID string) error
}

// StoppedPlane is a control plane whose processes were stopped, with their PIDs by
// component. Its data stays, so that the plane can be started again on it.
type StoppedPlane struct {
	ClusterID string         `json:"clusterID"`
	PIDs      map[string]int `json:"pids"`
}

// PlaneStopper is a Kube whose control planes can all be stopped at once. The daemon
// stops them when it shuts down, so that no plane outlives it; the next daemon restarts
// them on their data.
type PlaneStopper interface {
	// StopPlanes stops every plane's processes by PID, waits until they are gone, and
	// returns what it stopped.
	StopPlanes(ctx context.Context) ([]StoppedPlane, error)
}
