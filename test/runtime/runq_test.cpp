// White-box tests of the local run queue (lib/runtime/runq.hpp), Go export_test style.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>
#include <type_traits>
#include <vector>

#include "runtime/runq.hpp"

using go::detail::g;
using go::detail::runq;

// What a type lets its holder do (an access error is a substitution failure here).
template <class Q>
concept can_push = requires(Q& q, g* gp) { q.push_back(gp); };
template <class Q>
concept can_pop = requires(Q& q) { q.pop(); };
template <class Q, class D>
concept can_steal_into = requires(Q& q, D& d) { q.steal_into(d); };

TEST_SUITE_BEGIN("runq");

TEST_CASE("owner push and pop are FIFO, and a full queue refuses") {
  runq storage;
  runq::local q(storage);
  std::vector<g> gs(runq::capacity + 1);
  for (std::uint32_t i = 0; i < runq::capacity; ++i) REQUIRE(q.push_back(&gs[i]));
  CHECK(q.size() == runq::capacity);
  CHECK_FALSE(q.push_back(&gs[runq::capacity]));
  for (std::uint32_t i = 0; i < runq::capacity; ++i) CHECK(q.pop() == &gs[i]);
  CHECK(q.pop() == nullptr);
  CHECK(q.empty());
}

TEST_CASE("a steal takes half, rounded up, oldest first") {
  std::vector<g> gs(runq::capacity);
  for (std::uint32_t n = 1; n <= runq::capacity; ++n) {
    runq victim_q, thief_q;
    runq::local victim(victim_q), thief(thief_q);
    for (std::uint32_t i = 0; i < n; ++i) REQUIRE(victim.push_back(&gs[i]));
    std::uint32_t want = n - n / 2;
    g* first = victim_q.steal_into(thief);
    REQUIRE(first != nullptr);
    CHECK(thief.size() == want - 1);        // one is returned to run
    CHECK(victim.size() == n - want);
    CHECK(first == &gs[want - 1]);          // the newest of the stolen batch runs
    if (want > 1) CHECK(thief.pop() == &gs[0]);
  }
  runq empty, thief_q;
  runq::local thief(thief_q);
  CHECK(empty.steal_into(thief) == nullptr);
}

TEST_CASE("the owner's handle is the only way to push or pop, and there is one per queue") {
  static_assert(!std::is_copy_constructible_v<runq::local>, "one owner: the handle is not copyable");
  // runq's own interface is the stealer's side: no push_back or pop on it.
  static_assert(!can_push<runq> && can_push<runq::local>, "only runq::local pushes");
  static_assert(!can_pop<runq> && can_pop<runq::local>, "only runq::local pops");
  static_assert(can_steal_into<runq, runq::local> && !can_steal_into<runq, runq>, "a thief steals into the queue it owns");
  runq q;
  runq::local a(q);
  runq::local b(std::move(a));  // the handle moves; ownership stays one
  g x;
  CHECK(b.push_back(&x));
  CHECK(&b.queue() == &q);
  CHECK(b.pop() == &x);
}

TEST_CASE("take_half moves the older half of a full queue") {
  runq storage;
  runq::local q(storage);
  std::vector<g> gs(runq::capacity);
  for (auto& x : gs) REQUIRE(q.push_back(&x));
  std::vector<g*> out(runq::capacity / 2);
  REQUIRE(q.take_half(out.data()) == runq::capacity / 2);
  CHECK(out[0] == &gs[0]);
  CHECK(q.size() == runq::capacity / 2);
  CHECK(q.pop() == &gs[runq::capacity / 2]);
}

// The owner pushes and pops while thieves steal: every g is taken exactly once. (A pop
// right after a failed push may find the queue empty: the thieves can drain it between
// the two calls.)
TEST_CASE("concurrent steals take every g exactly once") {
  constexpr int items = 200'000;
  constexpr int thieves = 3;
  std::vector<g> gs(items);
  std::vector<std::atomic<int>> taken(items);
  auto index = [&](g* gp) { return static_cast<int>(gp - gs.data()); };
  runq shared;
  runq::local owner_q(shared);
  std::atomic<bool> done{false};
  std::vector<std::thread> ts;
  for (int t = 0; t < thieves; ++t)
    ts.emplace_back([&] {
      runq mine_q;
      runq::local mine(mine_q);
      while (!done.load(std::memory_order_acquire)) {
        if (g* gp = shared.steal_into(mine)) {
          taken[index(gp)].fetch_add(1);
          while (g* more = mine.pop()) taken[index(more)].fetch_add(1);
        }
      }
    });
  int pushed = 0;
  while (pushed < items) {
    if (owner_q.push_back(&gs[pushed])) {
      ++pushed;
    } else if (g* gp = owner_q.pop()) {
      taken[index(gp)].fetch_add(1);
    }
  }
  while (g* gp = owner_q.pop()) taken[index(gp)].fetch_add(1);
  done.store(true, std::memory_order_release);
  for (auto& t : ts) t.join();
  int wrong = 0;
  for (auto& t : taken) wrong += t.load() != 1;
  CHECK(wrong == 0);
}

TEST_SUITE_END();
