package daemon

import (
	"os"
	"path/filepath"

	"github.com/flotilla-io/flotilla/internal/fleetsim/simapi"
	"github.com/flotilla-io/flotilla/internal/kubeplane"
)

const (
	// kubeModeEnv set to "off" selects lite mode: clusters without a Kubernetes API.
	kubeModeEnv = "FLEETSIM_KUBE"
	// kubeBinEnv names the directory holding the control-plane binaries built by `make kube`.
	kubeBinEnv = "FLOTILLA_BIN"
)

// selectKube returns what runs the control planes behind the clusters of the home
// directory home. It is the one place that decides between lite mode and real planes:
// real local control planes (under home/planes) unless FLEETSIM_KUBE=off.
func selectKube(home string) simapi.Kube {
	if os.Getenv(kubeModeEnv) == "off" {
		return Lite()
	}
	return kubeplane.New(home, kubeBinDir())
}

// kubeBinDir is $FLOTILLA_BIN, else the directory of the running executable, where
// `make` puts the control-plane binaries next to pulumi-resource-fleetsim and flotilla.
func kubeBinDir() string {
	if dir := os.Getenv(kubeBinEnv); dir != "" {
		return dir
	}
	exe, err := os.Executable()
	if err != nil {
		return "bin"
	}
	if resolved, err := filepath.EvalSymlinks(exe); err == nil {
		exe = resolved
	}
	return filepath.Dir(exe)
}
