// timer_set: every P's timer heap seen as one (Go's checkTimers over allp, and the
// timer side of findRunnable's sleep): adding a timer and waking the timed sleeper for
// it, firing due timers, and the earliest deadline of all.
//
// Who runs timers: each worker fires its own P's due timers whenever it schedules; a
// searching worker fires every P's (their owners may be busy in long goroutines); sysmon
// fires the ones that are late by a whole period (every worker busy). Any thread may
// fire any heap: a heap has its own lock (timers.hpp).
//
// The timed sleeper (timed_sleeper.hpp) is the one sleeping worker that wakes for the
// earliest timer; add() wakes it when a new timer is due before it planned to wake.
//
// Fields: sleeper is the protocol's state (timed_sleeper.hpp); fired_ is a statistic
// (relaxed counter); ps_ is immutable after construction.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "go/detail/atomic.hpp"
#include "go/detail/timer.hpp"
#include "runtime/timed_sleeper.hpp"

namespace go::detail {
class sched;
struct p;

class timer_set {
 public:
  explicit timer_set(sched& s) noexcept : s_(s) {}
  timer_set(const timer_set&) = delete;
  timer_set& operator=(const timer_set&) = delete;

  // Put t in pp's heap to fire at when, and wake the timed sleeper if t is due before
  // it planned to wake (A1-A3 of timed_sleeper.hpp).
  void add(p& pp, timer_node* t, std::int64_t when) noexcept;
  // Fire pp's timers that are due at now (any thread may). True if it readied a g.
  bool run(p& pp, std::int64_t now) noexcept;
  // Fire every P's due timers (a searcher's look). True if it readied a g.
  bool run_all() noexcept;
  // The earliest deadline over every P's heap (never if none).
  std::int64_t earliest() const noexcept;
  // Timers fired so far (runtime_stats::timers_fired).
  std::uint64_t fired() const noexcept { return fired_.load(memory_order_relaxed); }

  timed_sleeper sleeper;

 private:
  sched& s_;
  atomic<std::uint64_t> fired_{0};
};

}  // namespace go::detail
