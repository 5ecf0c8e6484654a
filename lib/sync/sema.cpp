// The shared slow path of the sync primitives: queue and park with the lock held.
#include "go/detail/park.hpp"
#include "go/detail/spinlock.hpp"
#include "go/detail/waitq.hpp"

namespace go::detail {

namespace {
bool unlock_primitive(g*, void* lock) noexcept {
  static_cast<spinlock*>(lock)->unlock();
  return true;
}
}  // namespace

void ready_all(ready_list& q) noexcept {
  while (waiter* w = q.pop_front()) ready(w->gp);
}

void park_on(spinlock& lock, waitq& q, waiter* w, std::coroutine_handle<> h, wait_reason why, bool lifo) {
  g* gp = current_g();
  if (!gp) {
    lock.unlock();
    current_g_or_throw("a blocking sync operation");  // throws
  }
  w->gp = gp;
  if (lifo)
    q.push_front(w);
  else
    q.push_back(w);
  park(gp, h, why, &unlock_primitive, &lock);
}

}  // namespace go::detail

#include "go/detail/sema.hpp"

namespace go::detail {

bool sema::acquire_or_park(waiter* w, std::coroutine_handle<> h, wait_reason why) {
  lock_.lock();
  if (count_ > 0) {  // a release came first (Go's cansemacquire)
    --count_;
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
  lock_.unlock();
  ready_all(woken);
}

void sema::cancel(waiter* w) noexcept {
  lock_.lock();
  if (w->queued) waiters_.remove(w);
  lock_.unlock();
}

}  // namespace go::detail
