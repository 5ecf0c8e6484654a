// go::rwmutex (Go's sync.RWMutex, writer-preferring).
//
// Invariants (under lock_): writer_ implies readers_ == 0; a reader queues only while a
// writer holds or waits (so a waiting writer blocks new readers); a writer queues only
// while someone holds the lock.
#include "go/sync/rwmutex.hpp"

#include "go/detail/park.hpp"
#include "go/error.hpp"

namespace go {

bool rwmutex::try_lock() {
  lock_.lock();
  bool ok = !writer_ && readers_ == 0;
  if (ok) writer_ = true;
  lock_.unlock();
  return ok;
}

bool rwmutex::try_rlock() {
  lock_.lock();
  bool ok = !writer_ && writers_.empty();
  if (ok) ++readers_;
  lock_.unlock();
  return ok;
}

bool rwmutex::acquire_or_park(detail::waiter* w, bool write, std::coroutine_handle<> h) {
  lock_.lock();
  if (write ? (!writer_ && readers_ == 0) : (!writer_ && writers_.empty())) {
    if (write)
      writer_ = true;
    else
      ++readers_;
    lock_.unlock();
    return false;
  }
  detail::park_on(lock_, write ? writers_ : readers_q_, w, h,
                  write ? detail::wait_reason::rwmutex_lock : detail::wait_reason::rwmutex_rlock);
  return true;
}

void rwmutex::unlock_reader() {
  detail::waiter* next = nullptr;
  lock_.lock();
  if (readers_ <= 0) {
    lock_.unlock();
    throw error(errc::unlock_of_unlocked, "sync: RUnlock of unlocked RWMutex");
  }
  if (--readers_ == 0 && (next = writers_.pop_front())) writer_ = true;  // hand over to the first writer
  lock_.unlock();
  if (next) detail::ready(next->gp);
}

void rwmutex::unlock_writer() {
  detail::waitq woken;
  lock_.lock();
  if (!writer_) {
    lock_.unlock();
    throw error(errc::unlock_of_unlocked, "sync: Unlock of unlocked RWMutex");
  }
  writer_ = false;
  // Readers that waited get it first (Go: a writer's Unlock releases the blocked
  // readers); otherwise the next writer.
  while (detail::waiter* r = readers_q_.pop_front()) {
    ++readers_;
    woken.push_back(r);
  }
  if (woken.empty())
    if (detail::waiter* w = writers_.pop_front()) {
      writer_ = true;
      woken.push_back(w);
    }
  lock_.unlock();
  while (detail::waiter* w = woken.pop_front()) detail::ready(w->gp);
}

void rwmutex::cancel(detail::waiter* w, bool write) noexcept {
  detail::waitq woken;
  lock_.lock();
  if (w->queued) {
    (write ? writers_ : readers_q_).remove(w);
    // A departing writer may have been all that held readers back.
    if (write && writers_.empty() && !writer_)
      while (detail::waiter* r = readers_q_.pop_front()) {
        ++readers_;
        woken.push_back(r);
      }
  }
  lock_.unlock();
  while (detail::waiter* r = woken.pop_front()) detail::ready(r->gp);
}

}  // namespace go
