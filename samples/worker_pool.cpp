// worker_pool: N workers take jobs from a channel and send results to another; a
// wait_group closes the results channel once every worker is done (Go by Example's
// "Worker Pools", with the close done right).
#include <cstdio>
#include <go/go.hpp>

struct job {
  int id;
  int input;
};
struct result {
  int job_id;
  long output;
};

go::task<void> worker(int id, go::recv_only<job> jobs, go::send_only<result> results, go::wait_group* wg) {
  while (auto j = co_await jobs.recv()) {
    long out = 1;
    for (int k = 2; k <= j->input; ++k) out *= k;  // the "work": a factorial
    co_await results.send(result{j->id, out});
  }
  std::printf("worker %d: no more jobs\n", id);
  wg->done();
}

go::task<int> pool_main() {
  constexpr int workers = 4, jobs_count = 20;
  auto jobs = go::make_chan<job>(jobs_count);
  auto results = go::make_chan<result>(jobs_count);
  go::wait_group wg;
  for (int w = 1; w <= workers; ++w) {
    wg.add(1);
    go::spawn(worker, w, jobs, results, &wg);
  }
  for (int i = 0; i < jobs_count; ++i) co_await jobs.send(job{i, i % 15});
  jobs.close();  // workers drain the channel and stop

  auto closer = [&wg, results]() -> go::task<void> {
    co_await wg.wait();
    results.close();  // only after every worker has sent its last result
  };
  go::spawn(closer);

  int received = 0;
  long total = 0;
  while (auto r = co_await results.recv()) {
    ++received;
    total += r->output;
  }
  std::printf("%d results, total %ld\n", received, total);
  co_return received == jobs_count ? 0 : 1;
}

int main() { return go::run(pool_main); }
