package main

import (
	"sync"
	"sync/atomic"
	"time"
)

func init() {
	cases["mutex_contended"] = mutexContended
	cases["mutex_uncontended"] = mutexUncontended
	// The C++ side of this row is the floor under mutex_uncontended (bench/mutex_bench.cpp);
	// Go's side is the same sync.Mutex loop.
	cases["mutex_uncontended_floor"] = mutexUncontended
	cases["rwmutex_read_mostly"] = rwmutexReadMostly
}

// 8 goroutines x 1,000,000 lock / increment / unlock on one mutex.
func mutexContended() {
	const gs, iters = 8, 1_000_000
	t0 := time.Now()
	var mu sync.Mutex
	counter := 0
	var wg sync.WaitGroup
	wg.Add(gs)
	for g := 0; g < gs; g++ {
		go func() {
			for i := 0; i < iters; i++ {
				mu.Lock()
				counter++
				mu.Unlock()
			}
			wg.Done()
		}()
	}
	wg.Wait()
	d := time.Since(t0)
	check(counter == gs*iters, "no increment lost")
	report("mutex_contended/g=8,n=1000000", d, gs*iters)
}

// One goroutine, 10,000,000 uncontended lock / increment / unlock.
func mutexUncontended() {
	const iters = 10_000_000
	t0 := time.Now()
	var mu sync.Mutex
	counter := 0
	for i := 0; i < iters; i++ {
		mu.Lock()
		counter++
		mu.Unlock()
	}
	d := time.Since(t0)
	check(counter == iters, "every increment counted")
	report("mutex_uncontended/n=10000000", d, iters)
}

// 8 goroutines x 250,000 operations on an RWMutex: 1 write per 100 reads.
func rwmutexReadMostly() {
	const gs, ops = 8, 250_000
	t0 := time.Now()
	var rw sync.RWMutex
	value := 0
	var reads int64
	var wg sync.WaitGroup
	wg.Add(gs)
	for g := 0; g < gs; g++ {
		go func() {
			var local int64
			for i := 0; i < ops; i++ {
				if i%101 == 0 {
					rw.Lock()
					value++
					rw.Unlock()
				} else {
					rw.RLock()
					if value >= 0 {
						local++
					}
					rw.RUnlock()
				}
			}
			atomic.AddInt64(&reads, local)
			wg.Done()
		}()
	}
	wg.Wait()
	d := time.Since(t0)
	check(value == gs*((ops+100)/101) && reads == int64(gs*ops-value), "all operations counted")
	report("rwmutex_read_mostly/g=8,n=250000", d, gs*ops)
}
