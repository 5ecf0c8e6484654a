// go::blocking: results, exceptions, and no P held while the call blocks.
#include <atomic>
#include <stdexcept>
#include <thread>

#include "support/go_test.hpp"

TEST_SUITE_BEGIN("blocking");

GO_TEST_CASE("blocking gives the call's result or rethrows") {
  auto awaited_11 = co_await go::blocking([] { return 6 * 7; });
  CHECK(awaited_11 == 42);
  bool ran = false;
  co_await go::blocking([&] { ran = true; });
  CHECK(ran);
  auto awaited_15 = co_await go::blocking([] { return std::this_thread::get_id(); });
  CHECK(awaited_15 != std::this_thread::get_id());
  bool caught = false;
  try {
    co_await go::blocking([]() -> int { throw std::runtime_error("io failed"); });
  } catch (const std::runtime_error&) {
    caught = true;
  }
  CHECK(caught);
}

// With one P, a blocking call that waits for a goroutine would deadlock if it held the P.
TEST_CASE("a blocking call does not hold a P") {
  go::runtime rt(go_test::with_procs(1));
  rt.block_on([]() -> go::task<void> {
    std::atomic<bool> flag{false};
    auto setter = go::spawn([&flag]() -> go::task<void> {
      flag = true;
      flag.notify_all();
      co_return;
    });
    co_await go::blocking([&flag] { flag.wait(false); });
    co_await setter;
    CHECK(flag.load());
  });
}

TEST_CASE("more blocking calls than threads queue up and all complete") {
  go::runtime_options o;
  o.procs = 2;
  o.max_blocking_threads = 2;
  go::runtime rt(o);
  rt.block_on([]() -> go::task<void> {
    std::atomic<int> done{0};
    std::vector<go::join_handle<void>> hs;
    for (int i = 0; i < 16; ++i)
      hs.push_back(go::spawn([&done]() -> go::task<void> {
        co_await go::blocking([&done] { done.fetch_add(1); });
      }));
    for (auto& h : hs) co_await h;
    CHECK(done == 16);
  });
}

TEST_CASE("blocking outside a goroutine is a clear error") {
  auto t = []() -> go::task<int> { co_return co_await go::blocking([] { return 1; }); }();
  // Drive the task by hand, off any runtime: its first await must throw no_runtime.
  auto h = t.handle();
  h.resume();
  REQUIRE(h.done());
  CHECK_THROWS_AS(h.promise().result_.get(), go::error);
}

TEST_SUITE_END();
