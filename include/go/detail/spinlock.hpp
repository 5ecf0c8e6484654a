// A lock for critical sections of a few dozen instructions, with a lock rank.
//
// Invariant: held for a bounded, short time and never across a blocking call; the one
// exception the runtime makes is a goroutine's park, where the primitive's lock is held
// while the parking coroutine unwinds to its worker (a handful of returns, no user code)
// and released there by the park's unlock function.
#pragma once

#include <thread>

#include "go/detail/atomic.hpp"
#include "go/detail/lock_rank.hpp"

namespace go::detail {

class spinlock {
 public:
  explicit constexpr spinlock(lock_rank rank) noexcept : rank_(rank) {}
  spinlock(const spinlock&) = delete;
  spinlock& operator=(const spinlock&) = delete;

  void lock() noexcept {
    lock_rank_acquire(rank_);
    // Test-and-test-and-set: spin on a plain load so waiters share the line read-only.
    for (int spins = 0; locked_.exchange(true, memory_order_acquire); ) {  // pairs with release in unlock()
      while (locked_.load(memory_order_relaxed)) {
        // 64 pauses (~2-5 us on current x86) before giving the core away: the holder is
        // either about to finish or has been descheduled, and then only yielding helps.
        if (++spins < 64) cpu_relax(); else std::this_thread::yield();
      }
    }
  }

  bool try_lock() noexcept {
    if (locked_.load(memory_order_relaxed) || locked_.exchange(true, memory_order_acquire)) return false;
    lock_rank_acquire(rank_);
    return true;
  }

  void unlock() noexcept {
    // Nothing of *this may be touched after the store: the next holder may free it at
    // once (a primitive in a frame that ends right after it wakes). Found by TSan.
    const lock_rank rank = rank_;
    locked_.store(false, memory_order_release);  // pairs with acquire exchange in lock()
    lock_rank_release(rank);
  }

 private:
  atomic<bool> locked_{false};
  lock_rank rank_;
};

}  // namespace go::detail
