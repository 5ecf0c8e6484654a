// Stress: an echo server survives 10,000 connections per run (30,000 over procs 1, 2
// and 4) from 50 concurrent clients, ending in every way a peer can: a normal close, a
// half-close (the client reads our echo to end of stream), a reset (the client closes
// with our echo unread), and an idle client that the server drops when its read
// deadline passes. Afterwards no descriptor is left open; the sanitizer builds check
// that no frame, timer or waiter is leaked.
#include <atomic>
#include <go/net.hpp>
#include <string>

#include "support/fds.hpp"
#include "support/go_test.hpp"

using namespace std::chrono_literals;

TEST_SUITE_BEGIN("stress");

namespace {

std::span<std::byte> bytes(std::string& s) { return std::as_writable_bytes(std::span(s)); }

struct counts {
  std::atomic<int> served{0}, timed_out{0}, reset{0};
  go::wait_group serving;
};

// One connection: echo until end of stream. A client that opens with 'i' is idle: we
// give it 1 ms, then drop it.
go::task<void> serve(go::net::conn c, counts& n) {
  std::string buf(256, '\0');
  try {
    for (bool first = true;; first = false) {
      std::size_t got = co_await c.read(bytes(buf));
      if (got == 0) break;
      if (first && buf[0] == 'i') c.set_read_deadline(go::clock::now() + 1ms);
      co_await c.write(std::string_view(buf.data(), got));
    }
  } catch (const go::error& e) {
    if (e.code() == go::errc::timeout) ++n.timed_out;
    if (e.code() == go::errc::connection_reset) ++n.reset;
  }
  c.close();
  ++n.served;
  n.serving.done();
}

go::task<void> accept_loop(go::net::listener l, counts& n) {
  for (;;) {
    go::net::conn c;
    try {
      c = co_await l.accept();
    } catch (const go::error&) {
      co_return;  // closed
    }
    n.serving.add(1);
    go::spawn(serve, c, std::ref(n));
  }
}

// The client side of connection i, ending the way i % 4 says. Returns whether it saw
// what it should.
go::task<bool> client(std::string addr, int i) {
  auto c = co_await go::net::dial("tcp", addr);
  std::string buf(8, '\0');
  bool ok = true;
  switch (i % 4) {
    case 0: {  // normal
      co_await c.write(std::string_view("ping"));
      co_await c.read_full(bytes(buf).first(4));
      ok = buf.substr(0, 4) == "ping";
      break;
    }
    case 1: {  // half-close: the echo still arrives, then end of stream
      co_await c.write(std::string_view("half"));
      c.close_write();
      co_await c.read_full(bytes(buf).first(4));
      std::size_t rest = co_await c.read(bytes(buf));
      ok = buf.substr(0, 4) == "half" && rest == 0;
      break;
    }
    case 2: {  // reset: close before the echo is read
      co_await c.write(std::string_view("rst"));
      break;
    }
    case 3: {  // idle: the server's deadline drops us; we read its echo, then EOF
      co_await c.write(std::string_view("i"));
      co_await c.read_full(bytes(buf).first(1));
      std::size_t n = 0;
      try {
        n = co_await c.read(bytes(buf));
      } catch (const go::error& e) {
        ok = e.code() == go::errc::connection_reset;  // also a way to be dropped
      }
      ok = ok && n == 0;
      break;
    }
  }
  c.close();
  co_return ok;
}

}  // namespace

GO_TEST_CASE("10000 connections ending normally / half-closed / reset / dropped by a deadline leak nothing") {
  constexpr int clients = 50, per_client = 200, total = clients * per_client;
  counts n;
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  const int before = go_test::open_fds();
  auto server = go::spawn(accept_loop, l, std::ref(n));
  std::atomic<int> ok{0};
  go::wait_group wg;
  for (int k = 0; k < clients; ++k) {
    wg.go([&, k]() -> go::task<void> {
      for (int j = 0; j < per_client; ++j) ok += co_await client(l.addr(), k * per_client + j);
    });
  }
  co_await wg.wait();
  CHECK(ok == total);
  l.close();
  co_await server;
  // Every server goroutine ends once it sees the client's close (or its deadline).
  co_await n.serving.wait();
  CHECK(n.served == total);
  CHECK(n.timed_out == total / 4);
  CHECK(go_test::open_fds() < before);  // the listener is closed too
}

TEST_SUITE_END();
