// A goroutine-count monitor (the seeds' NumGoroutine watcher): a handler leaks one
// goroutine per request (it waits on a reply channel nobody answers); a monitor goroutine
// watches go::num_goroutine() and runtime_stats on a ticker, warns when the count keeps
// climbing and says where the goroutines wait; then the leak is fixed (the channel is
// closed) and the monitor sees the count fall back. Exits 0 if it saw both.
#include <cstdio>

#include <go/go.hpp>

using namespace std::chrono_literals;

namespace {

go::task<void> handle(int request, go::recv_only<int> reply) {
  (void)request;
  (void)co_await reply.recv();  // the leak: nobody sends; only close() lets these go
}

go::task<void> serve(go::chan<int> reply, go::recv_only<std::monostate> stop) {
  for (int request = 0;; ++request) {
    if (stop.try_recv().closed) co_return;
    go::spawn(handle, request, reply);
    co_await go::sleep(200us);
  }
}

go::task<int> main_task() {
  auto reply = go::make_chan<int>();
  auto stop = go::make_chan<std::monostate>();
  auto server = go::spawn(serve, reply, stop);
  const std::uint64_t base = go::num_goroutine();
  go::ticker tick(20ms);
  std::uint64_t last = base;
  int climbing = 0;
  bool warned = false;
  for (int round = 0; round < 500; ++round) {
    (void)co_await tick.c().recv();
    const std::uint64_t now = go::num_goroutine();
    climbing = now > last + 10 ? climbing + 1 : 0;
    last = now;
    if (climbing == 3 && !warned) {
      warned = true;
      const go::runtime_stats st = go::runtime::current()->stats();
      std::printf("warning: goroutines climbing: %llu (started with %llu)\n", static_cast<unsigned long long>(now),
                  static_cast<unsigned long long>(base));
      for (const auto& [reason, n] : st.waiting_by_reason)
        std::printf("  %llu waiting: %s\n", static_cast<unsigned long long>(n), reason.c_str());
      std::printf("  running %llu, runnable %llu, parks %llu, timers fired %llu\n",
                  static_cast<unsigned long long>(st.running), static_cast<unsigned long long>(st.runnable),
                  static_cast<unsigned long long>(st.parks), static_cast<unsigned long long>(st.timers_fired));
      stop.close();   // stop taking requests...
      reply.close();  // ...and fix the leak: every handler's receive ends
      co_await server;
    }
    if (warned && now <= base) {
      std::printf("goroutines back to %llu: the leak is gone\n", static_cast<unsigned long long>(now));
      co_return 0;
    }
  }
  std::printf("the monitor saw no leak, or no end to it\n");
  co_return 1;
}

}  // namespace

int main() { return go::run(main_task); }
