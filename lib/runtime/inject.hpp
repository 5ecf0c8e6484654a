// inject: the global run queue (Go's sched.runq): goroutines readied or spawned from
// outside the workers, and the overflow of full local queues.
//
// A ring of g pointers that grows by doubling, not a list linked through the gs (Go's
// gQueue). Taking a batch copies pointers: it does not touch the gs, which the spawner
// wrote a moment ago on another core. A linked list must be walked g by g to find where
// a batch ends, one cache miss after another under the lock, while the spawner spins on
// it: in a spawn storm that walk was 12% of the running worker's time, and the lock the
// spawner waited on a fifth of its own. The ring costs 8 bytes per queued g, and saves
// the g's link (8 bytes per g, queued or not).
//
// Invariants (under lock_; check() verifies them):
//   - buf_ holds cap_ slots, cap_ a power of two or 0 (no buffer yet);
//   - the len_ queued gs are at slots head_, head_+1, ... (mod cap_), oldest first;
//   - a buffer larger than shrink_cap is freed when the queue empties, so a spawn storm
//     does not pin its peak backlog; smaller ones are kept for reuse.
// len_ is also read without the lock as a hint (empty()), which is safe because an
// emptiness check that matters is always ordered after the push by the idle protocol's
// RMW on its state word (lib/runtime/idle.hpp).
//
// Growing allocates; a failure there is out of memory and terminates (the functions are
// noexcept), as Go throws when it cannot allocate.
#pragma once

#include <algorithm>
#include <bit>
#include <cstdint>
#include <memory>

#include "go/detail/atomic.hpp"
#include "go/detail/g.hpp"
#include "go/detail/spinlock.hpp"

namespace go::detail {

class inject {
 public:
  inject() = default;
  inject(const inject&) = delete;
  inject& operator=(const inject&) = delete;

  bool empty() const noexcept { return len_.load(memory_order_acquire) == 0; }  // pairs with release store in push_batch/pop_batch
  std::uint64_t size() const noexcept { return len_.load(memory_order_relaxed); }  // a statistic

  // One g: the common case (an outside spawn, a yield while the queue holds others) in
  // a few instructions; a full buffer takes push_batch's growing path.
  GO_ALWAYS_INLINE void push(g* gp) noexcept {
    lock_.lock();
    const std::uint64_t len = len_.load(memory_order_relaxed);  // written under lock_
    if (GO_LIKELY(len < cap_)) {
      buf_[(head_ + len) & (cap_ - 1)] = gp;
      len_.store(len + 1, memory_order_release);  // pairs with the acquire load in empty()
      GO_CHECK_INVARIANTS(*this);
      lock_.unlock();
      return;
    }
    lock_.unlock();
    push_batch(&gp, 1);
  }

  // Append gs[0..n), in that order.
  void push_batch(g* const* gs, std::uint32_t n) noexcept {
    std::unique_ptr<g*[]> fresh, old;  // allocated and freed outside the lock
    std::uint64_t fresh_cap = 0;
    lock_.lock();
    while (len_.load(memory_order_relaxed) + n > cap_) {  // len_ is written under lock_
      const std::uint64_t need = len_.load(memory_order_relaxed) + n;
      if (fresh_cap >= need) {
        old = adopt(std::move(fresh), fresh_cap);
        break;
      }
      // Allocate outside the lock (the other workers need it meanwhile), then look
      // again: the queue may have changed while we were away.
      lock_.unlock();
      fresh_cap = std::max(min_cap, std::bit_ceil(need));
      fresh = std::make_unique_for_overwrite<g*[]>(fresh_cap);  // bad_alloc: terminate (noexcept)
      lock_.lock();
    }
    const std::uint64_t len = len_.load(memory_order_relaxed);
    for (std::uint32_t i = 0; i < n; ++i) buf_[(head_ + len + i) & (cap_ - 1)] = gs[i];
    len_.store(len + n, memory_order_release);  // written under lock_
    GO_CHECK_INVARIANTS(*this);
    lock_.unlock();
  }

  // Take up to max gs from the front into out[0..); returns how many.
  std::uint32_t pop_batch(g** out, std::uint32_t max) noexcept {
    if (empty()) return 0;
    std::unique_ptr<g*[]> drop;  // freed after the lock is released
    lock_.lock();
    const std::uint64_t len = len_.load(memory_order_relaxed);  // written under lock_
    const std::uint32_t n = static_cast<std::uint32_t>(std::min<std::uint64_t>(len, max));
    for (std::uint32_t i = 0; i < n; ++i) out[i] = buf_[(head_ + i) & (cap_ - 1)];
    head_ = (head_ + n) & (cap_ ? cap_ - 1 : 0);
    len_.store(len - n, memory_order_release);  // written under lock_
    if (len == n && cap_ > shrink_cap) {
      drop = std::move(buf_);
      cap_ = head_ = 0;
    }
    GO_CHECK_INVARIANTS(*this);
    lock_.unlock();
    return n;
  }

  // The invariants above; the caller holds lock_.
  void check() const noexcept {
    lock_.assert_held();
    GO_INVARIANT(std::has_single_bit(cap_) || cap_ == 0, "inject: the capacity is not a power of two");
    GO_INVARIANT((cap_ == 0) == (buf_ == nullptr), "inject: a buffer and its capacity disagree");
    GO_INVARIANT(len_.load(memory_order_relaxed) <= cap_, "inject: more gs than slots");
    GO_INVARIANT(head_ < cap_ || head_ == 0, "inject: head outside the ring");
  }

  g* pop() noexcept {
    g* gp = nullptr;
    pop_batch(&gp, 1);
    return gp;
  }

  // Every queued g, oldest first, under the lock (the goroutine dump). f must not touch
  // the queue.
  template <class F>
  void for_each(F&& f) {
    lock_.lock();
    const std::uint64_t len = len_.load(memory_order_relaxed);
    for (std::uint64_t i = 0; i < len; ++i) f(buf_[(head_ + i) & (cap_ - 1)]);
    lock_.unlock();
  }

 private:
  static constexpr std::uint64_t min_cap = 256;      // 2 KiB: one overflow of a local queue fits
  static constexpr std::uint64_t shrink_cap = 4096;  // 32 KiB

  // Move the queued gs into fresh (of capacity cap, more than len_), oldest at 0;
  // returns the old buffer, for the caller to free once it has released the lock.
  std::unique_ptr<g*[]> adopt(std::unique_ptr<g*[]> fresh, std::uint64_t cap) noexcept {
    lock_.assert_held();
    const std::uint64_t len = len_.load(memory_order_relaxed);
    for (std::uint64_t i = 0; i < len; ++i) fresh[i] = buf_[(head_ + i) & (cap_ - 1)];
    std::swap(buf_, fresh);
    cap_ = cap;
    head_ = 0;
    return fresh;
  }

  spinlock lock_{lock_rank::inject};
  std::unique_ptr<g*[]> buf_;  // protected by lock_
  std::uint64_t cap_ = 0;      // protected by lock_
  std::uint64_t head_ = 0;     // protected by lock_
  atomic<std::uint64_t> len_{0};
};

}  // namespace go::detail
