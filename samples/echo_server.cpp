// echo_server: a TCP echo server, one goroutine per connection, with graceful shutdown
// on SIGINT/SIGTERM (an asio::signal_set awaited through go::use_go cancels a context;
// the accept loop and every connection stop; main waits for them).
//   echo_server [address]        serve until a signal (default 127.0.0.1:7007)
//   echo_server --self-test      serve on a free port, run echo_client's exchange
//                                against it, then signal ourselves and shut down
#include <asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <go/asio.hpp>
#include <go/go.hpp>
#include <go/net.hpp>
#include <string>

#include "accept_loop.hpp"
#include "echo_client.hpp"

go::task<void> serve(go::net::conn c, go::context ctx) {
  std::string buf(16 * 1024, '\0');
  try {
    for (;;) {
      std::size_t n = co_await c.read(std::as_writable_bytes(std::span(buf)), ctx);
      if (n == 0) break;  // the client closed its side
      co_await c.write(std::as_bytes(std::span(buf.data(), n)), ctx);
    }
  } catch (const go::error& e) {
    if (e.code() != go::errc::canceled && e.code() != go::errc::connection_reset) std::fprintf(stderr, "%s\n", e.what());
  }
  c.close();
}

go::task<int> server_main(std::string address, bool self_test) {
  auto [ctx, cancel] = go::with_cancel(go::background());
  auto l = go::net::listen("tcp", address);
  std::printf("listening on %s\n", l.addr().c_str());

  // Graceful shutdown: the first SIGINT or SIGTERM cancels ctx and closes the listener.
  asio::signal_set signals(go::io_context(), SIGINT, SIGTERM);
  auto on_signal = [&signals, l, cancel = cancel]() -> go::task<void> {
    int sig = co_await signals.async_wait(go::use_go);
    std::printf("signal %d: shutting down\n", sig);
    cancel();
    l.close();
  };
  go::spawn(on_signal);

  int failures = 0;
  if (self_test) {
    auto client = [addr = l.addr(), &failures]() -> go::task<void> {
      failures += co_await echo_exchange(addr, 100);
      std::raise(SIGINT);
    };
    go::spawn(client);
  }

  go::wait_group conns;
  auto serve_one = [ctx = ctx](go::net::conn c) { return serve(c, ctx); };
  co_await accept_until_closed(l, conns, serve_one);
  co_await conns.wait();
  std::printf("all connections closed\n");
  co_return failures;
}

int main(int argc, char** argv) {
  std::string arg = argc > 1 ? argv[1] : "127.0.0.1:7007";
  bool self_test = arg == "--self-test";
  return go::run(server_main, self_test ? std::string("127.0.0.1:0") : arg, self_test);
}
