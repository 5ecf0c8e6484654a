// struct p: a processor (Go's P), the right to run goroutines, with its local run
// queue, runnext slot and caches. Each worker thread holds exactly one P for its life.
//
// Fields and who may touch them:
//   q                  the local run queue (runq.hpp): any P steals through it; only the
//                      owner's worker pushes and pops, through its runq::local handle
//   runnext            owner stores (exchange) and takes; thieves take by CAS. acquire on
//                      every take pairs with the release of the exchange that put it.
//   schedtick          owner writes (relaxed store); sysmon reads it to see progress.
//   cur_goid           owner writes; sysmon and stats read (relaxed, diagnostic).
//   polling            set and cleared (relaxed) by the owner's worker around a poll of the
//                      netpoll it holds the lock of (netpoll::batch); thieves read it
//                      (relaxed, a hint: the steal itself synchronizes through q) to take
//                      what the poll readies at once (worker::steal, stealable_now).
//   counters           owner writes (relaxed store of load+1: no RMW on the hot path);
//                      stats read them relaxed.
//   rng, goid_next/end,
//   frames             owner only (whoever runs a g on this P: its worker).
//   timers             the P's timer heap, with its own lock (timers.hpp)
#pragma once

#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "go/detail/atomic.hpp"
#include "go/detail/g.hpp"
#include "go/detail/spinlock.hpp"
#include "runtime/frame_alloc.hpp"
#include "runtime/runq.hpp"
#include "runtime/timers.hpp"
#include "runtime/trace.hpp"

namespace go::detail {

// An owner-written counter: the owner bumps it without a locked instruction.
struct p_counter {
  atomic<std::uint64_t> v{0};
  void inc() noexcept { v.store(v.load(memory_order_relaxed) + 1, memory_order_relaxed); }
  std::uint64_t get() const noexcept { return v.load(memory_order_relaxed); }
};

struct p {
  p(unsigned id_, frame_central& central) : id(id_), frames(central) {}

  const unsigned id;
  runq q;
  alignas(64) atomic<g*> runnext{nullptr};
  atomic<std::uint64_t> schedtick{0};
  atomic<std::uint64_t> cur_goid{0};
  // A line of its own: the owner writes it twice per poll, searchers read it, and the
  // line above changes with every goroutine the owner runs.
  alignas(64) atomic<bool> polling{false};
  // A g this P's worker holds while it waits for a stop of the world to end (the dump
  // lists it with the queued ones); written by the owner with the world running.
  alignas(64) g* in_hand = nullptr;
  std::uint64_t rng = 0;
  std::uint64_t goid_next = 0, goid_end = 0;
  p_counter spawned, exited, steals, parks;
  p_counter yields;                    // go::yield()s (parks are runs - exits - yields)
  p_counter latency[40];               // runtime_options::sched_latency: log2 buckets of ns
  trace_buffer trace;                  // owner only: events while tracing (trace.hpp)
  // The block profile's table, by (wait reason, await site): count and total ns.
  struct blocked {
    std::uint64_t count = 0, total_ns = 0;
  };
  spinlock prof_lock{lock_rank::profile};
  std::map<std::pair<std::uint8_t, const void*>, blocked> prof;  // protected by prof_lock
  frame_cache frames;

  timer_heap timers;  // any thread may add or stop; see timers.hpp

  std::uint32_t fastrand() noexcept {  // wyrand; owner only
    rng += 0xa0761d6478bd642full;
    __uint128_t m = static_cast<__uint128_t>(rng) * (rng ^ 0xe7037ed1a0b428dbull);
    return static_cast<std::uint32_t>((m >> 64) ^ m);
  }
};

}  // namespace go::detail
