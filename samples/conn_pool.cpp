// conn_pool: a pool of connections, built the way Go programs build one, hammering an
// in-process mini-redis (samples/mini_redis.hpp).
//   - idle connections wait in a buffered channel (cap = max): get() takes one without
//     blocking if there is one;
//   - a second channel of `max` slots counts the open connections (a Go semaphore
//     channel): get() waits in a select for an idle connection, a free slot (then it
//     dials), or its ctx (then it throws the ctx's error);
//   - put() returns a connection with a select that has a default case: a full pool
//     closes it instead of blocking; a broken connection is closed and frees its slot.
// 64 goroutines INCR one key 500 times each through a pool of 8; the counter must read
// 32,000, no more than 8 connections may ever be open, and a get() with a ctx that
// ends while every connection is taken gives up with "context deadline exceeded".
#include <cstdio>
#include <go/go.hpp>
#include <go/net.hpp>
#include <string>
#include <variant>

#include "mini_redis.hpp"

using namespace std::chrono_literals;

class conn_pool {
 public:
  conn_pool(std::string addr, std::size_t max)
      : addr_(std::move(addr)), idle_(go::make_chan<go::net::conn>(max)), slots_(go::make_chan<std::monostate>(max)) {}

  // An idle connection, else a new one if fewer than max are open, else the first one
  // returned; go::error with ctx's error if ctx ends first.
  go::task<go::net::conn> get(go::context ctx) {
    if (auto c = idle_.try_recv()) co_return std::move(*c.value);
    auto done = ctx.done();
    auto r = co_await go::select(go::recv(idle_), go::send(slots_, std::monostate{}), go::recv(done));
    if (r.index() == 0) co_return std::move(*r.get<0>());
    if (r.index() == 2)  // the ctx ended first: its error, as Go's ctx.Err()
      throw go::error(ctx.err() == go::errc::deadline_exceeded ? go::errc::deadline_exceeded : go::errc::canceled);
    try {  // a slot is ours: dial
      dialed_.fetch_add(1);
      co_return co_await go::net::dial("tcp", addr_);
    } catch (...) {
      (void)slots_.try_recv();  // the slot goes back
      throw;
    }
  }

  // Give c back; a broken one (an error on it) is closed and frees its slot.
  void put(go::net::conn c, bool broken = false) {
    if (!broken && idle_.try_send(c)) return;  // select { case idle <- c: default: }
    c.close();
    (void)slots_.try_recv();
  }

  std::size_t dialed() const { return dialed_.load(); }

 private:
  std::string addr_;
  go::chan<go::net::conn> idle_;
  go::chan<std::monostate> slots_;  // one value per open connection
  std::atomic<std::size_t> dialed_{0};
};

// One INCR over a pooled connection: the reply is ":<n>\r\n".
go::task<long> incr(conn_pool& pool, const std::string& key) {
  auto c = co_await pool.get(go::background());
  try {
    const std::string request = "*2\r\n$4\r\nINCR\r\n$" + std::to_string(key.size()) + "\r\n" + key + "\r\n";
    co_await c.write(request);
    std::string reply;
    char byte = 0;
    while (reply.empty() || reply.back() != '\n') {  // a short reply: byte by byte is fine here
      co_await c.read_full(std::as_writable_bytes(std::span(&byte, 1)));
      reply.push_back(byte);
    }
    pool.put(c);
    co_return std::stol(reply.substr(1));
  } catch (...) {
    pool.put(c, /*broken=*/true);
    throw;
  }
}

go::task<int> pool_main() {
  constexpr int clients = 64, each = 500;
  constexpr std::size_t max_conns = 8;
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  auto [stop, stop_server] = go::with_cancel(go::background());
  auto server = go::spawn(mini_redis::run, l, stop, std::chrono::milliseconds(5000));

  conn_pool pool(l.addr(), max_conns);
  go::errgroup g;
  auto client = [&pool]() -> go::task<void> {
    for (int k = 0; k < each; ++k) (void)co_await incr(pool, "hits");
  };
  for (int i = 0; i < clients; ++i) co_await g.go(client);
  co_await g.wait();
  const long total = co_await incr(pool, "hits") - 1;

  // Every connection taken: a get() bounded by a ctx gives up when the ctx ends.
  std::vector<go::net::conn> held;
  for (std::size_t i = 0; i < max_conns; ++i) held.push_back(co_await pool.get(go::background()));
  auto [short_ctx, cancel] = go::with_timeout(go::background(), 20ms);
  std::string gave_up;
  try {
    (void)co_await pool.get(short_ctx);
  } catch (const go::error& e) {
    gave_up = e.what();
  }
  cancel();
  for (auto& c : held) pool.put(c);

  stop_server();
  co_await server;
  std::printf("conn_pool: %d clients x %d INCRs through %zu connections (%zu dialed): counter %ld; a bounded get: %s\n",
              clients, each, max_conns, pool.dialed(), total, gave_up.c_str());
  const bool ok = total == long{clients} * each && pool.dialed() <= max_conns && gave_up == "context deadline exceeded";
  std::printf("conn_pool: %s\n", ok ? "ok" : "FAILED");
  co_return ok ? 0 : 1;
}

int main() { return go::run(pool_main); }
