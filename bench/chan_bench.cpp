// Channel and select workloads; the Go twins are in bench/go/chan.go.
#include <go/go.hpp>

#include <fstream>
#include <unistd.h>

#include "bench.hpp"
#include "pipeline.hpp"

using clk = std::chrono::steady_clock;

namespace {

// Ping-pong of an int over two unbuffered channels, 1,000,000 round trips.
void pingpong() {
  static constexpr long n = 1'000'000;
  go::run([]() -> go::task<void> {
    auto t0 = clk::now();
    auto ping = go::make_chan<long>(), pong = go::make_chan<long>();
    auto echo = [ping, pong]() -> go::task<void> {
      while (auto v = co_await ping.recv()) co_await pong.send(*v + 1);
      pong.close();
    };
    go::spawn(echo);
    long sum = 0;
    for (long i = 0; i < n; ++i) {
      co_await ping.send(i);
      sum += *(co_await pong.recv()) - i;
    }
    ping.close();
    auto t1 = clk::now();
    bench::check(sum == n, "every reply is the request plus one");
    bench::report("chan_pingpong/n=1000000", t1 - t0, n);
  });
}

// 4 producers, 4 consumers, one channel of capacity 1024, 10,000,000 items.
void prodcons() {
  static constexpr long n = 10'000'000, producers = 4, consumers = 4;
  go::run([]() -> go::task<void> {
    auto t0 = clk::now();
    auto ch = go::make_chan<long>(1024);
    go::wait_group sent, done;
    std::atomic<long> total{0};
    sent.add(producers);
    done.add(consumers);
    for (long p = 0; p < producers; ++p) {
      auto producer = [ch, p, &sent]() -> go::task<void> {
        for (long i = p; i < n; i += producers) co_await ch.send(i);
        sent.done();
      };
      go::spawn(producer);
    }
    for (long c = 0; c < consumers; ++c) {
      auto consumer = [ch, &total, &done]() -> go::task<void> {
        long s = 0;
        while (auto v = co_await ch.recv()) s += *v;
        total.fetch_add(s);
        done.done();
      };
      go::spawn(consumer);
    }
    co_await sent.wait();
    ch.close();
    co_await done.wait();
    auto t1 = clk::now();
    bench::check(total.load() == n * (n - 1) / 2, "every item received once");
    bench::report("chan_prodcons/p=4,c=4,cap=1024,n=10000000", t1 - t0, n);
  });
}

// One consumer selecting over 4 unbuffered channels fed by 4 producers, 1,000,000 items.
void select4() {
  static constexpr long n = 1'000'000, producers = 4;
  go::run([]() -> go::task<void> {
    auto t0 = clk::now();
    std::array<go::chan<long>, producers> chans;
    for (long p = 0; p < producers; ++p) {
      chans[p] = go::make_chan<long>();
      auto producer = [c = chans[p], p]() -> go::task<void> {
        for (long i = p; i < n; i += producers) co_await c.send(i);
        c.close();
      };
      go::spawn(producer);
    }
    long sum = 0, open = producers, got = 0;
    while (open > 0) {
      auto r = co_await go::select(go::recv(chans[0]), go::recv(chans[1]), go::recv(chans[2]), go::recv(chans[3]));
      std::optional<long> v;
      switch (r.index()) {
        case 0: v = r.get<0>(); break;
        case 1: v = r.get<1>(); break;
        case 2: v = r.get<2>(); break;
        default: v = r.get<3>(); break;
      }
      if (v) {
        sum += *v;
        ++got;
      } else {
        --open;
        chans[r.index()] = go::chan<long>();  // closed: nil it, as Go code does
      }
    }
    auto t1 = clk::now();
    bench::check(got == n && sum == n * (n - 1) / 2, "every item received once");
    bench::report("select_4producers/n=1000000", t1 - t0, n);
  });
}

long rss_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

// 1,000,000 goroutines each parked in a receive: bytes of RSS per parked goroutine.
void parked() {
  static constexpr long n = 1'000'000;
  go::run([]() -> go::task<void> {
    auto t0 = clk::now();
    long before = rss_bytes();
    auto ch = go::make_chan<long>();
    go::wait_group started, finished;
    started.add(n);
    finished.add(n);
    std::atomic<long> woke{0};
    for (long i = 0; i < n; ++i) {
      auto waiter = [ch, &started, &finished, &woke]() -> go::task<void> {
        started.done();
        if (!co_await ch.recv()) woke.fetch_add(1, std::memory_order_relaxed);
        finished.done();
      };
      go::spawn(waiter);
    }
    co_await started.wait();
    while (go::runtime::current()->stats().global_queue + go::runtime::current()->stats().local_queues[0] > 0)
      co_await go::yield();  // let the last ones reach their receive
    long after = rss_bytes();
    ch.close();
    co_await finished.wait();
    auto t1 = clk::now();
    bench::check(woke.load() == n, "every goroutine woke from its receive");
    bench::report("chan_parked/n=1000000", t1 - t0, n, static_cast<double>(after - before) / n);
  });
}

// The pipeline sample (samples/pipeline.hpp: generate -> square -> keep even -> sum)
// with 1,000,000 items.
void run_pipeline() {
  static constexpr long n = 1'000'000;
  go::run([]() -> go::task<void> {
    auto t0 = clk::now();
    auto c = pipeline::start(n);
    unsigned long sum = 0;
    while (auto v = co_await c.recv()) sum += static_cast<unsigned long>(*v);
    auto t1 = clk::now();
    unsigned long expect = 0;
    for (unsigned long i = 2; i <= static_cast<unsigned long>(n); i += 2) expect += i * i;
    bench::check(sum == expect, "the sum of the even squares");
    bench::report("pipeline/n=1000000", t1 - t0, n);
  });
}

}  // namespace

int main(int argc, char** argv) {
  return bench::main(argc, argv,
                     {{"pingpong", pingpong},
                      {"prodcons", prodcons},
                      {"select4", select4},
                      {"parked", parked},
                      {"pipeline", run_pipeline}});
}
