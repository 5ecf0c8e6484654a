package main

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

func init() {
	cases["spawn_wg"] = spawnWG
	cases["spawn_chain"] = spawnChain
	cases["yield"] = yieldMany
}

// 1,000,000 goroutines, each signals a WaitGroup.
func spawnWG() {
	const n = 1_000_000
	t0 := time.Now()
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		go func() { wg.Done() }()
	}
	wg.Wait()
	report("spawn_wg/n=1000000", time.Since(t0), n)
}

// A chain of 1,000,000 goroutines, each spawning the next; the last signals.
func link(n int, done *sync.WaitGroup) {
	if n == 0 {
		done.Done()
		return
	}
	go link(n-1, done)
}

func spawnChain() {
	const n = 1_000_000
	t0 := time.Now()
	var done sync.WaitGroup
	done.Add(1)
	go link(n, &done)
	done.Wait()
	report("spawn_chain/n=1000000", time.Since(t0), n)
}

// 1,000 goroutines, each yielding 1,000 times.
func yieldMany() {
	const gs, yields = 1000, 1000
	t0 := time.Now()
	var wg sync.WaitGroup
	var total int64
	wg.Add(gs)
	for i := 0; i < gs; i++ {
		go func() {
			k := 0
			for ; k < yields; k++ {
				runtime.Gosched()
			}
			atomic.AddInt64(&total, int64(k))
			wg.Done()
		}()
	}
	wg.Wait()
	check(atomic.LoadInt64(&total) == gs*yields, "every goroutine yielded 1000 times")
	report("yield/g=1000,n=1000", time.Since(t0), gs*yields)
}
