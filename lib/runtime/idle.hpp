// idle: which workers are searching for work and which are asleep, and the protocol
// that wakes one when work appears (Go's nmspinning / npidle / wakep, tokio's idle.rs).
//
// State word: state_ = (unparked << 16) | searching.
//   searching  workers that ran out of local work and are looking at the global queue
//              and other Ps' run queues (Go's "spinning Ms")
//   unparked   workers not asleep (running a g, searching, or between the two)
// At most about half the workers search at once (begin_search refuses the rest): more
// searchers only burn CPU stealing from each other.
//
// The protocol, and why no wakeup is lost:
//   Producer (ready/spawn, notify_one):   P1. publish the g in a run queue
//                                         P2. seq_cst fence, then load state_
//                                         P3. if searching == 0 and someone sleeps: wake one,
//                                             accounted as unparked and searching.
//   Searcher that stops (end_search /     S1. RMW state_ (drop searching, and unparked),
//   begin_park):                              then a seq_cst fence
//                                         S2. look once more at every queue it may
//                                             take from (sched::work_to_take).
// This is Dekker's pattern: each side writes, fences, then reads what the other wrote.
// Two seq_cst fences are totally ordered, so either the producer's fence comes first,
// and the searcher's S2 sees the g published in P1, or the searcher's comes first, and
// the producer's P2 sees the dropped count (and wakes someone if no searcher is left).
// S2 skips a short local queue of another P: only the owner pushes to its local queue,
// so the owner is awake and will run it (and a sleeper's watch takes it if the owner
// turns out to be stuck). What a producer must not lose is a g no awake worker will
// run: one in the global queue or a backlog, which S2 does see.
// A producer that sees searching > 0 relies on those searchers: each of them passes
// through S1/S2 before it sleeps, and a searcher that finds work and was the last one
// wakes a replacement (the caller of end_search), since more work may be waiting (Go's
// resetspinning).
//
// Rejected: an RMW of state_ in P2 instead of the fence (fetch_add(0), as tokio does).
// It is just as correct, and TSan can follow it, but it takes the cache line of state_
// exclusively on every ready that leaves stealable work, so the line bounced between
// cores on every channel operation of a busy pipeline. A fence and a plain load keep it
// shared (Go's wakep does the same, its StoreLoad barrier being the locked instruction
// that published the g). The fences order only the wakeup decision; the g's data is
// published by the run queue's own release/acquire, which TSan does follow.
//
// Model-checked on this code (test/model/model_test.cpp): "idle: ..." runs a worker
// going to sleep against one and two producers, and begin_poll against unpark, in every
// schedule within the bound, with x86-TSO store buffers (it finds P2's fence missing);
// "parker: ..." the parker's unpark before, during and after park.
#pragma once

#include <cstdint>
#include <ctime>
#include <memory>
#include <vector>

#include "go/detail/atomic.hpp"
#include "go/detail/cacheline.hpp"
#include "go/detail/spinlock.hpp"
#include "go/detail/timer.hpp"

namespace go::detail {

// One worker's sleep: a flag and a futex on it, with an optional deadline. (Not
// std::atomic::wait: libstdc++'s notify may skip the syscall when its own waiter count
// says nobody waits, and it has no timed wait.)
class parker {
 public:
  // Sleep until unpark() or, if deadline != never, until nanotime() >= deadline.
  // Returns whether an unpark was consumed.
  bool park(std::int64_t deadline = never) noexcept {
    // acquire pairs with the release exchange in unpark(): what the waker did before
    // waking us (its accounting, the work it published) is visible.
    while (notified_.exchange(0, memory_order_acquire) == 0) {
      if (deadline == never) {
        futex_wait(nullptr);
        continue;
      }
      std::int64_t left = deadline - nanotime();
      if (left <= 0) return false;
      timespec ts{static_cast<time_t>(left / 1'000'000'000), static_cast<long>(left % 1'000'000'000)};
      futex_wait(&ts);
    }
    return true;
  }
  void unpark() noexcept {
    notified_.exchange(1, memory_order_release);  // pairs with the acquire in park()
    futex_wake(notified_, 1);
  }
  // Consume a pending unpark, if any, without sleeping.
  void clear() noexcept { notified_.exchange(0, memory_order_acquire); }
  bool pending() const noexcept { return notified_.load(memory_order_relaxed) != 0; }

 private:
  void futex_wait(const timespec* timeout) noexcept {
    // Returns at once if the flag is no longer 0 (an unpark came first); spurious
    // returns and EINTR just loop in park().
    detail::futex_wait(notified_, 0, timeout);
  }
  atomic<std::uint32_t> notified_{0};
};

class idle {
 public:
  explicit idle(unsigned workers);

  // Producer side (P2, P3). Cheap when a searcher exists or nobody sleeps.
  void notify_one() noexcept;
  // Wake every sleeper regardless of accounting (shutdown).
  void notify_all() noexcept;

  // Become a searcher, unless half the workers already search.
  bool begin_search() noexcept;
  // Stop searching (S1, having found work). True if this was the last searcher: the
  // caller should notify_one() so that someone keeps looking.
  bool end_search() noexcept;

  // S1 for a worker about to sleep: leave the unparked (and searching) counts and join
  // the sleepers. The caller then re-checks every queue (S2) and calls cancel_park if it
  // finds work, else sleeps in park().
  void begin_park(unsigned worker, bool searching) noexcept;
  // Undo begin_park: come back as a searcher. If a producer already woke us, just consume
  // its unpark (it did the accounting).
  void cancel_park(unsigned worker) noexcept;
  // Sleep until notify_one (or notify_all, or wake()) picks us, or until deadline. Then
  // call finish_park.
  void park(unsigned worker, std::int64_t deadline) noexcept { (void)(*parkers_[worker])->park(deadline); }
  // Sleep in the poller instead (netpoll.hpp): begin_poll announces it, so that an
  // unpark of this worker also interrupts the poller, and returns false if an unpark
  // came first (then do not block). end_poll consumes the unpark, if any. Dekker again:
  // begin_poll stores poller_, fences, reads the parker's flag; unpark sets the flag,
  // fences, reads poller_.
  bool begin_poll(unsigned worker) noexcept;
  void end_poll(unsigned worker) noexcept;
  int poller() const noexcept { return poller_.load(memory_order_relaxed); }
  // How to interrupt the poller (set once, before anyone polls).
  void set_breaker(void (*fn)(void*) noexcept, void* arg) noexcept {
    break_arg_ = arg;
    break_fn_.store(fn, memory_order_release);
  }
  // After park: if nobody took us off the sleeper list (a timeout, wake(), shutdown),
  // leave it ourselves. Either way we come back as a searcher.
  void finish_park(unsigned worker) noexcept;
  // Wake one particular sleeper without taking it off the list (a timer became due
  // earlier than it planned to wake): it calls finish_park itself. A wake that arrives
  // after it woke anyway makes its next park return at once, which is harmless.
  void wake(unsigned worker) noexcept { unpark(worker); }

  unsigned searching() const noexcept { return state_->load(memory_order_relaxed) & 0xffff; }
  unsigned unparked() const noexcept { return state_->load(memory_order_relaxed) >> 16; }
  std::uint64_t unparks() const noexcept { return unparks_.load(memory_order_relaxed); }

  // Under lock_: unparked + sleepers == workers, and asleep_[w] iff w is listed.
  void check() const noexcept;

 private:
  bool leave_sleepers(unsigned worker) noexcept;
  void unpark(unsigned worker) noexcept;

  static constexpr std::uint32_t one_unparked = 1u << 16;
  static constexpr std::uint32_t one_searching = 1u;

  const unsigned workers_;
  cache_padded<atomic<std::uint32_t>> state_;
  spinlock lock_{lock_rank::idle};
  std::vector<unsigned> sleepers_;  // protected by lock_
  std::vector<bool> asleep_;        // protected by lock_: asleep_[w] iff w is in sleepers_
  std::vector<std::unique_ptr<cache_padded<parker>>> parkers_;
  atomic<std::uint64_t> unparks_{0};
  atomic<int> poller_{-1};  // the worker sleeping in the poller, if any
  atomic<void (*)(void*) noexcept> break_fn_{nullptr};
  void* break_arg_ = nullptr;  // published by break_fn_
};

}  // namespace go::detail
