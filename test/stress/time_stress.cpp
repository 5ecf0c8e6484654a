// Stress: a 100,000-leaf context tree canceled at the root while every leaf has a
// goroutine waiting on it (in different kinds of waits), and many goroutines sleeping
// and using timers across Ps while shutdown-free cancellation races with firing.
#include <atomic>
#include <vector>

#include "support/go_test.hpp"

using namespace std::chrono_literals;

TEST_SUITE_BEGIN("stress");

GO_TEST_CASE("a 100000-leaf context tree canceled at the root ends every waiter") {
  constexpr int mid = 100, leaves_per = 1000;
  constexpr int n = mid * leaves_per;
  auto [root, cancel_root] = go::with_cancel(go::background());
  go::mutex mu;
  auto held = co_await mu.lock();  // leaves waiting on the mutex never get it
  go::semaphore sem(1);
  co_await sem.acquire(1);
  auto never = go::make_chan<int>();
  go::wait_group started, exited;
  started.add(n);
  exited.add(n);
  std::atomic<int> canceled{0};
  std::vector<go::context> mids;
  for (int m = 0; m < mid; ++m) {
    auto [c, cancel_c] = go::with_cancel(root);
    mids.push_back(c);
    for (int l = 0; l < leaves_per; ++l) {
      auto [leaf, cancel_leaf] = go::with_cancel(c);
      auto waiter = [&, leaf = leaf, kind = l % 5]() -> go::task<void> {
        started.done();
        try {
          switch (kind) {
            case 0: co_await leaf.done(); break;
            case 1: (void)co_await never.recv(leaf); break;
            case 2: (void)co_await mu.lock(leaf); break;
            case 3: co_await sem.acquire(1, leaf); break;
            case 4: co_await go::sleep(1h, leaf); break;
          }
        } catch (const go::error& e) {
          if (e.code() == go::errc::canceled) ++canceled;
        }
        if (leaf.err() == go::errc::canceled) exited.done();
      };
      go::spawn(waiter);
    }
  }
  co_await started.wait();
  cancel_root();
  co_await exited.wait();
  CHECK(canceled == n - n / 5);  // every kind but the plain done() wait throws
  for (auto& c : mids) CHECK(go::detail::ctx_children(c) == 0);  // the leaves left their parents
  CHECK(go::detail::ctx_children(root) == 0);
  held.unlock();
  CHECK(mu.try_lock());
  mu.unlock();
  sem.release(1);
  CHECK(sem.try_acquire(1));
}

GO_TEST_CASE("sleepers and tickers and deadlines across Ps all end") {
  const int n = 2000 * static_cast<int>(go_test::scale());
  go::wait_group wg;
  std::atomic<int> deadline_hits{0};
  for (int i = 0; i < n; ++i) {
    wg.go([i, &deadline_hits]() -> go::task<void> {
      switch (i % 4) {
        case 0: co_await go::sleep(std::chrono::microseconds(i % 300)); break;
        case 1: {
          go::ticker t(std::chrono::microseconds(50 + i % 50));
          for (int k = 0; k < 3; ++k) co_await t.c().recv();
          break;
        }
        case 2: {
          auto [ctx, cancel] = go::with_timeout(go::background(), std::chrono::microseconds(i % 500));
          co_await ctx.done();
          if (ctx.err() == go::errc::deadline_exceeded) ++deadline_hits;
          break;
        }
        case 3: {
          go::timer t(std::chrono::microseconds(i % 200));
          if (i % 8 == 3) t.reset(std::chrono::microseconds(10));
          co_await t.c().recv();
          break;
        }
      }
    });
  }
  co_await wg.wait();
  CHECK(deadline_hits == (n + 1) / 4);
}

TEST_SUITE_END();
