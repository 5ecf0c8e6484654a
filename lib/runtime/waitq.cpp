// The shared slow path of the primitives that queue waiters (detail/waitq.hpp): queue
// and park with the lock held, and ready what a waker took off a queue.
#include "go/detail/waitq.hpp"

#include "go/detail/park.hpp"
#include "go/detail/spinlock.hpp"

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
  lock.assert_held();
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
  GO_CHECK_INVARIANTS(q);
  park(gp, h, why, &unlock_primitive, &lock);
}

}  // namespace go::detail
