// go::cond (Go's sync.Cond with notifyList tickets).
//
// wait(): (1) take a ticket under lock_, (2) unlock the mutex, (3) park unless the
// ticket was notified meanwhile, (4) lock the mutex again. Taking the ticket before
// unlocking is what makes "unlock and wait" atomic: a signal between (2) and (3)
// advances notify_ past our ticket, and (3) sees it.
// signal(): notify the oldest outstanding ticket, waking its goroutine if it has parked.
// broadcast(): notify every ticket handed out so far.
#include "go/sync/cond.hpp"

#include "go/detail/park.hpp"

namespace go {

struct cond::wait_ticket {
  cond& c;
  waiter* w;
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) { return c.park_ticket(w, h); }
  void await_resume() const noexcept {}
};

task<void> cond::wait() {
  struct cancel_guard {
    cond& c;
    waiter w;
    ~cancel_guard() {
      if (w.queued) c.cancel(&w);
    }
  } slot{*this, {}};
  lock_.lock();
  slot.w.ticket = wait_++;  // (1)
  lock_.unlock();
  m_.unlock();  // (2)
  wait_ticket turn{*this, &slot.w};
  co_await turn;  // (3)
  auto relock = m_.lock();
  (co_await relock).release();  // (4) the caller's guard owns the mutex again
}

bool cond::park_ticket(waiter* w, std::coroutine_handle<> h) {
  detail::current_g_or_throw("cond::wait");
  lock_.lock();
  if (w->ticket < notify_) {  // notified between (1) and now
    lock_.unlock();
    return false;
  }
  // Keep the queue in ticket order, so signal finds the oldest at the front.
  detail::park_on(lock_, waiters_, w, h, detail::wait_reason::cond_wait);
  return true;
}

void cond::signal() {
  lock_.lock();
  if (notify_ == wait_) {  // nobody waits
    lock_.unlock();
    return;
  }
  std::uint64_t t = notify_++;
  waiter* found = nullptr;
  for (auto* w = static_cast<waiter*>(waiters_.front()); w; w = static_cast<waiter*>(w->next))
    if (w->ticket == t) {
      found = w;
      break;
    }
  if (found) waiters_.remove(found);
  lock_.unlock();
  if (found) detail::ready(found->gp);  // else it has not parked yet and will see its ticket notified
}

void cond::broadcast() {
  detail::ready_list woken;
  lock_.lock();
  notify_ = wait_;
  woken = waiters_.take_all();
  lock_.unlock();
  detail::ready_all(woken);
}

void cond::cancel(waiter* w) noexcept {
  (void)detail::cancel_wait(lock_, waiters_, w);
}

}  // namespace go
