// The worker (M) loop (worker.hpp): find a runnable g, run it until it parks, yields or
// exits, repeat (Go's schedule / findRunnable / execute in proc.go).
//
// Where a worker looks for work, in order:
//   1. every 61st tick, the global queue first (fairness for outside spawns/overflow);
//   2. runnext, then the local queue;
//   3. the global queue, taking a fair share into the local queue; then the poller,
//      without blocking, if goroutines wait for I/O (Go's netpoll(0)): the goroutines
//      it readies land here;
//   4. as a searcher (at most half the workers), the other Ps, in a random order: a
//      backlog, or any queue of a P that is polling, is stolen at once (half of it); a
//      short queue or runnext only from a P stuck in one g (steal());
//   5. still nothing: stay a searcher for 2 us, looking every few hundred ns
//      (spin_for_work());
//   6. nothing: go to sleep through the idle protocol (idle.hpp), which re-checks
//      everything this worker could take after announcing the sleep so that no
//      wakeup is lost; one sleeper wakes for the earliest timer, and sleeps in the
//      poller while goroutines wait for I/O (worker::park, netpoll.hpp). A worker that
//      leaves a short queue behind on another P sleeps at most 50 us (backing off to
//      1 ms) and then steals it if that P has been in one goroutine all along (a
//      watch, worker::park).
// Timers: a worker fires its own P's due timers each time it schedules (0), and a
// searcher fires every P's (Go's checkTimers in findRunnable and stealWork).
//
// runnext and fairness. A g readied or spawned by the running g goes to runnext and
// runs next, so a pair talking through a channel runs as a unit, hot in cache. Go lets
// such a pair share one time slice and relies on preemption after 10 ms; a stackless
// goroutine cannot be preempted, so instead (tokio's answer) runnext may be taken at
// most 3 times in a row while the local queue has other work; then it goes to the tail.
//
// Rejected designs:
//   - Handing Ps between Ms (Go): needed when a syscall blocks an M that holds a P. Our
//     blocking calls run on the blocking pool, so each worker keeps its P for life.
//   - A shared MPMC queue for everything: one contended cache line per spawn.
//   - Sleeping 3 us before stealing a running P's runnext (Go's usleep), and spinning
//     50 us with a 3 us patience for short queues (our first design): both split
//     goroutines that talk through a channel or a lock across the cores (a producer
//     filling a buffer runs for tens of microseconds without switching). A watch
//     (worker::park) sleeps instead, and steals after 50 us or more.
//   - Stealing any queued g at once (Go, tokio): it split goroutines that talk through
//     channels across cores; a 4-stage pipeline ran 7x slower on 2 Ps than on 1.
//   - Polling other Ps' queues in a tight loop while spinning: each look stole their hot
//     cache lines (docs/design/scheduler.md).
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "go/detail/assert.hpp"
#include "runtime/worker.hpp"

#include "runtime/netpoll.hpp"
#include "runtime/sched.hpp"

namespace go::detail {

constinit thread_local worker_tls tls_;

namespace {

// Go's schedule(): "Check the global runnable queue once in a while to ensure
// fairness"; 61 is prime so the check does not fall into step with other periods.
constexpr std::uint32_t global_check_interval = 61;
// tokio's MAX_LIFO_POLLS_PER_TICK: how often runnext may cut in front of a non-empty
// local queue before the queue gets a turn.
constexpr std::uint32_t max_runnext_streak = 3;
// Go's findRunnable: stealOrder tries 4 times over all Ps.
constexpr int steal_rounds = 4;
// How long a searcher that found nothing keeps looking before it sleeps: work that
// shows up within this window (a pipeline's next item) is taken without any syscall,
// and producers that see a searcher skip the wake. Go's spinning M looks about this
// long (4 rounds over the Ps). Longer spins measured worse, much worse from 5 us on:
// the spinner took short queues from a P that had been in one g for 3 us, which split
// goroutines that talk through one channel or lock across the cores, where every
// operation bounces a cache line (docs/design/scheduler.md has the numbers).
constexpr auto search_spin = std::chrono::microseconds(2);
// A lone g (a short queue, runnext) is stolen only from a P that has been in one g for
// a whole watch: a P cycling through a few short goroutines runs them soon, and taking
// them would split goroutines that talk to each other (see steal()). The watcher
// sleeps meanwhile (park). The first watch lasts watch_min; each one that
// steals nothing doubles it, up to watch_max; finding work resets it. (Go steals
// runnext after 3 us and queued goroutines at once.)
constexpr std::int64_t watch_min = 50'000, watch_max = 1'000'000;  // ns
// A queue this long is a backlog, stolen without waiting (see steal()). Small enough
// that fine-grained parallel work (thousands of short goroutines) spreads at once.
constexpr std::uint32_t steal_backlog = runq::capacity < 32 ? 2 : 16;
// Pauses between two looks at the queues while spinning: about 0.3-1 us, depending on
// the CPU's pause latency (~40 cycles before Skylake, ~140 since).
constexpr int spin_pauses = 32;

void set_thread_name(const std::string& name) {
  std::string n = name.substr(0, 15);  // the kernel keeps 16 bytes with the NUL
  pthread_setname_np(pthread_self(), n.c_str());
}
}  // namespace

worker::worker(sched& s, p& pp) noexcept : s_(s), pp_(pp), q_(pp.q), steal_seen_(s.nprocs) {}

void worker::main() {
  set_thread_name(s_.opts.thread_name + "-" + std::to_string(pp_.id));
  pp_.rng = 0x9e3779b97f4a7c15ull * (pp_.id + 1);
  tls_ = {&s_, &pp_, this, nullptr};
  if (s_.opts.on_thread_start) s_.opts.on_thread_start();
  while (!s_.stopping()) {
    if (g* gp = find_runnable())
      execute(gp);  // (a stop of the world asked for meanwhile: execute_diag pauses)
    else if (GO_UNLIKELY(s_.stw_requested()))
      s_.stw_pause();  // a dump wants the world stopped
  }
  if (s_.opts.on_thread_stop) s_.opts.on_thread_stop();
  tls_ = {};
}

bool worker::put(g* gp, bool next) noexcept {
#ifdef GO_SCHED_RANDOMIZE
  // Shake out code that assumes a readied g runs next.
  if (next && (pp_.fastrand() & 1)) next = false;
#endif
  if (next) {
    // release publishes gp (and what its readier wrote) to a thief's acquire CAS of
    // runnext; acquire pairs with the exchange that stored the g we kick out.
    gp = pp_.runnext.exchange(gp, memory_order_acq_rel);
    if (!gp) return false;
  }
  if (!q_.push_back(gp)) overflow(gp);
  return true;
}

// The local queue is full: move half of it and gp to the global queue in one batch
// (Go's runqputslow), so the next hundred pushes are cheap again.
void worker::overflow(g* gp) noexcept {
  g* batch[runq::capacity / 2 + 1];
  for (;;) {
    std::uint32_t n = q_.take_half(batch);
    if (n == 0) {
      if (q_.push_back(gp)) return;  // thieves made room meanwhile
      continue;
    }
    batch[n] = gp;
    s_.global.push_batch(batch, n + 1);
    return;
  }
}

g* worker::take_global() noexcept {
  inject& global = s_.global;
  if (global.empty()) return nullptr;
  // A fair share (Go's globrunqget): not more than our part of the queue, nor more than
  // half a local queue.
  std::uint64_t len = global.size();
  std::uint32_t max = static_cast<std::uint32_t>(std::min<std::uint64_t>(len / s_.nprocs + 1, runq::capacity / 2));
  g* batch[runq::capacity / 2];
  const std::uint32_t n = global.pop_batch(batch, max);
  if (n == 0) return nullptr;
  for (std::uint32_t i = 1; i < n; ++i)
    if (!q_.push_back(batch[i])) overflow(batch[i]);
  return batch[0];
}

namespace {
g* take_runnext(atomic<g*>& slot) noexcept {
  g* next = slot.load(memory_order_relaxed);
  // acquire pairs with the release exchange in worker::put(): we see the g's fields.
  if (next && slot.compare_exchange_strong(next, nullptr, memory_order_acquire, memory_order_relaxed)) return next;
  return nullptr;
}

// Whether another P's queue may be stolen now, without a watch: a backlog, or anything
// queued while its worker polls (see steal()). The one rule of steal() and of the idle
// protocol's S2 re-check (work_to_take()).
bool stealable_now(const p& v) noexcept {
  const std::uint32_t n = v.q.size();
  return n >= steal_backlog || (n > 0 && v.polling.load(memory_order_relaxed));
}
}  // namespace

// Steal from another P. A backlog (steal_backlog or more queued) is stolen at once: the
// owner cannot run them all soon. So is any queue of a P whose worker is polling the
// netpoll (p::polling): the goroutines it readies there wait until the poll ends, which
// takes a system call per read it completes (Asio reads as it completes: the echo
// workload's poll of 16 took ~40 us), and goroutines readied by separate I/O
// completions have no partner to be split from. A short queue, or the runnext slot, is
// stolen only once the owner has been busy with one g for a whole watch (patient = true,
// after a watch): an owner cycling through a few short goroutines will run them within
// microseconds, and taking them would split goroutines that talk to each other across
// Ps, making every channel operation between them a cross-core one (measured: 4
// producers and 4 consumers on one channel ran 3x slower split over 2 Ps than on 1).
// This is Go's rule for runnext ("usleep(3) then steal") applied to short queues too.
g* worker::steal(bool patient) noexcept {
  const unsigned nprocs = s_.nprocs;
  for (int round = 0; round < steal_rounds; ++round) {
    const bool last = round == steal_rounds - 1;
    // A random start and a stride coprime to nprocs visit every P once, in an order that
    // differs between thieves (Go's randomOrder).
    std::uint32_t r = pp_.fastrand();
    std::uint32_t pos = r % nprocs;
    std::uint32_t stride = s_.coprimes_[(r >> 16) % s_.coprimes_.size()];
    for (unsigned i = 0; i < nprocs; ++i, pos = (pos + stride) % nprocs) {
      p& victim = *s_.ps[pos];
      if (&victim == &pp_) continue;
      const bool stuck = patient && victim.schedtick.load(memory_order_relaxed) == steal_seen_[pos];
      g* gp = nullptr;
      if (stuck || stealable_now(victim)) gp = victim.q.steal_into(q_);
      if (!gp && last && stuck) gp = take_runnext(victim.runnext);
      if (gp) {
        pp_.steals.inc();
        if (GO_UNLIKELY(s_.trace.on())) {
          trace_ev e;
          e.kind = trace_kind::steal;
          e.t0 = trace_clock();
          e.other = static_cast<std::uint16_t>(pos);
          e.count = 1 + q_.size();  // the one to run and the ones moved over
          e.prev_end = std::exchange(pp_.trace.last_end, 0);
          pp_.trace.add(e);
        }
        return gp;
      }
    }
    if (g* gp = take_global()) return gp;
  }
  return nullptr;
}

// (5) Stay a searcher for a short while, watching the queues cheaply.
g* worker::spin_for_work() noexcept {
  const auto start = std::chrono::steady_clock::now();
  for (unsigned i = 1;; ++i) {
    // Look at the other Ps' queues only every few hundred nanoseconds: each look pulls
    // their hot cache lines (runq tail, runnext) away from their owners, whose next
    // push then stalls on the transfer. Polling in a tight loop made a 2-P pipeline
    // several times slower than a 1-P one.
    for (int k = 0; k < spin_pauses; ++k) cpu_relax();
    if (work_to_take()) {
      if (g* gp = q_.pop()) return gp;  // someone may have handed us a batch
      if (g* gp = take_global()) return gp;
      if (g* gp = steal(/*patient=*/false)) return gp;
    }
    if (s_.stopping()) return nullptr;
    if (i % 4 == 0) {
      if (s_.io.poll(pp_.polling))
        if (g* gp = take_runnext(pp_.runnext)) return gp;
      if (std::chrono::steady_clock::now() - start >= search_spin) return nullptr;
    }
  }
}

// Work this worker could take now: the global queue, its own P's, a backlog on another
// P, or anything queued on a P whose worker is polling. Another short queue is not:
// only an owner pushes to its local queue, so that owner is awake and will run it; only
// a watch may take it (park). This is what the idle protocol's S2 re-checks (idle.hpp).
bool worker::work_to_take() const noexcept {
  if (!s_.global.empty() || !q_.empty() || pp_.runnext.load(memory_order_acquire)) return true;
  for (const auto& v : s_.ps)
    if (v.get() != &pp_ && stealable_now(*v)) return true;
  return false;
}

// Whether another P has a short queue or a runnext that we may not steal yet; notes
// every P's schedtick, so that a watch can tell a stuck P when it wakes.
bool worker::watch_others() noexcept {
  bool any = false;
  for (unsigned i = 0; i < s_.nprocs; ++i) {
    p& v = *s_.ps[i];
    steal_seen_[i] = v.schedtick.load(memory_order_relaxed);
    if (&v != &pp_ && (!v.q.empty() || v.runnext.load(memory_order_relaxed))) any = true;
  }
  return any;
}

g* worker::find_runnable() {
  p& pp = pp_;
  if (GO_UNLIKELY(pp.timers.next() != never)) {  // (0) our own due timers
    std::int64_t now = nanotime();
    if (pp.timers.next() <= now) s_.timers.run(pp, now);
  }
  g* gp = nullptr;
  // (1); the tick's low 32 bits, as Go's is: a 32-bit modulo is a short multiply.
  if (static_cast<std::uint32_t>(pp.schedtick.load(memory_order_relaxed)) % global_check_interval == 0) gp = s_.global.pop();
  if (!gp) {  // (2)
    if (g* next = pp.runnext.load(memory_order_relaxed); next && (runnext_streak_ < max_runnext_streak || q_.empty())) {
      if ((gp = take_runnext(pp.runnext))) ++runnext_streak_;
    } else if (next) {
      // runnext had its turns: it goes behind the others.
      if (g* kicked = take_runnext(pp.runnext); kicked && !q_.push_back(kicked)) overflow(kicked);
    }
    if (!gp) {
      runnext_streak_ = 0;
      gp = q_.pop();
    }
  }
  if (!gp) gp = take_global();  // (3)
  if (!gp && s_.io.poll(pp_.polling)) {  // Go's netpoll(0)
    gp = take_runnext(pp.runnext);
    if (!gp) gp = q_.pop();
  }
  if (!gp) {  // (4)
    if (!searching_) searching_ = s_.idlers.begin_search();
    if (searching_) {
      // Go's stealWork runs other Ps' due timers too: their owners may be busy.
      if (s_.timers.run_all()) gp = pp.runnext.exchange(nullptr, memory_order_acquire);
      if (!gp) gp = q_.pop();
      // Back from a whole watch (not woken early): a P still in the g it ran when we
      // looked is stuck.
      if (!gp) gp = steal(/*patient=*/watching_ && nanotime() >= watch_until_);
      if (!gp) gp = spin_for_work();
    }
  }
  watching_ = false;
  if (gp) {
    watch_ns_ = watch_min;
    if (searching_) {
      searching_ = false;
      if (s_.idlers.end_search()) s_.idlers.notify_one();  // we were the last searcher: get a new one
    }
    return gp;
  }
  if (GO_UNLIKELY(s_.trace.on())) {  // the last run's slice ends here
    trace_ev e;
    e.kind = trace_kind::idle;
    e.t0 = trace_clock();
    e.prev_end = std::exchange(pp.trace.last_end, 0);
    pp.trace.add(e);
  }
  park();             // (5)
  searching_ = true;  // a woken worker comes back as a searcher
  return nullptr;
}

// (5) S1 then S2 of the idle protocol (idle.hpp), then sleep: until woken if no timer is
// pending and no goroutine waits for I/O, else -- for one sleeper, the timed sleeper --
// at most until the earliest timer, in the poller if goroutines wait for I/O. A timer
// added meanwhile is either seen by the sleeper's look at the heaps (T3) or wakes it
// (A3), and an I/O wait begun meanwhile likewise (T4, W2): timed_sleeper.hpp.
void worker::park() noexcept {
  idle& idlers = s_.idlers;
  timed_sleeper& sleeper = s_.timers.sleeper;
  idlers.begin_park(pp_.id, searching_);  // S1
  // Back to looking for work: undo the park (and give back the timed role if we hold it).
  auto give_up = [&](bool timed) {
    if (timed) sleeper.release();
    idlers.cancel_park(pp_.id);
  };
  if (work_to_take() || s_.stopping()) return give_up(false);  // S2
  netpoll* np = s_.io.net();
  std::int64_t deadline = never;
  bool timed = false, io = false;
  // A watch: another P has a short queue we may not take yet. If that P is stuck in one
  // goroutine, its schedtick will not have moved when we wake. Nothing is lost if it
  // moves: it runs its queue itself, and the next watch is longer.
  std::int64_t watch_until = never;
  if (watch_others()) {
    if (watch_ns_ == 0) watch_ns_ = watch_min;
    watch_until = watch_until_ = nanotime() + watch_ns_;
    watch_ns_ = std::min(watch_ns_ * 2, watch_max);
    watching_ = true;
  }
  if ((s_.timers.earliest() != never || (np && np->has_waiters())) && sleeper.claim(pp_.id)) {  // T1, T2
    timed = true;
    deadline = s_.timers.earliest();  // T3
    sleeper.decided(deadline);
    io = np && np->has_waiters();  // T4 (seq_cst)
  }
  const std::int64_t until = std::min(deadline, watch_until);
  if (io) {
    // Only the timed sleeper blocks in the poller, so whoever holds it now is polling
    // without blocking: it is taking the I/O completions there are, and the goroutines
    // they ready land on its P. Do not wait for it (a spin here was 7% of the echo
    // workload's CPU, and blocking after it found the events gone): give up sleeping and
    // look for work again, which may be what that poll just readied. (Go's findrunnable
    // too blocks in netpoll only if no one else is in it.)
    if (!np->try_lock()) return give_up(timed);
    if (idlers.begin_poll(pp_.id)) {
      pp_.parks.inc();
      const std::size_t n = np->wait(until, &pp_.polling);
      if (n > 0 && GO_UNLIKELY(s_.trace.on())) {
        trace_ev e;
        e.kind = trace_kind::poll;
        e.t0 = trace_clock();
        e.count = static_cast<std::uint32_t>(n);
        e.prev_end = std::exchange(pp_.trace.last_end, 0);
        pp_.trace.add(e);
      }
    }
    idlers.end_poll(pp_.id);
    np->unlock();
  } else if (until == never || until > nanotime()) {
    pp_.parks.inc();
    idlers.park(pp_.id, until);
  }
  if (timed) sleeper.release();
  idlers.finish_park(pp_.id);
}

// The scheduling latency (runtime_options::sched_latency): the low 32 bits of the clock
// at ready, kept in the g's wait_since (unused until it parks again), and the difference
// when it runs, modulo 2^32 ns (right for any latency under 4 s).
// A run begins with latency or tracing on: account its wait, record its start.
// The trace alone, the common case, is inline in run_g; the rest is out of line.
GO_ALWAYS_INLINE void worker::diag_run_begin(g* gp, bool first) noexcept {
  p& pp = pp_;
  if (GO_LIKELY(s_.diag.load(memory_order_relaxed) == diag_trace && !first && pp.trace.room())) {
    pp.trace.run_t0 = trace_clock();
    pp.trace.put_run(pp.trace.run_t0, gp->id, gp->trace_seq);
    return;
  }
  diag_run_begin_slow(gp, first);
}

GO_NOINLINE void worker::diag_run_begin_slow(g* gp, bool first) noexcept {
  p& pp = pp_;
  const std::uint8_t d = s_.diag.load(memory_order_relaxed);
  if (d & diag_latency) s_.record_latency(pp, gp);
  if (d & diag_trace) {
    pp.trace.run_t0 = trace_clock();
    pp.trace.add_run(pp.trace.run_t0, gp->id, gp->trace_seq);
    if (first) {  // the root's resume function names the goroutine
      trace_ev e;
      e.kind = trace_kind::name;
      e.goid = gp->id;
      e.t0 = reinterpret_cast<std::uintptr_t>(*static_cast<void* const*>(gp->resume_point.address()));
      pp.trace.add(e);
    }
  }
}

// The run ends (how: its wait reason, trace_yield, trace_exit): the P's next event says so.
GO_ALWAYS_INLINE void worker::diag_run_end(std::uint8_t how) noexcept {
  p& pp = pp_;
  if (!(s_.diag.load(memory_order_relaxed) & diag_trace)) return;
  pp.trace.last_end = how;
  pp.trace.run_t0 = 0;
}

// The diagnostics that watch every run (latency, trace) are decided once per run: with
// them off, the run goes through an instantiation with no diagnostic code at all.
GO_ALWAYS_INLINE void worker::execute(g* gp) noexcept {
  if (GO_UNLIKELY(s_.diag.load(memory_order_relaxed))) return execute_diag(gp);
  run_g<false>(gp);
}

// A diagnostic is on, or a stop of the world is asked for: then pause first, holding gp
// where the dump finds it.
GO_ALWAYS_INLINE void worker::execute_diag(g* gp) noexcept {
  p& pp = pp_;
  if (s_.diag.load(memory_order_relaxed) & diag_stw) {
    pp.in_hand = gp;
    s_.stw_pause();
    pp.in_hand = nullptr;
  }
  if (s_.diag.load(memory_order_relaxed) & ~diag_stw)
    run_g<true>(gp);
  else
    run_g<false>(gp);
}

template <bool Diag>
void worker::run_g(g* gp) noexcept {
  p& pp = pp_;
  pp.schedtick.store(pp.schedtick.load(memory_order_relaxed) + 1, memory_order_relaxed);  // owner-only counter
  pp.cur_goid.store(gp->id, memory_order_relaxed);  // diagnostic
  tls_.cur = gp;
  const bool first = !gp->resume_point;
  if (first) gp->resume_point = gp->ops->start(gp);
  if constexpr (Diag) diag_run_begin(gp, first);
  for (;;) {
    gp->status.store(g_status::running, memory_order_relaxed);  // diagnostic; ordered by the queue handoff
    tls_.after = after_resume::exit;
    gp->resume_point.resume();
    if (tls_.after == after_resume::park) {
      // The stack has unwound: only now may others see the g (park.hpp). If the
      // unlock function cancels the park, run it again at once (Go's park_m).
      if constexpr (Diag) {  // before others see the g
        if (s_.diag.load(memory_order_relaxed) & diag_profile) s_.stamp_park(gp);
        diag_run_end(static_cast<std::uint8_t>(gp->reason.load(memory_order_relaxed)));
      }
      if (tls_.unlockf(gp, tls_.unlock_arg)) break;
      continue;
    }
    if (tls_.after == after_resume::yield) {
      // Go's Gosched: behind everything waiting to run. While the global queue holds
      // goroutines (outside spawns, overflow, timers' readies), that is its tail: at the
      // local tail a yielder would meet the global queue only every 61st tick, and a
      // yield loop on one P would starve it. Else the local tail, which costs no lock.
      gp->status.store(g_status::runnable, memory_order_relaxed);
      pp.yields.inc();
      if constexpr (Diag) {
        if (s_.diag.load(memory_order_relaxed) & diag_latency) s_.stamp_ready(gp);
        diag_run_end(trace_yield);
      }
      if (!s_.global.empty())
        s_.global.push(gp);
      else
        put(gp, /*next=*/false);
      break;
    }
    if constexpr (Diag) diag_run_end(trace_exit);
    s_.exit(gp, /*killed=*/false);
    break;
  }
  tls_.cur = nullptr;
  pp.cur_goid.store(0, memory_order_relaxed);
}

}  // namespace go::detail
