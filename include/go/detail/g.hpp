// struct g: the control block of one goroutine (Go's runtime.g).
//
// A goroutine is the coroutine stack of one spawned go::task plus this header. Nested
// `co_await task` calls run inside the same g; the g only knows the innermost suspended
// frame (resume_point), which is what the scheduler resumes.
//
// Fields, and who may touch them:
//   resume_point       the g itself while running; whoever readies it afterwards reads it
//                      after the ready (ordered by the queue's release/acquire). Null until
//                      the g first runs: its root task is made then (g_ops::start).
//   owner, id, ops     immutable after spawn.
//   status, reason     written by the scheduler at each transition, relaxed; read by
//                      diagnostics (stats, the shutdown sweep) which tolerate staleness.
//   joiner             written by the joiner before it sets join_waiting (release); read
//                      by the exiting g after it sees join_waiting (acquire). A g*, or an
//                      outside_event* when join_by_thread is set too.
//   join_state         atomic; the join protocol in lib/runtime/goroutine.cpp.
//   reg_shard,         protected by the lock of the registry shard reg_shard names: the
//   reg_index          g's place in that shard's vector of parked gs.
//   creator, spawn_pc  immutable after spawn: the spawning goroutine's id (0: a thread
//                      outside the runtime) and the return address of the spawn call, in
//                      the spawner's code (the dump's "created by").
//   locked             lock_os_thread's state: written by the g itself and by its locked
//                      thread before a park is published; read by ready() (relaxed).
//   wait_since         written by the g itself when it parks: the runtime's coarse clock
//                      (sysmon's, in ms), for the dump's "[chan receive, 2 minutes]".
//
// Keep it small: a spawned goroutine that has not run yet costs this block and nothing
// else (72 bytes, plus the root task handle and the callable).
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>

#include "go/config.hpp"
#include "go/detail/atomic.hpp"

namespace go::detail {

class sched;
struct g;

// Who owns the g, by state (the states of Go's _G* in runtime2.go, reduced).
enum class g_status : std::uint8_t {
  runnable,  // in a run queue (local, runnext or global); the queue owns it
  running,   // being resumed by a worker; that worker owns it
  waiting,   // parked on a primitive; the primitive's wait list owns it, ready() hands it back
  dead,      // finished or killed; the join_handle (or nobody, once detached) owns the block
};

// Why a waiting g waits, shown in diagnostics (Go's waitReason).
enum class wait_reason : std::uint8_t {
  none,
  join,        // "goroutine join"
  wait_group,  // "sync.WaitGroup.Wait"
  blocking,    // "blocking call"
  chan_send,   // "chan send"
  chan_receive,  // "chan receive"
  chan_send_nil,     // "chan send (nil chan)"
  chan_receive_nil,  // "chan receive (nil chan)"
  select,      // "select"
  select_no_cases,   // "select (no cases)"
  mutex_lock,  // "sync.Mutex.Lock"
  rwmutex_rlock,  // "sync.RWMutex.RLock"
  rwmutex_lock,   // "sync.RWMutex.Lock"
  cond_wait,   // "sync.Cond.Wait"
  once,        // "sync.Once.Do"
  semaphore,   // "semaphore.Acquire"
  sleep,       // "sleep"
  io,          // "IO wait"
  park,        // a user of detail::park that named no reason
};

GO_API const char* to_string(wait_reason r) noexcept;

// The unlock function of a park (Go's gopark unlockf). It runs on the worker after the
// g's coroutine stack has fully suspended. Returning false cancels the park: the g is
// resumed at once.
using unlock_fn = bool (*)(g* gp, void* arg) noexcept;

// The parts of a g that depend on the spawned task's type.
struct g_ops {
  std::coroutine_handle<> (*start)(g*) noexcept;  // make the root task; returns where to resume
  void (*destroy)(g*) noexcept;               // free the block (task frames, callable, g)
  void (*kill)(g*) noexcept;                  // destroy the coroutine stack, keep the block
  std::exception_ptr (*failure)(g*) noexcept; // the exception the root task ended with
};

// join_state bits
inline constexpr std::uint8_t join_done = 1;      // the g has finished or was killed
inline constexpr std::uint8_t join_waiting = 2;   // a joiner is parked on it (joiner is set)
inline constexpr std::uint8_t join_detached = 4;  // the handle is gone; the g frees itself
inline constexpr std::uint8_t join_killed = 8;    // finished by the shutdown, not by its task
inline constexpr std::uint8_t join_by_thread = 16;  // with join_waiting: joiner is an outside_event

// Laid out without holes: 72 bytes, so that a goroutine block of a small callable (g,
// root task handle, one captured pointer: 88 bytes) takes the frame allocator's 88-byte
// class, a 96-byte malloc chunk (lib/runtime/frame_alloc.hpp).
struct g {
  std::coroutine_handle<> resume_point;
  sched* owner = nullptr;
  const g_ops* ops = nullptr;
  void* joiner = nullptr;
  std::uint64_t id = 0;
  std::uint64_t creator = 0;
  const void* spawn_pc = nullptr;
  atomic<std::uint8_t> join_state{0};
  atomic<g_status> status{g_status::runnable};
  atomic<wait_reason> reason{wait_reason::none};
  atomic<std::uint8_t> locked{0};  // lock_os_thread: 1 locked, 2 unlocking (lib/runtime/locked.cpp)
  std::uint32_t reg_index = 0;
  atomic<std::uint32_t> wait_since{0};
  std::int16_t reg_shard = -1;  // a P's id (procs <= 4096), -1: not registered
  std::uint8_t trace_seq = 0;   // its readies while tracing, mod 256: a trace arrow's stamp (lib/runtime/trace.hpp)
};
static_assert(sizeof(g) == 72, "the g's size is quoted in g.hpp and docs/design/scheduler.md");

}  // namespace go::detail
