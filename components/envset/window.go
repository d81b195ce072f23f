package envset

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Window is a weekly maintenance window in UTC: it opens at Start on each of Days and
// stays open for Duration, which may run past midnight into the next day. Upgrade steps
// start only while an environment's window is open. A nil *Window is always open.
type Window struct {
	// Days are the days it opens on; empty means every day.
	Days []time.Weekday
	// Start is when it opens, as the time since midnight UTC (whole minutes below 24h).
	Start time.Duration
	// Duration is how long it stays open: more than zero, at most 24h, whole minutes.
	Duration time.Duration
}

const day = 24 * time.Hour

// dayNames are the names a window's days are written with, Sunday first as time.Weekday
// counts; the full English names are accepted too.
var dayNames = [...]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// parseDay reads a day of the week: "sat" or "saturday", in any case.
func parseDay(s string) (time.Weekday, error) {
	l := strings.ToLower(strings.TrimSpace(s))
	for d := time.Sunday; d <= time.Saturday; d++ {
		if l == dayNames[d] || l == strings.ToLower(d.String()) {
			return d, nil
		}
	}
	return 0, fmt.Errorf("%q is not a day of the week; write mon, tue, wed, thu, fri, sat or sun", s)
}

// parseClock reads a time of day "HH:MM" (24-hour, 00:00 to 23:59) as the time since midnight.
func parseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || len(s) != len("15:04") {
		return 0, fmt.Errorf("%q is not a time of day; write it as \"HH:MM\" in 24-hour UTC, e.g. \"02:00\"", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Validate reports every problem with w at once: a day listed twice or out of range, a
// start outside the day or not on a whole minute, a duration that is not positive, is
// longer than a day or not whole minutes.
func (w *Window) Validate() error { return errors.Join(w.problems()...) }

func (w *Window) problems() []error {
	if w == nil {
		return nil
	}
	var problems []error
	seen := map[time.Weekday]bool{}
	for _, d := range w.Days {
		switch {
		case d < time.Sunday || d > time.Saturday:
			problems = append(problems, fmt.Errorf("day %d is not a day of the week", int(d)))
		case seen[d]:
			problems = append(problems, fmt.Errorf("day %q is listed twice", dayNames[d]))
		}
		if d >= time.Sunday && d <= time.Saturday {
			seen[d] = true
		}
	}
	if w.Start < 0 || w.Start >= day || w.Start%time.Minute != 0 {
		problems = append(problems, fmt.Errorf("start %s is not a time of day in whole minutes from 00:00 to 23:59", w.Start))
	}
	switch {
	case w.Duration <= 0:
		problems = append(problems, fmt.Errorf("duration is %s; it must be more than zero", w.Duration))
	case w.Duration > day:
		problems = append(problems, fmt.Errorf("duration is %s; it must be at most 24h: a window opens at most once a day", w.Duration))
	case w.Duration%time.Minute != 0:
		problems = append(problems, fmt.Errorf("duration is %s; give it in whole minutes", w.Duration))
	}
	return problems
}

// opensOn reports whether the window opens on day d.
func (w *Window) opensOn(d time.Weekday) bool {
	return len(w.Days) == 0 || slices.Contains(w.Days, d)
}

// always reports whether the window never closes: open all day, every day.
func (w *Window) always() bool {
	if w.Duration < day {
		return false
	}
	for d := time.Sunday; d <= time.Saturday; d++ {
		if !w.opensOn(d) {
			return false
		}
	}
	return true
}

// opening returns when the window opens on the day k days after t's (in UTC), and
// whether it opens that day at all.
func (w *Window) opening(t time.Time, k int) (time.Time, bool) {
	u := t.UTC()
	midnight := time.Date(u.Year(), u.Month(), u.Day()+k, 0, 0, 0, 0, time.UTC)
	return midnight.Add(w.Start), w.opensOn(midnight.Weekday())
}

// Open reports whether the window is open at t. A nil window is always open.
func (w *Window) Open(t time.Time) bool {
	if w == nil {
		return true
	}
	// A window opens at most once a day and lasts at most a day, so only the openings
	// of t's day and the day before can cover t.
	for k := -1; k <= 0; k++ {
		if o, ok := w.opening(t, k); ok && !t.Before(o) && t.Before(o.Add(w.Duration)) {
			return true
		}
	}
	return false
}

// Next returns t itself when the window is open at t, and otherwise when it next opens.
func (w *Window) Next(t time.Time) time.Time {
	if w.Open(t) {
		return t
	}
	for k := 0; k <= 7; k++ {
		if o, ok := w.opening(t, k); ok && o.After(t) {
			return o
		}
	}
	return time.Time{} // unreachable for a valid window: it opens at least once a week
}

// Closes returns when the window open at t closes, counting openings that follow on
// without a gap as one (a window from 22:00 for 24h every day never closes). It is t
// itself when the window is closed at t, and the zero Time when it never closes; a nil
// window never does.
func (w *Window) Closes(t time.Time) time.Time {
	if w == nil || w.always() {
		return time.Time{}
	}
	if !w.Open(t) {
		return t
	}
	var end time.Time
	for k := -1; k <= 8; k++ {
		o, ok := w.opening(t, k)
		switch {
		case !ok:
			continue
		case end.IsZero():
			if !t.Before(o) && t.Before(o.Add(w.Duration)) {
				end = o.Add(w.Duration) // the opening t is in
			}
		case o.After(end):
			return end // a gap: the window closes at end
		default:
			end = o.Add(w.Duration) // opens again as (or before) it closes
		}
	}
	return end
}

// String describes the window: "Sat, Sun 02:00–06:00 UTC", "every day 22:00–02:00 UTC
// (next day)", "Sat 00:00 UTC for 24h".
func (w *Window) String() string {
	if w == nil {
		return "any time"
	}
	days := "every day"
	if len(w.Days) > 0 && len(w.Days) < 7 {
		sorted := slices.Clone(w.Days)
		// Monday first, as a week is read.
		slices.SortFunc(sorted, func(a, b time.Weekday) int { return (int(a)+6)%7 - (int(b)+6)%7 })
		names := make([]string, len(sorted))
		for i, d := range sorted {
			names[i] = d.String()[:3]
		}
		days = strings.Join(names, ", ")
	}
	if w.Duration >= day {
		return fmt.Sprintf("%s %s UTC for 24h", days, clock(w.Start))
	}
	end := w.Start + w.Duration
	if end > day {
		return fmt.Sprintf("%s %s–%s UTC (next day)", days, clock(w.Start), clock(end-day))
	}
	return fmt.Sprintf("%s %s–%s UTC", days, clock(w.Start), clock(end%day))
}

func clock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// windowJSON is a Window as environments.yaml writes it.
type windowJSON struct {
	Days     []string `json:"days,omitempty"`
	Start    string   `json:"start"`
	Duration string   `json:"duration"`
}

// MarshalJSON writes the window as environments.yaml does:
// {"days":["sat","sun"],"start":"02:00","duration":"4h0m0s"}.
func (w Window) MarshalJSON() ([]byte, error) {
	j := windowJSON{Start: clock(w.Start), Duration: w.Duration.String()}
	for _, d := range w.Days {
		if d < time.Sunday || d > time.Saturday {
			return nil, fmt.Errorf("window: day %d is not a day of the week", int(d))
		}
		j.Days = append(j.Days, dayNames[d])
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes, and validates it.
func (w *Window) UnmarshalJSON(data []byte) error {
	var j windowJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return err
	}
	out, problems := newWindow(j.Days, j.Start, j.Duration, j.Days != nil)
	if problems != nil {
		return fmt.Errorf("window: %w", errors.Join(problems...))
	}
	*w = *out
	return nil
}

// newWindow builds and validates a window from its written form; hasDays says whether
// days was given at all (an empty list is a mistake, an absent one means every day).
func newWindow(days []string, start, duration string, hasDays bool) (*Window, []error) {
	w := &Window{}
	var problems []error
	if hasDays && len(days) == 0 {
		problems = append(problems, errors.New("days is empty: list the days it opens on, or leave days out for every day"))
	}
	for _, s := range days {
		d, err := parseDay(s)
		if err != nil {
			problems = append(problems, fmt.Errorf("days: %w", err))
			continue
		}
		w.Days = append(w.Days, d)
	}
	switch st, err := parseClock(start); {
	case start == "":
		problems = append(problems, errors.New(`start is missing: give the time it opens, e.g. start: "02:00" (UTC)`))
	case err != nil:
		problems = append(problems, fmt.Errorf("start: %w", err))
	default:
		w.Start = st
	}
	// A duration that did not parse is reported already; a placeholder keeps the checks
	// below from reporting it again, while they still check everything else.
	w.Duration = time.Minute
	switch d, err := time.ParseDuration(duration); {
	case duration == "":
		problems = append(problems, errors.New(`duration is missing: give how long it stays open, e.g. duration: 4h`))
	case err != nil:
		problems = append(problems, fmt.Errorf("duration: %q is not a duration; write it like \"4h\" or \"1h30m\"", duration))
	default:
		w.Duration = d
	}
	problems = append(problems, w.problems()...)
	if len(problems) > 0 {
		return nil, problems
	}
	return w, nil
}
