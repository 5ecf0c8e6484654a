// go::mutex: Go's sync.Mutex, with its normal and starvation modes.
#pragma once

#include <coroutine>
#include <cstdint>
#include <utility>

#include "go/detail/atomic.hpp"
#include "go/detail/spinlock.hpp"
#include "go/detail/waitq.hpp"
#include "go/detail/context_handle.hpp"  // the handle only: no channel, select or timer
#include "go/task.hpp"

namespace go {

// Suspends: `co_await mu.lock()` parks the goroutine while another holds the mutex (a
//   single CAS and no suspension when it is free). It gives a guard that unlocks when
//   it is destroyed; unlock() and try_lock() are there too.
// Fairness (Go's two modes): normally a woken waiter competes with goroutines that are
//   running and arrive at that moment ("barging", for throughput); if it loses it goes
//   back to the front of the queue. A waiter that has waited more than 1 ms switches
//   the mutex to starvation mode: unlock hands the mutex straight to the first waiter
//   and newcomers queue behind. It switches back when a waiter that got the mutex
//   waited less than 1 ms or was the last one.
// Resumes: readied by the unlocking goroutine, on its P (runnext).
// Misuse: unlock of an unlocked mutex throws go::error(unlock_of_unlocked), "sync:
//   unlock of unlocked mutex". Like Go's, the mutex has no owner: any goroutine may
//   unlock it.
// Shutdown: a goroutine parked in lock() is destroyed by runtime::stop and leaves the
//   queue.
// Default-constructed: unlocked. Not copyable or movable.
// Thread safety: all members may be called concurrently; lock() needs a goroutine.
class mutex {
 public:
  mutex() noexcept = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  // Unlocks the mutex when destroyed, unless released or unlocked first.
  class [[nodiscard]] guard {
   public:
    guard() noexcept = default;
    explicit guard(mutex& m) noexcept : m_(&m) {}
    guard(guard&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    guard& operator=(guard&& o) noexcept {
      if (this != &o) {
        if (m_) m_->unlock();
        m_ = std::exchange(o.m_, nullptr);
      }
      return *this;
    }
    ~guard() {
      if (m_) m_->unlock();
    }
    void unlock() { std::exchange(m_, nullptr)->unlock(); }
    mutex* release() noexcept { return std::exchange(m_, nullptr); }
    bool owns_lock() const noexcept { return m_ != nullptr; }

   private:
    mutex* m_ = nullptr;
  };

  class [[nodiscard]] lock_awaiter {
   public:
    explicit lock_awaiter(mutex& m, detail::ctx_hold ctx = {}) noexcept : m_(m), ctx_(std::move(ctx)) {}
    bool await_ready() noexcept {
      if (ctx_.canceler && detail::ctx_err_flag(ctx_.canceler).load(detail::memory_order_relaxed)) return false;  // fails in lock_slow
      std::uint32_t free = 0;  // Go's fast path: one CAS from "unlocked, no waiters"
      return m_.state_.compare_exchange_strong(free, locked, detail::memory_order_acquire,  // pairs with release in unlock()
                                               detail::memory_order_relaxed);
    }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
      // The contended path is a task run inline, like any nested task: it can lose to a
      // barging goroutine after a wakeup and park again, which one awaiter cannot.
      slow_ = m_.lock_slow(ctx_.canceler);  // *this, holding the ctx, outlives the task
      if (!typename task<void>::awaiter{slow_.handle()}.await_suspend(h)) return false;
      detail::note_suspension(h, GO_SUSPENSION_PC());  // (unoptimized, the inner note is not ours)
      return true;
    }
    guard await_resume() {
      if (slow_.valid()) slow_.handle().promise().result_.get();
      return guard(m_);
    }

   private:
    mutex& m_;
    detail::ctx_hold ctx_;
    task<void> slow_;
  };

  lock_awaiter lock() noexcept { return lock_awaiter(*this); }
  // A lock that ctx cancels: throws go::error with ctx's error if ctx is done before the
  // mutex is ours (go/context.hpp has the rules).
  lock_awaiter lock(context ctx) noexcept { return lock_awaiter(*this, detail::ctx_access::hold(std::move(ctx))); }

  bool try_lock() noexcept {
    std::uint32_t s = state_.load(detail::memory_order_relaxed);
    return !(s & (locked | starving)) &&
           state_.compare_exchange_strong(s, s | locked, detail::memory_order_acquire,  // pairs with release in unlock()
                                          detail::memory_order_relaxed);
  }

  void unlock() {
    // Go's fast path: drop the locked bit; anything left means waiters or starvation.
    std::uint32_t rest = state_.fetch_sub(locked, detail::memory_order_release) - locked;  // pairs with acquire in lock
    if (rest != 0) unlock_slow(rest);
  }

  // For tests and diagnostics.
  bool is_locked() const noexcept { return state_.load(detail::memory_order_relaxed) & locked; }
  bool is_starving() const noexcept { return state_.load(detail::memory_order_relaxed) & starving; }

 private:
  struct waiter : detail::waiter {
    bool handoff = false;  // the unlocker gave us the mutex (starvation mode)
  };
  struct wait_turn;

  GO_API task<void> lock_slow(detail::ctx_node* ctx);
  static bool remove_waiter(void* m, detail::waiter* w) noexcept;
  GO_API void unlock_slow(std::uint32_t rest);
  GO_API bool acquire_or_park(waiter* w, bool starving, bool lifo, std::coroutine_handle<> h);
  GO_API bool cancel(waiter* w) noexcept;

  static constexpr std::uint32_t locked = 1, starving = 2, one_waiter = 4;
  // locked | starving | (parked waiters << 2). The waiter count changes only under lock_.
  detail::atomic<std::uint32_t> state_{0};
  detail::spinlock lock_{detail::lock_rank::primitive};
  detail::waitq waiters_;  // protected by lock_
};

}  // namespace go
