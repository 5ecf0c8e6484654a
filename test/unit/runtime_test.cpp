// go::runtime and go::run: options, outside spawns, block_on, stop with goroutines
// still blocked, stats and sysmon.
#include <pthread.h>

#include <atomic>
#include <cstdlib>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/counted.hpp"
#include "support/event.hpp"
#include "support/go_test.hpp"

TEST_SUITE_BEGIN("runtime");

TEST_CASE("go::run runs main as goroutine 1 and returns its result") {
  int r = go::run([]() -> go::task<int> {
    CHECK(go::this_goroutine::id() == 1);
    CHECK(go::num_goroutine() == 1);
    CHECK(go::runtime::current() != nullptr);
    co_return 7;
  });
  CHECK(r == 7);
  CHECK_THROWS_WITH_AS(go::run([]() -> go::task<void> {
                         throw std::runtime_error("main failed");
                         co_return;
                       }),
                       "main failed", std::runtime_error);
}

TEST_CASE("procs come from the option, else GOMAXPROCS, else the hardware") {
  {
    go::runtime rt(go_test::with_procs(3));
    CHECK(rt.procs() == 3);
    CHECK(rt.block_on([]() -> go::task<unsigned> { co_return go::gomaxprocs(); }) == 3);
  }
  ::setenv("GOMAXPROCS", "5", 1);
  {
    go::runtime rt;
    CHECK(rt.procs() == 5);
  }
  ::setenv("GOMAXPROCS", "junk", 1);
  {
    go::runtime rt;
    CHECK(rt.procs() == std::max(1u, std::thread::hardware_concurrency()));
  }
  ::unsetenv("GOMAXPROCS");
}

TEST_CASE("bad options are refused with a clear error") {
  go::runtime_options o;
  o.procs = 100'000;
  CHECK_THROWS_AS(go::runtime{o}, go::error);
  o.procs = 1;
  o.max_blocking_threads = 0;
  CHECK_THROWS_AS(go::runtime{o}, go::error);
}

TEST_CASE("workers are named and run the thread hooks") {
  std::mutex mu;
  std::set<std::string> names;
  std::atomic<int> stops{0};
  {
    go::runtime_options o;
    o.procs = 2;
    o.thread_name = "tst";
    o.on_thread_start = [&] {
      char buf[16] = {};
      pthread_getname_np(pthread_self(), buf, sizeof buf);
      std::lock_guard lock(mu);
      names.insert(buf);
    };
    o.on_thread_stop = [&] { ++stops; };
    go::runtime rt(o);
    rt.block_on([]() -> go::task<void> { co_return; });
  }
  CHECK(names == std::set<std::string>{"tst-0", "tst-1"});
  CHECK(stops == 2);
}

TEST_CASE("spawn storms from several outside threads") {
  for (unsigned procs : go_test::proc_counts) {
    CAPTURE(procs);
    go::runtime rt(go_test::with_procs(procs));
    const int threads = 4, per_thread = static_cast<int>(5'000 * go_test::scale());
    std::atomic<int> ran{0};
    go::wait_group wg;
    wg.add(threads * per_thread);
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&] {
        for (int i = 0; i < per_thread; ++i)
          rt.spawn([&]() -> go::task<void> {
              ran.fetch_add(1, std::memory_order_relaxed);
              wg.done();
              co_return;
            }).detach();
      });
    for (auto& t : ts) t.join();
    go_test::bounded_block_on(rt, "spawn storms from several outside threads", [&]() -> go::task<void> { co_await wg.wait(); });
    CHECK(ran == threads * per_thread);
    CHECK(rt.stats().spawned >= static_cast<std::uint64_t>(threads * per_thread));
  }
}

TEST_CASE("block_on waits for a handle from outside and rethrows") {
  go::runtime rt(go_test::with_procs(2));
  auto h = rt.spawn([]() -> go::task<std::string> {
    co_await go::yield();
    co_return "done";
  });
  CHECK(rt.block_on(std::move(h)) == "done");
  auto bad = rt.spawn([]() -> go::task<int> {
    throw std::out_of_range("nope");
    co_return 1;
  });
  CHECK_THROWS_AS(rt.block_on(std::move(bad)), std::out_of_range);
}

TEST_CASE("block_on from a goroutine of the same runtime is refused") {
  go::runtime rt(go_test::with_procs(1));
  rt.block_on([&rt]() -> go::task<void> {
    auto inner = []() -> go::task<void> { co_return; };
    CHECK_THROWS_AS(rt.block_on(inner), go::error);
    co_return;
  });
}

TEST_CASE("spawn on a stopped runtime is a clear error") {
  go::runtime rt(go_test::with_procs(1));
  rt.stop();
  try {
    rt.spawn([]() -> go::task<void> { co_return; });
    FAIL("spawn succeeded");
  } catch (const go::error& e) {
    CHECK(e.code() == go::errc::runtime_stopped);
  }
}

TEST_CASE("stop destroys goroutines still blocked, running their destructors") {
  for (unsigned procs : go_test::proc_counts) {
    CAPTURE(procs);
    go_test::counted::live = 0;
    auto rt = std::make_unique<go::runtime>(go_test::with_procs(procs));
    go_test::event never;
    go::wait_group forever;
    forever.add(1);
    std::thread joiner_thread;
    std::atomic<int> outside_saw_stop{0};
    go::wait_group started;
    started.add(4);
    rt->block_on([&]() -> go::task<void> {
      // Parked on a primitive, with a live object in its frame.
      go::spawn([c = go_test::counted(1), &never, &started]() -> go::task<void> {
        go_test::counted local(2);
        started.done();
        co_await never.wait();
      });
      // Parked on a wait_group that never reaches zero (the waiter leaves it).
      go::spawn([c = go_test::counted(3), &forever, &started]() -> go::task<void> {
        started.done();
        co_await forever.wait();
      });
      // Parked joining a parked goroutine.
      go::spawn([&never, &started]() -> go::task<void> {
        auto inner = go::spawn([c = go_test::counted(4), &never]() -> go::task<void> { co_await never.wait(); });
        started.done();
        co_await inner;
      });
      // A handle held by a thread outside: its block_on sees runtime_stopped.
      auto h = go::spawn([&never, &started]() -> go::task<int> {
        started.done();
        co_await never.wait();
        co_return 1;
      });
      joiner_thread = std::thread([&rt, h = std::move(h), &outside_saw_stop]() mutable {
        try {
          rt->block_on(std::move(h));
        } catch (const go::error& e) {
          if (e.code() == go::errc::runtime_stopped) outside_saw_stop = 1;
        }
      });
      co_await started.wait();
    });
    CHECK(go_test::counted::live >= 4);
    rt->stop();
    joiner_thread.join();
    CHECK(go_test::counted::live == 0);
    CHECK(outside_saw_stop == 1);
    CHECK(forever.count() == 1);
    rt.reset();
  }
}

TEST_CASE("stats count spawns, and sysmon notices a goroutine that never suspends") {
  go::runtime rt(go_test::with_procs(2));
  go_test::bounded_block_on(rt, "stats count spawns, and sysmon notices a goroutine that never suspends", [&rt]() -> go::task<void> {
    for (int i = 0; i < 100; ++i) co_await go::spawn([]() -> go::task<void> { co_return; });
    auto st = rt.stats();
    CHECK(st.procs == 2);
    CHECK(st.spawned >= 101);
    CHECK(st.local_queues.size() == 2);
    // Spin without suspending until sysmon reports us: a bound on a hang, not a timing.
    while (rt.stats().long_running == 0) {
    }
    co_return;
  });
  CHECK(rt.stats().long_running >= 1);
}

TEST_SUITE_END();
