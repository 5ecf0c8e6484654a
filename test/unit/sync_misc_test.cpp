// go::once, once_func, once_value, go::cond, go::semaphore, go::pool, wait_group::go.
#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/go_test.hpp"

TEST_SUITE_BEGIN("sync");

GO_TEST_CASE("once runs f exactly once; concurrent callers wait for it") {
  go::once once;
  std::atomic<int> runs{0}, saw_done{0};
  go::wait_group wg;
  for (int i = 0; i < 16; ++i)
    wg.go([&]() -> go::task<void> {
      auto call = once.call([&]() -> go::task<void> {
        co_await go::yield();  // f suspends: the others must wait, not run it
        ++runs;
      });
      co_await call;
      if (runs.load() == 1) ++saw_done;
    });
  co_await wg.wait();
  CHECK(runs == 1);
  CHECK(saw_done == 16);  // every caller returned after f finished
  CHECK(once.done());
}

GO_TEST_CASE("a once whose f throws counts as done (Go's panic semantics)") {
  go::once once;
  bool threw = false;
  try {
    auto first = once.call([] { throw std::runtime_error("init failed"); });
    co_await first;
  } catch (const std::runtime_error&) {
    threw = true;
  }
  CHECK(threw);
  int later = 0;
  auto second = once.call([&] { ++later; });
  co_await second;
  CHECK(later == 0);
}

GO_TEST_CASE("once_func and once_value") {
  int calls = 0;
  auto init = go::once_func([&calls] { ++calls; });
  co_await init();
  co_await init();
  CHECK(calls == 1);
  int computed = 0;
  auto config = go::once_value([&computed] {
    ++computed;
    return std::string("loaded");
  });
  auto awaited_58 = co_await config();
  CHECK(awaited_58 == "loaded");
  auto awaited_59 = co_await config();
  CHECK(awaited_59 == "loaded");
  CHECK(computed == 1);
  auto broken = go::once_value([]() -> int { throw std::logic_error("no"); });
  const bool rethrown = co_await go_test::throws<std::logic_error>(broken());
  CHECK(rethrown);
  // The callable may be a temporary: the task owns the shared state.
  auto pending = go::once_value([] { return 5; })();
  auto awaited_65 = co_await pending;
  CHECK(awaited_65 == 5);
}

// With one P, goroutines park in the order we let them run.
TEST_CASE("cond: signal wakes the longest waiter; broadcast wakes only current waiters") {
  go::runtime rt(go_test::with_procs(1));
  go_test::bounded_block_on(rt, "cond: signal wakes the longest waiter; broadcast wakes only current waiters", []() -> go::task<void> {
    go::mutex mu;
    go::cond c(mu);
    std::vector<int> woke;
    go::wait_group wg;
    for (int id = 0; id < 3; ++id) {
      wg.go([&, id]() -> go::task<void> {
        auto lock = co_await mu.lock();
        co_await c.wait();
        woke.push_back(id);
      });
      co_await go::yield();  // it parks in wait()
    }
    c.signal();
    co_await go::yield();
    c.signal();
    co_await go::yield();
    CHECK(woke == std::vector<int>{0, 1});
    c.broadcast();
    // A goroutine that waits after the broadcast does not take its wakeup.
    std::atomic<bool> late_woke{false};
    auto late = go::spawn([&]() -> go::task<void> {
      auto lock = co_await mu.lock();
      co_await c.wait();
      late_woke = true;
    });
    co_await wg.wait();
    CHECK(woke == std::vector<int>{0, 1, 2});
    for (int i = 0; i < 10; ++i) co_await go::yield();
    CHECK_FALSE(late_woke.load());
    c.signal();
    co_await late;
    CHECK(late_woke.load());
  });
}

GO_TEST_CASE("cond: a producer/consumer queue with wait in a loop") {
  go::mutex mu;
  go::cond nonempty(mu);
  std::vector<int> queue;
  long sum = 0;
  go::wait_group wg;
  wg.go([&]() -> go::task<void> {
    for (int i = 1; i <= 500; ++i) {
      auto lock = co_await mu.lock();
      queue.push_back(i);
      nonempty.signal();
    }
  });
  wg.go([&]() -> go::task<void> {
    for (int got = 0; got < 500; ++got) {
      auto lock = co_await mu.lock();
      while (queue.empty()) co_await nonempty.wait();
      sum += queue.back();
      queue.pop_back();
    }
  });
  co_await wg.wait();
  CHECK(sum == 500L * 501 / 2);
}

TEST_CASE("semaphore: FIFO, a large head request holds back smaller ones") {
  go::runtime rt(go_test::with_procs(1));
  go_test::bounded_block_on(rt, "semaphore: FIFO, a large head request holds back smaller ones", []() -> go::task<void> {
    go::semaphore sem(10);
    co_await sem.acquire(8);
    std::vector<std::string> order;
    go::wait_group wg;
    wg.go([&]() -> go::task<void> {
      co_await sem.acquire(5);  // does not fit: waits at the head
      order.push_back("big");
      sem.release(5);
    });
    co_await go::yield();
    CHECK_FALSE(sem.try_acquire(1));  // fits, but must not jump the queue
    wg.go([&]() -> go::task<void> {
      co_await sem.acquire(1);  // would fit now, but queues behind "big"
      order.push_back("small");
      sem.release(1);
    });
    co_await go::yield();
    CHECK(order.empty());
    sem.release(8);  // grants "big" then "small", in queue order (they may run in either)
    co_await wg.wait();
    std::sort(order.begin(), order.end());
    CHECK(order == std::vector<std::string>{"big", "small"});
  });
}

GO_TEST_CASE("semaphore misuse is an error; it bounds concurrency") {
  go::semaphore sem(3);
  CHECK_THROWS_AS((void)sem.try_acquire(4), go::error);
  bool threw = false;
  try {
    co_await sem.acquire(4);  // more than the size: Go's would block forever
  } catch (const go::error& e) {
    threw = e.code() == go::errc::semaphore_misuse;
  }
  CHECK(threw);
  CHECK_THROWS_AS(sem.release(1), go::error);
  std::atomic<int> running{0}, peak{0};
  go::wait_group wg;
  for (int i = 0; i < 20; ++i)
    wg.go([&]() -> go::task<void> {
      co_await sem.acquire();
      int n = ++running;
      int p = peak.load();
      while (n > p && !peak.compare_exchange_weak(p, n)) {
      }
      co_await go::yield();
      --running;
      sem.release();
    });
  co_await wg.wait();
  CHECK(peak.load() <= 3);
  CHECK(sem.try_acquire(3));
}

GO_TEST_CASE("pool: put objects come back, else the constructor makes one") {
  std::atomic<int> made{0};
  go::pool<std::vector<int>> buffers([&made] {
    ++made;
    return std::vector<int>(16);
  });
  auto a = buffers.get();
  CHECK(made == 1);
  a[0] = 42;
  buffers.put(std::move(a));
  auto b = buffers.get();  // same P: the cached one
  CHECK(b.size() == 16);
  CHECK(made == 1);
  co_return;
}

GO_TEST_CASE("wait_group::go runs f in a goroutine and counts it down") {
  go::wait_group wg;
  std::atomic<int> ran{0};
  for (int i = 0; i < 50; ++i) wg.go([&ran] { ++ran; });  // a plain callable
  wg.go([&ran]() -> go::task<void> {
    co_await go::yield();
    ++ran;
  });
  co_await wg.wait();
  CHECK(ran == 51);
}

TEST_CASE("goroutines parked on sync primitives are destroyed at shutdown") {
  go::runtime rt(go_test::with_procs(2));
  go::mutex mu;
  go::rwmutex rw;
  go::semaphore sem(1);
  go::once once;
  go::cond c(mu);
  go::wait_group parked;
  parked.add(6);
  rt.block_on([&]() -> go::task<void> {
    (co_await mu.lock()).release();  // stays locked: nobody will unlock it
    (co_await rw.lock()).unlock();
    auto writer = co_await rw.lock();
    (void)writer;
    co_await sem.acquire();
    auto on_mu = [&]() -> go::task<void> {
      parked.done();
      auto g = co_await mu.lock();
    };
    auto on_rw = [&]() -> go::task<void> {
      parked.done();
      auto g = co_await rw.rlock();
    };
    auto on_sem = [&]() -> go::task<void> {
      parked.done();
      co_await sem.acquire();
    };
    auto on_once = [&]() -> go::task<void> {
      parked.done();
      auto call = once.call([]() -> go::task<void> {
        auto never = go::make_chan<int>();
        co_await never.recv();
      });
      co_await call;
    };
    go::spawn(on_mu);
    go::spawn(on_rw);
    go::spawn(on_sem);
    for (int i = 0; i < 3; ++i) go::spawn(on_once);  // one runs f, two wait for it
    co_await parked.wait();
    writer.release();  // keep the rwmutex held after we return
  });
  rt.stop();  // LeakSanitizer checks that every frame and waiter was reclaimed
}

TEST_SUITE_END();
