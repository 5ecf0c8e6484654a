// sysmon: the monitor thread (Go's sysmon). It cannot preempt -- a stackless goroutine
// gives its P back only when it suspends -- so it watches:
//   - a P whose schedtick has not moved for 10 ms while running the same g is counted in
//     the stats (long_running) and, if asked for, reported on stderr;
//   - a P that has had work queued (in runnext or its run queue) for a whole period
//     while it keeps running one g: readying into runnext wakes nobody, and a short
//     queue is left to its owner (worker.cpp), so sysmon wakes an idle worker, which sees
//     the P stuck and steals. This is Go's "sleep 3us, then steal runnext", stretched to
//     one sysmon period, and what Go's preemption achieves for its queues;
//   - timers overdue by a period, on a P stuck in one g while no idle worker looked: it
//     fires them itself (what Go's sysmon achieves by starting an M);
//   - and it prints the GODEBUG=schedtrace line.
//
// sysmon reads only relaxed, owner-written counters: a stale read delays a report by one
// period, never invents one (a report needs the same tick and g seen 10 ms apart).
#include <pthread.h>

#include <cinttypes>
#include <cstdio>

#include "runtime/netpoll.hpp"
#include "runtime/sched.hpp"

namespace go::detail {

namespace {
using clock = std::chrono::steady_clock;
// Go's forcePreemptNS: a g that runs 10 ms is "running too long".
constexpr auto long_run = std::chrono::milliseconds(10);
// Checked twice per long_run while any worker is awake; 10x less often when all sleep
// (Go's sysmon backs off to 10 ms when idle, and sleeps outright when all Ps are idle).
constexpr auto busy_period = std::chrono::milliseconds(5);
constexpr auto idle_period = std::chrono::milliseconds(50);
}  // namespace

void sched::sysmon_main() {
  std::string name = (opts.thread_name + "-sysmon").substr(0, 15);
  pthread_setname_np(pthread_self(), name.c_str());

  struct seen {
    std::uint64_t tick = 0;
    std::uint64_t goid = 0;
    clock::time_point since;
    bool reported = false;
  };
  std::vector<seen> last(nprocs);
  bool dead_seen = false;  // the deadlock check's first look, and what had run by then
  std::uint64_t dead_progress = 0;
  const auto start = clock::now();
  auto next_trace = start + opts.schedtrace;

  std::unique_lock lock(sysmon_mu_);
  for (;;) {
    clock::duration period = idlers.unparked() == 0 ? idle_period : busy_period;
    if (opts.schedtrace.count() > 0) period = std::min<clock::duration>(period, next_trace - clock::now());
    if (sysmon_cv_.wait_for(lock, period, [&] { return sysmon_stop_; })) return;
    const auto now = clock::now();
    coarse_ms.store(static_cast<std::uint32_t>(std::chrono::duration_cast<std::chrono::milliseconds>(now - start).count()),
                    memory_order_relaxed);
    // Go's checkdead: every goroutine blocked, nothing that could wake one, and the same
    // at two looks in a row with no worker having run anything in between.
    if (opts.deadlock_report) {
      std::uint64_t progress = idlers.unparks();
      for (auto& pp : ps) progress += pp->schedtick.load(memory_order_relaxed);
      if (deadlocked()) {
        if (dead_seen && progress == dead_progress) report_deadlock(*this);
        dead_seen = true;
        dead_progress = progress;
      } else {
        dead_seen = false;
      }
    }
    // Timers overdue by a period: their P is stuck in a long goroutine and nobody else
    // looked. Fire them here (their goroutines go to the global queue).
    const std::int64_t late = nanotime() - std::chrono::nanoseconds(busy_period).count();
    for (auto& pp : ps)
      if (pp->timers.next() <= late) timers.run(*pp, nanotime());
    // I/O completions nobody collected for 10 ms (Go's sysmon netpoll): every worker is
    // in a long goroutine. The goroutines they ready go to the global queue.
    if (netpoll* np = io.net(); np && np->has_waiters() && nanotime() - np->last_poll() >= std::chrono::nanoseconds(long_run).count())
      np->poll();
    for (unsigned i = 0; i < nprocs; ++i) {
      std::uint64_t tick = ps[i]->schedtick.load(memory_order_relaxed);
      std::uint64_t goid = ps[i]->cur_goid.load(memory_order_relaxed);
      seen& s = last[i];
      if (goid == 0 || tick != s.tick || goid != s.goid) {
        s = {tick, goid, now, false};
        continue;
      }
      if (ps[i]->runnext.load(memory_order_relaxed) || !ps[i]->q.empty()) idlers.notify_one();
      if (!s.reported && now - s.since >= long_run) {
        s.reported = true;
        long_running_.fetch_add(1, memory_order_relaxed);  // a statistic
        if (opts.warn_long_running)
          std::fprintf(stderr,
                       "go: goroutine %" PRIu64 " has run on P %u for over 10ms without suspending; "
                       "goroutines cannot be preempted: add co_await go::yield() to long loops, or use go::blocking\n",
                       goid, i);
      }
    }
    if (opts.schedtrace.count() > 0 && now >= next_trace) {
      schedtrace_line(start);
      next_trace = now + opts.schedtrace;
    }
  }
}

void sched::schedtrace_line(clock::time_point start) const {
  runtime_stats st = stats();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - start).count();
  std::string queues;
  for (auto n : st.local_queues) {
    if (!queues.empty()) queues += ' ';
    queues += std::to_string(n);
  }
  std::fprintf(stderr,
               "SCHED %lldms: gomaxprocs=%u idleprocs=%u threads=%" PRIu64 " spinningthreads=%u runqueue=%" PRIu64
               " goroutines=%" PRIu64 " steals=%" PRIu64 " [%s]\n",
               static_cast<long long>(ms), nprocs, nprocs - idlers.unparked(), nprocs + 1 + blocking.threads(),
               idlers.searching(), st.global_queue, st.live, st.steals, queues.c_str());
  if (opts.scheddetail) scheddetail_lines();
}

// GODEBUG=scheddetail=1: Go's per-P, per-M and per-G lines. Each M (worker) holds the
// P of its number for life. Relaxed, racy reads of owner-written fields: a snapshot.
void sched::scheddetail_lines() const {
  std::string out;
  char line[256];
  for (const auto& pp : ps) {
    const std::uint64_t cur = pp->cur_goid.load(memory_order_relaxed);
    const g* next = pp->runnext.load(memory_order_relaxed);
    std::snprintf(line, sizeof line,
                  "  P%u: status=%d schedtick=%" PRIu64 " runqsize=%u runnext=%s timerslen=%zu curg=%" PRIu64 "\n", pp->id,
                  cur ? 1 : 0, pp->schedtick.load(memory_order_relaxed), pp->q.size(), next ? "set" : "nil",
                  pp->timers.size(), cur);
    out += line;
  }
  for (const auto& pp : ps) {
    const std::uint64_t cur = pp->cur_goid.load(memory_order_relaxed);
    std::snprintf(line, sizeof line, "  M%u: p=%u curg=%" PRIu64 " idle=%s\n", pp->id, pp->id, cur,
                  cur ? "false" : "true");  // idle: looking for work or asleep
    out += line;
  }
  parked.for_each([&](const g* gp) {  // every goroutine that has parked once (the registry)
    const g_status st = gp->status.load(memory_order_relaxed);
    const char* what = st == g_status::waiting ? to_string(gp->reason.load(memory_order_relaxed))
                       : st == g_status::running ? "running" : "runnable";
    std::snprintf(line, sizeof line, "  G%" PRIu64 ": status=%d(%s)\n", gp->id, static_cast<int>(st), what);
    out += line;
  });
  std::fputs(out.c_str(), stderr);
}

}  // namespace go::detail
