// White-box tests of the idle-worker accounting (lib/runtime/idle.hpp) and the global
// queue (lib/runtime/inject.hpp).
#include <doctest/doctest.h>

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
  std::uint32_t n;
  g* first = q.pop_batch(4, n);
  CHECK(n == 4);
  CHECK(first == &gs[0]);
  CHECK(first->schedlink == &gs[1]);
  CHECK(q.pop() == &gs[4]);
  g* batch = q.pop_batch(100, n);
  CHECK(n == 5);
  CHECK(batch == &gs[5]);
  CHECK(q.empty());
}

TEST_SUITE_END();
