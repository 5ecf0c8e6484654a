// Spawn, chain and yield workloads; the Go twins are in bench/go/spawn.go.
#include <go/go.hpp>

#include "bench.hpp"

using clk = std::chrono::steady_clock;

namespace {

// 1,000,000 goroutines, each signals a wait_group.
void spawn_wg() {
  constexpr long n = 1'000'000;
  go::run([]() -> go::task<void> {
    auto t0 = clk::now();
    go::wait_group wg;
    wg.add(n);
    for (long i = 0; i < n; ++i) {
      auto body = [&wg]() -> go::task<void> {
        wg.done();
        co_return;
      };
      go::spawn(body);
    }
    co_await wg.wait();
    auto t1 = clk::now();
    bench::check(wg.count() == 0, "all goroutines signaled");
    bench::report("spawn_wg/n=1000000", t1 - t0, n);
  });
}

// A chain of 1,000,000 goroutines, each spawning the next; the last signals.
go::task<void> link(long n, go::wait_group* done) {
  if (n == 0)
    done->done();
  else
    go::spawn(link, n - 1, done);
  co_return;
}

constexpr long chain_length = 1'000'000;

void spawn_chain() {
  go::run([]() -> go::task<void> {
    constexpr long n = chain_length;
    auto t0 = clk::now();
    go::wait_group done;
    done.add(1);
    go::spawn(link, n, &done);
    co_await done.wait();
    auto t1 = clk::now();
    bench::report("spawn_chain/n=1000000", t1 - t0, n);
  });
}

// 1,000 goroutines, each yielding 1,000 times.
void yield_many() {
  constexpr long gs = 1000, yields = 1000;
  go::run([]() -> go::task<void> {
    auto t0 = clk::now();
    go::wait_group wg;
    std::atomic<long> total{0};
    wg.add(gs);
    for (long i = 0; i < gs; ++i) {
      auto body = [&wg, &total]() -> go::task<void> {
        long k = 0;
        for (; k < yields; ++k) co_await go::yield();
        total.fetch_add(k, std::memory_order_relaxed);
        wg.done();
      };
      go::spawn(body);
    }
    co_await wg.wait();
    auto t1 = clk::now();
    bench::check(total.load() == gs * yields, "every goroutine yielded 1000 times");
    bench::report("yield/g=1000,n=1000", t1 - t0, gs * yields);
  });
}

}  // namespace

int main(int argc, char** argv) {
  return bench::main(argc, argv, {{"spawn_wg", spawn_wg}, {"spawn_chain", spawn_chain}, {"yield", yield_many}});
}
