// go::semaphore: a weighted semaphore (golang.org/x/sync/semaphore.Weighted).
#pragma once

#include <coroutine>
#include <cstdint>

#include "go/detail/context_handle.hpp"  // the handle only: no channel, select or timer
#include "go/detail/ctx_wait.hpp"
#include "go/detail/spinlock.hpp"
#include "go/detail/suspension.hpp"
#include "go/detail/waitq.hpp"

namespace go {

// Suspends: `co_await sem.acquire(n)` parks until n units are free and every earlier
//   waiter has been served (FIFO: a large request at the head holds back smaller ones
//   behind it, so nothing starves). try_acquire(n) never suspends.
// Resumes: readied by the release() that made room, on the releaser's P.
// Misuse: acquiring more than the size throws go::error(semaphore_misuse) ("semaphore:
//   acquire more than size"; Go's would block forever); releasing more than is held
//   throws "semaphore: released more than held".
// Shutdown: a goroutine parked in acquire() is destroyed by runtime::stop and leaves
//   the queue (its units were never granted).
// Thread safety: all members may be called concurrently; acquire needs a goroutine.
class semaphore {
 public:
  explicit semaphore(std::int64_t size) noexcept : size_(size) {}
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;

  class [[nodiscard]] acquire_awaiter {
   public:
    acquire_awaiter(semaphore& s, std::int64_t n, detail::ctx_hold ctx = {}) noexcept : s_(s), ctx_(std::move(ctx)) {
      w_.n = n;
    }
    acquire_awaiter(const acquire_awaiter&) = delete;
    ~acquire_awaiter() {
      cw_.disarm();
      if (w_.queued) s_.cancel(&w_);
    }
    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      cw_.arm(ctx_.canceler, &w_, &s_, &remove_waiter);  // throws if ctx is done already
      if (!s_.acquire_or_park(&w_, h)) return false;
      detail::note_suspension(h, GO_SUSPENSION_PC());
      return true;
    }
    void await_resume() { cw_.check(w_); }

   private:
    static bool remove_waiter(void* s, detail::waiter* w) noexcept {
      return static_cast<semaphore*>(s)->cancel(static_cast<waiter*>(w));
    }
    semaphore& s_;
    detail::ctx_hold ctx_;
    detail::ctx_wait cw_;
    struct waiter : detail::waiter {
      std::int64_t n = 0;
    } w_;
    friend class semaphore;
  };

  acquire_awaiter acquire(std::int64_t n = 1) noexcept { return acquire_awaiter(*this, n); }
  // An acquire that ctx cancels (x/sync's Acquire(ctx, n)): throws go::error with ctx's
  // error if ctx is done before the units are granted; nothing is held then, and the
  // waiters behind it move up.
  acquire_awaiter acquire(std::int64_t n, context ctx) noexcept {
    return acquire_awaiter(*this, n, detail::ctx_access::hold(std::move(ctx)));
  }
  GO_API bool try_acquire(std::int64_t n = 1);
  GO_API void release(std::int64_t n = 1);

  std::int64_t size() const noexcept { return size_; }

 private:
  using waiter = acquire_awaiter::waiter;
  GO_API bool acquire_or_park(waiter* w, std::coroutine_handle<> h);
  GO_API bool cancel(waiter* w) noexcept;
  void check(std::int64_t n) const;
  // Grant the head waiters that now fit, in order, into `grant`; under lock_.
  void grant_locked(detail::ready_list& grant) noexcept;

  const std::int64_t size_;
  std::int64_t cur_ = 0;  // units held; protected by lock_
  detail::spinlock lock_{detail::lock_rank::primitive};
  detail::waitq waiters_;  // protected by lock_
};

}  // namespace go
