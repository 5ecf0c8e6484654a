// The idle-worker protocol; the argument for it is in idle.hpp.
#include "runtime/idle.hpp"

#include <algorithm>

namespace go::detail {

idle::idle(unsigned workers) : workers_(workers), asleep_(workers, false) {
  state_->store(workers * one_unparked, memory_order_relaxed);
  sleepers_.reserve(workers);
  for (unsigned i = 0; i < workers; ++i) parkers_.push_back(std::make_unique<cache_padded<parker>>());
}

void idle::notify_one() noexcept {
  // P2: a seq_cst fence, then a plain load; see the header.
  fence(memory_order_seq_cst);  // pairs with the fence after S1
  std::uint32_t s = state_->load(memory_order_relaxed);
  if ((s & 0xffff) != 0 || (s >> 16) == workers_) return;

  unsigned w;
  lock_.lock();
  // Re-check under the lock: another producer may have woken a searcher already.
  s = state_->load(memory_order_relaxed);
  if ((s & 0xffff) != 0 || sleepers_.empty()) {
    lock_.unlock();
    return;
  }
  w = sleepers_.back();
  sleepers_.pop_back();
  asleep_[w] = false;
  // P3: the woken worker starts as a searcher, so later producers need not wake more.
  state_->fetch_add(one_unparked + one_searching, memory_order_relaxed);  // ordered by lock_ and the unpark
  GO_CHECK_INVARIANTS(*this);
  lock_.unlock();
  unparks_.fetch_add(1, memory_order_relaxed);  // a statistic
  unpark(w);
}

void idle::check() const noexcept {
  lock_.assert_held();
  // The unparked count changes only under lock_ (searching changes without it).
  GO_INVARIANT(unparked() + sleepers_.size() == workers_, "idle: unparked + sleepers is not the worker count");
  std::size_t asleep = 0;
  for (unsigned w = 0; w < workers_; ++w) asleep += asleep_[w];
  GO_INVARIANT(asleep == sleepers_.size(), "idle: the sleeper list and the asleep flags disagree");
  for (unsigned w : sleepers_) GO_INVARIANT(w < workers_ && asleep_[w], "idle: a listed sleeper is not marked asleep");
}

void idle::notify_all() noexcept {
  for (unsigned w = 0; w < workers_; ++w) unpark(w);
}

void idle::unpark(unsigned worker) noexcept {
  (*parkers_[worker])->unpark();
  fence(memory_order_seq_cst);  // pairs with the fence in begin_poll
  if (poller_.load(memory_order_relaxed) == static_cast<int>(worker))
    if (auto fn = break_fn_.load(memory_order_acquire)) fn(break_arg_);
}

bool idle::begin_poll(unsigned worker) noexcept {
  poller_.store(static_cast<int>(worker), memory_order_relaxed);
  fence(memory_order_seq_cst);  // pairs with the fence in unpark
  return !(*parkers_[worker])->pending();
}

void idle::end_poll(unsigned worker) noexcept {
  poller_.store(-1, memory_order_relaxed);
  (*parkers_[worker])->clear();
}

bool idle::begin_search() noexcept {
  // The limit is a heuristic: a racy read is fine (tokio does the same).
  std::uint32_t s = state_->load(memory_order_relaxed);
  if (2 * (s & 0xffff) >= workers_) return false;
  state_->fetch_add(one_searching, memory_order_relaxed);  // no data is published by becoming a searcher
  return true;
}

bool idle::end_search() noexcept {
  std::uint32_t prev = state_->fetch_sub(one_searching, memory_order_acq_rel);  // S1; see header
  fence(memory_order_seq_cst);  // pairs with the fence in notify_one()
  return (prev & 0xffff) == 1;
}

void idle::begin_park(unsigned worker, bool searching) noexcept {
  lock_.lock();
  sleepers_.push_back(worker);
  asleep_[worker] = true;
  state_->fetch_sub(one_unparked + (searching ? one_searching : 0), memory_order_acq_rel);  // S1; see header
  GO_CHECK_INVARIANTS(*this);
  lock_.unlock();
  fence(memory_order_seq_cst);  // pairs with the fence in notify_one(); S2 follows
}

// Leave the sleeper list ourselves, coming back as a searcher; false if a producer took
// us off it already (it did the accounting and unparks us).
bool idle::leave_sleepers(unsigned worker) noexcept {
  lock_.lock();
  const bool listed = asleep_[worker];
  if (listed) {
    sleepers_.erase(std::find(sleepers_.begin(), sleepers_.end(), worker));
    asleep_[worker] = false;
    state_->fetch_add(one_unparked + one_searching, memory_order_relaxed);  // ordered by lock_
  }
  GO_CHECK_INVARIANTS(*this);
  lock_.unlock();
  return listed;
}

void idle::finish_park(unsigned worker) noexcept { (void)leave_sleepers(worker); }

void idle::cancel_park(unsigned worker) noexcept {
  // A producer picked us between begin_park and now, and has unparked (or will unpark)
  // us with the accounting done. Wait for its unpark so it is not left pending.
  if (!leave_sleepers(worker)) (*parkers_[worker])->park();
}

}  // namespace go::detail
