// go::mutex (Go's sync.Mutex).
//
// state_ = locked | starving | waiters << 2; waiters_ (FIFO, under lock_) holds the
// parked goroutines. The fast paths are one CAS each; everything else takes lock_.
//
// Missed-wakeup argument: a waiter (1) takes lock_, (2) CASes state_ from a value with
// `locked` set to one with waiters + 1, (3) enqueues and parks. An unlocker (a)
// subtracts `locked` and (b) goes to unlock_slow if anything is left, which takes lock_
// (so waits for (3)) and wakes the head. (2) and (a) are RMWs of one word: if (a) came
// first, the CAS in (2) fails, and the waiter sees the mutex free and takes it; if (2)
// came first, (a) sees the waiter.
//
// Starvation mode (Go's mutex.go, "Mutex fairness"): a waiter that has waited over
// 1 ms and loses again sets `starving` before it queues again (at the front). While it
// is set, try_lock fails for everyone and unlock_slow hands the mutex to the head waiter
// without releasing it. The waiter that receives a handoff clears `starving` if it
// waited less than 1 ms or is the last waiter.
//
// Model-checked: test/model/spin/mutex.pml (scripts/model-check) models both modes with
// three goroutines; with -DOLD it finds the handoff bug 461fafd fixed.
#include "go/sync/mutex.hpp"

#include <chrono>

#include "go/detail/park.hpp"
#include "go/error.hpp"

namespace go {

// 1 ms, Go's starvationThresholdNs: long enough that normal mode's barging rarely
// triggers it, short enough to bound a waiter's wait.
static constexpr auto starvation_threshold = std::chrono::milliseconds(1);

struct mutex::wait_turn {
  mutex& m;
  waiter* w;
  bool starving, lifo, parked = false;
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) { return parked = m.acquire_or_park(w, starving, lifo, h); }
  bool await_resume() const noexcept { return parked; }
};

task<void> mutex::lock_slow(detail::ctx_node* ctx) {
  const auto start = std::chrono::steady_clock::now();
  bool starve = false, lifo = false;
  struct slot_t {  // our waiter, reused for every turn (Go's sudog)
    mutex& m;
    waiter w;
    detail::ctx_wait cw;
    ~slot_t() {  // leave the queue if the goroutine is destroyed while parked
      cw.disarm();
      if (w.queued) m.cancel(&w);
    }
  } slot{*this, {}, {}};
  slot.cw.arm(ctx, &slot.w, this, &remove_waiter);  // throws if ctx is done already
  for (;;) {
    wait_turn turn{*this, &slot.w, starve, lifo};  // named: g++ 12 mishandles temporaries in co_await (PR 107288)
    const bool parked = co_await turn;
    if (slot.w.canceled) slot.cw.check(slot.w);  // throws ctx's error
    if (!parked) co_return;                      // acquired without parking
    const bool waited_long = std::chrono::steady_clock::now() - start > starvation_threshold;
    if (slot.w.handoff) {
      // Starvation mode gave us the mutex. Leave the mode if it is no longer needed.
      if (!waited_long || state_.load(detail::memory_order_relaxed) < one_waiter)
        state_.fetch_and(~starving, detail::memory_order_relaxed);  // the mutex is ours: no one else changes `starving`
      co_return;
    }
    // Woken in normal mode and lost to a barging goroutine, or about to compete.
    starve = starve || waited_long;
    lifo = true;  // Go's queueLifo: a waiter that was woken goes back to the front
  }
}

bool mutex::remove_waiter(void* m, detail::waiter* w) noexcept {
  return static_cast<mutex*>(m)->cancel(static_cast<waiter*>(w));
}

bool mutex::acquire_or_park(waiter* w, bool want_starving, bool lifo, std::coroutine_handle<> h) {
  lock_.lock();
  if (w->stop_requested()) {  // a context canceled the wait (detail/ctx_wait.hpp)
    lock_.unlock();
    return false;
  }
  std::uint32_t s = state_.load(detail::memory_order_relaxed);
  for (;;) {
    if (!(s & (locked | starving))) {
      if (state_.compare_exchange_weak(s, s | locked, detail::memory_order_acquire, detail::memory_order_relaxed)) {
        lock_.unlock();
        return false;
      }
      continue;
    }
    std::uint32_t next = s + one_waiter;
    if (want_starving && (s & locked)) next |= starving;
    // acq_rel: pairs with the CAS in unlock()'s fast path (see the argument above)
    if (state_.compare_exchange_weak(s, next, detail::memory_order_acq_rel, detail::memory_order_relaxed)) break;
  }
  w->handoff = false;
  detail::park_on(lock_, waiters_, w, h, detail::wait_reason::mutex_lock, lifo);
  return true;
}

// Called with the locked bit already dropped (unlock's fast path); rest is the state our
// unlock left. The choice between handoff and wake is made on rest, not on a fresh load
// (as Go's unlockSlow does): `starving` may be set after our release by a waiter that
// saw a barging goroutine holding the mutex, and then the mutex is not ours to hand
// over. If `starving` was set in rest, nobody can have taken the mutex since: everyone
// queues while it is set.
GO_NOINLINE void mutex::unlock_slow(std::uint32_t rest) {
  if (rest & locked) {  // the subtraction borrowed: the mutex was not locked
    state_.fetch_add(locked, detail::memory_order_relaxed);  // undo
    throw error(errc::unlock_of_unlocked, "sync: unlock of unlocked mutex");
  }
  lock_.lock();
  auto* w = static_cast<waiter*>(waiters_.pop_front());
  if (!w) {
    // Nobody to hand over to: leave starvation mode, or newcomers would queue forever.
    if (rest & starving) state_.fetch_and(~starving, detail::memory_order_relaxed);
  } else if (rest & starving) {
    w->handoff = true;  // lock it again on the waiter's behalf; the waiter's acquire is our ready()
    state_.fetch_add(locked - one_waiter, detail::memory_order_relaxed);
  } else {
    state_.fetch_sub(one_waiter, detail::memory_order_relaxed);  // it will compete for the free mutex
  }
  lock_.unlock();
  if (w) detail::ready(w->gp);  // after unlocking (HACKING.md rule 2)
}

bool mutex::cancel(waiter* w) noexcept {
  return detail::cancel_wait(lock_, waiters_, w, [this] {
    state_.fetch_sub(one_waiter, detail::memory_order_relaxed);  // under lock_
  });
}

}  // namespace go
