// A goroutine's life: start, park, ready, yield, exit, and the join protocol between a
// goroutine and its join_handle.
//
// The join protocol. join_state (g.hpp) holds done | waiting | detached | killed | outside.
//   Exit:   prev = fetch_or(done). If prev has detached, nobody will look: free the g
//           (reporting a panic if the task failed). Else if prev has waiting, ready the
//           joiner. Else leave the g for its handle.
//   Join:   set joiner, then fetch_or(waiting). If prev has done, the exit already
//           happened: do not park (the park's unlock function returns false).
//   Detach: prev = fetch_or(detached). If prev has done, free the g now.
// Each side does exactly one RMW, so exactly one side sees the other's bit and acts:
// the g is freed exactly once and a waiting joiner is readied exactly once. All RMWs are
// acq_rel: the exit's release publishes the task's result (and the joiner's acquire
// reads it); the joiner's release publishes `joiner` to the exit's acquire.
#include <cstdio>

#include "go/runtime.hpp"
#include "runtime/sched.hpp"
#include "runtime/worker.hpp"

namespace go::detail {

const char* to_string(wait_reason r) noexcept {
  switch (r) {
    case wait_reason::none: return "";
    case wait_reason::join: return "goroutine join";
    case wait_reason::wait_group: return "sync.WaitGroup.Wait";
    case wait_reason::blocking: return "blocking call";
    case wait_reason::chan_send: return "chan send";
    case wait_reason::chan_receive: return "chan receive";
    case wait_reason::chan_send_nil: return "chan send (nil chan)";
    case wait_reason::chan_receive_nil: return "chan receive (nil chan)";
    case wait_reason::select: return "select";
    case wait_reason::select_no_cases: return "select (no cases)";
    case wait_reason::mutex_lock: return "sync.Mutex.Lock";
    case wait_reason::rwmutex_rlock: return "sync.RWMutex.RLock";
    case wait_reason::rwmutex_lock: return "sync.RWMutex.Lock";
    case wait_reason::cond_wait: return "sync.Cond.Wait";
    case wait_reason::once: return "sync.Once.Do";
    case wait_reason::semaphore: return "semaphore.Acquire";
    case wait_reason::sleep: return "sleep";
    case wait_reason::io: return "IO wait";
    case wait_reason::park: return "park";
  }
  return "?";
}

g* current_g() noexcept { return tls().cur; }

int current_p_index() noexcept {
  p* pp = tls().pp;
  return pp ? static_cast<int>(pp->id) : -1;
}

g* current_g_or_throw(const char* what) {
  if (g* gp = tls().cur) return gp;
  throw error(errc::no_runtime, std::string("go: ") + what + " outside a goroutine (no go::runtime is running this code)");
}

sched* current_sched_or_throw(const char* what) {
  if (sched* s = tls().s) return s;
  throw error(errc::no_runtime, std::string("go: ") + what +
                                    " outside a goroutine (no go::runtime is current on this thread; use runtime::spawn)");
}

void check_block_on_allowed(sched* s) {
  if (tls().s == s)
    throw error(errc::invalid_argument,
                "go: runtime::block_on called on a worker of the same runtime; co_await the join_handle instead");
}

// Out of line on purpose: its return address is the spawn call in the spawner's code
// (spawn and spawn_on are inlined there), which the dump shows as "created by".
GO_NOINLINE void start(sched* s, g* gp) {
  gp->spawn_pc = __builtin_extract_return_addr(__builtin_return_address(0));
  s->start(gp);
}

void sched::start(g* gp) {
  gp->owner = this;
  gp->status.store(g_status::runnable, memory_order_relaxed);
  worker_tls& t = tls();
  if (t.cur) gp->creator = t.cur->id;  // the dump's "created by ... in goroutine N"
  if (t.s == this && t.w) {  // (a locked goroutine's thread holds no P: the outside path)
    p& pp = *t.pp;
    if (pp.goid_next == pp.goid_end) {
      pp.goid_next = goid_gen_.fetch_add(goid_batch, memory_order_relaxed) + 1;  // only uniqueness matters
      pp.goid_end = pp.goid_next + goid_batch;
    }
    gp->id = pp.goid_next++;
    pp.spawned.inc();
    if (GO_UNLIKELY(diag.load(memory_order_relaxed))) diag_ready(gp, /*spawned=*/true);
    // Go's newproc: the new g runs next. Wake a worker only if that left stealable work.
    if (t.w->put(gp, /*next=*/true)) idlers.notify_one();
    return;
  }
  {
    std::lock_guard lock(outside_mu_);
    if (stopping_.load(memory_order_relaxed))  // written under outside_mu_
      throw error(errc::runtime_stopped, "go: spawn on a runtime that is stopping or stopped");
    gp->id = goid_gen_.fetch_add(1, memory_order_relaxed) + 1;
    outside_spawned_.fetch_add(1, memory_order_relaxed);  // a statistic
    if (GO_UNLIKELY(diag.load(memory_order_relaxed))) diag_ready(gp, /*spawned=*/true);
    global.push(gp);
  }
  idlers.notify_one();
}

void ready(g* gp) noexcept { gp->owner->ready(gp); }

// The readier's P (its runnext, as Go's ready() does) or, from outside, the global queue.
GO_ALWAYS_INLINE void sched::ready_to_p(g* gp) noexcept {
  worker_tls& t = tls();
  bool stealable = true;
  if (t.s == this && t.w)
    stealable = t.w->put(gp, /*next=*/true);  // Go's ready(): runnext of the readier's P
  else
    global.push(gp);
  if (stealable && !stopping()) idlers.notify_one();
}

void sched::ready_plain(g* gp) noexcept {
  gp->status.store(g_status::runnable, memory_order_relaxed);
  gp->reason.store(wait_reason::none, memory_order_relaxed);
  ready_to_p(gp);
}

GO_NOINLINE void sched::ready_slow(g* gp) noexcept {
  // (Before the wait reason is cleared: the trace and the block profile read it.)
  if (diag.load(memory_order_relaxed)) diag_ready(gp, /*spawned=*/false);
  gp->status.store(g_status::runnable, memory_order_relaxed);
  gp->reason.store(wait_reason::none, memory_order_relaxed);
  if (gp->locked.load(memory_order_relaxed)) return ready_locked(gp);  // to its own thread
  ready_to_p(gp);
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

void park(g* gp, std::coroutine_handle<> h, wait_reason why, unlock_fn unlockf, void* arg) noexcept {
  worker_tls& t = tls();
  gp->resume_point = h;
  t.after = after_resume::park;
  t.unlockf = unlockf;
  t.unlock_arg = arg;
  gp->reason.store(why, memory_order_relaxed);
  // The dump's coarse wait time (ms); with the block profile, the worker stamps the
  // park's clock in us over it once the goroutine has unwound (sched::stamp_park).
  sched* s = gp->owner;
  gp->wait_since.store(s->coarse_ms.load(memory_order_relaxed), memory_order_relaxed);
  gp->status.store(g_status::waiting, memory_order_relaxed);  // before unlockf publishes the g
  // Registered on its first park only: a g that never parks is always in a run queue or
  // running, where the shutdown finds it without a registry.
  if (gp->reg_shard < 0) s->parked.add(t.pp ? t.pp->id : 0, gp);  // (a locked thread has no P)
}

void yield_current(std::coroutine_handle<> h) {
  g* gp = current_g_or_throw("go::yield");
  gp->resume_point = h;
  tls().after = after_resume::yield;
}

namespace {
void free_finished(g* gp, std::uint8_t state) noexcept {
  if (!(state & join_killed))
    if (std::exception_ptr e = gp->ops->failure(gp)) report_panic(gp->id, e);
  gp->ops->destroy(gp);
}
}  // namespace

void sched::exit(g* gp, bool killed) noexcept {
  parked.remove(gp);
  worker_tls& t = tls();
  if (t.s == this && t.pp)
    t.pp->exited.inc();
  else
    outside_exited_.fetch_add(1, memory_order_relaxed);  // a statistic
  gp->status.store(g_status::dead, memory_order_relaxed);
  const std::uint8_t bits = killed ? join_done | join_killed : join_done;
  std::uint8_t prev = gp->join_state.fetch_or(bits, memory_order_acq_rel);  // see the protocol above
  if (prev & join_detached) {
    free_finished(gp, static_cast<std::uint8_t>(prev | bits));
  } else if (prev & join_waiting) {
    if (prev & join_by_thread)
      static_cast<outside_event*>(gp->joiner)->signal();
    else
      detail::ready(static_cast<g*>(gp->joiner));  // the joiner's own runtime
  }
}

void detach(g* gp) noexcept {
  std::uint8_t prev = gp->join_state.fetch_or(join_detached, memory_order_acq_rel);  // see the protocol above
  if (prev & join_done) free_finished(gp, prev);
}

void release_joined(g* gp) noexcept { gp->ops->destroy(gp); }

namespace {
bool join_unlock(g*, void* arg) noexcept {
  auto* target = static_cast<g*>(arg);
  std::uint8_t prev = target->join_state.fetch_or(join_waiting, memory_order_acq_rel);  // see the protocol above
  return !(prev & join_done);  // already done: don't park
}
}  // namespace

void park_join(g* target, std::coroutine_handle<> h) {
  g* gp = current_g_or_throw("co_await on a join_handle");
  target->joiner = gp;
  park(gp, h, wait_reason::join, &join_unlock, target);
}

void join_outside(g* target, outside_event* ev) {
  target->joiner = ev;
  std::uint8_t prev = target->join_state.fetch_or(join_waiting | join_by_thread, memory_order_acq_rel);
  if (prev & join_done) ev->signal();
}

namespace {
bool submit_unlock(g* gp, void* arg) noexcept {
  // If the pool is stopping the job never runs: the g stays parked and the shutdown
  // destroys it. Either way the g is parked.
  (void)gp->owner->blocking.submit(static_cast<blocking_job*>(arg));
  return true;
}
}  // namespace

void park_blocking(blocking_job* job, std::coroutine_handle<> h) {
  g* gp = current_g_or_throw("go::blocking");
  job->gp = gp;
  park(gp, h, wait_reason::blocking, &submit_unlock, job);
}

}  // namespace go::detail

namespace go {

std::uint64_t this_goroutine::id() noexcept {
  detail::g* gp = detail::tls().cur;
  return gp ? gp->id : 0;
}

}  // namespace go
