package automation

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// RunStatus is where a run is.
type RunStatus string

// The statuses of a run.
const (
	RunRunning RunStatus = "running"
	// RunSucceeded: every stack is up and healthy.
	RunSucceeded RunStatus = "succeeded"
	// RunFailedWithExceptions: the run finished, without the stacks its failure
	// budgets set aside; `retry` reruns them.
	RunFailedWithExceptions RunStatus = "failed-with-exceptions"
	// RunFailed: a failure beyond a budget halted the run.
	RunFailed RunStatus = "failed"
	// RunGated: a gate (approval or preview policy) stopped the run.
	RunGated RunStatus = "gated"
	// RunInterrupted: a signal stopped the run.
	RunInterrupted RunStatus = "interrupted"
)

// StackStatus is where one stack of a run is.
type StackStatus string

// The statuses of a stack in a run.
const (
	StatusPending   StackStatus = "pending"
	StatusRunning   StackStatus = "running"
	StatusUpdated   StackStatus = "updated"   // up done, waiting for its wave's health gate
	StatusSucceeded StackStatus = "succeeded" // up (or skipped) and healthy
	StatusSkipped   StackStatus = "skipped"   // unchanged since its last successful update, and healthy
	StatusFailed    StackStatus = "failed"
	StatusSetAside  StackStatus = "set-aside" // failed within its stage's failure budget
)

// Inputs are what a stack's update depends on besides the clouds: its stack file and
// the program build, by content hash.
type Inputs struct {
	StackFile string `json:"stackFile"`
	Program   string `json:"program"`
}

// StepRecord is one step of a stack in a run.
type StepRecord struct {
	Step     StepKind       `json:"step"`
	Started  time.Time      `json:"started"`
	Finished *time.Time     `json:"finished,omitempty"`
	Outcome  string         `json:"outcome,omitempty"` // ok, failed, skipped, interrupted
	Changes  map[string]int `json:"changes,omitempty"`
	Error    string         `json:"error,omitempty"`
	// Detail says what the step was about, e.g. an upgrade round.
	Detail string `json:"detail,omitempty"`
}

// StackRecord is one stack of a run.
type StackRecord struct {
	StackRef
	Wave   int          `json:"wave"`
	Status StackStatus  `json:"status"`
	Inputs Inputs       `json:"inputs"`
	Steps  []StepRecord `json:"steps,omitempty"`
	Error  string       `json:"error,omitempty"`
	// Cleared lists what the run cleared for this stack: a dead update's lock, pending
	// operations imported or dropped.
	Cleared []string `json:"cleared,omitempty"`
}

// StageRecord is one environment of a run.
type StageRecord struct {
	Environment string     `json:"environment"`
	Started     *time.Time `json:"started,omitempty"`
	Approved    string     `json:"approved,omitempty"` // how: "--approve", "prompt"
	// SoakStarted is when the soak began, so that a resumed run serves only what is left.
	SoakStarted *time.Time `json:"soakStarted,omitempty"`
	SoakDone    bool       `json:"soakDone,omitempty"`
	Finished    *time.Time `json:"finished,omitempty"`
	Skipped     bool       `json:"skipped,omitempty"`
}

// Request is what a run was asked to do.
type Request struct {
	Selection    Selection `json:"selection"`
	Approve      []string  `json:"approve,omitempty"`
	AllowReplace bool      `json:"allowReplace,omitempty"`
	Refresh      bool      `json:"refresh,omitempty"`
	// UpgradeTo is an upgrade's target minor ("" for a rollout).
	UpgradeTo     string `json:"upgradeTo,omitempty"`
	WaitForWindow bool   `json:"waitForWindow,omitempty"`
}

// Journal is the record of one run, written atomically after every step, beside the
// state. It holds no secret: no output values, no passphrase, no kubeconfig.
type Journal struct {
	RunID    string                  `json:"runID"`
	Command  string                  `json:"command"`
	Status   RunStatus               `json:"status"`
	Started  time.Time               `json:"started"`
	Updated  time.Time               `json:"updated"`
	Finished *time.Time              `json:"finished,omitempty"`
	User     string                  `json:"user"`
	Host     string                  `json:"host"`
	PID      int                     `json:"pid"`
	Request  Request                 `json:"request"`
	Plan     Plan                    `json:"plan"`
	Stages   []*StageRecord          `json:"stages"`
	Stacks   map[string]*StackRecord `json:"stacks"`
	Error    string                  `json:"error,omitempty"`
	// Resumes counts the times resume or retry continued this run.
	Resumes int `json:"resumes,omitempty"`
	// Upgrade is an upgrade's plan as pre-flight computed it; each round is recomputed
	// from the clusters' real versions when it runs.
	Upgrade *UpgradePlan `json:"upgrade,omitempty"`
}

// Stage returns the record of an environment.
func (j *Journal) Stage(env string) *StageRecord {
	for _, s := range j.Stages {
		if s.Environment == env {
			return s
		}
	}
	return nil
}

// Failed returns the stacks that failed or were set aside, in plan order.
func (j *Journal) Failed() []*StackRecord {
	var out []*StackRecord
	for _, ref := range j.Plan.Stacks() {
		if r := j.Stacks[ref.Stack]; r != nil && (r.Status == StatusFailed || r.Status == StatusSetAside) {
			out = append(out, r)
		}
	}
	return out
}

func newRunID(now time.Time) string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return now.UTC().Format("20060102-150405") + "-" + hex.EncodeToString(b[:])
}

// journalStore keeps journals under <dir>/runs and the last successful update of each
// stack under <dir>/stacks.
type journalStore struct {
	dir string
	mu  sync.Mutex
}

func (s *journalStore) runPath(id string) string { return filepath.Join(s.dir, "runs", id+".json") }

// Save writes the journal atomically (a temporary file renamed over the old one), and
// points runs/latest at it.
func (s *journalStore) Save(j *Journal) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	j.Updated = time.Now()
	if err := writeJSON(s.runPath(j.RunID), j); err != nil {
		return fmt.Errorf("writing the journal: %w", err)
	}
	return writeFileAtomic(filepath.Join(s.dir, "runs", "latest"), []byte(j.RunID+"\n"))
}

// Latest returns the most recent run's journal; nil when there is none.
func (s *journalStore) Latest() (*Journal, error) {
	data, err := os.ReadFile(filepath.Join(s.dir, "runs", "latest"))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return s.Load(string(trimSpace(data)))
}

// Load reads one run's journal.
func (s *journalStore) Load(id string) (*Journal, error) {
	var j Journal
	if err := readJSON(s.runPath(id), &j); err != nil {
		return nil, fmt.Errorf("reading the journal of run %s: %w", id, err)
	}
	return &j, nil
}

// Runs lists the run IDs, oldest first.
func (s *journalStore) Runs() ([]string, error) {
	m, err := filepath.Glob(filepath.Join(s.dir, "runs", "*.json"))
	if err != nil {
		return nil, err
	}
	ids := make([]string, 0, len(m))
	for _, p := range m {
		ids = append(ids, trimExt(filepath.Base(p)))
	}
	sort.Strings(ids)
	return ids, nil
}

// LastGood is a stack's last successful update through the deploy program: what lets a
// no-change rollout skip it.
type LastGood struct {
	Stack    StackRef  `json:"stack"`
	Inputs   Inputs    `json:"inputs"`
	Marker   string    `json:"stateMarker"` // the state's marker right after that update
	RunID    string    `json:"runID"`
	Finished time.Time `json:"finished"`
	// Outputs are the stack's outputs after that update, secrets left out.
	Outputs map[string]any `json:"outputs,omitempty"`
}

func (s *journalStore) lastGoodPath(stack string) string {
	return filepath.Join(s.dir, "stacks", stack+".json")
}

// LastGood returns a stack's last successful update; nil when there is none.
func (s *journalStore) LastGood(stack string) (*LastGood, error) {
	var g LastGood
	err := readJSON(s.lastGoodPath(stack), &g)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &g, nil
}

// SetLastGood records a stack's successful update.
func (s *journalStore) SetLastGood(g LastGood) error {
	return writeJSON(s.lastGoodPath(g.Stack.Stack), g)
}

// ForgetLastGood drops a stack's record, e.g. after it was destroyed.
func (s *journalStore) ForgetLastGood(stack string) error {
	err := os.Remove(s.lastGoodPath(stack))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func writeJSON(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(data, '\n'))
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// writeFileAtomic writes data to a temporary file in path's directory, syncs it and
// renames it over path, so that a reader (or a crash) sees the old or the new file,
// never half of one.
func writeFileAtomic(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == ' ' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

func trimExt(name string) string { return name[:len(name)-len(filepath.Ext(name))] }
