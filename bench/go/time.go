package main

import (
	"context"
	"sync"
	"time"
)

func init() {
	cases["sleepers"] = sleepers
	// The C++ side of this row is the floor under sleepers (bench/time_bench.cpp), with no
	// runtime at all; Go's side is the same sleepers workload.
	cases["sleepers_floor"] = sleepers
	cases["timers"] = timers
	cases["ctx_tree"] = ctxTree
}

// The same pseudo-random sequence as the C++ side (a 64-bit LCG, Knuth's MMIX constants).
type lcg struct{ x uint64 }

func (r *lcg) next() uint64 {
	r.x = r.x*6364136223846793005 + 1442695040888963407
	return r.x
}

// 100,000 goroutines, each sleeping a pseudo-random 1..100 ms. The ideal total is 100 ms.
func sleepers() {
	const n = 100_000
	r := lcg{42}
	t0 := time.Now()
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		d := time.Duration(1+(r.next()>>33)%100) * time.Millisecond
		go func() {
			time.Sleep(d)
			wg.Done()
		}()
	}
	wg.Wait()
	total := time.Since(t0)
	check(total >= 100*time.Millisecond, "the longest sleep is 100 ms")
	report("sleepers/n=100000", total, 1)
}

// 1,000,000 timers started (all pending at once), then stopped.
func timers() {
	const n = 1_000_000
	t0 := time.Now()
	ts := make([]*time.Timer, 0, n)
	for i := 0; i < n; i++ {
		ts = append(ts, time.NewTimer(time.Hour+time.Duration(i)*time.Microsecond))
	}
	stopped := 0
	for _, t := range ts {
		if t.Stop() {
			stopped++
		}
	}
	t1 := time.Since(t0)
	check(stopped == n, "every timer was pending when stopped")
	report("timers/n=1000000", t1, n)
}

// A context tree root -> 100 -> 1,000 each (100,000 leaves), one goroutine waiting on
// each leaf's Done(); the time from the root's cancel until every goroutine has exited.
func ctxTree() {
	const mid, leavesPer = 100, 1000
	const n = mid * leavesPer
	root, cancelRoot := context.WithCancel(context.Background())
	cancels := make([]context.CancelFunc, 0, n+mid)
	var ready, exited sync.WaitGroup
	ready.Add(n)
	exited.Add(n)
	var sample []context.Context
	for m := 0; m < mid; m++ {
		c, cancelC := context.WithCancel(root)
		cancels = append(cancels, cancelC)
		for l := 0; l < leavesPer; l++ {
			leaf, cancelLeaf := context.WithCancel(c)
			cancels = append(cancels, cancelLeaf)
			if l == 0 {
				sample = append(sample, leaf)
			}
			go func() {
				ready.Done()
				<-leaf.Done()
				exited.Done()
			}()
		}
	}
	ready.Wait()
	t0 := time.Now()
	cancelRoot()
	exited.Wait()
	t1 := time.Since(t0)
	for _, leaf := range sample {
		check(leaf.Err() == context.Canceled, "leaves are canceled")
	}
	report("ctx_tree/leaves=100000", t1, n)
	for _, c := range cancels {
		c()
	}
}
