// waiter and waitq: a goroutine blocked on one primitive (Go's sudog) and the FIFO of
// them that the primitive keeps.
//
// Invariants: a waiter is in at most one waitq; `queued` is true exactly while it is;
// every field is protected by the lock of the primitive that owns the queue.
#pragma once

#include "go/detail/g.hpp"

namespace go::detail {

struct waiter {
  g* gp = nullptr;         // the parked goroutine
  waiter* prev = nullptr;  // links, protected by the owning primitive's lock
  waiter* next = nullptr;
  bool queued = false;
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

  waiter* pop_front() noexcept {
    waiter* w = head_;
    if (w) remove(w);
    return w;
  }

  void remove(waiter* w) noexcept {
    (w->prev ? w->prev->next : head_) = w->next;
    (w->next ? w->next->prev : tail_) = w->prev;
    w->prev = w->next = nullptr;
    w->queued = false;
  }

 private:
  waiter* head_ = nullptr;
  waiter* tail_ = nullptr;
};

}  // namespace go::detail
