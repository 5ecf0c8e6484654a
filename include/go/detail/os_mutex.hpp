// os_mutex: a std::mutex that the lock-rank checker sees (lock_rank.hpp). For the locks a
// thread may block on (held across a condition variable wait, a thread's start, a
// dump): never on a goroutine's hot path, where detail::spinlock is used.
// With a condition variable, use std::condition_variable_any: its wait unlocks and
// relocks through this class, so the checker follows the release and the re-acquisition.
#pragma once

#include <mutex>

#include "go/detail/lock_rank.hpp"

namespace go::detail {

class os_mutex {
 public:
  explicit os_mutex(lock_rank rank) noexcept : rank_(rank) {}
  os_mutex(const os_mutex&) = delete;
  os_mutex& operator=(const os_mutex&) = delete;

  void lock() {
    lock_rank_acquire(rank_, this);  // before blocking: an order violation aborts, it does not hang
    m_.lock();
  }
  bool try_lock() {
    if (!m_.try_lock()) return false;
    lock_rank_acquired_try(rank_, this);
    return true;
  }
  void unlock() {
    const lock_rank rank = rank_;  // nothing of *this is read after the unlock (spinlock.hpp)
    m_.unlock();
    lock_rank_release(rank, this);
  }

 private:
  std::mutex m_;
  const lock_rank rank_;
};

}  // namespace go::detail
