// recover_pool: a worker pool that survives failing jobs. In Go a worker runs each job
// under `defer func() { if r := recover(); r != nil { ... } }()`, so a panicking job is
// reported and the worker takes the next one; a panic that nobody recovers ends the
// program. gocoro's panics are exceptions: the worker catches each job's exception and
// reports it on the results channel (an exception that left a detached goroutine would
// be an unrecovered panic: the program would print it and terminate).
// Checks: 100 jobs, every seventh fails; every job is reported exactly once, the failures
// with their message, and all 4 workers are still there at the end.
#include <cstdio>
#include <exception>
#include <go/go.hpp>
#include <stdexcept>
#include <string>

struct report {
  int job;
  bool ok;
  std::string detail;  // the result, or what went wrong
};

go::task<std::string> process(int job) {
  co_await go::yield();  // some work that suspends
  if (job % 7 == 3) throw std::runtime_error("job " + std::to_string(job) + ": bad input");
  co_return std::to_string(job * job);
}

// One worker: each job under its own catch (Go's deferred recover).
go::task<void> worker(go::recv_only<int> jobs, go::send_only<report> reports, std::atomic<int>* alive) {
  ++*alive;
  while (auto j = co_await jobs.recv()) {
    report r{*j, true, {}};
    try {
      r.detail = co_await process(*j);
    } catch (const std::exception& e) {
      r.ok = false;
      r.detail = e.what();
    }
    co_await reports.send(std::move(r));
  }
}

go::task<int> pool_main() {
  constexpr int workers = 4, njobs = 100;
  auto jobs = go::make_chan<int>(16);
  auto reports = go::make_chan<report>(16);
  std::atomic<int> alive{0};
  go::wait_group wg;
  for (int i = 0; i < workers; ++i) wg.go([&] { return worker(jobs, reports, &alive); });
  auto feeder = go::spawn([jobs]() -> go::task<void> {
    for (int j = 0; j < njobs; ++j) co_await jobs.send(j);
    jobs.close();
  });
  auto closer = go::spawn([&wg, reports]() -> go::task<void> {
    co_await wg.wait();
    reports.close();  // every worker has sent its last report
  });

  std::vector<int> seen(njobs, 0);
  int failed = 0, bad = 0;
  while (auto r = co_await reports.recv()) {
    ++seen[static_cast<std::size_t>(r->job)];
    const bool should_fail = r->job % 7 == 3;
    if (!r->ok) {
      ++failed;
      bad += r->detail != "job " + std::to_string(r->job) + ": bad input";
    }
    bad += r->ok == should_fail;
  }
  co_await feeder;
  co_await closer;
  for (int n : seen) bad += n != 1;
  std::printf("recover_pool: %d jobs, %d failed and were reported, %d workers ran to the end\n", njobs, failed,
              alive.load());
  bad += failed != 14 || alive.load() != workers;
  std::printf("recover_pool: %s\n", bad == 0 ? "ok" : "FAILED");
  co_return bad;
}

int main() { return go::run(pool_main); }
