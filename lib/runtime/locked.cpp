// Go's LockOSThread: a goroutine bound to an OS thread of its own.
//
// `co_await go::lock_os_thread()` parks the goroutine; once it has unwound, its P's
// worker (in the park's unlock function) gives it a thread of its own, a locked_thread,
// and goes on with the other goroutines: the P stays in service. From then on every
// ready() of the goroutine hands it to that thread (g::locked says so), which resumes it
// and runs the park protocol after each of its parks, as a worker does, but holds no P:
// what the goroutine does that needs one (spawn, a timer, a ready) takes the paths for
// threads outside the workers (the global queue, P0's timer heap). No other goroutine
// ever runs on the thread.
//
// go::unlock_os_thread() (a plain call, as in Go) marks the goroutine unlocking; at its
// next suspension the thread clears g::locked before the park is published (so the next
// ready goes to the Ps), hands a yield or a canceled park to the global queue, and ends.
// Nested locks count, as Go's do since 1.10.
//
// Shutdown: stop() joins the locked threads after the workers (a running goroutine
// finishes its step); a goroutine readied but not yet resumed goes to the global queue,
// where the sweep destroys it like any other.
//
// The goroutine dump reads a parked locked goroutine's await chain under the thread's
// `frames` mutex (its thread does not stop with the world); the tracer records each run
// on the thread whole, at its end, on the thread's own track.
#include <pthread.h>

#include "go/error.hpp"
#include "runtime/sched.hpp"

namespace go::detail {


namespace {

enum : std::uint8_t { not_locked = 0, locked = 1, unlocking = 2 };

// A traced run of a locked goroutine, recorded whole (how: its wait reason, trace_yield
// or trace_exit); into the shared buffer, as the thread holds no P.
void trace_locked_run(sched& s, const locked_thread& lt, const g* gp, std::uint64_t t0, std::uint8_t how) {
  trace_ev e;
  e.kind = trace_kind::run;
  e.locked = 1;
  e.goid = gp->id;
  e.stamp = gp->trace_seq;
  e.t0 = t0;
  e.t1 = trace_clock();
  e.prev_end = how;
  e.other = static_cast<std::uint16_t>(lt.number & 0xff);
  s.trace_add(e);
}

// Resume gp until it parks for good (false: wait for the next ready) or leaves the thread
// (true: it exited, or it was unlocking).
bool run_locked(locked_thread& lt, g* gp) {
  sched& s = *lt.s;
  worker_tls& t = tls();
  std::lock_guard frames(lt.frames);
  for (;;) {
    t.cur = gp;
    gp->status.store(g_status::running, memory_order_relaxed);
    t.after = after_resume::exit;
    const std::uint8_t d = s.diag.load(memory_order_relaxed);
    const std::uint64_t t0 = d & diag_trace ? trace_clock() : 0;
    gp->resume_point.resume();
    t.cur = nullptr;
    if (GO_UNLIKELY(d)) {  // before the park is published, as a worker does
      if (t0) {
        const std::uint8_t how = t.after == after_resume::park    ? static_cast<std::uint8_t>(gp->reason.load(memory_order_relaxed))
                                 : t.after == after_resume::yield ? trace_yield
                                                                    : trace_exit;
        trace_locked_run(s, lt, gp, t0, how);
      }
      if ((d & diag_profile) && t.after == after_resume::park) s.stamp_park(gp);
    }
    const bool leaving = gp->locked.load(memory_order_relaxed) == unlocking;
    if (t.after == after_resume::park) {
      if (leaving) {
        gp->locked.store(not_locked, memory_order_relaxed);  // published by the unlock function's release
        if (!t.unlockf(gp, t.unlock_arg)) s.ready(gp);      // the park was canceled: to the Ps
        return true;
      }
      if (t.unlockf(gp, t.unlock_arg)) return false;
      continue;  // the park was canceled: resume it at once
    }
    if (t.after == after_resume::yield) {
      if (leaving) {
        gp->locked.store(not_locked, memory_order_relaxed);
        gp->status.store(g_status::runnable, memory_order_relaxed);
        s.global.push(gp);
        s.idlers.notify_one();
        return true;
      }
      thread_yield();  // no other goroutine may run here: let other threads have the core
      continue;
    }
    gp->locked.store(not_locked, memory_order_relaxed);
    s.exit(gp, /*killed=*/false);
    return true;
  }
}

void locked_main(locked_thread* lt) {
  pthread_setname_np(pthread_self(), (lt->s->opts.thread_name + "-lk").substr(0, 15).c_str());
  tls() = {lt->s, nullptr, nullptr};
  std::unique_lock lock(lt->mu);
  for (;;) {
    lt->cv.wait(lock, [&] { return lt->pending || lt->stop; });
    if (lt->stop) {
      if (g* gp = std::exchange(lt->pending, nullptr)) lt->s->global.push(gp);  // for the shutdown sweep
      break;
    }
    g* gp = std::exchange(lt->pending, nullptr);
    lock.unlock();
    const bool left = run_locked(*lt, gp);
    lock.lock();
    if (left) break;
  }
  lt->done = true;
  tls() = {};
}

// The park's unlock function of lock_os_thread, on the P's worker: the goroutine has
// unwound; give it its thread, which resumes it.
bool start_locked(g* gp, void* arg) noexcept {
  auto* lt = static_cast<locked_thread*>(arg);
  sched& s = *gp->owner;
  if (GO_UNLIKELY(s.diag.load(memory_order_relaxed) & diag_trace)) s.trace_ready(gp, trace_kind::ready);  // the arrow to its thread
  gp->locked.store(locked, memory_order_relaxed);
  lt->pending = gp;  // the thread is not running yet: no lock needed
  try {
    lt->thread = std::thread(locked_main, lt);
  } catch (...) {
    gp->locked.store(not_locked, memory_order_relaxed);
    lt->pending = nullptr;
    return false;  // no thread: the goroutine goes on unlocked (lock_os_thread throws)
  }
  return true;
}

}  // namespace

bool lock_os_thread_suspend(std::coroutine_handle<> h) {
  g* gp = current_g_or_throw("go::lock_os_thread");
  sched& s = *gp->owner;
  if (gp->locked.load(memory_order_relaxed) != not_locked) {  // nested: already on its thread
    if (locked_thread* lt = s.locked_of(gp)) lt->depth++;
    gp->locked.store(locked, memory_order_relaxed);  // (a lock after an unlock, before it took effect)
    return false;
  }
  locked_thread* lt = s.new_locked_thread(gp);
  park(gp, h, wait_reason::park, &start_locked, lt);
  return true;
}

void lock_os_thread_resume() {
  g* gp = current_g();
  if (gp && gp->locked.load(memory_order_relaxed) == not_locked)
    throw error(errc::runtime_stopped, "go::lock_os_thread: no thread could be started for the goroutine");
}

locked_thread* sched::new_locked_thread(g* gp) {
  std::lock_guard lock(locked_mu_);
  // Reap the threads whose goroutines have left them.
  for (auto it = locked_.begin(); it != locked_.end();) {
    bool done;
    {
      std::lock_guard l((*it)->mu);
      done = (*it)->done;
    }
    if (done) {
      if ((*it)->thread.joinable()) (*it)->thread.join();
      it = locked_.erase(it);
    } else {
      ++it;
    }
  }
  auto lt = std::make_unique<locked_thread>();
  lt->s = this;
  lt->gp = gp;
  lt->number = locked_count_++;
  locked_.push_back(std::move(lt));
  return locked_.back().get();
}

// Under locked_mu_: gp's thread, if it has not ended.
locked_thread* sched::find_locked(const g* gp) noexcept {
  for (auto& lt : locked_) {
    std::lock_guard l(lt->mu);
    if (lt->gp == gp && !lt->done) return lt.get();
  }
  return nullptr;
}

locked_thread* sched::locked_of(const g* gp) noexcept {
  std::lock_guard lock(locked_mu_);
  return find_locked(gp);
}

locked_thread* sched::hold_locked_frames(const g* gp) noexcept {
  std::lock_guard lock(locked_mu_);
  locked_thread* lt = find_locked(gp);
  return lt && lt->frames.try_lock() ? lt : nullptr;
}

// Under locked_mu_ throughout, so the thread's state cannot be reaped or cleared while
// we hand it the goroutine (found by TSan: a timer's ready raced with the shutdown).
void sched::ready_locked(g* gp) noexcept {
  std::lock_guard list(locked_mu_);
  for (auto& lt : locked_) {
    std::unique_lock lock(lt->mu);
    if (lt->gp != gp) continue;
    if (lt->done || lt->stop) break;  // its thread is gone or going: the shutdown sweep takes it
    lt->pending = gp;
    lock.unlock();
    lt->cv.notify_one();
    return;
  }
  global.push(gp);
  idlers.notify_one();
}

void sched::stop_locked_threads() noexcept {
  // Join without holding locked_mu_: a locked goroutine finishing its step may look up
  // its thread (unlock_os_thread) or ready another locked goroutine. No thread is added
  // meanwhile (the workers have exited; a locked goroutine's nested lock adds none).
  std::vector<locked_thread*> all;
  {
    std::lock_guard lock(locked_mu_);
    for (auto& lt : locked_) {
      all.push_back(lt.get());
      {
        std::lock_guard l(lt->mu);
        lt->stop = true;
      }
      lt->cv.notify_one();
    }
  }
  for (locked_thread* lt : all)
    if (lt->thread.joinable()) lt->thread.join();
  std::lock_guard lock(locked_mu_);
  locked_.clear();
}

}  // namespace go::detail

namespace go {

void unlock_os_thread() {
  detail::g* gp = detail::current_g_or_throw("go::unlock_os_thread");
  if (gp->locked.load(detail::memory_order_relaxed) != detail::locked)
    throw error(errc::invalid_argument, "go::unlock_os_thread: the goroutine is not locked to a thread");
  detail::locked_thread* lt = gp->owner->locked_of(gp);
  if (lt && --lt->depth > 0) return;
  gp->locked.store(detail::unlocking, detail::memory_order_relaxed);  // leaves its thread at its next suspension
}


}  // namespace go
