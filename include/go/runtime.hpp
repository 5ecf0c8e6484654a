// go::runtime and go::run: the scheduler that goroutines run on (Go's runtime, embedded).
#pragma once

#include <chrono>
#include <array>
#include <cstdint>
#include <utility>
#include <exception>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "go/spawn.hpp"

namespace go {

struct runtime_options {
  // Number of Ps (GOMAXPROCS). 0: the GOMAXPROCS environment variable if it holds a
  // positive number, else the hardware thread count.
  unsigned procs = 0;
  // Worker threads are named "<thread_name>-<i>" (Linux keeps the first 15 chars).
  std::string thread_name = "go-p";
  // Bound on go::blocking threads (tokio's default is also 512); idle ones exit after
  // blocking_keep_alive.
  unsigned max_blocking_threads = 512;
  std::chrono::milliseconds blocking_keep_alive{10'000};
  // Print a warning naming a goroutine that runs 10 ms without suspending. Also on
  // with GODEBUG=longrunwarn=1.
  bool warn_long_running = false;
  // Print a Go-style SCHED line to stderr every period. Also GODEBUG=schedtrace=<ms>.
  std::chrono::milliseconds schedtrace{0};
  // Go's "fatal error: all goroutines are asleep - deadlock!": once every goroutine is
  // blocked and nothing can wake one (no runnable goroutine, no pending timer, no I/O
  // wait, no go::blocking call), print it with the goroutine dump and exit with status
  // 2. go::run turns it on (GODEBUG=deadlock=0 turns it off again); a go::runtime leaves
  // it off, since threads outside it may still wake its goroutines
  // (docs/observability.md).
  bool deadlock_report = false;
  // At stop, list the goroutines still alive, in the dump's format, on stderr before
  // destroying them (a leak check). Also GODEBUG=leakcheck=1.
  bool leak_check = false;
  // SIGQUIT (Ctrl-\) prints every goroutine of every runtime to stderr and exits with
  // status 2, as Go does, unless the program has its own SIGQUIT handler when the first
  // runtime starts. GOTRACEBACK=none prints no goroutines, single only the running ones.
  bool sigquit_dump = true;
  // GODEBUG=scheddetail=1: with schedtrace, a line per P and per M after each SCHED line.
  bool scheddetail = false;
  // Measure the scheduling latency (runtime_stats::sched_latency): two clock reads per
  // goroutine run. Also GODEBUG=schedlatency=1.
  bool sched_latency = false;
  // Go's block profile (runtime::block_profile): a clock read at each park and each
  // ready. Also GODEBUG=blockprofile=1.
  bool block_profile = false;
  // Called on each worker thread as it starts and before it exits.
  std::function<void()> on_thread_start;
  std::function<void()> on_thread_stop;
};

// A snapshot of scheduler counters; approximate while goroutines run.
struct runtime_stats {
  unsigned procs = 0;
  std::uint64_t spawned = 0;          // goroutines ever started
  std::uint64_t live = 0;             // started and not yet finished (num_goroutine)
  std::uint64_t steals = 0;           // successful steals from another P's run queue
  std::uint64_t worker_parks = 0;     // times a worker went to sleep for lack of work
  std::uint64_t worker_unparks = 0;   // times a sleeping worker was woken for work
  std::uint64_t long_running = 0;     // times sysmon saw a goroutine run 10 ms unsuspended
  std::uint64_t global_queue = 0;     // goroutines in the global run queue
  std::vector<std::uint64_t> local_queues;  // per P: run queue length (+1 if runnext is set)

  // Go's runtime/metrics. Goroutines by state, read from the run queues and the parked
  // registry (each registry shard's lock, one at a time: the world keeps running, so
  // the counts are a snapshot, as Go's are).
  std::uint64_t running = 0;   // on a worker now
  std::uint64_t runnable = 0;  // in a run queue
  std::uint64_t waiting = 0;   // parked; by wait reason ("chan receive", "sleep", ...):
  std::vector<std::pair<std::string, std::uint64_t>> waiting_by_reason;
  std::uint64_t parks = 0;           // runs that ended in a wait (runs - exits - yields)
  std::uint64_t timers_fired = 0;    // timers that fired (sleeps, timers, tickers, after_func)
  std::uint64_t poller_wakeups = 0;  // polls of the poller that completed I/O
  // Scheduling latency (Go's /sched/latencies:seconds), the time from ready (or spawn,
  // or yield) to running, with runtime_options::sched_latency or GODEBUG=schedlatency=1:
  // sched_latency[i] counts the latencies in [2^i, 2^(i+1)) ns.
  std::array<std::uint64_t, 40> sched_latency{};
};

// What an exception leaving a detached goroutine does (Go's unrecovered panic). The
// default prints "panic: <what()>" and "goroutine <id> [running]" to stderr and exits
// with status 2, as a Go program does. Returns the previous handler.
using panic_handler = void (*)(std::uint64_t goroutine_id, std::exception_ptr error);
GO_API panic_handler set_panic_handler(panic_handler h) noexcept;

// One line of the block profile (Go's -blockprofile): the time goroutines spent parked
// with one wait reason at one await site, the innermost coroutine's function (the name
// the goroutine dump shows first in a chain).
struct block_profile_entry {
  std::string reason;  // "chan receive", "sync.Mutex.Lock", ...
  std::string site;    // "consumer(go::chan<int>)"
  std::uint64_t count = 0;
  std::chrono::nanoseconds total{0};
};

namespace detail {
GO_API void check_block_on_allowed(sched* s);
}  // namespace detail

// go::runtime -- a set of Ps and their worker threads that goroutines run on.
//
// Construction starts the workers (one per P), the sysmon thread and an empty
// go::blocking pool; destruction stops them (stop()).
// spawn: start a goroutine from any thread, including threads outside the runtime
//   (it goes to the global run queue and wakes an idle worker).
// block_on: start a goroutine and block the calling (outside) thread until it
//   finishes; returns its result or rethrows. Calling it from a goroutine of the same
//   runtime is refused (it would block a P): co_await the handle instead.
// stop: workers finish the step they are running and exit; go::blocking calls already
//   running are waited for; then every goroutine still alive is destroyed at its
//   suspension point: destructors run, frames are freed, joiners see runtime_stopped.
//   A goroutine that never suspends keeps stop() waiting, as it keeps its P busy.
// Thread safety: spawn, block_on and stats may be called from any thread concurrently;
//   stop (and destruction) from one thread that is not a worker of this runtime.
class runtime {
 public:
  runtime() : runtime(runtime_options{}) {}
  GO_API explicit runtime(runtime_options opts);
  GO_API ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  GO_API unsigned procs() const noexcept;

  template <class F, class... Args>
  GO_ALWAYS_INLINE auto spawn(F&& f, Args&&... args) {
    return detail::spawn_on(s_, std::forward<F>(f), std::forward<Args>(args)...);
  }

  template <class T>
  T block_on(join_handle<T> h) {
    detail::check_block_on_allowed(s_);
    return h.block();
  }

  template <class F, class... Args>
  auto block_on(F&& f, Args&&... args) {
    detail::check_block_on_allowed(s_);
    return block_on(spawn(std::forward<F>(f), std::forward<Args>(args)...));
  }

  GO_API void stop();
  GO_API runtime_stats stats() const;

  // Go's runtime/trace: record what the scheduler does (a slice per goroutine run on
  // each P, arrows from each spawn and ready to the run it caused, parks with their
  // wait reasons, steals, timers, poller wake-ups, go::blocking calls) until
  // stop_trace(), which writes a Chrome trace-event JSON file to `path` (load it in
  // ui.perfetto.dev or chrome://tracing; scripts/trace-plot draws it). GOCORO_TRACE=path
  // traces a runtime from its start to its stop. Throws go::error(invalid_argument) if a
  // trace is already on, or if a worker does not reach a scheduling point within 1 s
  // (a goroutine that never suspends): then no trace is on. stop_trace() returns false
  // if none was.
  GO_API void start_trace(std::string path);
  GO_API bool stop_trace();

  // The block profile (with runtime_options::block_profile), largest total first; and
  // back to empty. Read while goroutines run (each P's table under its own lock).
  [[nodiscard]] GO_API std::vector<block_profile_entry> block_profile() const;
  GO_API void reset_block_profile();

  // The runtime whose worker is running the calling goroutine; null on other threads.
  GO_API static runtime* current() noexcept;

 private:
  friend std::string dump_goroutines(runtime& rt);
  detail::sched* s_;
};

// Go's main: run f(args...) as the main goroutine (id 1) on a new runtime with default
// options and return its result (or rethrow its exception). When it returns, goroutines
// still alive are destroyed at their suspension points, as a Go program's are at exit.
// The deadlock report is on (runtime_options::deadlock_report).
template <class F, class... Args>
auto run(F&& f, Args&&... args) {
  runtime_options o;
  o.deadlock_report = true;
  runtime rt(std::move(o));
  return rt.block_on(std::forward<F>(f), std::forward<Args>(args)...);
}

// Go's goroutine dump (what SIGQUIT prints): every goroutine of the current runtime (or
// of `rt`), one block each, "goroutine 7 [chan receive]:", its await chain innermost
// first, then "created by ...". The world is stopped while the chains are read (a
// goroutine that runs without suspending shows only its header).
GO_API void dump_goroutines(std::ostream& out);
[[nodiscard]] GO_API std::string dump_goroutines();
[[nodiscard]] GO_API std::string dump_goroutines(runtime& rt);

// Go's runtime.GOMAXPROCS(0): the current runtime's number of Ps (0 off the runtime).
GO_API unsigned gomaxprocs() noexcept;
// Go's runtime.NumGoroutine: live goroutines of the current runtime (0 off the runtime).
GO_API std::uint64_t num_goroutine() noexcept;

}  // namespace go
