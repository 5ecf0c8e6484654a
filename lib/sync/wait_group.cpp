// go::wait_group (Go's sync.WaitGroup).
//
// state_ = counter (signed, high 32 bits) | waiters (low 32 bits). waiters counts the
// goroutines in waiters_ and changes only under lock_; the counter changes by atomic add
// without the lock.
//
// Missed-wakeup argument:
//   Waiter: (1) lock, (2) CAS state_ from a value with counter != 0 to waiters + 1,
//           (3) enqueue, (4) park (the worker unlocks after the stack has unwound).
//   Adder:  (a) fetch_add on the counter; (b) if it made the counter zero and saw
//           waiters > 0, lock and wake everyone queued.
// (2) and (a) are RMWs of one word. If (a) comes first, the CAS in (2) fails or sees
// counter == 0 and the waiter does not park. If (2) comes first, (a) sees waiters > 0,
// and its lock in (b) waits until the waiter's enqueue is done and unlocked.
#include "go/sync/wait_group.hpp"

#include <limits>

#include "go/detail/park.hpp"
#include "go/error.hpp"

namespace go {

namespace {
constexpr std::uint64_t one_count = std::uint64_t{1} << 32;
std::int32_t counter_of(std::uint64_t s) noexcept { return static_cast<std::int32_t>(s >> 32); }
std::uint32_t waiters_of(std::uint64_t s) noexcept { return static_cast<std::uint32_t>(s); }

}  // namespace

void wait_group::add(int delta) {
  const std::uint64_t d = static_cast<std::uint64_t>(static_cast<std::int64_t>(delta)) * one_count;
  // acq_rel: release makes our prior writes visible to the waiters we may wake; acquire
  // pairs with a waiter's CAS (step 2) so that we see it is queued.
  std::uint64_t prev = state_.fetch_add(d, detail::memory_order_acq_rel);
  std::int64_t count = static_cast<std::int64_t>(counter_of(prev)) + delta;
  if (count < 0) {
    state_.fetch_sub(d, detail::memory_order_relaxed);  // undo; nothing was published
    throw error(errc::negative_wait_group, "sync: negative WaitGroup counter");
  }
  if (count > std::numeric_limits<std::int32_t>::max()) {  // the counter has 32 bits: it would wrap
    state_.fetch_sub(d, detail::memory_order_relaxed);
    throw error(errc::invalid_argument, "sync: WaitGroup counter overflow");
  }
  if (count > 0 || waiters_of(prev) == 0) return;
  wake_all();
}

GO_NOINLINE void wait_group::wake_all() noexcept {
  detail::ready_list woken;
  lock_.lock();
  // A new round may have started since our add (add after zero, as a reused WaitGroup
  // does): then the waiters belong to it and wait for its end.
  std::uint64_t s = state_.load(detail::memory_order_acquire);
  if (counter_of(s) == 0) {
    woken = waiters_.take_all();
    // The waiter count changes only under lock_, with the queue: it is the queue's length.
    state_.fetch_sub(waiters_of(s), detail::memory_order_relaxed);
  }
  lock_.unlock();
  detail::ready_all(woken);  // after unlocking (HACKING.md rule 2)
}

bool wait_group::park_wait(detail::waiter* w, std::coroutine_handle<> h) {
  detail::current_g_or_throw("wait_group::wait");
  lock_.lock();  // (1)
  if (w->stop_requested()) {  // a context canceled the wait (detail/ctx_wait.hpp)
    lock_.unlock();
    return false;
  }
  std::uint64_t s = state_.load(detail::memory_order_acquire);
  do {
    if (counter_of(s) == 0) {
      lock_.unlock();
      return false;  // nothing to wait for
    }
  } while (!state_.compare_exchange_weak(s, s + 1, detail::memory_order_acq_rel, detail::memory_order_acquire));  // (2)
  detail::park_on(lock_, waiters_, w, h, detail::wait_reason::wait_group);  // (3) and (4)
  return true;
}

bool wait_group::cancel(detail::waiter* w) noexcept {
  return detail::cancel_wait(lock_, waiters_, w, [this] {
    state_.fetch_sub(1, detail::memory_order_relaxed);  // under lock_
  });
}

}  // namespace go
