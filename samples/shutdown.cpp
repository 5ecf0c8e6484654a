// shutdown: a worker pool stopped gracefully by a context. Workers take jobs until the
// context is canceled; the producer stops too; main waits for everyone, then reports
// what was done. The same shape serves a server's SIGTERM handling.
#include <atomic>
#include <cstdio>
#include <go/go.hpp>

using namespace std::chrono_literals;

go::task<void> worker(int id, go::context ctx, go::recv_only<int> jobs, std::atomic<long>* done) {
  for (;;) {
    // Go's `select { case j := <-jobs: ... case <-ctx.Done(): return }`
    auto r = co_await go::select(go::recv(jobs), go::recv(ctx.done()));
    if (r.is<1>() || !r.get<0>()) break;  // canceled, or no more jobs
    co_await go::sleep(100us);            // the "work"
    ++*done;
  }
  std::printf("worker %d: stopping (%s)\n", id, ctx.err() ? ctx.err().message().c_str() : "jobs closed");
}

go::task<void> producer(go::context ctx, go::send_only<int> jobs, std::atomic<long>* sent) {
  try {
    for (int i = 0;; ++i) {
      co_await jobs.send(i, ctx);  // gives up with ctx's error once canceled
      ++*sent;
    }
  } catch (const go::error& e) {
    std::printf("producer: %s\n", e.what());
  }
  jobs.close();
}

go::task<int> shutdown_main() {
  auto [ctx, cancel] = go::with_cancel(go::background());
  auto jobs = go::make_chan<int>(16);
  std::atomic<long> sent{0}, done{0};

  go::wait_group wg;
  wg.go([ctx = ctx, jobs, &sent]() { return producer(ctx, jobs, &sent); });
  for (int w = 1; w <= 4; ++w) wg.go([ctx = ctx, jobs, &done, w]() { return worker(w, ctx, jobs, &done); });

  co_await go::sleep(20ms);  // run for a while, then "SIGTERM"
  std::printf("main: shutting down\n");
  cancel();
  co_await wg.wait();  // every goroutine has returned

  std::printf("sent %ld jobs, finished %ld\n", sent.load(), done.load());
  co_return done.load() > 0 && done.load() <= sent.load() ? 0 : 1;
}

int main() { return go::run(shutdown_main); }
