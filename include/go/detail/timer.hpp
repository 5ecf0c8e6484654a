// timer_node: one pending timer in a P's timer heap (Go's runtime.timer), and the
// operations the public time API (go/time.hpp) is built on.
//
// Every P has a 4-ary min-heap of timers ordered by `when` (lib/runtime/timers.hpp). A
// timer is added to the heap of the P that starts it; the scheduler runs a P's expired
// timers when that worker schedules, idle workers run every P's, and an idle worker
// sleeps no longer than the earliest deadline.
//
// Fields, and who may touch them:
//   when, period, index   protected by the lock of the heap that holds the node.
//   heap                  the heap that holds the node, or null: written under that
//                         heap's lock; read by stop() without it, then re-checked under it.
//   home                  the heap it was last added to; written by whoever starts it,
//                         read by whoever stops it (those two are serialized by the owner).
//   ops, arg              set before the first start, immutable afterwards.
// A node in a heap must stay alive until it is stopped or has fired: the sleep awaiter
// keeps it in the coroutine frame and removes it in its destructor; go::timer's impl is
// reference-counted, the heap holding one reference while the node is queued.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>

#include "go/config.hpp"
#include "go/detail/atomic.hpp"
#include "go/detail/g.hpp"

namespace go::detail {

class timer_heap;
struct timer_node;

// Monotonic nanoseconds (steady_clock): the time base of every timer.
inline std::int64_t nanotime() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
inline constexpr std::int64_t never = std::numeric_limits<std::int64_t>::max();

// now + d, saturating: a huge duration means "never", not an overflow into the past.
template <class Rep, class Period>
std::int64_t deadline_after(std::int64_t now, std::chrono::duration<Rep, Period> d) noexcept {
  using namespace std::chrono;
  if (d <= d.zero()) return now;
  if (duration_cast<duration<double, std::nano>>(d).count() >= static_cast<double>(never - now)) return never;
  return now + duration_cast<nanoseconds>(d).count();
}

// What firing timers produce: goroutines to ready, and nodes whose ops->later must run,
// both acted on after the heap's lock is released.
struct fire_batch {
  static constexpr int capacity = 64;
  g* ready[capacity];
  timer_node* later[capacity];
  int nready = 0, nlater = 0;
  bool full() const noexcept { return nready == capacity || nlater == capacity; }
};

// What a kind of timer does.
struct timer_ops {
  // Runs under the heap's lock, with the node already out of the heap (a periodic one
  // is back in it with its next deadline). Short and non-blocking: it may lock a
  // channel, and defer the rest to `out`. It may drop the heap's reference to t.
  void (*fire)(timer_node* t, std::int64_t now, fire_batch& out) noexcept;
  // Runs after the lock is released, for a node fire() put in out.later (which keeps
  // the node alive until then), on a worker or sysmon of the runtime s.
  void (*later)(timer_node* t, sched* s) noexcept;
  // The runtime stops with t still in a heap: drop the heap's reference (or nothing).
  void (*drop)(timer_node* t) noexcept;
};

struct timer_node {
  static constexpr std::uint32_t npos = 0xffffffff;

  std::int64_t when = 0;
  std::int64_t period = 0;  // > 0: fires again every period (a ticker)
  const timer_ops* ops = nullptr;
  void* arg = nullptr;
  atomic<timer_heap*> heap{nullptr};
  timer_heap* home = nullptr;  // the heap it was last added to (see timer_settle)
  std::uint32_t index = npos;
};

// Start t to fire at `when`, in the heap of the calling goroutine's P. t must not be in
// a heap. Throws go::error(no_runtime), naming `what`, off the runtime's workers.
GO_API void timer_start(timer_node* t, std::int64_t when, const char* what);
// Take t out of its heap if it is in one; true if it was (it will not fire). Needs no
// runtime: a timer that outlived its runtime is in no heap.
GO_API bool timer_stop(timer_node* t) noexcept;
// After a timer_stop that returned false: wait until a firing of t that is still under
// way (it took t out of the heap, but its fire function may still be delivering) has
// finished. A firing runs under its heap's lock: taking that lock once is enough.
GO_API void timer_settle(timer_node* t) noexcept;

}  // namespace go::detail
