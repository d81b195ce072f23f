package provider

import (
	"fmt"
	"math"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
)

// kind is the type of a resource property.
type kind int

const (
	kString kind = iota
	kStringList
	kStringMap
	kInt
	kTaints
	kBool
)

// absent says what a missing optional input means.
type absent int

const (
	absentEmpty  absent = iota // the empty value: tags, labels, taints
	absentIgnore               // "no opinion": the cloud keeps its value (a pool's zones, version)
)

// prop describes one input property of a resource type.
type prop struct {
	name    string
	kind    kind
	replace bool // a change replaces the resource: the cloud cannot change it in place
	absent  absent
	doc     string
}

var clusterProps = []prop{
	{name: "name", kind: kString, replace: true, doc: "The cluster's name, unique per region; defaults to the resource's name."},
	{name: "region", kind: kString, replace: true, doc: "The region, e.g. sim-east-1."},
	{name: "zones", kind: kStringList, replace: true, doc: "The zones of the region the cluster spans; defaults to all three."},
	{name: "version", kind: kString, doc: "The Kubernetes minor version, e.g. 1.31; upgraded one minor at a time."},
	{name: "vpcCidr", kind: kString, replace: true, doc: "The VPC's address range."},
	{name: "podCidr", kind: kString, replace: true, doc: "The pods' address range."},
	{name: "serviceCidr", kind: kString, replace: true, doc: "The services' address range."},
	{name: "tags", kind: kStringMap, doc: "Cost-allocation tags."},
	{name: "kube", kind: kBool, absent: absentIgnore, doc: "Whether the program builds on the cluster's Kubernetes API: true asks for a control plane (the simulator's kube mode), false runs the cluster lite (stack config fleetsim:kube \"off\"). Unset leaves it to the daemon's mode. A program that turns a cluster with a control plane lite is refused, because it would delete everything in the cluster."},
}

var poolProps = []prop{
	{name: "name", kind: kString, replace: true, doc: "The pool's name, unique in its cluster; defaults to the resource's name."},
	{name: "cluster", kind: kString, replace: true, doc: "The cluster: its id, <region>/<name>, or a name unique across regions."},
	{name: "capacityType", kind: kString, replace: true, doc: "spot or on-demand (the default)."},
	{name: "instanceTypes", kind: kStringList, replace: true, doc: "Instance types; nodes run the first."},
	{name: "zones", kind: kStringList, replace: true, absent: absentIgnore, doc: "Zones, a subset of the cluster's; defaults to the cluster's."},
	{name: "minSize", kind: kInt, doc: "Minimum size (default 1)."},
	{name: "maxSize", kind: kInt, doc: "Maximum size (default max(2, desiredSize))."},
	{name: "desiredSize", kind: kInt, doc: "Desired size (default minSize)."},
	{name: "version", kind: kString, absent: absentIgnore, doc: "The Kubernetes minor version; defaults to the control plane's."},
	{name: "labels", kind: kStringMap, doc: "Node labels."},
	{name: "taints", kind: kTaints, doc: "Node taints."},
	{name: "tags", kind: kStringMap, doc: "Cost-allocation tags."},
	{name: "provisionTimeout", kind: kInt, doc: "Seconds of simulated time the autoscaler waits for this pool before its fallback takes over (default 300)."},
	{name: "fallbackFor", kind: kString, doc: "The spot pool of the same cluster this on-demand pool backs during a spot shortage."},
}

// unwrap returns v without secret wrappers.
func unwrap(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	if v.IsOutput() {
		o := v.OutputValue()
		if !o.Known {
			return resource.MakeComputed(resource.NewStringProperty(""))
		}
		return unwrap(o.Element)
	}
	return v
}

// unknown reports whether v, or anything in it, is not known yet (during preview).
func unknown(v resource.PropertyValue) bool { return unwrap(v).ContainsUnknowns() }

// decoded is the known, plain value of a property, or the reason it has none.
func decode(p prop, v resource.PropertyValue) (any, error) {
	v = unwrap(v)
	if v.IsNull() {
		return nil, nil
	}
	switch p.kind {
	case kString:
		if !v.IsString() {
			return nil, fmt.Errorf("must be a string")
		}
		return v.StringValue(), nil
	case kBool:
		if !v.IsBool() {
			return nil, fmt.Errorf("must be true or false")
		}
		return v.BoolValue(), nil
	case kInt:
		if !v.IsNumber() {
			return nil, fmt.Errorf("must be a whole number")
		}
		n := v.NumberValue()
		if n != math.Trunc(n) || math.Abs(n) > 1e9 {
			return nil, fmt.Errorf("%v must be a whole number", n)
		}
		return int(n), nil
	case kStringList:
		if !v.IsArray() {
			return nil, fmt.Errorf("must be a list of strings")
		}
		out := []string{}
		for _, e := range v.ArrayValue() {
			e = unwrap(e)
			if !e.IsString() {
				return nil, fmt.Errorf("must be a list of strings")
			}
			out = append(out, e.StringValue())
		}
		return out, nil
	case kStringMap:
		if !v.IsObject() {
			return nil, fmt.Errorf("must be a map of strings")
		}
		out := map[string]string{}
		for k, e := range v.ObjectValue() {
			e = unwrap(e)
			if !e.IsString() {
				return nil, fmt.Errorf("the value of %q must be a string", string(k))
			}
			out[string(k)] = e.StringValue()
		}
		return out, nil
	case kTaints:
		if !v.IsArray() {
			return nil, fmt.Errorf("must be a list of {key, value, effect}")
		}
		out := []cloud.Taint{}
		for _, e := range v.ArrayValue() {
			e = unwrap(e)
			if !e.IsObject() {
				return nil, fmt.Errorf("must be a list of {key, value, effect}")
			}
			var t cloud.Taint
			for k, f := range e.ObjectValue() {
				f = unwrap(f)
				if !f.IsString() && !f.IsNull() {
					return nil, fmt.Errorf("taint field %q must be a string", string(k))
				}
				s := ""
				if f.IsString() {
					s = f.StringValue()
				}
				switch k {
				case "key":
					t.Key = s
				case "value":
					t.Value = s
				case "effect":
					t.Effect = s
				default:
					return nil, fmt.Errorf("a taint has key, value and effect; not %q", string(k))
				}
			}
			out = append(out, t)
		}
		return out, nil
	}
	return nil, fmt.Errorf("unsupported property kind")
}

// encode turns a plain value into a property value.
func encode(v any) resource.PropertyValue {
	switch x := v.(type) {
	case nil:
		return resource.NewNullProperty()
	case string:
		return resource.NewStringProperty(x)
	case bool:
		return resource.NewBoolProperty(x)
	case int:
		return resource.NewNumberProperty(float64(x))
	case float64:
		return resource.NewNumberProperty(x)
	case []string:
		arr := make([]resource.PropertyValue, len(x))
		for i, s := range x {
			arr[i] = resource.NewStringProperty(s)
		}
		return resource.NewArrayProperty(arr)
	case map[string]string:
		m := resource.PropertyMap{}
		for k, s := range x {
			m[resource.PropertyKey(k)] = resource.NewStringProperty(s)
		}
		return resource.NewObjectProperty(m)
	case []cloud.Taint:
		arr := make([]resource.PropertyValue, len(x))
		for i, t := range x {
			m := resource.PropertyMap{"key": resource.NewStringProperty(t.Key), "effect": resource.NewStringProperty(t.Effect)}
			if t.Value != "" {
				m["value"] = resource.NewStringProperty(t.Value)
			}
			arr[i] = resource.NewObjectProperty(m)
		}
		return resource.NewArrayProperty(arr)
	}
	panic(fmt.Sprintf("encode: unsupported %T", v))
}

// equal compares two plain values of a property, treating missing and empty alike.
func equal(p prop, a, b any) bool {
	switch p.kind {
	case kString:
		s1, _ := a.(string)
		s2, _ := b.(string)
		return s1 == s2
	case kBool:
		b1, ok1 := a.(bool)
		b2, ok2 := b.(bool)
		return ok1 == ok2 && b1 == b2
	case kInt:
		i1, ok1 := a.(int)
		i2, ok2 := b.(int)
		return ok1 == ok2 && i1 == i2
	case kStringList:
		l1, _ := a.([]string)
		l2, _ := b.([]string)
		if len(l1) != len(l2) {
			return false
		}
		for i := range l1 {
			if l1[i] != l2[i] {
				return false
			}
		}
		return true
	case kStringMap:
		m1, _ := a.(map[string]string)
		m2, _ := b.(map[string]string)
		if len(m1) != len(m2) {
			return false
		}
		for k, v := range m1 {
			if w, ok := m2[k]; !ok || w != v {
				return false
			}
		}
		return true
	case kTaints:
		t1, _ := a.([]cloud.Taint)
		t2, _ := b.([]cloud.Taint)
		if len(t1) != len(t2) {
			return false
		}
		for i := range t1 {
			if t1[i] != t2[i] {
				return false
			}
		}
		return true
	}
	return false
}

// inputs is a decoded property map: the known values, and which properties are unknown.
type inputs struct {
	values  map[string]any
	unknown map[string]bool
}

func (in inputs) str(name string) string {
	s, _ := in.values[name].(string)
	return s
}

func (in inputs) strs(name string) []string {
	s, _ := in.values[name].([]string)
	return s
}

func (in inputs) strMap(name string) map[string]string {
	m, _ := in.values[name].(map[string]string)
	if len(m) == 0 {
		return nil
	}
	return m
}

// kube is the cluster's kube input when it is known, or nil when it is unset or unknown.
func (in inputs) kube() *bool {
	if b, ok := in.values["kube"].(bool); ok {
		return &b
	}
	return nil
}

func (in inputs) intPtr(name string) *int {
	if n, ok := in.values[name].(int); ok {
		return &n
	}
	return nil
}

func (in inputs) has(name string) bool {
	_, ok := in.values[name]
	return ok || in.unknown[name]
}

// decodeInputs decodes every property of a map against a resource's table. Problems
// (a wrong type, an unknown property) come back as check failures.
func decodeInputs(props []prop, m resource.PropertyMap) (inputs, []failure) {
	in := inputs{values: map[string]any{}, unknown: map[string]bool{}}
	var fails []failure
	known := map[string]prop{}
	for _, p := range props {
		known[p.name] = p
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, string(k))
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := m[resource.PropertyKey(k)]
		p, ok := known[k]
		if !ok {
			if k != "__defaults" {
				fails = append(fails, failure{k, fmt.Sprintf("%q is not a property of this resource", k)})
			}
			continue
		}
		if unknown(v) {
			in.unknown[k] = true
			continue
		}
		x, err := decode(p, v)
		if err != nil {
			fails = append(fails, failure{k, err.Error()})
			continue
		}
		if x != nil {
			in.values[k] = x
		}
	}
	return in, fails
}

type failure struct{ property, reason string }
