// runq: a P's bounded local run queue, a single-producer multi-consumer ring (Go's
// p.runq / runqput / runqget / runqgrab, tokio's queue.rs).
//
// Invariants:
//   - head_ and tail_ are free-running uint32 counters; 0 <= tail_ - head_ <= capacity.
//   - Slots [head_, tail_) (mod capacity) hold the queued gs, oldest at head_.
//   - Only the owner P writes tail_ and the slots; the owner and thieves advance head_,
//     always by CAS, so each g is taken exactly once.
//
// check() verifies the first invariant from the owner's side (GO_CHECK_INVARIANTS after
// each owner operation in checking builds).
//
// Who may call what: push_back, pop, take_half and steal_into's destination side are
// owner-only; steal_into (as the victim), size and empty may be called by any P.
//
// Memory orderings (each pair is named again where it is used):
//   - owner's release store of tail_ -> thief's acquire load of tail_: a thief that sees
//     the new tail also sees the slot written before it and the g's fields.
//   - thief's release CAS of head_ -> owner's acquire load of head_ in push_back: the
//     owner overwrites a slot only after the thief that claimed it has finished reading it.
//   - Slots are relaxed atomics: a thief may read a slot the owner is overwriting, but
//     then its CAS of head_ fails and the value is discarded. (Plain slots would be a
//     data race on paper, and TSan would say so.)
//
// Model-checked on this code (test/model/model_test.cpp, the "runq: ..." cases): owner
// push/pop, take_half, one and two thieves, every schedule within 3 preemptions, x86-TSO.
#pragma once

#include <cstdint>

#include "go/detail/assert.hpp"
#include "go/detail/atomic.hpp"
#include "go/detail/g.hpp"

namespace go::detail {

class runq {
 public:
#ifdef GO_TEST_SMALL_QUEUES
  // A tiny queue so the overflow and steal paths run all the time in tests (tokio uses 4
  // under loom for the same reason).
  static constexpr std::uint32_t capacity = 4;
#else
  // Go's and tokio's size: big enough that overflow to the global queue is rare, small
  // enough that a steal of half is cheap.
  static constexpr std::uint32_t capacity = 256;
#endif

  // Owner only. False if full (the caller moves half to the global queue).
  bool push_back(g* gp) noexcept {
    std::uint32_t h = head_.load(memory_order_acquire);  // pairs with release CAS in steal_into()
    std::uint32_t t = tail_.load(memory_order_relaxed);   // only we write tail_
    if (t - h >= capacity) return false;
    slots_[t % capacity].store(gp, memory_order_relaxed);
    tail_.store(t + 1, memory_order_release);  // pairs with acquire load of tail_ in steal_into()
    GO_CHECK_INVARIANTS(*this);
    return true;
  }

  // Owner only (of this queue): 0 <= tail_ - head_ <= capacity. Thieves only advance
  // head_, never past a tail_ they read, so the owner's view is a bound that holds.
  void check() const noexcept {
    const std::uint32_t t = tail_.load(memory_order_relaxed);  // only the owner writes tail_
    const std::uint32_t h = head_.load(memory_order_acquire);  // pairs with release CAS in steal_into()
    GO_INVARIANT(t - h <= capacity, "runq: more gs queued than the capacity (or head passed tail)");
  }

  // The queued gs, oldest first, for the goroutine dump: only with the world stopped
  // (no owner pushes or pops, no thief steals meanwhile).
  template <class F>
  void for_each_stopped(F&& f) const {
    const std::uint32_t h = head_.load(memory_order_acquire), t = tail_.load(memory_order_acquire);
    for (std::uint32_t i = h; i != t; ++i) f(slots_[i % capacity].load(memory_order_relaxed));
  }

  // Owner only. The oldest g, or null.
  g* pop() noexcept {
    std::uint32_t h = head_.load(memory_order_acquire);  // pairs with release CAS in steal_into()
    for (;;) {
      std::uint32_t t = tail_.load(memory_order_relaxed);  // only we write tail_
      if (t == h) return nullptr;
      g* gp = slots_[h % capacity].load(memory_order_relaxed);
      // Release so no later push of ours can be ordered before the slot read; failure
      // reloads head_ (a thief took some) with acquire for the same reason as above.
      if (head_.compare_exchange_weak(h, h + 1, memory_order_release, memory_order_acquire)) {
        GO_CHECK_INVARIANTS(*this);
        return gp;
      }
    }
  }

  // Owner only, queue full: take the older half into out[] (Go's runqputslow). Returns
  // how many were taken (capacity / 2), or 0 if thieves emptied it meanwhile.
  std::uint32_t take_half(g** out) noexcept {
    std::uint32_t h = head_.load(memory_order_acquire);
    std::uint32_t t = tail_.load(memory_order_relaxed);
    std::uint32_t n = (t - h) / 2;
    if (n != capacity / 2) return 0;  // not full any more: the caller can just push
    for (std::uint32_t i = 0; i < n; ++i) out[i] = slots_[(h + i) % capacity].load(memory_order_relaxed);
    // A thief got in first: the queue has room now, no overflow needed.
    if (!head_.compare_exchange_strong(h, h + n, memory_order_release, memory_order_relaxed)) return 0;
    return n;
  }

  // Called by the thief, which owns dst (dst must be empty). Moves half of this queue
  // (rounded up) into dst and returns one of them to run, or null if there was nothing.
  g* steal_into(runq& dst) noexcept {
    std::uint32_t dt = dst.tail_.load(memory_order_relaxed);  // we own dst
    std::uint32_t n;
    for (;;) {
      std::uint32_t h = head_.load(memory_order_acquire);  // pairs with release CAS by other thieves / pop
      std::uint32_t t = tail_.load(memory_order_acquire);  // pairs with release store in push_back()
      n = t - h;
      n -= n / 2;
      if (n == 0) return nullptr;
      if (n > capacity / 2) continue;  // h and t read at different times; read again
      for (std::uint32_t i = 0; i < n; ++i) {
        g* gp = slots_[(h + i) % capacity].load(memory_order_relaxed);
        dst.slots_[(dt + i) % capacity].store(gp, memory_order_relaxed);
      }
      // Release: our slot reads above complete before the owner may reuse the slots
      // (pairs with the acquire load of head_ in push_back()).
      if (head_.compare_exchange_weak(h, h + n, memory_order_release, memory_order_relaxed)) break;
    }
    --n;
    g* gp = dst.slots_[(dt + n) % capacity].load(memory_order_relaxed);
    if (n != 0) dst.tail_.store(dt + n, memory_order_release);  // pairs with acquire load of tail_ by thieves of dst
    GO_CHECK_INVARIANTS(dst);
    return gp;
  }

  // Any P; a snapshot.
  std::uint32_t size() const noexcept {
    for (;;) {
      std::uint32_t h = head_.load(memory_order_acquire);
      std::uint32_t t = tail_.load(memory_order_acquire);
      if (head_.load(memory_order_acquire) == h) return t - h;
    }
  }
  bool empty() const noexcept { return size() == 0; }

 private:
  alignas(64) atomic<std::uint32_t> head_{0};
  atomic<std::uint32_t> tail_{0};
  atomic<g*> slots_[capacity] = {};
};

}  // namespace go::detail
