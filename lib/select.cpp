// select (Go's selectgo), in small steps:
//
//   1. Shuffle the poll order (uniformly: every ready case equally likely) and sort the
//      lock order by channel address (Go's sellock: a global order, so two selects on
//      the same channels cannot deadlock), cases on one channel in random order among
//      themselves. Nil-channel cases take part in neither.
//   2. Lock every distinct channel, in lock order; a channel listed twice is locked once.
//   3. Poll pass: in poll order, complete the first case that can complete now. This is
//      an atomic snapshot over all the channels, since all are locked.
//   4. Nothing ready: with a default case, unlock and take it.
//   5. Enqueue pass: one waiter per case, all pointing at one select_state, in lock order.
//      Park; the worker unlocks every channel once the goroutine has unwound.
//   6. A waker on one of the channels wins the select_state CAS, completes that case and
//      readies us. Wakers that lose the CAS skip our other waiters (chan.cpp dequeue).
//   7. Resumed: lock all again and take the remaining waiters off their queues.
// A select cannot pair its own send with its own receive: the poll pass runs before any
// of its waiters exist, and a waiter is only ever matched by an operation that arrives.
//
// Model-checked: test/model/spin/select.pml (scripts/model-check): two selects with one
// channel listed twice against a close; with -DOLD it finds the read of the case table
// after the only unlock that 422937e fixed.
#include <algorithm>

#include "go/detail/park.hpp"
#include "go/detail/select_core.hpp"
#include "go/error.hpp"
#include "runtime/sched.hpp"

namespace go::detail {

namespace {
std::uint32_t select_rand() noexcept {
  if (p* pp = tls().pp) return pp->fastrand();
  thread_local std::uint32_t x = 0x9e3779b9u;  // off the runtime: a non-blocking select
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return x;
}
}  // namespace

std::uint16_t select_core::lock_all() noexcept {
  chan_core* last = nullptr;
  std::uint16_t locked = 0;
  for (std::uint16_t k = 0; k < nlocked_; ++k) {
    chan_core* c = cases_[order_[n_ + k]].c;
    if (c != last) {
      c->lock().lock();
      ++locked;
    }
    last = c;
  }
  return locked;
}

// Unlocks in reverse lock order. After parking, this runs on the worker while wakers
// may already be at work: once the last distinct channel is unlocked the select can be
// woken, finish and be destroyed, so that unlock must be our last access to *this. Hence
// the look-ahead: we read the next entry before unlocking the current one, and nothing
// after the final unlock. (Until then the lowest channel is still locked, and finish()
// needs it.) Found by TSan: a select listing one channel twice read its case table
// after the only unlock.
void select_core::unlock_all() noexcept {
  std::uint16_t k = nlocked_;
  if (k == 0) return;
  chan_core* c = cases_[order_[n_ + --k]].c;
  for (;;) {
    chan_core* next = k > 0 ? cases_[order_[n_ + k - 1]].c : nullptr;
    if (c != next) c->lock().unlock();
    if (k == 0) return;
    c = next;
    --k;
  }
}

// Checking builds: every locked channel's invariants, with all of them still locked.
void select_core::check_all() const noexcept {
  for (std::uint16_t k = 0; k < nlocked_; ++k) GO_CHECK_INVARIANTS(*cases_[order_[n_ + k]].c);
}

bool select_core::unlock_all_fn(g*, void* self) noexcept {
  static_cast<select_core*>(self)->unlock_all();
  return true;
}

bool select_core::start(std::coroutine_handle<> h) {
  // (1) Poll order: Fisher-Yates. Lock order: the non-nil cases sorted by address.
  std::uint16_t* poll = order_;
  std::uint16_t* lock = order_ + n_;
  nlocked_ = 0;
  for (std::uint16_t i = 0; i < n_; ++i) {
    std::uint16_t j = static_cast<std::uint16_t>(select_rand() % (i + 1u));
    poll[i] = poll[j];
    poll[j] = i;
    if (cases_[i].c) lock[nlocked_++] = i;
  }
  std::sort(lock, lock + nlocked_, [this](std::uint16_t a, std::uint16_t b) {
    return std::less<chan_core*>()(cases_[a].c, cases_[b].c);
  });
  // Cases on one channel are enqueued in lock order, and a waker takes the first one in
  // the queue: shuffle each run of equal channels, so that once parked each of them is
  // as likely to be chosen as the others (Go gets this from its randomized heap sort).
  for (std::uint16_t k = 1, run = 0; k < nlocked_; ++k) {
    if (cases_[lock[k]].c != cases_[lock[run]].c) {
      run = k;  // a new channel starts here
      continue;
    }
    std::uint16_t j = static_cast<std::uint16_t>(run + select_rand() % (k - run + 1u));  // Fisher-Yates step
    std::swap(lock[k], lock[j]);
  }

  lock_all();  // (2)
  g* to_ready = nullptr;
  for (std::uint16_t k = 0; k < n_; ++k) {  // (3)
    std::uint16_t i = poll[k];
    scase& sc = cases_[i];
    if (!sc.c) continue;
    chan_status st = sc.is_send ? sc.c->send_locked(sc.elem, &to_ready) : sc.c->recv_locked(sc.elem, &to_ready);
    if (st == chan_status::would_block) continue;
    check_all();
    unlock_all();
    if (sc.is_send && st == chan_status::closed) throw error(errc::closed_channel, "send on closed channel");
    if (to_ready) ready(to_ready);
    index_ = i;
    received_ = st == chan_status::done;
    return false;
  }
  if (has_default_) {  // (4)
    unlock_all();
    index_ = n_;
    return false;
  }

  g* gp = current_g();
  if (!gp) {
    unlock_all();
    current_g_or_throw("a blocking select");  // throws
  }
  // (5) Enqueue one waiter per case, in lock order, and park.
  for (std::uint16_t k = 0; k < nlocked_; ++k) {
    std::uint16_t i = lock[k];
    chan_waiter& w = waiters_[i];
    w.gp = gp;
    w.elem = cases_[i].elem;
    w.sel = &state_;
    w.case_index = i;
    w.success = false;
    cases_[i].c->enqueue_locked(&w, cases_[i].is_send);
  }
  parked_ = true;
  check_all();
  park(gp, h, nlocked_ ? wait_reason::select : wait_reason::select_no_cases, &unlock_all_fn, this);
  return true;
}

void select_core::finish() {
  if (!parked_) return;
  parked_ = false;
  lock_all();  // (7)
  for (std::uint16_t k = 0; k < nlocked_; ++k) {
    std::uint16_t i = order_[n_ + k];
    cases_[i].c->dequeue_locked(&waiters_[i]);
  }
  check_all();
  unlock_all();
  index_ = static_cast<std::uint16_t>(state_.winner.load(memory_order_acquire));  // pairs with try_win()
  received_ = waiters_[index_].success;
  if (cases_[index_].is_send && !received_) throw error(errc::closed_channel, "send on closed channel");
}

void select_core::cancel() noexcept {
  if (!parked_) return;
  parked_ = false;
  lock_all();
  for (std::uint16_t k = 0; k < nlocked_; ++k) {
    std::uint16_t i = order_[n_ + k];
    cases_[i].c->dequeue_locked(&waiters_[i]);
  }
  check_all();
  unlock_all();
  // Woken but destroyed before resuming: report the case so the owner can destroy a
  // value that was received into its storage.
  std::int32_t w = state_.winner.load(memory_order_acquire);  // pairs with try_win()
  index_ = w < 0 ? none : static_cast<std::uint16_t>(w);
  received_ = w >= 0 && waiters_[w].success;
}

}  // namespace go::detail
