package kubeplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
)

// stateFile is the name of a plane's state file inside its directory.
const stateFile = "plane.json"

// ports are the loopback ports a plane listens on.
type ports struct {
	Etcd              int `json:"etcd"`
	EtcdPeer          int `json:"etcdPeer"`
	APIServer         int `json:"apiServer"`
	Scheduler         int `json:"scheduler"`
	ControllerManager int `json:"controllerManager"`
	Kwok              int `json:"kwok"`
}

func (p ports) list() []int {
	return []int{p.Etcd, p.EtcdPeer, p.APIServer, p.Scheduler, p.ControllerManager, p.Kwok}
}

// planeState is what a plane's directory records about it, so that another Manager can
// find, adopt or stop its processes.
type planeState struct {
	ClusterID     string         `json:"clusterID"`
	Ports         ports          `json:"ports"`
	PIDs          map[string]int `json:"pids"`
	Token         string         `json:"token"`
	BinaryVersion string         `json:"binaryVersion,omitempty"`
}

func readState(dir string) (*planeState, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s planeState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
	}
	if s.PIDs == nil {
		s.PIDs = map[string]int{}
	}
	return &s, nil
}

// writeState replaces the state file atomically, so a reader never sees half of it.
func writeState(dir string, s *planeState) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, stateFile), b, 0o600)
}

func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// portFree reports whether nothing listens on the loopback port.
func portFree(port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// freePort asks the kernel for a loopback port nobody listens on, avoiding taken.
func freePort(taken map[int]bool) (int, error) {
	for range 50 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("finding a free loopback port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if !taken[port] {
			taken[port] = true
			return port, nil
		}
	}
	return 0, errors.New("finding a free loopback port: every port offered was taken")
}
