package main

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// TCP echo on 127.0.0.1: 100 connections x 10,000 sequential 64-byte round trips.
// gobench echo | echo_server ADDR (until stdin closes) | echo_client ADDR

const echoConns, echoRounds, echoSize = 100, 10_000, 64

func init() {
	cases["echo"] = func() {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		check(err == nil, "listen")
		go acceptLoop(l)
		echoClient(l.Addr().String())
		l.Close()
	}
}

func echoServe(c net.Conn) {
	buf := make([]byte, echoSize)
	for {
		n, err := c.Read(buf)
		if err != nil {
			break
		}
		if _, err := c.Write(buf[:n]); err != nil {
			break
		}
	}
	c.Close()
}

func acceptLoop(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go echoServe(c)
	}
}

func echoClient(addr string) {
	t0 := time.Now()
	var wg sync.WaitGroup
	var ok int64
	wg.Add(echoConns)
	for i := 0; i < echoConns; i++ {
		go func() {
			defer wg.Done()
			c, err := net.Dial("tcp", addr)
			check(err == nil, fmt.Sprint("dial: ", err))
			out := bytes.Repeat([]byte{'x'}, echoSize)
			in := make([]byte, echoSize)
			for r := 0; r < echoRounds; r++ {
				out[0] = byte(r)
				_, err := c.Write(out)
				check(err == nil, fmt.Sprint("write: ", err))
				_, err = io.ReadFull(c, in)
				check(err == nil, fmt.Sprint("read: ", err))
				if bytes.Equal(in, out) {
					atomic.AddInt64(&ok, 1)
				}
			}
			c.Close()
		}()
	}
	wg.Wait()
	d := time.Since(t0)
	check(ok == echoConns*echoRounds, "every reply matched")
	report("echo/conns=100,rounds=10000,size=64", d, echoConns*echoRounds)
}

// Run from main for the crossed runs: "gobench echo_server ADDR" / "gobench echo_client ADDR".
func echoCrossed() bool {
	if len(os.Args) != 3 {
		return false
	}
	switch os.Args[1] {
	case "echo_server":
		l, err := net.Listen("tcp", os.Args[2])
		check(err == nil, "listen")
		go acceptLoop(l)
		io.Copy(io.Discard, os.Stdin) // until bench/run closes our stdin
		l.Close()
		return true
	case "echo_client":
		echoClient(os.Args[2])
		return true
	case "redis_server": // bench/redis: the Go twin of mini-redis (redis.go)
		redisServer(os.Args[2])
		return true
	}
	return false
}
