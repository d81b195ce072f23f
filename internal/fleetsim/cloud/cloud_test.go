package cloud_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

// world is a State with a controllable clock and predictable ids.
type world struct {
	t   *testing.T
	s   *cloud.State
	env cloud.Env
	n   int
}

func newWorld(t *testing.T) *world {
	w := &world{t: t, s: cloud.NewState()}
	w.env = cloud.Env{Now: t0, Durations: cloud.DefaultDurations(), TimeScale: cloud.DefaultTimeScale}
	w.env.NewID = func(prefix string) string { w.n++; return fmt.Sprintf("%s%d", prefix, w.n) }
	return w
}

// wait moves the clock by d and advances the cloud, marking control planes ready as a
// lite daemon would.
func (w *world) wait(d time.Duration) {
	w.env.Now = w.env.Now.Add(d)
	for _, c := range w.s.Clusters {
		c.PlaneReady = true
		if c.Status == cloud.StatusDeleting {
			c.PlaneGone = true
		}
	}
	w.s.Advance(w.env)
}

func (w *world) cluster(name, region, version string) *cloud.Cluster {
	w.t.Helper()
	op, err := w.s.CreateCluster(w.env, cloud.ClusterSpec{Name: name, Region: region, Version: version}, "")
	require.NoError(w.t, err)
	w.wait(w.env.Durations.ClusterCreate)
	require.Equal(w.t, cloud.OpDone, op.Status)
	return w.s.Clusters[op.Target]
}

func (w *world) pool(spec cloud.NodePoolSpec) *cloud.NodePool {
	w.t.Helper()
	op, err := w.s.CreateNodePool(w.env, spec, "")
	require.NoError(w.t, err)
	w.wait(w.env.Durations.PoolCreate)
	require.Equal(w.t, cloud.OpDone, op.Status, "%+v", op.Error)
	return w.s.Pools[op.Target]
}

func spotPool(cluster string, desired int) cloud.NodePoolSpec {
	return cloud.NodePoolSpec{
		Name: "app-spot", Cluster: cluster, CapacityType: cloud.Spot, InstanceTypes: []string{"m6i.large"},
		MinSize: 0, MaxSize: 10, DesiredSize: desired, Labels: map[string]string{cloud.LabelPool: "app"},
		Taints: []cloud.Taint{{Key: "flotilla.io/spot", Value: "true", Effect: "NoSchedule"}},
	}
}

func fallbackPool(cluster string, maxSize int) cloud.NodePoolSpec {
	return cloud.NodePoolSpec{
		Name: "app-fallback", Cluster: cluster, CapacityType: cloud.OnDemand, InstanceTypes: []string{"m6i.large"},
		MinSize: 0, MaxSize: maxSize, DesiredSize: 0, Labels: map[string]string{cloud.LabelPool: "app"},
	}
}

func TestParseMinor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"1.31", "1.31", true},
		{"1.9", "1.9", true},
		{"1.31.2", "", false},
		{"v1.31", "", false},
		{"2.1", "", false},
		{"1.031", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, err := cloud.ParseMinor(tt.in)
		if !tt.ok {
			assert.Error(t, err, tt.in)
			continue
		}
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.want, got.String())
	}
}

func TestRegionsZonesAndOfferedVersions(t *testing.T) {
	t.Parallel()
	assert.Equal(t, []string{"sim-east-1", "sim-west-1", "sim-central-1", "sim-eu-1", "sim-ap-1"}, cloud.Regions())
	assert.Equal(t, []string{"sim-eu-1a", "sim-eu-1b", "sim-eu-1c"}, cloud.Zones("sim-eu-1"))
	assert.Equal(t, "sim-ap-1", cloud.RegionOfZone("sim-ap-1c"))
	assert.Nil(t, cloud.Zones("us-east-1"))

	s := cloud.NewState()
	for _, r := range cloud.Regions() {
		for _, v := range []string{"1.29", "1.30", "1.31", "1.32", "1.33"} {
			assert.True(t, s.Offered(r, v), "%s %s", r, v)
		}
		assert.False(t, s.Offered(r, "1.28"))
	}
	assert.True(t, s.Offered("sim-east-1", "1.34"))
	assert.False(t, s.Offered("sim-central-1", "1.34"))
	require.NoError(t, s.Unoffer("sim-east-1", "1.34"))
	assert.False(t, s.Offered("sim-east-1", "1.34"))
	assert.Equal(t, []string{"1.29", "1.30", "1.31", "1.32", "1.33"}, s.OfferedVersions("sim-east-1"))
}

func TestInstanceTypes(t *testing.T) {
	t.Parallel()
	require.GreaterOrEqual(t, len(cloud.InstanceTypes()), 15)
	for _, it := range cloud.InstanceTypes() {
		discount := 1 - it.Spot/it.OnDemand
		assert.True(t, discount >= 0.55 && discount <= 0.75, "%s: spot discount %.2f", it.Name, discount)
		assert.Positive(t, it.MilliCPU)
		assert.Positive(t, it.MaxPods)
	}
	for _, name := range []string{"m6i.large", "m6i.xlarge", "c6i.xlarge", "m5.large", "r6i.large", "n2-standard-4", "e2-standard-4", "c2-standard-8", "Standard_D4s_v5", "Standard_D8s_v5", "Standard_F8s_v2"} {
		_, err := cloud.LookupInstanceType(name)
		assert.NoError(t, err, name)
	}
	_, err := cloud.LookupInstanceType("m9z.huge")
	assert.ErrorContains(t, err, `instance type "m9z.huge" is not sold by the simulated cloud`)
}

func TestCheckUpgrade(t *testing.T) {
	t.Parallel()
	c := &cloud.Cluster{ClusterSpec: cloud.ClusterSpec{Name: "dev-east", Version: "1.31"}}
	old := &cloud.NodePool{NodePoolSpec: cloud.NodePoolSpec{Name: "legacy", Version: "1.29"}}
	oldest := &cloud.NodePool{NodePoolSpec: cloud.NodePoolSpec{Name: "ancient", Version: "1.28"}}
	tests := []struct {
		name  string
		to    string
		pools []*cloud.NodePool
		want  string
	}{
		{"same version", "1.31", nil, ""},
		{"one minor", "1.32", []*cloud.NodePool{old}, ""},
		{"two minors", "1.33", nil, `cluster "dev-east": cannot upgrade from 1.31 to 1.33: the control plane upgrades one minor version at a time (next: 1.32)`},
		{"downgrade", "1.30", nil, `cluster "dev-east": cannot downgrade from 1.31 to 1.30: a control plane never downgrades`},
		{"pool left behind", "1.32", []*cloud.NodePool{oldest}, `cluster "dev-east": cannot upgrade to 1.32: node pool "ancient" is at 1.28 and would fall 4 minor versions behind the control plane (at most 3); upgrade the node pool first`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := cloud.CheckUpgrade(c, tt.to, tt.pools)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, cloud.IsFailedPrecondition(err))
			assert.Equal(t, tt.want, err.Error())
		})
	}
}

func TestCheckPoolVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		cp, v, from  string
		wantContains string
	}{
		{"equal", "1.31", "1.31", "", ""},
		{"three behind", "1.32", "1.29", "", ""},
		{"four behind", "1.33", "1.29", "", `node pool "p": version 1.29 is 4 minor versions behind its control plane (1.33); at most 3 are allowed`},
		{"newer than control plane", "1.31", "1.32", "", `node pool "p": version 1.32 is newer than its control plane (1.31); upgrade the cluster first`},
		{"downgrade", "1.32", "1.30", "1.31", `node pool "p": cannot downgrade from 1.31 to 1.30`},
		{"upgrade two minors", "1.33", "1.33", "1.31", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := cloud.CheckPoolVersion("p", tt.cp, tt.v, tt.from)
			if tt.wantContains == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorContains(t, err, tt.wantContains)
			assert.True(t, cloud.IsFailedPrecondition(err))
		})
	}
}

func TestClusterSpecValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec cloud.ClusterSpec
		want []string // substrings, one per expected problem
	}{
		{"defaults are valid", cloud.ClusterSpec{Name: "dev-east", Region: "sim-east-1"}, nil},
		{"unknown region", cloud.ClusterSpec{Name: "a", Region: "us-east-1"}, []string{`region: "us-east-1" is not a region of the simulated cloud`}},
		{"zone of another region", cloud.ClusterSpec{Name: "a", Region: "sim-east-1", Zones: []string{"sim-west-1a"}}, []string{`zones: "sim-west-1a" is not a zone of sim-east-1`}},
		{"bad name and version", cloud.ClusterSpec{Name: "Dev_East", Region: "sim-east-1", Version: "1.31.4"}, []string{`name: "Dev_East" must be lowercase`, `version: version "1.31.4": use a Kubernetes minor version`}},
		{"host bits", cloud.ClusterSpec{Name: "a", Region: "sim-east-1", VpcCIDR: "10.0.0.1/16"}, []string{`vpcCidr: "10.0.0.1/16" has host bits set; did you mean "10.0.0.0/16"?`}},
		{"service overlaps vpc", cloud.ClusterSpec{Name: "a", Region: "sim-east-1", VpcCIDR: "10.0.0.0/16", ServiceCIDR: "10.0.128.0/20"}, []string{`serviceCidr: 10.0.128.0/20 overlaps the VPC range 10.0.0.0/16`}},
		{"prefix too wide", cloud.ClusterSpec{Name: "a", Region: "sim-east-1", VpcCIDR: "10.0.0.0/8"}, []string{`vpcCidr: "10.0.0.0/8": the prefix length must be between /16 and /28`}},
		{"empty tag key", cloud.ClusterSpec{Name: "a", Region: "sim-east-1", Tags: map[string]string{"": "x"}}, []string{"tags: a tag key is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			spec := tt.spec
			spec.Default()
			fe := spec.Validate()
			require.Len(t, fe, len(tt.want), "%v", fe)
			err := fe.Err("cluster")
			for _, w := range tt.want {
				assert.ErrorContains(t, err, w)
			}
		})
	}
}

func TestNodePoolSpecValidate(t *testing.T) {
	t.Parallel()
	base := func() cloud.NodePoolSpec { return spotPool("c", 2) }
	tests := []struct {
		name   string
		mutate func(*cloud.NodePoolSpec)
		want   []string
	}{
		{"valid", func(*cloud.NodePoolSpec) {}, nil},
		{"capacity type", func(p *cloud.NodePoolSpec) { p.CapacityType = "preemptible" }, []string{`capacityType: "preemptible" is not a capacity type; use "spot" or "on-demand"`}},
		{"unknown instance type", func(p *cloud.NodePoolSpec) { p.InstanceTypes = []string{"m9z.huge"} }, []string{`instanceTypes: instance type "m9z.huge" is not sold`}},
		{"sizes", func(p *cloud.NodePoolSpec) { p.DesiredSize = 11 }, []string{"desiredSize: 11 is outside [minSize, maxSize] = [0, 10]"}},
		{"min above max", func(p *cloud.NodePoolSpec) { p.MinSize = 12 }, []string{"minSize: 12 is above maxSize 10"}},
		{"reserved label", func(p *cloud.NodePoolSpec) { p.Labels = map[string]string{cloud.LabelZone: "x"} }, []string{`"topology.kubernetes.io/zone" is set by the cloud`}},
		{"capacity label mismatch", func(p *cloud.NodePoolSpec) { p.Labels = map[string]string{cloud.LabelCapacity: "on-demand"} }, []string{`"flotilla.io/capacity" is "on-demand" but the pool's capacity type is "spot"`}},
		{"bad taint", func(p *cloud.NodePoolSpec) { p.Taints = []cloud.Taint{{Key: "spot", Effect: "Sometimes"}} }, []string{`taint "spot": effect "Sometimes" is not one of`}},
		{"fallback on spot", func(p *cloud.NodePoolSpec) { p.FallbackFor = "other" }, []string{`fallbackFor: only an on-demand pool can back a spot pool`}},
		{"many problems at once", func(p *cloud.NodePoolSpec) { p.Name = ""; p.Cluster = ""; p.InstanceTypes = nil }, []string{"name: a name is required", "cluster: a node pool needs a cluster", "instanceTypes: at least one instance type is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := base()
			tt.mutate(&p)
			p.Default()
			fe := p.Validate()
			require.Len(t, fe, len(tt.want), "%v", fe)
			for _, w := range tt.want {
				assert.ErrorContains(t, fe.Err("node pool"), w)
			}
		})
	}
}

func TestDefaultPoolSizes(t *testing.T) {
	t.Parallel()
	i := func(v int) *int { return &v }
	tests := []struct {
		name          string
		mn, mx, d     *int
		wMin, wMax, w int
	}{
		{"nothing given", nil, nil, nil, 1, 2, 1},
		{"desired only", nil, nil, i(5), 1, 5, 5},
		{"desired zero", nil, nil, i(0), 0, 2, 0},
		{"min and max", i(0), i(10), nil, 0, 10, 0},
		{"all", i(1), i(4), i(3), 1, 4, 3},
	}
	for _, tt := range tests {
		mn, mx, d := cloud.DefaultPoolSizes(tt.mn, tt.mx, tt.d)
		assert.Equal(t, []int{tt.wMin, tt.wMax, tt.w}, []int{mn, mx, d}, tt.name)
	}
}

func TestClusterNamesAreUniquePerRegion(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.cluster("dev", "sim-east-1", "1.31")
	_, err := w.s.CreateCluster(w.env, cloud.ClusterSpec{Name: "dev", Region: "sim-east-1"}, "")
	require.Error(t, err)
	assert.True(t, cloud.IsAlreadyExists(err))
	assert.Contains(t, err.Error(), `cluster "dev" already exists in sim-east-1`)

	west := w.cluster("dev", "sim-west-1", "1.31")
	assert.Equal(t, "sim-west-1", west.Region)
	_, err = w.s.ClusterByRef("dev")
	assert.ErrorContains(t, err, `cluster name "dev" exists in several regions; use its id or one of "sim-east-1/dev", "sim-west-1/dev"`)
	got, err := w.s.ClusterByRef("sim-west-1/dev")
	require.NoError(t, err)
	assert.Equal(t, west.ID, got.ID)
}

func TestCreateIsIdempotentByToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	spec := cloud.ClusterSpec{Name: "dev", Region: "sim-east-1"}
	op1, err := w.s.CreateCluster(w.env, spec, "tok-1")
	require.NoError(t, err)
	op2, err := w.s.CreateCluster(w.env, spec, "tok-1")
	require.NoError(t, err)
	assert.Equal(t, op1.ID, op2.ID)
	assert.Len(t, w.s.Clusters, 1)
}

func TestClusterCreateTakesSimulatedTimeAndWaitsForThePlane(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	op, err := w.s.CreateCluster(w.env, cloud.ClusterSpec{Name: "dev", Region: "sim-eu-1"}, "")
	require.NoError(t, err)
	c := w.s.Clusters[op.Target]
	assert.Equal(t, cloud.StatusCreating, c.Status)
	assert.Equal(t, []string{"sim-eu-1a", "sim-eu-1b", "sim-eu-1c"}, c.Zones)
	assert.Equal(t, cloud.DefaultVersion, c.Version)
	assert.Equal(t, w.env.Now.Add(w.env.Durations.ClusterCreate), w.s.NextDue(w.env, w.env.Now))

	w.env.Now = w.env.Now.Add(w.env.Durations.ClusterCreate)
	w.s.Advance(w.env) // time is up but the control plane is not ready
	assert.Equal(t, cloud.StatusCreating, c.Status)
	assert.Equal(t, cloud.OpRunning, op.Status)

	c.PlaneReady = true
	assert.True(t, w.s.Advance(w.env))
	assert.Equal(t, cloud.StatusActive, c.Status)
	assert.Equal(t, cloud.OpDone, op.Status)
	assert.Empty(t, c.Operation)
}

func TestClusterCreateFailsWhenThePlaneFails(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	op, err := w.s.CreateCluster(w.env, cloud.ClusterSpec{Name: "dev", Region: "sim-eu-1"}, "")
	require.NoError(t, err)
	c := w.s.Clusters[op.Target]
	c.PlaneError = "etcd: address in use"
	w.env.Now = w.env.Now.Add(w.env.Durations.ClusterCreate)
	w.s.Advance(w.env)
	require.Equal(t, cloud.OpFailed, op.Status)
	assert.Contains(t, op.Error.Message, "etcd: address in use")
	assert.Equal(t, cloud.StatusDeleting, c.Status)
	c.PlaneGone = true
	w.s.Advance(w.env)
	assert.Empty(t, w.s.Clusters)
}

func TestVersionNotOffered(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	_, err := w.s.CreateCluster(w.env, cloud.ClusterSpec{Name: "dev", Region: "sim-central-1", Version: "1.34"}, "")
	require.Error(t, err)
	assert.Equal(t, `cluster "dev": version 1.34 is not offered in sim-central-1 (offered there: 1.29, 1.30, 1.31, 1.32, 1.33)`, err.Error())

	c := w.cluster("dev", "sim-east-1", "1.32")
	require.NoError(t, w.s.Unoffer("sim-east-1", "1.33"))
	_, err = w.s.UpdateCluster(w.env, c.ID, cloud.ClusterSpec{Version: "1.33"})
	assert.ErrorContains(t, err, "version 1.33 is not offered in sim-east-1")
	n, err := w.s.ClearFaults(cloud.FaultFilter{Kind: cloud.FaultUnoffer, Region: "sim-east-1"})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	_, err = w.s.UpdateCluster(w.env, c.ID, cloud.ClusterSpec{Version: "1.33"})
	assert.NoError(t, err)
}

func TestClusterImmutability(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.cluster("dev", "sim-east-1", "1.31")
	tests := []struct {
		name string
		spec cloud.ClusterSpec
		want string
	}{
		{"region", cloud.ClusterSpec{Region: "sim-west-1"}, `cluster "dev": region is immutable (sim-east-1 → sim-west-1); replace the cluster instead`},
		{"zones", cloud.ClusterSpec{Zones: []string{"sim-east-1a"}}, "zones is immutable"},
		{"vpc", cloud.ClusterSpec{VpcCIDR: "10.1.0.0/16"}, "vpcCidr is immutable"},
		{"pods", cloud.ClusterSpec{PodCIDR: "10.128.0.0/14"}, "podCidr is immutable"},
		{"services", cloud.ClusterSpec{ServiceCIDR: "172.21.0.0/16"}, "serviceCidr is immutable"},
	}
	for _, tt := range tests {
		_, err := w.s.UpdateCluster(w.env, c.ID, tt.spec)
		require.Error(t, err, tt.name)
		assert.True(t, cloud.IsInvalidArgument(err), tt.name)
		assert.Contains(t, err.Error(), tt.want, tt.name)
	}
}

func TestClusterUpdateTagsAtOnceAndUpgradeOverTime(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.cluster("dev", "sim-east-1", "1.31")

	op, err := w.s.UpdateCluster(w.env, c.ID, cloud.ClusterSpec{Tags: map[string]string{"team": "a"}})
	require.NoError(t, err)
	assert.Equal(t, cloud.OpDone, op.Status)
	assert.Equal(t, map[string]string{"team": "a"}, c.Tags)

	op, err = w.s.UpdateCluster(w.env, c.ID, cloud.ClusterSpec{Version: "1.32", Tags: map[string]string{"team": "a"}})
	require.NoError(t, err)
	assert.Equal(t, cloud.OpUpgradeCluster, op.Kind)
	assert.Equal(t, cloud.StatusUpdating, c.Status)
	assert.Equal(t, "1.31", c.Version, "the version changes when the upgrade completes")

	// The cluster runs one operation at a time.
	_, err = w.s.CreateNodePool(w.env, spotPool(c.ID, 1), "")
	require.Error(t, err)
	assert.True(t, cloud.IsResourceInUse(err))
	assert.Contains(t, err.Error(), `cluster "dev": an upgrade from 1.31 to 1.32 is in progress; try again when it finishes`)

	w.wait(w.env.Durations.ClusterUpgrade)
	assert.Equal(t, cloud.OpDone, op.Status)
	assert.Equal(t, "1.32", c.Version)
	assert.Equal(t, cloud.StatusActive, c.Status)
}

func TestUpgradeFailureFault(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.cluster("dev", "sim-east-1", "1.31")
	other := w.cluster("prod", "sim-east-1", "1.31")
	require.NoError(t, w.s.AddUpgradeFailure("dev"))

	op, err := w.s.UpdateCluster(w.env, c.ID, cloud.ClusterSpec{Version: "1.32"})
	require.NoError(t, err)
	op2, err := w.s.UpdateCluster(w.env, other.ID, cloud.ClusterSpec{Version: "1.32"})
	require.NoError(t, err)
	w.wait(w.env.Durations.ClusterUpgrade)

	require.Equal(t, cloud.OpFailed, op.Status)
	assert.Equal(t, cloud.OperationFailed, op.Error.Code)
	assert.Equal(t, `cluster "dev": upgrade from 1.31 to 1.32 failed: the new control plane did not become healthy and was rolled back; the cluster stays at 1.31`, op.Error.Message)
	assert.Equal(t, "1.31", c.Version)
	assert.Equal(t, cloud.StatusActive, c.Status)
	assert.Equal(t, cloud.OpDone, op2.Status)
	assert.Equal(t, "1.32", other.Version)
}

func TestNodePoolRules(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.cluster("dev", "sim-east-1", "1.31")

	spec := spotPool(c.ID, 2)
	spec.Version = "1.32"
	_, err := w.s.CreateNodePool(w.env, spec, "")
	assert.ErrorContains(t, err, `node pool "app-spot": version 1.32 is newer than its control plane (1.31); upgrade the cluster first`)

	spec = spotPool("dev", 2) // by name
	spec.Zones = []string{"sim-west-1a"}
	_, err = w.s.CreateNodePool(w.env, spec, "")
	assert.ErrorContains(t, err, `node pool "app-spot": zone "sim-west-1a" is not one of cluster "dev"'s zones`)

	p := w.pool(spotPool("dev", 2))
	assert.Equal(t, "1.31", p.Version, "a pool defaults to its control plane's version")
	assert.Equal(t, c.Zones, p.Zones)
	assert.Equal(t, c.ID, p.ClusterID)
	assert.Equal(t, cloud.DefaultProvisionTimeout, p.ProvisionTimeout)

	_, err = w.s.CreateNodePool(w.env, spotPool(c.ID, 1), "")
	assert.True(t, cloud.IsAlreadyExists(err))

	_, err = w.s.DeleteCluster(w.env, c.ID)
	assert.ErrorContains(t, err, `cluster "dev": cannot delete a cluster that has node pools ("app-spot"); delete them first`)

	// Immutable pool fields.
	next := p.NodePoolSpec
	next.CapacityType = cloud.OnDemand
	next.Labels = nil
	_, err = w.s.UpdateNodePool(w.env, p.ID, next)
	assert.ErrorContains(t, err, `node pool "app-spot": capacityType is immutable (spot → on-demand); replace the node pool instead`)
	next = p.NodePoolSpec
	next.InstanceTypes = []string{"m6i.xlarge"}
	_, err = w.s.UpdateNodePool(w.env, p.ID, next)
	assert.ErrorContains(t, err, "instanceTypes is immutable")

	// An in-place resize rolls over the pool's update time.
	next = p.NodePoolSpec
	next.DesiredSize = 4
	next.Tags = map[string]string{"team": "a"}
	op, err := w.s.UpdateNodePool(w.env, p.ID, next)
	require.NoError(t, err)
	assert.Equal(t, cloud.StatusUpdating, p.Status)
	assert.Equal(t, map[string]string{"team": "a"}, p.Tags, "tags change at once")
	assert.Equal(t, 2, p.ReadyNodes)
	w.wait(w.env.Durations.PoolCreate)
	assert.Equal(t, cloud.OpDone, op.Status)
	assert.Equal(t, 4, p.ReadyNodes)

	// Cluster upgrade keeps pools within the skew; the pool then follows.
	for _, v := range []string{"1.32", "1.33"} {
		_, err = w.s.UpdateCluster(w.env, c.ID, cloud.ClusterSpec{Version: v})
		require.NoError(t, err)
		w.wait(w.env.Durations.ClusterUpgrade)
	}
	next = p.NodePoolSpec
	next.Version = "1.30"
	_, err = w.s.UpdateNodePool(w.env, p.ID, next)
	assert.ErrorContains(t, err, "cannot downgrade from 1.31 to 1.30")
	next.Version = "1.33"
	_, err = w.s.UpdateNodePool(w.env, p.ID, next)
	require.NoError(t, err)
	w.wait(w.env.Durations.PoolCreate)
	assert.Equal(t, "1.33", p.Version)

	// Delete the pool, then the cluster.
	_, err = w.s.DeleteNodePool(w.env, p.ID)
	require.NoError(t, err)
	w.s.Advance(w.env)
	assert.Equal(t, 0, p.ReadyNodes, "a deleting pool drains at once")
	w.wait(w.env.Durations.PoolDelete)
	assert.Empty(t, w.s.Pools)
	op, err = w.s.DeleteCluster(w.env, c.ID)
	require.NoError(t, err)
	w.wait(w.env.Durations.ClusterDelete)
	assert.Equal(t, cloud.OpDone, op.Status)
	assert.Empty(t, w.s.Clusters)
}

func TestSpotShortageAndFallback(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.cluster("dev", "sim-east-1", "1.31")
	spot := w.pool(spotPool(c.ID, 6))
	fb := w.pool(fallbackPool(c.ID, 4))
	require.Equal(t, map[string]string{spot.ID: fb.ID}, w.s.Fallbacks())
	assert.Equal(t, 6, spot.ReadyNodes)
	assert.InDelta(t, 6*0.0336, spot.HourlyCost, 1e-9)
	assert.Equal(t, 0, fb.ReadyNodes)

	// A zone shortage takes that zone's spot nodes.
	require.NoError(t, w.s.AddSpotShortage("sim-east-1", "sim-east-1b"))
	w.s.Advance(w.env)
	assert.Equal(t, 4, spot.ReadyNodes)

	// A region shortage takes every spot node at once; the fallback waits for the
	// provision timeout (300 simulated seconds = 0.5s at 600x) before covering.
	require.NoError(t, w.s.AddSpotShortage("sim-east-1", ""))
	w.s.Advance(w.env)
	assert.Equal(t, 0, spot.ReadyNodes)
	assert.Zero(t, spot.HourlyCost)
	assert.Equal(t, 0, fb.ReadyNodes)
	timeout := w.env.SimToReal(cloud.DefaultProvisionTimeout)
	assert.Equal(t, 500*time.Millisecond, timeout)
	assert.Equal(t, spot.ShortageSince.Add(timeout), w.s.NextDue(w.env, w.env.Now))

	w.env.Now = w.env.Now.Add(timeout - time.Millisecond)
	w.s.Advance(w.env)
	assert.Equal(t, 0, fb.ReadyNodes, "not before the provision timeout")
	w.env.Now = w.env.Now.Add(time.Millisecond)
	w.s.Advance(w.env)
	assert.Equal(t, 4, fb.ReadyNodes, "the fallback covers the lost nodes up to its max")
	assert.Equal(t, 4, fb.FallbackNodes)
	assert.InDelta(t, 4*0.096, fb.HourlyCost, 1e-9)

	nodes := w.s.Nodes(c.ID)
	require.Len(t, nodes, 4)
	for _, n := range nodes {
		assert.Equal(t, cloud.OnDemand, n.Labels[cloud.LabelCapacity])
		assert.Equal(t, "app", n.Labels[cloud.LabelPool])
	}

	n, err := w.s.ClearFaults(cloud.FaultFilter{Kind: cloud.FaultSpotShortage})
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	w.s.Advance(w.env)
	assert.Equal(t, 6, spot.ReadyNodes)
	assert.Nil(t, spot.ShortageSince)
	assert.Equal(t, 0, fb.ReadyNodes, "the fallback scales back to its own desired size")
	assert.Equal(t, 0, fb.FallbackNodes)
}

func TestExplicitFallbackWinsOverLabel(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.cluster("dev", "sim-east-1", "1.31")
	spot := w.pool(spotPool(c.ID, 2))
	byLabel := w.pool(fallbackPool(c.ID, 3))
	explicit := fallbackPool(c.ID, 3)
	explicit.Name, explicit.Labels, explicit.FallbackFor = "backup", nil, "app-spot"
	named := w.pool(explicit)
	assert.Equal(t, map[string]string{spot.ID: named.ID}, w.s.Fallbacks())
	require.NoError(t, w.s.AddSpotShortage("sim-east-1", ""))
	w.s.Advance(w.env)
	w.wait(w.env.SimToReal(cloud.DefaultProvisionTimeout))
	assert.Equal(t, 2, named.ReadyNodes)
	assert.Equal(t, 0, byLabel.ReadyNodes)
}

func TestSpotShortageInAnotherRegionChangesNothing(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.cluster("dev", "sim-east-1", "1.31")
	spot := w.pool(spotPool(c.ID, 3))
	require.NoError(t, w.s.AddSpotShortage("sim-west-1", ""))
	w.s.Advance(w.env)
	assert.Equal(t, 3, spot.ReadyNodes)
	assert.ErrorContains(t, w.s.AddSpotShortage("sim-west-1", "sim-east-1a"), `"sim-east-1a" is not a zone of sim-west-1`)
}

func TestNodes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.cluster("dev", "sim-east-1", "1.31")
	spec := spotPool(c.ID, 4)
	spec.Zones = []string{"sim-east-1a", "sim-east-1b"}
	w.pool(spec)
	nodes := w.s.Nodes(c.ID)
	require.Len(t, nodes, 4)
	names := []string{}
	for _, n := range nodes {
		names = append(names, n.Name)
	}
	assert.Equal(t, []string{"app-spot-v1-31-sim-east-1a-0", "app-spot-v1-31-sim-east-1a-1", "app-spot-v1-31-sim-east-1b-0", "app-spot-v1-31-sim-east-1b-1"}, names)
	n := nodes[2]
	assert.Equal(t, map[string]string{
		cloud.LabelPool: "app", cloud.LabelCapacity: "spot", cloud.LabelInstanceType: "m6i.large",
		cloud.LabelZone: "sim-east-1b", cloud.LabelRegion: "sim-east-1", cloud.LabelHostname: "app-spot-v1-31-sim-east-1b-0",
		cloud.LabelNodePool: "app-spot",
	}, n.Labels)
	assert.Equal(t, "v1.31.0", n.KubeletVersion, "a node's kubelet runs its pool's version")
	assert.Equal(t, []cloud.Taint{{Key: "flotilla.io/spot", Value: "true", Effect: "NoSchedule"}}, n.Taints)
	assert.Equal(t, int64(2000), n.MilliCPU)
	assert.Equal(t, int64(8<<30), n.MemoryBytes)
	assert.Equal(t, int64(29), n.Pods)
	assert.Nil(t, w.s.Nodes("cl-missing"))
}

func TestDrift(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.cluster("dev", "sim-east-1", "1.31")
	p := w.pool(spotPool(c.ID, 2))
	five := 5
	require.NoError(t, w.s.DriftNodePool("dev/app-spot", cloud.NodePoolDrift{DesiredSize: &five, Tags: map[string]string{"owner": "ops"}}))
	w.s.Advance(w.env)
	assert.Equal(t, 5, p.DesiredSize)
	assert.Equal(t, 5, p.ReadyNodes)
	assert.Equal(t, map[string]string{"owner": "ops"}, p.Tags)

	eleven := 11
	assert.ErrorContains(t, w.s.DriftNodePool(p.ID, cloud.NodePoolDrift{DesiredSize: &eleven}), "desiredSize: 11 is outside")
	assert.ErrorContains(t, w.s.DriftCluster("dev", cloud.ClusterDrift{Version: "1.33"}), "one minor version at a time")
	require.NoError(t, w.s.DriftCluster("dev", cloud.ClusterDrift{Version: "1.32", Tags: map[string]string{"x": "y"}}))
	assert.Equal(t, "1.32", c.Version)

	require.NoError(t, w.s.DriftCluster(c.ID, cloud.ClusterDrift{Delete: true}))
	assert.Empty(t, w.s.Pools)
	w.wait(0)
	assert.Empty(t, w.s.Clusters)
}

func TestFaultsValidateAndClear(t *testing.T) {
	t.Parallel()
	s := cloud.NewState()
	assert.ErrorContains(t, s.SetAPIErrors(1.5, 1), "rate 1.5 must be between 0 and 1")
	require.NoError(t, s.SetAPIErrors(0.2, 7))
	require.NoError(t, s.AddUpgradeFailure("dev"))
	require.NoError(t, s.AddUpgradeFailure("prod"))
	require.NoError(t, s.AddSpotShortage("sim-eu-1", ""))
	require.NoError(t, s.Unoffer("sim-east-1", "1.33"))
	assert.ErrorContains(t, s.AddSpotShortage("eu-west-1", ""), `"eu-west-1" is not a region`)
	_, err := s.ClearFaults(cloud.FaultFilter{Kind: "meteor"})
	assert.ErrorContains(t, err, `unknown fault kind "meteor"`)

	n, err := s.ClearFaults(cloud.FaultFilter{Kind: cloud.FaultUpgradeFailure, Cluster: "dev"})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, []string{"prod"}, s.Faults.UpgradeFailures)
	n, err = s.ClearFaults(cloud.FaultFilter{})
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	assert.True(t, s.Faults.Empty())
}

func TestCloneIsDeep(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.cluster("dev", "sim-east-1", "1.31")
	c.Tags = map[string]string{"a": "1"}
	cl := w.s.Clone()
	cl.Clusters[c.ID].Tags["a"] = "2"
	cl.Clusters[c.ID].Zones[0] = "x"
	assert.Equal(t, "1", c.Tags["a"])
	assert.Equal(t, "sim-east-1a", c.Zones[0])
}

func TestOldOperationsArePruned(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.cluster("dev", "sim-east-1", "1.31")
	for i := range 300 {
		_, err := w.s.UpdateCluster(w.env, c.ID, cloud.ClusterSpec{Tags: map[string]string{"i": fmt.Sprint(i)}})
		require.NoError(t, err)
		w.env.Now = w.env.Now.Add(time.Millisecond)
	}
	w.s.Advance(w.env)
	assert.Len(t, w.s.Operations, 200)
}

func TestUpgradesOutliveOtherOperations(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	c := w.cluster("dev", "sim-east-1", "1.31")
	for _, v := range []string{"1.32", "1.33"} {
		_, err := w.s.UpdateCluster(w.env, c.ID, cloud.ClusterSpec{Version: v})
		require.NoError(t, err)
		w.wait(w.env.Durations.ClusterUpgrade)
	}
	for i := range 300 {
		_, err := w.s.UpdateCluster(w.env, c.ID, cloud.ClusterSpec{Tags: map[string]string{"i": fmt.Sprint(i)}})
		require.NoError(t, err)
		w.env.Now = w.env.Now.Add(time.Millisecond)
	}
	w.s.Advance(w.env)
	assert.Len(t, w.s.Operations, 202, "200 recent updates, and both upgrades")
	var upgrades []string
	for _, op := range w.s.Operations {
		if op.Kind == cloud.OpUpgradeCluster {
			upgrades = append(upgrades, op.FromVersion+"→"+op.ToVersion)
		}
	}
	assert.ElementsMatch(t, []string{"1.31→1.32", "1.32→1.33"}, upgrades)
}
