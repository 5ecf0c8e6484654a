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
// Who may call what, as types (tokio's Local/Steal): runq's own public interface is
// the stealer's side (steal_into, size, empty), which any P may use. The owner's
// operations (push_back, pop, take_half) are reached only through runq::local, a
// non-copyable handle of which at most one exists per queue (the P's worker holds it;
// claiming a second is fatal in checking builds). steal_into fills the thief's own queue,
// so it takes the thief's local handle.
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
#include <utility>

#include "go/detail/assert.hpp"
#include "go/detail/atomic.hpp"
#include "go/detail/g.hpp"

namespace go::detail {

class runq {
 public:
  class local;

#ifdef GO_TEST_SMALL_QUEUES
  // A tiny queue so the overflow and steal paths run all the time in tests (tokio uses 4
  // under loom for the same reason).
  static constexpr std::uint32_t capacity = 4;
#else
  // Go's and tokio's size: big enough that overflow to the global queue is rare, small
  // enough that a steal of half is cheap.
  static constexpr std::uint32_t capacity = 256;
#endif

  // Called by the thief, which owns dst (dst must be empty). Moves half of this queue
  // (rounded up) into dst and returns one of them to run, or null if there was nothing.
  g* steal_into(local& dst) noexcept;

  // Any P; a snapshot.
  std::uint32_t size() const noexcept {
    for (;;) {
      std::uint32_t h = head_.load(memory_order_acquire);
      std::uint32_t t = tail_.load(memory_order_acquire);
      if (head_.load(memory_order_acquire) == h) return t - h;
    }
  }
  bool empty() const noexcept { return size() == 0; }

  // The queued gs, oldest first, for the goroutine dump: only with the world stopped
  // (no owner pushes or pops, no thief steals meanwhile).
  template <class F>
  void for_each_stopped(F&& f) const {
    const std::uint32_t h = head_.load(memory_order_acquire), t = tail_.load(memory_order_acquire);
    for (std::uint32_t i = h; i != t; ++i) f(slots_[i % capacity].load(memory_order_relaxed));
  }

  // Owner only (of this queue): 0 <= tail_ - head_ <= capacity. Thieves only advance
  // head_, never past a tail_ they read, so the owner's view is a bound that holds.
  void check() const noexcept {
    const std::uint32_t t = tail_.load(memory_order_relaxed);  // only the owner writes tail_
    const std::uint32_t h = head_.load(memory_order_acquire);  // pairs with release CAS in steal_into()
    GO_INVARIANT(t - h <= capacity, "runq: more gs queued than the capacity (or head passed tail)");
  }

 private:
  // The owner's operations, through runq::local.
  // False if full (the caller moves half to the global queue).
  bool push_back(g* gp) noexcept {
    std::uint32_t h = head_.load(memory_order_acquire);  // pairs with release CAS in steal_into()
    std::uint32_t t = tail_.load(memory_order_relaxed);   // only we write tail_
    if (t - h >= capacity) return false;
    slots_[t % capacity].store(gp, memory_order_relaxed);
    tail_.store(t + 1, memory_order_release);  // pairs with acquire load of tail_ in steal_into()
    GO_CHECK_INVARIANTS(*this);
    return true;
  }

  // The oldest g, or null.
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

  // Queue full: take the older half into out[] (Go's runqputslow). Returns
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

  g* steal_into_queue(runq& dst) noexcept {
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

  alignas(64) atomic<std::uint32_t> head_{0};
  atomic<std::uint32_t> tail_{0};
  atomic<g*> slots_[capacity] = {};
  bool owned_ = false;  // a runq::local exists; written by its constructor and destructor only
};

// The owner's handle (tokio's Local): the only way to push, pop or take half. Move-only;
// at most one per queue.
class runq::local {
 public:
  explicit local(runq& q) noexcept : q_(&q) {
    GO_ASSERT(!q.owned_, "runq: a second owner handle for one queue");
    q.owned_ = true;
  }
  local(local&& o) noexcept : q_(std::exchange(o.q_, nullptr)) {}
  local& operator=(local&&) = delete;
  local(const local&) = delete;
  ~local() {
    if (q_) q_->owned_ = false;
  }

  // False if full (the caller moves half to the global queue).
  bool push_back(g* gp) noexcept { return q_->push_back(gp); }
  // The oldest g, or null.
  g* pop() noexcept { return q_->pop(); }
  // Queue full: take the older half into out[] (Go's runqputslow); how many, or 0 if
  // thieves emptied it meanwhile.
  std::uint32_t take_half(g** out) noexcept { return q_->take_half(out); }
  std::uint32_t size() const noexcept { return q_->size(); }
  bool empty() const noexcept { return q_->empty(); }
  // The stealer's side of the same queue.
  runq& queue() const noexcept { return *q_; }

 private:
  runq* q_;
};

inline g* runq::steal_into(local& dst) noexcept { return steal_into_queue(dst.queue()); }

}  // namespace go::detail
