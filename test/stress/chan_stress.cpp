// Stress: producers, consumers and selectors over shared channels with random closes,
// on 1/2/4 procs. Every value sent is received exactly once, nothing hangs. Sized by
// GO_TEST_SCALE; run under TSan and ASan in CI.
#include <atomic>
#include <random>
#include <vector>

#include "support/go_test.hpp"

TEST_SUITE_BEGIN("stress");

GO_TEST_CASE("many producers and consumers, random selects, every value once") {
  const int producers = 6, consumers = 6;
  const int per_producer = static_cast<int>(3000 * go_test::scale());
  for (int cap : {0, 1, 64}) {
    std::array<go::chan<int>, 2> chans{go::make_chan<int>(cap), go::make_chan<int>(cap)};
    std::vector<std::atomic<int>> seen(producers * per_producer);
    go::wait_group sent, received;
    sent.add(producers);
    received.add(consumers);
    for (int p = 0; p < producers; ++p) {
      auto producer = [&, chans, p]() -> go::task<void> {
        std::minstd_rand rng(p + 1);
        for (int i = 0; i < per_producer; ++i) {
          int v = p * per_producer + i;
          if (rng() % 2)
            co_await chans[rng() % 2].send(v);
          else
            co_await go::select(go::send(chans[0], v), go::send(chans[1], v));
          if (rng() % 97 == 0) co_await go::yield();
        }
        sent.done();
      };
      go::spawn(producer);
    }
    for (int c = 0; c < consumers; ++c) {
      auto consumer = [&, chans, c]() -> go::task<void> {
        std::minstd_rand rng(100 + c);
        std::array<bool, 2> open{true, true};
        while (open[0] || open[1]) {
          std::optional<int> v;
          int which;
          // While both are open, wait on both: a producer may be blocked on either.
          if (open[0] && open[1]) {
            auto r = co_await go::select(go::recv(chans[0]), go::recv(chans[1]));
            which = static_cast<int>(r.index());
            v = which == 0 ? std::move(r.get<0>()) : std::move(r.get<1>());
          } else if (rng() % 3 == 0) {
            which = open[0] ? 0 : 1;
            auto r = chans[which].try_recv();
            if (!r && !r.closed) {
              co_await go::yield();
              continue;
            }
            v = std::move(r.value);
          } else {
            which = open[0] ? 0 : 1;
            v = co_await chans[which].recv();
          }
          if (v)
            seen[*v].fetch_add(1, std::memory_order_relaxed);
          else
            open[which] = false;
        }
        received.done();
      };
      go::spawn(consumer);
    }
    co_await sent.wait();
    chans[0].close();
    chans[1].close();
    co_await received.wait();
    int wrong = 0;
    for (auto& s : seen) wrong += s.load() != 1;
    CHECK_MESSAGE(wrong == 0, "capacity " << cap);
  }
}

GO_TEST_CASE("racing closes: every blocked party wakes, nothing is lost") {
  for (long round = 0; round < 200 * go_test::scale(); ++round) {
    auto c = go::make_chan<int>(round % 3);
    std::atomic<int> delivered{0}, accepted{0}, failed{0};
    go::wait_group wg;
    wg.add(8);
    for (int i = 0; i < 4; ++i) {
      auto tx = [&, c]() -> go::task<void> {
        try {
          co_await c.send(1);
          ++accepted;
        } catch (const go::error&) {
          ++failed;
        }
        wg.done();
      };
      auto rx = [&, c]() -> go::task<void> {
        while (co_await c.recv()) ++delivered;
        wg.done();
      };
      go::spawn(tx);
      go::spawn(rx);
    }
    co_await go::yield();
    c.close();
    co_await wg.wait();
    CHECK(accepted + failed == 4);
    CHECK(delivered == accepted);  // every accepted send reached a receiver
  }
}

TEST_SUITE_END();
