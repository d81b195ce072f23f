package kubeplane

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"
)

// The stage configuration kwok gets is kwok's stages from bin/ and kubeplane's own, each
// a whole Stage document.
func TestOwnStagesFollowKwoksStages(t *testing.T) {
	t.Parallel()
	kwoks, err := os.ReadFile(filepath.Join(binDir(t), stagesFile))
	require.NoError(t, err)
	all := withOwnStages(kwoks)
	require.True(t, bytes.HasPrefix(all, bytes.TrimRight(kwoks, "\n")), "kwok's stages come first, unchanged")

	type stage struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Spec struct {
			Selector struct {
				MatchExpressions []struct {
					Key    string   `yaml:"key"`
					Values []string `yaml:"values"`
				} `yaml:"matchExpressions"`
			} `yaml:"selector"`
			Next struct {
				Event *struct {
					Type, Reason, Message string
				} `yaml:"event"`
				StatusTemplate string `yaml:"statusTemplate"`
			} `yaml:"next"`
		} `yaml:"spec"`
	}
	byName := map[string]stage{}
	dec := yaml.NewDecoder(bytes.NewReader(all))
	for {
		var s stage
		err := dec.Decode(&s)
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		assert.Equal(t, "Stage", s.Kind)
		require.NotContains(t, byName, s.Metadata.Name, "stage %s is defined twice", s.Metadata.Name)
		byName[s.Metadata.Name] = s
	}
	require.Contains(t, byName, "pod-running-not-ready", "kwok's stages are kept")
	probe, ok := byName["pod-readiness-probe-failing"]
	require.True(t, ok, "kubeplane's stage is added")
	var annotation []string
	for _, e := range probe.Spec.Selector.MatchExpressions {
		if e.Key == `.metadata.annotations["`+NotReadyAnnotation+`"]` {
			annotation = e.Values
		}
	}
	assert.Equal(t, []string{NotReadyReadinessProbe}, annotation)
	require.NotNil(t, probe.Spec.Next.Event)
	assert.Equal(t, "Unhealthy", probe.Spec.Next.Event.Reason)
	assert.Equal(t, "Readiness probe failed: HTTP probe failed with statuscode: 503", probe.Spec.Next.Event.Message)
	assert.Contains(t, probe.Spec.Next.StatusTemplate, "containers with unready status: [")
}
