package simtest_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/flotilla-io/flotilla/internal/simtest"
)

func TestLocalPlugins(t *testing.T) {
	t.Parallel()
	bin := t.TempDir()
	for name, mode := range map[string]os.FileMode{
		"pulumi":                     0o755,
		"pulumi-resource-fleetsim":   0o755,
		"pulumi-resource-kubernetes": 0o755,
		"pulumi-resource-notes.txt":  0o644,
		"pulumi-resource-broken":     0o644,
	} {
		require.NoError(t, os.WriteFile(filepath.Join(bin, name), []byte("#!/bin/sh\n"), mode))
	}
	assert.ElementsMatch(t, []workspace.PluginOptions{
		{Name: "fleetsim", Path: bin},
		{Name: "kubernetes", Path: bin},
	}, simtest.LocalPlugins(bin))
}

func TestSimEnv(t *testing.T) {
	t.Parallel()
	s := &simtest.Sim{Home: "/h", Addr: "127.0.0.1:1", Bin: "/b", Backend: "file:///s", PulumiHome: "/p"}
	env := s.Env()
	assert.Equal(t, "127.0.0.1:1", env["FLEETSIM_ADDR"])
	assert.Equal(t, "/h", env["FLEETSIM_HOME"])
	assert.Equal(t, "off", env["FLEETSIM_KUBE"])
	assert.Equal(t, "file:///s", env["PULUMI_BACKEND_URL"])
	assert.Equal(t, "/p", env["PULUMI_HOME"])
	assert.Equal(t, simtest.Passphrase, env["PULUMI_CONFIG_PASSPHRASE"])
	assert.Regexp(t, `^/b:`, env["PATH"], "bin/ comes first on PATH")
}
