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
