// go-micro: the Go side of troupe's micro-benchmark suite (bench/run-micro.sh runs it beside
// troupe-micro; bench/peers/README.md lists every way it differs from troupe's program).
//
// Usage: go-micro WORKLOAD [SCALE]
// Prints exactly one line: `workload=NAME unit=UNIT value=NUMBER`. Timing starts just before the
// workload's first message or spawn and ends when the main goroutine has the verified result;
// the runtime's start-up and the process's exit are excluded. A wrong result exits 1.
//
// Every workload is written as a Go programmer would write it for speed: one goroutine per
// actor, channels for mailboxes, default GOMAXPROCS (one P per core, as troupe has one worker
// per core), standard library only.
package main

import (
	"fmt"
	"math"
	"os"
	"strconv"
	"time"
)

// die reports a wrong result (or a hang) and exits 1, as troupe-micro does.
func die(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "go-micro: "+format+"\n", args...)
	os.Exit(1)
}

// scaled is troupe_micro.cpp's scaled(): n * scale rounded half away from zero, at least 1.
func scaled(n int64, scale float64) int64 {
	v := int64(math.Round(float64(n) * scale))
	if v < 1 {
		return 1
	}
	return v
}

// waitLimit bounds every wait of the main goroutine, as troupe-micro's 600 s receive timeout.
const waitLimit = 600 * time.Second

// await receives one value from c, or dies after waitLimit.
func await[T any](c <-chan T, what string) T {
	timer := time.NewTimer(waitLimit)
	defer timer.Stop()
	select {
	case v := <-c:
		return v
	case <-timer.C:
		die("timed out waiting for %s", what)
	}
	panic("unreachable")
}

type line struct {
	unit  string
	value float64
}

func main() {
	if len(os.Args) < 2 || len(os.Args) > 3 {
		fmt.Fprintln(os.Stderr, "usage: go-micro WORKLOAD [SCALE]\nworkloads: pingpong-1 pingpong-4 fanin skynet ring idle-footprint fanout")
		os.Exit(2)
	}
	workload := os.Args[1]
	scale := 1.0
	if len(os.Args) == 3 {
		s, err := strconv.ParseFloat(os.Args[2], 64)
		if err != nil || !(s > 0) || math.IsInf(s, 0) {
			fmt.Fprintf(os.Stderr, "go-micro: SCALE must be a positive number, got %q\n", os.Args[2])
			os.Exit(2)
		}
		scale = s
	}
	var l line
	switch workload {
	case "pingpong-1":
		l = pingpong(1, scaled(1000000, scale))
	case "pingpong-4":
		l = pingpong(4, scaled(500000, scale))
	case "fanin":
		l = fanin(scale)
	case "skynet":
		l = skynet(scale)
	case "ring":
		l = ring(scale)
	case "idle-footprint":
		l = idleFootprint(scale)
	case "fanout":
		l = fanout(scale)
	default:
		fmt.Fprintf(os.Stderr, "go-micro: unknown workload %s\n", workload)
		os.Exit(2)
	}
	if l.unit == "s" {
		fmt.Printf("workload=%s unit=s value=%.6f\n", workload, l.value)
	} else {
		fmt.Printf("workload=%s unit=%s value=%.0f\n", workload, l.unit, l.value)
	}
}
