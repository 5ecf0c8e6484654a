// redis_server: mini-redis, a small Redis (RESP2) server on gocoro (samples/mini_redis.hpp;
// docs/services.md).
//   redis_server [host:port]       serve (default 127.0.0.1:6380) until SIGINT/SIGTERM,
//                                  then shut down gracefully and exit 0
//   redis_server --self-test       serve on a free port, check the replies to every
//                                  command (pipelined too), bad input, pub/sub and a
//                                  slow subscriber, then signal ourselves and shut down
//   redis_server --check host:port run the same checks against another server (Debian's
//                                  redis-server: the expected bytes are Redis 7's)
// Talk to it with Debian's redis-tools:  redis-cli -p 6380 set k v
//                                        redis-benchmark -p 6380 -t set,get -P 16 -c 50
#include <asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <go/asio.hpp>
#include <go/go.hpp>
#include <go/net.hpp>
#include <string>

#include "mini_redis.hpp"

using namespace std::chrono_literals;

namespace {

#include "redis_selftest.hpp"  // self_test_client(addr)

go::task<int> server_main(std::string address, bool self_test) {
  auto l = go::net::listen("tcp", address);
  std::printf("redis_server: listening on %s\n", l.addr().c_str());
  std::fflush(stdout);
  auto [stop, stop_serving] = go::with_cancel(go::background());

  // SIGINT/SIGTERM: a graceful shutdown (mini_redis::run's steps).
  asio::signal_set signals(go::io_context(), SIGINT, SIGTERM);
  auto on_signal = [&signals, stop_serving = stop_serving]() -> go::task<void> {
    int sig = co_await signals.async_wait(go::use_go);
    std::printf("redis_server: signal %d: shutting down\n", sig);
    std::fflush(stdout);
    stop_serving();
  };
  go::spawn(on_signal);

  int failures = 0;
  if (self_test) {
    auto client = [addr = l.addr(), &failures]() -> go::task<void> {
      failures = co_await self_test_client(addr);
      std::raise(SIGINT);
    };
    go::spawn(client);
  }
  co_await mini_redis::run(l, stop);
  if (self_test) std::printf("self-test: %s\n", failures == 0 ? "ok" : "FAILED");
  co_return failures;
}

go::task<int> check_main(std::string addr) {
  const int bad = co_await self_test_client(addr);
  std::printf("check of %s: %s\n", addr.c_str(), bad == 0 ? "ok" : "FAILED");
  co_return bad;
}

}  // namespace

int main(int argc, char** argv) {
  std::string arg = argc > 1 ? argv[1] : "127.0.0.1:6380";
  if (arg == "--check" && argc > 2) return go::run(check_main, std::string(argv[2]));
  const bool self_test = arg == "--self-test";
  return go::run(server_main, self_test ? std::string("127.0.0.1:0") : arg, self_test);
}
