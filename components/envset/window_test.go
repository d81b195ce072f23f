package envset

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// at is a UTC time in the week of Monday 2025-02-24 to Sunday 2025-03-02: "sat 02:00",
// "sat 05:59:59", "mon+7 00:30" (the Monday a week later).
func at(t *testing.T, s string) time.Time {
	t.Helper()
	dayPart, clockPart, ok := strings.Cut(s, " ")
	require.True(t, ok, s)
	week := 0
	if d, w, found := strings.Cut(dayPart, "+"); found {
		require.Equal(t, "7", w, s)
		dayPart, week = d, 1
	}
	d, err := parseDay(dayPart)
	require.NoError(t, err)
	if len(clockPart) == len("15:04") {
		clockPart += ":00"
	}
	c, err := time.Parse("15:04:05", clockPart)
	require.NoError(t, err, s)
	return time.Date(2025, 2, 24+(int(d)+6)%7+7*week, c.Hour(), c.Minute(), c.Second(), 0, time.UTC)
}

func TestWindowOpenNextCloses(t *testing.T) {
	t.Parallel()
	weekend := &Window{Days: []time.Weekday{time.Saturday, time.Sunday}, Start: 2 * time.Hour, Duration: 4 * time.Hour}
	fridayNight := &Window{Days: []time.Weekday{time.Friday}, Start: 22 * time.Hour, Duration: 6 * time.Hour}
	sundayLate := &Window{Days: []time.Weekday{time.Sunday}, Start: 23 * time.Hour, Duration: 2 * time.Hour}
	daily := &Window{Start: 2 * time.Hour, Duration: 4 * time.Hour}
	allDay := &Window{Duration: 24 * time.Hour}
	nightly24 := &Window{Start: 22 * time.Hour, Duration: 24 * time.Hour}
	weekendAllDay := &Window{Days: []time.Weekday{time.Saturday, time.Sunday}, Duration: 24 * time.Hour}
	notSunday := &Window{Days: []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday, time.Saturday},
		Start: 12 * time.Hour, Duration: 24 * time.Hour}

	tests := []struct {
		name   string
		w      *Window
		t      string
		open   bool
		next   string // "" = t itself
		closes string // "" = zero (never); "t" = t itself
	}{
		{name: "weekend: just before it opens", w: weekend, t: "sat 01:59", next: "sat 02:00", closes: "t"},
		{name: "weekend: as it opens", w: weekend, t: "sat 02:00", open: true, closes: "sat 06:00"},
		{name: "weekend: its last second", w: weekend, t: "sat 05:59:59", open: true, closes: "sat 06:00"},
		{name: "weekend: as it closes", w: weekend, t: "sat 06:00", next: "sun 02:00", closes: "t"},
		{name: "weekend: sunday", w: weekend, t: "sun 03:00", open: true, closes: "sun 06:00"},
		{name: "weekend: after sunday's, wraps the week", w: weekend, t: "sun 06:00", next: "sat+7 02:00", closes: "t"},
		{name: "weekend: midweek", w: weekend, t: "wed 12:00", next: "sat 02:00", closes: "t"},
		{name: "crossing midnight: before friday's", w: fridayNight, t: "fri 21:59", next: "fri 22:00", closes: "t"},
		{name: "crossing midnight: friday side", w: fridayNight, t: "fri 23:00", open: true, closes: "sat 04:00"},
		{name: "crossing midnight: saturday side", w: fridayNight, t: "sat 01:00", open: true, closes: "sat 04:00"},
		{name: "crossing midnight: as it closes", w: fridayNight, t: "sat 04:00", next: "fri+7 22:00", closes: "t"},
		{name: "crossing midnight into the next week: monday side", w: sundayLate, t: "mon 00:30", open: true, closes: "mon 01:00"},
		{name: "crossing midnight into the next week: saturday", w: sundayLate, t: "sat 23:30", next: "sun 23:00", closes: "t"},
		{name: "daily: open", w: daily, t: "tue 03:00", open: true, closes: "tue 06:00"},
		{name: "daily: after it, tomorrow's", w: daily, t: "tue 07:00", next: "wed 02:00", closes: "t"},
		{name: "daily: before it, today's", w: daily, t: "tue 00:00", next: "tue 02:00", closes: "t"},
		{name: "all day every day never closes", w: allDay, t: "thu 09:00", open: true, closes: ""},
		{name: "a day from 22:00 every day never closes", w: nightly24, t: "thu 21:59", open: true, closes: ""},
		{name: "whole weekend closes on monday", w: weekendAllDay, t: "sat 10:00", open: true, closes: "mon+7 00:00"},
		{name: "whole weekend: friday", w: weekendAllDay, t: "fri 23:59", next: "sat 00:00", closes: "t"},
		{name: "six chained days close where the seventh is missing", w: notSunday, t: "mon 13:00", open: true, closes: "sun 12:00"},
		{name: "six chained days: sunday's morning still open from saturday", w: notSunday, t: "sun 11:00", open: true, closes: "sun 12:00"},
		{name: "six chained days: sunday afternoon", w: notSunday, t: "sun 12:00", next: "mon+7 12:00", closes: "t"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			now := at(t, tt.t)
			assert.Equal(t, tt.open, tt.w.Open(now), "Open")
			wantNext := now
			if tt.next != "" {
				wantNext = at(t, tt.next)
			}
			assert.Equal(t, wantNext, tt.w.Next(now), "Next")
			var wantCloses time.Time
			switch tt.closes {
			case "":
			case "t":
				wantCloses = now
			default:
				wantCloses = at(t, tt.closes)
			}
			assert.Equal(t, wantCloses, tt.w.Closes(now), "Closes")
		})
	}
}

func TestWindowOtherTimeZones(t *testing.T) {
	t.Parallel()
	w := &Window{Days: []time.Weekday{time.Saturday}, Start: 2 * time.Hour, Duration: 4 * time.Hour}
	berlin := time.FixedZone("CET", 3600)
	// Saturday 03:30 in Berlin is 02:30 UTC: open. Saturday 06:30 there is 05:30 UTC.
	assert.True(t, w.Open(time.Date(2025, 3, 1, 3, 30, 0, 0, berlin)))
	assert.True(t, w.Open(time.Date(2025, 3, 1, 6, 30, 0, 0, berlin)))
	// Saturday 02:30 in Berlin is 01:30 UTC: not yet.
	early := time.Date(2025, 3, 1, 2, 30, 0, 0, berlin)
	assert.False(t, w.Open(early))
	assert.Equal(t, time.Date(2025, 3, 1, 2, 0, 0, 0, time.UTC), w.Next(early))
	// Friday 23:30 in a zone ten hours behind is Saturday 09:30 UTC: closed since 06:00.
	assert.False(t, w.Open(time.Date(2025, 2, 28, 23, 30, 0, 0, time.FixedZone("HST", -10*3600))))
}

func TestNilWindowIsAlwaysOpen(t *testing.T) {
	t.Parallel()
	var w *Window
	now := time.Date(2025, 3, 4, 15, 4, 5, 0, time.UTC)
	assert.True(t, w.Open(now))
	assert.Equal(t, now, w.Next(now))
	assert.True(t, w.Closes(now).IsZero())
	assert.Equal(t, "any time", w.String())
	assert.NoError(t, w.Validate())
}

// minuteOfWeekOpen is an independent model of a window: it counts minutes from Sunday
// 00:00 and asks whether any opening, modulo a week, is less than Duration behind.
func minuteOfWeekOpen(w *Window, t time.Time) bool {
	const week = 7 * 24 * 60
	u := t.UTC()
	m := int(u.Weekday())*24*60 + u.Hour()*60 + u.Minute()
	days := w.Days
	if len(days) == 0 {
		days = []time.Weekday{0, 1, 2, 3, 4, 5, 6}
	}
	for _, d := range days {
		opens := int(d)*24*60 + int(w.Start/time.Minute)
		if ((m-opens)%week+week)%week < int(w.Duration/time.Minute) {
			return true
		}
	}
	return false
}

func randomWindow(r *rand.Rand) *Window {
	w := &Window{Start: time.Duration(r.IntN(24*60)) * time.Minute, Duration: time.Duration(1+r.IntN(24*60)) * time.Minute}
	if r.IntN(4) > 0 {
		for d := time.Sunday; d <= time.Saturday; d++ {
			if r.IntN(3) == 0 {
				w.Days = append(w.Days, d)
			}
		}
		if len(w.Days) == 0 {
			w.Days = []time.Weekday{time.Weekday(r.IntN(7))}
		}
	}
	return w
}

// TestWindowProperties checks Open against the minute-of-week model, and that Next is
// the first open minute at or after t and Closes the first closed one after it.
func TestWindowProperties(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(10, 2025))
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 300 {
		w := randomWindow(r)
		require.NoError(t, w.Validate(), "case %d: %+v", i, w)
		now := base.Add(time.Duration(r.IntN(60*24*60)) * time.Minute)

		require.Equal(t, minuteOfWeekOpen(w, now), w.Open(now), "case %d: %s at %s", i, w, now)

		next := w.Next(now)
		require.False(t, next.Before(now), "case %d: %s: Next(%s) = %s", i, w, now, next)
		require.True(t, w.Open(next), "case %d: %s: not open at Next(%s) = %s", i, w, now, next)
		for m := now; m.Before(next); m = m.Add(time.Minute) {
			require.False(t, minuteOfWeekOpen(w, m), "case %d: %s: open at %s, before Next(%s) = %s", i, w, m, now, next)
		}

		closes := w.Closes(next)
		if closes.IsZero() {
			for m := next; m.Before(next.Add(8 * 24 * time.Hour)); m = m.Add(time.Minute) {
				require.True(t, minuteOfWeekOpen(w, m), "case %d: %s: closes never, but is closed at %s", i, w, m)
			}
			continue
		}
		require.True(t, closes.After(next), "case %d: %s", i, w)
		require.False(t, w.Open(closes), "case %d: %s: open at Closes(%s) = %s", i, w, next, closes)
		for m := next; m.Before(closes); m = m.Add(time.Minute) {
			require.True(t, minuteOfWeekOpen(w, m), "case %d: %s: closed at %s, before Closes(%s) = %s", i, w, m, next, closes)
		}
	}
}

func TestWindowString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		w    Window
		want string
	}{
		{Window{Days: []time.Weekday{time.Saturday, time.Sunday}, Start: 2 * time.Hour, Duration: 4 * time.Hour}, "Sat, Sun 02:00–06:00 UTC"},
		{Window{Days: []time.Weekday{time.Sunday, time.Saturday}, Start: 2 * time.Hour, Duration: 4 * time.Hour}, "Sat, Sun 02:00–06:00 UTC"},
		{Window{Days: []time.Weekday{time.Wednesday, time.Monday}, Start: 90 * time.Minute, Duration: 45 * time.Minute}, "Mon, Wed 01:30–02:15 UTC"},
		{Window{Start: 2 * time.Hour, Duration: 4 * time.Hour}, "every day 02:00–06:00 UTC"},
		{Window{Days: []time.Weekday{0, 1, 2, 3, 4, 5, 6}, Start: 2 * time.Hour, Duration: time.Hour}, "every day 02:00–03:00 UTC"},
		{Window{Days: []time.Weekday{time.Friday}, Start: 22 * time.Hour, Duration: 6 * time.Hour}, "Fri 22:00–04:00 UTC (next day)"},
		{Window{Days: []time.Weekday{time.Friday}, Start: 20 * time.Hour, Duration: 4 * time.Hour}, "Fri 20:00–00:00 UTC"},
		{Window{Days: []time.Weekday{time.Saturday}, Duration: 24 * time.Hour}, "Sat 00:00 UTC for 24h"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, tt.w.String())
	}
}

func TestWindowValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		w    Window
		want []string
	}{
		{name: "valid", w: Window{Start: 0, Duration: 24 * time.Hour}},
		{name: "no duration", w: Window{Start: time.Hour}, want: []string{"duration is 0s; it must be more than zero"}},
		{name: "longer than a day", w: Window{Duration: 25 * time.Hour}, want: []string{"duration is 25h0m0s; it must be at most 24h"}},
		{name: "seconds", w: Window{Duration: time.Hour + time.Second}, want: []string{"give it in whole minutes"}},
		{name: "start past the day", w: Window{Start: 24 * time.Hour, Duration: time.Hour}, want: []string{"start 24h0m0s is not a time of day"}},
		{name: "negative start", w: Window{Start: -time.Minute, Duration: time.Hour}, want: []string{"start -1m0s is not a time of day"}},
		{name: "a day twice and one out of range", w: Window{Days: []time.Weekday{time.Monday, 9, time.Monday}, Duration: time.Hour},
			want: []string{"day 9 is not a day of the week", `day "mon" is listed twice`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.w.Validate()
			if tt.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			for _, w := range tt.want {
				assert.Contains(t, err.Error(), w)
			}
			assert.Len(t, strings.Split(err.Error(), "\n"), len(tt.want), "one line per problem: %v", err)
		})
	}
}

func TestWindowJSON(t *testing.T) {
	t.Parallel()
	w := &Window{Days: []time.Weekday{time.Saturday, time.Sunday}, Start: 2*time.Hour + 30*time.Minute, Duration: 4 * time.Hour}
	data, err := json.Marshal(w)
	require.NoError(t, err)
	assert.JSONEq(t, `{"days":["sat","sun"],"start":"02:30","duration":"4h0m0s"}`, string(data))
	var back Window
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, *w, back)

	data, err = json.Marshal(Window{Start: 22 * time.Hour, Duration: 6 * time.Hour})
	require.NoError(t, err)
	assert.JSONEq(t, `{"start":"22:00","duration":"6h0m0s"}`, string(data))

	err = json.Unmarshal([]byte(`{"start":"25:00","duration":"30h"}`), &back)
	require.Error(t, err)
	assert.Contains(t, err.Error(), `start: "25:00" is not a time of day`)
	assert.Contains(t, err.Error(), "duration is 30h0m0s; it must be at most 24h")
}

func TestLoadMaintenanceWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		win  string // the prod environment's maintenanceWindow line(s)
		want *Window
		errs []string
	}{
		{name: "none: any time"},
		{name: "weekend, flow style", win: `    maintenanceWindow: {days: [sat, sun], start: "02:00", duration: 4h}` + "\n",
			want: &Window{Days: []time.Weekday{time.Saturday, time.Sunday}, Start: 2 * time.Hour, Duration: 4 * time.Hour}},
		{name: "block style, full day names, unquoted start",
			win:  "    maintenanceWindow:\n      days: [Friday]\n      start: 22:30\n      duration: 1h30m\n",
			want: &Window{Days: []time.Weekday{time.Friday}, Start: 22*time.Hour + 30*time.Minute, Duration: 90 * time.Minute}},
		{name: "every day", win: `    maintenanceWindow: {start: "23:00", duration: 24h}` + "\n",
			want: &Window{Start: 23 * time.Hour, Duration: 24 * time.Hour}},
		{name: "an unknown key", win: `    maintenanceWindow: {days: [sat], start: "02:00", duration: 4h, timezone: CET}` + "\n",
			errs: []string{`environment "prod": line 6: unknown field "environments[1].maintenanceWindow.timezone" (known fields: days, duration, start)`}},
		{name: "a day that is not one", win: `    maintenanceWindow: {days: [sat, sunday, someday], start: "02:00", duration: 4h}` + "\n",
			errs: []string{`environment "prod": line 6: environments[1].maintenanceWindow: days: "someday" is not a day of the week; write mon, tue, wed, thu, fri, sat or sun`}},
		{name: "a day twice", win: `    maintenanceWindow: {days: [sat, Saturday], start: "02:00", duration: 4h}` + "\n",
			errs: []string{`environments[1].maintenanceWindow: day "sat" is listed twice`}},
		{name: "no days at all", win: `    maintenanceWindow: {days: [], start: "02:00", duration: 4h}` + "\n",
			errs: []string{"days is empty: list the days it opens on, or leave days out for every day"}},
		{name: "days not a list", win: `    maintenanceWindow: {days: sat, start: "02:00", duration: 4h}` + "\n",
			errs: []string{"line 6: environments[1].maintenanceWindow.days: cannot unmarshal !!str `sat` into []string"}},
		{name: "a start that is not a clock", win: `    maintenanceWindow: {start: "2am", duration: 4h}` + "\n",
			errs: []string{`environments[1].maintenanceWindow: start: "2am" is not a time of day; write it as "HH:MM" in 24-hour UTC, e.g. "02:00"`}},
		{name: "a start past the day", win: `    maintenanceWindow: {start: "24:00", duration: 4h}` + "\n",
			errs: []string{`start: "24:00" is not a time of day`}},
		{name: "no start", win: `    maintenanceWindow: {duration: 4h}` + "\n",
			errs: []string{`environments[1].maintenanceWindow: start is missing`}},
		{name: "no duration", win: `    maintenanceWindow: {start: "02:00"}` + "\n",
			errs: []string{`environments[1].maintenanceWindow: duration is missing`}},
		{name: "a duration without a unit", win: `    maintenanceWindow: {start: "02:00", duration: 4}` + "\n",
			errs: []string{`duration: "4" is not a duration; write it like "4h" or "1h30m"`}},
		{name: "longer than a day", win: `    maintenanceWindow: {start: "02:00", duration: 36h}` + "\n",
			errs: []string{`environment "prod": line 6: environments[1].maintenanceWindow: duration is 36h0m0s; it must be at most 24h`}},
		{name: "every problem at once", win: `    maintenanceWindow: {days: [sat, caturday], start: "2:00", duration: 0s}` + "\n",
			errs: []string{`"caturday" is not a day`, `start: "2:00" is not a time of day`, "duration is 0s; it must be more than zero"}},
		{name: "not a mapping", win: "    maintenanceWindow: weekends\n",
			errs: []string{`line 6: environments[1].maintenanceWindow must be a mapping such as {days: [sat, sun], start: "02:00", duration: 4h}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := "environments:\n  - name: dev\n    maxConcurrency: 1\n  - name: prod\n    maxConcurrency: 1\n" + tt.win
			path := filepath.Join(t.TempDir(), "environments.yaml")
			require.NoError(t, os.WriteFile(path, []byte(file), 0o600))
			set, err := Load(path)
			if tt.errs != nil {
				require.Error(t, err)
				for _, w := range tt.errs {
					assert.Contains(t, err.Error(), w)
				}
				return
			}
			require.NoError(t, err)
			prod, ok := set.Get("prod")
			require.True(t, ok)
			assert.Equal(t, tt.want, prod.MaintenanceWindow)
			dev, _ := set.Get("dev")
			assert.Nil(t, dev.MaintenanceWindow)
		})
	}
}

func TestValidateRefusesABadWindow(t *testing.T) {
	t.Parallel()
	set := Set{Environments: []Environment{{Name: "dev", MaxConcurrency: 1,
		MaintenanceWindow: &Window{Days: []time.Weekday{time.Monday, time.Monday}, Start: 25 * time.Hour, Duration: 30 * time.Hour}}}}
	err := set.Validate()
	require.Error(t, err)
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 3, err.Error())
	for _, l := range lines {
		assert.True(t, strings.HasPrefix(l, `environment "dev": maintenanceWindow: `), l)
	}
}

// TestShippedEnvironmentsHaveNoWindow keeps the shipped file loadable and window-free:
// upgrades in the shipped fleet may run at any time.
func TestShippedEnvironmentsHaveNoWindow(t *testing.T) {
	t.Parallel()
	set, err := Load(filepath.Join("..", "..", "stacks", "environments.yaml"))
	require.NoError(t, err)
	for _, e := range set.Environments {
		assert.Nil(t, e.MaintenanceWindow, e.Name)
	}
}
