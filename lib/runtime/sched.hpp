// sched: the state of one runtime (Go's schedt plus allp): the Ps, the global queue,
// the idle workers, the blocking pool, sysmon, and the start/stop steps. Its roles are
// types that own their state, each in the file named after it: worker (the M loop,
// worker.hpp), timer_set (every P's timers and the timed sleeper, timer_set.hpp),
// registry (the parked goroutines, registry.hpp), poller (the netpoll driver,
// poller.hpp), tracer (trace.hpp). The goroutine lifecycle is goroutine.cpp, the
// diagnostics debug.cpp, sysmon sysmon.cpp.
//
// Threads: one worker (M) per P, bound for life (a blocking call never holds a P, it
// goes to the blocking pool, so Ms need not hand Ps around as Go's do); one sysmon
// thread; the elastic blocking pool.
//
// Fields: everything set in the constructor is immutable afterwards except where noted.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "go/runtime.hpp"
#include "go/detail/os_mutex.hpp"
#include "runtime/blocking_pool.hpp"
#include "runtime/frame_alloc.hpp"
#include "runtime/idle.hpp"
#include "runtime/inject.hpp"
#include "runtime/p.hpp"
#include "runtime/poller.hpp"
#include "runtime/registry.hpp"
#include "runtime/timer_set.hpp"

namespace go::detail {
class netpoll;
class sched;
class worker;

// The thread of a goroutine that called lock_os_thread (lib/runtime/locked.cpp).
struct locked_thread {
  sched* s = nullptr;
  g* gp = nullptr;       // its goroutine (also while it is parked)
  unsigned number = 0;   // the trace's name for the thread's track
  int depth = 1;         // nested lock_os_thread calls; touched by the goroutine only
  // Held by the thread from a resume of its goroutine until the goroutine is parked for
  // good or gone: the dump reads the parked goroutine's frames only under it (try_lock;
  // the world's stop does not stop this thread).
  os_mutex frames{lock_rank::locked_frames};
  os_mutex mu{lock_rank::locked_thread};
  std::condition_variable_any cv;
  g* pending = nullptr;  // under mu: readied, to resume
  bool stop = false;     // under mu: the runtime stops
  bool done = false;     // under mu: the thread has ended (its goroutine left or exited)
  std::thread thread;
};
}

namespace go::detail {

// What a thread knows about the runtime it works for. Set on worker threads only.
// What the worker does with the g when resume() returns.
enum class after_resume : std::uint8_t {
  exit,   // the root task finished
  park,   // the g parked: run unlockf, then it belongs to whoever will ready it
  yield,  // go::yield(): back to the run queue
};

// A worker's own state. `after` and the park's unlock function are written by the
// running g inside an await_suspend (park, yield) and read by the worker right after
// resume() returns: the same thread, so the g itself needs no room for them.
struct worker_tls {
  sched* s = nullptr;
  p* pp = nullptr;
  worker* w = nullptr;          // pp's worker (the owner of its run queue)
  g* cur = nullptr;             // the g being resumed, or null between gs
  unlock_fn unlockf = nullptr;  // the park of cur: set by park(), run by execute()
  void* unlock_arg = nullptr;
  after_resume after = after_resume::exit;
};
// Constant-initialized, so every access is a direct thread-pointer offset, with no
// call and no initialization guard (it is read several times per ready and park).
extern constinit thread_local worker_tls tls_;
inline worker_tls& tls() noexcept { return tls_; }

// sched::diag's bits.
inline constexpr std::uint8_t diag_latency = 1, diag_trace = 2, diag_profile = 4, diag_stw = 8;

class sched {
 public:
  sched(runtime_options opts, runtime* rt);
  ~sched();
  sched(const sched&) = delete;
  sched& operator=(const sched&) = delete;

  // -- goroutine lifecycle (goroutine.cpp) --
  void start(g* gp);                         // a new g: id, counters, runnable
  void exit(g* gp, bool killed) noexcept;    // the join protocol's finishing side
  // Make gp runnable: runnext of the calling worker's P if it belongs to this runtime,
  // else the global queue; then wake a worker if needed.
  // One test, inline, covers the two rare cases (a diagnostic on, a locked goroutine);
  // each way is then a tail call, so a caller such as detail::ready needs no frame.
  void ready(g* gp) noexcept {
    if (GO_UNLIKELY(diag.load(memory_order_relaxed) | gp->locked.load(memory_order_relaxed))) return ready_slow(gp);
    ready_plain(gp);
  }
  GO_NOINLINE void ready_plain(g* gp) noexcept;
  GO_NOINLINE void ready_slow(g* gp) noexcept;
  GO_ALWAYS_INLINE void ready_to_p(g* gp) noexcept;

  // -- stop and stats (sched.cpp) --
  void stop();
  runtime_stats stats() const;
  bool stopping() const noexcept { return stopping_.load(memory_order_acquire); }

  // -- lock_os_thread (locked.cpp) --
  locked_thread* new_locked_thread(g* gp);
  locked_thread* locked_of(const g* gp) noexcept;
  // The dump: gp's thread with its frames mutex held (the caller unlocks it), or null if
  // the thread is resuming gp now.
  locked_thread* hold_locked_frames(const g* gp) noexcept;
  locked_thread* find_locked(const g* gp) noexcept;  // under locked_mu_
  void ready_locked(g* gp) noexcept;  // ready() of a locked goroutine: to its thread
  void stop_locked_threads() noexcept;

  // -- sysmon (sysmon.cpp) --
  void sysmon_main();

  // -- diagnostics (debug.cpp): the goroutine dump, the deadlock report, leak check --
  // Stop every worker between two goroutines (Go's stopTheWorld), waiting at most
  // `patience`; true if all stopped (the calling worker, if one, counts as stopped).
  // Frames may be walked only then. Calls are serialized; start_the_world() ends it.
  bool stop_the_world(std::chrono::milliseconds patience);
  void start_the_world();
  void stw_pause() noexcept;  // a worker that sees stw_ set waits here
  bool stw_requested() const noexcept { return stw_.load(memory_order_acquire); }
  // Write every goroutine in Go's traceback format. frames: walk the await chains
  // (only with the world stopped). only_running: GOTRACEBACK=single.
  void dump(std::string& out, bool frames, bool only_running, const char* suffix = nullptr);
  // sysmon: every goroutine blocked and nothing can wake one (see docs/observability.md).
  bool deadlocked() const;
  // The goroutines still alive at stop (leak check), with the world stopped for good.
  std::size_t leftover(std::string& out);

  // The execution tracer (trace.hpp); trace_add picks the calling worker's buffer.
  tracer trace;
  // Which per-run diagnostics are on (diag_latency | diag_trace | diag_profile), and
  // diag_stw while a stop of the world is asked for: the hot paths test this one byte
  // and take the diagnostic paths (execute_diag, ready_slow, diag_*) only when it is set.
  atomic<std::uint8_t> diag{0};
  GO_ALWAYS_INLINE void diag_run_begin(p& pp, g* gp, bool first) noexcept;
  void diag_run_begin_slow(p& pp, g* gp, bool first) noexcept;
  GO_ALWAYS_INLINE void diag_run_end(p& pp, std::uint8_t how) noexcept;
  // ready() or spawn with a diagnostic on. The trace alone, the common case, is inline:
  // a ready inside a run is one word into the P's buffer.
  void diag_ready(g* gp, bool spawned) noexcept {
    const trace_kind kind = spawned ? trace_kind::spawn : trace_kind::ready;
    if (diag.load(memory_order_relaxed) != diag_trace) return diag_ready_slow(gp, kind);
    if (!trace_ready_in_run(gp, kind)) trace_ready_slow(gp, kind);
  }
  void diag_ready_slow(g* gp, trace_kind kind) noexcept;
  // The block profile's clock at a park (us), stamped once the goroutine has unwound.
  void stamp_park(g* gp) noexcept;
  void trace_add(const trace_ev& e) noexcept;
  void trace_ready(g* gp, trace_kind kind) noexcept;  // a ready or a spawn: the arrow's tail
  void trace_ready_slow(g* gp, trace_kind kind) noexcept;
  // The trace's hottest record, inline where it is made: a ready inside a run on this
  // P, one word into the P's buffer (false: not inside a run, or the chunk is full).
  GO_ALWAYS_INLINE bool trace_ready_in_run(g* gp, trace_kind kind) noexcept {
    p* pp = tls_.s == this ? tls_.pp : nullptr;
    if (!pp || pp->trace.run_t0 == 0 || !pp->trace.room()) return false;
    pp->trace.put_ready_in_run(kind == trace_kind::spawn, gp->id, ++gp->trace_seq,
                               gp->reason.load(memory_order_relaxed) == wait_reason::blocking);
    return true;
  }

  // Milliseconds since the runtime started, advanced by sysmon every period (a coarse
  // clock for the dump's wait times: a park reads it instead of the clock).
  atomic<std::uint32_t> coarse_ms{0};

  runtime* const rt;
  const std::uint64_t serial;  // unique in the process (never reused), for with_live_sched
  const unsigned nprocs;
  const runtime_options opts;
  frame_central central;  // declared before ps: the P caches return blocks to it
  std::vector<std::unique_ptr<p>> ps;
  inject global;
  idle idlers;
  registry parked;  // every g that has parked once and not exited (registry.hpp)
  timer_set timers{*this};  // every P's timers and the timed sleeper (timer_set.hpp)
  poller io{*this};         // the netpoll, made on first use (poller.hpp)
  blocking_pool blocking;

 private:
  void destroy_remaining() noexcept;
  void kill(g* gp) noexcept;
  void schedtrace_line(std::chrono::steady_clock::time_point start) const;
  void scheddetail_lines() const;
  void stamp_ready(g* gp) noexcept;
  void profile_block(g* gp) noexcept;  // ready() with the block profile: account the wait
  void record_latency(p& pp, g* gp) noexcept;

  std::vector<std::uint32_t> coprimes_;  // numbers coprime to nprocs: steal strides
  os_mutex outside_mu_{lock_rank::outside};  // orders outside spawns against stop()
  atomic<bool> stopping_{false};         // written under outside_mu_
  bool stopped_ = false;                 // stop()'s caller only
  std::vector<std::unique_ptr<worker>> workers_;  // one per P, same index
  std::vector<std::thread> threads_;              // workers_[i]'s thread

  // Goroutine ids: Ps take blocks of 16 (Go's goidcache); outside spawns take one.
  atomic<std::uint64_t> goid_gen_{0};
  // Spawns and exits off the workers (outside threads, the shutdown sweep).
  atomic<std::uint64_t> outside_spawned_{0}, outside_exited_{0};
  atomic<std::uint64_t> long_running_{0};

  // Stop the world (debug.cpp): stw_ asks the workers to pause; stw_paused_ counts the
  // ones that did (under stw_mu_); dump_mu_ serializes requests.
  atomic<bool> stw_{false};
  os_mutex dump_mu_{lock_rank::dump};
  os_mutex stw_mu_{lock_rank::stw};
  std::condition_variable_any stw_cv_;
  unsigned stw_paused_ = 0;

  os_mutex locked_mu_{lock_rank::locked};  // locked_
  std::vector<std::unique_ptr<locked_thread>> locked_;
  unsigned locked_count_ = 0;  // under locked_mu_: threads made so far (their numbers)

  os_mutex sysmon_mu_{lock_rank::sysmon};
  std::condition_variable_any sysmon_cv_;  // notified on stop
  bool sysmon_stop_ = false;           // protected by sysmon_mu_
  std::thread sysmon_;

  friend struct goroutine_ops;
  friend class worker;
};

// Run fn(s, arg) on the runtime with this serial number if it still exists, holding
// the registry's lock so that it cannot be destroyed meanwhile; false if it is gone. For
// work that must find its runtime later, from any thread (an after_func's f when its
// ctx is canceled). fn must be short and must not create or destroy a runtime.
bool with_live_sched(std::uint64_t serial, bool (*fn)(sched* s, void* arg) noexcept, void* arg) noexcept;
// The same for every live runtime, until fn returns true.
void for_each_live_sched(bool (*fn)(sched* s, void* arg) noexcept, void* arg) noexcept;

// debug.cpp: SIGQUIT prints every goroutine and exits 2 (once per process, unless the
// program has its own handler); the deadlock report (prints and exits 2).
void install_sigquit_dump() noexcept;
// The name of the function whose code holds pc (a coroutine's resume function becomes
// the coroutine's name), demangled; an address if nothing names it.
std::string function_name(const void* pc);
[[noreturn]] void report_deadlock(sched& s) noexcept;

// Deliver an exception that left a detached goroutine to the panic handler.
void report_panic(std::uint64_t goid, std::exception_ptr e) noexcept;


// Goroutine ids come in blocks of this many per P (Go's _GoidCacheBatch).
inline constexpr std::uint64_t goid_batch = 16;

}  // namespace go::detail
