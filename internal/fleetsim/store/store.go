// Package store keeps the simulated cloud's state in a directory (FLEETSIM_HOME), written
// atomically: a crash at any moment leaves either the previous or the new state, never a
// torn file.
//
//	home, _ := store.ResolveHome()
//	st, _ := store.Open(home)
//	state, _ := st.Load()
//	_ = st.Save(state)
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/flotilla-io/flotilla/internal/fleetsim/cloud"
)

// File names inside the home directory.
const (
	StateFile  = "state.json"
	DaemonFile = "daemon.json"
	LockFile   = "daemon.lock"
	LogFile    = "daemon.log"
)

// EnvHome names the environment variable that sets the home directory.
const EnvHome = "FLEETSIM_HOME"

// ResolveHome returns the simulator's home: $FLEETSIM_HOME; else .flotilla/fleetsim in
// the project root (the nearest directory above the working directory that holds a
// Pulumi.yaml); else ~/.flotilla/fleetsim.
func ResolveHome() (string, error) {
	if h := os.Getenv(EnvHome); h != "" {
		return filepath.Abs(h)
	}
	if wd, err := os.Getwd(); err == nil {
		if root := ProjectRoot(wd); root != "" {
			return filepath.Join(root, ".flotilla", "fleetsim"), nil
		}
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("fleetsim home: set %s: %w", EnvHome, err)
	}
	return filepath.Join(home, ".flotilla", "fleetsim"), nil
}

// ProjectRoot returns the nearest directory at or above dir that holds a Pulumi.yaml, or "".
func ProjectRoot(dir string) string {
	for {
		if _, err := os.Stat(filepath.Join(dir, "Pulumi.yaml")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Store is a home directory.
type Store struct{ dir string }

// Open returns the store in dir, creating the directory if needed.
func Open(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("fleetsim home %s: %w", dir, err)
	}
	return &Store{dir: dir}, nil
}

// Dir returns the home directory.
func (s *Store) Dir() string { return s.dir }

// Path returns the path of a file in the home directory.
func (s *Store) Path(name string) string { return filepath.Join(s.dir, name) }

// Load reads the state, or returns an empty cloud when there is none yet.
func (s *Store) Load() (*cloud.State, error) {
	b, err := os.ReadFile(s.Path(StateFile))
	if errors.Is(err, fs.ErrNotExist) {
		return cloud.NewState(), nil
	}
	if err != nil {
		return nil, err
	}
	st := cloud.NewState()
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("%s: %w (the file is not valid state; move it away to start afresh)", s.Path(StateFile), err)
	}
	st.Normalize()
	return st, nil
}

// Save writes the state atomically and durably.
func (s *Store) Save(st *cloud.State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(s.Path(StateFile), append(b, '\n'), 0o600)
}

// WriteFileAtomic writes data to path so that a crash leaves either the old or the new
// content: a temporary file in the same directory is written and synced, renamed over
// path, and the directory is synced so that the rename itself survives.
func WriteFileAtomic(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	cleanup := func() { _ = os.Remove(tmp.Name()) }
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		cleanup()
		return err
	}
	if err := tmp.Chmod(perm); err != nil {
		_ = tmp.Close()
		cleanup()
		return err
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		cleanup()
		return err
	}
	if err := tmp.Close(); err != nil {
		cleanup()
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		cleanup()
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// DaemonInfo is what daemon.json says about the running daemon, so clients find it.
type DaemonInfo struct {
	Addr    string    `json:"addr"` // host:port on loopback
	PID     int       `json:"pid"`
	Started time.Time `json:"started"`
	Version string    `json:"version"`
	Kube    string    `json:"kube"` // "on" when real control planes run, "off" in lite mode
}

// WriteDaemonInfo records the running daemon.
func (s *Store) WriteDaemonInfo(info DaemonInfo) error {
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	return WriteFileAtomic(s.Path(DaemonFile), append(b, '\n'), 0o644)
}

// ReadDaemonInfo reads daemon.json; it returns an error wrapping fs.ErrNotExist when no
// daemon has recorded itself.
func (s *Store) ReadDaemonInfo() (DaemonInfo, error) {
	var info DaemonInfo
	b, err := os.ReadFile(s.Path(DaemonFile))
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("%s: %w", s.Path(DaemonFile), err)
	}
	return info, nil
}

// RemoveDaemonInfo removes daemon.json if it still names pid.
func (s *Store) RemoveDaemonInfo(pid int) {
	if info, err := s.ReadDaemonInfo(); err == nil && info.PID == pid {
		_ = os.Remove(s.Path(DaemonFile))
	}
}

// ErrLocked is returned by Lock when another daemon owns the home directory.
var ErrLocked = errors.New("another fleetsim daemon owns this home")

// Lock takes the home's exclusive lock, held until the returned file is closed or the
// process exits (the kernel releases it even after SIGKILL), so that one daemon owns a
// home at a time.
func (s *Store) Lock() (*os.File, error) {
	f, err := os.OpenFile(s.Path(LockFile), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", s.dir, ErrLocked)
		}
		return nil, err
	}
	return f, nil
}
