// The classic Go channel programs, as tests: prime sieve, pipeline, fan-in, fan-out,
// worker pool.
#include <algorithm>
#include <numeric>
#include <vector>

#include "pipeline.hpp"
#include "support/go_test.hpp"

TEST_SUITE_BEGIN("chan programs");

namespace {
// The concurrent prime sieve from the Go tour / Go's test/chan/sieve1.go.
go::task<void> generate(go::send_only<int> ch) {
  for (int i = 2;; ++i) co_await ch.send(i);
}
go::task<void> filter(go::recv_only<int> in, go::send_only<int> out, int prime) {
  for (;;) {
    int i = *(co_await in.recv());
    if (i % prime != 0) co_await out.send(i);
  }
}
}  // namespace

GO_TEST_CASE_LEAKY("the prime sieve") {  // its filters stay blocked, as in Go's
  auto ch = go::make_chan<int>();
  go::spawn(generate, ch);
  std::vector<int> primes;
  for (int i = 0; i < 100; ++i) {
    int prime = *(co_await ch.recv());
    primes.push_back(prime);
    auto next = go::make_chan<int>();
    go::spawn(filter, ch, next, prime);
    ch = next;
  }
  CHECK(primes.front() == 2);
  CHECK(primes[9] == 29);
  CHECK(primes.back() == 541);
  // The generator and the filters stay blocked; the runtime's stop destroys them.
}

GO_TEST_CASE("the generate -> square -> filter pipeline (the sample's stages)") {
  constexpr long n = 10'000;
  auto c = pipeline::start(n);
  long sum = 0;
  while (auto v = co_await c.recv()) sum += *v;
  long expect = 0;
  for (long i = 2; i <= n; i += 2) expect += i * i;
  CHECK(sum == expect);
}

namespace {
// Fan-in (Go blog "Pipelines and cancellation": merge).
go::chan<int> merge(std::vector<go::chan<int>> ins) {
  auto out = go::make_chan<int>();
  auto wg = std::make_shared<go::wait_group>();
  wg->add(static_cast<int>(ins.size()));
  for (auto& in : ins) {
    auto forward = [in, out, wg]() -> go::task<void> {
      while (auto v = co_await in.recv()) co_await out.send(*v);
      wg->done();
    };
    go::spawn(forward);
  }
  auto closer = [wg, out]() -> go::task<void> {
    co_await wg->wait();
    out.close();
  };
  go::spawn(closer);
  return out;
}
}  // namespace

GO_TEST_CASE("fan-out to workers, fan-in of their results") {
  constexpr int jobs = 2000, workers = 8;
  auto work = go::make_chan<int>(16);
  std::vector<go::chan<int>> results;
  for (int w = 0; w < workers; ++w) {
    auto res = go::make_chan<int>();
    results.push_back(res);
    auto worker = [work, res]() -> go::task<void> {
      while (auto j = co_await work.recv()) co_await res.send(*j * 2);
      res.close();
    };
    go::spawn(worker);
  }
  auto feeder = [work]() -> go::task<void> {
    for (int j = 1; j <= jobs; ++j) co_await work.send(j);
    work.close();
  };
  go::spawn(feeder);
  auto merged = merge(results);
  long sum = 0;
  int count = 0;
  while (auto v = co_await merged.recv()) {
    sum += *v;
    ++count;
  }
  CHECK(count == jobs);
  CHECK(sum == 2L * jobs * (jobs + 1) / 2);
}

GO_TEST_CASE("a worker pool with a jobs channel, a results channel and a wait_group") {
  constexpr int jobs = 1000, workers = 4;
  auto job_ch = go::make_chan<int>(jobs);
  auto result_ch = go::make_chan<int>(jobs);
  go::wait_group wg;
  for (int w = 0; w < workers; ++w) {
    wg.add(1);
    auto worker = [&wg, job_ch, result_ch]() -> go::task<void> {
      while (auto j = co_await job_ch.recv()) co_await result_ch.send(*j + 1);
      wg.done();
    };
    go::spawn(worker);
  }
  for (int j = 0; j < jobs; ++j) co_await job_ch.send(j);
  job_ch.close();
  co_await wg.wait();
  result_ch.close();
  std::vector<int> got;
  while (auto r = co_await result_ch.recv()) got.push_back(*r);
  std::sort(got.begin(), got.end());
  std::vector<int> want(jobs);
  std::iota(want.begin(), want.end(), 1);
  CHECK(got == want);
}

TEST_SUITE_END();
