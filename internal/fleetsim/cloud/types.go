package cloud

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/flotilla-io/flotilla/internal/fleetsim/simapi"
)

// Taint is a node taint; the type is shared with the control-plane interface.
type Taint = simapi.Taint

// Capacity types of a node pool.
const (
	Spot     = "spot"
	OnDemand = "on-demand"
)

// Resource statuses, as the real clouds report them.
const (
	StatusCreating = "CREATING"
	StatusActive   = "ACTIVE"
	StatusUpdating = "UPDATING"
	StatusDeleting = "DELETING"
)

// Well-known node labels the simulated cloud puts on every node.
const (
	LabelPool         = "flotilla.io/pool"
	LabelCapacity     = "flotilla.io/capacity"
	LabelInstanceType = "node.kubernetes.io/instance-type"
	LabelZone         = "topology.kubernetes.io/zone"
	LabelRegion       = "topology.kubernetes.io/region"
	LabelHostname     = "kubernetes.io/hostname"
	// LabelNodePool names the node's pool in the cloud, as eks.amazonaws.com/nodegroup.
	LabelNodePool = simapi.LabelNodePool
)

// DefaultProvisionTimeout is how long, in simulated seconds, the cluster-autoscaler
// waits for a spot pool before it falls back (its --max-node-provision-time, 5m).
const DefaultProvisionTimeout = 300

// ClusterSpec is what a user asks for when creating or updating a cluster.
type ClusterSpec struct {
	Name        string            `json:"name"`
	Region      string            `json:"region"`
	Zones       []string          `json:"zones,omitempty"`
	Version     string            `json:"version,omitempty"`
	VpcCIDR     string            `json:"vpcCidr,omitempty"`
	PodCIDR     string            `json:"podCidr,omitempty"`
	ServiceCIDR string            `json:"serviceCidr,omitempty"`
	Tags        map[string]string `json:"tags,omitempty"`
}

// Cluster is a simulated managed-Kubernetes cluster.
type Cluster struct {
	ClusterSpec
	ID        string    `json:"id"`
	Status    string    `json:"status"`
	Operation string    `json:"operation,omitempty"` // the running operation, if any
	Created   time.Time `json:"created"`

	// Endpoint and Kubeconfig reach the cluster's Kubernetes API; in lite mode they are
	// placeholders. KubeVersion is the control-plane binary's version ("" in lite mode).
	Endpoint    string `json:"endpoint,omitempty"`
	Kubeconfig  string `json:"kubeconfig,omitempty"`
	KubeVersion string `json:"kubeVersion,omitempty"`
	PlaneReady  bool   `json:"planeReady,omitempty"`
	PlaneError  string `json:"planeError,omitempty"`
	PlaneGone   bool   `json:"planeGone,omitempty"` // the plane was torn down (deletion)
}

// NodePoolSpec is what a user asks for when creating or updating a node pool.
type NodePoolSpec struct {
	Name string `json:"name"`
	// Cluster names the pool's cluster: its id, "<region>/<name>", or a name unique
	// across regions. It is kept as given.
	Cluster       string            `json:"cluster"`
	CapacityType  string            `json:"capacityType,omitempty"`
	InstanceTypes []string          `json:"instanceTypes,omitempty"`
	Zones         []string          `json:"zones,omitempty"`
	MinSize       int               `json:"minSize"`
	MaxSize       int               `json:"maxSize"`
	DesiredSize   int               `json:"desiredSize"`
	Version       string            `json:"version,omitempty"`
	Labels        map[string]string `json:"labels,omitempty"`
	Taints        []Taint           `json:"taints,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
	// ProvisionTimeout is how long, in simulated seconds, the autoscaler waits for this
	// (spot) pool's nodes before its fallback pool takes over.
	ProvisionTimeout int `json:"provisionTimeout,omitempty"`
	// FallbackFor names the spot pool, in the same cluster, that this on-demand pool
	// backs during a spot shortage.
	FallbackFor string `json:"fallbackFor,omitempty"`
}

// NodePool is a simulated node pool (a node group).
type NodePool struct {
	NodePoolSpec
	ID        string    `json:"id"`
	ClusterID string    `json:"clusterId"`
	Status    string    `json:"status"`
	Operation string    `json:"operation,omitempty"`
	Created   time.Time `json:"created"`

	// ReadyNodes is how many nodes are running; FallbackNodes how many of them cover a
	// spot shortage of the pools this one backs. HourlyCost is ReadyNodes times the price.
	ReadyNodes    int     `json:"readyNodes"`
	FallbackNodes int     `json:"fallbackNodes,omitempty"`
	HourlyCost    float64 `json:"hourlyCost"`
	// ShortageSince is when a spot shortage took nodes from this (spot) pool.
	ShortageSince *time.Time `json:"shortageSince,omitempty"`
	// NodesVersion is the version the pool's Nodes run in the cluster's Kubernetes API,
	// as its control plane last reported ("" in lite mode). An upgrade of the pool ends
	// once its Nodes have been replaced by nodes of the new version.
	NodesVersion string `json:"nodesVersion,omitempty"`
}

// Operation kinds.
const (
	OpCreateCluster  = "CreateCluster"
	OpUpgradeCluster = "UpgradeCluster"
	OpUpdateCluster  = "UpdateCluster"
	OpDeleteCluster  = "DeleteCluster"
	OpCreateNodePool = "CreateNodePool"
	OpUpdateNodePool = "UpdateNodePool"
	OpDeleteNodePool = "DeleteNodePool"
)

// Operation statuses.
const (
	OpRunning = "RUNNING"
	OpDone    = "DONE"
	OpFailed  = "FAILED"
)

// Operation is a long-running change, as GKE's operations or EKS's updates.
type Operation struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	Target    string    `json:"target"` // the cluster or node pool id
	ClusterID string    `json:"clusterId"`
	Status    string    `json:"status"`
	Error     *Error    `json:"error,omitempty"`
	Started   time.Time `json:"started"`
	Until     time.Time `json:"until"` // when the simulated work is over
	Finished  time.Time `json:"finished,omitzero"`
	// FromVersion and ToVersion describe an upgrade.
	FromVersion string `json:"fromVersion,omitempty"`
	ToVersion   string `json:"toVersion,omitempty"`
	// Pool is the node pool's spec once an update completes.
	Pool *NodePoolSpec `json:"pool,omitempty"`
	// Token is the idempotency token of the request that started the operation.
	Token string `json:"token,omitempty"`
}

// Done reports whether the operation finished, successfully or not.
func (o *Operation) Done() bool { return o.Status != OpRunning }

// SpotShortage is a fault: spot capacity is gone in a region, or in one of its zones.
type SpotShortage struct {
	Region string `json:"region"`
	Zone   string `json:"zone,omitempty"`
}

// Unoffered is a fault: region stops offering version.
type Unoffered struct {
	Region  string `json:"region"`
	Version string `json:"version"`
}

// Faults are the injected failures in force.
type Faults struct {
	SpotShortages []SpotShortage `json:"spotShortages,omitempty"`
	// UpgradeFailures names clusters (by name or id) whose control-plane upgrades fail.
	UpgradeFailures []string `json:"upgradeFailures,omitempty"`
	// APIErrorRate is the probability, 0 to 1, that an API request is throttled.
	APIErrorRate float64 `json:"apiErrorRate,omitempty"`
	// APIErrorSeed seeds the generator behind APIErrorRate, for reproducible runs.
	APIErrorSeed int64       `json:"apiErrorSeed,omitempty"`
	Unoffered    []Unoffered `json:"unoffered,omitempty"`
}

// Empty reports whether no fault is in force.
func (f Faults) Empty() bool {
	return len(f.SpotShortages) == 0 && len(f.UpgradeFailures) == 0 && f.APIErrorRate == 0 && len(f.Unoffered) == 0
}

// State is the whole simulated cloud.
type State struct {
	Rev        int64                 `json:"rev"` // bumped by every committed change
	Clusters   map[string]*Cluster   `json:"clusters"`
	Pools      map[string]*NodePool  `json:"pools"`
	Operations map[string]*Operation `json:"operations"`
	Faults     Faults                `json:"faults"`
}

// NewState returns an empty cloud.
func NewState() *State {
	return &State{Clusters: map[string]*Cluster{}, Pools: map[string]*NodePool{}, Operations: map[string]*Operation{}}
}

// Normalize fills nil maps, as after decoding an older or hand-edited state file.
func (s *State) Normalize() {
	if s.Clusters == nil {
		s.Clusters = map[string]*Cluster{}
	}
	if s.Pools == nil {
		s.Pools = map[string]*NodePool{}
	}
	if s.Operations == nil {
		s.Operations = map[string]*Operation{}
	}
}

// Clone returns a deep copy of s.
func (s *State) Clone() *State {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // the state holds only JSON-safe values
	}
	c := NewState()
	if err := json.Unmarshal(b, c); err != nil {
		panic(err)
	}
	c.Normalize()
	return c
}

// Durations are how long operations take, in real time.
type Durations struct {
	ClusterCreate  time.Duration `json:"clusterCreate"`
	ClusterUpgrade time.Duration `json:"clusterUpgrade"`
	ClusterDelete  time.Duration `json:"clusterDelete"`
	PoolCreate     time.Duration `json:"poolCreate"` // also a pool update (a rolling replacement)
	PoolDelete     time.Duration `json:"poolDelete"`
}

// DefaultDurations are small enough for fast tests and in proportion to real clouds
// (a cluster takes ~15 minutes, an upgrade ~10, a node pool ~5).
func DefaultDurations() Durations {
	return Durations{
		ClusterCreate:  1500 * time.Millisecond,
		ClusterUpgrade: 1000 * time.Millisecond,
		ClusterDelete:  500 * time.Millisecond,
		PoolCreate:     500 * time.Millisecond,
		PoolDelete:     250 * time.Millisecond,
	}
}

// DefaultTimeScale is how many simulated seconds pass per real second: 600, so that a
// 5-minute provision timeout passes in half a second.
const DefaultTimeScale = 600

// Env is what a state change needs from the outside world.
type Env struct {
	Now       time.Time
	Durations Durations
	// TimeScale is simulated seconds per real second; it scales provision timeouts.
	TimeScale float64
	// NewID returns a new unique id starting with prefix.
	NewID func(prefix string) string
}

// SimToReal converts simulated seconds into real time.
func (e Env) SimToReal(seconds int) time.Duration {
	scale := e.TimeScale
	if scale <= 0 {
		scale = DefaultTimeScale
	}
	return time.Duration(float64(seconds) / scale * float64(time.Second))
}

func (e Env) newID(prefix string) string {
	if e.NewID == nil {
		return RandomID(prefix)
	}
	return e.NewID(prefix)
}

// RandomID returns prefix followed by 10 random hex digits.
func RandomID(prefix string) string {
	var b [5]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return prefix + hex.EncodeToString(b[:])
}
