// The Go twin of mini-redis (samples/redis_server.cpp) for bench/redis: the same
// server written as a Go programmer would, one goroutine per connection, a keyspace of 16
// shards under sync.Mutex, replies to pipelined requests flushed together. It has the
// commands bench/redis measures (PING, ECHO, GET, SET with EX/PX/NX/XX, DEL, EXISTS,
// INCR/DECR/INCRBY, and CONFIG GET, which redis-benchmark asks for at start); the same
// RESP parsing rules and limits.
//   gobench redis_server host:port    serve until stdin closes
package main

import (
	"bufio"
	"errors"
	"hash/maphash"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

type redisEntry struct {
	value   []byte
	expires int64 // unix ms; 0: never
}

type redisShard struct {
	mu sync.Mutex
	m  map[string]*redisEntry
}

type redisDB struct {
	seed   maphash.Seed
	shards [16]redisShard
}

func newRedisDB() *redisDB {
	db := &redisDB{seed: maphash.MakeSeed()}
	for i := range db.shards {
		db.shards[i].m = make(map[string]*redisEntry)
	}
	return db
}

func (db *redisDB) shard(key []byte) *redisShard {
	return &db.shards[maphash.Bytes(db.seed, key)%16]
}

// find returns the live entry, deleting an expired one (lazy expiry). Under s.mu.
func (s *redisShard) find(key []byte, now int64) *redisEntry {
	e := s.m[string(key)]
	if e != nil && e.expires != 0 && e.expires <= now {
		delete(s.m, string(key))
		return nil
	}
	return e
}

var errProtocol = errors.New("protocol error")

const maxBulk = 512 << 20

// readCommand reads one command (multibulk or inline). A protocol error returns the
// Redis error text in msg.
func readCommand(r *bufio.Reader) (args [][]byte, msg string, err error) {
	line, err := r.ReadSlice('\n')
	if err != nil {
		return nil, "", err
	}
	if line[0] != '*' {
		for _, f := range strings.Fields(string(line)) {
			args = append(args, []byte(f))
		}
		return args, "", nil
	}
	n, err := strconv.ParseInt(strings.TrimRight(string(line[1:]), "\r\n"), 10, 64)
	if err != nil || n > 1024*1024 {
		return nil, "Protocol error: invalid multibulk length", errProtocol
	}
	for i := int64(0); i < n; i++ {
		line, err := r.ReadSlice('\n')
		if err != nil {
			return nil, "", err
		}
		if line[0] != '$' {
			return nil, "Protocol error: expected '$'", errProtocol
		}
		l, err := strconv.ParseInt(strings.TrimRight(string(line[1:]), "\r\n"), 10, 64)
		if err != nil || l < 0 || l > maxBulk {
			return nil, "Protocol error: invalid bulk length", errProtocol
		}
		buf := make([]byte, l+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, "", err
		}
		args = append(args, buf[:l])
	}
	return args, "", nil
}

func bulk(w *bufio.Writer, b []byte) {
	w.WriteByte('$')
	w.WriteString(strconv.Itoa(len(b)))
	w.WriteString("\r\n")
	w.Write(b)
	w.WriteString("\r\n")
}

func integer(w *bufio.Writer, v int64) {
	w.WriteByte(':')
	w.WriteString(strconv.FormatInt(v, 10))
	w.WriteString("\r\n")
}

func (db *redisDB) run(args [][]byte, w *bufio.Writer) (quit bool) {
	cmd := strings.ToLower(string(args[0]))
	n := len(args)
	now := time.Now().UnixMilli()
	arity := func(min, max int) bool {
		if n < min || n > max {
			w.WriteString("-ERR wrong number of arguments for '" + cmd + "' command\r\n")
			return false
		}
		return true
	}
	switch cmd {
	case "ping":
		if arity(1, 2) {
			if n == 2 {
				bulk(w, args[1])
			} else {
				w.WriteString("+PONG\r\n")
			}
		}
	case "echo":
		if arity(2, 2) {
			bulk(w, args[1])
		}
	case "get":
		if arity(2, 2) {
			s := db.shard(args[1])
			s.mu.Lock()
			if e := s.find(args[1], now); e != nil {
				bulk(w, e.value)
			} else {
				w.WriteString("$-1\r\n")
			}
			s.mu.Unlock()
		}
	case "set":
		if !arity(3, 1<<30) {
			break
		}
		var ttl int64
		nx, xx := false, false
		for i := 3; i < n; i++ {
			opt := strings.ToLower(string(args[i]))
			switch {
			case (opt == "ex" || opt == "px") && i+1 < n && ttl == 0:
				i++
				v, err := strconv.ParseInt(string(args[i]), 10, 64)
				if err != nil {
					w.WriteString("-ERR value is not an integer or out of range\r\n")
					return
				}
				if v <= 0 || v > 1<<46 {
					w.WriteString("-ERR invalid expire time in 'set' command\r\n")
					return
				}
				if opt == "ex" {
					v *= 1000
				}
				ttl = v
			case opt == "nx" && !xx:
				nx = true
			case opt == "xx" && !nx:
				xx = true
			default:
				w.WriteString("-ERR syntax error\r\n")
				return
			}
		}
		s := db.shard(args[1])
		s.mu.Lock()
		exists := s.find(args[1], now) != nil
		if (nx && exists) || (xx && !exists) {
			s.mu.Unlock()
			w.WriteString("$-1\r\n")
			break
		}
		e := &redisEntry{value: append([]byte(nil), args[2]...)}
		if ttl != 0 {
			e.expires = now + ttl
		}
		s.m[string(args[1])] = e
		s.mu.Unlock()
		w.WriteString("+OK\r\n")
	case "del", "exists":
		if !arity(2, 1<<30) {
			break
		}
		var count int64
		for _, k := range args[1:] {
			s := db.shard(k)
			s.mu.Lock()
			if s.find(k, now) != nil {
				count++
				if cmd == "del" {
					delete(s.m, string(k))
				}
			}
			s.mu.Unlock()
		}
		integer(w, count)
	case "incr", "decr", "incrby":
		by := int64(1)
		if cmd == "decr" {
			by = -1
		}
		if cmd == "incrby" {
			if !arity(3, 3) {
				break
			}
			v, err := strconv.ParseInt(string(args[2]), 10, 64)
			if err != nil {
				w.WriteString("-ERR value is not an integer or out of range\r\n")
				break
			}
			by = v
		} else if !arity(2, 2) {
			break
		}
		s := db.shard(args[1])
		s.mu.Lock()
		e := s.find(args[1], now)
		var v int64
		if e != nil {
			var err error
			if v, err = strconv.ParseInt(string(e.value), 10, 64); err != nil {
				s.mu.Unlock()
				w.WriteString("-ERR value is not an integer or out of range\r\n")
				break
			}
		} else {
			e = &redisEntry{}
			s.m[string(args[1])] = e
		}
		v += by
		e.value = strconv.AppendInt(e.value[:0], v, 10)
		s.mu.Unlock()
		integer(w, v)
	case "config":
		if n == 3 && strings.ToLower(string(args[1])) == "get" {
			p := strings.ToLower(string(args[2]))
			switch p {
			case "save":
				w.WriteString("*2\r\n")
				bulk(w, []byte(p))
				bulk(w, nil)
			case "appendonly":
				w.WriteString("*2\r\n")
				bulk(w, []byte(p))
				bulk(w, []byte("no"))
			default:
				w.WriteString("*0\r\n")
			}
		}
	case "quit":
		w.WriteString("+OK\r\n")
		return true
	default:
		w.WriteString("-ERR unknown command '" + string(args[0]) + "'\r\n")
	}
	return false
}

func (db *redisDB) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReaderSize(c, 16<<10)
	w := bufio.NewWriterSize(c, 16<<10)
	for {
		args, msg, err := readCommand(r)
		if err == errProtocol {
			w.WriteString("-ERR " + msg + "\r\n")
			w.Flush()
			return
		}
		if err != nil {
			return
		}
		quit := len(args) > 0 && db.run(args, w)
		// Pipelining: flush once nothing more is buffered.
		if r.Buffered() == 0 || quit {
			if w.Flush() != nil || quit {
				return
			}
		}
	}
}

// redisServer serves on addr until stdin closes (bench/redis's protocol).
func redisServer(addr string) {
	l, err := net.Listen("tcp", addr)
	check(err == nil, "listen")
	db := newRedisDB()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go db.serve(c)
		}
	}()
	io.Copy(io.Discard, os.Stdin)
	l.Close()
}
