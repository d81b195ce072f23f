// Package provider is fleetsim's Pulumi resource provider: it serves the engine's gRPC
// interface directly (no pulumi/pkg dependency) and drives the simulated cloud through
// its daemon, as a real cloud's provider drives that cloud's API. It implements the types
// fleetsim:index:Cluster and fleetsim:index:NodePool.
//
//	func main() {
//		if err := provider.Main(); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//	}
package provider

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pprovider "github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/flotilla-io/flotilla/internal/fleetsim/client"
	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
)

// Resource type tokens.
const (
	ClusterType  = "fleetsim:index:Cluster"
	NodePoolType = "fleetsim:index:NodePool"
)

// Name is the provider's package name; the plugin binary is pulumi-resource-<Name>.
const Name = "fleetsim"

// Main serves the provider to the engine that started the plugin.
func Main() error {
	return pprovider.Main(Name, func(*pprovider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		return New(client.Options{AutoStart: os.Getenv(client.EnvAddr) == ""}), nil
	})
}

// Provider implements the engine's resource-provider interface over the fleetsim daemon.
type Provider struct {
	pulumirpc.UnimplementedResourceProviderServer

	mu     sync.Mutex
	opts   client.Options
	client *client.Client
	// health is the daemon's description, once asked (daemonHealth).
	health      cloud.Health
	healthKnown bool
	ctx         context.Context // cancelled by Cancel
	cancel      context.CancelFunc
}

// New returns a provider that reaches the daemon with a client made from opts, which
// the provider's configuration (addr, home) may override.
func New(opts client.Options) *Provider {
	ctx, cancel := context.WithCancel(context.Background())
	return &Provider{opts: opts, ctx: ctx, cancel: cancel}
}

func (p *Provider) cloud() (*client.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.client == nil {
		c, err := client.New(p.opts)
		if err != nil {
			return nil, err
		}
		p.client = c
	}
	return p.client, nil
}

// opContext ends when the engine cancels, the request ends, or the resource's custom
// timeout (seconds, 0 for none) passes.
func (p *Provider) opContext(ctx context.Context, timeout float64) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(p.ctx, cancel)
	if timeout > 0 {
		var tcancel context.CancelFunc
		ctx, tcancel = context.WithTimeout(ctx, time.Duration(timeout*float64(time.Second)))
		return ctx, func() { tcancel(); stop(); cancel() }
	}
	return ctx, func() { stop(); cancel() }
}

// GetPluginInfo returns the plugin's version.
func (p *Provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: cloud.Version}, nil
}

// GetSchema returns the package schema.
func (p *Provider) GetSchema(_ context.Context, req *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	if req.GetVersion() > 0 && req.GetSubpackageName() != "" {
		return nil, fmt.Errorf("fleetsim has no subpackage %q", req.GetSubpackageName())
	}
	return &pulumirpc.GetSchemaResponse{Schema: Schema()}, nil
}

// CheckConfig accepts the provider's configuration: addr (a daemon's loopback address)
// and home (a state directory), both optional; without them the daemon is found through
// FLEETSIM_ADDR and FLEETSIM_HOME. Other keys are ignored.
func (p *Provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := plugin.UnmarshalProperties(req.GetNews(), keep)
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.CheckResponse{Inputs: req.GetNews()}
	for _, k := range []resource.PropertyKey{"addr", "home"} {
		if v, ok := news[k]; ok && !unknown(v) && !unwrap(v).IsString() && !unwrap(v).IsNull() {
			resp.Failures = append(resp.Failures, &pulumirpc.CheckFailure{Property: string(k), Reason: "must be a string"})
		}
	}
	return resp, nil
}

// DiffConfig reports that configuration changes never replace the provider.
func (p *Provider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

// Configure reads addr and home; it accepts secrets, and leaves previews to the engine.
func (p *Provider) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	get := func(key string) string {
		if req.GetArgs() != nil {
			args, err := plugin.UnmarshalProperties(req.GetArgs(), plain)
			if err == nil {
				if v := unwrap(args[resource.PropertyKey(key)]); v.IsString() {
					return v.StringValue()
				}
			}
		}
		// Engines older than the args field send config as variables only.
		return req.GetVariables()[Name+":config:"+key] //nolint:staticcheck // kept for older engines
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if addr := get("addr"); addr != "" {
		p.opts.Addr, p.opts.AutoStart = addr, false
	}
	if home := get("home"); home != "" {
		p.opts.Home = home
	}
	p.client, p.healthKnown = nil, false
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}

// Cancel stops every operation in progress.
func (p *Provider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	p.cancel()
	return &emptypb.Empty{}, nil
}

var (
	keep   = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}
	plain  = plugin.MarshalOptions{KeepUnknowns: true, SkipNulls: true}
	output = plugin.MarshalOptions{KeepSecrets: true}
)

func typeOf(urn string) (string, error) {
	u, err := resource.ParseURN(urn)
	if err != nil {
		return "", err
	}
	t := string(u.Type())
	if t != ClusterType && t != NodePoolType {
		return "", fmt.Errorf("fleetsim has no resource type %q (it has %s and %s)", t, ClusterType, NodePoolType)
	}
	return t, nil
}

func nameOf(urn string) string {
	u, err := resource.ParseURN(urn)
	if err != nil {
		return ""
	}
	return u.Name()
}

func propsOf(t string) []prop {
	if t == ClusterType {
		return clusterProps
	}
	return poolProps
}

// Check validates a resource's inputs and fills their defaults, reporting every
// problem at once.
func (p *Provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	t, err := typeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), keep)
	if err != nil {
		return nil, err
	}
	name := req.GetName()
	if name == "" {
		name = nameOf(req.GetUrn())
	}
	var fails []failure
	if t == ClusterType {
		fails = checkCluster(news, name)
	} else {
		fails = checkNodePool(news, name)
	}
	out, err := plugin.MarshalProperties(news, keep)
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.CheckResponse{Inputs: out}
	for _, f := range fails {
		resp.Failures = append(resp.Failures, &pulumirpc.CheckFailure{Property: f.property, Reason: f.reason})
	}
	return resp, nil
}

// setDefault sets a missing property.
func setDefault(m resource.PropertyMap, key string, v any) {
	if _, ok := m[resource.PropertyKey(key)]; !ok {
		m[resource.PropertyKey(key)] = encode(v)
	}
}

func checkCluster(news resource.PropertyMap, name string) []failure {
	in, fails := decodeInputs(clusterProps, news)
	if !in.has("name") {
		setDefault(news, "name", name)
	}
	if !in.has("region") {
		fails = append(fails, failure{"region", "a cluster needs a region (one of " + joinRegions() + ")"})
	}
	if !in.has("zones") && cloud.IsRegion(in.str("region")) {
		setDefault(news, "zones", cloud.Zones(in.str("region")))
	}
	setDefault(news, "version", cloud.DefaultVersion)
	setDefault(news, "vpcCidr", cloud.DefaultVpcCIDR)
	setDefault(news, "podCidr", cloud.DefaultPodCIDR)
	setDefault(news, "serviceCidr", cloud.DefaultServiceCIDR)
	in, _ = decodeInputs(clusterProps, news)
	return merge(fails, keepKnown(clusterSpec(in).Validate(), in, [][]string{{"vpcCidr", "podCidr", "serviceCidr"}, {"region", "zones"}}))
}

// merge adds the cloud's failures to the ones found while decoding, one per property.
func merge(fails, more []failure) []failure {
	seen := map[string]bool{}
	for _, f := range fails {
		seen[f.property] = true
	}
	for _, f := range more {
		if !seen[f.property] {
			fails = append(fails, f)
		}
	}
	return fails
}

func checkNodePool(news resource.PropertyMap, name string) []failure {
	in, fails := decodeInputs(poolProps, news)
	if !in.has("name") {
		setDefault(news, "name", name)
	}
	if !in.has("cluster") {
		fails = append(fails, failure{"cluster", "a node pool needs its cluster: pass the cluster's id (or name)"})
	}
	if !in.has("instanceTypes") {
		fails = append(fails, failure{"instanceTypes", `at least one instance type is required (e.g. "m6i.large")`})
	}
	setDefault(news, "capacityType", cloud.OnDemand)
	setDefault(news, "provisionTimeout", cloud.DefaultProvisionTimeout)
	if !in.unknown["minSize"] && !in.unknown["maxSize"] && !in.unknown["desiredSize"] {
		mn, mx, d := cloud.DefaultPoolSizes(in.intPtr("minSize"), in.intPtr("maxSize"), in.intPtr("desiredSize"))
		setDefault(news, "minSize", mn)
		setDefault(news, "maxSize", mx)
		setDefault(news, "desiredSize", d)
	}
	in, _ = decodeInputs(poolProps, news)
	return merge(fails, keepKnown(poolSpec(in).Validate(), in, [][]string{{"minSize", "maxSize", "desiredSize"}, {"labels", "capacityType"}, {"fallbackFor", "capacityType", "name"}}))
}

// keepKnown turns the cloud's field errors into check failures, leaving out those that
// may only come from values not known yet: a failure about a field of a group is kept
// only when every field of the group is known.
func keepKnown(fe cloud.FieldErrors, in inputs, groups [][]string) []failure {
	var out []failure
	for _, e := range fe {
		if in.unknown[e.Field] {
			continue
		}
		skip := false
		for _, g := range groups {
			if slices.Contains(g, e.Field) {
				for _, f := range g {
					if in.unknown[f] {
						skip = true
					}
				}
			}
		}
		if !skip {
			out = append(out, failure{e.Field, e.Message})
		}
	}
	return out
}

func joinRegions() string {
	out := ""
	for i, r := range cloud.Regions() {
		if i > 0 {
			out += ", "
		}
		out += r
	}
	return out
}

func clusterSpec(in inputs) cloud.ClusterSpec {
	return cloud.ClusterSpec{
		Name: in.str("name"), Region: in.str("region"), Zones: in.strs("zones"), Version: in.str("version"),
		VpcCIDR: in.str("vpcCidr"), PodCIDR: in.str("podCidr"), ServiceCIDR: in.str("serviceCidr"), Tags: in.strMap("tags"),
	}
}

func poolSpec(in inputs) cloud.NodePoolSpec {
	s := cloud.NodePoolSpec{
		Name: in.str("name"), Cluster: in.str("cluster"), CapacityType: in.str("capacityType"),
		InstanceTypes: in.strs("instanceTypes"), Zones: in.strs("zones"), Version: in.str("version"),
		Labels: in.strMap("labels"), Tags: in.strMap("tags"), FallbackFor: in.str("fallbackFor"),
	}
	if t, ok := in.values["taints"].([]cloud.Taint); ok && len(t) > 0 {
		s.Taints = t
	}
	for name, into := range map[string]*int{"minSize": &s.MinSize, "maxSize": &s.MaxSize, "desiredSize": &s.DesiredSize, "provisionTimeout": &s.ProvisionTimeout} {
		if n := in.intPtr(name); n != nil {
			*into = *n
		}
	}
	return s
}

// Diff compares the program's inputs with the resource's last known state (its outputs,
// which a refresh brings up to date with out-of-band changes). Region, zones, address
// ranges, capacity type and instance types replace; everything else updates in place.
//
// A cluster's kube input is the program's mode, not the cluster's: Diff refuses a lite
// program over a cluster with a control plane (refuseLite) and a program that asks for
// a control plane from a lite daemon, and reports an update when a lite cluster gains
// the control plane its program now asks for, so that its outputs are read again.
func (p *Provider) Diff(ctx context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	t, err := typeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	olds, err := plugin.UnmarshalProperties(req.GetOlds(), plain)
	if err != nil {
		return nil, err
	}
	news, err := plugin.UnmarshalProperties(req.GetNews(), plain)
	if err != nil {
		return nil, err
	}
	props := propsOf(t)
	oldIn, _ := decodeInputs(props, pick(props, olds))
	newIn, _ := decodeInputs(props, news)
	resp := &pulumirpc.DiffResponse{DetailedDiff: map[string]*pulumirpc.PropertyDiff{}, HasDetailedDiff: true}
	if t == ClusterType {
		gains, err := p.diffKube(ctx, req, olds, newIn)
		if err != nil {
			return nil, err
		}
		if gains {
			resp.Diffs = append(resp.Diffs, "kube")
			resp.DetailedDiff["kube"] = &pulumirpc.PropertyDiff{Kind: pulumirpc.PropertyDiff_UPDATE, InputDiff: true}
		}
	}
	for _, pr := range props {
		if pr.name == "kube" {
			continue // diffKube
		}
		changed := false
		switch {
		case newIn.unknown[pr.name]:
			changed = true
		case !newIn.has(pr.name) && pr.absent == absentIgnore:
		default:
			changed = !equal(pr, oldIn.values[pr.name], newIn.values[pr.name])
		}
		if !changed {
			continue
		}
		kind := pulumirpc.PropertyDiff_UPDATE
		if pr.replace {
			kind = pulumirpc.PropertyDiff_UPDATE_REPLACE
			resp.Replaces = append(resp.Replaces, pr.name)
		}
		resp.Diffs = append(resp.Diffs, pr.name)
		resp.DetailedDiff[pr.name] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	resp.Changes = pulumirpc.DiffResponse_DIFF_NONE
	if len(resp.Diffs) > 0 {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	// A replacement that keeps its name in the same scope (a cluster's region, a pool's
	// cluster) would collide with the resource it replaces, so the old one goes first,
	// as Pulumi's bridged providers do for explicitly named resources.
	if len(resp.Replaces) > 0 {
		scope := "region"
		if t == NodePoolType {
			scope = "cluster"
		}
		sameName := !newIn.unknown["name"] && newIn.str("name") == oldIn.str("name")
		sameScope := !newIn.unknown[scope] && newIn.str(scope) == oldIn.str(scope)
		resp.DeleteBeforeReplace = sameName && sameScope
	}
	return resp, nil
}

// diffKube judges a cluster's kube input against its state; see Diff. It reports
// whether the update gives the cluster its control plane.
func (p *Provider) diffKube(ctx context.Context, req *pulumirpc.DiffRequest, olds resource.PropertyMap, newIn inputs) (bool, error) {
	kube := newIn.kube()
	if kube == nil {
		return false, nil // no opinion: the daemon's mode decides, as before the input
	}
	oldInputs, err := plugin.UnmarshalProperties(req.GetOldInputs(), plain)
	if err != nil {
		return false, err
	}
	name := nameOf(req.GetUrn())
	if err := refuseLite(name, olds, oldInputs, newIn); err != nil {
		return false, err
	}
	if !*kube {
		return false, nil
	}
	c, err := p.cloud()
	if err != nil {
		return false, err
	}
	if err := p.refuseLiteDaemon(ctx, c, name, newIn); err != nil {
		return false, err
	}
	return gainsPlane(olds, newIn), nil
}

// pick keeps the input properties of a map of outputs.
func pick(props []prop, m resource.PropertyMap) resource.PropertyMap {
	out := resource.PropertyMap{}
	for _, p := range props {
		if v, ok := m[resource.PropertyKey(p.name)]; ok {
			out[resource.PropertyKey(p.name)] = v
		}
	}
	return out
}

func newToken() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Create creates the resource in the simulated cloud and waits until it is ready.
func (p *Provider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	t, err := typeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	c, err := p.cloud()
	if err != nil {
		return nil, err
	}
	if t == ClusterType {
		in, err := plugin.UnmarshalProperties(req.GetProperties(), plain)
		if err != nil {
			return nil, err
		}
		checked, _ := decodeInputs(clusterProps, in)
		if err := p.refuseLiteDaemon(ctx, c, nameOf(req.GetUrn()), checked); err != nil {
			return nil, err
		}
	}
	if req.GetPreview() {
		props, err := previewOutputs(t, nil, req.GetProperties())
		return &pulumirpc.CreateResponse{Properties: props}, err
	}
	in, err := p.inputs(t, req.GetProperties())
	if err != nil {
		return nil, err
	}
	ctx, cancel := p.opContext(ctx, req.GetTimeout())
	defer cancel()
	var id string
	var outs resource.PropertyMap
	if t == ClusterType {
		cl, err := c.CreateCluster(ctx, clusterSpec(in), newToken())
		if err != nil {
			return nil, err
		}
		id, outs = cl.ID, clusterOutputs(cl)
	} else {
		np, err := c.CreateNodePool(ctx, poolSpec(in), newToken())
		if err != nil {
			return nil, err
		}
		id, outs = np.ID, poolOutputs(np)
	}
	props, err := plugin.MarshalProperties(outs, output)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

func (p *Provider) inputs(t string, s *structpb.Struct) (inputs, error) {
	m, err := plugin.UnmarshalProperties(s, plugin.MarshalOptions{SkipNulls: true})
	if err != nil {
		return inputs{}, err
	}
	in, fails := decodeInputs(propsOf(t), m)
	if len(fails) > 0 {
		return in, fmt.Errorf("%s: %s", fails[0].property, fails[0].reason)
	}
	return in, nil
}

// Read returns the simulated cloud's view of the resource, so that a refresh sees
// changes made outside Pulumi. A resource the cloud no longer has reads as gone.
func (p *Provider) Read(ctx context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	t, err := typeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	c, err := p.cloud()
	if err != nil {
		return nil, err
	}
	ctx, cancel := p.opContext(ctx, req.GetTimeout())
	defer cancel()
	var outs resource.PropertyMap
	if t == ClusterType {
		cl, err := c.GetCluster(ctx, req.GetId())
		if cloud.IsNotFound(err) {
			return &pulumirpc.ReadResponse{}, nil
		}
		if err != nil {
			return nil, err
		}
		outs = clusterOutputs(cl)
	} else {
		np, err := c.GetNodePool(ctx, req.GetId())
		if cloud.IsNotFound(err) {
			return &pulumirpc.ReadResponse{}, nil
		}
		if err != nil {
			return nil, err
		}
		outs = poolOutputs(np)
	}
	// The inputs keep the properties the program set, with the cloud's values.
	oldInputs, err := plugin.UnmarshalProperties(req.GetInputs(), keep)
	if err != nil {
		return nil, err
	}
	ins := resource.PropertyMap{}
	for _, pr := range propsOf(t) {
		k := resource.PropertyKey(pr.name)
		if _, set := oldInputs[k]; set || req.GetInputs() == nil {
			if v, ok := outs[k]; ok {
				ins[k] = v
			}
		}
	}
	// The mode is the program's, not the cloud's: a refresh keeps it.
	if v, ok := oldInputs["kube"]; ok && t == ClusterType {
		ins["kube"] = v
	}
	props, err := plugin.MarshalProperties(outs, output)
	if err != nil {
		return nil, err
	}
	inProps, err := plugin.MarshalProperties(ins, output)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: props, Inputs: inProps}, nil
}

// Update changes the resource in place and waits for the change (an upgrade, a pool
// rolling) to complete.
func (p *Provider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	t, err := typeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	c, err := p.cloud()
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		props, err := previewOutputs(t, req.GetOlds(), req.GetNews())
		if err != nil || t != ClusterType {
			return &pulumirpc.UpdateResponse{Properties: props}, err
		}
		props, err = previewPlane(req.GetOlds(), req.GetNews(), props)
		return &pulumirpc.UpdateResponse{Properties: props}, err
	}
	in, err := p.inputs(t, req.GetNews())
	if err != nil {
		return nil, err
	}
	ctx, cancel := p.opContext(ctx, req.GetTimeout())
	defer cancel()
	var outs resource.PropertyMap
	if t == ClusterType {
		spec := clusterSpec(in)
		if spec.Tags == nil {
			spec.Tags = map[string]string{}
		}
		cl, err := c.UpdateCluster(ctx, req.GetId(), spec)
		if err != nil {
			return nil, err
		}
		if kube := in.kube(); kube != nil && *kube {
			if cl, err = waitPlane(ctx, c, cl); err != nil {
				return nil, err
			}
		}
		outs = clusterOutputs(cl)
	} else {
		np, err := c.UpdateNodePool(ctx, req.GetId(), poolSpec(in))
		if err != nil {
			return nil, err
		}
		outs = poolOutputs(np)
	}
	props, err := plugin.MarshalProperties(outs, output)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

// Delete deletes the resource and waits until it is gone.
func (p *Provider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	t, err := typeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	c, err := p.cloud()
	if err != nil {
		return nil, err
	}
	ctx, cancel := p.opContext(ctx, req.GetTimeout())
	defer cancel()
	if t == ClusterType {
		err = c.DeleteCluster(ctx, req.GetId())
	} else {
		err = c.DeleteNodePool(ctx, req.GetId())
	}
	if err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

// previewOutputs are the outputs a preview reports without calling the cloud: the new
// inputs over the current outputs (an update), or the inputs with every other output
// unknown (a create). An update keeps what it does not change known, as the clouds'
// plans do: a version upgrade leaves a cluster's endpoint and kubeconfig as they are,
// so that the Kubernetes provider built from them is not seen as replaced.
func previewOutputs(t string, olds, news *structpb.Struct) (*structpb.Struct, error) {
	opts := plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}
	in, err := plugin.UnmarshalProperties(news, opts)
	if err != nil {
		return nil, err
	}
	out := resource.PropertyMap{}
	if olds != nil {
		if out, err = plugin.UnmarshalProperties(olds, opts); err != nil {
			return nil, err
		}
	} else {
		all := poolOutputs(&cloud.NodePool{})
		if t == ClusterType {
			all = clusterOutputs(&cloud.Cluster{})
		}
		for k := range all {
			out[k] = resource.MakeComputed(resource.NewStringProperty(""))
		}
	}
	for k, v := range in {
		out[k] = v
	}
	return plugin.MarshalProperties(out, opts)
}

// previewPlane marks unknown, in the preview of a cluster's update, the outputs that
// change when a lite cluster gains its control plane (gainsPlane), so that what is built
// from its kubeconfig waits for the new one.
func previewPlane(olds, news, props *structpb.Struct) (*structpb.Struct, error) {
	o, err := plugin.UnmarshalProperties(olds, plain)
	if err != nil {
		return nil, err
	}
	n, err := plugin.UnmarshalProperties(news, plain)
	if err != nil {
		return nil, err
	}
	newIn, _ := decodeInputs(clusterProps, n)
	if !gainsPlane(o, newIn) {
		return props, nil
	}
	opts := plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}
	out, err := plugin.UnmarshalProperties(props, opts)
	if err != nil {
		return nil, err
	}
	for _, k := range []resource.PropertyKey{"endpoint", "kubeconfig", "kubeVersion"} {
		out[k] = resource.MakeComputed(resource.NewStringProperty(""))
	}
	return plugin.MarshalProperties(out, opts)
}

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

func clusterOutputs(c *cloud.Cluster) resource.PropertyMap {
	return resource.PropertyMap{
		"name":        encode(c.Name),
		"region":      encode(c.Region),
		"zones":       encode(c.Zones),
		"version":     encode(c.Version),
		"vpcCidr":     encode(c.VpcCIDR),
		"podCidr":     encode(c.PodCIDR),
		"serviceCidr": encode(c.ServiceCIDR),
		"tags":        encode(orEmpty(c.Tags)),
		"endpoint":    encode(c.Endpoint),
		"kubeconfig":  resource.MakeSecret(encode(c.Kubeconfig)),
		"kubeVersion": encode(c.KubeVersion),
		"status":      encode(c.Status),
	}
}

func poolOutputs(n *cloud.NodePool) resource.PropertyMap {
	taints := n.Taints
	if taints == nil {
		taints = []cloud.Taint{}
	}
	return resource.PropertyMap{
		"name":             encode(n.Name),
		"cluster":          encode(n.Cluster),
		"clusterId":        encode(n.ClusterID),
		"capacityType":     encode(n.CapacityType),
		"instanceTypes":    encode(n.InstanceTypes),
		"zones":            encode(n.Zones),
		"minSize":          encode(n.MinSize),
		"maxSize":          encode(n.MaxSize),
		"desiredSize":      encode(n.DesiredSize),
		"version":          encode(n.Version),
		"labels":           encode(orEmpty(n.Labels)),
		"taints":           encode(taints),
		"tags":             encode(orEmpty(n.Tags)),
		"provisionTimeout": encode(n.ProvisionTimeout),
		"fallbackFor":      encode(n.FallbackFor),
		"readyNodes":       encode(n.ReadyNodes),
		"fallbackNodes":    encode(n.FallbackNodes),
		"hourlyCost":       encode(n.HourlyCost),
		"status":           encode(n.Status),
	}
}
