// go::cond: Go's sync.Cond over a go::mutex.
#pragma once

#include <coroutine>
#include <cstdint>

#include "go/detail/spinlock.hpp"
#include "go/detail/waitq.hpp"
#include "go/sync/mutex.hpp"
#include "go/task.hpp"

namespace go {

// Suspends: `co_await c.wait()`, called with the mutex locked, atomically unlocks it and
//   parks; when woken it locks the mutex again before returning (so the caller's guard
//   stays valid). As in Go, check the condition in a loop.
// Wake order: signal() wakes the goroutine that has waited longest; broadcast() wakes
//   all that are waiting at that moment. A goroutine that starts waiting after a
//   signal or broadcast does not take its wakeup (Go's ticket-based notifyList).
// Resumes: readied by signal/broadcast on the caller's P, then it re-locks the mutex.
// Shutdown: a goroutine parked in wait() is destroyed by runtime::stop and leaves the
//   queue.
// Thread safety: signal and broadcast may be called with or without the mutex held.
class cond {
 public:
  explicit cond(mutex& m) noexcept : m_(m) {}
  cond(const cond&) = delete;
  cond& operator=(const cond&) = delete;

  GO_API task<void> wait();
  GO_API void signal();
  GO_API void broadcast();

  mutex& mu() noexcept { return m_; }

 private:
  struct waiter : detail::waiter {
    std::uint64_t ticket = 0;
  };
  struct wait_ticket;
  GO_API bool park_ticket(waiter* w, std::coroutine_handle<> h);
  GO_API void cancel(waiter* w) noexcept;

  mutex& m_;
  detail::spinlock lock_{detail::lock_rank::primitive};
  std::uint64_t wait_ = 0;    // next ticket to hand out; protected by lock_
  std::uint64_t notify_ = 0;  // tickets below this have been notified; protected by lock_
  detail::waitq waiters_;     // protected by lock_ (ticket order)
};

}  // namespace go
