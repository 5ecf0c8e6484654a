// Timers: sleep, after, timer (Go 1.23 stop/reset), ticker, after_func, and the
// scheduler's duties (timers fire while run queues never empty, on a stuck P, and at
// most one sleeper waits for the earliest deadline). No assertion is about speed: the
// only time comparisons are lower bounds a timer guarantees ("not before d").
#include <atomic>
#include <chrono>
#include <vector>

#include "support/go_test.hpp"

using namespace std::chrono_literals;

TEST_SUITE_BEGIN("time");

GO_TEST_CASE("sleep waits at least its duration; zero and negative do not park") {
  auto t0 = go::clock::now();
  co_await go::sleep(2ms);
  CHECK(go::clock::now() - t0 >= 2ms);
  co_await go::sleep(0s);
  co_await go::sleep(-5ms);
  auto until = go::clock::now() + 1ms;
  co_await go::sleep_until(until);
  CHECK(go::clock::now() >= until);
}

GO_TEST_CASE("many sleepers wake in deadline order per goroutine and all wake") {
  constexpr int n = 200;
  auto done = go::make_chan<int>(n);
  for (int i = 0; i < n; ++i) {
    auto sleeper = [done, i]() -> go::task<void> {
      co_await go::sleep(std::chrono::microseconds(50 * (i % 20)));
      co_await go::sleep(std::chrono::microseconds(10 * (i % 7)));
      co_await done.send(i);
    };
    go::spawn(sleeper);
  }
  std::vector<bool> seen(n, false);
  for (int i = 0; i < n; ++i) {
    auto v = co_await done.recv();
    REQUIRE(v);
    CHECK_FALSE(seen[*v]);
    seen[*v] = true;
  }
}

GO_TEST_CASE("after delivers the time once, and works as a select case") {
  auto start = go::clock::now();
  auto c = go::after(1ms);
  auto v = co_await c.recv();
  REQUIRE(v);
  CHECK(*v - start >= 1ms);
  CHECK(c.try_recv().value == std::nullopt);  // once

  auto never = go::make_chan<int>();
  auto r = co_await go::select(go::recv(never), go::recv(go::after(1ms)));
  CHECK(r.index() == 1);
}

GO_TEST_CASE("a stopped timer never delivers; stop reports whether it was pending") {
  go::timer t(1h);
  CHECK(t.stop());
  CHECK_FALSE(t.stop());  // already stopped
  auto r = co_await go::select(go::recv(t.c()), go::recv(go::after(2ms)));
  CHECK(r.index() == 1);

  go::timer fired(0s);
  co_await go::sleep(1ms);  // it has fired into its channel, unread
  CHECK(fired.stop());      // Go 1.23: the unread value counts as pending and is discarded
  CHECK(fired.c().try_recv().value == std::nullopt);
}

GO_TEST_CASE("reset restarts a timer and discards a stale value") {
  go::timer t(0s);
  co_await go::sleep(1ms);  // fired, unread
  auto before_reset = go::clock::now();
  CHECK(t.reset(1ms));  // had an unread value
  auto v = co_await t.c().recv();
  REQUIRE(v);
  CHECK(*v >= before_reset + 1ms);  // the new firing, not the stale one
  CHECK_FALSE(t.reset(1h));         // fired and read: nothing pending
  CHECK(t.stop());
}

// Go's TestTimerStopStaleValue / reset races: stop or reset racing with the firing on
// another P must never leave a value behind.
GO_TEST_CASE("stop and reset racing with the firing leave no stale value") {
  for (int i = 0; i < 2000; ++i) {
    go::timer t(std::chrono::microseconds(i % 5));
    if (i % 3) co_await go::yield();  // let it fire sometimes, on this or another P
    if (i % 2) {
      t.stop();
      CHECK(t.c().try_recv().value == std::nullopt);
    } else {
      t.reset(1h);
      CHECK(t.c().try_recv().value == std::nullopt);
      t.stop();
    }
  }
}

GO_TEST_CASE("concurrent resets and stops of one timer keep it consistent") {
  go::timer t(1h);
  go::wait_group wg;
  for (int w = 0; w < 4; ++w) {
    wg.go([&t, w]() -> go::task<void> {
      for (int i = 0; i < 500; ++i) {
        if ((i + w) % 2)
          t.reset(std::chrono::microseconds(i % 3));
        else
          t.stop();
        if (i % 16 == 0) co_await go::yield();
      }
    });
  }
  co_await wg.wait();
  t.reset(1ms);
  auto awaited_117 = co_await t.c().recv();
  CHECK(awaited_117);  // still works afterwards
}

GO_TEST_CASE("a ticker ticks; a slow receiver finds at most one waiting tick") {
  go::ticker tk(200us);
  for (int i = 0; i < 3; ++i) {
    const auto tick = co_await tk.c().recv();
    CHECK(tick);
  }
  co_await go::sleep(3ms);  // ~15 periods without receiving
  CHECK(tk.c().len() <= 1);
  tk.stop();
  CHECK(tk.c().try_recv().value == std::nullopt);  // no stale tick after stop
  tk.reset(100us);
  auto awaited_128 = co_await tk.c().recv();
  CHECK(awaited_128);
  CHECK_THROWS_AS(go::ticker(0s), go::error);
}

GO_TEST_CASE("after_func runs f in its own goroutine; stop prevents it") {
  auto ran = go::make_chan<std::uint64_t>(1);
  auto f = go::after_func(1ms, [ran]() { (void)ran.try_send(go::this_goroutine::id()); });
  auto id = co_await ran.recv();
  REQUIRE(id);
  CHECK(*id != go::this_goroutine::id());
  CHECK_FALSE(f.stop());  // it already ran

  std::atomic<bool> stopped_ran{false};
  auto g = go::after_func(1h, [&stopped_ran]() { stopped_ran = true; });
  CHECK(g.stop());
  CHECK_FALSE(stopped_ran.load());

  // A task-returning f, and dropping the handle does not cancel it.
  auto done = go::make_chan<int>(1);
  {
    auto dropped = go::after_func(0s, [done]() -> go::task<void> { co_await done.send(7); });
  }
  auto awaited_150 = co_await done.recv();
  CHECK(*awaited_150 == 7);
}

TEST_CASE("timers fire while the only P's run queue never empties") {
  go::runtime rt(go_test::with_procs(1));
  // The assertion is the bound: the loop ends only if the timer fires.
  const std::uint64_t fired = go_test::bounded_block_on(rt, "timers fire while the only P's run queue never empties", []() -> go::task<std::uint64_t> {
    std::atomic<bool> woke{false};
    auto sleeper = [&woke]() -> go::task<void> {
      co_await go::sleep(1ms);
      woke = true;
    };
    go::spawn(sleeper);
    while (!woke) co_await go::yield();  // the queue always holds this goroutine
    co_return go::runtime::current()->stats().timers_fired;
  });
  CHECK(fired >= 1);
}

TEST_CASE("a timer on a P stuck in a long goroutine still fires (sysmon)") {
  go::runtime rt(go_test::with_procs(2));
  go_test::bounded_block_on(rt, "a timer on a P stuck in a long goroutine still fires (sysmon)", []() -> go::task<void> {
    std::atomic<bool> woke{false};
    auto sleeper = [&woke]() -> go::task<void> {
      co_await go::sleep(1ms);  // its timer is in this P's heap
      woke = true;
    };
    go::spawn(sleeper);
    co_await go::yield();          // let it run and park
    while (!woke.load()) {}        // never suspends: this P cannot look at its timers
    co_return;                     // the assertion is the bound: only a fired timer ends the loop
  });
}

TEST_CASE("shutdown destroys sleeping goroutines and pending timers without leaks") {
  go::runtime rt(go_test::with_procs(2));
  auto started = std::make_shared<std::atomic<int>>(0);
  for (int i = 0; i < 100; ++i)
    rt.spawn([started]() -> go::task<void> {
      go::timer t(1h);
      auto f = go::after_func(1h, [] {});
      auto c = go::after(1h);
      ++*started;
      co_await go::sleep(1h);
    });
  rt.block_on([started]() -> go::task<void> {
    while (*started < 100) co_await go::yield();
  });
  rt.stop();  // LSan (CI's ASan run) checks that every frame and timer is freed
  CHECK(*started == 100);
}

TEST_CASE("timers need a runtime") {
  CHECK_THROWS_AS(go::timer(1ms), go::error);
  CHECK_THROWS_AS((void)go::after(1ms), go::error);
  try {
    go::timer t(1ms);
  } catch (const go::error& e) {
    CHECK(e.code() == go::errc::no_runtime);
  }
}

TEST_SUITE_END();
