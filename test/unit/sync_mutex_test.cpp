// go::mutex and go::rwmutex.
#include <atomic>
#include <string>
#include <vector>

#include "support/go_test.hpp"

TEST_SUITE_BEGIN("sync");

GO_TEST_CASE("a mutex excludes: concurrent increments are not lost") {
  go::mutex mu;
  long counter = 0;  // protected by mu (TSan checks it)
  go::wait_group wg;
  constexpr int gs = 8, iters = 2000;
  for (int g = 0; g < gs; ++g)
    wg.go([&]() -> go::task<void> {
      for (int i = 0; i < iters; ++i) {
        auto lock = co_await mu.lock();
        ++counter;
        if (i % 64 == 0) co_await go::yield();  // hold it across a suspension now and then
      }
    });
  co_await wg.wait();
  CHECK(counter == gs * iters);
  CHECK_FALSE(mu.is_locked());
}

GO_TEST_CASE("try_lock, unlock and guards") {
  go::mutex mu;
  CHECK(mu.try_lock());
  CHECK_FALSE(mu.try_lock());
  mu.unlock();
  {
    auto g = co_await mu.lock();
    CHECK(g.owns_lock());
    CHECK(mu.is_locked());
    g.unlock();
    CHECK_FALSE(mu.is_locked());
  }
  auto g2 = co_await mu.lock();
  go::mutex::guard moved = std::move(g2);
  CHECK(moved.owns_lock());
}

GO_TEST_CASE("unlock of an unlocked mutex is an error with Go's message") {
  go::mutex mu;
  try {
    mu.unlock();
    FAIL("no error");
  } catch (const go::error& e) {
    CHECK(e.code() == go::errc::unlock_of_unlocked);
    CHECK(std::string(e.what()).find("sync: unlock of unlocked mutex") == 0);
  }
  co_return;
}

// Go's TestMutexFairness: a goroutine that keeps taking the mutex, holding it across a
// suspension, must not starve a waiter (starvation mode hands it over). Bounded only by
// the test timeout.
GO_TEST_CASE("a goroutine holding the mutex in a loop cannot starve a waiter") {
  go::mutex mu;
  std::atomic<bool> stop{false};
  go::wait_group wg;
  wg.go([&]() -> go::task<void> {
    while (!stop.load()) {
      auto lock = co_await mu.lock();
      co_await go::yield();  // hold it while others run
    }
  });
  wg.go([&]() -> go::task<void> {
    for (int i = 0; i < 10; ++i) {
      co_await go::yield();
      auto lock = co_await mu.lock();
    }
    stop = true;
  });
  co_await wg.wait();
}

// The window between an unlock that wakes a waiter and the waiter running, step by
// step on one P (the woken waiter cannot run until we suspend). Normal mode: a running
// goroutine may barge in and take the mutex; the waiter, once it runs and finds it taken,
// queues again. A waiter that has waited over 1 ms and loses again switches the mutex to
// starvation mode: the next unlock hands the mutex straight to it (the mutex never looks
// free, so nobody can barge), and the waiter, the last one, switches the mode off.
TEST_CASE("the unlock-to-wakeup window: barging in normal mode and direct handoff in starvation mode") {
  go::runtime rt(go_test::with_procs(1));
  go_test::bounded_block_on(rt, "the unlock-to-wakeup window: barging in normal mode and direct handoff in starvation mode", []() -> go::task<void> {
    go::mutex mu;
    auto held = co_await mu.lock();
    std::atomic<int> got{0};
    auto waiter = [&mu, &got]() -> go::task<void> {
      auto lock = co_await mu.lock();
      got = 1;
    };
    auto w = go::spawn(waiter);
    co_await go_test::until_waiting(1, "sync.Mutex.Lock");  // the waiter has parked in lock()
    CHECK(mu.is_locked());
    // The behavior under test needs time to pass: the waiter must wait over the 1 ms
    // starvation threshold (a sleep never ends early).
    co_await go::sleep(std::chrono::milliseconds(2));

    // Normal mode: unlock readies the waiter; we barge in before it runs.
    held.unlock();
    CHECK_FALSE(mu.is_locked());  // normal mode releases the mutex
    CHECK(mu.try_lock());         // barging wins
    CHECK_FALSE(mu.is_starving());
    co_await go::yield();  // the waiter runs, finds the mutex taken, has waited > 1 ms: starvation
    CHECK(got == 0);
    CHECK(mu.is_starving());

    // Starvation mode: unlock hands the mutex over without releasing it.
    mu.unlock();
    CHECK(mu.is_locked());       // still locked: it belongs to the waiter now
    CHECK_FALSE(mu.try_lock());  // nobody can barge
    co_await w;                  // the waiter holds it, then unlocks
    CHECK(got == 1);
    CHECK_FALSE(mu.is_starving());  // the last waiter left starvation mode
    CHECK_FALSE(mu.is_locked());
    CHECK(mu.try_lock());
    mu.unlock();
  });
}

GO_TEST_CASE("an rwmutex admits readers together and writers alone") {
  go::rwmutex rw;
  std::atomic<int> readers{0}, max_readers{0};
  std::atomic<bool> writer_in{false}, overlap{false};
  go::wait_group wg;
  for (int r = 0; r < 6; ++r)
    wg.go([&]() -> go::task<void> {
      for (int i = 0; i < 200; ++i) {
        auto g = co_await rw.rlock();
        int n = ++readers;
        int m = max_readers.load();
        while (n > m && !max_readers.compare_exchange_weak(m, n)) {
        }
        if (writer_in.load()) overlap = true;
        co_await go::yield();
        --readers;
      }
    });
  for (int w = 0; w < 2; ++w)
    wg.go([&]() -> go::task<void> {
      for (int i = 0; i < 100; ++i) {
        auto g = co_await rw.lock();
        writer_in = true;
        if (readers.load() != 0) overlap = true;
        co_await go::yield();
        writer_in = false;
      }
    });
  co_await wg.wait();
  CHECK_FALSE(overlap.load());
  CHECK(max_readers.load() >= 1);
}

// With one P the order of events is ours to choose.
TEST_CASE("a waiting writer blocks new readers, so writers do not starve") {
  go::runtime rt(go_test::with_procs(1));
  go_test::bounded_block_on(rt, "a waiting writer blocks new readers, so writers do not starve", []() -> go::task<void> {
    go::rwmutex rw;
    std::vector<std::string> order;
    auto r1 = co_await rw.rlock();  // a reader holds it
    go::wait_group wg;
    wg.go([&]() -> go::task<void> {
      auto w = co_await rw.lock();  // waits for r1
      order.push_back("writer");
    });
    co_await go::yield();  // the writer parks
    CHECK_FALSE(rw.try_rlock());  // a waiting writer blocks new readers
    wg.go([&]() -> go::task<void> {
      auto r = co_await rw.rlock();  // queued behind the writer
      order.push_back("late reader");
    });
    co_await go::yield();
    r1.unlock();  // the writer goes first, then the late reader
    co_await wg.wait();
    CHECK(order == std::vector<std::string>{"writer", "late reader"});
  });
}

GO_TEST_CASE("rwmutex misuse is an error") {
  go::rwmutex rw;
  CHECK_THROWS_AS(rw.unlock(), go::error);
  CHECK_THROWS_AS(rw.runlock(), go::error);
  CHECK(rw.try_lock());
  CHECK_FALSE(rw.try_rlock());
  rw.unlock();
  CHECK(rw.try_rlock());
  CHECK(rw.try_rlock());
  CHECK_FALSE(rw.try_lock());
  rw.runlock();
  rw.runlock();
  co_return;
}

TEST_SUITE_END();
