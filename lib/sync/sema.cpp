// sema: the counting semaphore of the sync primitives' slow paths (detail/sema.hpp).
#include "go/detail/sema.hpp"

namespace go::detail {

bool sema::acquire_or_park(waiter* w, std::coroutine_handle<> h, wait_reason why) {
  lock_.lock();
  if (count_ > 0) {  // a release came first (Go's cansemacquire)
    --count_;
    GO_CHECK_INVARIANTS(*this);
    lock_.unlock();
    return false;
  }
  park_on(lock_, waiters_, w, h, why);
  return true;
}

void sema::release(std::uint32_t n) noexcept {
  ready_list woken;
  lock_.lock();
  for (; n > 0; --n) {
    waiter* w = waiters_.pop_front();
    if (!w) break;
    woken.push_back(w);
  }
  count_ += n;
  GO_CHECK_INVARIANTS(*this);
  lock_.unlock();
  ready_all(woken);
}

void sema::cancel(waiter* w) noexcept {
  (void)cancel_wait(lock_, waiters_, w, [&] { GO_CHECK_INVARIANTS(*this); });
}

void sema::check() const noexcept {
  GO_INVARIANT(count_ == 0 || waiters_.empty(), "sema: units counted while waiters wait");
  waiters_.check();
}

}  // namespace go::detail
