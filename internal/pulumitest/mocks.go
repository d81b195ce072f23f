// Package pulumitest is the recording mock that component tests run their programs under.
//
// It captures every resource registered with the engine (type, name, parent, provider
// and inputs) and every log message. The SDK's mock monitor does not run stack
// transforms; Mocks records them and applies them to each resource's inputs before
// recording, so that tests see the properties the engine would send to the provider.
//
//	m := pulumitest.New()
//	err := m.Run(func(ctx *pulumi.Context) error { ... })
//	vpc := m.MustGet(t, "aws:ec2/vpc:Vpc", "prod-vpc")
//	assert.Equal(t, "prod", vpc.Inputs["tags"].ObjectValue()["env"].StringValue())
package pulumitest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

// Project and Stack are the names Run gives the program under test.
const (
	Project = "flotilla"
	Stack   = "test"
)

// Resource is one registration as the engine (and so the provider) would see it.
type Resource struct {
	Type     string
	Name     string
	URN      string
	Parent   string // the parent's URN; empty for the stack's direct children
	Provider string // the provider reference, "urn::id"; empty for the default provider
	Custom   bool
	ID       string
	// Inputs are the properties after every stack transform ran.
	Inputs resource.PropertyMap
	// Raw are the properties the program registered, before transforms.
	Raw resource.PropertyMap
}

// Log is one message the program wrote through ctx.Log.
type Log struct {
	Severity string // debug, info, warn or error
	Message  string
	Resource string // the URN the message is about, if any
}

// OutputsFunc computes provider outputs for a resource; they are merged over its inputs.
type OutputsFunc func(r Resource) resource.PropertyMap

// Mocks is a pulumi.MockResourceMonitor that records what a program registers.
type Mocks struct {
	// Outputs, keyed by type token, adds the outputs a real provider would compute
	// (endpoints, certificate data, generated names).
	Outputs map[string]OutputsFunc
	// Calls, keyed by function token, answers invokes such as aws:index/getRegion.
	Calls map[string]func(args resource.PropertyMap) (resource.PropertyMap, error)

	mu         sync.Mutex
	resources  []Resource
	logs       []Log
	transforms []pulumi.ResourceTransform
	nextID     int
}

var _ pulumi.MockResourceMonitorWithTransforms = (*Mocks)(nil)

// New returns an empty recorder.
func New() *Mocks {
	return &Mocks{Outputs: map[string]OutputsFunc{}, Calls: map[string]func(resource.PropertyMap) (resource.PropertyMap, error){}}
}

// Run runs fn as a Pulumi program against the mocks and returns its error.
func (m *Mocks) Run(fn pulumi.RunFunc) error {
	return m.RunStack(Stack, fn)
}

// RunStack is Run with a stack name of the caller's choosing.
func (m *Mocks) RunStack(stack string, fn pulumi.RunFunc) error {
	return pulumi.RunErr(func(ctx *pulumi.Context) error {
		ctx.Log = &recordingLog{m: m}
		return fn(ctx)
	}, pulumi.WithMocks(Project, stack, m))
}

// RunWithConfig runs fn with the given stack configuration ("project:key" -> value).
func (m *Mocks) RunWithConfig(stack string, config map[string]string, fn pulumi.RunFunc) error {
	return pulumi.RunErr(func(ctx *pulumi.Context) error {
		ctx.Log = &recordingLog{m: m}
		return fn(ctx)
	}, pulumi.WithMocks(Project, stack, m), withConfig(config))
}

func withConfig(config map[string]string) pulumi.RunOption {
	return func(info *pulumi.RunInfo) {
		if info.Config == nil {
			info.Config = map[string]string{}
		}
		for k, v := range config {
			info.Config[k] = v
		}
	}
}

// NewResource records the registration after applying the stack transforms.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	m.mu.Lock()
	transforms := append([]pulumi.ResourceTransform(nil), m.transforms...)
	m.nextID++
	id := fmt.Sprintf("%s-id-%d", args.Name, m.nextID)
	m.mu.Unlock()
	if args.ID != "" {
		id = args.ID
	}

	parent := ""
	if args.RegisterRPC != nil {
		parent = args.RegisterRPC.GetParent()
	}
	inputs, err := applyTransforms(args, append(args.Transforms, transforms...))
	if err != nil {
		return "", nil, fmt.Errorf("%s %q: transform: %w", args.TypeToken, args.Name, err)
	}

	r := Resource{
		Type:     args.TypeToken,
		Name:     args.Name,
		Parent:   parent,
		Provider: args.Provider,
		Custom:   args.Custom,
		ID:       id,
		Inputs:   inputs,
		Raw:      args.Inputs,
	}
	r.URN = urnFor(r)
	if !args.Custom {
		id = ""
	}

	state := inputs.Copy()
	if f, ok := m.Outputs[args.TypeToken]; ok {
		for k, v := range f(r) {
			state[k] = v
		}
	}

	m.mu.Lock()
	m.resources = append(m.resources, r)
	m.mu.Unlock()
	return id, state, nil
}

// Call answers invokes from Calls, and with empty results otherwise.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if f, ok := m.Calls[args.Token]; ok {
		return f(args.Args)
	}
	return resource.PropertyMap{}, nil
}

// RegisterTransform records a stack transform; it applies to resources registered after it.
func (m *Mocks) RegisterTransform(t pulumi.ResourceTransform) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.transforms = append(m.transforms, t)
}

// RegisterInvokeTransform is not used by Flotilla; invokes are answered untransformed.
func (m *Mocks) RegisterInvokeTransform(pulumi.InvokeTransform) {}

// Resources returns every recorded resource, in registration order.
func (m *Mocks) Resources() []Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Resource(nil), m.resources...)
}

// ByType returns the recorded resources of one type token, in registration order.
func (m *Mocks) ByType(typ string) []Resource {
	var out []Resource
	for _, r := range m.Resources() {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	return out
}

// Get returns the resource of the given type and name.
func (m *Mocks) Get(typ, name string) (Resource, bool) {
	for _, r := range m.Resources() {
		if r.Type == typ && r.Name == name {
			return r, true
		}
	}
	return Resource{}, false
}

// MustGet is Get that fails the test when the resource was not registered.
func (m *Mocks) MustGet(t testing.TB, typ, name string) Resource {
	t.Helper()
	r, ok := m.Get(typ, name)
	if !ok {
		t.Fatalf("no %s named %q was registered; registered: %s", typ, name, strings.Join(m.Names(), ", "))
	}
	return r
}

// Children returns the resources whose parent is the given URN.
func (m *Mocks) Children(parentURN string) []Resource {
	var out []Resource
	for _, r := range m.Resources() {
		if r.Parent == parentURN {
			out = append(out, r)
		}
	}
	return out
}

// Names lists "type name" for every recorded resource, sorted, for failure messages.
func (m *Mocks) Names() []string {
	var out []string
	for _, r := range m.Resources() {
		out = append(out, r.Type+" "+r.Name)
	}
	sort.Strings(out)
	return out
}

// Logs returns every message written through ctx.Log.
func (m *Mocks) Logs() []Log {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Log(nil), m.logs...)
}

// Warnings returns the messages logged at warn severity.
func (m *Mocks) Warnings() []string {
	var out []string
	for _, l := range m.Logs() {
		if l.Severity == "warn" {
			out = append(out, l.Message)
		}
	}
	return out
}

// urnFor builds the URN the mock monitor gives a resource, so Parent fields can be matched.
func urnFor(r Resource) string {
	parentType := ""
	if p := resource.URN(r.Parent); p != "" && p.QualifiedType() != resource.RootStackType {
		parentType = string(p.QualifiedType())
	}
	typ := r.Type
	if parentType != "" {
		typ = parentType + "$" + r.Type
	}
	return fmt.Sprintf("urn:pulumi:%s::%s::%s::%s", stackOf(r.Parent), Project, typ, r.Name)
}

func stackOf(parent string) string {
	if parent == "" {
		return Stack
	}
	return string(resource.URN(parent).Stack())
}

// applyTransforms runs each transform in turn, as the engine does, on the resource's
// inputs converted to the SDK's input types, and converts the result back.
func applyTransforms(args pulumi.MockResourceArgs, transforms []pulumi.ResourceTransform) (resource.PropertyMap, error) {
	if len(transforms) == 0 {
		return args.Inputs, nil
	}
	props := toMap(args.Inputs)
	opts := pulumi.ResourceOptions{}
	for _, t := range transforms {
		res := t(context.Background(), &pulumi.ResourceTransformArgs{
			Custom: args.Custom,
			Type:   args.TypeToken,
			Name:   args.Name,
			Props:  props,
			Opts:   opts,
		})
		if res == nil {
			continue
		}
		props = res.Props
		opts = res.Opts
	}
	return fromMap(props)
}

// toMap mirrors the SDK's conversion of engine properties into a transform's Props.
func toMap(pm resource.PropertyMap) pulumi.Map {
	out := pulumi.Map{}
	for k, v := range pm {
		if in := toInput(v); in != nil {
			out[string(k)] = in
		}
	}
	return out
}

func toInput(v resource.PropertyValue) pulumi.Input {
	switch {
	case v.IsNull():
		return nil
	case v.IsBool():
		return pulumi.Bool(v.BoolValue())
	case v.IsNumber():
		return pulumi.Float64(v.NumberValue())
	case v.IsString():
		return pulumi.String(v.StringValue())
	case v.IsArray():
		arr := pulumi.Array{}
		for _, e := range v.ArrayValue() {
			arr = append(arr, toInput(e))
		}
		return arr
	case v.IsObject():
		return toMap(v.ObjectValue())
	case v.IsSecret():
		return pulumi.ToSecret(toInput(v.SecretValue().Element))
	case v.IsComputed(), v.IsOutput():
		return pulumi.UnsafeUnknownOutput(nil)
	default:
		return pulumi.Any(v.Mappable())
	}
}

// fromMap resolves a transform's result back into engine properties.
func fromMap(m pulumi.Map) (resource.PropertyMap, error) {
	out := resource.PropertyMap{}
	for k, in := range m {
		if in == nil {
			continue
		}
		v, err := fromInput(in)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[resource.PropertyKey(k)] = v
	}
	return out, nil
}

func fromInput(in pulumi.Input) (resource.PropertyValue, error) {
	switch v := in.(type) {
	case pulumi.String:
		return resource.NewProperty(string(v)), nil
	case pulumi.Bool:
		return resource.NewProperty(bool(v)), nil
	case pulumi.Float64:
		return resource.NewProperty(float64(v)), nil
	case pulumi.Int:
		return resource.NewProperty(float64(v)), nil
	case pulumi.Map:
		pm, err := fromMap(v)
		if err != nil {
			return resource.PropertyValue{}, err
		}
		return resource.NewProperty(pm), nil
	case pulumi.Array:
		arr := make([]resource.PropertyValue, 0, len(v))
		for _, e := range v {
			pv, err := fromInput(e)
			if err != nil {
				return resource.PropertyValue{}, err
			}
			arr = append(arr, pv)
		}
		return resource.NewProperty(arr), nil
	}
	out, ok := in.(pulumi.Output)
	if !ok {
		out = pulumi.ToOutput(in)
	}
	res, err := internals.UnsafeAwaitOutput(context.Background(), out)
	if err != nil {
		return resource.PropertyValue{}, err
	}
	if !res.Known {
		return resource.MakeComputed(resource.NewProperty("")), nil
	}
	pv := resource.NewPropertyValue(res.Value)
	if res.Secret {
		pv = resource.MakeSecret(pv)
	}
	return pv, nil
}

type recordingLog struct{ m *Mocks }

func (l *recordingLog) add(sev, msg string, args *pulumi.LogArgs) error {
	entry := Log{Severity: sev, Message: msg}
	if args != nil && args.Resource != nil {
		if urn, err := awaitURN(args.Resource); err == nil {
			entry.Resource = urn
		}
	}
	l.m.mu.Lock()
	defer l.m.mu.Unlock()
	l.m.logs = append(l.m.logs, entry)
	return nil
}

func awaitURN(r pulumi.Resource) (string, error) {
	res, err := internals.UnsafeAwaitOutput(context.Background(), r.URN())
	if err != nil {
		return "", err
	}
	s, ok := res.Value.(pulumi.URN)
	if !ok {
		return "", errors.New("urn is not known")
	}
	return string(s), nil
}

func (l *recordingLog) Debug(msg string, args *pulumi.LogArgs) error {
	return l.add("debug", msg, args)
}
func (l *recordingLog) Info(msg string, args *pulumi.LogArgs) error { return l.add("info", msg, args) }
func (l *recordingLog) Warn(msg string, args *pulumi.LogArgs) error { return l.add("warn", msg, args) }
func (l *recordingLog) Error(msg string, args *pulumi.LogArgs) error {
	return l.add("error", msg, args)
}
