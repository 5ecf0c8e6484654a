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

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <thread>
#include <string>
#include <vector>

#include "go/config.hpp"
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
  idle,      // this P found nothing to run: the run before it ends here
  name,      // goid's root function is the code at address t0 (its first run)
};

// How a run ended, when it did not park (else its wait_reason); 0: no run before.
inline constexpr std::uint8_t trace_yield = 0xfe, trace_exit = 0xff;

// One clock read per run: a run's end is the next timestamped event of its P (the next
// run, an idle mark, a steal, ...); a ready or spawn made by a running goroutine takes
// its run's start as its time (the arrow leaves from inside the slice), so it costs no
// clock read either.
struct trace_ev {
  std::uint64_t t0 = 0;          // TSC (name: the function's address)
  std::uint64_t goid = 0;
  std::uint32_t stamp = 0;       // run, ready, spawn: the arrow's id is (goid << 32) | stamp
  std::uint32_t count = 0;       // steal, timers, poll
  trace_kind kind = trace_kind::run;
  std::uint8_t prev_end = 0;     // every timestamped event on a P: how the P's previous run ended
  std::uint8_t from_blocking = 0;  // ready: the goroutine's go::blocking call ended
  std::uint8_t own_time = 0;     // ready, spawn: 1 if made outside a run (t0 is its own clock read)
  std::uint16_t other = 0;       // steal: the victim
};
static_assert(sizeof(trace_ev) == 32);

class tracer;

// A P's events: fixed chunks, written out by the tracer's writer thread as each fills
// and then reused, so a long trace touches the same few hundred KiB over and over
// instead of faulting in fresh memory (which cost more than the recording itself).
struct trace_buffer {
  static constexpr std::size_t chunk_events = std::size_t{1} << 14;  // 640 KiB
  trace_ev* chunk = nullptr;  // owner only
  std::size_t n = 0;
  std::uint64_t run_t0 = 0;   // the running goroutine's start (owner only)
  std::uint8_t last_end = 0;  // how the last run ended, for the P's next timestamped event
  int tid = 0;
  tracer* owner = nullptr;
  void add(const trace_ev& e) {
    if (GO_UNLIKELY(n == chunk_events)) next_chunk();
    chunk[n++] = e;
  }
  void next_chunk();
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

  // The recording side. pp: the calling worker's P (owner only); events from other
  // threads go to the shared buffer, under the mutex.
  void add(p* pp, const trace_ev& e);
  // A full chunk: queue it for the writer, return an empty one.
  trace_ev* swap_chunk(int tid, trace_ev* full, std::size_t n);

 private:
  struct written {
    int tid;
    trace_ev* chunk;
    std::size_t n;
  };
  void writer_main();
  trace_ev* fresh_chunk();  // under mu_

  atomic<bool> on_{false};
  std::mutex mu_;                // everything below
  std::condition_variable cv_;   // the writer's queue
  std::vector<written> queue_;
  std::vector<trace_ev*> free_;  // chunks to reuse
  std::vector<trace_ev*> all_;   // every chunk, freed at stop
  bool writer_stop_ = false;
  std::thread writer_;
  std::FILE* raw_ = nullptr;     // the chunks, as they fill
  std::uint64_t dropped_ = 0;    // a write that failed
  trace_buffer shared_;          // events from threads that hold no P
  std::string path_;
  std::uint64_t tsc0_ = 0;       // calibration: TSC and nanotime at start
  std::int64_t ns0_ = 0;
};

}  // namespace go::detail
