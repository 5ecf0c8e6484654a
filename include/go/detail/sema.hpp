// sema: a counting semaphore that parks goroutines (Go's runtime semacquire /
// semrelease), for the slow paths of the sync primitives.
//
// Invariants (under lock_): count_ > 0 implies waiters_ is empty (a release with
// waiters queued wakes them instead of counting).
#pragma once

#include <coroutine>
#include <cstdint>

#include "go/config.hpp"
#include "go/detail/suspension.hpp"
#include "go/detail/spinlock.hpp"
#include "go/detail/waitq.hpp"

namespace go::detail {

class sema {
 public:
  sema() noexcept = default;
  sema(const sema&) = delete;
  sema& operator=(const sema&) = delete;

  // Take a unit: at once if one is counted (returns false), else park (returns true).
  GO_API bool acquire_or_park(waiter* w, std::coroutine_handle<> h, wait_reason why);
  // Give n units: wake up to n waiters in FIFO order, count the rest.
  GO_API void release(std::uint32_t n) noexcept;
  GO_API void cancel(waiter* w) noexcept;
  // The invariants above; the caller holds the lock (GO_CHECK_INVARIANTS, assert.hpp).
  GO_API void check() const noexcept;

  class [[nodiscard]] awaiter {
   public:
    awaiter(sema& s, wait_reason why) noexcept : s_(s), why_(why) {}
    awaiter(const awaiter&) = delete;
    ~awaiter() {
      if (w_.queued) s_.cancel(&w_);
    }
    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      if (!s_.acquire_or_park(&w_, h, why_)) return false;
      note_suspension(h, GO_SUSPENSION_PC());
      return true;
    }
    void await_resume() const noexcept {}

   private:
    sema& s_;
    wait_reason why_;
    waiter w_;
  };
  awaiter acquire(wait_reason why) noexcept { return awaiter(*this, why); }

 private:
  spinlock lock_{lock_rank::primitive};
  std::uint64_t count_ = 0;  // protected by lock_
  waitq waiters_;            // protected by lock_
};

}  // namespace go::detail
