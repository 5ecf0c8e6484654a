// worker: one M, the thread that holds one P for its whole life and runs that P's
// goroutines (Go's schedule / findRunnable / execute in proc.go). How it looks for work
// and when it sleeps is written at the top of worker.cpp.
//
// Fields and who may touch them: everything here is the worker thread's own (its P's
// owner), except `q_`, whose queue others steal from through the P (runq.hpp), and
// which the shutdown sweep drains after the thread has ended. s_ and pp_ are
// immutable; the worker's number is its P's (pp_.id).
#pragma once

#include <cstdint>
#include <vector>

#include "go/detail/g.hpp"
#include "runtime/p.hpp"
#include "runtime/runq.hpp"

namespace go::detail {
class sched;

class worker {
 public:
  worker(sched& s, p& pp) noexcept;
  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  // The thread's body: schedule until the runtime stops.
  void main();

  // Owner only (the running g's worker): put gp on this P's queue, in runnext (kicking
  // the old one to the tail) or at the tail. Returns whether other Ps can now steal
  // something new, i.e. whether it is worth waking one: a g only in runnext is not
  // (tokio's LIFO-slot rule).
  bool put(g* gp, bool next) noexcept;

  // The owner's handle on the local queue: the shutdown sweep drains it once the
  // thread has ended.
  runq::local& local_queue() noexcept { return q_; }

 private:
  g* find_runnable();
  g* take_global() noexcept;
  g* steal(bool patient) noexcept;
  g* spin_for_work() noexcept;
  bool watch_others() noexcept;
  bool work_to_take() const noexcept;
  void park() noexcept;
  GO_NOINLINE void overflow(g* gp) noexcept;
  GO_ALWAYS_INLINE void execute(g* gp) noexcept;
  GO_ALWAYS_INLINE void execute_diag(g* gp) noexcept;
  template <bool Diag>
  GO_ALWAYS_INLINE void run_g(g* gp) noexcept;
  GO_ALWAYS_INLINE void diag_run_begin(g* gp, bool first) noexcept;
  void diag_run_begin_slow(g* gp, bool first) noexcept;
  GO_ALWAYS_INLINE void diag_run_end(std::uint8_t how) noexcept;

  sched& s_;
  p& pp_;
  runq::local q_;  // the owner's side of pp_.q
  bool searching_ = false;            // counted as a searcher in idle (idle.hpp)
  std::uint32_t runnext_streak_ = 0;  // runnext taken in a row while the queue had work
  std::vector<std::uint64_t> steal_seen_;  // other Ps' schedticks when we last looked
  // We sleep with a deadline to see whether a P with queued work is stuck in one
  // goroutine (park); how long the next such watch lasts (backs off).
  bool watching_ = false;
  std::int64_t watch_until_ = 0;  // when the watch ends (nanotime)
  std::int64_t watch_ns_ = 0;
};

}  // namespace go::detail
