package automation

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"time"
)

// Freeze stops every rollout and upgrade of the fleet until it is lifted or expires:
// a change freeze over a holiday, an incident, an audit.
type Freeze struct {
	By     string     `json:"by"` // user@host
	Reason string     `json:"reason"`
	Since  time.Time  `json:"since"`
	Until  *time.Time `json:"until,omitempty"` // nil: until `flotilla unfreeze`
}

func (f Freeze) String() string {
	until := "until `flotilla unfreeze`"
	if f.Until != nil {
		until = "until " + f.Until.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("frozen by %s since %s, %s: %s", f.By, f.Since.UTC().Format(time.RFC3339), until, f.Reason)
}

// FrozenError refuses (or stops, between two steps) a run while the fleet is frozen.
type FrozenError struct{ Freeze Freeze }

func (e *FrozenError) Error() string {
	return "the fleet is " + e.Freeze.String() + "; nothing starts until `flotilla unfreeze` (then `flotilla resume` continues a stopped run)"
}

// IsFrozen reports whether err is a refusal because the fleet is frozen.
func IsFrozen(err error) bool { var e *FrozenError; return errors.As(err, &e) }

func (d *Deployer) freezePath() string { return filepath.Join(d.o.stateDir, "freeze.json") }

// Freeze freezes the fleet with a reason, until a time (zero: until Unfreeze). A run
// in progress stops before its next step.
func (d *Deployer) Freeze(reason string, until time.Time) (*Freeze, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, &InputError{Msg: "a freeze needs a reason (--reason): it is what every refused run shows"}
	}
	now := d.o.now()
	if !until.IsZero() && !until.After(now) {
		return nil, &InputError{Msg: fmt.Sprintf("--until %s is in the past", until.UTC().Format(time.RFC3339))}
	}
	host, _ := os.Hostname()
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	f := Freeze{By: name + "@" + host, Reason: reason, Since: now}
	if !until.IsZero() {
		u := until.UTC()
		f.Until = &u
	}
	if err := os.MkdirAll(d.o.stateDir, 0o755); err != nil {
		return nil, err
	}
	if err := writeJSON(d.freezePath(), f); err != nil {
		return nil, err
	}
	return &f, nil
}

// Unfreeze lifts the freeze and returns it (nil when the fleet was not frozen).
func (d *Deployer) Unfreeze() (*Freeze, error) {
	f, err := d.readFreeze()
	if err != nil {
		f = nil // unreadable: lifting it is still what was asked
	} else if f == nil {
		return nil, nil
	}
	if err := os.Remove(d.freezePath()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	return f, nil
}

// Frozen returns the freeze in force now, nil when there is none (an expired freeze is
// none).
func (d *Deployer) Frozen() (*Freeze, error) {
	f, err := d.readFreeze()
	if err != nil || f == nil {
		return nil, err
	}
	if f.Until != nil && !d.o.now().Before(*f.Until) {
		return nil, nil
	}
	return f, nil
}

func (d *Deployer) readFreeze() (*Freeze, error) {
	data, err := os.ReadFile(d.freezePath())
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var f Freeze
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("%s: %w (remove it, or run `flotilla unfreeze`)", d.freezePath(), err)
	}
	return &f, nil
}

// checkFrozen returns a FrozenError while the fleet is frozen.
func (d *Deployer) checkFrozen() error {
	f, err := d.Frozen()
	if err != nil {
		return err
	}
	if f != nil {
		return &FrozenError{Freeze: *f}
	}
	return nil
}
