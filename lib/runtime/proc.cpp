// The worker (M) loop: find a runnable g, run it until it parks, yields or exits, repeat
// (Go's schedule / findRunnable / execute in proc.go).
//
// Where a worker looks for work, in order:
//   1. every 61st tick, the global queue first (fairness for outside spawns/overflow);
//   2. runnext, then the local queue;
//   3. the global queue, taking a fair share into the local queue; then the poller,
//      without blocking, if goroutines wait for I/O (Go's netpoll(0)): the goroutines
//      it readies land here;
//   4. as a searcher (at most half the workers), the other Ps, in a random order: a
//      backlog is stolen at once (half of it); a short queue or runnext only from a P
//      stuck in one g (steal());
//   5. still nothing: stay a searcher for 2 us, looking every few hundred ns
//      (spin_for_work());
//   6. nothing: go to sleep through the idle protocol (idle.hpp), which re-checks
//      everything this worker could take after announcing the sleep so that no
//      wakeup is lost; one sleeper wakes for the earliest timer, and sleeps in the
//      poller while goroutines wait for I/O (park_worker, netpoll.hpp). A worker that
//      leaves a short queue behind on another P sleeps at most 50 us (backing off to
//      1 ms) and then steals it if that P has been in one goroutine all along (a
//      watch, park_worker).
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
//     (park_worker) sleeps instead, and steals after 50 us or more.
//   - Stealing any queued g at once (Go, tokio): it split goroutines that talk through
//     channels across cores; a 4-stage pipeline ran 7x slower on 2 Ps than on 1.
//   - Polling other Ps' queues in a tight loop while spinning: each look stole their hot
//     cache lines (docs/design/scheduler.md).
#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <string>

#include "go/detail/assert.hpp"
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
// sleeps meanwhile (park_worker). The first watch lasts watch_min; each one that
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

void sched::worker_main(unsigned id) {
  set_thread_name(opts.thread_name + "-" + std::to_string(id));
  p& pp = *ps[id];
  pp.rng = 0x9e3779b97f4a7c15ull * (id + 1);
  tls_ = {this, &pp, nullptr};
  if (opts.on_thread_start) opts.on_thread_start();
  bool searching = false;
  while (!stopping()) {
    if (g* gp = find_runnable(pp, id, searching))
      execute(pp, gp);  // (a stop of the world asked for meanwhile: execute_diag pauses)
    else if (GO_UNLIKELY(stw_requested()))
      stw_pause();  // a dump wants the world stopped
  }
  if (opts.on_thread_stop) opts.on_thread_stop();
  tls_ = {};
}

bool sched::runq_put(p& pp, g* gp, bool next) noexcept {
#ifdef GO_SCHED_RANDOMIZE
  // Shake out code that assumes a readied g runs next.
  if (next && (pp.fastrand() & 1)) next = false;
#endif
  if (next) {
    // release publishes gp (and what its readier wrote) to a thief's acquire CAS of
    // runnext; acquire pairs with the exchange that stored the g we kick out.
    gp = pp.runnext.exchange(gp, memory_order_acq_rel);
    if (!gp) return false;
  }
  if (!pp.q.push_back(gp)) runq_overflow(pp, gp);
  return true;
}

// The local queue is full: move half of it and gp to the global queue in one batch
// (Go's runqputslow), so the next hundred pushes are cheap again.
void sched::runq_overflow(p& pp, g* gp) noexcept {
  g* batch[runq::capacity / 2 + 1];
  for (;;) {
    std::uint32_t n = pp.q.take_half(batch);
    if (n == 0) {
      if (pp.q.push_back(gp)) return;  // thieves made room meanwhile
      continue;
    }
    batch[n] = gp;
    global.push_batch(batch, n + 1);
    return;
  }
}

g* sched::take_global(p& pp) noexcept {
  if (global.empty()) return nullptr;
  // A fair share (Go's globrunqget): not more than our part of the queue, nor more than
  // half a local queue.
  std::uint64_t len = global.size();
  std::uint32_t max = static_cast<std::uint32_t>(std::min<std::uint64_t>(len / nprocs + 1, runq::capacity / 2));
  g* batch[runq::capacity / 2];
  const std::uint32_t n = global.pop_batch(batch, max);
  if (n == 0) return nullptr;
  for (std::uint32_t i = 1; i < n; ++i)
    if (!pp.q.push_back(batch[i])) runq_overflow(pp, batch[i]);
  return batch[0];
}

namespace {
g* take_runnext(atomic<g*>& slot) noexcept {
  g* next = slot.load(memory_order_relaxed);
  // acquire pairs with the release exchange in runq_put(): we see the g's fields.
  if (next && slot.compare_exchange_strong(next, nullptr, memory_order_acquire, memory_order_relaxed)) return next;
  return nullptr;
}
}  // namespace

// Steal from another P. A backlog (steal_backlog or more queued) is stolen at once: the
// owner cannot run them all soon. A short queue, or the runnext slot, is stolen only once
// the owner has been busy with one g for a whole watch (patient = true, after a watch):
// an owner cycling through a few short goroutines will run them within microseconds,
// and taking them would split goroutines that talk to each other across Ps, making
// every channel operation between them a cross-core one (measured: 4 producers and 4
// consumers on one channel ran 3x slower split over 2 Ps than on 1). This is Go's rule
// for runnext ("usleep(3) then steal") applied to short queues too.
g* sched::steal(p& pp, bool patient) noexcept {
  for (int round = 0; round < steal_rounds; ++round) {
    const bool last = round == steal_rounds - 1;
    // A random start and a stride coprime to nprocs visit every P once, in an order that
    // differs between thieves (Go's randomOrder).
    std::uint32_t r = pp.fastrand();
    std::uint32_t pos = r % nprocs;
    std::uint32_t stride = coprimes_[(r >> 16) % coprimes_.size()];
    for (unsigned i = 0; i < nprocs; ++i, pos = (pos + stride) % nprocs) {
      p& victim = *ps[pos];
      if (&victim == &pp) continue;
      const bool stuck = patient && victim.schedtick.load(memory_order_relaxed) == pp.steal_seen[pos];
      g* gp = nullptr;
      if (stuck || victim.q.size() >= steal_backlog) gp = victim.q.steal_into(pp.q);
      if (!gp && last && stuck) gp = take_runnext(victim.runnext);
      if (gp) {
        pp.steals.inc();
        if (GO_UNLIKELY(trace.on())) {
          trace_ev e;
          e.kind = trace_kind::steal;
          e.t0 = trace_clock();
          e.other = static_cast<std::uint16_t>(pos);
          e.count = 1 + pp.q.size();  // the one to run and the ones moved over
          e.prev_end = std::exchange(pp.trace.last_end, 0);
          pp.trace.add(e);
        }
        return gp;
      }
    }
    if (g* gp = take_global(pp)) return gp;
  }
  return nullptr;
}

// (5) Stay a searcher for a short while, watching the queues cheaply.
g* sched::spin_for_work(p& pp) noexcept {
  const auto start = std::chrono::steady_clock::now();
  for (unsigned i = 1;; ++i) {
    // Look at the other Ps' queues only every few hundred nanoseconds: each look pulls
    // their hot cache lines (runq tail, runnext) away from their owners, whose next
    // push then stalls on the transfer. Polling in a tight loop made a 2-P pipeline
    // several times slower than a 1-P one.
    for (int k = 0; k < spin_pauses; ++k) cpu_relax();
    if (work_to_take(pp)) {
      if (g* gp = pp.q.pop()) return gp;  // someone may have handed us a batch
      if (g* gp = take_global(pp)) return gp;
      if (g* gp = steal(pp, /*patient=*/false)) return gp;
    }
    if (stopping()) return nullptr;
    if (i % 4 == 0) {
      if (poll_io())
        if (g* gp = take_runnext(pp.runnext)) return gp;
      if (std::chrono::steady_clock::now() - start >= search_spin) return nullptr;
    }
  }
}

// Work this worker could take now: the global queue, its own P's, or a backlog on
// another P. A short queue on another P is not: only an owner pushes to its local
// queue, so that owner is awake and will run it; only a watch may take it
// (park_worker). This is what the idle protocol's S2 re-checks (idle.hpp).
bool sched::work_to_take(const p& pp) const noexcept {
  if (!global.empty() || !pp.q.empty() || pp.runnext.load(memory_order_acquire)) return true;
  for (const auto& v : ps)
    if (v.get() != &pp && v->q.size() >= steal_backlog) return true;
  return false;
}

// Whether another P has a short queue or a runnext that we may not steal yet; notes
// every P's schedtick, so that a watch can tell a stuck P when it wakes.
bool sched::watch_others(p& pp) noexcept {
  bool any = false;
  for (unsigned i = 0; i < nprocs; ++i) {
    p& v = *ps[i];
    pp.steal_seen[i] = v.schedtick.load(memory_order_relaxed);
    if (&v != &pp && (!v.q.empty() || v.runnext.load(memory_order_relaxed))) any = true;
  }
  return any;
}

g* sched::find_runnable(p& pp, unsigned id, bool& searching) {
  if (GO_UNLIKELY(pp.timers.next() != never)) {  // (0) our own due timers
    std::int64_t now = nanotime();
    if (pp.timers.next() <= now) run_timers(pp, now);
  }
  g* gp = nullptr;
  // (1); the tick's low 32 bits, as Go's is: a 32-bit modulo is a short multiply.
  if (static_cast<std::uint32_t>(pp.schedtick.load(memory_order_relaxed)) % global_check_interval == 0) gp = global.pop();
  if (!gp) {  // (2)
    if (g* next = pp.runnext.load(memory_order_relaxed);
        next && (pp.runnext_streak < max_runnext_streak || pp.q.empty())) {
      if ((gp = take_runnext(pp.runnext))) ++pp.runnext_streak;
    } else if (next) {
      // runnext had its turns: it goes behind the others.
      if (g* kicked = take_runnext(pp.runnext); kicked && !pp.q.push_back(kicked)) runq_overflow(pp, kicked);
    }
    if (!gp) {
      pp.runnext_streak = 0;
      gp = pp.q.pop();
    }
  }
  if (!gp) gp = take_global(pp);  // (3)
  if (!gp && poll_io()) {
    gp = take_runnext(pp.runnext);
    if (!gp) gp = pp.q.pop();
  }
  if (!gp) {                      // (4)
    if (!searching) searching = idlers.begin_search();
    if (searching) {
      // Go's stealWork runs other Ps' due timers too: their owners may be busy.
      if (run_all_timers()) gp = pp.runnext.exchange(nullptr, memory_order_acquire);
      if (!gp) gp = pp.q.pop();
      // Back from a whole watch (not woken early): a P still in the g it ran when we
      // looked is stuck.
      if (!gp) gp = steal(pp, /*patient=*/pp.watching && nanotime() >= pp.watch_until);
      if (!gp) gp = spin_for_work(pp);
    }
  }
  pp.watching = false;
  if (gp) {
    pp.watch_ns = watch_min;
    if (searching) {
      searching = false;
      if (idlers.end_search()) idlers.notify_one();  // we were the last searcher: get a new one
    }
    return gp;
  }
  if (GO_UNLIKELY(trace.on())) {  // the last run's slice ends here
    trace_ev e;
    e.kind = trace_kind::idle;
    e.t0 = trace_clock();
    e.prev_end = std::exchange(pp.trace.last_end, 0);
    pp.trace.add(e);
  }
  park_worker(pp, id, searching);  // (5)
  searching = true;     // a woken worker comes back as a searcher
  return nullptr;
}

// (5) S1 then S2 of the idle protocol (idle.hpp), then sleep: until woken if no timer is
// pending and no goroutine waits for I/O, else -- for one sleeper, the timed sleeper --
// at most until the earliest timer, in the poller if goroutines wait for I/O. A timer
// added meanwhile is either seen by the sleeper's look at the heaps or wakes it: the
// sleeper publishes poll_until_ = never ("deciding"), fences, reads every heap's head;
// add_timer publishes the timer, fences, reads poll_until_ (Dekker, as in idle.hpp). An
// I/O wait begun meanwhile is seen the same way (io_wait_begin).
void sched::park_worker(p& pp, unsigned id, bool searching) noexcept {
  idlers.begin_park(id, searching);
  if (work_to_take(pp) || stopping()) {
    idlers.cancel_park(id);
    return;
  }
  netpoll* np = net();
  std::int64_t deadline = never;
  bool timed = false, io = false;
  // A watch: another P has a short queue we may not take yet. If that P is stuck in one
  // goroutine, its schedtick will not have moved when we wake. Nothing is lost if it
  // moves: it runs its queue itself, and the next watch is longer.
  std::int64_t watch_until = never;
  if (watch_others(pp)) {
    if (pp.watch_ns == 0) pp.watch_ns = watch_min;
    watch_until = pp.watch_until = nanotime() + pp.watch_ns;
    pp.watch_ns = std::min(pp.watch_ns * 2, watch_max);
    pp.watching = true;
  }
  if (earliest_timer() != never || (np && np->has_waiters())) {
    int none = -1;
    if (timed_sleeper_.compare_exchange_strong(none, static_cast<int>(id), memory_order_seq_cst,
                                               memory_order_relaxed)) {
      timed = true;
      poll_until_.store(never, memory_order_relaxed);
      fence(memory_order_seq_cst);  // pairs with the fence in add_timer
      deadline = earliest_timer();
      poll_until_.store(deadline, memory_order_relaxed);
      io = np && np->has_waiters();  // seq_cst: pairs with io_wait_begin
    }
  }
  const std::int64_t until = std::min(deadline, watch_until);
  if (io) {
    // Only the timed sleeper blocks in the poller, so whoever holds it now is polling
    // without blocking: it is taking the I/O completions there are, and the goroutines
    // they ready land on its P. Do not wait for it (a spin here was 7% of the echo
    // workload's CPU, and blocking after it found the events gone): give up sleeping and
    // look for work again, which may be what that poll just readied. (Go's findrunnable
    // too blocks in netpoll only if no one else is in it.)
    if (!np->try_lock()) {
      timed_sleeper_.store(-1, memory_order_release);
      idlers.cancel_park(id);
      return;
    }
    if (idlers.begin_poll(id)) {
      pp.parks.inc();
      const std::size_t n = np->wait(until);
      if (n > 0 && GO_UNLIKELY(trace.on())) {
        trace_ev e;
        e.kind = trace_kind::poll;
        e.t0 = trace_clock();
        e.count = static_cast<std::uint32_t>(n);
        e.prev_end = std::exchange(pp.trace.last_end, 0);
        pp.trace.add(e);
      }
    }
    idlers.end_poll(id);
    np->unlock();
  } else if (until == never || until > nanotime()) {
    pp.parks.inc();
    idlers.park(id, until);
  }
  if (timed) timed_sleeper_.store(-1, memory_order_release);
  idlers.finish_park(id);
}

void sched::add_timer(p& pp, timer_node* t, std::int64_t when) noexcept {
  // Not the earliest of its heap: whoever sleeps with a deadline wakes for an earlier one.
  if (!pp.timers.add(t, when)) return;
  fence(memory_order_seq_cst);  // pairs with the fence in park_worker
  int sleeper = timed_sleeper_.load(memory_order_relaxed);
  if (sleeper >= 0) {
    if (when < poll_until_.load(memory_order_relaxed)) idlers.wake(static_cast<unsigned>(sleeper));
    return;
  }
  // No timed sleeper: the worker adding to its own heap looks at it whenever it
  // schedules, and sleeps with a deadline if it goes idle (sysmon covers one stuck in a
  // long goroutine).
}

// The scheduling latency (runtime_options::sched_latency): the low 32 bits of the clock
// at ready, kept in the g's wait_since (unused until it parks again), and the difference
// when it runs, modulo 2^32 ns (right for any latency under 4 s).
// A run begins with latency or tracing on: account its wait, record its start.
// The trace alone, the common case, is inline in run_g; the rest is out of line.
GO_ALWAYS_INLINE void sched::diag_run_begin(p& pp, g* gp, bool first) noexcept {
  if (GO_LIKELY(diag.load(memory_order_relaxed) == diag_trace && !first && pp.trace.room())) {
    pp.trace.run_t0 = trace_clock();
    pp.trace.put_run(pp.trace.run_t0, gp->id, gp->trace_seq);
    return;
  }
  diag_run_begin_slow(pp, gp, first);
}

GO_NOINLINE void sched::diag_run_begin_slow(p& pp, g* gp, bool first) noexcept {
  const std::uint8_t d = diag.load(memory_order_relaxed);
  if (d & diag_latency) record_latency(pp, gp);
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
GO_ALWAYS_INLINE void sched::diag_run_end(p& pp, std::uint8_t how) noexcept {
  if (!(diag.load(memory_order_relaxed) & diag_trace)) return;
  pp.trace.last_end = how;
  pp.trace.run_t0 = 0;
}

// The rest of diag_ready (sched.hpp): the block profile accounts the wait (before a stamp
// reuses wait_since), the latency stamps the g, the trace records the arrow's tail.
GO_NOINLINE void sched::diag_ready_slow(g* gp, trace_kind kind) noexcept {
  const std::uint8_t d = diag.load(memory_order_relaxed);
  if ((d & diag_profile) && kind == trace_kind::ready) profile_block(gp);
  if (d & diag_latency) stamp_ready(gp);
  if (d & diag_trace) trace_ready(gp, kind);
}

// The tail of a trace arrow. Inside a run on this P it has no time of its own (the run's
// start) and goes straight into the P's buffer; elsewhere it reads the clock.
// The arrow's id: the goroutine and the count of its readies, which its next run reports
// (the readier owns the parked g until the ready publishes it).
void sched::trace_ready(g* gp, trace_kind kind) noexcept {
  if (GO_LIKELY(trace_ready_in_run(gp, kind))) return;
  trace_ready_slow(gp, kind);
}

// A ready outside a run (its own clock read), or one that fills the P's chunk.
GO_NOINLINE void sched::trace_ready_slow(g* gp, trace_kind kind) noexcept {
  const std::uint32_t stamp = ++gp->trace_seq;
  p* pp = tls_.s == this ? tls_.pp : nullptr;
  const bool from_blocking = gp->reason.load(memory_order_relaxed) == wait_reason::blocking;
  if (pp && pp->trace.run_t0 != 0) {
    pp->trace.add_ready_in_run(kind == trace_kind::spawn, gp->id, stamp, from_blocking);
    return;
  }
  trace_ev e;
  e.kind = kind;
  e.goid = gp->id;
  e.stamp = stamp;
  e.from_blocking = from_blocking;
  e.own_time = 1;
  e.t0 = trace_clock();
  trace_add(e);
}

void sched::stamp_park(g* gp) noexcept { gp->wait_since.store(static_cast<std::uint32_t>(nanotime() / 1000), memory_order_relaxed); }

void sched::stamp_ready(g* gp) noexcept { gp->wait_since.store(static_cast<std::uint32_t>(nanotime()), memory_order_relaxed); }

void sched::record_latency(p& pp, g* gp) noexcept {
  const std::uint32_t ns = static_cast<std::uint32_t>(nanotime()) - gp->wait_since.load(memory_order_relaxed);
  const int bucket = ns == 0 ? 0 : 31 - __builtin_clz(ns);
  pp.latency[bucket].inc();
}

bool sched::run_timers(p& pp, std::int64_t now) noexcept {
  bool any = false;
  for (;;) {
    fire_batch b;
    pp.timers.run(now, b);
    if (const int fired = b.nready + b.nlater) {
      timers_fired_.fetch_add(static_cast<std::uint64_t>(fired), memory_order_relaxed);
      if (GO_UNLIKELY(trace.on())) {
        trace_ev e;
        e.kind = trace_kind::timers;
        e.t0 = trace_clock();
        e.count = static_cast<std::uint32_t>(fired);
        trace_add(e);
      }
    }
    for (int i = 0; i < b.nready; ++i) ready(b.ready[i]);
    for (int i = 0; i < b.nlater; ++i) b.later[i]->ops->later(b.later[i], this);
    any = any || b.nready > 0 || b.nlater > 0;
    if (!b.full()) return any;
  }
}

bool sched::run_all_timers() noexcept {
  std::int64_t first = earliest_timer();
  if (first == never) return false;
  std::int64_t now = nanotime();
  if (first > now) return false;
  bool any = false;
  for (auto& q : ps)
    if (q->timers.next() <= now) any = run_timers(*q, now) || any;
  return any;
}

std::int64_t sched::earliest_timer() const noexcept {
  std::int64_t first = never;
  for (const auto& q : ps) first = std::min(first, q->timers.next());
  return first;
}

// The diagnostics that watch every run (latency, trace) are decided once per run: with
// them off, the run goes through an instantiation with no diagnostic code at all.
GO_ALWAYS_INLINE void sched::execute(p& pp, g* gp) noexcept {
  if (GO_UNLIKELY(diag.load(memory_order_relaxed))) return execute_diag(pp, gp);
  run_g<false>(pp, gp);
}

// A diagnostic is on, or a stop of the world is asked for: then pause first, holding gp
// where the dump finds it.
GO_ALWAYS_INLINE void sched::execute_diag(p& pp, g* gp) noexcept {
  if (diag.load(memory_order_relaxed) & diag_stw) {
    pp.in_hand = gp;
    stw_pause();
    pp.in_hand = nullptr;
  }
  if (diag.load(memory_order_relaxed) & ~diag_stw)
    run_g<true>(pp, gp);
  else
    run_g<false>(pp, gp);
}

template <bool Diag>
void sched::run_g(p& pp, g* gp) noexcept {
  pp.schedtick.store(pp.schedtick.load(memory_order_relaxed) + 1, memory_order_relaxed);  // owner-only counter
  pp.cur_goid.store(gp->id, memory_order_relaxed);  // diagnostic
  tls_.cur = gp;
  const bool first = !gp->resume_point;
  if (first) gp->resume_point = gp->ops->start(gp);
  if constexpr (Diag) diag_run_begin(pp, gp, first);
  for (;;) {
    gp->status.store(g_status::running, memory_order_relaxed);  // diagnostic; ordered by the queue handoff
    tls_.after = after_resume::exit;
    gp->resume_point.resume();
    if (tls_.after == after_resume::park) {
      // The stack has unwound: only now may others see the g (park.hpp). If the
      // unlock function cancels the park, run it again at once (Go's park_m).
      if constexpr (Diag) {  // before others see the g
        if (diag.load(memory_order_relaxed) & diag_profile) stamp_park(gp);
        diag_run_end(pp, static_cast<std::uint8_t>(gp->reason.load(memory_order_relaxed)));
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
        if (diag.load(memory_order_relaxed) & diag_latency) stamp_ready(gp);
        diag_run_end(pp, trace_yield);
      }
      if (!global.empty())
        global.push(gp);
      else
        runq_put(pp, gp, /*next=*/false);
      break;
    }
    if constexpr (Diag) diag_run_end(pp, trace_exit);
    exit(gp, /*killed=*/false);
    break;
  }
  tls_.cur = nullptr;
  pp.cur_goid.store(0, memory_order_relaxed);
}

}  // namespace go::detail
