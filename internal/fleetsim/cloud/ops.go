package cloud

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"
)

// Every method that changes the State leaves derived values (ready nodes, costs) as they
// were: callers run Advance after each change, as the daemon does before it persists.

// ClusterByRef finds a cluster by id, by "<region>/<name>", or by a name that is unique
// across regions.
func (s *State) ClusterByRef(ref string) (*Cluster, error) {
	if c, ok := s.Clusters[ref]; ok {
		return c, nil
	}
	if region, name, ok := strings.Cut(ref, "/"); ok {
		if c := s.clusterNamed(region, name); c != nil {
			return c, nil
		}
		return nil, Errorf(NotFound, "cluster %q not found in %s", name, region)
	}
	var found []*Cluster
	for _, c := range s.sortedClusters() {
		if c.Name == ref {
			found = append(found, c)
		}
	}
	switch len(found) {
	case 0:
		return nil, Errorf(NotFound, "cluster %q not found", ref)
	case 1:
		return found[0], nil
	}
	var where []string
	for _, c := range found {
		where = append(where, c.Region+"/"+c.Name)
	}
	return nil, Errorf(InvalidArgument, "cluster name %q exists in several regions; use its id or one of %s", ref, joinQuoted(where))
}

// PoolByRef finds a node pool by id or by "<cluster ref>/<pool name>".
func (s *State) PoolByRef(ref string) (*NodePool, error) {
	if p, ok := s.Pools[ref]; ok {
		return p, nil
	}
	i := strings.LastIndex(ref, "/")
	if i < 0 {
		return nil, Errorf(NotFound, "node pool %q not found (use its id or <cluster>/<pool>)", ref)
	}
	c, err := s.ClusterByRef(ref[:i])
	if err != nil {
		return nil, err
	}
	for _, p := range s.PoolsOf(c.ID) {
		if p.Name == ref[i+1:] {
			return p, nil
		}
	}
	return nil, Errorf(NotFound, "node pool %q not found in cluster %q", ref[i+1:], c.Name)
}

func (s *State) clusterNamed(region, name string) *Cluster {
	for _, c := range s.Clusters {
		if c.Region == region && c.Name == name {
			return c
		}
	}
	return nil
}

func (s *State) sortedClusters() []*Cluster {
	out := slices.Collect(maps.Values(s.Clusters))
	sort.Slice(out, func(i, j int) bool {
		if out[i].Region != out[j].Region {
			return out[i].Region < out[j].Region
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// SortedClusters returns the clusters ordered by region, then name.
func (s *State) SortedClusters() []*Cluster { return s.sortedClusters() }

// PoolsOf returns the node pools of a cluster, ordered by name.
func (s *State) PoolsOf(clusterID string) []*NodePool {
	var out []*NodePool
	for _, p := range s.Pools {
		if p.ClusterID == clusterID {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *State) opByToken(token string) *Operation {
	if token == "" {
		return nil
	}
	for _, op := range s.Operations {
		if op.Token == token {
			return op
		}
	}
	return nil
}

// busy refuses a change while another operation runs on the cluster: like GKE, the
// simulated cloud runs one operation per cluster at a time.
func (s *State) busy(c *Cluster) error {
	if c.Operation == "" {
		return nil
	}
	what := c.Operation
	if op, ok := s.Operations[c.Operation]; ok {
		what = describeOp(s, op)
	}
	return Errorf(ResourceInUse, "cluster %q: %s is in progress; try again when it finishes", c.Name, what)
}

func describeOp(s *State, op *Operation) string {
	switch op.Kind {
	case OpUpgradeCluster:
		return fmt.Sprintf("an upgrade from %s to %s", op.FromVersion, op.ToVersion)
	case OpCreateCluster:
		return "the cluster's creation"
	case OpDeleteCluster:
		return "the cluster's deletion"
	}
	name := op.Target
	if p, ok := s.Pools[op.Target]; ok {
		name = p.Name
	}
	switch op.Kind {
	case OpCreateNodePool:
		return fmt.Sprintf("the creation of node pool %q", name)
	case OpUpdateNodePool:
		return fmt.Sprintf("an update of node pool %q", name)
	case OpDeleteNodePool:
		return fmt.Sprintf("the deletion of node pool %q", name)
	}
	return "operation " + op.ID
}

func (s *State) newOp(env Env, kind, target, clusterID string, d time.Duration, token string) *Operation {
	op := &Operation{
		ID: env.newID("op-"), Kind: kind, Target: target, ClusterID: clusterID,
		Status: OpRunning, Started: env.Now, Until: env.Now.Add(d), Token: token,
	}
	s.Operations[op.ID] = op
	return op
}

func finish(op *Operation, now time.Time, err *Error) {
	op.Finished = now
	if err != nil {
		op.Status, op.Error = OpFailed, err
		return
	}
	op.Status = OpDone
}

// CreateCluster starts creating a cluster. A request repeated with the same non-empty
// token returns the first request's operation instead of creating a second cluster.
func (s *State) CreateCluster(env Env, spec ClusterSpec, token string) (*Operation, error) {
	if op := s.opByToken(token); op != nil {
		return op, nil
	}
	spec.Default()
	what := fmt.Sprintf("cluster %q", spec.Name)
	if err := spec.Validate().Err(what); err != nil {
		return nil, err
	}
	if c := s.clusterNamed(spec.Region, spec.Name); c != nil {
		return nil, Errorf(AlreadyExists, "cluster %q already exists in %s (id %s); cluster names are unique per region", spec.Name, spec.Region, c.ID)
	}
	if err := s.checkOffered(what, spec.Region, spec.Version); err != nil {
		return nil, err
	}
	c := &Cluster{ClusterSpec: spec, ID: env.newID("cl-"), Status: StatusCreating, Created: env.Now}
	op := s.newOp(env, OpCreateCluster, c.ID, c.ID, env.Durations.ClusterCreate, token)
	c.Operation = op.ID
	s.Clusters[c.ID] = c
	return op, nil
}

// UpdateCluster changes a cluster towards spec. Empty fields of spec keep their value,
// except Tags, which spec replaces. Tags change at once; a new version starts an
// upgrade. Region, zones and address ranges are immutable.
func (s *State) UpdateCluster(env Env, id string, spec ClusterSpec) (*Operation, error) {
	c, ok := s.Clusters[id]
	if !ok {
		return nil, Errorf(NotFound, "cluster %q not found", id)
	}
	if c.Status == StatusDeleting {
		return nil, Errorf(FailedPrecondition, "cluster %q is being deleted", c.Name)
	}
	if err := s.busy(c); err != nil {
		return nil, err
	}
	what := fmt.Sprintf("cluster %q", c.Name)
	immutable := []struct{ field, old, new string }{
		{"name", c.Name, spec.Name},
		{"region", c.Region, spec.Region},
		{"zones", strings.Join(c.Zones, ","), strings.Join(spec.Zones, ",")},
		{"vpcCidr", c.VpcCIDR, spec.VpcCIDR},
		{"podCidr", c.PodCIDR, spec.PodCIDR},
		{"serviceCidr", c.ServiceCIDR, spec.ServiceCIDR},
	}
	for _, f := range immutable {
		if f.new != "" && f.new != f.old {
			return nil, Errorf(InvalidArgument, "%s: %s is immutable (%s → %s); replace the cluster instead", what, f.field, f.old, f.new)
		}
	}
	var fe FieldErrors
	checkTags(&fe, spec.Tags)
	if err := fe.Err(what); err != nil {
		return nil, err
	}
	to := spec.Version
	if to != "" && to != c.Version {
		if err := CheckUpgrade(c, to, s.PoolsOf(c.ID)); err != nil {
			return nil, err
		}
		if err := s.checkOffered(what, c.Region, to); err != nil {
			return nil, err
		}
	}
	c.Tags = maps.Clone(spec.Tags)
	if to == "" || to == c.Version {
		op := s.newOp(env, OpUpdateCluster, c.ID, c.ID, 0, "")
		finish(op, env.Now, nil)
		return op, nil
	}
	op := s.newOp(env, OpUpgradeCluster, c.ID, c.ID, env.Durations.ClusterUpgrade, "")
	op.FromVersion, op.ToVersion = c.Version, to
	c.Status, c.Operation = StatusUpdating, op.ID
	return op, nil
}

// DeleteCluster starts deleting a cluster. Like EKS, the cloud refuses while node pools
// exist. Deleting a cluster that is already being deleted returns that operation.
func (s *State) DeleteCluster(env Env, id string) (*Operation, error) {
	c, ok := s.Clusters[id]
	if !ok {
		return nil, Errorf(NotFound, "cluster %q not found", id)
	}
	if c.Status == StatusDeleting {
		if op, ok := s.Operations[c.Operation]; ok {
			return op, nil
		}
	}
	if err := s.busy(c); err != nil {
		return nil, err
	}
	if pools := s.PoolsOf(c.ID); len(pools) > 0 {
		var names []string
		for _, p := range pools {
			names = append(names, p.Name)
		}
		return nil, Errorf(FailedPrecondition, "cluster %q: cannot delete a cluster that has node pools (%s); delete them first", c.Name, joinQuoted(names))
	}
	op := s.newOp(env, OpDeleteCluster, c.ID, c.ID, env.Durations.ClusterDelete, "")
	c.Status, c.Operation = StatusDeleting, op.ID
	return op, nil
}

// CreateNodePool starts creating a node pool. Zones default to the cluster's and the
// version to the control plane's. A repeated token returns the first operation.
func (s *State) CreateNodePool(env Env, spec NodePoolSpec, token string) (*Operation, error) {
	if op := s.opByToken(token); op != nil {
		return op, nil
	}
	spec.Default()
	what := fmt.Sprintf("node pool %q", spec.Name)
	if err := spec.Validate().Err(what); err != nil {
		return nil, err
	}
	c, err := s.ClusterByRef(spec.Cluster)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if c.Status == StatusDeleting {
		return nil, Errorf(FailedPrecondition, "%s: cluster %q is being deleted", what, c.Name)
	}
	if err := s.busy(c); err != nil {
		return nil, err
	}
	if len(spec.Zones) == 0 {
		spec.Zones = slices.Clone(c.Zones)
	}
	for _, z := range spec.Zones {
		if !slices.Contains(c.Zones, z) {
			return nil, Errorf(InvalidArgument, "%s: zone %q is not one of cluster %q's zones (%s)", what, z, c.Name, joinQuoted(c.Zones))
		}
	}
	if spec.Version == "" {
		spec.Version = c.Version
	}
	if err := CheckPoolVersion(spec.Name, c.Version, spec.Version, ""); err != nil {
		return nil, err
	}
	if err := s.checkOffered(what, c.Region, spec.Version); err != nil {
		return nil, err
	}
	for _, p := range s.PoolsOf(c.ID) {
		if p.Name == spec.Name {
			return nil, Errorf(AlreadyExists, "node pool %q already exists in cluster %q (id %s)", spec.Name, c.Name, p.ID)
		}
	}
	p := &NodePool{NodePoolSpec: spec, ID: env.newID("np-"), ClusterID: c.ID, Status: StatusCreating, Created: env.Now}
	op := s.newOp(env, OpCreateNodePool, p.ID, c.ID, env.Durations.PoolCreate, token)
	p.Operation, c.Operation = op.ID, op.ID
	s.Pools[p.ID] = p
	return op, nil
}

// UpdateNodePool changes a node pool towards spec, which is the whole desired spec;
// empty Name, Cluster, Zones, CapacityType and Version keep their value. Tags, the
// provision timeout and the fallback change at once; sizes, version, labels and taints
// roll the pool. Capacity type, zones and instance types are immutable.
func (s *State) UpdateNodePool(env Env, id string, spec NodePoolSpec) (*Operation, error) {
	p, ok := s.Pools[id]
	if !ok {
		return nil, Errorf(NotFound, "node pool %q not found", id)
	}
	what := fmt.Sprintf("node pool %q", p.Name)
	if p.Status == StatusDeleting {
		return nil, Errorf(FailedPrecondition, "%s is being deleted", what)
	}
	c := s.Clusters[p.ClusterID]
	if err := s.busy(c); err != nil {
		return nil, err
	}
	if spec.Cluster != "" && spec.Cluster != p.Cluster {
		if nc, err := s.ClusterByRef(spec.Cluster); err != nil || nc.ID != c.ID {
			return nil, Errorf(InvalidArgument, "%s: cluster is immutable (%s → %s); replace the node pool instead", what, p.Cluster, spec.Cluster)
		}
	}
	if spec.Name == "" {
		spec.Name = p.Name
	}
	if spec.Cluster == "" {
		spec.Cluster = p.Cluster
	}
	if spec.CapacityType == "" {
		spec.CapacityType = p.CapacityType
	}
	if len(spec.Zones) == 0 {
		spec.Zones = p.Zones
	}
	if spec.Version == "" {
		spec.Version = p.Version
	}
	spec.Default()
	immutable := []struct{ field, old, new string }{
		{"name", p.Name, spec.Name},
		{"capacityType", p.CapacityType, spec.CapacityType},
		{"zones", strings.Join(p.Zones, ","), strings.Join(spec.Zones, ",")},
		{"instanceTypes", strings.Join(p.InstanceTypes, ","), strings.Join(spec.InstanceTypes, ",")},
	}
	for _, f := range immutable {
		if f.new != f.old {
			return nil, Errorf(InvalidArgument, "%s: %s is immutable (%s → %s); replace the node pool instead", what, f.field, f.old, f.new)
		}
	}
	if err := spec.Validate().Err(what); err != nil {
		return nil, err
	}
	if spec.Version != p.Version {
		if err := CheckPoolVersion(p.Name, c.Version, spec.Version, p.Version); err != nil {
			return nil, err
		}
		if err := s.checkOffered(what, c.Region, spec.Version); err != nil {
			return nil, err
		}
	}
	rolling := spec.MinSize != p.MinSize || spec.MaxSize != p.MaxSize || spec.DesiredSize != p.DesiredSize ||
		spec.Version != p.Version || !maps.Equal(spec.Labels, p.Labels) || !slices.Equal(spec.Taints, p.Taints)
	// What a pool update does not roll takes effect at once.
	p.Tags = maps.Clone(spec.Tags)
	p.ProvisionTimeout = spec.ProvisionTimeout
	p.FallbackFor = spec.FallbackFor
	if !rolling {
		op := s.newOp(env, OpUpdateNodePool, p.ID, c.ID, 0, "")
		finish(op, env.Now, nil)
		return op, nil
	}
	op := s.newOp(env, OpUpdateNodePool, p.ID, c.ID, env.Durations.PoolCreate, "")
	target := spec
	op.Pool = &target
	if spec.Version != p.Version {
		op.FromVersion, op.ToVersion = p.Version, spec.Version
	}
	p.Status, p.Operation, c.Operation = StatusUpdating, op.ID, op.ID
	return op, nil
}

// DeleteNodePool starts deleting a node pool; its nodes drain at once.
func (s *State) DeleteNodePool(env Env, id string) (*Operation, error) {
	p, ok := s.Pools[id]
	if !ok {
		return nil, Errorf(NotFound, "node pool %q not found", id)
	}
	if p.Status == StatusDeleting {
		if op, ok := s.Operations[p.Operation]; ok {
			return op, nil
		}
	}
	c := s.Clusters[p.ClusterID]
	if err := s.busy(c); err != nil {
		return nil, err
	}
	op := s.newOp(env, OpDeleteNodePool, p.ID, c.ID, env.Durations.PoolDelete, "")
	p.Status, p.Operation, c.Operation = StatusDeleting, op.ID, op.ID
	return op, nil
}

// upgradeFails reports whether an upgrade-failure fault names cluster c.
func (s *State) upgradeFails(c *Cluster) bool {
	for _, f := range s.Faults.UpgradeFailures {
		if f == c.ID || f == c.Name || f == c.Region+"/"+c.Name {
			return true
		}
	}
	return false
}

// complete finishes a running operation whose time is up, and reports whether it changed
// the state. An operation that still waits for something outside the model (a control
// plane, a pool's Nodes) stays running.
func (s *State) complete(env Env, op *Operation) bool {
	c := s.Clusters[op.ClusterID]
	if c == nil {
		finish(op, env.Now, Errorf(Internal, "cluster %s vanished during %s", op.ClusterID, op.Kind))
		return true
	}
	release := func() {
		if c.Operation == op.ID {
			c.Operation = ""
		}
	}
	switch op.Kind {
	case OpCreateCluster:
		if c.PlaneError != "" {
			finish(op, env.Now, Errorf(OperationFailed, "cluster %q: creation failed: the control plane did not start: %s", c.Name, c.PlaneError))
			c.Status = StatusDeleting
			release()
			return true
		}
		if !c.PlaneReady {
			return false
		}
		c.Status = StatusActive
	case OpUpgradeCluster:
		c.Status = StatusActive
		if s.upgradeFails(c) {
			finish(op, env.Now, Errorf(OperationFailed, "cluster %q: upgrade from %s to %s failed: the new control plane did not become healthy and was rolled back; the cluster stays at %s", c.Name, op.FromVersion, op.ToVersion, op.FromVersion))
			release()
			return true
		}
		c.Version = op.ToVersion
	case OpDeleteCluster:
		if !c.PlaneGone {
			return false
		}
		delete(s.Clusters, c.ID)
	case OpCreateNodePool, OpUpdateNodePool, OpDeleteNodePool:
		p := s.Pools[op.Target]
		if p != nil {
			switch op.Kind {
			case OpUpdateNodePool:
				applied := false
				if op.Pool != nil && !reflect.DeepEqual(p.NodePoolSpec, *op.Pool) {
					p.NodePoolSpec, applied = *op.Pool, true
				}
				if waitsForNodes(c, p, op) {
					// The pool now asks for nodes of the new version; the upgrade lasts
					// until the control plane has rolled them in.
					return applied
				}
				fallthrough
			case OpCreateNodePool:
				p.Status = StatusActive
				if p.Operation == op.ID {
					p.Operation = ""
				}
			case OpDeleteNodePool:
				delete(s.Pools, p.ID)
			}
		}
	}
	release()
	finish(op, env.Now, nil)
	return true
}

// waitsForNodes reports whether a pool's upgrade still waits for its Nodes in the
// cluster's Kubernetes API to run the new version, as a managed cloud's node-pool
// upgrade ends only once the last node has been replaced. Clusters without a real
// control plane (lite mode) have no Nodes to wait for, and a plane that is down is not
// waited for: its Nodes roll in when it is back.
func waitsForNodes(c *Cluster, p *NodePool, op *Operation) bool {
	return op.ToVersion != "" && c.KubeVersion != "" && c.PlaneReady && p.NodesVersion != op.ToVersion
}

// Advance moves the cloud to env.Now: it completes operations whose time is up, removes
// deleted clusters whose control plane is gone, applies spot shortages and their
// fallbacks, and recomputes ready nodes and costs. It reports whether anything changed.
func (s *State) Advance(env Env) bool {
	changed := false
	ops := slices.Collect(maps.Values(s.Operations))
	sort.Slice(ops, func(i, j int) bool {
		return ops[i].Started.Before(ops[j].Started) || (ops[i].Started.Equal(ops[j].Started) && ops[i].ID < ops[j].ID)
	})
	for _, op := range ops {
		if op.Status == OpRunning && !env.Now.Before(op.Until) && s.complete(env, op) {
			changed = true
		}
	}
	for id, c := range s.Clusters {
		if c.Status == StatusDeleting && c.Operation == "" && c.PlaneGone {
			delete(s.Clusters, id)
			changed = true
		}
	}
	if s.derive(env) {
		changed = true
	}
	if s.prune() {
		changed = true
	}
	return changed
}

// keepOps is how many finished operations, other than upgrades, the cloud remembers;
// keepUpgrades how many finished upgrades (of control planes and node pools). Upgrades
// are kept longer so that a fleet's upgrade history, the order in which its control
// planes and pools moved, outlives the many small updates around it.
const (
	keepOps      = 200
	keepUpgrades = 1000
)

// prune forgets the oldest finished operations beyond keepOps and keepUpgrades; it
// reports whether it did.
func (s *State) prune() bool {
	var finished, upgrades []*Operation
	for _, op := range s.Operations {
		switch {
		case !op.Done():
		case op.ToVersion != "":
			upgrades = append(upgrades, op)
		default:
			finished = append(finished, op)
		}
	}
	pruned := false
	for _, list := range []struct {
		ops  []*Operation
		keep int
	}{{finished, keepOps}, {upgrades, keepUpgrades}} {
		if len(list.ops) <= list.keep {
			continue
		}
		sort.Slice(list.ops, func(i, j int) bool { return list.ops[i].Finished.Before(list.ops[j].Finished) })
		for _, op := range list.ops[:len(list.ops)-list.keep] {
			delete(s.Operations, op.ID)
		}
		pruned = true
	}
	return pruned
}

// NextDue returns the earliest moment after the time of the last Advance (after) at
// which Advance has something to do on its own: an operation's time running out or a
// fallback's provision timeout passing. It returns the zero time when nothing is
// scheduled. Work that waits for a control plane is not scheduled: the plane's arrival
// is itself a change. The result may lie in the past when Advance is late.
func (s *State) NextDue(env Env, after time.Time) time.Time {
	var next time.Time
	consider := func(t time.Time) {
		if t.After(after) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, op := range s.Operations {
		if op.Status == OpRunning {
			consider(op.Until)
		}
	}
	for _, p := range s.Pools {
		if p.ShortageSince != nil {
			consider(p.ShortageSince.Add(env.SimToReal(p.ProvisionTimeout)))
		}
	}
	return next
}
