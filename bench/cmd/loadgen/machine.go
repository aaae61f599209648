package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// machineBusySeconds returns the CPU time all CPUs of the machine have spent
// busy (not idle, not waiting for I/O) since boot, from /proc/stat.
func machineBusySeconds() (float64, error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return 0, fmt.Errorf("/proc/stat: unexpected format")
	}
	var busy uint64
	// user nice system idle iowait irq softirq steal (guest time is in user)
	for i, s := range f[1:] {
		if i >= 8 {
			break
		}
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/stat: unexpected format")
		}
		if i != 3 && i != 4 {
			busy += v
		}
	}
	return float64(busy) / clockTicks, nil
}

// otherLoad is how many cores the rest of the machine kept busy over a
// window: machine busy time minus what the collectors and this process used.
type otherLoad struct {
	busy0, own0 float64
	t0          time.Time
}

func startOtherLoad(insts []*instance) otherLoad {
	busy, _ := machineBusySeconds()
	return otherLoad{busy0: busy, own0: ownCPU(insts), t0: time.Now()}
}

// cores returns the average number of cores the rest of the machine used
// since start.
func (l otherLoad) cores(insts []*instance) float64 {
	busy, _ := machineBusySeconds()
	d := time.Since(l.t0).Seconds()
	if d <= 0 {
		return 0
	}
	return max(0, (busy-l.busy0)-(ownCPU(insts)-l.own0)) / d
}

// ownCPU is the CPU time of this process and of every collector it runs.
func ownCPU(insts []*instance) float64 {
	total := selfCPUSeconds()
	for _, in := range insts {
		if t, err := procStatSeconds(in.col.PID()); err == nil {
			total += t
		}
	}
	return total
}

// waitQuiet waits until the rest of the machine has used less than limit
// cores over one second, or until maxWait; it returns the last figure.
func waitQuiet(ctx context.Context, insts []*instance, limit float64, maxWait time.Duration) (float64, error) {
	deadline := time.Now().Add(maxWait)
	for {
		l := startOtherLoad(insts)
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(time.Second):
		}
		c := l.cores(insts)
		if c < limit || time.Now().After(deadline) {
			return c, nil
		}
	}
}
