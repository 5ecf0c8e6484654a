// The execution tracer (Go's runtime/trace, written as Chrome trace-event JSON that
// Perfetto and chrome://tracing load): GOCORO_TRACE=out.json, or runtime::start_trace /
// stop_trace. lib/runtime/trace.cpp writes the file.
//
// Recording: each P appends encoded events to its own buffer, which only its worker
// touches (no lock, no atomic: a P belongs to one worker for life); threads outside the
// workers (spawns and readies from outside, the blocking pool, sysmon) append to one
// buffer under a mutex. Timestamps are the TSC (a few cycles), turned into nanoseconds
// with a calibration taken at start and stop. A buffer is a chunk that a writer thread
// appends to a temporary file when it fills, then hands back; the JSON is written when
// tracing stops (runtime::stop_trace, or the runtime's stop): the events are joined
// there into slices and flow arrows.
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
#include <utility>
#include <vector>

#include "go/config.hpp"
#include "go/detail/atomic.hpp"
#include "go/detail/os_mutex.hpp"
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
//
// trace_ev is the decoded form. A buffer holds each event in one to three 64-bit words
// (a run in two, a ready inside a run in one, against 32 bytes decoded), written with a
// few shifts and stores: at millions of events a second the recording's instructions
// and bytes are the tracer's whole cost. The first word's low byte is the head:
//   kind | from_blocking << 3 | own_time << 4 | locked << 5
// A timed event (every kind but name, and a ready or spawn made outside a run):
//   word 0  head | (t0 - the trace's start) << 8         (56 bits of TSC; the upper half reads as 0)
//   word 1  prev_end | payload << 8
//           run, ready, spawn: stamp (8 bits) | goid (48 bits) << 8
//           steal: count (32 bits) | other << 32; timers, poll: count (32 bits)
//   a locked goroutine's run (head bit 5, on its thread, recorded whole at its end into
//   the shared buffer): word 2  (t1 - the trace's start) | the thread's number << 56
// A ready or spawn inside a run (no time: the reader takes its track's last run start):
//   word 0  head | stamp << 8 | goid << 16
// name (goid's root function): word 0 head, word 1 goid, word 2 the function's address.
// The stamp is the goroutine's count of readies mod 256; the arrow's id is
// goid << 8 | stamp, which pairs a ready with the goroutine's next run (a reused id is
// 256 readies away, and flow events bind in time order). goids past 2^48 wrap.
struct trace_ev {
  std::uint64_t t0 = 0;          // TSC since the trace's start (name: the function's address)
  std::uint64_t goid = 0;
  std::uint32_t stamp = 0;       // run, ready, spawn: the arrow's id is goid << 8 | stamp
  std::uint32_t count = 0;       // steal, timers, poll
  trace_kind kind = trace_kind::run;
  std::uint8_t prev_end = 0;     // every timestamped event on a P: how the P's previous run ended
  std::uint8_t from_blocking = 0;  // ready: the goroutine's go::blocking call ended
  std::uint8_t own_time = 0;     // ready, spawn: 1 if made outside a run (t0 is its own clock read)
  std::uint16_t other = 0;       // steal: the victim; a locked run: its thread's number
  std::uint8_t locked = 0;       // run: of a locked goroutine, on its own thread, t0..t1
  std::uint64_t t1 = 0;
  bool timed() const noexcept { return (kind != trace_kind::ready && kind != trace_kind::spawn && kind != trace_kind::name) || own_time; }
};
static_assert(sizeof(trace_ev) == 40);

// The encoding above. encode writes at most trace_max_words words and returns how many;
// it is inline so that each call site, whose kind is a constant, keeps only its own
// fields' code. decode reads one event at p (no further than end) and returns the word
// after it, or nullptr for a truncated or malformed event.
inline constexpr std::size_t trace_max_words = 3;
inline constexpr std::uint64_t trace_goid_mask = (std::uint64_t{1} << 48) - 1;
// The words' parts, shared by trace_encode and the hot paths that write a run or a
// ready's word directly.
constexpr std::uint64_t trace_head(trace_kind k, bool from_blocking, bool own_time, bool locked = false) {
  return static_cast<unsigned>(k) | (from_blocking ? 8u : 0u) | (own_time ? 16u : 0u) | (locked ? 32u : 0u);
}
constexpr std::uint64_t trace_id(std::uint64_t goid, std::uint32_t stamp) { return (stamp & 0xff) | (goid & trace_goid_mask) << 8; }
// Another core's TSC may trail the start a little: the difference then wraps, and the
// reader takes a time in the upper half of the 56 bits (past 130 days) as 0.
constexpr std::uint64_t trace_time(std::uint64_t head, std::uint64_t t0, std::uint64_t start) { return head | (t0 - start) << 8; }
constexpr std::uint64_t trace_untime(std::uint64_t t) {
  t &= (std::uint64_t{1} << 56) - 1;
  return t >> 55 ? 0 : t;
}
GO_ALWAYS_INLINE std::size_t trace_encode(std::uint64_t* out, const trace_ev& e, std::uint64_t start) noexcept {
  const std::uint64_t head = trace_head(e.kind, e.from_blocking, e.own_time, e.locked);
  if (e.kind == trace_kind::name) {
    out[0] = head;
    out[1] = e.goid;
    out[2] = e.t0;
    return 3;
  }
  if (!e.timed()) {
    out[0] = head | trace_id(e.goid, e.stamp) << 8;
    return 1;
  }
  std::uint64_t payload = 0;
  if (e.kind == trace_kind::run || e.kind == trace_kind::ready || e.kind == trace_kind::spawn)
    payload = trace_id(e.goid, e.stamp);
  else if (e.kind == trace_kind::steal)
    payload = e.count | std::uint64_t{e.other} << 32;
  else if (e.kind == trace_kind::timers || e.kind == trace_kind::poll)
    payload = e.count;
  out[0] = trace_time(head, e.t0, start);
  out[1] = e.prev_end | payload << 8;
  if (e.locked) {
    out[2] = (trace_time(0, e.t1, start) >> 8) | std::uint64_t{static_cast<std::uint8_t>(e.other)} << 56;
    return 3;
  }
  return 2;
}
const std::uint64_t* trace_decode(const std::uint64_t* p, const std::uint64_t* end, trace_ev& e) noexcept;

class tracer;

// A P's events: fixed chunks, written out by the tracer's writer thread as each fills
// and then reused, so a long trace touches the same few hundred KiB over and over
// instead of faulting in fresh memory (which cost more than the recording itself).
struct trace_buffer {
  static constexpr std::size_t chunk_words = std::size_t{1} << 15;  // 256 KiB: ~20,000 runs
  std::uint64_t* chunk = nullptr;  // owner only
  std::size_t n = 0;               // words used
  std::uint64_t start = 0;         // the trace's start (TSC)
  std::uint64_t run_t0 = 0;        // the running goroutine's start (owner only)
  std::uint8_t last_end = 0;       // how the last run ended, for the P's next timestamped event
  int tid = 0;
  tracer* owner = nullptr;
  GO_ALWAYS_INLINE void add(const trace_ev& e) {
    if (GO_UNLIKELY(n > chunk_words - trace_max_words)) next_chunk();
    n += trace_encode(chunk + n, e, start);
  }
  // The two records of the hot paths, as trace_encode writes them: a run's start, and
  // a ready or spawn made inside a run. The put_ forms need room() (the hot paths test
  // it themselves and leave the chunk swap to a slow path that keeps no registers).
  bool room() const noexcept { return n <= chunk_words - trace_max_words; }
  GO_ALWAYS_INLINE void put_run(std::uint64_t t0, std::uint64_t goid, std::uint32_t stamp) noexcept {
    chunk[n] = trace_time(trace_head(trace_kind::run, false, false), t0, start);
    chunk[n + 1] = std::exchange(last_end, 0) | trace_id(goid, stamp) << 8;
    n += 2;
  }
  GO_ALWAYS_INLINE void put_ready_in_run(bool spawn, std::uint64_t goid, std::uint32_t stamp, bool from_blocking) noexcept {
    chunk[n++] = trace_head(spawn ? trace_kind::spawn : trace_kind::ready, from_blocking, false) | trace_id(goid, stamp) << 8;
  }
  void add_run(std::uint64_t t0, std::uint64_t goid, std::uint32_t stamp) {
    if (GO_UNLIKELY(!room())) next_chunk();
    put_run(t0, goid, stamp);
  }
  void add_ready_in_run(bool spawn, std::uint64_t goid, std::uint32_t stamp, bool from_blocking) {
    if (GO_UNLIKELY(!room())) next_chunk();
    put_ready_in_run(spawn, goid, stamp, from_blocking);
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
  std::uint64_t* swap_chunk(int tid, std::uint64_t* full, std::size_t n);

 private:
  struct written {
    int tid;
    std::uint64_t* chunk;
    std::size_t n;  // words
  };
  void writer_main();
  std::uint64_t* fresh_chunk();  // under mu_
  void discard(sched& s);
  void free_storage();

  atomic<bool> on_{false};
  os_mutex control_mu_{lock_rank::trace_control};  // one start or stop at a time (each stops the world)
  os_mutex mu_{lock_rank::trace};          // everything below
  std::condition_variable_any cv_;        // the writer's queue
  std::vector<written> queue_;
  std::vector<std::uint64_t*> free_;  // chunks to reuse
  std::vector<std::unique_ptr<std::uint64_t[]>> all_;  // every chunk, freed at stop
  bool writer_stop_ = false;
  std::thread writer_;
  std::FILE* raw_ = nullptr;     // the chunks, as they fill
  std::uint64_t dropped_ = 0;    // words lost: a write that failed, a chunk that did not decode
  trace_buffer shared_;          // events from threads that hold no P
  std::string path_;
  std::uint64_t tsc0_ = 0;       // calibration: TSC and nanotime at start
  std::int64_t ns0_ = 0;
};

}  // namespace go::detail
