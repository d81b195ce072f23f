package costtags

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// cloud is the family of resources one normalised tag map applies to.
type cloud int

const (
	cloudAWS cloud = iota
	cloudGCP
	cloudAzure
	cloudKubernetes
	numClouds
)

// cloudOf maps a type token to the tags it takes. fleetsim, the local simulator,
// stands in for Kubernetes clusters and node pools, so it takes Kubernetes labels.
func cloudOf(token string) (cloud, bool) {
	pkg, _, _ := strings.Cut(token, ":")
	switch pkg {
	case "aws":
		return cloudAWS, true
	case "gcp":
		return cloudGCP, true
	case "azure-native":
		return cloudAzure, true
	case "kubernetes", "fleetsim":
		return cloudKubernetes, true
	}
	return 0, false
}

// site is where in a resource's inputs its tags live.
type site struct {
	// path is the property path to the tag map; "*" steps into every element of a list.
	path []string
	// create says missing objects along path are created. GKE cluster node configs are
	// not: an Autopilot cluster must not have one.
	create bool
}

// extraSites are places the generated table cannot describe: nested GKE node configs,
// whose resourceLabels reach the node VMs and disks, and the simulator's resources.
var extraSites = map[string][]site{
	"gcp:container/cluster:Cluster": {
		{path: []string{"nodeConfig", "resourceLabels"}},
		{path: []string{"nodePools", "*", "nodeConfig", "resourceLabels"}, create: true},
	},
	"gcp:container/nodePool:NodePool": {
		{path: []string{"nodeConfig", "resourceLabels"}, create: true},
	},
	"fleetsim:index:Cluster":  {{path: []string{"tags"}, create: true}},
	"fleetsim:index:NodePool": {{path: []string{"tags"}, create: true}},
}

// sitesOf returns where a resource type takes tags; nil when it takes none.
func sitesOf(token string) []site {
	var sites []site
	if prop, ok := taggableTypes[token]; ok {
		sites = append(sites, site{path: strings.Split(prop, "."), create: true})
	}
	return append(sites, extraSites[token]...)
}

// applier merges one stack's normalised tags into resources' inputs.
type applier struct {
	tags     [numClouds]map[string]string
	keys     [numClouds][]string // sorted keys of tags, so warnings come in a fixed order
	enforced [numClouds]map[string]bool
	warn     func(msg string)
}

func newApplier(tags, enforced [numClouds]map[string]string, warn func(string)) *applier {
	a := &applier{warn: warn}
	for c := range numClouds {
		a.tags[c] = tags[c]
		a.keys[c] = sortedKeys(tags[c])
		a.enforced[c] = map[string]bool{}
		for k := range enforced[c] {
			a.enforced[c][k] = true
		}
	}
	return a
}

// transform is the stack transform: it returns nil for resources that take no tags.
func (a *applier) transform(_ context.Context, args *pulumi.ResourceTransformArgs) *pulumi.ResourceTransformResult {
	if !args.Custom {
		return nil
	}
	c, ok := cloudOf(args.Type)
	if !ok || len(a.tags[c]) == 0 {
		return nil
	}
	sites := sitesOf(args.Type)
	if len(sites) == 0 {
		return nil
	}
	m := merger{a: a, cloud: c, typ: args.Type, name: args.Name}
	props := args.Props
	if props == nil {
		props = pulumi.Map{}
	}
	var in pulumi.Input = props
	changed := false
	for _, s := range sites {
		out, ok := update(in, s.path, s.create, m)
		if ok {
			in, changed = out, true
		}
	}
	if !changed {
		return nil
	}
	return &pulumi.ResourceTransformResult{Props: in.(pulumi.Map), Opts: args.Opts}
}

// leaf rewrites the value at the end of a site's path, before or after it resolves.
type leaf interface {
	input(v pulumi.Input) pulumi.Input
	plain(v any) any
}

// update returns v with the leaf rewritten at path, and whether anything changed.
// Outputs (unknown, secret or computed values) are updated once they resolve.
func update(v pulumi.Input, path []string, create bool, l leaf) (pulumi.Input, bool) {
	if len(path) == 0 {
		return l.input(v), true
	}
	step, rest := path[0], path[1:]
	switch x := v.(type) {
	case nil:
		if step == "*" || !create {
			return nil, false
		}
		child, ok := update(nil, rest, create, l)
		if !ok {
			return nil, false
		}
		return pulumi.Map{step: child}, true
	case pulumi.Map:
		if step == "*" {
			return v, false
		}
		child, ok := update(x[step], rest, create, l)
		if !ok {
			return v, false
		}
		out := make(pulumi.Map, len(x)+1)
		for k, e := range x {
			out[k] = e
		}
		out[step] = child
		return out, true
	case pulumi.Array:
		if step != "*" {
			return v, false
		}
		out := make(pulumi.Array, len(x))
		changed := false
		for i, e := range x {
			ne, ok := update(e, rest, create, l)
			out[i] = ne
			changed = changed || ok
		}
		return out, changed
	case pulumi.Output:
		return pulumi.All(x).ApplyT(func(vs []any) any {
			return updatePlain(vs[0], path, create, l)
		}), true
	}
	return v, false
}

// updatePlain is update on a resolved value: maps, lists and scalars.
func updatePlain(v any, path []string, create bool, l leaf) any {
	if len(path) == 0 {
		return l.plain(v)
	}
	step, rest := path[0], path[1:]
	switch x := v.(type) {
	case nil:
		if step == "*" || !create {
			return nil
		}
		child := updatePlain(nil, rest, create, l)
		if child == nil {
			return nil
		}
		return map[string]any{step: child}
	case map[string]any:
		if step == "*" {
			return v
		}
		child := updatePlain(x[step], rest, create, l)
		if child == nil {
			return v
		}
		out := make(map[string]any, len(x)+1)
		for k, e := range x {
			out[k] = e
		}
		out[step] = child
		return out
	case []any:
		if step != "*" {
			return v
		}
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = updatePlain(e, rest, create, l)
		}
		return out
	}
	return v
}

// merger merges one cloud's tags into one resource's tag maps.
type merger struct {
	a     *applier
	cloud cloud
	typ   string
	name  string
}

// input merges into a tag map as the transform sees it. A map of plain strings
// is merged now; anything holding an output is merged when it resolves.
func (m merger) input(v pulumi.Input) pulumi.Input {
	var own map[string]any
	ok := true
	switch x := v.(type) {
	case nil:
	case pulumi.Map:
		own, ok = plainStrings(x)
	case pulumi.StringMap:
		own, ok = plainStrings(x)
	case pulumi.Output:
		ok = false
	default:
		return v
	}
	if !ok {
		return m.later(v)
	}
	out := pulumi.Map{}
	for k, e := range m.merge(own) {
		out[k] = pulumi.String(e.(string))
	}
	return out
}

// plainStrings returns a map's values when every one is a plain pulumi.String.
func plainStrings[V any](in map[string]V) (map[string]any, bool) {
	out := make(map[string]any, len(in))
	for k, e := range in {
		s, ok := any(e).(pulumi.String)
		if !ok {
			return nil, false
		}
		out[k] = string(s)
	}
	return out, true
}

func (m merger) later(v pulumi.Input) pulumi.Input {
	return pulumi.All(v).ApplyT(func(vs []any) any { return m.plain(vs[0]) })
}

// plain merges into a resolved tag map; anything but a map is left alone.
func (m merger) plain(v any) any {
	switch x := v.(type) {
	case nil:
		return m.merge(nil)
	case map[string]any:
		return m.merge(x)
	case map[string]string:
		return m.merge(stringsToAny(x))
	}
	return v
}

// merge returns own with the stack's tags added. A key the resource already has, in
// any case, keeps the resource's value unless the policy enforces it; then the
// stack's value replaces it and a warning names the resource and both values.
func (m merger) merge(own map[string]any) map[string]any {
	tags := m.a.tags[m.cloud]
	out := make(map[string]any, len(own)+len(tags))
	folded := make(map[string][]string, len(own))
	for _, k := range sortedKeys(own) {
		out[k] = own[k]
		lk := strings.ToLower(k)
		folded[lk] = append(folded[lk], k)
	}
	for _, k := range m.a.keys[m.cloud] {
		v := tags[k]
		theirs := folded[strings.ToLower(k)]
		if len(theirs) > 0 && !m.a.enforced[m.cloud][k] {
			continue
		}
		for _, rk := range theirs {
			if rv := own[rk]; rk != k || rv != v {
				m.a.warn(m.overrideMessage(k, v, rk, rv))
			}
			delete(out, rk)
		}
		out[k] = v
	}
	return out
}

func (m merger) overrideMessage(k, v, rk string, rv any) string {
	theirs := fmt.Sprintf("%q", fmt.Sprint(rv))
	if rk != k {
		theirs = fmt.Sprintf("%q=%q", rk, fmt.Sprint(rv))
	}
	return fmt.Sprintf("costtags: %s %q: tag %q is enforced by the stack's policy; it is set to %q, replacing the resource's own %s",
		m.typ, m.name, k, v, theirs)
}

func stringsToAny(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
