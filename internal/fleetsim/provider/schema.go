package provider

import (
	"encoding/json"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
)

const taintType = "fleetsim:index:Taint"

func typeSpec(k kind) map[string]any {
	switch k {
	case kString:
		return map[string]any{"type": "string"}
	case kInt:
		return map[string]any{"type": "integer"}
	case kBool:
		return map[string]any{"type": "boolean"}
	case kStringList:
		return map[string]any{"type": "array", "items": map[string]any{"type": "string"}}
	case kStringMap:
		return map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}
	case kTaints:
		return map[string]any{"type": "array", "items": map[string]any{"$ref": "#/types/" + taintType}}
	}
	return nil
}

type outProp struct {
	name   string
	kind   kind
	secret bool
	doc    string
}

var clusterOutputProps = []outProp{
	{name: "endpoint", kind: kString, doc: "The Kubernetes API endpoint (a placeholder in lite mode)."},
	{name: "kubeconfig", kind: kString, secret: true, doc: "A kubeconfig for the cluster (a placeholder in lite mode)."},
	{name: "kubeVersion", kind: kString, doc: "The version of the control-plane binary serving the cluster; empty in lite mode. It differs from version, the simulated version."},
	{name: "status", kind: kString, doc: "CREATING, ACTIVE, UPDATING or DELETING."},
}

var poolOutputProps = []outProp{
	{name: "clusterId", kind: kString, doc: "The id of the pool's cluster."},
	{name: "readyNodes", kind: kInt, doc: "How many nodes are running."},
	{name: "fallbackNodes", kind: kInt, doc: "How many of the ready nodes cover a spot shortage of the pool this one backs."},
	{name: "hourlyCost", kind: kInt, doc: "Ready nodes times the hourly price of the first instance type, in US dollars."},
	{name: "status", kind: kString, doc: "CREATING, ACTIVE, UPDATING or DELETING."},
}

func resourceSpec(doc string, in []prop, out []outProp, required []string) map[string]any {
	inputs, outputs := map[string]any{}, map[string]any{}
	var all []string
	for _, p := range in {
		s := typeSpec(p.kind)
		s["description"] = p.doc
		if p.replace {
			s["replaceOnChanges"] = true
		}
		inputs[p.name] = s
		outputs[p.name] = typeSpec(p.kind)
		all = append(all, p.name)
	}
	for _, p := range out {
		s := typeSpec(p.kind)
		if p.name == "hourlyCost" {
			s = map[string]any{"type": "number"}
		}
		s["description"] = p.doc
		if p.secret {
			s["secret"] = true
		}
		outputs[p.name] = s
		all = append(all, p.name)
	}
	return map[string]any{
		"description": doc, "inputProperties": inputs, "requiredInputs": required,
		"properties": outputs, "required": all,
	}
}

// Schema returns the package schema of fleetsim as JSON.
func Schema() string {
	s := map[string]any{
		"name":        Name,
		"version":     cloud.Version,
		"displayName": "fleetsim",
		"description": "A local simulator of a managed-Kubernetes cloud, for Flotilla's tests and demos.",
		"resources": map[string]any{
			ClusterType:  resourceSpec("A simulated managed-Kubernetes cluster.", clusterProps, clusterOutputProps, []string{"region"}),
			NodePoolType: resourceSpec("A simulated node pool (a node group).", poolProps, poolOutputProps, []string{"cluster", "instanceTypes"}),
		},
		"types": map[string]any{
			taintType: map[string]any{
				"type": "object", "description": "A Kubernetes node taint.",
				"properties": map[string]any{
					"key":    map[string]any{"type": "string"},
					"value":  map[string]any{"type": "string"},
					"effect": map[string]any{"type": "string", "description": "NoSchedule, PreferNoSchedule or NoExecute."},
				},
				"required": []string{"key", "effect"},
			},
		},
		"language": map[string]any{
			"go": map[string]any{"importBasePath": "github.com/flotilla-io/flotilla/internal/fleetsim/sdk"},
		},
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(err)
	}
	return string(b)
}
