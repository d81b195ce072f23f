package kubeplane

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/flotilla-io/flotilla/internal/fleetsim/simapi"
)

var _ simapi.PlaneStopper = (*Manager)(nil)

// Running returns the planes under <home>/planes that have processes alive, with the
// PIDs of those processes by component. Only a PID that is still the component's binary
// working on the plane's directory counts, so a PID reused by another process does not.
func Running(home string) ([]simapi.StoppedPlane, error) {
	ids, err := planeIDs(home)
	if err != nil {
		return nil, err
	}
	var out []simapi.StoppedPlane
	var errs []error
	for _, id := range ids {
		dir := filepath.Join(home, "planes", id)
		st, err := readState(dir)
		if err != nil {
			errs = append(errs, fmt.Errorf("kubeplane: %s: %w", id, err))
			continue
		}
		if st == nil {
			continue
		}
		if pids := ownedPIDs(st, dir); len(pids) > 0 {
			out = append(out, simapi.StoppedPlane{ClusterID: id, PIDs: pids})
		}
	}
	return out, errors.Join(errs...)
}

// StopPlanes stops every plane under <home>/planes by the PIDs its state file records,
// and waits until they are gone, without a Manager: it is how the planes of a daemon that
// died are stopped. See Manager.StopPlanes.
func StopPlanes(ctx context.Context, home string, opts ...Option) ([]simapi.StoppedPlane, error) {
	return New(home, "", opts...).StopPlanes(ctx)
}

// StopPlanes stops the processes of every plane under the Manager's home, whether this
// Manager started them or an earlier one did, and waits until they are gone. The planes'
// data stays: the next EnsurePlane restarts each plane on it. It returns, for each plane
// that had processes running, the PIDs it stopped by component. A PID that no longer
// belongs to the plane's binary is left alone.
func (m *Manager) StopPlanes(ctx context.Context) ([]simapi.StoppedPlane, error) {
	ids, err := planeIDs(m.home)
	if err != nil {
		return nil, err
	}
	out := make([]*simapi.StoppedPlane, len(ids))
	errs := make([]error, len(ids))
	done := make(chan struct{}, len(ids))
	for i, id := range ids {
		go func() {
			defer func() { done <- struct{}{} }()
			out[i], errs[i] = m.stopPlane(ctx, id)
		}()
	}
	for range ids {
		<-done
	}
	var stopped []simapi.StoppedPlane
	for _, s := range out {
		if s != nil {
			stopped = append(stopped, *s)
		}
	}
	return stopped, errors.Join(errs...)
}

// stopPlane stops one plane's processes, keeping its data; nil means none was running.
func (m *Manager) stopPlane(ctx context.Context, id string) (*simapi.StoppedPlane, error) {
	dir, err := m.dir(id)
	if err != nil {
		return nil, err
	}
	unlock, err := m.lock(ctx, id)
	if err != nil {
		return nil, err
	}
	defer unlock()
	p, err := m.load(id, dir)
	if err != nil {
		return nil, fmt.Errorf("kubeplane: %s: %w", id, err)
	}
	if p == nil {
		return nil, nil
	}
	pids := ownedPIDs(p.state, dir)
	if err := m.stopAll(ctx, p); err != nil {
		return nil, fmt.Errorf("kubeplane: %s: %w", id, err)
	}
	if len(pids) == 0 {
		return nil, nil
	}
	return &simapi.StoppedPlane{ClusterID: id, PIDs: pids}, nil
}

// ownedPIDs returns the recorded PIDs that are alive and still the plane's own.
func ownedPIDs(st *planeState, dir string) map[string]int {
	pids := maps.Clone(st.PIDs)
	maps.DeleteFunc(pids, func(c string, pid int) bool { return !ownedBy(pid, c, dir) })
	if len(pids) == 0 {
		return nil
	}
	return pids
}

// planeIDs lists the planes recorded under <home>/planes, sorted.
func planeIDs(home string) ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(home, "planes"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("kubeplane: %w", err)
	}
	var ids []string
	for _, e := range entries {
		if e.IsDir() && clusterIDPattern.MatchString(e.Name()) {
			ids = append(ids, e.Name())
		}
	}
	slices.Sort(ids)
	return ids, nil
}

// Components returns the names of a plane's processes in start order.
func Components() []string { return slices.Clone(components) }
