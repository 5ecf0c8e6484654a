// A lock for critical sections of a few dozen instructions, with a lock rank.
//
// Invariant: held for a bounded, short time and never across a blocking call; the one
// exception the runtime makes is a goroutine's park, where the primitive's lock is held
// while the parking coroutine unwinds to its worker (a handful of returns, no user code)
// and released there by the park's unlock function.
//
// Model-checked (test/model/model_test.cpp, "spinlock: ..." and the free-after-handoff
// case, which finds the old unlock's read of its rank after the release).
#pragma once

#include "go/config.hpp"
#include "go/detail/assert.hpp"
#include "go/detail/atomic.hpp"
#include "go/detail/lock_rank.hpp"

namespace go::detail {

class spinlock {
 public:
  explicit constexpr spinlock(lock_rank rank) noexcept : rank_(rank) {}
  spinlock(const spinlock&) = delete;
  spinlock& operator=(const spinlock&) = delete;

  void lock() noexcept {
    lock_rank_acquire(rank_, this);
    if (GO_LIKELY(!locked_.exchange(true, memory_order_acquire))) return;  // pairs with release in unlock()
    lock_slow();
  }

  bool try_lock() noexcept {
    if (locked_.load(memory_order_relaxed) || locked_.exchange(true, memory_order_acquire)) return false;
    lock_rank_acquire(rank_, this);
    return true;
  }

  // Contended: wait with exponential backoff. Every look at the lock pulls its cache line
  // away from the holder, whose next lock and unlock then stall on the transfer; backing
  // off lets a holder run its (short) critical sections at full speed, the way Go's
  // runtime mutex spins with procyield before yielding. Measured: without backoff two
  // Ps contending on one channel ran 3x slower than Go (docs/benchmarks.md).
  GO_NOINLINE void lock_slow() noexcept {
    for (int backoff = 1;;) {
      for (int i = 0; i < backoff; ++i) cpu_relax();
      if (!locked_.load(memory_order_relaxed) && !locked_.exchange(true, memory_order_acquire)) return;
      if (backoff < max_backoff)
        backoff *= 2;
      else
        thread_yield();  // the holder may have been descheduled
    }
  }

  void unlock() noexcept {
    // Nothing of *this may be touched after the store: the next holder may free it at
    // once (a primitive in a frame that ends right after it wakes). Found by TSan.
    const lock_rank rank = rank_;
    locked_.store(false, memory_order_release);  // pairs with acquire exchange in lock()
    lock_rank_release(rank, this);  // the address only names the lock: it is not read
  }

  // For a function that requires the caller to hold this lock: checking builds abort
  // if this thread does not (the lock-rank checker's list of held locks).
  void assert_held() const noexcept { GO_ASSERT(lock_rank_held(this), "a spinlock the caller must hold is not held"); }

 private:
  // 2^10 pauses is 10-40 us depending on the CPU: past that the holder is not running.
  static constexpr int max_backoff = 1024;
  atomic<bool> locked_{false};
  lock_rank rank_;
};

}  // namespace go::detail
