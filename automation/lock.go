package automation

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Lock timings: the holder rewrites its heartbeat every LockHeartbeat; a lock whose
// heartbeat is older than LockExpiry is stale.
const (
	LockHeartbeat = 5 * time.Second
	LockExpiry    = 2 * time.Minute
)

// fleetLock is the lock that admits one run at a time per fleet: a file created with
// O_EXCL beside the state, holding who has it and a heartbeat.
type fleetLock struct {
	path string
	now  func() time.Time

	mu     sync.Mutex
	holder LockHolder
	stop   chan struct{}
	done   chan struct{}
}

func newFleetLock(dir string) *fleetLock {
	return &fleetLock{path: filepath.Join(dir, "lock.json"), now: time.Now}
}

// Read returns the lock's holder; nil when the fleet is not locked.
func (l *fleetLock) Read() (*LockHolder, error) {
	data, err := os.ReadFile(l.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var h LockHolder
	if err := json.Unmarshal(data, &h); err != nil {
		// A lock file cut short by a crash while it was being created: report it, so that
		// unlock can clear it.
		return &LockHolder{Command: "unknown (unreadable lock file)"}, nil
	}
	return &h, nil
}

// Staleness says why a holder is stale, or "" when it is live.
func (l *fleetLock) Staleness(h LockHolder) string {
	host, _ := os.Hostname()
	if h.PID == 0 {
		return "the lock file is unreadable"
	}
	if h.Host == host && !pidAlive(h.PID) {
		return fmt.Sprintf("its process %d is gone from this host", h.PID)
	}
	if age := l.now().Sub(h.Heartbeat); age > LockExpiry {
		return fmt.Sprintf("its heartbeat is %s old (it expires after %s)", age.Round(time.Second), LockExpiry)
	}
	return ""
}

// Acquire takes the lock for a run, or fails with a LockedError naming the holder. A
// lock of a dead process on this host is taken over when takeOver is set (resume and
// rollout after a kill); cleared reports it.
func (l *fleetLock) Acquire(runID, command string, takeOver bool) (cleared *LockHolder, err error) {
	u := "unknown"
	if cu, err := user.Current(); err == nil {
		u = cu.Username
	}
	host, _ := os.Hostname()
	now := l.now()
	h := LockHolder{RunID: runID, Command: command, User: u, Host: host, PID: os.Getpid(), Since: now, Heartbeat: now}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o755); err != nil {
		return nil, err
	}
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err == nil {
			data, _ := json.Marshal(h)
			_, werr := f.Write(data)
			cerr := f.Close()
			if werr != nil || cerr != nil {
				os.Remove(l.path)
				return nil, errors.Join(werr, cerr)
			}
			break
		}
		if !errors.Is(err, os.ErrExist) || attempt > 0 {
			return nil, fmt.Errorf("taking the fleet lock %s: %w", l.path, err)
		}
		old, rerr := l.Read()
		if rerr != nil {
			return nil, rerr
		}
		if old == nil {
			continue // released in between
		}
		stale := l.Staleness(*old)
		hostNow, _ := os.Hostname()
		ours := old.Host == hostNow && old.PID != 0 && !pidAlive(old.PID)
		if stale == "" || !takeOver || !ours {
			return nil, &LockedError{Holder: *old, Stale: stale}
		}
		if err := os.Remove(l.path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, err
		}
		cleared = old
	}
	l.mu.Lock()
	l.holder = h
	l.stop, l.done = make(chan struct{}), make(chan struct{})
	stop, done := l.stop, l.done
	l.mu.Unlock()
	go l.beat(stop, done)
	return cleared, nil
}

// beat rewrites the heartbeat until stop is closed. It takes its channels as arguments:
// Release clears l.stop before closing it, and a nil channel would never fire.
func (l *fleetLock) beat(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTicker(LockHeartbeat)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			l.mu.Lock()
			l.holder.Heartbeat = l.now()
			data, _ := json.Marshal(l.holder)
			l.mu.Unlock()
			_ = writeFileAtomic(l.path, data)
		}
	}
}

// Release gives the lock up, if this process holds it.
func (l *fleetLock) Release() error {
	l.mu.Lock()
	stop := l.stop
	l.stop = nil
	l.mu.Unlock()
	if stop == nil {
		return nil
	}
	close(stop)
	<-l.done
	cur, err := l.Read()
	if err != nil || cur == nil {
		return err
	}
	if cur.PID == os.Getpid() && cur.RunID == l.holder.RunID {
		return os.Remove(l.path)
	}
	return nil
}

// Clear removes the lock whoever holds it, and returns what it removed.
func (l *fleetLock) Clear() (*LockHolder, error) {
	h, err := l.Read()
	if err != nil || h == nil {
		return h, err
	}
	if err := os.Remove(l.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return h, nil
}

// pidAlive reports whether a process with this PID runs on this host. A zombie (a
// process that exited and that nobody has reaped yet, as the CLI of a killed run is
// until init reaps it) does not run.
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return !errors.Is(err, os.ErrNotExist)
	}
	// "pid (comm) state ...": comm may hold spaces and parentheses; the state follows
	// the last ')'.
	s := string(stat)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] != 'Z' && s[i+2] != 'X'
	}
	return true
}
