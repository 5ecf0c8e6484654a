// go::errgroup: waiting, the first failure, with_context cancellation, limits.
#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>

#include "support/go_test.hpp"

using namespace std::chrono_literals;

TEST_SUITE_BEGIN("errgroup");

GO_TEST_CASE("a zero-value group waits for every goroutine") {
  go::errgroup g;
  std::atomic<int> ran{0};
  for (int i = 0; i < 50; ++i)
    co_await g.go([&ran]() -> go::task<void> {
      co_await go::yield();
      ++ran;
    });
  co_await g.wait();
  CHECK(ran == 50);
  co_await g.wait();  // again: nothing to wait for
}

GO_TEST_CASE("wait rethrows the first failure, after every goroutine ended") {
  go::errgroup g;
  std::atomic<int> finished{0};
  auto gate = go::make_chan<int>();
  // Named first: g++ 12 destroys a by-value-capturing lambda written inside a co_await
  // expression twice (docs/differences.md).
  auto second = [gate]() -> go::task<void> {
    co_await gate.recv();  // closed below: fails second
    throw std::runtime_error("second");
  };
  co_await g.go(second);
  co_await g.go([]() -> go::task<void> {
    throw std::runtime_error("first");
    co_return;
  });
  co_await g.go([&finished]() -> go::task<void> {
    co_await go::sleep(1ms);  // a slow member: wait() must wait for it too
    ++finished;
  });
  gate.close();  // "first" or "second" fails first: either order is a valid outcome
  std::string what;
  try {
    co_await g.wait();
  } catch (const std::runtime_error& e) {
    what = e.what();
  }
  CHECK((what == "first" || what == "second"));
  CHECK(finished == 1);
}

GO_TEST_CASE("returned error values are failures") {
  go::errgroup g;
  co_await g.go([]() -> go::task<std::error_code> { co_return std::error_code(); });
  co_await g.go([]() -> go::task<std::error_code> { co_return std::make_error_code(std::errc::timed_out); });
  bool threw = false;
  try {
    co_await g.wait();
  } catch (const std::system_error& e) {
    threw = true;
    CHECK(e.code() == std::errc::timed_out);
  }
  CHECK(threw);

  go::errgroup h;
  co_await h.go([]() { return std::make_exception_ptr(std::logic_error("plain callable")); });
  const bool rethrown = co_await go_test::throws<std::logic_error>(h.wait());
  CHECK(rethrown);
}

GO_TEST_CASE("with_context: the first failure cancels the others, with itself as the cause") {
  auto [g, ctx] = go::errgroup::with_context(go::background());
  std::atomic<int> canceled{0};
  for (int i = 0; i < 10; ++i) {
    auto waiter = [&canceled, ctx = ctx]() -> go::task<void> {
      co_await ctx.done();  // only a cancel ends this
      ++canceled;
    };
    co_await g.go(waiter);
  }
  co_await g.go([]() -> go::task<void> {
    throw std::runtime_error("boom");
    co_return;
  });
  const bool first_error = co_await go_test::throws<std::runtime_error>(g.wait());
  CHECK(first_error);
  CHECK(canceled == 10);
  CHECK(ctx.err() == go::errc::canceled);
  CHECK_THROWS_AS(std::rethrow_exception(go::cause(ctx)), std::runtime_error);
}

GO_TEST_CASE("with_context: wait cancels the context even without failures") {
  auto [g, ctx] = go::errgroup::with_context(go::background());
  co_await g.go([]() -> go::task<void> { co_return; });
  co_await g.wait();
  CHECK(ctx.err() == go::errc::canceled);
}

GO_TEST_CASE("set_limit bounds the goroutines running at once; go waits for a slot") {
  constexpr int limit = 3;
  go::errgroup g;
  g.set_limit(limit);
  std::atomic<int> running{0}, peak{0}, total{0};
  for (int i = 0; i < 100; ++i) {
    co_await g.go([&]() -> go::task<void> {
      int now = ++running;
      int seen = peak.load();
      while (now > seen && !peak.compare_exchange_weak(seen, now)) {}
      co_await go::yield();
      if (total % 7 == 0) co_await go::sleep(10us);  // some members keep their slot across a timer's park
      ++total;
      --running;
    });
    CHECK(running.load() <= limit);
  }
  co_await g.wait();
  CHECK(total == 100);
  CHECK(peak.load() <= limit);
  CHECK(peak.load() >= 1);
}

GO_TEST_CASE("try_go refuses when no slot is free; set_limit refuses while busy") {
  go::errgroup g;
  g.set_limit(1);
  auto release = go::make_chan<int>();
  auto holder = [release]() -> go::task<void> { co_await release.recv(); };
  CHECK(g.try_go(holder));
  CHECK_FALSE(g.try_go([]() -> go::task<void> { co_return; }));
  CHECK_THROWS_AS(g.set_limit(5), go::error);
  release.close();
  co_await g.wait();
  CHECK(g.try_go([]() -> go::task<void> { co_return; }));
  co_await g.wait();
  g.set_limit(-1);  // idle: allowed
}

TEST_SUITE_END();
