// waiter and waitq: a goroutine blocked on one primitive (Go's sudog) and the FIFO of
// them that the primitive keeps.
//
// Invariants: a waiter is in at most one waitq; `queued` is true exactly while it is;
// every field is protected by the lock of the primitive that owns the queue.
#pragma once

#include <coroutine>
#include <utility>

#include "go/config.hpp"
#include "go/detail/assert.hpp"
#include "go/detail/atomic.hpp"
#include "go/detail/spinlock.hpp"
#include "go/detail/g.hpp"

namespace go::detail {

// The flags come last: a derived waiter's own small fields go into the tail padding
// (a channel's waiter is 56 bytes, not 72; it lives in every parked receiver's frame).
struct waiter {
  g* gp = nullptr;         // the parked goroutine
  waiter* prev = nullptr;  // links, protected by the owning primitive's lock
  waiter* next = nullptr;
  // A wait a context can cancel (detail/ctx_wait.hpp): the context's error flag, which
  // the primitive checks under its lock before queueing; and whether the wait ended by
  // cancellation (set by the primitive's check, or by the context's hook).
  const atomic<int>* stop = nullptr;
  bool canceled = false;
  bool queued = false;

  // Under the primitive's lock, before queueing: is the wait's context done? Then the
  // wait ends now, as canceled.
  bool stop_requested() noexcept {
    if (stop && stop->load(memory_order_acquire) != 0) canceled = true;  // pairs with the context's release store
    return canceled;
  }
};

// Waiters a waker took off a primitive's queue under its lock, to ready after unlocking
// (ready_all). Every member has queued == false already: a context's hook that looks at
// one under the primitive's lock sees it granted and leaves it alone (ctx_wait.hpp).
class ready_list {
 public:
  bool empty() const noexcept { return head_ == nullptr; }
  void push_back(waiter* w) noexcept {
    w->next = nullptr;
    (tail_ ? tail_->next : head_) = w;
    tail_ = w;
  }
  waiter* pop_front() noexcept {
    waiter* w = head_;
    if (w && !(head_ = w->next)) tail_ = nullptr;
    return w;
  }

 private:
  waiter* head_ = nullptr;
  waiter* tail_ = nullptr;
};

class waitq {
 public:
  bool empty() const noexcept { return head_ == nullptr; }

  void push_back(waiter* w) noexcept {
    w->prev = tail_;
    w->next = nullptr;
    (tail_ ? tail_->next : head_) = w;
    tail_ = w;
    w->queued = true;
  }

  void push_front(waiter* w) noexcept {
    w->prev = nullptr;
    w->next = head_;
    (head_ ? head_->prev : tail_) = w;
    head_ = w;
    w->queued = true;
  }

  waiter* front() const noexcept { return head_; }

  // Take every waiter, in order: how a waker empties a queue under its lock before
  // readying the waiters after unlocking (ready_all).
  [[nodiscard]] ready_list take_all() noexcept {
    ready_list all;
    while (waiter* w = pop_front()) all.push_back(w);
    return all;
  }

  waiter* pop_front() noexcept {
    waiter* w = head_;
    if (w) remove(w);
    return w;
  }

  // The invariants (under the owner's lock): head and tail are both null or both set;
  // the links agree both ways; every waiter in the queue says it is queued. The walk
  // stops after check_depth waiters from each end, so a check stays O(1) on a queue of
  // a million sleepers.
  static constexpr int check_depth = 16;
  void check() const noexcept {
    GO_INVARIANT((head_ == nullptr) == (tail_ == nullptr), "waitq: one end is null and the other is not");
    if (!head_) return;
    GO_INVARIANT(head_->prev == nullptr && tail_->next == nullptr, "waitq: a link points past an end");
    const waiter* w = head_;
    for (int i = 0; w && i < check_depth; ++i, w = w->next) {
      GO_INVARIANT(w->queued, "waitq: a queued waiter says it is not queued");
      GO_INVARIANT(w->next ? w->next->prev == w : w == tail_, "waitq: next and prev links disagree");
    }
    w = tail_;
    for (int i = 0; w && i < check_depth; ++i, w = w->prev) {
      GO_INVARIANT(w->queued, "waitq: a queued waiter says it is not queued");
      GO_INVARIANT(w->prev ? w->prev->next == w : w == head_, "waitq: next and prev links disagree");
    }
  }

  void remove(waiter* w) noexcept {
    GO_ASSERT(w->queued, "waitq::remove of a waiter that is not queued");
    (w->prev ? w->prev->next : head_) = w->next;
    (w->next ? w->next->prev : tail_) = w->prev;
    w->prev = w->next = nullptr;
    w->queued = false;
  }

 private:
  waiter* head_ = nullptr;
  waiter* tail_ = nullptr;
};

// The one way a waiter leaves a primitive's queue before a waker takes it: its goroutine
// is destroyed while parked (HACKING.md rule 3), or a context canceled the wait (the
// hook of detail/ctx_wait.hpp). Under lock, take w out of q if it is still queued and
// run on_removed(), the primitive's own accounting, before unlocking. Returns whether w
// was queued: false means a waker took it first, and the wait was granted.
template <class OnRemoved>
bool cancel_wait(spinlock& lock, waitq& q, waiter* w, OnRemoved&& on_removed) noexcept {
  lock.lock();
  const bool queued = w->queued;
  if (queued) {
    q.remove(w);
    on_removed();
  }
  GO_CHECK_INVARIANTS(q);
  lock.unlock();
  return queued;
}
inline bool cancel_wait(spinlock& lock, waitq& q, waiter* w) noexcept {
  return cancel_wait(lock, q, w, [] {});
}

// The slow path every sync primitive shares (Go's semacquire after its checks): with
// `lock` held, queue w for the running goroutine (at the front if lifo) and park it; the
// worker releases `lock` once the goroutine has unwound (detail/park.hpp). Throws
// go::error(no_runtime) outside a goroutine, with `lock` released.
GO_API void park_on(spinlock& lock, waitq& q, waiter* w, std::coroutine_handle<> h, wait_reason why, bool lifo = false);

// The waking side (HACKING.md rule 2): ready every goroutine in q, which the caller took
// off a primitive's queues under its lock and has since unlocked. Each waiter is
// unlinked before its goroutine is readied, as its frame may run at once.
GO_API void ready_all(ready_list& q) noexcept;

}  // namespace go::detail
