// go::net over loopback: echo, addresses, refused dials, bad addresses, close while
// blocked, peer reset, ctx cancellation, 1,000 concurrent connections, and many
// short-lived connections without a leaked descriptor, and a runtime stopped with
// goroutines blocked in every kind of I/O wait.
#include <atomic>
#include <cstring>
#include <go/net.hpp>
#include <string>
#include <utility>
#include <vector>

#include "support/fds.hpp"
#include "support/go_test.hpp"

using namespace std::chrono_literals;

TEST_SUITE_BEGIN("net");

namespace {

std::span<std::byte> bytes(std::string& s) { return std::as_writable_bytes(std::span(s)); }

// An echo server: one goroutine per connection, until the listener is closed.
go::task<void> echo_server(go::net::listener l) {
  for (;;) {
    go::net::conn c;
    try {
      c = co_await l.accept();
    } catch (const go::error& e) {
      CHECK(e.code() == go::errc::closed_connection);
      co_return;
    }
    auto serve = [c]() -> go::task<void> {
      std::string buf(4096, '\0');
      for (;;) {
        std::size_t n = 0;
        try {
          n = co_await c.read(bytes(buf));
        } catch (const go::error&) {
          break;  // reset by the client
        }
        if (n == 0) break;
        co_await c.write(std::string_view(buf.data(), n));
      }
      c.close();
    };
    go::spawn(serve);
  }
}

// A connection to l and the server's end of it.
go::task<std::pair<go::net::conn, go::net::conn>> connected_pair(go::net::listener l) {
  auto accepted = go::make_chan<go::net::conn>(1);
  auto acceptor = [l, accepted]() -> go::task<void> {
    auto c = co_await l.accept();
    co_await accepted.send(c);
  };
  go::spawn(acceptor);
  auto c = co_await go::net::dial("tcp", l.addr());
  auto peer = *(co_await accepted.recv());
  co_return std::pair{c, peer};
}

}  // namespace

GO_TEST_CASE("echo over loopback; addresses; close_write gives the peer end of stream") {
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  CHECK(l.addr().rfind("127.0.0.1:", 0) == 0);
  auto server = go::spawn(echo_server, l);
  auto c = co_await go::net::dial("tcp", l.addr());
  CHECK(c.remote_addr() == l.addr());
  CHECK(c.local_addr().rfind("127.0.0.1:", 0) == 0);
  for (int i = 0; i < 50; ++i) {
    std::string msg = "message " + std::to_string(i);
    auto awaited_74 = co_await c.write(msg);
    CHECK(awaited_74 == msg.size());
    std::string back(msg.size(), '\0');
    co_await c.read_full(bytes(back));
    CHECK(back == msg);
  }
  c.close_write();  // the server reads end of stream and closes
  std::string rest(1, '\0');
  auto awaited_81 = co_await c.read(bytes(rest));
  CHECK(awaited_81 == 0);
  const auto at_end = co_await go_test::error_of(c.read_full(bytes(rest)));
  CHECK(at_end == go::errc::eof);
  c.close();
  l.close();
  co_await server;
}

GO_TEST_CASE("read_full gathers a message sent in pieces; a stream that ends inside it is unexpected_eof") {
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  auto conns = co_await connected_pair(l);
  go::net::conn c = conns.first, peer = conns.second;  // (clang 14 cannot capture a structured binding)
  auto writer = [peer]() -> go::task<void> {
    for (std::string piece : {"go", "pher", "s!"}) {
      co_await peer.write(piece);
      co_await go::yield();
    }
    co_await peer.write("tail");
    peer.close_write();  // end of stream after "tail"
  };
  auto w = go::spawn(writer);
  std::string msg(8, '\0');
  co_await c.read_full(bytes(msg));
  CHECK(msg == "gophers!");
  std::string longer(8, '\0');
  const auto cut = co_await go_test::error_of(c.read_full(bytes(longer)));
  CHECK(cut == go::errc::unexpected_eof);
  CHECK(longer.substr(0, 4) == "tail");  // what arrived before the end is in the buffer
  co_await w;
  c.close();
  peer.close();
  l.close();
}

GO_TEST_CASE("dial errors: refused, bad address, unknown network") {
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  std::string addr = l.addr();
  l.close();
  std::string what;
  try {
    (void)co_await go::net::dial("tcp", addr);
  } catch (const go::error& e) {
    CHECK(e.code() == go::errc::connection_refused);
    what = e.what();
  }
  CHECK(what == "dial tcp " + addr + ": connect: connection refused");
  const bool no_port = co_await go_test::throws<go::error>(go::net::dial("tcp", "127.0.0.1"));  // missing port
  CHECK(no_port);
  try {
    (void)co_await go::net::dial("tcp", "localhost");
  } catch (const go::error& e) {
    CHECK(e.code() == go::errc::bad_address);
    CHECK(std::string(e.what()) == "dial tcp: address localhost: missing port in address");
  }
  const bool udp_by_dial = co_await go_test::throws<go::error>(go::net::dial("udp", "127.0.0.1:1"));
  CHECK(udp_by_dial);
  CHECK_THROWS_AS((void)go::net::listen("tcp", "300.1.1.1:0"), go::error);
  CHECK_THROWS_AS((void)go::net::listen("tcp4", "[::1]:0"), go::error);
}

GO_TEST_CASE("listen reports an address in use; names resolve without blocking a P") {
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  try {
    (void)go::net::listen("tcp", l.addr());
    CHECK(false);
  } catch (const go::error& e) {
    CHECK(e.code() == go::errc::address_in_use);
  }
  auto server = go::spawn(echo_server, l);
  auto port = l.addr().substr(l.addr().rfind(':'));
  auto c = co_await go::net::dial("tcp", "localhost" + port);  // resolved on Asio's resolver thread
  co_await c.write(std::string_view("x"));
  std::string b(1, '\0');
  co_await c.read_full(bytes(b));
  CHECK(b == "x");
  c.close();
  l.close();
  co_await server;
}

GO_TEST_CASE("close wakes goroutines blocked in read and accept") {
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  auto conns = co_await connected_pair(l);
  go::net::conn c = conns.first, peer = conns.second;  // (clang 14 cannot capture bindings)

  auto reader = [c]() -> go::task<int> {
    std::string buf(16, '\0');
    try {
      (void)co_await c.read(bytes(buf));
    } catch (const go::error& e) {
      co_return e.code() == go::errc::closed_connection ? 1 : 2;
    }
    co_return 0;
  };
  auto r = go::spawn(reader);
  co_await go_test::until_waiting(1, "IO wait");  // it has blocked
  c.close();
  auto awaited_155 = co_await r;
  CHECK(awaited_155 == 1);
  const bool write_refused = co_await go_test::throws<go::error>(c.write(std::string_view("late")));
  CHECK(write_refused);

  auto blocked_accept = [l]() -> go::task<int> {
    try {
      (void)co_await l.accept();
    } catch (const go::error& e) {
      co_return e.code() == go::errc::closed_connection ? 1 : 2;
    }
    co_return 0;
  };
  auto a = go::spawn(blocked_accept);
  co_await go_test::until_waiting(1, "IO wait");
  l.close();
  auto awaited_169 = co_await a;
  CHECK(awaited_169 == 1);
  peer.close();
}

// Reads that keep waiting skip their own try and let Asio's start-of-read attempt be it
// (lib/net/tcp.cpp); data that is already there then comes through the poller's queue.
// Either way every byte arrives once, in order, and end of stream is seen.
GO_TEST_CASE("a reader that waited many times gets data that was already there, then end of stream") {
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  auto conns = co_await connected_pair(l);
  go::net::conn c = conns.first, peer = conns.second;
  constexpr int waited_rounds = 20, burst = 1000;
  auto got = go::make_chan<std::size_t>();
  auto go_on = go::make_chan<int>();
  auto reader = [c, got, go_on]() -> go::task<std::string> {
    std::string seen, buf(64, '\0');
    for (int r = 0; r < waited_rounds; ++r) {  // each read waits: the peer writes only once it is parked
      std::size_t n = co_await c.read(bytes(buf));
      seen.append(buf, 0, n);
      co_await got.send(n);
    }
    (void)co_await go_on.recv();  // the burst is in the socket before this read starts
    while (seen.size() < waited_rounds + burst) {
      std::size_t n = co_await c.read(bytes(buf));
      if (n == 0) break;
      seen.append(buf, 0, n);
    }
    std::size_t eof = co_await c.read(bytes(buf));
    seen += eof == 0 ? "<eof>" : "<more>";
    co_return seen;
  };
  auto r = go::spawn(reader);
  std::string want;
  bool each_read_one_byte = true;
  for (int i = 0; i < waited_rounds; ++i) {
    co_await go_test::until_waiting(1, "IO wait");
    const std::string one(1, static_cast<char>('a' + i % 26));
    want += one;
    (void)co_await peer.write(std::string_view(one));
    const auto n = co_await got.recv();
    each_read_one_byte = each_read_one_byte && n == std::optional<std::size_t>(1);
  }
  std::string big(burst, '\0');
  for (int i = 0; i < burst; ++i) big[i] = static_cast<char>('A' + i % 26);
  want += big;
  (void)co_await peer.write(std::string_view(big));
  co_await go_on.send(1);
  peer.close();
  const std::string seen = co_await r;
  CHECK(each_read_one_byte);
  CHECK(seen == want + "<eof>");
}

// A read that leaves nothing in the socket (one that comes back short, or a full one the
// kernel says drained it: TCP_INQ) tells the reactor, which then starts the next read
// without trying it first and counts on epoll's next edge (recv_op.hpp). Every way data
// can arrive around such a read must still reach the reader: after it has parked, in
// the same write as the message before it (the read is full but not drained), and
// before the next read starts (the edge may or may not have been polled by then).
GO_TEST_CASE("data that comes after a read drained the socket wakes the next read, however it arrives") {
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  auto conns = co_await connected_pair(l);
  go::net::conn c = conns.first, peer = conns.second;
  enum mode : int { after_park, two_at_once, before_read, short_read };
  constexpr int rounds = 400, size = 8;
  auto cmd = go::make_chan<int>(1);
  auto done = go::make_chan<int>(1);  // each round ends before the next one's data is written
  auto reader = [c, cmd, done]() -> go::task<std::string> {
    std::string seen, msg(size, '\0'), big(64, '\0');
    while (auto m = co_await cmd.recv()) {
      if (*m == short_read) {
        std::size_t n = co_await c.read(bytes(big));  // comes back short: drained
        seen.append(big, 0, n);
      } else {
        for (int k = 0; k < (*m == two_at_once ? 2 : 1); ++k) {
          co_await c.read_full(bytes(msg));  // full: drained only by the kernel's count
          seen += msg;
        }
      }
      co_await done.send(1);
    }
    co_return seen;
  };
  auto r = go::spawn(reader);
  std::string want;
  auto message = [&want](int i) {
    std::string m(size, static_cast<char>('a' + i % 26));
    m[0] = static_cast<char>('0' + i % 10);
    want += m;
    return m;
  };
  for (int i = 0; i < rounds; ++i) {
    const int m = i % 4;
    if (m == before_read) {
      (void)co_await peer.write(std::string_view(message(i)));
      co_await cmd.send(m);
    } else {
      co_await cmd.send(m);
      co_await go_test::until_waiting(1, "IO wait");
      std::string out = message(i);
      if (m == two_at_once) out += message(i + 1000);
      (void)co_await peer.write(std::string_view(out));
    }
    (void)co_await done.recv();
  }
  cmd.close();
  const std::string seen = co_await r;
  CHECK(seen.size() == want.size());
  CHECK(seen == want);
}

// A poll runs at most a batch of completions (netpoll::poll_batch, 16) and leaves the
// rest queued in the io_context for the next poll, by any worker or by the sleeper in
// the poller. A burst that readies many more readers than one batch wakes every one.
namespace {
go::task<void> read_one(go::net::conn c, go::chan<int> done) {
  std::string b(1, '\0');
  const std::size_t n = co_await c.read(bytes(b));
  co_await done.send(n == 1 && b == "x" ? 1 : 0);
}
}  // namespace

GO_TEST_CASE("a burst of completions larger than one poll's batch wakes every reader") {
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  constexpr int readers = 100;
  std::vector<go::net::conn> ours, peers;
  for (int i = 0; i < readers; ++i) {
    auto conns = co_await connected_pair(l);
    ours.push_back(conns.first);
    peers.push_back(conns.second);
  }
  auto done = go::make_chan<int>(readers);
  for (auto& c : ours) go::spawn(read_one, c, done);
  co_await go_test::until_waiting(readers, "IO wait");  // every reader is parked
  for (auto& p : peers) co_await p.write(std::string_view("x"));
  int ok = 0;
  for (int i = 0; i < readers; ++i) ok += (co_await done.recv()).value_or(0);
  CHECK(ok == readers);
  for (auto& c : ours) c.close();
  for (auto& p : peers) p.close();
  l.close();
}

GO_TEST_CASE("a peer that closes with unread data resets the connection") {
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  auto conns = co_await connected_pair(l);
  go::net::conn c = conns.first, peer = conns.second;  // (clang 14 cannot capture bindings)
  co_await c.write(std::string_view("unread"));
  std::string first(1, '\0');
  co_await peer.read_full(bytes(first));  // the segment has arrived: five bytes stay unread
  peer.close();                           // closing with unread data sends RST
  std::string buf(8, '\0');
  std::error_code got;
  try {
    for (int i = 0; i < 100; ++i) co_await c.write(std::string_view("more"));  // until the RST is seen
    (void)co_await c.read(bytes(buf));
  } catch (const go::error& e) {
    got = e.code();
  }
  CHECK(got == go::errc::connection_reset);
  c.close();
  l.close();
}

GO_TEST_CASE("a ctx cancels a blocked read and a dial") {
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  auto server = go::spawn(echo_server, l);
  auto c = co_await go::net::dial("tcp", l.addr());
  auto [ctx, cancel] = go::with_cancel(go::background());
  auto canceler = [cancel = cancel]() -> go::task<void> {
    co_await go_test::until_waiting(3, "IO wait");  // the read below, the server's accept and its read
    cancel();
  };
  go::spawn(canceler);
  std::string buf(8, '\0');
  bool canceled = false;
  try {
    (void)co_await c.read(bytes(buf), ctx);
  } catch (const go::error& e) {
    canceled = e.code() == go::errc::canceled;
  }
  CHECK(canceled);
  // The conn still works after a canceled read.
  co_await c.write(std::string_view("ok"));
  std::string two(2, '\0');
  co_await c.read_full(bytes(two));
  CHECK(two == "ok");
  const bool dial_canceled = co_await go_test::throws<go::error>(go::net::dial(ctx, "tcp", l.addr()));
  CHECK(dial_canceled);
  c.close();
  l.close();
  co_await server;
}

GO_TEST_CASE("1,000 concurrent connections") {
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  auto server = go::spawn(echo_server, l);
  constexpr int n = 1000;
  go::wait_group wg;
  std::atomic<int> ok{0};
  std::vector<go::net::conn> open;  // all open at once before any closes
  auto all_open = go::make_chan<go::net::conn>(n);
  for (int i = 0; i < n; ++i) {
    wg.go([&, i]() -> go::task<void> {
      auto c = co_await go::net::dial("tcp", l.addr());
      std::string msg = "client " + std::to_string(i);
      co_await c.write(msg);
      std::string back(msg.size(), '\0');
      co_await c.read_full(bytes(back));
      if (back == msg) ++ok;
      co_await all_open.send(c);
    });
  }
  co_await wg.wait();
  CHECK(ok == n);
  for (int i = 0; i < n; ++i) (*(co_await all_open.recv())).close();
  l.close();
  co_await server;
}

GO_TEST_CASE("many short-lived connections leak no descriptors") {
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  auto server = go::spawn(echo_server, l);
  auto once = [&]() -> go::task<void> {
    auto c = co_await go::net::dial("tcp", l.addr());
    co_await c.write(std::string_view("hi"));
    std::string b(2, '\0');
    co_await c.read_full(bytes(b));
    c.close_write();  // the server reads end of stream and closes its side...
    std::string rest(1, '\0');
    const std::size_t n = co_await c.read(bytes(rest));  // ...whose FIN ends our stream
    CHECK(n == 0);
    c.close();
  };
  co_await once();
  const int before = go_test::open_fds();
  for (int i = 0; i < 2000; ++i) co_await once();
  CHECK(go_test::open_fds() <= before);  // both ends of every connection are closed
  l.close();
  co_await server;
}

GO_TEST_CASE("a passed read deadline fails reads with i/o timeout until it is moved") {
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  auto conns = co_await connected_pair(l);
  go::net::conn c = conns.first, peer = conns.second;
  std::string buf(8, '\0');
  auto timeout_of = [&]() -> go::task<std::string> {
    try {
      (void)co_await c.read(bytes(buf));
    } catch (const go::error& e) {
      CHECK(e.code() == go::errc::timeout);
      co_return e.what();
    }
    co_return "no error";
  };
  // A blocked read fails when its deadline passes.
  c.set_read_deadline(go::clock::now() + 5ms);
  auto awaited_289 = co_await timeout_of();
  CHECK(awaited_289 == "read tcp " + c.local_addr() + "->" + c.remote_addr() + ": i/o timeout");
  // Later reads fail at once, even with data ready, as Go's do.
  co_await peer.write(std::string_view("data"));
  auto awaited_292 = co_await timeout_of();
  CHECK(awaited_292 != "no error");
  // A deadline in the future (here: none) lets them work again.
  c.set_read_deadline({});
  co_await c.read_full(bytes(buf).first(4));
  CHECK(buf.substr(0, 4) == "data");
  // A deadline set in the past wakes a goroutine already blocked in read.
  auto blocked = go::spawn(timeout_of);
  co_await go_test::until_waiting(1, "IO wait");  // it has blocked
  c.set_read_deadline(go::clock::now() - 1s);
  auto awaited_301 = co_await blocked;
  CHECK(awaited_301 != "no error");
  c.set_read_deadline(go::clock::now() + 1h);
  co_await peer.write(std::string_view("more"));
  co_await c.read_full(bytes(buf).first(4));
  CHECK(buf.substr(0, 4) == "more");
  c.close();
  peer.close();
  l.close();
}

GO_TEST_CASE("a write deadline stops a write the peer never drains; reads are not disturbed") {
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  auto conns = co_await connected_pair(l);
  go::net::conn c = conns.first, peer = conns.second;
  // A reader blocked on c stays blocked when the write direction's deadline fires.
  auto reader = [c]() -> go::task<std::string> {
    std::string b(4, '\0');
    co_await c.read_full(bytes(b));
    co_return b;
  };
  auto r = go::spawn(reader);
  c.set_write_deadline(go::clock::now() + 20ms);
  std::vector<std::byte> big(64 << 20);  // far more than the socket buffers hold
  std::error_code got;
  try {
    (void)co_await c.write(big);
  } catch (const go::error& e) {
    got = e.code();
  }
  CHECK(got == go::errc::timeout);
  const bool write_after_close = co_await go_test::throws<go::error>(c.write(std::string_view("x")));
  CHECK(write_after_close);
  co_await peer.write(std::string_view("ping"));
  auto awaited_333 = co_await r;
  CHECK(awaited_333 == "ping");
  c.close();
  peer.close();
  l.close();
}

GO_TEST_CASE("a write that waits for room completes when the peer drains; a ctx cancels one it never drains") {
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  auto conns = co_await connected_pair(l);
  go::net::conn c = conns.first, peer = conns.second;
  // 8 MiB is far more than the socket buffers hold: the write waits for room (the
  // awaitable's slow half) until the reader has taken it all.
  std::vector<std::byte> big(8 << 20);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::byte>(i * 7);
  auto drain = [peer, n = big.size()]() -> go::task<std::vector<std::byte>> {
    std::vector<std::byte> got(n);
    co_await peer.read_full(got);
    co_return got;
  };
  auto d = go::spawn(drain);
  const std::size_t wrote = co_await c.write(big);
  auto got = co_await d;
  CHECK(wrote == big.size());
  CHECK(got == big);
  // Nobody reads now: the write fills the buffers and waits until the ctx cancels it.
  auto [ctx, cancel] = go::with_cancel(go::background());
  auto canceler = [cancel = cancel]() -> go::task<void> {
    co_await go_test::until_waiting(1, "IO wait");
    cancel();
  };
  go::spawn(canceler);
  bool canceled = false;
  try {
    (void)co_await c.write(big, ctx);
  } catch (const go::error& e) {
    canceled = e.code() == go::errc::canceled;
  }
  CHECK(canceled);
  c.close();
  peer.close();
  l.close();
  // An empty conn is a clear error, not a crash.
  const bool empty_throws = co_await go_test::throws<go::error>(go::net::conn{}.write(std::string_view("x")));
  CHECK(empty_throws);
}

// A read that waits is started again by the poller when the wait ends for another
// goroutine's reason (a ctx that cancels the write direction: Asio cancels both), and a
// read_full that waits reads on into the rest of its buffer there; a round trip on a
// second conn lets the poller run between the pieces. A ctx that ends a read_full after
// part of its buffer throws the ctx's error.
GO_TEST_CASE("a waiting read sleeps on through the other direction's cancel; read_full fills in the poller") {
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  auto conns = co_await connected_pair(l);
  go::net::conn c = conns.first, peer = conns.second;
  auto server = go::spawn(echo_server, l);
  auto other = co_await go::net::dial("tcp", l.addr());
  auto round_trip = [other]() -> go::task<void> {
    co_await other.write(std::string_view("."));
    std::string b(1, '\0');
    co_await other.read_full(bytes(b));
  };

  auto reader = [c]() -> go::task<std::string> {
    std::string b(8, '\0');
    co_await c.read_full(bytes(b));
    co_return b;
  };
  auto r = go::spawn(reader);
  co_await go_test::until_waiting(3, "IO wait");  // the reader, the echo server's accept and read
  // A write on c that nobody drains, canceled by its ctx, cancels the reader's wait too.
  auto [ctx, cancel] = go::with_cancel(go::background());
  auto canceler = [cancel = cancel]() -> go::task<void> {
    co_await go_test::until_waiting(4, "IO wait");  // and the write
    cancel();
  };
  go::spawn(canceler);
  std::vector<std::byte> big(64 << 20);
  const auto write_err = co_await go_test::error_of(c.write(big, ctx));
  CHECK(write_err == go::errc::canceled);
  // (c's sending side stays full; what peer sends comes the other way.)
  for (std::string piece : {"go", "p", "her", "s!"}) {
    co_await peer.write(piece);
    co_await round_trip();
  }
  auto got = co_await r;
  CHECK(got == "gophers!");

  // A ctx that ends a read_full after part of its buffer.
  auto [ctx2, cancel2] = go::with_cancel(go::background());
  std::string half(8, '\0');
  auto partial = [c, ctx2 = ctx2, &half]() -> go::task<std::optional<std::error_code>> {
    co_return co_await go_test::error_of(c.read_full(bytes(half), ctx2));
  };
  auto p = go::spawn(partial);
  co_await peer.write(std::string_view("abc"));
  co_await round_trip();
  cancel2();
  auto partial_err = co_await p;
  CHECK(partial_err == go::errc::canceled);
  other.close();
  c.close();
  peer.close();
  l.close();
  co_await server;
}

GO_TEST_CASE("dial_timeout connects, and reports i/o timeout when the time is up") {
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  auto server = go::spawn(echo_server, l);
  auto c = co_await go::net::dial_timeout("tcp", l.addr(), 10s);
  co_await c.write(std::string_view("hi"));
  std::string b(2, '\0');
  co_await c.read_full(bytes(b));
  CHECK(b == "hi");
  c.close();
  std::string what;
  try {
    (void)co_await go::net::dial_timeout("tcp", l.addr(), 0ns);  // already expired
  } catch (const go::error& e) {
    CHECK(e.code() == go::errc::timeout);
    what = e.what();
  }
  CHECK(what == "dial tcp " + l.addr() + ": i/o timeout");
  l.close();
  co_await server;
}

GO_TEST_CASE("udp: datagrams both ways with their senders; deadlines; close wakes read_from") {
  auto a = go::net::listen_packet("udp", "127.0.0.1:0");
  auto b = go::net::listen_packet("udp4", "127.0.0.1:0");
  CHECK(a.local_addr().rfind("127.0.0.1:", 0) == 0);
  std::string buf(64, '\0');
  auto awaited_365 = co_await a.write_to(std::as_bytes(std::span(std::string_view("hello")).first(5)), b.local_addr());
  CHECK(awaited_365 == 5);
  auto d = co_await b.read_from(bytes(buf));
  CHECK(d.n == 5);
  CHECK(buf.substr(0, 5) == "hello");
  CHECK(d.from == a.local_addr());
  std::string reply = "world";
  co_await b.write_to(bytes(reply), d.from);
  auto e = co_await a.read_from(bytes(buf));
  CHECK(buf.substr(0, e.n) == "world");
  // A datagram larger than the buffer is cut to it.
  std::string big(100, 'z');
  co_await a.write_to(bytes(big), b.local_addr());
  std::string small(10, '\0');
  const auto truncated = co_await b.read_from(bytes(small));
  CHECK(truncated.n == 10);
  // Deadlines.
  b.set_read_deadline(go::clock::now() + 5ms);
  std::error_code got;
  try {
    (void)co_await b.read_from(bytes(buf));
  } catch (const go::error& err) {
    got = err.code();
  }
  CHECK(got == go::errc::timeout);
  b.set_read_deadline({});
  // Bad addresses.
  const bool bad_host = co_await go_test::throws<go::error>([&] { return a.write_to(bytes(reply), "nohost"); });
  CHECK(bad_host);
  CHECK_THROWS_AS((void)go::net::listen_packet("udp", "1.2.3.4.5:0"), go::error);
  CHECK_THROWS_AS((void)go::net::listen_packet("ip", ":0"), go::error);
  // close wakes a blocked read_from.
  auto blocked = [b]() -> go::task<bool> {
    std::string x(8, '\0');
    try {
      (void)co_await b.read_from(std::as_writable_bytes(std::span(x)));
    } catch (const go::error& err) {
      co_return err.code() == go::errc::closed_connection;
    }
    co_return false;
  };
  auto r = go::spawn(blocked);
  co_await go_test::until_waiting(1, "IO wait");  // it has blocked
  b.close();
  auto awaited_406 = co_await r;
  CHECK(awaited_406);
  a.close();
}

GO_TEST_CASE("udp over IPv6 loopback") {
  go::net::packet_conn a, b;
  try {
    a = go::net::listen_packet("udp6", "[::1]:0");
    b = go::net::listen_packet("udp6", "[::1]:0");
  } catch (const go::error&) {
    co_return;  // no IPv6 on this machine
  }
  std::string msg = "six", buf(8, '\0');
  co_await a.write_to(bytes(msg), b.local_addr());
  auto d = co_await b.read_from(bytes(buf));
  CHECK(buf.substr(0, d.n) == "six");
  CHECK(d.from == a.local_addr());
  a.close();
  b.close();
}

TEST_SUITE_END();

// A runtime stopped with goroutines parked in every kind of I/O wait: a read, a read_full,
// an accept, a write that waits for room, a udp read_from. Each wait's operation lives in
// its goroutine's frame: stop must free the operations before the sweep frees the frames
// (ASan caught the other order writing into a freed frame), and close every descriptor.
TEST_CASE("stop destroys goroutines blocked in I/O") {
  { go::runtime first(go_test::with_procs(1)); }  // the process's first runtime opens the SIGQUIT dump's pipe
  const int fds_before = go_test::open_fds();
  for (unsigned procs : go_test::proc_counts) {
    CAPTURE(procs);
    auto rt = std::make_unique<go::runtime>(go_test::with_procs(procs));
    go_test::bounded_block_on(*rt, "stop destroys goroutines blocked in I/O", [&]() -> go::task<void> {
      auto l = go::net::listen("tcp", "127.0.0.1:0");
      auto conns = co_await connected_pair(l);
      go::net::conn c = conns.first, peer = conns.second;
      go::spawn([c]() -> go::task<void> {
        std::string buf(16, '\0');
        (void)co_await c.read(bytes(buf));
      });
      go::spawn([peer]() -> go::task<void> {
        std::string buf(16, '\0');
        co_await peer.read_full(bytes(buf));
      });
      // A writer the peer never drains: it fills both socket buffers, then waits.
      auto w = co_await connected_pair(l);
      go::net::conn wc = w.first, wpeer = w.second;
      go::spawn([wc]() -> go::task<void> {
        std::string big(1 << 20, 'x');
        for (;;) co_await wc.write(big);
      });
      auto never = go::make_chan<int>();
      go::spawn([wpeer, never]() -> go::task<void> { (void)co_await never.recv(); });  // holds it open
      auto u = go::net::listen_packet("udp", "127.0.0.1:0");
      go::spawn([u]() -> go::task<void> {
        std::string buf(16, '\0');
        (void)co_await u.read_from(bytes(buf));
      });
      go::spawn([l]() -> go::task<void> { (void)co_await l.accept(); });  // last: connected_pair accepts too
      co_await go_test::until_waiting(5, "IO wait");
    });
    rt->stop();
    rt.reset();
  }
  CHECK(go_test::open_fds() == fds_before);
}
