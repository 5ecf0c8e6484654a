// Every P's timer heap seen as one; see timer_set.hpp.
#include "runtime/timer_set.hpp"

#include <algorithm>

#include "runtime/sched.hpp"

namespace go::detail {

void timer_set::add(p& pp, timer_node* t, std::int64_t when) noexcept {
  // A1. Not the earliest of its heap: whoever sleeps with a deadline wakes for an
  // earlier one.
  if (!pp.timers.add(t, when)) return;
  // A2, A3. No timed sleeper: the worker adding to its own heap looks at it whenever it
  // schedules, and sleeps with a deadline if it goes idle (sysmon covers one stuck in a
  // long goroutine).
  if (const int w = sleeper.timer_added(when); w >= 0) s_.idlers.wake(static_cast<unsigned>(w));
}

bool timer_set::run(p& pp, std::int64_t now) noexcept {
  bool any = false;
  for (;;) {
    fire_batch b;
    pp.timers.run(now, b);
    if (const int n = b.nready + b.nlater) {
      fired_.fetch_add(static_cast<std::uint64_t>(n), memory_order_relaxed);  // a statistic
      if (GO_UNLIKELY(s_.trace.on())) {
        trace_ev e;
        e.kind = trace_kind::timers;
        e.t0 = trace_clock();
        e.count = static_cast<std::uint32_t>(n);
        s_.trace_add(e);
      }
    }
    // Outside the heap's lock (HACKING.md rule 2): ready the sleepers, run the callbacks.
    for (int i = 0; i < b.nready; ++i) s_.ready(b.ready[i]);
    for (int i = 0; i < b.nlater; ++i) b.later[i]->ops->later(b.later[i], &s_);
    any = any || b.nready > 0 || b.nlater > 0;
    if (!b.full()) return any;
  }
}

bool timer_set::run_all() noexcept {
  const std::int64_t first = earliest();
  if (first == never) return false;
  const std::int64_t now = nanotime();
  if (first > now) return false;
  bool any = false;
  for (auto& q : s_.ps)
    if (q->timers.next() <= now) any = run(*q, now) || any;
  return any;
}

std::int64_t timer_set::earliest() const noexcept {
  std::int64_t first = never;
  for (const auto& q : s_.ps) first = std::min(first, q->timers.next());
  return first;
}

}  // namespace go::detail
