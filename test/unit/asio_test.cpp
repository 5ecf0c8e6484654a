// go::use_go: Asio operations awaited from goroutines -- timers, TCP sockets, errors,
// cancellation by a context, and goroutines blocked in I/O at shutdown.
#include <unistd.h>

#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>
#include <go/asio.hpp>
#include <string>

#include "support/go_test.hpp"

using namespace std::chrono_literals;
using asio::ip::tcp;

TEST_SUITE_BEGIN("asio");

GO_TEST_CASE("a steady_timer wait parks the goroutine until it expires") {
  asio::steady_timer t(go::io_context(), 2ms);
  auto start = std::chrono::steady_clock::now();
  co_await t.async_wait(go::use_go);
  CHECK(std::chrono::steady_clock::now() - start >= 2ms);
}

GO_TEST_CASE("TCP echo over loopback with use_go") {
  tcp::acceptor acceptor(go::io_context(), tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const auto port = acceptor.local_endpoint().port();
  auto server = [&acceptor]() -> go::task<void> {
    tcp::socket peer = co_await acceptor.async_accept(go::use_go);
    char buf[64];
    for (;;) {
      std::size_t n = 0;
      try {
        n = co_await peer.async_read_some(asio::buffer(buf), go::use_go);
      } catch (const std::system_error& e) {
        CHECK(e.code() == asio::error::eof);
        break;
      }
      co_await asio::async_write(peer, asio::buffer(buf, n), go::use_go);
    }
  };
  auto h = go::spawn(server);

  tcp::socket s(go::io_context());
  co_await s.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), go::use_go);
  for (int i = 0; i < 100; ++i) {
    std::string msg = "ping " + std::to_string(i);
    co_await asio::async_write(s, asio::buffer(msg), go::use_go);
    std::string back(msg.size(), '\0');
    std::size_t n = co_await asio::async_read(s, asio::buffer(back), go::use_go);
    CHECK(n == msg.size());
    CHECK(back == msg);
  }
  s.shutdown(tcp::socket::shutdown_send);
  co_await h;
}

GO_TEST_CASE("an operation's error is thrown as std::system_error") {
  tcp::acceptor a(go::io_context(), tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  auto port = a.local_endpoint().port();
  a.close();  // nothing listens there now
  tcp::socket s(go::io_context());
  bool refused = false;
  try {
    co_await s.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), go::use_go);
  } catch (const std::system_error& e) {
    refused = e.code() == asio::error::connection_refused;
  }
  CHECK(refused);
}

GO_TEST_CASE("use_go(ctx) cancels the operation when ctx is done") {
  auto [ctx, cancel] = go::with_cancel(go::background());
  asio::steady_timer t(go::io_context(), 1h);
  auto canceler = [cancel = cancel]() -> go::task<void> {
    co_await go_test::until_waiting(1);  // the wait below has begun
    cancel();
  };
  go::spawn(canceler);
  bool canceled = false;
  try {
    co_await t.async_wait(go::use_go(ctx));
  } catch (const go::error& e) {
    canceled = e.code() == go::errc::canceled;
  }
  CHECK(canceled);
  // A done ctx fails the next wait at once.
  asio::steady_timer t2(go::io_context(), 1h);
  const bool wait_canceled = co_await go_test::throws<go::error>(t2.async_wait(go::use_go(ctx)));
  CHECK(wait_canceled);
  // Without cancellation, a short wait just completes.
  asio::steady_timer t3(go::io_context(), 1ms);
  auto [other, cancel_other] = go::with_cancel(go::background());
  co_await t3.async_wait(go::use_go(other));
}

GO_TEST_CASE("a cancel that races the start of the operation is never lost") {
  // The ctx's hook may run before the operation has started (and has a slot to emit
  // on): each of these waits must end with ctx's error, none may hang.
  for (int i = 0; i < 300; ++i) {
    auto [ctx, cancel] = go::with_cancel(go::background());
    asio::steady_timer t(go::io_context(), 1h);
    auto canceler = [cancel = cancel]() -> go::task<void> {
      cancel();
      co_return;
    };
    go::spawn(canceler);
    bool canceled = false;
    try {
      co_await t.async_wait(go::use_go(ctx));
    } catch (const go::error& e) {
      canceled = e.code() == go::errc::canceled;
    }
    CHECK(canceled);
  }
}

GO_TEST_CASE("a pipe through posix::stream_descriptor") {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  asio::posix::stream_descriptor in(go::io_context(), fds[0]), out(go::io_context(), fds[1]);
  auto writer = [&out]() -> go::task<void> {
    std::string msg = "through the pipe";
    std::size_t n = co_await asio::async_write(out, asio::buffer(msg), go::use_go);
    CHECK(n == msg.size());
    out.close();
  };
  // `out` lives in this frame: the writer is joined before the frame ends, since the
  // reader may see EOF while the writer is still inside close().
  auto writing = go::spawn(writer);
  std::string got(16, '\0');
  std::size_t n = co_await asio::async_read(in, asio::buffer(got), go::use_go);
  CHECK(n == 16);
  CHECK(got == "through the pipe");
  char c;
  const bool eof = co_await go_test::throws<std::system_error>(in.async_read_some(asio::buffer(&c, 1), go::use_go));  // EOF
  co_await writing;
  CHECK(eof);
}

TEST_CASE("goroutines blocked in I/O are destroyed at shutdown without leaks") {
  go::runtime rt(go_test::with_procs(2));
  auto blocked = std::make_shared<std::atomic<int>>(0);
  rt.block_on([blocked]() -> go::task<void> {
    auto acceptor = std::make_shared<tcp::acceptor>(go::io_context(), tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    auto port = acceptor->local_endpoint().port();
    for (int i = 0; i < 4; ++i) {
      auto reader = [acceptor, blocked, port]() -> go::task<void> {
        tcp::socket s(go::io_context());
        co_await s.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), go::use_go);
        char c;
        ++*blocked;
        co_await s.async_read_some(asio::buffer(&c, 1), go::use_go);  // nobody writes
      };
      go::spawn(reader);
    }
    auto acceptor_loop = [acceptor]() -> go::task<void> {
      std::vector<tcp::socket> peers;
      for (;;) peers.push_back(co_await acceptor->async_accept(go::use_go));
    };
    go::spawn(acceptor_loop);
    while (*blocked < 4) co_await go::yield();
  });
  rt.stop();  // LSan (CI's ASan run) checks frames, sockets and handlers are freed
  CHECK(*blocked == 4);
}

TEST_CASE("go::io_context needs a runtime") { CHECK_THROWS_AS(go::io_context(), go::error); }

TEST_SUITE_END();
