package pulumitest

import (
	"context"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/internals"
)

// Await resolves an output of a program that ran, failing the test when it is unknown.
func Await(t testing.TB, o pulumi.Output) any {
	t.Helper()
	res, err := internals.UnsafeAwaitOutput(context.Background(), o)
	if err != nil {
		t.Fatalf("await output: %v", err)
	}
	if !res.Known {
		t.Fatalf("output is unknown")
	}
	return res.Value
}

// Prop walks into a property by object keys (string) and array indices (int), seeing
// through secrets, and fails the test when the path does not exist.
func Prop(t testing.TB, v resource.PropertyValue, path ...any) resource.PropertyValue {
	t.Helper()
	v = unsecret(v)
	for _, p := range path {
		switch k := p.(type) {
		case string:
			if !v.IsObject() {
				t.Fatalf("at %q: not an object: %v", k, v)
			}
			next, ok := v.ObjectValue()[resource.PropertyKey(k)]
			if !ok {
				t.Fatalf("no property %q in %v", k, v)
			}
			v = next
		case int:
			if !v.IsArray() || k < 0 || k >= len(v.ArrayValue()) {
				t.Fatalf("at [%d]: not an array of that length: %v", k, v)
			}
			v = v.ArrayValue()[k]
		default:
			t.Fatalf("path element %v is neither a key nor an index", p)
		}
		v = unsecret(v)
	}
	return v
}

// Input is Prop on a resource's inputs.
func (r Resource) Input(t testing.TB, path ...any) resource.PropertyValue {
	t.Helper()
	return Prop(t, resource.NewProperty(r.Inputs), path...)
}

// PropStrings reads an array of strings.
func PropStrings(t testing.TB, v resource.PropertyValue) []string {
	t.Helper()
	v = unsecret(v)
	if !v.IsArray() {
		t.Fatalf("not an array: %v", v)
	}
	out := make([]string, 0, len(v.ArrayValue()))
	for _, e := range v.ArrayValue() {
		out = append(out, unsecret(e).StringValue())
	}
	return out
}

// PropStringMap reads an object of strings.
func PropStringMap(t testing.TB, v resource.PropertyValue) map[string]string {
	t.Helper()
	v = unsecret(v)
	if !v.IsObject() {
		t.Fatalf("not an object: %v", v)
	}
	out := map[string]string{}
	for k, e := range v.ObjectValue() {
		out[string(k)] = unsecret(e).StringValue()
	}
	return out
}

func unsecret(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}
