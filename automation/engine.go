package automation

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// StackLock is a Pulumi stack lock as the CLI describes it when it refuses an update.
type StackLock struct {
	File    string
	User    string
	Host    string
	PID     int
	Created string
}

func (l StackLock) String() string {
	s := fmt.Sprintf("created by %s@%s (pid %d)", l.User, l.Host, l.PID)
	if l.Created != "" {
		s += " at " + l.Created
	}
	return s
}

// lockRE matches the CLI's description of a lock, e.g.
//
//	file:///x/.pulumi/locks/organization/flotilla/dev/1f0c....json?no_tmp_dir=true: created by root@host (pid 1234) at 2026-12-01T10:00:00Z
//
// The file backend's lock URL may carry a query.
var lockRE = regexp.MustCompile(`(\S+\.json)(?:\?\S*)?: created by ([^@\s]+)@(\S+) \(pid (\d+)\)(?: at (\S+))?`)

// ParseStackLock reads the lock out of a "the stack is currently locked" error; nil
// when the message names none.
func ParseStackLock(msg string) *StackLock {
	m := lockRE.FindStringSubmatch(msg)
	if m == nil {
		return nil
	}
	pid, _ := strconv.Atoi(m[4])
	return &StackLock{File: m[1], User: m[2], Host: m[3], PID: pid, Created: m[5]}
}

// EngineMessage cuts an automation-API error down to what a person needs: the
// diagnostics the engine reported (error: lines and the resource errors), without the
// command line, the progress log and the stdout/stderr dumps.
func EngineMessage(msg string) string {
	var keep []string
	seen := map[string]bool{}
	for _, line := range strings.Split(msg, "\n") {
		t := strings.TrimSpace(line)
		switch {
		case t == "":
			continue
		case strings.HasPrefix(t, "error: "):
			t = strings.TrimPrefix(t, "error: ")
		case strings.Contains(t, "error:") && strings.Contains(t, "::"):
			// "pulumi:pulumi:Stack (flotilla-dev): error: ..." and resource lines
		default:
			continue
		}
		if strings.HasPrefix(t, "update failed") || strings.HasPrefix(t, "preview failed") || seen[t] {
			continue
		}
		seen[t] = true
		keep = append(keep, t)
	}
	if len(keep) == 0 {
		// Not an engine log: the first line, which carries the gist.
		first, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
		if i := strings.Index(first, "stderr: "); i >= 0 {
			first = first[i+len("stderr: "):]
		}
		return strings.TrimSpace(first)
	}
	return strings.Join(keep, "; ")
}
