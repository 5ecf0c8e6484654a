// timed_sleeper: which sleeping worker sleeps with a deadline (Go's sched.pollUntil),
// and the protocol that wakes it when a timer due earlier is added, or when a goroutine
// starts to wait for I/O while it sleeps outside the poller.
//
// At most one sleeping worker is the timed sleeper: it sleeps until the earliest timer
// of every P's heap (and in the poller, if goroutines wait for I/O); the others sleep
// until woken. The role is claimed by a CAS of who_ and given back by release().
//
// The protocol, and why no timer is missed (Dekker, as in idle.hpp):
//   Sleeper (worker_loop::park):      T1. claim: CAS who_ -1 -> me; until_ = never ("deciding")
//                                     T2. seq_cst fence
//                                     T3. read every heap's head: the deadline; until_ = it
//   Adder (timer_set::add), t became  A1. publish t in its heap (the heap's lock)
//   its heap's earliest:              A2. seq_cst fence
//                                     A3. if who_ >= 0 and t is due before until_: wake who_
// The fences are totally ordered: if the adder's comes first, T3 sees t; if the
// sleeper's comes first, A3 sees who_ and either never (still deciding: wake) or the
// deadline T3 read without t (later than t, or it would have seen it: wake).
//   I/O waiter (poller::wait_begin):  W1. seq_cst increment of the netpoll waiter count
//                                     W2. seq_cst load of who_: wake it unless it polls
//   Sleeper, after T3:                T4. seq_cst load of the waiter count: poll if > 0
// Both sides are seq_cst accesses (W1's RMW, the CAS in T1), so either T4 sees the
// waiter or W2 sees the sleeper.
//
// Model-checked on this code (test/model/model_test.cpp): "timed sleeper: ..." runs T1-T4
// against A1-A3 and against W1-W2 in every schedule within the bound, with x86-TSO store
// buffers; without T2's fence (or A2's) it finds the missed timer.
//
// Fields: who_ and until_ are written by the sleeper holding the role (until_) or
// claiming/releasing it (who_); read by any thread.
#pragma once

#include <cstdint>

#include "go/detail/atomic.hpp"
#include "go/detail/timer.hpp"

namespace go::detail {

class timed_sleeper {
 public:
  // T1, T2. False if another worker holds the role. True: the caller reads the heads of
  // the heaps (T3) and passes what it found to decided().
  bool claim(unsigned worker) noexcept {
    int none = -1;
    // seq_cst: pairs with the seq_cst load in holder() (W2 against T4).
    if (!who_.compare_exchange_strong(none, static_cast<int>(worker), memory_order_seq_cst, memory_order_relaxed))
      return false;
    until_.store(never, memory_order_relaxed);  // deciding: the fence orders it before T3
    fence(memory_order_seq_cst);                // T2: pairs with A2 in timer_added()
    return true;
  }
  // T3's result: the deadline the sleeper sleeps until.
  void decided(std::int64_t deadline) noexcept { until_.store(deadline, memory_order_relaxed); }
  // The sleeper is awake: anyone may claim the role again.
  void release() noexcept { who_.store(-1, memory_order_release); }

  // A2, A3: a timer due at `when` has just become its heap's earliest (A1 done). The
  // worker to wake, or -1.
  int timer_added(std::int64_t when) noexcept {
    fence(memory_order_seq_cst);  // A2: pairs with T2 in claim()
    const int w = who_.load(memory_order_relaxed);
    return w >= 0 && when < until_.load(memory_order_relaxed) ? w : -1;
  }
  // W2: the sleeper after a seq_cst increment of the waiter count (W1), or -1.
  int holder() const noexcept { return who_.load(memory_order_seq_cst); }

 private:
  atomic<int> who_{-1};
  atomic<std::int64_t> until_{never};
};

}  // namespace go::detail
