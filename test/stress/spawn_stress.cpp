// Stress: random trees of spawns, joins, yields, detaches and blocking calls on 1/2/4
// procs; every goroutine must run once and every frame be reclaimed. Sized by
// GO_TEST_SCALE; run under TSan and ASan in CI.
#include <atomic>
#include <random>

#include "support/counted.hpp"
#include "support/go_test.hpp"

TEST_SUITE_BEGIN("stress");

namespace {
struct shared {
  std::atomic<long> ran{0};
  go::wait_group detached;
};

go::task<long> node(shared* s, int depth, std::uint32_t seed) {
  go_test::counted alive(depth);
  s->ran.fetch_add(1, std::memory_order_relaxed);
  std::minstd_rand rng(seed);
  if (rng() % 4 == 0) co_await go::yield();
  if (depth == 0) {
    if (rng() % 64 == 0) co_await go::blocking([] {});
    co_return 1;
  }
  long total = 1;
  int kids = 1 + static_cast<int>(rng() % 3);
  std::vector<go::join_handle<long>> hs;
  for (int k = 0; k < kids; ++k) {
    if (rng() % 5 == 0) {
      s->detached.add(1);
      go::spawn([s, depth, seed = static_cast<std::uint32_t>(rng())]() -> go::task<void> {
        co_await node(s, depth - 1, seed);
        s->detached.done();
      });
    } else {
      hs.push_back(go::spawn(node, s, depth - 1, static_cast<std::uint32_t>(rng())));
    }
  }
  for (auto& h : hs) total += co_await h;
  co_return total;
}
}  // namespace

GO_TEST_CASE("random spawn trees: every goroutine runs once, nothing leaks") {
  go_test::counted::live = 0;
  for (long round = 0; round < 4 * go_test::scale(); ++round) {
    shared s;
    long joined = co_await go::spawn(node, &s, 11, static_cast<std::uint32_t>(round + 1));
    co_await s.detached.wait();
    CHECK(joined <= s.ran.load());
  }
  while (go::num_goroutine() > 1) co_await go::yield();
  CHECK(go_test::counted::live == 0);
}

TEST_CASE("runtimes started and stopped repeatedly with work in flight") {
  for (long round = 0; round < 20 * go_test::scale(); ++round) {
    go::runtime rt(go_test::with_procs(1 + round % 4));
    for (int i = 0; i < 200; ++i)
      rt.spawn([]() -> go::task<void> {
          for (int k = 0; k < 10; ++k) co_await go::yield();
        }).detach();
    // Destruction stops the runtime wherever it is: the rest are destroyed.
  }
}

TEST_SUITE_END();
