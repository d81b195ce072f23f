package kubeplane

import (
	"bytes"
	_ "embed"
)

// NotReadyAnnotation keeps a pod Running but not Ready (kwok runs no probes). Its
// values: "true", a pod whose containers are not ready (the stage of bin/kwok-stages.yaml),
// and NotReadyReadinessProbe, one whose readiness probe fails, with the kubelet's
// Unhealthy event (stages.yaml).
const (
	NotReadyAnnotation     = "flotilla.io/not-ready"
	NotReadyReadinessProbe = "readiness-probe"
)

// ownStages are the stages kubeplane adds to kwok's.
//
//go:embed stages.yaml
var ownStages []byte

// withOwnStages appends kubeplane's stages to kwok's stage configuration.
func withOwnStages(stages []byte) []byte {
	out := bytes.TrimRight(stages, "\n")
	out = append(out, []byte("\n---\n")...)
	return append(out, ownStages...)
}
