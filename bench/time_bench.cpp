// Timer and context workloads; the Go twins are in bench/go/time.go.
#include <go/go.hpp>
#include <time.h>

#include <coroutine>
#include <exception>
#include <queue>
#include <vector>

#include "bench.hpp"

using clk = std::chrono::steady_clock;
using namespace std::chrono_literals;

namespace {

// The same pseudo-random sequence as the Go twin (a 64-bit LCG, Knuth's MMIX constants).
struct lcg {
  std::uint64_t x = 42;
  std::uint64_t next() { return x = x * 6364136223846793005ull + 1442695040888963407ull; }
};

// 100,000 goroutines, each sleeping a pseudo-random 1..100 ms. The ideal total is 100 ms.
void sleepers() {
  constexpr long n = 100'000;
  go::run([]() -> go::task<void> {
    lcg r;
    auto t0 = clk::now();
    go::wait_group wg;
    wg.add(n);
    for (long i = 0; i < n; ++i) {
      auto ms = std::chrono::milliseconds(1 + (r.next() >> 33) % 100);
      auto body = [&wg, ms]() -> go::task<void> {
        co_await go::sleep(ms);
        wg.done();
      };
      go::spawn(body);
    }
    co_await wg.wait();
    auto total = clk::now() - t0;
    bench::check(total >= 100ms, "the longest sleep is 100 ms");
    bench::report("sleepers/n=100000", total, 1);
  });
}

// The floor under sleepers: the same sleeps from the same sequence, each in a C++20
// coroutine with the same body, run with no runtime at all -- one thread, a binary heap
// of deadlines, a list of woken coroutines to resume, and a nanosleep until the
// earliest when nothing is runnable. Each coroutine is made (malloc) and runs to its
// sleep right where it is spawned, and frees itself when it ends; a sleep reads the
// clock once, as go::sleep does. What this row costs is the memory, the clock reads and
// the heap, all on one thread: a runtime on 2 cores could overlap the spawn loop with
// the starting of the sleeps, which this does not.
namespace bare {
struct sleeper {
  struct promise_type {
    sleeper get_return_object() { return {}; }
    std::suspend_never initial_suspend() noexcept { return {}; }  // runs to its sleep at once
    std::suspend_never final_suspend() noexcept { return {}; }    // frees itself
    void return_void() noexcept {}
    void unhandled_exception() noexcept { std::terminate(); }
  };
};
struct due {
  std::int64_t when;
  std::coroutine_handle<> h;
  bool operator>(const due& o) const noexcept { return when > o.when; }
};
struct loop {
  std::vector<std::coroutine_handle<>> ready;
  std::priority_queue<due, std::vector<due>, std::greater<>> timers;
  long left = 0;  // the wait group

  struct sleep_awaiter {
    loop* l;
    std::int64_t when;
    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) { l->timers.push({when, h}); }
    void await_resume() const noexcept {}
  };
  sleep_awaiter sleep(std::chrono::milliseconds d) { return {this, go::detail::nanotime() + d.count() * 1'000'000}; }

  void run() {
    while (left > 0) {
      for (std::size_t i = 0; i < ready.size(); ++i) ready[i].resume();
      ready.clear();
      const std::int64_t now = go::detail::nanotime();
      while (!timers.empty() && timers.top().when <= now) {
        ready.push_back(timers.top().h);
        timers.pop();
      }
      if (ready.empty() && !timers.empty()) {
        const std::int64_t wait = timers.top().when - go::detail::nanotime();
        if (wait > 0) {
          timespec ts{static_cast<time_t>(wait / 1'000'000'000), static_cast<long>(wait % 1'000'000'000)};
          nanosleep(&ts, nullptr);
        }
      }
    }
  }
};
}  // namespace bare

void sleepers_floor() {
  constexpr long n = 100'000;
  lcg r;
  auto t0 = clk::now();
  bare::loop l;
  l.left = n;
  for (long i = 0; i < n; ++i) {
    auto ms = std::chrono::milliseconds(1 + (r.next() >> 33) % 100);
    auto body = [](bare::loop& l, std::chrono::milliseconds ms) -> bare::sleeper {
      co_await l.sleep(ms);
      --l.left;
    };
    body(l, ms);
  }
  l.run();
  auto total = clk::now() - t0;
  bench::check(total >= 100ms && l.left == 0, "every sleep ended; the longest is 100 ms");
  bench::report("sleepers_floor/n=100000", total, 1);
}

// 1,000,000 timers started (all pending at once), then stopped.
void timers() {
  constexpr long n = 1'000'000;
  go::run([]() -> go::task<void> {
    auto t0 = clk::now();
    std::vector<go::timer> ts;
    ts.reserve(n);
    for (long i = 0; i < n; ++i) ts.emplace_back(1h + std::chrono::microseconds(i));
    long stopped = 0;
    for (auto& t : ts) stopped += t.stop();
    auto t1 = clk::now();
    bench::check(stopped == n, "every timer was pending when stopped");
    bench::report("timers/n=1000000", t1 - t0, n);
    co_return;
  });
}

// A context tree root -> 100 -> 1,000 each (100,000 leaves), one goroutine waiting on
// each leaf's done(); the time from the root's cancel until every goroutine has exited.
void ctx_tree() {
  constexpr int mid = 100, leaves_per = 1000;
  constexpr long n = static_cast<long>(mid) * leaves_per;
  go::run([]() -> go::task<void> {
    auto [root, cancel_root] = go::with_cancel(go::background());
    std::vector<go::cancel_func> cancels;
    cancels.reserve(n + mid);
    go::wait_group ready, exited;
    ready.add(n);
    exited.add(n);
    std::vector<go::context> sample;
    for (int m = 0; m < mid; ++m) {
      auto [c, cancel_c] = go::with_cancel(root);
      cancels.push_back(cancel_c);
      for (int l = 0; l < leaves_per; ++l) {
        auto [leaf, cancel_leaf] = go::with_cancel(c);
        cancels.push_back(cancel_leaf);
        if (l == 0) sample.push_back(leaf);
        auto waiter = [&ready, &exited, leaf = leaf]() -> go::task<void> {
          ready.done();
          co_await leaf.done();
          exited.done();
        };
        go::spawn(waiter);
      }
    }
    co_await ready.wait();
    auto t0 = clk::now();
    cancel_root();
    co_await exited.wait();
    auto t1 = clk::now();
    for (auto& leaf : sample) bench::check(leaf.err() == go::errc::canceled, "leaves are canceled");
    bench::report("ctx_tree/leaves=100000", t1 - t0, n);
    for (auto& c : cancels) c();
  });
}

}  // namespace

int main(int argc, char** argv) {
  return bench::main(argc, argv, {{"sleepers", sleepers}, {"sleepers_floor", sleepers_floor}, {"timers", timers}, {"ctx_tree", ctx_tree}});
}
