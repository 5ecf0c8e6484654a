// inject: the global run queue (Go's sched.runq): goroutines readied or spawned from
// outside the workers, and the overflow of full local queues.
//
// Invariants: the list head_..tail_ linked through g::schedlink holds len_ gs; all of
// it is protected by lock_. len_ is also read without the lock as a hint (empty()),
// which is safe because an emptiness check that matters is always ordered after the
// push by the idle protocol's RMW on its state word (lib/runtime/idle.hpp).
#pragma once

#include <cstdint>

#include "go/detail/atomic.hpp"
#include "go/detail/g.hpp"
#include "go/detail/spinlock.hpp"

namespace go::detail {

class inject {
 public:
  bool empty() const noexcept { return len_.load(memory_order_acquire) == 0; }  // pairs with release store in push_batch/pop_batch
  std::uint64_t size() const noexcept { return len_.load(memory_order_relaxed); }  // a statistic

  void push(g* gp) noexcept { push_batch(gp, gp, 1); }

  // Append first..last (already linked through schedlink), n gs.
  void push_batch(g* first, g* last, std::uint32_t n) noexcept {
    last->schedlink = nullptr;
    lock_.lock();
    (tail_ ? tail_->schedlink : head_) = first;
    tail_ = last;
    len_.store(len_.load(memory_order_relaxed) + n, memory_order_release);  // written under lock_
    lock_.unlock();
  }

  // Take up to max gs from the front; returns the first, linked through schedlink.
  g* pop_batch(std::uint32_t max, std::uint32_t& taken) noexcept {
    taken = 0;
    if (empty()) return nullptr;
    lock_.lock();
    g* first = head_;
    g* gp = nullptr;
    for (g* it = head_; it && taken < max; it = it->schedlink) {
      gp = it;
      ++taken;
    }
    if (taken) {
      head_ = gp->schedlink;
      if (!head_) tail_ = nullptr;
      gp->schedlink = nullptr;
      len_.store(len_.load(memory_order_relaxed) - taken, memory_order_release);  // written under lock_
    }
    lock_.unlock();
    return taken ? first : nullptr;
  }

  g* pop() noexcept {
    std::uint32_t taken;
    return pop_batch(1, taken);
  }

 private:
  spinlock lock_{lock_rank::inject};
  g* head_ = nullptr;  // protected by lock_
  g* tail_ = nullptr;  // protected by lock_
  atomic<std::uint64_t> len_{0};
};

}  // namespace go::detail
