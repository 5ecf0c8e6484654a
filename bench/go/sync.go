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
	cases["counter_sharded"] = counterSharded
	cases["counter_atomic"] = counterAtomic
	cases["counter_mutex"] = counterMutex
}

// A counter two goroutines bump 10,000,000 times each: sharded (a padded slot per
// goroutine, summed when read), one atomic, one sync.Mutex (bench/mutex_bench.cpp).
const counterGs, counterIters = 2, 10_000_000

func counterCase(name string, body func(g int), total func() int64) {
	t0 := time.Now()
	var wg sync.WaitGroup
	wg.Add(counterGs)
	for g := 0; g < counterGs; g++ {
		go func(g int) {
			body(g)
			wg.Done()
		}(g)
	}
	wg.Wait()
	d := time.Since(t0)
	check(total() == counterGs*counterIters, "every increment counted")
	report(name, d, counterGs*counterIters)
}

func counterSharded() {
	var slots [counterGs]struct {
		v atomic.Int64
		_ [56]byte // a cache line of its own
	}
	counterCase("counter_sharded/g=2,n=10000000", func(g int) {
		for i := 0; i < counterIters; i++ {
			slots[g].v.Add(1)
		}
	}, func() int64 {
		var sum int64
		for i := range slots {
			sum += slots[i].v.Load()
		}
		return sum
	})
}

func counterAtomic() {
	var single atomic.Int64
	counterCase("counter_atomic/g=2,n=10000000", func(int) {
		for i := 0; i < counterIters; i++ {
			single.Add(1)
		}
	}, func() int64 { return single.Load() })
}

func counterMutex() {
	var mu sync.Mutex
	var guarded int64
	counterCase("counter_mutex/g=2,n=10000000", func(int) {
		for i := 0; i < counterIters; i++ {
			mu.Lock()
			guarded++
			mu.Unlock()
		}
	}, func() int64 { return guarded })
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
