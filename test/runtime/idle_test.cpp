// White-box tests of the idle-worker accounting (lib/runtime/idle.hpp) and the global
// queue (lib/runtime/inject.hpp).
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "runtime/idle.hpp"
#include "runtime/inject.hpp"

using namespace go::detail;

TEST_SUITE_BEGIN("idle");

TEST_CASE("at most half the workers search") {
  idle i(4);
  CHECK(i.begin_search());
  CHECK(i.begin_search());
  CHECK_FALSE(i.begin_search());
  CHECK(i.searching() == 2);
  CHECK_FALSE(i.end_search());
  CHECK(i.end_search());  // the last searcher
}

TEST_CASE("notify_one wakes a sleeper only when nobody searches") {
  idle i(2);
  i.begin_park(1, false);
  CHECK(i.unparked() == 1);
  CHECK(i.begin_search());  // worker 0 searches: no wake needed
  i.notify_one();
  CHECK(i.unparked() == 1);
  CHECK(i.end_search());
  std::thread sleeper([&] {
    i.park(1, never);
    i.finish_park(1);
  });
  i.notify_one();  // nobody searching, one asleep: wake it, as a searcher
  sleeper.join();
  CHECK(i.unparked() == 2);
  CHECK(i.searching() == 1);
}

TEST_CASE("a timed park ends at its deadline and leaves the sleeper list") {
  idle i(2);
  i.begin_park(1, false);
  CHECK(i.unparked() == 1);
  i.park(1, nanotime() + 1000);  // 1 us: returns by timeout (no unpark is coming)
  i.finish_park(1);
  CHECK(i.unparked() == 2);
  CHECK(i.searching() == 1);
  i.notify_one();  // it is no longer listed: nothing to wake
  CHECK(i.unparked() == 2);
}

TEST_CASE("wake ends a park early; finish_park then leaves the list") {
  idle i(2);
  i.begin_park(1, false);
  std::thread sleeper([&] {
    i.park(1, never);
    i.finish_park(1);
  });
  i.wake(1);
  sleeper.join();
  CHECK(i.unparked() == 2);
}

TEST_CASE("cancel_park comes back as a searcher") {
  idle i(2);
  i.begin_park(0, false);
  i.cancel_park(0);
  CHECK(i.unparked() == 2);
  CHECK(i.searching() == 1);
}

TEST_CASE("the global queue keeps order across batches") {
  inject q;
  std::vector<g> gs(10);
  for (auto& x : gs) q.push(&x);
  CHECK(q.size() == 10);
  g* out[100];
  CHECK(q.pop_batch(out, 4) == 4);
  CHECK(out[0] == &gs[0]);
  CHECK(out[3] == &gs[3]);
  CHECK(q.pop() == &gs[4]);
  CHECK(q.pop_batch(out, 100) == 5);
  CHECK(out[0] == &gs[5]);
  CHECK(out[4] == &gs[9]);
  CHECK(q.empty());
  CHECK(q.pop() == nullptr);
}

TEST_CASE("the global queue grows around its wrap point and shrinks when it empties") {
  inject q;
  std::vector<g> gs(20000);
  // Wrap the ring first: push and pop so that the head is in the middle of the buffer.
  g* out[256];
  std::size_t next_in = 0, next_out = 0;
  for (int round = 0; round < 3; ++round) {
    g* batch[129];
    for (auto& b : batch) b = &gs[next_in++];
    q.push_batch(batch, 129);
    std::uint32_t n = q.pop_batch(out, 100);
    for (std::uint32_t i = 0; i < n; ++i) CHECK(out[i] == &gs[next_out++]);
  }
  // Now grow it well past the point where it is freed on emptying, in batches.
  while (next_in < gs.size()) {
    g* batch[129];
    std::uint32_t n = 0;
    while (n < 129 && next_in < gs.size()) batch[n++] = &gs[next_in++];
    q.push_batch(batch, n);
  }
  CHECK(q.size() == gs.size() - next_out);
  while (std::uint32_t n = q.pop_batch(out, 256))
    for (std::uint32_t i = 0; i < n; ++i) REQUIRE(out[i] == &gs[next_out++]);
  CHECK(next_out == gs.size());
  CHECK(q.empty());
  // Usable again after its buffer was freed.
  q.push(&gs[0]);
  CHECK(q.pop() == &gs[0]);
}

TEST_CASE("the global queue hands every g out exactly once under contention") {
  inject q;
  constexpr int per = 20000, producers = 2, consumers = 2;
  std::vector<g> gs(per * producers);
  std::vector<std::atomic<int>> seen(gs.size());
  std::atomic<int> taken{0};
  std::vector<std::thread> ts;
  for (int p = 0; p < producers; ++p)
    ts.emplace_back([&, p] {
      for (int i = 0; i < per;) {
        g* batch[7];
        std::uint32_t n = 0;
        while (n < 7 && i < per) batch[n++] = &gs[p * per + i++];
        q.push_batch(batch, n);
      }
    });
  for (int c = 0; c < consumers; ++c)
    ts.emplace_back([&] {
      g* out[64];
      while (taken.load() < static_cast<int>(gs.size()))
        if (std::uint32_t n = q.pop_batch(out, 64)) {
          for (std::uint32_t i = 0; i < n; ++i) seen[out[i] - gs.data()].fetch_add(1);
          taken.fetch_add(static_cast<int>(n));
        }
    });
  for (auto& t : ts) t.join();
  for (auto& s : seen) REQUIRE(s.load() == 1);
  CHECK(q.empty());
}

TEST_SUITE_END();
