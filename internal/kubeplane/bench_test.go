package kubeplane

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"
)

const (
	// warmup lets a new plane's controllers finish their first sync before measuring.
	warmup = 10 * time.Second
	// idleWindow is how long idle CPU is measured over.
	idleWindow = 20 * time.Second
	// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times, on Linux.
	clockTicks = 100
)

// BenchmarkPlaneStart measures how long a cold control plane takes to become ready, and
// what it costs when idle: memory (the sum of its processes' VmRSS) and CPU.
func BenchmarkPlaneStart(b *testing.B) {
	m, _ := newManager(b)
	ctx := context.Background()
	var started time.Duration
	var cpuTicks int64
	rss := map[string]int64{}
	for i := 0; i < b.N; i++ {
		id := fmt.Sprintf("bench-%d", i)
		t0 := time.Now()
		plane, err := m.EnsurePlane(ctx, id)
		if err != nil {
			b.Fatal(err)
		}
		started += time.Since(t0)
		b.StopTimer()
		time.Sleep(warmup)
		before := planeTicks(b, plane.PIDs)
		time.Sleep(idleWindow)
		cpuTicks += planeTicks(b, plane.PIDs) - before
		byComponent, err := m.RSS(id)
		if err != nil {
			b.Fatal(err)
		}
		for c, v := range byComponent {
			rss[c] += v
		}
		if err := m.DeletePlane(ctx, id); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	n := float64(b.N)
	var total int64
	for c, v := range rss {
		total += v
		b.ReportMetric(float64(v)/n/(1<<20), c+"-MiB")
	}
	b.ReportMetric(started.Seconds()/n, "s/start")
	b.ReportMetric(float64(total)/n/(1<<20), "MiB-idle/plane")
	b.ReportMetric(float64(cpuTicks)/clockTicks/idleWindow.Seconds()/n*100, "%cpu-idle/plane")
}

// planeTicks sums the user and system CPU time of the plane's processes, in clock ticks.
func planeTicks(b *testing.B, pids map[string]int) int64 {
	var sum int64
	for c, pid := range pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			b.Fatalf("%s: %v", c, err)
		}
		// Fields after the parenthesised name: state is the 1st, utime the 12th, stime the 13th.
		fields := bytes.Fields(stat[bytes.LastIndexByte(stat, ')')+1:])
		for _, f := range fields[11:13] {
			v, err := strconv.ParseInt(string(f), 10, 64)
			if err != nil {
				b.Fatalf("%s: /proc/%d/stat: %v", c, pid, err)
			}
			sum += v
		}
	}
	return sum
}
