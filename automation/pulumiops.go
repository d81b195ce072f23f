package automation

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/events"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optdestroy"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optrefresh"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optup"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/flotilla-io/flotilla/internal/workspace"
)

// PulumiOpsOptions configure the automation-API implementation of StackOps.
type PulumiOpsOptions struct {
	ProjectDir string // holds stacks/Pulumi.<stack>.yaml
	WorkDir    string // one workspace directory per stack under it
	Bin        string
	Backend    string
	Project    string
	Program    pulumi.RunFunc
	Env        map[string]string
}

// PulumiOps runs stack operations through the Pulumi automation API, each stack in a
// workspace of its own (selecting stacks in parallel on one workspace corrupts it). Its
// CLI processes die with the process that started them.
type PulumiOps struct {
	o PulumiOpsOptions

	mu     sync.Mutex
	stacks map[string]*stackSlot
}

type stackSlot struct {
	mu    sync.Mutex // one operation per stack at a time
	stack *auto.Stack
}

var (
	_ StackOps    = (*PulumiOps)(nil)
	_ StackStates = (*PulumiOps)(nil)
)

// NewPulumiOps returns stack operations over the automation API.
func NewPulumiOps(o PulumiOpsOptions) *PulumiOps {
	return &PulumiOps{o: o, stacks: map[string]*stackSlot{}}
}

// with runs f on the stack's workspace, created or selected on first use, with the
// committed stack file copied in before each operation.
func (p *PulumiOps) with(ctx context.Context, s StackRef, f func(st *auto.Stack) error) error {
	return p.withFile(ctx, s, "", f)
}

// withFile is with, running on the stack file at file ("" for the project's).
func (p *PulumiOps) withFile(ctx context.Context, s StackRef, file string, f func(st *auto.Stack) error) error {
	p.mu.Lock()
	slot := p.stacks[s.Stack]
	if slot == nil {
		slot = &stackSlot{}
		p.stacks[s.Stack] = slot
	}
	p.mu.Unlock()
	slot.mu.Lock()
	defer slot.mu.Unlock()
	if file == "" {
		file = filepath.Join(p.o.ProjectDir, "stacks", "Pulumi."+s.Stack+".yaml")
	}
	dir := filepath.Join(p.o.WorkDir, s.Stack)
	if slot.stack == nil {
		st, err := workspace.New(ctx, workspace.Options{
			Dir: dir, Project: p.o.Project, Stack: s.Stack, StackFile: file,
			Bin: p.o.Bin, Backend: p.o.Backend, Env: p.o.Env, Program: p.o.Program,
		})
		if err != nil {
			return fmt.Errorf("selecting the stack: %w", err)
		}
		slot.stack = &st
	} else if err := workspace.CopyStackFile(file, filepath.Join(dir, "Pulumi."+s.Stack+".yaml")); err != nil {
		return err
	}
	return f(slot.stack)
}

// changeCounter counts resource steps from the engine's event stream.
type changeCounter struct {
	ch   chan events.EngineEvent
	done chan struct{}
	mu   sync.Mutex
	res  []ResourceChange
}

func newChangeCounter() *changeCounter {
	c := &changeCounter{ch: make(chan events.EngineEvent), done: make(chan struct{})}
	go func() {
		defer close(c.done)
		for e := range c.ch {
			if e.ResourcePreEvent == nil {
				continue
			}
			m := e.ResourcePreEvent.Metadata
			if m.Type == "pulumi:pulumi:Stack" || m.Type == "pulumi:providers:fleetsim" && string(m.Op) == "same" {
				continue
			}
			c.mu.Lock()
			c.res = append(c.res, ResourceChange{URN: m.URN, Type: m.Type, Op: string(m.Op)})
			c.mu.Unlock()
		}
	}()
	return c
}

// streamGrace bounds the wait for the event stream once its operation returned: the SDK
// never closes the stream of a command that failed before the engine started (a stack
// locked by a dead update, a bad flag).
const streamGrace = 5 * time.Second

// result waits for the stream to end (the SDK closes it), or streamGrace, and counts.
func (c *changeCounter) result() OpResult {
	select {
	case <-c.done:
	case <-time.After(streamGrace):
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	r := OpResult{Changes: map[string]int{}}
	for _, x := range c.res {
		r.Changes[x.Op]++
		if x.Op != "same" && x.Op != "read" {
			r.Resources = append(r.Resources, x)
		}
	}
	return r
}

func progressWriter(f func(string)) io.Writer {
	if f == nil {
		return io.Discard
	}
	return &lineWriter{emit: f}
}

// Preview runs `pulumi preview`.
func (p *PulumiOps) Preview(ctx context.Context, s StackRef, o OpOptions) (OpResult, error) {
	var res OpResult
	err := p.withFile(ctx, s, o.StackFile, func(st *auto.Stack) error {
		c := newChangeCounter()
		w := progressWriter(o.Progress)
		opts := []optpreview.Option{optpreview.EventStreams(c.ch), optpreview.ProgressStreams(w), optpreview.ErrorProgressStreams(w)}
		if o.Refresh {
			opts = append(opts, optpreview.Refresh())
		}
		if o.ExpectNoChanges {
			opts = append(opts, optpreview.ExpectNoChanges())
		}
		_, err := st.Preview(ctx, opts...)
		flush(w)
		res = c.result()
		return err
	})
	return res, err
}

// Up runs `pulumi up` and returns the outputs with the changes.
func (p *PulumiOps) Up(ctx context.Context, s StackRef, o OpOptions) (OpResult, error) {
	var res OpResult
	err := p.withFile(ctx, s, o.StackFile, func(st *auto.Stack) error {
		c := newChangeCounter()
		w := progressWriter(o.Progress)
		opts := []optup.Option{optup.EventStreams(c.ch), optup.ProgressStreams(w), optup.ErrorProgressStreams(w)}
		if o.Refresh {
			opts = append(opts, optup.Refresh())
		}
		up, err := st.Up(ctx, opts...)
		flush(w)
		res = c.result()
		res.Outputs = outputsOf(up.Outputs)
		return err
	})
	return res, err
}

// Refresh runs `pulumi refresh`. With ImportPending or ClearPending it first resolves
// the state's pending operations: the pending creates the cloud has are adopted into
// the state (as resources with the cloud's IDs), every other pending operation is
// dropped, and the refresh then reads each resource's real state from its provider.
// The CLI's own --import-pending-creates marks them importing, which the engine of the
// pinned CLI never completes; editing the deployment does what it means.
func (p *PulumiOps) Refresh(ctx context.Context, s StackRef, o OpOptions) (OpResult, error) {
	var res OpResult
	err := p.with(ctx, s, func(st *auto.Stack) error {
		if len(o.ImportPending) > 0 || o.ClearPending {
			if err := resolvePending(ctx, st, o.ImportPending); err != nil {
				return fmt.Errorf("resolving pending operations: %w", err)
			}
		}
		c := newChangeCounter()
		w := progressWriter(o.Progress)
		opts := []optrefresh.Option{optrefresh.EventStreams(c.ch), optrefresh.ProgressStreams(w), optrefresh.ErrorProgressStreams(w)}
		if o.ExpectNoChanges {
			opts = append(opts, optrefresh.ExpectNoChanges())
		}
		_, err := st.Refresh(ctx, opts...)
		flush(w)
		res = c.result()
		return err
	})
	return res, err
}

// resolvePending edits the stack's deployment: pending creates listed in adopt become
// resources with the given IDs; every pending operation is then removed.
func resolvePending(ctx context.Context, st *auto.Stack, adopt []PendingCreate) error {
	dep, err := st.Export(ctx)
	if err != nil {
		return err
	}
	var d map[string]json.RawMessage
	if err := json.Unmarshal(dep.Deployment, &d); err != nil {
		return err
	}
	var pending []struct {
		Type     string         `json:"type"`
		Resource map[string]any `json:"resource"`
	}
	if raw, ok := d["pending_operations"]; ok && len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &pending); err != nil {
			return err
		}
	}
	if len(pending) == 0 {
		return nil
	}
	var resources []map[string]any
	if raw, ok := d["resources"]; ok && len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &resources); err != nil {
			return err
		}
	}
	ids := map[string]string{}
	for _, a := range adopt {
		ids[a.URN] = a.ID
	}
	for _, op := range pending {
		urn, _ := op.Resource["urn"].(string)
		id, ok := ids[urn]
		if op.Type != "creating" || !ok {
			continue
		}
		r := op.Resource
		r["id"] = id
		if _, ok := r["outputs"]; !ok {
			// The refresh replaces these with what the provider reads.
			r["outputs"] = r["inputs"]
		}
		resources = append(resources, r)
	}
	if d["resources"], err = json.Marshal(resources); err != nil {
		return err
	}
	delete(d, "pending_operations")
	raw, err := json.Marshal(d)
	if err != nil {
		return err
	}
	dep.Deployment = raw
	return st.Import(ctx, dep)
}

// Outputs reads the stack's outputs, secrets included (they never leave the process).
func (p *PulumiOps) Outputs(ctx context.Context, s StackRef) (Outputs, error) {
	var out Outputs
	err := p.with(ctx, s, func(st *auto.Stack) error {
		m, err := st.Outputs(ctx)
		out = outputsOf(m)
		return err
	})
	return out, err
}

// Destroy runs `pulumi destroy`.
func (p *PulumiOps) Destroy(ctx context.Context, s StackRef, o OpOptions) (OpResult, error) {
	var res OpResult
	err := p.with(ctx, s, func(st *auto.Stack) error {
		c := newChangeCounter()
		w := progressWriter(o.Progress)
		_, err := st.Destroy(ctx, optdestroy.EventStreams(c.ch), optdestroy.ProgressStreams(w), optdestroy.ErrorProgressStreams(w))
		flush(w)
		res = c.result()
		return err
	})
	return res, err
}

// CancelUpdate clears the stack's lock (`pulumi cancel`).
func (p *PulumiOps) CancelUpdate(ctx context.Context, s StackRef) error {
	return p.with(ctx, s, func(st *auto.Stack) error { return st.Cancel(ctx) })
}

// State reads the stack's state. On a file:// backend it reads the checkpoint file
// directly, without the CLI, so that a no-change rollout costs no CLI call per stack;
// on other backends it asks the CLI for the last update and the pending operations.
func (p *PulumiOps) State(ctx context.Context, s StackRef) (StackState, error) {
	if path, ok := strings.CutPrefix(p.o.Backend, "file://"); ok {
		state, err := readCheckpoint(filepath.Join(path, ".pulumi", "stacks", p.o.Project, s.Stack+".json"))
		// The file backend rewrites the checkpoint at every step of an update: while the
		// stack is locked, the update has not finished (it runs, or it was killed).
		if err != nil || state.LastUpdate == nil {
			return state, err
		}
		// The checkpoint is rewritten at every step of an update, so it alone cannot tell
		// a finished update from one killed between two steps. The history entry can:
		// the CLI writes it when the update ends, with its result.
		if h, ok := lastHistory(filepath.Join(path, ".pulumi", "history", p.o.Project, s.Stack), s.Stack); ok {
			state.LastUpdate.Kind, state.LastUpdate.Result = h.Kind, h.Result
			state.LastUpdate.Started, state.LastUpdate.Ended = h.Started, h.Ended
		} else {
			state.LastUpdate.Result = "unknown"
		}
		if fileLocked(path, p.o.Project, s.Stack) {
			state.LastUpdate.Result = "in-progress"
		}
		return state, nil
	}
	var state StackState
	err := p.with(ctx, s, func(st *auto.Stack) error {
		h, err := st.History(ctx, 1, 1)
		if err != nil {
			return err
		}
		state.Exists = true
		if len(h) > 0 {
			u := h[0]
			info := &UpdateInfo{Kind: u.Kind, Result: u.Result, Marker: strconv.Itoa(u.Version)}
			info.Started, _ = time.Parse(time.RFC3339, u.StartTime)
			if u.EndTime != nil {
				info.Ended, _ = time.Parse(time.RFC3339, *u.EndTime)
			}
			state.LastUpdate = info
		}
		dep, err := st.Export(ctx)
		if err != nil {
			return err
		}
		if state.Pending, err = pendingOf(dep.Deployment); err != nil {
			return err
		}
		state.Types, err = typesOf(dep.Deployment)
		return err
	})
	return state, err
}

// fileLocked reports whether a file backend holds a lock on the stack.
func fileLocked(backend, project, stack string) bool {
	for _, pattern := range []string{
		filepath.Join(backend, ".pulumi", "locks", "*", project, stack, "*.json"),
		filepath.Join(backend, ".pulumi", "locks", stack, "*.json"),
	} {
		if m, _ := filepath.Glob(pattern); len(m) > 0 {
			return true
		}
	}
	return false
}

// lastHistory reads the newest history entry of a stack on a file backend: files named
// <stack>-<unix nanoseconds>.history.json, holding the update's kind, result, and start
// and end times in unix seconds.
func lastHistory(dir, stack string) (UpdateInfo, bool) {
	files, _ := filepath.Glob(filepath.Join(dir, stack+"-*.history.json"))
	newest, newestAt := "", int64(-1)
	for _, f := range files {
		n := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), stack+"-"), ".history.json")
		if at, err := strconv.ParseInt(n, 10, 64); err == nil && at > newestAt {
			newest, newestAt = f, at
		}
	}
	if newest == "" {
		return UpdateInfo{}, false
	}
	data, err := os.ReadFile(newest)
	if err != nil {
		return UpdateInfo{}, false
	}
	var h struct {
		Kind      string `json:"kind"`
		Result    string `json:"result"`
		StartTime int64  `json:"startTime"`
		EndTime   int64  `json:"endTime"`
	}
	if json.Unmarshal(data, &h) != nil || h.Kind == "" {
		return UpdateInfo{}, false
	}
	return UpdateInfo{Kind: h.Kind, Result: h.Result, Started: time.Unix(h.StartTime, 0), Ended: time.Unix(h.EndTime, 0)}, true
}

// readCheckpoint reads a file backend's checkpoint: its hash is the state's marker,
// its manifest time the last update, and its pending operations.
func readCheckpoint(path string) (StackState, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		gz, gerr := os.ReadFile(path + ".gz")
		if errors.Is(gerr, os.ErrNotExist) {
			return StackState{}, nil
		}
		if gerr != nil {
			return StackState{}, gerr
		}
		zr, zerr := gzip.NewReader(strings.NewReader(string(gz)))
		if zerr != nil {
			return StackState{}, zerr
		}
		if data, err = io.ReadAll(zr); err != nil {
			return StackState{}, err
		}
	} else if err != nil {
		return StackState{}, err
	}
	var cp struct {
		Checkpoint struct {
			Latest json.RawMessage `json:"latest"`
		} `json:"checkpoint"`
	}
	if err := json.Unmarshal(data, &cp); err != nil {
		return StackState{}, fmt.Errorf("%s: %w", path, err)
	}
	sum := sha256.Sum256(data)
	state := StackState{Exists: true}
	var manifest struct {
		Manifest struct {
			Time time.Time `json:"time"`
		} `json:"manifest"`
	}
	if len(cp.Checkpoint.Latest) > 0 && string(cp.Checkpoint.Latest) != "null" {
		_ = json.Unmarshal(cp.Checkpoint.Latest, &manifest)
		state.Pending, err = pendingOf(cp.Checkpoint.Latest)
		if err != nil {
			return StackState{}, err
		}
		if state.Types, err = typesOf(cp.Checkpoint.Latest); err != nil {
			return StackState{}, err
		}
	}
	state.LastUpdate = &UpdateInfo{Kind: "update", Result: "succeeded", Started: manifest.Manifest.Time,
		Ended: manifest.Manifest.Time, Marker: hex.EncodeToString(sum[:8])}
	return state, nil
}

// typesOf lists the resource types of a deployment, sorted, each once.
func typesOf(deployment json.RawMessage) ([]string, error) {
	if len(deployment) == 0 {
		return nil, nil
	}
	var d struct {
		Resources []struct {
			Type string `json:"type"`
		} `json:"resources"`
	}
	if err := json.Unmarshal(deployment, &d); err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	var out []string
	for _, r := range d.Resources {
		if !seen[r.Type] {
			seen[r.Type] = true
			out = append(out, r.Type)
		}
	}
	sort.Strings(out)
	return out, nil
}

func pendingOf(deployment json.RawMessage) ([]PendingOp, error) {
	if len(deployment) == 0 {
		return nil, nil
	}
	var d struct {
		Pending []struct {
			Type     string `json:"type"`
			Resource struct {
				URN    string         `json:"urn"`
				Type   string         `json:"type"`
				Inputs map[string]any `json:"inputs"`
			} `json:"resource"`
		} `json:"pending_operations"`
	}
	if err := json.Unmarshal(deployment, &d); err != nil {
		return nil, err
	}
	var out []PendingOp
	for _, p := range d.Pending {
		out = append(out, PendingOp{URN: p.Resource.URN, Type: p.Resource.Type, Kind: p.Type, Inputs: p.Resource.Inputs})
	}
	return out, nil
}

func outputsOf(m auto.OutputMap) Outputs {
	out := Outputs{}
	for k, v := range m {
		out[k] = Output{Value: v.Value, Secret: v.Secret}
	}
	return out
}

// lineWriter turns the engine's progress stream into one call per line.
type lineWriter struct {
	mu   sync.Mutex
	buf  []byte
	emit func(string)
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := strings.IndexByte(string(w.buf), '\n')
		if i < 0 {
			return len(p), nil
		}
		if line := strings.TrimRight(string(w.buf[:i]), "\r "); line != "" {
			w.emit(line)
		}
		w.buf = w.buf[i+1:]
	}
}

func flush(w io.Writer) {
	lw, ok := w.(*lineWriter)
	if !ok {
		return
	}
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if line := strings.TrimSpace(string(lw.buf)); line != "" {
		lw.emit(line)
	}
	lw.buf = nil
}

var _ = bufio.ScanLines
