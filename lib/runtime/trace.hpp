// The execution tracer (Go's runtime/trace, written as Chrome trace-event JSON that
// Perfetto and chrome://tracing load): GOCORO_TRACE=out.json, or runtime::start_trace /
// stop_trace. lib/runtime/trace.cpp writes the file.
//
// Recording: each P appends fixed-size events to its own buffer, which only its worker
// touches (no lock, no atomic: a P belongs to one worker for life); threads outside the
// workers (spawns and readies from outside, the blocking pool, sysmon) append to one
// buffer under a mutex. Timestamps are the TSC (a few cycles), turned into nanoseconds
// with a calibration taken at start and stop. A buffer that reaches max_events drops the
// rest and counts them. Everything is written when tracing stops (runtime::stop_trace, or
// the runtime's stop): the events are joined there into slices and flow arrows.
//
// What is recorded, and where the cost is when tracing is off: one predictable branch
// on `on` at each of execute, ready, spawn, yield, steal, timer and poll sites.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "go/detail/atomic.hpp"
#include "go/detail/timer.hpp"

namespace go::detail {

class sched;
struct g;
struct p;

enum class trace_kind : std::uint8_t {
  run,       // a run of goroutine goid on this P, t0..t1; reason: how it ended; flow: its ready
  ready,     // goid made runnable (flow: the arrow's id); on the readier's track
  spawn,     // goid spawned (flow: the arrow's id)
  steal,     // this P stole `count` goroutines from P `other`
  timers,    // this P fired `count` timers
  poll,      // this P's poll of the poller completed `count` operations
};

// run's reason for a run that did not park.
inline constexpr std::uint8_t trace_yield = 0xfe, trace_exit = 0xff;

struct trace_ev {
  std::uint64_t t0 = 0, t1 = 0;  // TSC
  std::uint64_t goid = 0;
  std::uint64_t flow = 0;        // (goid << 32) | the ready's stamp; 0: none
  const void* fn = nullptr;      // run: the root function, on a goroutine's first run
  trace_kind kind = trace_kind::run;
  std::uint8_t reason = 0;       // run: the wait_reason it parked with, trace_yield or trace_exit
  std::uint8_t from_blocking = 0;  // ready: the goroutine's go::blocking call ended
  std::uint16_t other = 0;       // steal: the victim
  std::uint32_t count = 0;
};

struct trace_buffer {
  static constexpr std::size_t max_events = std::size_t{1} << 20;  // 40 MiB per P at most
  std::vector<trace_ev> evs;
  std::uint64_t dropped = 0;
  void add(const trace_ev& e) {
    if (evs.size() < max_events)
      evs.push_back(e);
    else
      ++dropped;
  }
};

inline std::uint64_t trace_clock() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_ia32_rdtsc();
#else
  return static_cast<std::uint64_t>(nanotime());
#endif
}

class tracer {
 public:
  // Start recording for s (throws go::error if a trace is already on or the path is
  // empty); stop: write the file. Both from any thread.
  void start(sched& s, std::string path);
  bool stop(sched& s);  // false if no trace was on
  bool on() const noexcept { return on_.load(memory_order_relaxed); }

  // The recording side. p_events: the calling worker's P (owner only); shared events
  // from other threads take the mutex.
  void add(p* pp, const trace_ev& e);

 private:
  atomic<bool> on_{false};
  std::mutex mu_;              // shared_, and start/stop
  trace_buffer shared_;        // events from threads that hold no P
  std::string path_;
  std::uint64_t tsc0_ = 0;     // calibration: TSC and nanotime at start
  std::int64_t ns0_ = 0;
};

}  // namespace go::detail
