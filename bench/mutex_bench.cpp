// sync workloads; the Go twins are in bench/go/sync.go.
#include <go/go.hpp>

#include <atomic>
#include <coroutine>
#include <cstdint>

#include "bench.hpp"

using clk = std::chrono::steady_clock;

namespace {

// 8 goroutines x 1,000,000 lock / increment / unlock on one mutex.
void mutex_contended() {
  static constexpr long gs = 8, iters = 1'000'000;
  go::run([]() -> go::task<void> {
    auto t0 = clk::now();
    go::mutex mu;
    long counter = 0;
    go::wait_group wg;
    for (long g = 0; g < gs; ++g)
      wg.go([&]() -> go::task<void> {
        for (long i = 0; i < iters; ++i) {
          auto lock = co_await mu.lock();
          ++counter;
        }
      });
    co_await wg.wait();
    auto t1 = clk::now();
    bench::check(counter == gs * iters, "no increment lost");
    bench::report("mutex_contended/g=8,n=1000000", t1 - t0, gs * iters);
  });
}

// One goroutine, 10,000,000 uncontended lock / increment / unlock.
void mutex_uncontended() {
  static constexpr long iters = 10'000'000;
  go::run([]() -> go::task<void> {
    auto t0 = clk::now();
    go::mutex mu;
    long counter = 0;
    for (long i = 0; i < iters; ++i) {
      auto lock = co_await mu.lock();
      ++counter;
    }
    auto t1 = clk::now();
    bench::check(counter == iters, "every increment counted");
    bench::report("mutex_uncontended/n=10000000", t1 - t0, iters);
  });
}

// The floor under mutex_uncontended: the same loop in a goroutine, compiled the same
// way, over the least a mutex can be -- one CAS to lock, one atomic subtract to unlock,
// a slow path never taken, no runtime call. What go::mutex costs above this row is its
// own; what this row costs is the two locked instructions plus what the compiler makes
// of a coroutine's loop (g++ 12 keeps `i` and `counter` in the frame: two memory
// read-modify-writes between the locked instructions each iteration; clang keeps them
// in registers). Both vary by about 1 ns with where the frame puts the words.
struct bare_mutex {
  std::atomic<std::uint32_t> state{0};
  char unused[sizeof(go::mutex) - sizeof(state)];  // the frame is laid out as with go::mutex
  struct guard {
    bare_mutex* m;
    // The result is checked, as go::mutex checks it: unused, the subtract compiles to
    // `lock sub` instead of `lock xadd`, which measured 1.5 ns slower here.
    ~guard() { bench::check(m->state.fetch_sub(1, std::memory_order_release) == 1, "was locked"); }
  };
  struct awaiter {
    bare_mutex* m;
    bool await_ready() noexcept {
      std::uint32_t free = 0;
      return m->state.compare_exchange_strong(free, 1, std::memory_order_acquire, std::memory_order_relaxed);
    }
    // Never called (one goroutine, no contention), but the compiler must not know it:
    // the loop keeps a real suspension point, as go::mutex's does.
    void await_suspend(std::coroutine_handle<> h) { contended(h); }
    guard await_resume() noexcept { return guard{m}; }
  };
  awaiter lock() noexcept { return awaiter{this}; }
  [[gnu::noinline]] static void contended(std::coroutine_handle<> h) {
    if (h) bench::check(false, "bare_mutex is never contended");
  }
};

void mutex_uncontended_floor() {
  static constexpr long iters = 10'000'000;
  go::run([]() -> go::task<void> {
    auto t0 = clk::now();
    bare_mutex mu;
    long counter = 0;
    for (long i = 0; i < iters; ++i) {
      auto lock = co_await mu.lock();
      ++counter;
    }
    auto t1 = clk::now();
    bench::check(counter == iters && mu.state.load() == 0, "every increment counted");
    bench::report("mutex_uncontended_floor/n=10000000", t1 - t0, iters);
  });
}

// 8 goroutines x 250,000 operations on an rwmutex: 1 write per 100 reads.
void rwmutex_read_mostly() {
  static constexpr long gs = 8, ops = 250'000;
  go::run([]() -> go::task<void> {
    auto t0 = clk::now();
    go::rwmutex rw;
    long value = 0;
    std::atomic<long> reads{0};
    go::wait_group wg;
    for (long g = 0; g < gs; ++g)
      wg.go([&]() -> go::task<void> {
        long local_reads = 0;
        for (long i = 0; i < ops; ++i) {
          if (i % 101 == 0) {
            auto w = co_await rw.lock();
            ++value;
          } else {
            auto r = co_await rw.rlock();
            local_reads += value >= 0;
          }
        }
        reads.fetch_add(local_reads);
      });
    co_await wg.wait();
    auto t1 = clk::now();
    bench::check(value == gs * ((ops + 100) / 101) && reads.load() == gs * ops - value, "all operations counted");
    bench::report("rwmutex_read_mostly/g=8,n=250000", t1 - t0, gs * ops);
  });
}

// A counter that two goroutines (one per P) bump 10,000,000 times each, three ways:
// a sharded counter (each goroutine its own slot, padded to a cache line of its own, the
// total summed when read), one atomic, one go::mutex. The sharded one keeps each core on
// its own line; the atomic moves one line between the cores on every increment; the
// mutex moves it twice and parks a goroutine when they collide.
constexpr long counter_gs = 2, counter_iters = 10'000'000;

struct alignas(64) counter_slot {  // 64: x86's line (128 would also cover the adjacent-line prefetcher)
  std::atomic<long> v{0};
};

template <class Body>
void counter_case(const char* name, Body body, long (*total)()) {
  go::run([&]() -> go::task<void> {
    auto t0 = clk::now();
    go::wait_group wg;
    for (long g = 0; g < counter_gs; ++g) wg.go([&body, g]() { return body(g); });
    co_await wg.wait();
    auto t1 = clk::now();
    bench::check(total() == counter_gs * counter_iters, "every increment counted");
    bench::report(name, t1 - t0, counter_gs * counter_iters);
  });
}

counter_slot sharded_slots[counter_gs];
std::atomic<long> single{0};
go::mutex counter_mu;
long guarded = 0;

void counter_sharded() {
  counter_case(
      "counter_sharded/g=2,n=10000000",
      [](long g) -> go::task<void> {
        std::atomic<long>& mine = sharded_slots[g].v;
        for (long i = 0; i < counter_iters; ++i) mine.fetch_add(1, std::memory_order_relaxed);
        co_return;
      },
      [] {
        long sum = 0;
        for (auto& s : sharded_slots) sum += s.v.load();
        return sum;
      });
}

void counter_atomic() {
  counter_case(
      "counter_atomic/g=2,n=10000000",
      [](long) -> go::task<void> {
        for (long i = 0; i < counter_iters; ++i) single.fetch_add(1, std::memory_order_relaxed);
        co_return;
      },
      [] { return single.load(); });
}

void counter_mutex() {
  counter_case(
      "counter_mutex/g=2,n=10000000",
      [](long) -> go::task<void> {
        for (long i = 0; i < counter_iters; ++i) {
          auto lock = co_await counter_mu.lock();
          ++guarded;
        }
      },
      [] { return guarded; });
}

}  // namespace

int main(int argc, char** argv) {
  return bench::main(argc, argv,
                     {{"mutex_contended", mutex_contended},
                      {"mutex_uncontended", mutex_uncontended},
                      {"mutex_uncontended_floor", mutex_uncontended_floor},
                      {"rwmutex_read_mostly", rwmutex_read_mostly},
                      {"counter_sharded", counter_sharded},
                      {"counter_atomic", counter_atomic},
                      {"counter_mutex", counter_mutex}});
}
