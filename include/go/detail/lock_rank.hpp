// THE lock order of gocoro. A lock may be taken only while every lock the thread
// already holds has a lower rank ("a < b" means a is acquired before b), the way
// Go's mklockrank.go states it. Checking builds (GO_CHECKS) check it on every acquisition,
// for the spinlocks (spinlock.hpp) and the OS mutexes (os_mutex.hpp) alike. A try_lock
// cannot deadlock: it is recorded as held but not checked against the order.
//
// OS mutexes (threads block on them; off the goroutine hot paths) are the ranks marked
// (os); the rest are spinlocks.
//   sysmon           (os) sysmon holds it for its whole loop (it waits on its condition
//                    variable for the stop): timers, polls and the deadlock report nest
//                    inside it.
//   locked_frames    (os) a locked goroutine's thread holds it while its goroutine runs
//                    (lib/runtime/locked.cpp), so everything else nests inside it; the
//                    dump only try_locks it.
//   trace_control    (os) one trace start or stop at a time; it stops the world.
//   ctx              a context's lock. Self-nesting: a cancel holds a parent's lock while
//                    it cancels the children (parent before child, never the reverse).
//   timer            a go::timer's own lock (stop/reset of one timer are serialized).
//   timers           a P's timer heap. Timer callbacks run under it (they only send on
//                    a timer's channel or collect goroutines to ready afterwards).
//   chan             a channel's lock. The one self-cycle: select holds several at once,
//                    always taken in increasing address order (lib/select.cpp); the
//                    checker enforces the address order too.
//   primitive        a sync primitive's own lock (wait_group, ...). It is held while
//                    the parking goroutine unwinds, and released by the worker in the
//                    park's unlock function, so registry may nest inside it.
//   socket           go::net's per-socket lock (lib/net/fd.hpp), held for one
//                    non-blocking system call at most; taken under a ctx lock by a hook
//                    that cancels the socket's operations; under it only Asio's own
//                    locks and the poller's wakeup.
//   poller           (os) the creation of a runtime's netpoll (lib/runtime/poller.hpp).
//   live             (os) the list of live runtimes (with_live_sched), taken under a ctx
//                    lock by an after_func's cancel; its callback spawns or readies.
//   outside          (os) orders spawns from outside threads against stop().
//   dump             (os) one stop of the world at a time (debug.cpp), held while the
//                    dump reads the queues, the registry and the locked threads; the
//                    SIGQUIT dump takes it under live.
//   stw              (os) the count of workers paused for a stop of the world; under it
//                    the sleeping workers are woken (idle).
//   registry         a shard of the parked-goroutine registry (lib/runtime/registry.hpp:
//                    add on a g's first park, remove at its exit)
//   profile          a P's block-profile table (taken in ready(), which may run under
//                    a ctx's or a primitive's lock)
//   locked           (os) the list of locked threads (ready() of a locked goroutine)
//   locked_thread    (os) one locked thread's hand-off state
//   inject           the global run queue
//   idle             the parked-worker list
//   frame_central    the frame allocator's central free lists
//   blocking         (os) the blocking pool's job queue
//   trace            (os) the tracer's buffers and writer queue (any thread adds)
//   event            (os) an outside thread's wait for a goroutine (outside_event.hpp)
//
// docs/locking.md mirrors this table.
#pragma once

#include <cstdint>

#include "go/config.hpp"

namespace go::detail {

enum class lock_rank : std::uint8_t {
  sysmon = 1,
  locked_frames,
  trace_control,
  ctx,
  timer,
  timers,
  chan,
  primitive,
  socket,
  poller,
  live,
  outside,
  dump,
  stw,
  registry,
  profile,
  locked,
  locked_thread,
  inject,
  idle,
  frame_central,
  blocking,
  trace,
  event,
};

// (Not under the model checker, test/model/: its threads are fibers of one OS thread,
// and the checker's list of held locks is per OS thread.)
#if GO_CHECKS && !defined(GO_MODEL)  // from the library's build (go/detail/build_config.hpp), not the consumer's NDEBUG
#define GO_LOCK_RANK_CHECKS 1
// Record that this thread takes / drops the lock at addr, of rank r; fatal on an order
// violation (a lower or equal rank after a higher one; a channel at a lower or equal
// address after another channel) or on a release of a lock this thread does not hold.
GO_API void lock_rank_acquire(lock_rank r, const void* addr) noexcept;
GO_API void lock_rank_release(lock_rank r, const void* addr) noexcept;
// Record a lock taken by a try_lock: held from now on, but not checked against the
// order (a try cannot deadlock).
GO_API void lock_rank_acquired_try(lock_rank r, const void* addr) noexcept;
// Whether this thread holds the lock at addr (true, too, past the deepest nesting that
// is tracked: the check never reports a false violation).
GO_API bool lock_rank_held(const void* addr) noexcept;
#else
inline void lock_rank_acquire(lock_rank, const void*) noexcept {}
inline void lock_rank_release(lock_rank, const void*) noexcept {}
inline void lock_rank_acquired_try(lock_rank, const void*) noexcept {}
inline bool lock_rank_held(const void*) noexcept { return true; }
#endif

}  // namespace go::detail
