package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/flotilla-io/flotilla/automation"
)

// progress renders a command's events as they come, then its result: for people,
// lines that say what each stack is doing (updated in place on a terminal); for CI,
// one JSON object per event and a final result object.
type progress struct {
	w       io.Writer
	errw    io.Writer // prompts and notices beside --output json
	json    bool
	verbose bool
	live    bool   // text on a terminal: the running steps are redrawn in place
	again   string // the flags to repeat in a suggested next command

	ch   chan automation.Event
	done chan struct{}
	quit chan struct{}

	mu      sync.Mutex
	drawn   int  // lines of the live area on the screen
	paused  bool // a prompt is asking a question
	started bool
	run     runTrack
}

// runTrack is what the events said about the run so far.
type runTrack struct {
	runID   string
	command string
	plan    automation.Plan
	width   int
	running map[string]runningStep // by stack
	soak    *automation.SoakProgress
	soaking map[string]bool // environments whose soak is running
	stacks  map[string]*stackTrack
	cleared []string
	took    time.Duration // this attempt's time, from RunDone (a resumed run started earlier)
	// refused are the stacks whose preview policy refusal was printed in full.
	refused map[string]bool
}

type runningStep struct {
	step  automation.StepKind
	since time.Time
}

type stackTrack struct {
	up      map[string]int // the changes of this invocation's up
	updated bool
	skipped string
	failed  string
	step    automation.StepKind
	rounds  int // upgrade rounds done
}

func newRunTrack() runTrack {
	return runTrack{running: map[string]runningStep{}, stacks: map[string]*stackTrack{}, soaking: map[string]bool{}, refused: map[string]bool{}, width: 8}
}

// plainEvery is how often plain output lists the steps still running.
var plainEvery = 30 * time.Second

func newProgress(cmd *cobra.Command, o commonOptions) *progress {
	w := cmd.OutOrStdout()
	p := &progress{
		w: w, errw: cmd.ErrOrStderr(), json: o.output == "json", verbose: o.verbose,
		ch: make(chan automation.Event, 64), done: make(chan struct{}), quit: make(chan struct{}),
		run: newRunTrack(),
	}
	p.live = !p.json && isTerminal(w)
	p.again = o.again()
	return p
}

// again returns the flags that a suggested next command must repeat.
func (o commonOptions) again() string {
	var b strings.Builder
	if o.project != "." && o.project != "" {
		fmt.Fprintf(&b, " --project %s", o.project)
	}
	if o.backend != "" {
		fmt.Fprintf(&b, " --backend %s", o.backend)
	}
	if o.bin != "" {
		fmt.Fprintf(&b, " --bin %s", o.bin)
	}
	if o.sim {
		b.WriteString(" --sim")
	}
	return b.String()
}

// events returns the Deployer option that sends events here, and starts rendering.
func (p *progress) events() automation.Option {
	p.mu.Lock()
	if !p.started {
		p.started = true
		go p.loop()
	}
	p.mu.Unlock()
	return automation.WithEvents(p.ch)
}

func (p *progress) loop() {
	defer close(p.done)
	every := plainEvery
	if p.live {
		every = 200 * time.Millisecond
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case e := <-p.ch:
			p.event(e)
		case <-tick.C:
			p.tick()
		case <-p.quit:
			for {
				select {
				case e := <-p.ch:
					p.event(e)
				default:
					return
				}
			}
		}
	}
}

// watch says, when stop closes, that the run is stopping; it returns stop.
func (p *progress) watch(stop <-chan struct{}) <-chan struct{} {
	if stop == nil {
		return nil
	}
	go func() {
		select {
		case <-stop:
		case <-p.quit:
			return
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		const msg = "==> interrupted: letting the running operations finish and starting nothing new; press Ctrl-C again to cancel them"
		if p.json {
			fmt.Fprintln(p.errw, msg)
			return
		}
		p.line("%s", msg)
	}()
	return stop
}

// stop renders the events still queued and stops rendering.
func (p *progress) stop() {
	p.mu.Lock()
	started := p.started
	p.mu.Unlock()
	if !started {
		return
	}
	select {
	case <-p.quit:
	default:
		close(p.quit)
	}
	<-p.done
	p.mu.Lock()
	p.clearLive()
	p.mu.Unlock()
}

// ask pauses the live area while f asks its user a question.
func (p *progress) ask(f func()) {
	p.mu.Lock()
	p.clearLive()
	p.paused = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.paused = false
		p.mu.Unlock()
	}()
	f()
}

func (p *progress) tick() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json || p.paused {
		return
	}
	if p.live {
		p.clearLive()
		p.drawLive()
		return
	}
	if len(p.run.running) == 0 {
		return
	}
	now := time.Now()
	var parts []string
	for _, s := range p.runningStacks() {
		r := p.run.running[s]
		parts = append(parts, fmt.Sprintf("%s %s %s", s, r.step, fmtDur(now.Sub(r.since))))
	}
	fmt.Fprintf(p.w, "    ... still running: %s\n", strings.Join(parts, ", "))
}

func (p *progress) runningStacks() []string {
	var names []string
	for s := range p.run.running {
		names = append(names, s)
	}
	order := p.order()
	sort.Slice(names, func(i, j int) bool { return slices.Index(order, names[i]) < slices.Index(order, names[j]) })
	return names
}

func (p *progress) order() []string {
	var out []string
	for _, r := range p.run.plan.Stacks() {
		out = append(out, r.Stack)
	}
	return out
}

// clearLive erases the live area; the caller holds mu.
func (p *progress) clearLive() {
	for ; p.drawn > 0; p.drawn-- {
		fmt.Fprint(p.w, "\x1b[1A\r\x1b[2K")
	}
}

// drawLive draws the running steps and the soak below the permanent lines; the caller
// holds mu.
func (p *progress) drawLive() {
	if !p.live || p.paused {
		return
	}
	now := time.Now()
	for _, s := range p.runningStacks() {
		r := p.run.running[s]
		fmt.Fprintf(p.w, "    %-*s  %s  %s...\n", p.run.width, s, r.step, fmtDur(now.Sub(r.since)))
		p.drawn++
	}
	if sp := p.run.soak; sp != nil {
		fmt.Fprintf(p.w, "    %-*s  soak  %s of %s, %s left\n", p.run.width, sp.Environment, fmtDur(sp.Elapsed), fmtDur(sp.Soak), fmtDur(sp.Remaining))
		p.drawn++
	}
}

// line prints a permanent line above the live area; the caller holds mu.
func (p *progress) line(format string, args ...any) {
	p.clearLive()
	fmt.Fprintf(p.w, format+"\n", args...)
	p.drawLive()
}

func (p *progress) event(e automation.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.track(e)
	if p.json {
		if _, ok := e.(automation.EngineOutput); ok && !p.verbose {
			return
		}
		writeJSON(p.w, e.Kind(), e)
		return
	}
	p.text(e)
}

// track updates what the run looks like.
func (p *progress) track(e automation.Event) {
	r := &p.run
	st := func(s string) *stackTrack {
		if r.stacks[s] == nil {
			r.stacks[s] = &stackTrack{}
		}
		return r.stacks[s]
	}
	switch e := e.(type) {
	case automation.RunStarted:
		r.runID, r.command, r.plan = e.RunID, e.Command, e.Plan
		for _, s := range e.Plan.Stacks() {
			r.width = max(r.width, len(s.Stack), len(s.Environment))
		}
	case automation.StepStarted:
		r.running[e.Stack.Stack] = runningStep{step: e.Step, since: e.When()}
		st(e.Stack.Stack).step = e.Step
	case automation.StepDone:
		delete(r.running, e.Stack.Stack)
		if e.Step == automation.StepUp && e.Error == "" {
			s := st(e.Stack.Stack)
			s.updated, s.up = true, e.Changes
		}
		if e.Step == automation.StepUpgrade && e.Error == "" {
			s := st(e.Stack.Stack)
			s.updated = true
			if s.up == nil {
				s.up = map[string]int{}
			}
			for op, n := range e.Changes {
				if op != "same" {
					s.up[op] += n
				}
			}
			s.rounds++
		}
	case automation.StackSkipped:
		st(e.Stack.Stack).skipped = e.Reason
	case automation.StackFailed:
		delete(r.running, e.Stack.Stack)
		s := st(e.Stack.Stack)
		s.failed, s.step = e.Reason, e.Step
	case automation.Cleared:
		r.cleared = append(r.cleared, e.What)
	case automation.SoakProgress:
		sp := e
		r.soak = &sp
		if e.Remaining <= 0 {
			r.soak = nil
		}
	case automation.GateWaiting:
		if e.Gate == automation.GateSoak {
			r.soaking[e.Environment] = true
		}
	case automation.GatePassed:
		if e.Gate == automation.GateSoak {
			r.soak = nil
			delete(r.soaking, e.Environment)
		}
	case automation.GateFailed:
		if e.Gate == automation.GateSoak {
			r.soak = nil
			delete(r.soaking, e.Environment)
		}
		if e.Gate == automation.GatePreview && e.Stack != "" {
			r.refused[e.Stack] = true
		}
	case automation.StageDone, automation.RunDone:
		r.soak = nil
		clear(r.soaking)
	}
}

// text prints an event for people.
func (p *progress) text(e automation.Event) {
	w := p.run.width
	switch e := e.(type) {
	case automation.RunStarted:
		var envs []string
		for _, st := range e.Plan.Stages {
			envs = append(envs, st.Environment)
		}
		p.line("==> %s %s: %s (%d stacks)", e.Command, e.RunID, strings.Join(envs, " -> "), len(e.Plan.Stacks()))
	case automation.StageStarted:
		st, _ := p.run.plan.Stage(e.Environment)
		n := 0
		for _, wv := range e.Waves {
			n += len(wv)
		}
		var gates []string
		if st.Protected {
			gates = append(gates, "protected: no replace or delete without --allow-replace")
		}
		if st.MaxFailures > 0 {
			gates = append(gates, fmt.Sprintf("up to %d failure(s) set aside", st.MaxFailures))
		}
		if st.Soak > 0 {
			gates = append(gates, "soak "+fmtDur(st.Soak))
		}
		extra := ""
		if len(gates) > 0 {
			extra = "; " + strings.Join(gates, "; ")
		}
		p.line("==> %s: %d stack(s) in %d wave(s), at most %d at a time%s", e.Environment, n, len(e.Waves), max(st.MaxConcurrency, 1), extra)
	case automation.WaveStarted:
		total := len(p.run.waves(e.Environment))
		p.line("==> %s: wave %d/%d: %s", e.Environment, e.Wave, max(total, e.Wave), strings.Join(e.Stacks, ", "))
	case automation.UpgradePlanned:
		var b strings.Builder
		printUpgradePlan(&b, e.Upgrade)
		for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
			p.line("%s", l)
		}
	case automation.StepStarted:
		switch {
		case e.Step == automation.StepPreview && e.Detail != "":
			p.line("    %-*s  upgrade round: %s", w, e.Stack.Stack, e.Detail)
		case e.Step == automation.StepUpgrade || e.Step == automation.StepHealth:
			// The round was named at its preview; its end says how it went.
		case p.live:
			p.clearLive()
			p.drawLive()
		case e.Step == automation.StepUp:
			p.line("    %-*s  up started", w, e.Stack.Stack)
		}
	case automation.StepDone:
		switch {
		case e.Error != "":
			p.line("    %-*s  %s failed after %s", w, e.Stack.Stack, e.Step, fmtDur(e.Duration))
		case e.Step == automation.StepPreview && !isRunVerb(p.run.command):
			// plan and drift report every preview in a table at the end.
		case e.Step == automation.StepPreview:
			p.line("    %-*s  preview  %s  (%s)", w, e.Stack.Stack, fmtDur(e.Duration), changes(e.Changes, false))
		case e.Step == automation.StepUp:
			p.line("    %-*s  up done in %s (%s)", w, e.Stack.Stack, fmtDur(e.Duration), changes(e.Changes, true))
		case e.Step == automation.StepUpgrade:
			p.line("    %-*s  upgrade round done in %s (%s)", w, e.Stack.Stack, fmtDur(e.Duration), changes(e.Changes, true))
		case e.Step == automation.StepHealth:
			// GatePassed says what was read.
		default:
			p.line("    %-*s  %s done in %s", w, e.Stack.Stack, e.Step, fmtDur(e.Duration))
		}
	case automation.EngineOutput:
		if p.verbose {
			p.line("    %-*s | %s", w, e.Stack.Stack, e.Line)
		}
	case automation.StackSkipped:
		p.line("    %-*s  skipped: %s", w, e.Stack.Stack, e.Reason)
	case automation.StackFailed:
		how := "FAILED"
		if e.SetAside {
			how = "FAILED (set aside within the failure budget; `flotilla retry` reruns it)"
		}
		if e.Step == automation.StepHealth {
			p.line("    %-*s  unhealthy, %s: %s", w, e.Stack.Stack, how, indent(e.Reason, "      "))
			break
		}
		if e.Step == automation.StepPreview && p.run.refused[e.Stack.Stack] {
			// The preview gate's refusal, just above, names every resource.
			p.line("    %-*s  %s at preview: stopped by its preview policy (above)", w, e.Stack.Stack, how)
			break
		}
		p.line("    %-*s  %s at %s: %s", w, e.Stack.Stack, how, e.Step, indent(e.Reason, "      "))
	case automation.Cleared:
		who := "==>"
		if e.Stack.Stack != "" {
			who = fmt.Sprintf("    %-*s ", w, e.Stack.Stack)
		}
		p.line("%s cleared %s", who, e.What)
	case automation.GateWaiting:
		switch e.Gate {
		case automation.GateApproval:
			p.line("==> %s: requires approval: %s", e.Environment, e.Reason)
		case automation.GateHealth:
			p.line("    health gate: %s", e.Reason)
		case automation.GateSoak:
			p.line("==> %s: %s", e.Environment, e.Reason)
		default:
			p.line("==> %s: %s gate: %s", e.Environment, e.Gate, e.Reason)
		}
	case automation.GatePassed:
		switch e.Gate {
		case automation.GateApproval:
			p.line("==> %s: %s", e.Environment, e.Detail)
		case automation.GateHealth:
			if !p.run.soaking[e.Environment] { // a soak's readings show in its progress
				p.line("    %-*s  healthy: %s", w, e.Stack, e.Detail)
			}
		case automation.GatePreview:
			p.line("    %-*s  preview policy passed: %s", w, e.Stack, e.Detail)
		case automation.GateSoak:
			p.line("==> %s: soak done: %s", e.Environment, e.Detail)
		default:
			p.line("==> %s: %s gate passed: %s", e.Environment, e.Gate, e.Detail)
		}
	case automation.GateFailed:
		who := "==> " + e.Environment + ":"
		if e.Stack != "" {
			who = fmt.Sprintf("    %-*s ", w, e.Stack)
		}
		switch {
		case e.Gate == automation.GateHealth && e.Stack != "":
			// StackFailed follows, with the same reason.
		case e.Gate == automation.GateHealth:
			p.line("%s unhealthy: %s", who, indent(e.Reason, "      "))
		case e.Gate == automation.GatePreview:
			p.line("%s stopped by the preview policy: %s", who, indent(e.Reason, "      "))
		default:
			p.line("%s %s gate refused: %s", who, e.Gate, indent(e.Reason, "      "))
		}
	case automation.SoakProgress:
		if !p.live {
			health := "healthy"
			if !e.Healthy {
				health = "UNHEALTHY"
			}
			p.line("    %-*s  soak %s of %s: %s", w, e.Environment, fmtDur(e.Elapsed), fmtDur(e.Soak), health)
		}
	case automation.StageDone:
		if e.Skipped {
			p.line("==> %s: unchanged, nothing to do (%s)", e.Environment, fmtDur(e.Duration))
		} else {
			p.line("==> %s: done in %s", e.Environment, fmtDur(e.Duration))
		}
	case automation.RunDone:
		// finish prints the summary, with what the returned error says.
		p.run.took = e.Duration
	}
}

func (r *runTrack) waves(env string) [][]string {
	st, _ := r.plan.Stage(env)
	return st.Waves
}

// writeJSON writes one JSON object: {"type": kind, ...v's fields}.
func writeJSON(w io.Writer, kind string, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		body, _ = json.Marshal(map[string]string{"marshalError": err.Error()})
	}
	head, _ := json.Marshal(map[string]string{"type": kind})
	out := head[:len(head)-1]
	if rest := body[1:]; len(rest) > 1 {
		out = append(append(out, ','), rest...)
	} else {
		out = append(out, '}')
	}
	fmt.Fprintf(w, "%s\n", out)
}

// result is how a command ended.
type result struct {
	command string
	// journal is the run's journal, when the command ran one.
	journal *automation.Journal
	err     error
	// data is the command's result for --output json, by key.
	data map[string]any
	// report prints the command's result for people.
	report func(w io.Writer)
}

// resultJSON is the final object of --output json.
type resultJSON struct {
	Command  string `json:"command"`
	Status   string `json:"status"`
	RunID    string `json:"runID,omitempty"`
	Error    string `json:"error,omitempty"`
	ExitCode int    `json:"exitCode"`
	Next     string `json:"next,omitempty"`
}

// finish stops rendering and prints the result: the summary and the next command for
// people, the result object for CI. It returns the error to exit with.
func (p *progress) finish(res result) error {
	p.stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	code := exitCode(res.err)
	status := statusOf(res)
	next := p.next(res)
	runID := p.run.runID
	if res.journal != nil {
		runID = res.journal.RunID
	}
	if p.json {
		obj := resultJSON{Command: res.command, Status: status, RunID: runID, ExitCode: code, Next: next}
		if res.err != nil {
			obj.Error = res.err.Error()
		}
		m := map[string]any{}
		data, _ := json.Marshal(obj)
		_ = json.Unmarshal(data, &m)
		for k, v := range res.data {
			m[k] = v
		}
		delete(m, "type")
		writeJSON(p.w, "result", m)
		return res.err
	}
	if res.report != nil {
		res.report(p.w)
	}
	if !isRunVerb(res.command) {
		// The command's report says what it found; main prints an error.
		if next != "" && res.err != nil {
			return &nextError{err: res.err, next: next}
		}
		return res.err
	}
	p.summary(res, status, runID, next)
	if res.err != nil {
		return &reportedError{err: res.err}
	}
	return nil
}

// nextError is an error whose message ends with the command to run next.
type nextError struct {
	err  error
	next string
}

func (e *nextError) Error() string { return e.err.Error() + "\nnext: " + e.next }
func (e *nextError) Unwrap() error { return e.err }

func isRunVerb(command string) bool {
	switch command {
	case "rollout", "resume", "retry", "upgrade":
		return true
	}
	return false
}

// statusOf names how a command ended.
func statusOf(res result) string {
	if res.journal != nil && res.journal.Status != automation.RunRunning {
		return string(res.journal.Status)
	}
	err := res.err
	switch {
	case err == nil:
		return "succeeded"
	case automation.IsLocked(err), automation.IsConcurrentUpdate(err):
		return "locked"
	case automation.IsGateRefused(err):
		return "gated"
	case automation.IsInterrupted(err):
		return "interrupted"
	case automation.IsDrift(err):
		return "drifted"
	}
	if exitCode(err) == exitUsage {
		return "invalid"
	}
	return "failed"
}

// summary prints what ran, what was skipped, what failed and why, and what to run next.
func (p *progress) summary(res result, status, runID, next string) {
	w := p.w
	head := fmt.Sprintf("==> %s", res.command)
	if runID != "" {
		head += " " + runID
	}
	switch {
	case res.journal != nil && res.journal.Finished != nil:
		took := res.journal.Finished.Sub(res.journal.Started)
		if p.run.took > 0 {
			took = p.run.took
		}
		head += fmt.Sprintf(" %s in %s", status, fmtDur(took))
	case res.journal == nil && res.err != nil:
		head += " refused before anything changed"
	default:
		head += " " + status
	}
	fmt.Fprintln(w, head)
	if j := res.journal; j != nil {
		var updated, earlier, skipped, failed, aside, notRun, unchecked []string
		for _, ref := range j.Plan.Stacks() {
			rec := j.Stacks[ref.Stack]
			if rec == nil {
				continue
			}
			t := p.run.stacks[ref.Stack]
			switch rec.Status {
			case automation.StatusSucceeded:
				if t != nil && t.updated {
					updated = append(updated, fmt.Sprintf("%s (%s)", ref.Stack, changes(t.up, true)))
				} else {
					earlier = append(earlier, ref.Stack)
				}
			case automation.StatusSkipped:
				skipped = append(skipped, ref.Stack)
			case automation.StatusUpdated:
				unchecked = append(unchecked, ref.Stack+" (up done, health not read yet)")
			case automation.StatusFailed:
				failed = append(failed, fmt.Sprintf("%s: %s", ref.Stack, indent(rec.Error, "                 ")))
			case automation.StatusSetAside:
				aside = append(aside, fmt.Sprintf("%s: %s", ref.Stack, indent(rec.Error, "                 ")))
			default:
				notRun = append(notRun, ref.Stack)
			}
		}
		list := func(label string, items []string, sep string) {
			if len(items) > 0 {
				fmt.Fprintf(w, "    %-12s %s\n", label+":", strings.Join(items, sep))
			}
		}
		list("updated", updated, ", ")
		list("done before", earlier, ", ")
		list("skipped", skipped, ", ")
		list("not checked", unchecked, ", ")
		list("failed", failed, "\n                 ")
		list("set aside", aside, "\n                 ")
		list("not run", notRun, ", ")
		list("cleared", p.run.cleared, "\n                 ")
	}
	var failed *automation.RunFailedError
	var stackErr *automation.StackError
	listed := res.journal != nil && errors.As(res.err, &stackErr) && res.journal.Stacks[stackErr.Stack.Stack] != nil &&
		res.journal.Stacks[stackErr.Stack.Stack].Status == automation.StatusFailed
	if res.err != nil && !listed && (res.journal == nil || !errors.As(res.err, &failed)) {
		// A run's failures are listed above, stack by stack.
		fmt.Fprintf(w, "    %-12s %s\n", "why:", indent(res.err.Error(), "                 "))
	}
	if next != "" {
		fmt.Fprintf(w, "    %-12s %s\n", "next:", next)
	}
}

// next says what to run after a command ended as it did.
func (p *progress) next(res result) string {
	err := res.err
	again := p.again
	if err == nil {
		return ""
	}
	var locked *automation.LockedError
	var approval *automation.ApprovalRequiredError
	var policy *automation.PreviewPolicyError
	var failed *automation.RunFailedError
	switch {
	case errors.As(err, &locked):
		if locked.Stale != "" {
			return "flotilla unlock" + again + ", then run again"
		}
		return fmt.Sprintf("wait for run %s to finish (flotilla status%s shows it)", locked.Holder.RunID, again)
	case automation.IsConcurrentUpdate(err):
		return "wait for the other update to finish, then flotilla resume" + again
	case errors.As(err, &approval):
		if res.journal == nil {
			return fmt.Sprintf("run the same command with --approve %s, or run it on a terminal to be asked", approval.Environment)
		}
		return fmt.Sprintf("flotilla resume%s --approve %s", again, approval.Environment)
	case errors.As(err, &policy):
		return fmt.Sprintf("review it with flotilla plan%s --env %s; to allow it, run flotilla rollout%s --allow-replace with the same selection",
			again, policy.Stack.Environment, again)
	case errors.As(err, &failed):
		if failed.WithExceptions {
			return "flotilla retry" + again + " reruns the set-aside stacks with the same inputs"
		}
		return "fix the cause, then `flotilla retry" + again + "` (same inputs, e.g. once a cloud fault clears) or `flotilla resume" + again + "` (after changing a stack file or the program)"
	case automation.IsHealthError(err):
		return "fix the cause, then flotilla retry" + again
	case automation.IsInterrupted(err):
		return "flotilla resume" + again + " continues the run"
	case automation.IsFrozen(err):
		if res.journal == nil {
			return "flotilla unfreeze" + again + " lifts the freeze, when it is time"
		}
		return "flotilla unfreeze" + again + ", then flotilla resume" + again
	case automation.IsWindowClosed(err):
		var wc *automation.WindowClosedError
		errors.As(err, &wc)
		return fmt.Sprintf("flotilla resume%s once the window opens (%s), or add --wait-for-window to wait", again, wc.Opens.UTC().Format(time.RFC3339))
	case automation.IsInputsChanged(err):
		return "flotilla resume" + again + " continues with the new inputs"
	case automation.IsDrift(err):
		return "flotilla rollout" + again + " --refresh brings the clouds back to the stacks' state"
	}
	return ""
}

// changes renders resource counts: "3 to update" for a preview, "3 updated, 40
// unchanged" after an up.
func changes(c map[string]int, done bool) string {
	order := []string{"create", "update", "replace", "delete"}
	past := map[string]string{"create": "created", "update": "updated", "replace": "replaced", "delete": "deleted"}
	// The engine counts a replacement's steps apart (create-replacement, then
	// delete-replaced); people read one replacement.
	steps := []string{"create-replacement", "delete-replaced", "discard-replaced", "import-replacement"}
	var ops []string
	for op := range c {
		if op != "same" && !slices.Contains(order, op) && (c["replace"] == 0 || !slices.Contains(steps, op)) {
			ops = append(ops, op)
		}
	}
	sort.Strings(ops)
	ops = append(order, ops...)
	var parts []string
	for _, op := range ops {
		n := c[op]
		if n == 0 {
			continue
		}
		if done {
			name := past[op]
			if name == "" {
				name = op
			}
			parts = append(parts, fmt.Sprintf("%d %s", n, name))
		} else {
			parts = append(parts, fmt.Sprintf("%d to %s", n, op))
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "no changes")
	}
	if n := c["same"]; n > 0 {
		parts = append(parts, fmt.Sprintf("%d unchanged", n))
	}
	return strings.Join(parts, ", ")
}

// fmtDur rounds a duration for people: 2.1s, 1m3s, 2h0m.
func fmtDur(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}

// indent indents the lines after the first.
func indent(s, prefix string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n"+prefix)
}
