package simcloud_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/flotilla-io/flotilla/automation"
	"github.com/flotilla-io/flotilla/automation/automationtest"
	"github.com/flotilla-io/flotilla/automation/simcloud"
)

func TestWithLiteConfig(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, in string
		want     map[string]any // the config after
	}{
		{"config of its own", "config:\n  flotilla:environment: dev\n  flotilla:tags: {team: a}\n", map[string]any{
			"flotilla:environment": "dev", "flotilla:tags": map[string]any{"team": "a"}, "fleetsim:kube": "off",
		}},
		{"secrets are kept", "encryptionsalt: v1:abc\nconfig:\n  flotilla:token:\n    secure: v1:xyz\n", map[string]any{
			"flotilla:token": map[string]any{"secure": "v1:xyz"}, "fleetsim:kube": "off",
		}},
		{"no config", "encryptionsalt: v1:abc\n", map[string]any{"fleetsim:kube": "off"}},
		{"empty config", "config:\n", map[string]any{"fleetsim:kube": "off"}},
		{"empty file", "", map[string]any{"fleetsim:kube": "off"}},
		{"the stack's own setting wins", "config:\n  fleetsim:kube: \"on\"\n", map[string]any{"fleetsim:kube": "on"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out, err := simcloud.WithLiteConfig([]byte(tt.in))
			require.NoError(t, err)
			var doc struct {
				Salt   string         `yaml:"encryptionsalt"`
				Config map[string]any `yaml:"config"`
			}
			require.NoError(t, yaml.Unmarshal(out, &doc), "%s", out)
			assert.Equal(t, tt.want, doc.Config)
			if tt.name == "secrets are kept" {
				assert.Equal(t, "v1:abc", doc.Salt)
			}
		})
	}
	_, err := simcloud.WithLiteConfig([]byte("config: [a]\n"))
	assert.ErrorContains(t, err, "its config is not a map")
}

// TestLiteStacks: previews and updates run on a copy of the stack file (the project's,
// or an upgrade step's) with fleetsim:kube "off"; the project's file is unchanged, the
// copy removed afterwards, and the other operations and the stack states pass through.
func TestLiteStacks(t *testing.T) {
	t.Parallel()
	project := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(project, "stacks"), 0o755))
	own := filepath.Join(project, "stacks", "Pulumi.dev.yaml")
	require.NoError(t, os.WriteFile(own, []byte("config:\n  flotilla:environment: dev\n"), 0o644))
	step := filepath.Join(t.TempDir(), "Pulumi.dev.yaml")
	require.NoError(t, os.WriteFile(step, []byte("config:\n  flotilla:version: \"1.32\"\n"), 0o644))

	fake := automationtest.NewFake()
	seen := map[string]map[string]any{}
	fake.OnCall = func(c automationtest.Call) error {
		if c.Options.StackFile == "" {
			return nil
		}
		data, err := os.ReadFile(c.Options.StackFile)
		require.NoError(t, err)
		var doc struct {
			Config map[string]any `yaml:"config"`
		}
		require.NoError(t, yaml.Unmarshal(data, &doc))
		seen[c.Op+":"+filepath.Base(filepath.Dir(c.Options.StackFile))] = doc.Config
		return nil
	}
	dir := filepath.Join(t.TempDir(), "lite")
	ops := simcloud.LiteStacks(fake, project, dir)
	_, ok := ops.(automation.StackStates)
	require.True(t, ok, "the stack states of the operations it wraps")

	ctx := context.Background()
	ref := automation.StackRef{Environment: "dev", Stack: "dev"}
	_, err := ops.Preview(ctx, ref, automation.OpOptions{})
	require.NoError(t, err)
	_, err = ops.Up(ctx, ref, automation.OpOptions{StackFile: step})
	require.NoError(t, err)
	_, err = ops.Refresh(ctx, ref, automation.OpOptions{})
	require.NoError(t, err)

	assert.Equal(t, map[string]map[string]any{
		"preview:lite": {"flotilla:environment": "dev", "fleetsim:kube": "off"},
		"up:lite":      {"flotilla:version": "1.32", "fleetsim:kube": "off"},
	}, seen)
	assert.Empty(t, fake.Ops(automationtest.OpRefresh)[0].Options.StackFile, "a refresh runs no program")
	data, err := os.ReadFile(own)
	require.NoError(t, err)
	assert.Equal(t, "config:\n  flotilla:environment: dev\n", string(data), "the project's stack file is unchanged")
	left, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, left, "the lite copies are removed")
}
