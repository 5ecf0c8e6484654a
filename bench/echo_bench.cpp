// TCP echo on 127.0.0.1: 100 connections x 10,000 sequential 64-byte round trips. The
// Go twin is bench/go/echo.go.
//   echo_bench echo             server and client in this process
//   echo_bench server ADDR      serve until stdin closes (bench/run crosses languages)
//   echo_bench client ADDR      the client side alone, against any server
#include <unistd.h>

#include <go/go.hpp>
#include <go/net.hpp>
#include <string>

#include "bench.hpp"

using clk = std::chrono::steady_clock;

namespace {

constexpr int conns = 100, rounds = 10'000, size = 64;

// As Go's echoServe: any error (a peer that reset, like bench/run's port probe) ends
// this connection, not the server.
go::task<void> serve(go::net::conn c) {
  std::string buf(size, '\0');
  auto b = std::as_writable_bytes(std::span(buf));
  try {
    for (;;) {
      std::size_t n = co_await c.read(b);
      if (n == 0) break;
      co_await c.write(b.first(n));
    }
  } catch (const go::error&) {
  }
  c.close();
}

go::task<void> accept_loop(go::net::listener l) {
  for (;;) {
    go::net::conn c;
    try {
      c = co_await l.accept();
    } catch (const go::error&) {
      co_return;
    }
    go::spawn(serve, c);
  }
}

go::task<void> client(std::string addr) {
  auto t0 = clk::now();
  go::wait_group wg;
  std::atomic<long> ok{0};
  for (int i = 0; i < conns; ++i) {
    wg.go([&]() -> go::task<void> {
      auto c = co_await go::net::dial("tcp", addr);
      std::string out(size, 'x'), in(size, '\0');
      for (int r = 0; r < rounds; ++r) {
        out[0] = static_cast<char>(r);
        co_await c.write(std::as_bytes(std::span(out)));
        co_await c.read_full(std::as_writable_bytes(std::span(in)));
        ok += in == out;
      }
      c.close();
    });
  }
  co_await wg.wait();
  auto t1 = clk::now();
  bench::check(ok == long(conns) * rounds, "every reply matched");
  bench::report("echo/conns=100,rounds=10000,size=64", t1 - t0, long(conns) * rounds);
}

}  // namespace

int main(int argc, char** argv) {
  std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "echo") {
    go::run([]() -> go::task<void> {
      auto l = go::net::listen("tcp", "127.0.0.1:0");
      go::spawn(accept_loop, l);
      co_await client(l.addr());
      l.close();
    });
    return 0;
  }
  if (mode == "server" && argc == 3) {
    go::run([addr = std::string(argv[2])]() -> go::task<void> {
      auto l = go::net::listen("tcp", addr);
      go::spawn(accept_loop, l);
      co_await go::blocking([] {  // until bench/run closes our stdin
        char c;
        while (::read(0, &c, 1) > 0) {}
      });
      l.close();
    });
    return 0;
  }
  if (mode == "client" && argc == 3) {
    go::run(client, std::string(argv[2]));
    return 0;
  }
  std::fprintf(stderr, "usage: echo_bench echo | server ADDR | client ADDR\n");
  return 2;
}
