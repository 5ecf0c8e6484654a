// timer_heap: one P's timers (Go's per-P timer heap in time.go), a 4-ary min-heap on
// `when`. A 4-ary heap is shallower than a binary one (log4 n levels: 10 for a million
// timers) and its four children share a cache line or two.
//
// Stopping is O(1), as in Go: a stopped timer's entry becomes a tombstone (t == null)
// where it is, instead of being sifted out (which costs a cache miss per level, ten
// levels for a million timers). A tombstone is dropped when it comes due at the root
// (run() pops it without firing), or with all the others in an O(n) rebuild once they
// make up half of the heap (amortized O(1) per stop). Until then next_ may be early: a worker then wakes for
// nothing, once per tombstone at most.
//
// Invariants (under lock_; check() verifies them, valid() for tests):
//   - h_[i].when <= h_[c].when for every child c of i (c in 4i+1 .. 4i+4);
//   - for a live entry, h_[i].t->index == i and h_[i].t->heap == this; a node outside
//     the heap has index npos and heap null;
//   - dead_ counts the tombstones;
//   - next_ == h_[0].when (live or not), or never if the heap is empty.
// next_ is read without the lock (relaxed) by any worker deciding whether to look at
// this heap or how long it may sleep; the timed sleeper's Dekker fences make a timer
// added while a worker decides to sleep either seen by it or woken for
// (lib/runtime/timed_sleeper.hpp).
#pragma once

#include <cstdint>
#include <vector>

#include "go/detail/atomic.hpp"
#include "go/detail/spinlock.hpp"
#include "go/detail/timer.hpp"

namespace go::detail {

class timer_heap {
 public:
  timer_heap() = default;
  timer_heap(const timer_heap&) = delete;
  timer_heap& operator=(const timer_heap&) = delete;

  // Insert t (not in any heap) to fire at when. True if it is now this heap's earliest.
  bool add(timer_node* t, std::int64_t when) noexcept;
  // Take t out if this heap holds it; true if it did.
  bool remove(timer_node* t) noexcept;
  // Fire the timers due at `now` (until `out` is full); the caller acts on `out` after.
  void run(std::int64_t now, fire_batch& out) noexcept;
  // Empty the heap at shutdown, firing nothing; returns the nodes that were in it.
  std::vector<timer_node*> drain() noexcept;
  // Wait for a run() in progress to finish (timer_settle).
  void barrier() noexcept {
    lock_.lock();
    lock_.unlock();
  }

  std::int64_t next() const noexcept { return next_.load(memory_order_relaxed); }
  std::size_t size() const noexcept { return size_.load(memory_order_relaxed); }  // live timers
  // For tests: whether the invariants above hold (takes the lock; walks every entry).
  bool valid() noexcept;
  // The invariants, the caller holding the lock (GO_CHECK_INVARIANTS, assert.hpp); walks
  // the first check_limit entries.
  void check() const noexcept;
  static constexpr std::size_t check_limit = 1024;

 private:
  struct entry {
    std::int64_t when;
    timer_node* t;
  };
  static_assert(sizeof(entry) == 16, "four children in one cache line: docs/design/timers.md");
  const char* broken(std::size_t limit) const noexcept;
  void sift_up(std::uint32_t i) noexcept;
  void sift_down(std::uint32_t i) noexcept;
  void remove_at(std::uint32_t i) noexcept;
  void compact() noexcept;
  void place(std::uint32_t i, entry e) noexcept {
    h_[i] = e;
    if (e.t) e.t->index = i;
  }
  void publish() noexcept {
    next_.store(h_.empty() ? never : h_[0].when, memory_order_relaxed);
    size_.store(h_.size() - dead_, memory_order_relaxed);
  }

  spinlock lock_{lock_rank::timers};
  std::vector<entry> h_;               // protected by lock_
  std::size_t dead_ = 0;               // tombstones in h_; protected by lock_
  atomic<std::int64_t> next_{never};   // written under lock_
  atomic<std::size_t> size_{0};        // written under lock_; a statistic
};

}  // namespace go::detail
