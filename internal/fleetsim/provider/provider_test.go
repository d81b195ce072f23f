package provider_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
	"github.com/flotilla-io/flotilla/internal/fleetsim/daemon"
	"github.com/flotilla-io/flotilla/internal/fleetsim/provider"
	"github.com/flotilla-io/flotilla/internal/fleetsim/simapi"
)

func urn(typ, name string) string {
	return string(resource.NewURN("dev", "flotilla", "", tokens.Type(typ), name))
}

func props(t *testing.T, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := plugin.MarshalProperties(resource.NewPropertyMapFromMap(m), plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true})
	require.NoError(t, err)
	return s
}

func unprops(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := plugin.UnmarshalProperties(s, plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true})
	require.NoError(t, err)
	return m
}

func computed() resource.PropertyValue { return resource.MakeComputed(resource.NewStringProperty("")) }

func TestPluginInfoAndSchema(t *testing.T) {
	t.Parallel()
	p := provider.New(client.Options{})
	info, err := p.GetPluginInfo(context.Background(), &emptypb.Empty{})
	require.NoError(t, err)
	assert.Equal(t, "0.1.0", info.GetVersion())
	resp, err := p.GetSchema(context.Background(), &pulumirpc.GetSchemaRequest{})
	require.NoError(t, err)
	var schema struct {
		Name      string `json:"name"`
		Resources map[string]struct {
			InputProperties map[string]struct {
				ReplaceOnChanges bool `json:"replaceOnChanges"`
			} `json:"inputProperties"`
			Properties map[string]struct {
				Secret bool `json:"secret"`
			} `json:"properties"`
			RequiredInputs []string `json:"requiredInputs"`
		} `json:"resources"`
	}
	require.NoError(t, json.Unmarshal([]byte(resp.GetSchema()), &schema))
	assert.Equal(t, "fleetsim", schema.Name)
	cl := schema.Resources[provider.ClusterType]
	assert.True(t, cl.InputProperties["region"].ReplaceOnChanges)
	assert.False(t, cl.InputProperties["version"].ReplaceOnChanges)
	assert.True(t, cl.Properties["kubeconfig"].Secret)
	assert.Equal(t, []string{"cluster", "instanceTypes"}, schema.Resources[provider.NodePoolType].RequiredInputs)
}

func TestCheck(t *testing.T) {
	t.Parallel()
	p := provider.New(client.Options{})
	tests := []struct {
		name     string
		typ      string
		news     map[string]any
		wantIn   map[string]any // expected values of the checked inputs
		failures map[string]string
	}{
		{
			name: "cluster defaults",
			typ:  provider.ClusterType,
			news: map[string]any{"region": "sim-eu-1"},
			wantIn: map[string]any{
				"name": "dev-eu", "version": "1.33", "zones": []any{"sim-eu-1a", "sim-eu-1b", "sim-eu-1c"},
				"vpcCidr": "10.0.0.0/16", "podCidr": "10.244.0.0/16", "serviceCidr": "172.20.0.0/16",
			},
		},
		{
			name:     "every cluster problem at once",
			typ:      provider.ClusterType,
			news:     map[string]any{"region": "eu-west-1", "version": "1.31.0", "vpcCidr": "10.0.0.1/16", "colour": "blue"},
			failures: map[string]string{"region": `"eu-west-1" is not a region`, "version": "use a Kubernetes minor version", "vpcCidr": "has host bits set", "colour": `"colour" is not a property`},
		},
		{
			name:     "missing region",
			typ:      provider.ClusterType,
			news:     map[string]any{},
			failures: map[string]string{"region": "a cluster needs a region"},
		},
		{
			name:   "unknown values are not judged",
			typ:    provider.ClusterType,
			news:   map[string]any{"region": "sim-eu-1", "vpcCidr": computed(), "serviceCidr": "10.0.0.0/20"},
			wantIn: map[string]any{"serviceCidr": "10.0.0.0/20"},
		},
		{
			name:   "pool defaults",
			typ:    provider.NodePoolType,
			news:   map[string]any{"cluster": computed(), "instanceTypes": []any{"m6i.large"}, "desiredSize": 4},
			wantIn: map[string]any{"name": "dev-eu", "capacityType": "on-demand", "minSize": 1.0, "maxSize": 4.0, "desiredSize": 4.0, "provisionTimeout": 300.0},
		},
		{
			name: "pool problems",
			typ:  provider.NodePoolType,
			news: map[string]any{
				"cluster": "c", "instanceTypes": []any{"m9z.huge"}, "capacityType": "spot", "minSize": 3, "maxSize": 2,
				"taints": []any{map[string]any{"key": "spot", "effect": "Maybe"}},
			},
			failures: map[string]string{"instanceTypes": `"m9z.huge" is not sold`, "minSize": "3 is above maxSize 2", "taints": `effect "Maybe"`},
		},
		{
			name:     "pool without cluster",
			typ:      provider.NodePoolType,
			news:     map[string]any{"instanceTypes": []any{"m6i.large"}},
			failures: map[string]string{"cluster": "a node pool needs its cluster"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, err := p.Check(context.Background(), &pulumirpc.CheckRequest{Urn: urn(tt.typ, "dev-eu"), News: props(t, tt.news)})
			require.NoError(t, err)
			got := map[string]string{}
			for _, f := range resp.GetFailures() {
				got[f.GetProperty()] = f.GetReason()
			}
			require.Len(t, got, len(tt.failures), "%v", got)
			for prop, want := range tt.failures {
				assert.Contains(t, got[prop], want, prop)
			}
			in := unprops(t, resp.GetInputs()).Mappable()
			for k, v := range tt.wantIn {
				assert.Equal(t, v, in[k], k)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	t.Parallel()
	p := provider.New(client.Options{})
	cluster := map[string]any{
		"name": "dev", "region": "sim-east-1", "zones": []any{"sim-east-1a", "sim-east-1b"}, "version": "1.31",
		"vpcCidr": "10.0.0.0/16", "podCidr": "10.244.0.0/16", "serviceCidr": "172.20.0.0/16", "tags": map[string]any{"team": "a"},
		"endpoint": "https://x", "status": "ACTIVE",
	}
	pool := map[string]any{
		"name": "spot", "cluster": "cl-1", "capacityType": "spot", "instanceTypes": []any{"m6i.large"},
		"zones": []any{"sim-east-1a"}, "minSize": 0, "maxSize": 3, "desiredSize": 1, "version": "1.31",
		"labels": map[string]any{}, "taints": []any{}, "tags": map[string]any{}, "provisionTimeout": 300, "fallbackFor": "", "readyNodes": 1,
	}
	with := func(base map[string]any, kv ...any) map[string]any {
		out := map[string]any{}
		for k, v := range base {
			out[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == nil {
				delete(out, kv[i].(string))
			} else {
				out[kv[i].(string)] = kv[i+1]
			}
		}
		return out
	}
	inputsOf := func(m map[string]any) map[string]any {
		return with(m, "endpoint", nil, "status", nil, "readyNodes", nil)
	}
	tests := []struct {
		name     string
		typ      string
		olds     map[string]any
		news     map[string]any
		diffs    []string
		replaces []string
		dbr      bool
	}{
		{"no change", provider.ClusterType, cluster, inputsOf(cluster), nil, nil, false},
		{"upgrade in place", provider.ClusterType, cluster, with(inputsOf(cluster), "version", "1.32"), []string{"version"}, nil, false},
		{"tags removed", provider.ClusterType, cluster, with(inputsOf(cluster), "tags", nil), []string{"tags"}, nil, false},
		{"zones replace, old first", provider.ClusterType, cluster, with(inputsOf(cluster), "zones", []any{"sim-east-1a"}), []string{"zones"}, []string{"zones"}, true},
		{"region replaces, new first", provider.ClusterType, cluster, with(inputsOf(cluster), "region", "sim-west-1", "zones", []any{"sim-west-1a"}), []string{"region", "zones"}, []string{"region", "zones"}, false},
		{"unknown cidr replaces", provider.ClusterType, cluster, with(inputsOf(cluster), "podCidr", computed()), []string{"podCidr"}, []string{"podCidr"}, true},
		{"pool resize in place", provider.NodePoolType, pool, with(inputsOf(pool), "desiredSize", 2, "taints", []any{map[string]any{"key": "k", "effect": "NoSchedule"}}), []string{"desiredSize", "taints"}, nil, false},
		{"pool version left to the cloud", provider.NodePoolType, pool, with(inputsOf(pool), "version", nil, "zones", nil), nil, nil, false},
		{"capacity type replaces", provider.NodePoolType, pool, with(inputsOf(pool), "capacityType", "on-demand"), []string{"capacityType"}, []string{"capacityType"}, true},
		{"new cluster replaces, new first", provider.NodePoolType, pool, with(inputsOf(pool), "cluster", computed()), []string{"cluster"}, []string{"cluster"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{Urn: urn(tt.typ, "x"), Id: "id", Olds: props(t, tt.olds), News: props(t, tt.news)})
			require.NoError(t, err)
			assert.ElementsMatch(t, tt.diffs, resp.GetDiffs())
			assert.ElementsMatch(t, tt.replaces, resp.GetReplaces())
			assert.Equal(t, tt.dbr, resp.GetDeleteBeforeReplace())
			if len(tt.diffs) == 0 {
				assert.Equal(t, pulumirpc.DiffResponse_DIFF_NONE, resp.GetChanges())
			} else {
				assert.Equal(t, pulumirpc.DiffResponse_DIFF_SOME, resp.GetChanges())
			}
			for _, d := range tt.diffs {
				want := pulumirpc.PropertyDiff_UPDATE
				for _, r := range tt.replaces {
					if r == d {
						want = pulumirpc.PropertyDiff_UPDATE_REPLACE
					}
				}
				assert.Equal(t, want, resp.GetDetailedDiff()[d].GetKind(), d)
			}
		})
	}
}

// TestCRUD drives the provider's Create, Read, Update and Delete against a daemon.
func TestCRUD(t *testing.T) {
	t.Parallel()
	d, err := daemon.New(daemon.Options{
		Home: t.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Durations: cloud.Durations{ClusterCreate: 50 * time.Millisecond, ClusterUpgrade: 50 * time.Millisecond, ClusterDelete: 20 * time.Millisecond, PoolCreate: 20 * time.Millisecond, PoolDelete: 10 * time.Millisecond},
	})
	require.NoError(t, err)
	require.NoError(t, d.Listen())
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go func() { _ = d.Serve(ctx) }()

	p := provider.New(client.Options{})
	_, err = p.Configure(ctx, &pulumirpc.ConfigureRequest{Variables: map[string]string{"fleetsim:config:addr": d.Addr()}}) //nolint:staticcheck // older engines send variables
	require.NoError(t, err)

	cu := urn(provider.ClusterType, "crud")
	checked, err := p.Check(ctx, &pulumirpc.CheckRequest{Urn: cu, News: props(t, map[string]any{"region": "sim-ap-1", "version": "1.30", "tags": map[string]any{"team": "a"}})})
	require.NoError(t, err)
	require.Empty(t, checked.GetFailures())
	created, err := p.Create(ctx, &pulumirpc.CreateRequest{Urn: cu, Properties: checked.GetInputs()})
	require.NoError(t, err)
	id := created.GetId()
	outs := unprops(t, created.GetProperties())
	assert.True(t, outs["kubeconfig"].IsSecret(), "the kubeconfig is a secret")
	assert.Equal(t, "crud", outs["name"].StringValue())
	assert.Equal(t, "ACTIVE", outs["status"].StringValue())

	// An update that the cloud refuses comes back as a readable error.
	_, err = p.Update(ctx, &pulumirpc.UpdateRequest{Urn: cu, Id: id, News: props(t, with(unprops(t, checked.GetInputs()).Mappable(), "version", "1.32"))})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `cluster "crud": cannot upgrade from 1.30 to 1.32`)

	up, err := p.Update(ctx, &pulumirpc.UpdateRequest{Urn: cu, Id: id, News: props(t, with(unprops(t, checked.GetInputs()).Mappable(), "version", "1.31"))})
	require.NoError(t, err)
	assert.Equal(t, "1.31", unprops(t, up.GetProperties())["version"].StringValue())

	// Read sees an out-of-band change; the inputs keep only what the program set.
	c, err := client.New(client.Options{Addr: d.Addr()})
	require.NoError(t, err)
	require.NoError(t, c.DriftCluster(ctx, id, cloud.ClusterDrift{Tags: map[string]string{"team": "b"}}))
	read, err := p.Read(ctx, &pulumirpc.ReadRequest{Urn: cu, Id: id, Properties: created.GetProperties(), Inputs: props(t, map[string]any{"region": "sim-ap-1", "tags": map[string]any{"team": "a"}})})
	require.NoError(t, err)
	assert.Equal(t, id, read.GetId())
	assert.Equal(t, map[string]any{"team": "b"}, unprops(t, read.GetProperties())["tags"].Mappable())
	assert.Equal(t, map[string]any{"region": "sim-ap-1", "tags": map[string]any{"team": "b"}}, unprops(t, read.GetInputs()).Mappable())

	// A node pool on it.
	pu := urn(provider.NodePoolType, "crud-pool")
	pc, err := p.Check(ctx, &pulumirpc.CheckRequest{Urn: pu, News: props(t, map[string]any{"cluster": id, "instanceTypes": []any{"Standard_D4s_v5"}, "capacityType": "spot", "desiredSize": 2})})
	require.NoError(t, err)
	require.Empty(t, pc.GetFailures())
	pool, err := p.Create(ctx, &pulumirpc.CreateRequest{Urn: pu, Properties: pc.GetInputs()})
	require.NoError(t, err)
	pouts := unprops(t, pool.GetProperties())
	assert.Equal(t, 2.0, pouts["readyNodes"].NumberValue())
	assert.InDelta(t, 2*0.0672, pouts["hourlyCost"].NumberValue(), 1e-9)
	assert.Equal(t, "1.31", pouts["version"].StringValue())

	_, err = p.Delete(ctx, &pulumirpc.DeleteRequest{Urn: pu, Id: pool.GetId()})
	require.NoError(t, err)
	_, err = p.Delete(ctx, &pulumirpc.DeleteRequest{Urn: cu, Id: id})
	require.NoError(t, err)
	gone, err := p.Read(ctx, &pulumirpc.ReadRequest{Urn: cu, Id: id})
	require.NoError(t, err)
	assert.Empty(t, gone.GetId(), "a deleted resource reads as gone")
}

func with(m map[string]any, k string, v any) map[string]any {
	out := map[string]any{}
	for kk, vv := range m {
		out[kk] = vv
	}
	out[k] = v
	return out
}

// planes is a Kube whose control planes start at once, for a daemon in kube mode
// without the control-plane binaries.
type planes struct{}

func (planes) EnsurePlane(_ context.Context, id string) (simapi.Plane, error) {
	return simapi.Plane{Endpoint: "https://127.0.0.1:6443", Kubeconfig: "apiVersion: v1\nkind: Config\n# " + id, BinaryVersion: "v1.31.4"}, nil
}
func (planes) SyncNodes(context.Context, string, []simapi.Node) error { return nil }
func (planes) DeletePlane(context.Context, string) error              { return nil }

// startDaemon serves a daemon with kube running its control planes (nil: lite mode)
// and returns a provider configured to reach it.
func startDaemon(t *testing.T, kube simapi.Kube) *provider.Provider {
	t.Helper()
	p, _ := startDaemonOn(t, t.TempDir(), kube)
	return p
}

// startDaemonOn serves a daemon on home and returns a provider configured to reach it,
// and a func that stops the daemon.
func startDaemonOn(t *testing.T, home string, kube simapi.Kube) (*provider.Provider, func()) {
	t.Helper()
	d, err := daemon.New(daemon.Options{
		Home: home, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Kube: kube,
		Durations: cloud.Durations{ClusterCreate: 20 * time.Millisecond, ClusterUpgrade: 20 * time.Millisecond, ClusterDelete: 10 * time.Millisecond, PoolCreate: 10 * time.Millisecond, PoolDelete: 10 * time.Millisecond},
	})
	require.NoError(t, err)
	require.NoError(t, d.Listen())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = d.Serve(ctx) }()
	stop := func() { d.Shutdown(); <-done; cancel() }
	t.Cleanup(func() { cancel(); <-done })
	p := provider.New(client.Options{})
	_, err = p.Configure(ctx, &pulumirpc.ConfigureRequest{Args: props(t, map[string]any{"addr": d.Addr()})})
	require.NoError(t, err)
	return p, stop
}

// clusterStates are a cluster's inputs and its outputs with and without a control plane
// (kubeVersion set by the daemon in kube mode, empty in lite mode).
func clusterStates() (inputs, kubeState, liteState map[string]any) {
	inputs = map[string]any{
		"name": "dev", "region": "sim-east-1", "zones": []any{"sim-east-1a"}, "version": "1.31",
		"vpcCidr": "10.0.0.0/16", "podCidr": "10.244.0.0/16", "serviceCidr": "172.20.0.0/16", "tags": map[string]any{},
	}
	kubeState = with(with(with(inputs, "endpoint", "https://127.0.0.1:40001"), "kubeVersion", "v1.31.4"), "status", "ACTIVE")
	liteState = with(with(with(inputs, "endpoint", "https://dev.sim-east-1.fleetsim.invalid"), "kubeVersion", ""), "status", "ACTIVE")
	return inputs, kubeState, liteState
}

// TestDiffRefusesTurningAClusterLite: a lite program (kube false) over a cluster that has
// a control plane is refused by Diff, which the engine calls before it registers the
// cluster, so that the in-cluster resources the lite program no longer registers are
// never deleted. The state says so by its kubeVersion (states from before the kube
// input too) or by its last kube input (a state refreshed while the daemon ran lite).
// Keeping a mode, or saying none, is no change.
func TestDiffRefusesTurningAClusterLite(t *testing.T) {
	t.Parallel()
	p := provider.New(client.Options{}) // no daemon: none of these asks for a control plane
	in, kubeState, liteState := clusterStates()
	lite := with(in, "kube", false)
	tests := []struct {
		name              string
		olds, oldIn, news map[string]any
		refused           bool
	}{
		{"kube state from before the input, lite program", kubeState, in, lite, true},
		{"kube state, lite program", kubeState, with(in, "kube", true), lite, true},
		{"refreshed under a lite daemon, lite program", liteState, with(in, "kube", true), lite, true},
		{"lite state, lite program", liteState, lite, lite, false},
		{"lite state from before the input, lite program", liteState, in, lite, false},
		{"kube state, no mode said", kubeState, in, in, false},
		{"lite state, no mode said", liteState, lite, in, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{
				Urn: urn(provider.ClusterType, "dev-cluster"), Id: "id",
				Olds: props(t, tt.olds), OldInputs: props(t, tt.oldIn), News: props(t, tt.news),
			})
			if !tt.refused {
				require.NoError(t, err)
				assert.Empty(t, resp.GetDiffs(), "the mode is no change of the cluster")
				return
			}
			require.Error(t, err)
			msg := err.Error()
			assert.Contains(t, msg, `cluster "dev-cluster" has a Kubernetes control plane, but the program now runs it lite (stack config fleetsim:kube is "off")`)
			assert.Contains(t, msg, "would delete every resource the stack deployed in the cluster (namespaces, RBAC, resource quotas, network policies")
			assert.Contains(t, msg, "`pulumi config rm fleetsim:kube`")
			assert.Contains(t, msg, "destroy it first")
		})
	}
}

// TestDiffLetsALiteClusterGainItsControlPlane: a kube-mode program over a cluster created
// lite is no refusal. With a daemon in kube mode, the cluster is updated, so that its
// endpoint and kubeconfig are read again once its control plane runs; a preview sees
// them unknown.
func TestDiffLetsALiteClusterGainItsControlPlane(t *testing.T) {
	t.Parallel()
	p := startDaemon(t, planes{})
	in, kubeState, liteState := clusterStates()
	kube := with(in, "kube", true)
	for _, tt := range []struct {
		name        string
		olds, oldIn map[string]any
		diffs       []string
	}{
		{"lite state, kube program", liteState, with(in, "kube", false), []string{"kube"}},
		{"lite state from before the input, kube program", liteState, in, []string{"kube"}},
		{"kube state, kube program", kubeState, kube, nil},
		{"kube state from before the input, kube program", kubeState, in, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := p.Diff(context.Background(), &pulumirpc.DiffRequest{
				Urn: urn(provider.ClusterType, "dev-cluster"), Id: "id",
				Olds: props(t, tt.olds), OldInputs: props(t, tt.oldIn), News: props(t, kube),
			})
			require.NoError(t, err)
			assert.Equal(t, tt.diffs, resp.GetDiffs())
			assert.Empty(t, resp.GetReplaces(), "the cluster is never replaced for its mode")
			if tt.diffs != nil {
				assert.Equal(t, pulumirpc.PropertyDiff_UPDATE, resp.GetDetailedDiff()["kube"].GetKind())
			}
		})
	}

	prev, err := p.Update(context.Background(), &pulumirpc.UpdateRequest{
		Urn: urn(provider.ClusterType, "dev-cluster"), Id: "id", Preview: true,
		Olds: props(t, liteState), News: props(t, kube),
	})
	require.NoError(t, err)
	outs := unprops(t, prev.GetProperties())
	for _, k := range []resource.PropertyKey{"endpoint", "kubeconfig", "kubeVersion"} {
		assert.True(t, outs[k].IsComputed(), "%s is unknown until the control plane runs", k)
	}
	assert.Equal(t, "1.31", outs["version"].StringValue())
}

// TestLiteDaemonRefusesAControlPlane: a program that asks for a control plane (kube
// true) from a daemon started with FLEETSIM_KUBE=off is refused, naming both settings,
// for a new cluster (also in preview) and for an existing one; lite programs go on.
func TestLiteDaemonRefusesAControlPlane(t *testing.T) {
	t.Parallel()
	p := startDaemon(t, nil)
	ctx := context.Background()
	in, _, liteState := clusterStates()
	kube := with(in, "kube", true)
	cu := urn(provider.ClusterType, "dev-cluster")
	wants := []string{
		`cluster "dev-cluster" asks for a Kubernetes control plane (stack config fleetsim:kube is not "off")`,
		"runs lite: it was started with FLEETSIM_KUBE=off",
		"`pulumi config set fleetsim:kube off`",
	}

	_, err := p.Diff(ctx, &pulumirpc.DiffRequest{Urn: cu, Id: "id", Olds: props(t, liteState), OldInputs: props(t, in), News: props(t, kube)})
	require.Error(t, err)
	for _, w := range wants {
		assert.Contains(t, err.Error(), w)
	}
	for _, preview := range []bool{true, false} {
		_, err = p.Create(ctx, &pulumirpc.CreateRequest{Urn: cu, Properties: props(t, kube), Preview: preview})
		require.Error(t, err, "preview %v", preview)
		for _, w := range wants {
			assert.Contains(t, err.Error(), w)
		}
	}

	created, err := p.Create(ctx, &pulumirpc.CreateRequest{Urn: cu, Properties: props(t, with(in, "kube", false))})
	require.NoError(t, err)
	assert.Empty(t, unprops(t, created.GetProperties())["kubeVersion"].StringValue())
	_, err = p.Delete(ctx, &pulumirpc.DeleteRequest{Urn: cu, Id: created.GetId()})
	require.NoError(t, err)
}

// TestUpdateGivesALiteClusterItsControlPlane: a cluster created by a lite daemon gets its
// control plane when the daemon is started again in kube mode on the same home; the
// update a kube-mode program then makes returns the plane's endpoint, kubeconfig and
// version, for what the program builds on them.
func TestUpdateGivesALiteClusterItsControlPlane(t *testing.T) {
	t.Parallel()
	home := t.TempDir()
	ctx := context.Background()
	in, _, _ := clusterStates()
	cu := urn(provider.ClusterType, "dev-cluster")
	lite, stop := startDaemonOn(t, home, nil)
	created, err := lite.Create(ctx, &pulumirpc.CreateRequest{Urn: cu, Properties: props(t, with(in, "kube", false))})
	require.NoError(t, err)
	require.Empty(t, unprops(t, created.GetProperties())["kubeVersion"].StringValue())
	stop()

	p, _ := startDaemonOn(t, home, planes{})
	kube := with(in, "kube", true)
	diff, err := p.Diff(ctx, &pulumirpc.DiffRequest{Urn: cu, Id: created.GetId(), Olds: created.GetProperties(), OldInputs: props(t, with(in, "kube", false)), News: props(t, kube)})
	require.NoError(t, err)
	require.Equal(t, []string{"kube"}, diff.GetDiffs())
	up, err := p.Update(ctx, &pulumirpc.UpdateRequest{Urn: cu, Id: created.GetId(), Olds: created.GetProperties(), News: props(t, kube)})
	require.NoError(t, err)
	outs := unprops(t, up.GetProperties())
	assert.Equal(t, "v1.31.4", outs["kubeVersion"].StringValue())
	assert.Equal(t, "https://127.0.0.1:6443", outs["endpoint"].StringValue())
	_, err = p.Delete(ctx, &pulumirpc.DeleteRequest{Urn: cu, Id: created.GetId()})
	require.NoError(t, err)
}
