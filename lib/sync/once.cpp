// go::once (Go's sync.Once): a state word for the fast path, a queue for the callers
// that arrive while f runs.
#include "go/sync/once.hpp"

#include "go/detail/park.hpp"

namespace go {

bool once::begin_or_park(waiter* w, bool* mine, std::coroutine_handle<> h) {
  lock_.lock();
  std::uint32_t s = state_.load(detail::memory_order_relaxed);  // written under lock_
  if (s == finished) {
    lock_.unlock();
    return false;
  }
  if (s == idle) {
    state_.store(running, detail::memory_order_relaxed);
    *mine = true;
    lock_.unlock();
    return false;
  }
  detail::park_on(lock_, waiters_, w, h, detail::wait_reason::once);
  return true;
}

void once::finish() noexcept {
  detail::ready_list woken;
  lock_.lock();
  state_.store(finished, detail::memory_order_release);  // pairs with acquire in done()
  woken = waiters_.take_all();
  lock_.unlock();
  detail::ready_all(woken);
}

void once::cancel(waiter* w) noexcept {
  (void)detail::cancel_wait(lock_, waiters_, w);
}

}  // namespace go
