// go::semaphore (golang.org/x/sync/semaphore.Weighted): FIFO grants, direct handoff.
//
// Invariants (under lock_): 0 <= cur_ <= size_; if waiters_ is not empty, its head does
// not fit (size_ - cur_ < head.n) -- otherwise it would have been granted.
#include "go/sync/semaphore.hpp"

#include "go/detail/park.hpp"
#include "go/error.hpp"

namespace go {

void semaphore::check(std::int64_t n) const {
  if (n < 0) throw error(errc::invalid_argument, "semaphore: negative weight");
  if (n > size_) throw error(errc::semaphore_misuse, "semaphore: acquire more than size");
}

bool semaphore::try_acquire(std::int64_t n) {
  check(n);
  lock_.lock();
  bool ok = waiters_.empty() && size_ - cur_ >= n;  // never jump the queue
  if (ok) cur_ += n;
  lock_.unlock();
  return ok;
}

bool semaphore::acquire_or_park(waiter* w, std::coroutine_handle<> h) {
  check(w->n);
  detail::current_g_or_throw("semaphore::acquire");
  lock_.lock();
  if (waiters_.empty() && size_ - cur_ >= w->n) {
    cur_ += w->n;
    lock_.unlock();
    return false;
  }
  if (w->stop_requested()) {  // a context canceled the wait (detail/ctx_wait.hpp)
    lock_.unlock();
    return false;
  }
  detail::park_on(lock_, waiters_, w, h, detail::wait_reason::semaphore);
  return true;
}

void semaphore::grant_locked(detail::ready_list& grant) noexcept {
  while (auto* w = static_cast<waiter*>(waiters_.front())) {
    if (size_ - cur_ < w->n) break;  // FIFO: a large head request holds back the rest
    cur_ += w->n;
    waiters_.remove(w);
    grant.push_back(w);
  }
}

void semaphore::release(std::int64_t n) {
  detail::ready_list grant;
  lock_.lock();
  if (n < 0 || n > cur_) {
    lock_.unlock();
    throw error(errc::semaphore_misuse, "semaphore: released more than held");
  }
  cur_ -= n;
  grant_locked(grant);
  lock_.unlock();
  detail::ready_all(grant);
}

bool semaphore::cancel(waiter* w) noexcept {
  // Leaving the head may let the next waiters fit (x/sync/semaphore does the same when
  // a context cancels an acquire): ready the granted ones after unlocking.
  detail::ready_list grant;
  const bool queued = detail::cancel_wait(lock_, waiters_, w, [&] { grant_locked(grant); });
  detail::ready_all(grant);
  return queued;
}

}  // namespace go
