package main

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

func init() {
	cases["pingpong"] = pingpong
	cases["prodcons"] = prodcons
	cases["select4"] = select4
	cases["parked"] = parked
	cases["pipeline"] = pipeline
}

// Ping-pong of an int over two unbuffered channels, 1,000,000 round trips.
func pingpong() {
	const n = 1_000_000
	t0 := time.Now()
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v + 1
		}
		close(pong)
	}()
	sum := 0
	for i := 0; i < n; i++ {
		ping <- i
		sum += <-pong - i
	}
	close(ping)
	d := time.Since(t0)
	check(sum == n, "every reply is the request plus one")
	report("chan_pingpong/n=1000000", d, n)
}

// 4 producers, 4 consumers, one channel of capacity 1024, 10,000,000 items.
func prodcons() {
	const n, producers, consumers = 10_000_000, 4, 4
	t0 := time.Now()
	ch := make(chan int, 1024)
	var sent, done sync.WaitGroup
	var total int64
	sent.Add(producers)
	done.Add(consumers)
	for p := 0; p < producers; p++ {
		go func(p int) {
			for i := p; i < n; i += producers {
				ch <- i
			}
			sent.Done()
		}(p)
	}
	for c := 0; c < consumers; c++ {
		go func() {
			s := 0
			for v := range ch {
				s += v
			}
			atomic.AddInt64(&total, int64(s))
			done.Done()
		}()
	}
	sent.Wait()
	close(ch)
	done.Wait()
	d := time.Since(t0)
	check(total == n*(n-1)/2, "every item received once")
	report("chan_prodcons/p=4,c=4,cap=1024,n=10000000", d, n)
}

// One consumer selecting over 4 unbuffered channels fed by 4 producers, 1,000,000 items.
func select4() {
	const n, producers = 1_000_000, 4
	t0 := time.Now()
	var chans [producers]chan int
	for p := 0; p < producers; p++ {
		chans[p] = make(chan int)
		go func(c chan int, p int) {
			for i := p; i < n; i += producers {
				c <- i
			}
			close(c)
		}(chans[p], p)
	}
	sum, open, got := 0, producers, 0
	for open > 0 {
		var v int
		var ok bool
		var idx int
		select {
		case v, ok = <-chans[0]:
			idx = 0
		case v, ok = <-chans[1]:
			idx = 1
		case v, ok = <-chans[2]:
			idx = 2
		case v, ok = <-chans[3]:
			idx = 3
		}
		if ok {
			sum += v
			got++
		} else {
			open--
			chans[idx] = nil
		}
	}
	d := time.Since(t0)
	check(got == n && sum == n*(n-1)/2, "every item received once")
	report("select_4producers/n=1000000", d, n)
}

func rssBytes() int64 {
	b, _ := os.ReadFile("/proc/self/statm")
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// 1,000,000 goroutines each parked in a receive: bytes of RSS per parked goroutine.
func parked() {
	const n = 1_000_000
	t0 := time.Now()
	before := rssBytes()
	ch := make(chan int)
	var started, finished sync.WaitGroup
	var woke int64
	started.Add(n)
	finished.Add(n)
	for i := 0; i < n; i++ {
		go func() {
			started.Done()
			if _, ok := <-ch; !ok {
				atomic.AddInt64(&woke, 1)
			}
			finished.Done()
		}()
	}
	started.Wait()
	runtime.Gosched()
	after := rssBytes()
	close(ch)
	finished.Wait()
	d := time.Since(t0)
	check(woke == n, "every goroutine woke from its receive")
	reportMem("chan_parked/n=1000000", d, n, float64(after-before)/n)
}

// The pipeline sample (generate -> square -> keep even -> sum) with 1,000,000 items.
func gen(out chan<- int, n int) {
	for i := 1; i <= n; i++ {
		out <- i
	}
	close(out)
}

func square(in <-chan int, out chan<- int) {
	for v := range in {
		out <- v * v
	}
	close(out)
}

func keepEven(in <-chan int, out chan<- int) {
	for v := range in {
		if v%2 == 0 {
			out <- v
		}
	}
	close(out)
}

func pipeline() {
	const n = 1_000_000
	t0 := time.Now()
	a, b, c := make(chan int), make(chan int), make(chan int)
	go gen(a, n)
	go square(a, b)
	go keepEven(b, c)
	var sum uint64
	for v := range c {
		sum += uint64(v)
	}
	d := time.Since(t0)
	var expect uint64
	for i := uint64(2); i <= n; i += 2 {
		expect += i * i
	}
	check(sum == expect, "the sum of the even squares")
	report("pipeline/n=1000000", d, n)
}
