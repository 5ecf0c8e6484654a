// go::wait_group.
#include <atomic>
#include <thread>

#include "support/event.hpp"
#include "support/go_test.hpp"

TEST_SUITE_BEGIN("wait_group");

GO_TEST_CASE("wait returns at once when the counter is zero") {
  go::wait_group wg;
  co_await wg.wait();
  wg.add(2);
  wg.done();
  wg.done();
  co_await wg.wait();
  CHECK(wg.count() == 0);
}

GO_TEST_CASE("every waiter wakes when the counter reaches zero") {
  go::wait_group wg, waiting, woken;
  constexpr int waiters = 20;
  wg.add(1);
  waiting.add(waiters);
  woken.add(waiters);
  std::atomic<int> after{0};
  for (int i = 0; i < waiters; ++i)
    go::spawn([&]() -> go::task<void> {
      waiting.done();
      co_await wg.wait();
      after.fetch_add(1);
      woken.done();
    });
  co_await waiting.wait();
  CHECK(after == 0);
  wg.done();
  co_await woken.wait();
  CHECK(after == waiters);
}

GO_TEST_CASE("a negative counter is an error and leaves the counter as it was") {
  go::wait_group wg;
  wg.add(1);
  try {
    wg.add(-2);
    FAIL("no error");
  } catch (const go::error& e) {
    CHECK(e.code() == go::errc::negative_wait_group);
    CHECK(std::string(e.what()).find("sync: negative WaitGroup counter") != std::string::npos);
  }
  CHECK(wg.count() == 1);
  wg.done();
  CHECK_THROWS_AS(wg.done(), go::error);
  co_await wg.wait();
}

GO_TEST_CASE("a wait_group can be reused, and counted down from outside threads") {
  go::wait_group wg;
  for (int round = 0; round < 3; ++round) {
    wg.add(4);
    std::thread t([&] {
      for (int i = 0; i < 4; ++i) wg.done();
    });
    co_await wg.wait();
    t.join();
    CHECK(wg.count() == 0);
  }
}

GO_TEST_CASE("many goroutines count down concurrently") {
  go::wait_group wg;
  const int n = static_cast<int>(10'000 * go_test::scale());
  wg.add(n);
  for (int i = 0; i < n; ++i)
    go::spawn([&wg]() -> go::task<void> {
      wg.done();
      co_return;
    });
  co_await wg.wait();
  CHECK(wg.count() == 0);
}

TEST_SUITE_END();
