// The Go twins of gocoro's benchmarks: `gobench <case>` runs one case and prints the
// same BENCH line as bench/bench.hpp.
package main

import (
	"fmt"
	"os"
	"sort"
	"syscall"
	"time"
)

var cases = map[string]func(){}

func report(name string, d time.Duration, ops int) { reportMem(name, d, ops, -1) }

// reportMem adds a workload's own memory measure (bench/run prefers it to peak RSS).
func reportMem(name string, d time.Duration, ops int, memBytesPerOp float64) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	fmt.Printf("BENCH name=%s ns=%d ops=%d ns_per_op=%.2f maxrss_kb=%d", name, d.Nanoseconds(), ops,
		float64(d.Nanoseconds())/float64(ops), ru.Maxrss)
	if memBytesPerOp >= 0 {
		fmt.Printf(" mem_bytes_per_op=%.1f", memBytesPerOp)
	}
	fmt.Println()
}

func check(ok bool, what string) {
	if !ok {
		fmt.Fprintf(os.Stderr, "benchmark check failed: %s\n", what)
		os.Exit(1)
	}
}

func main() {
	if echoCrossed() {
		return
	}
	if len(os.Args) == 2 {
		if f, ok := cases[os.Args[1]]; ok {
			f()
			return
		}
	}
	names := make([]string, 0, len(cases))
	for n := range cases {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintf(os.Stderr, "usage: gobench <case>\ncases: %v\n", names)
	os.Exit(2)
}
