// THE lock order of gocoro. A lock may be taken only while every lock the thread
// already holds has a lower rank ("a < b" means a is acquired before b), the way
// Go's mklockrank.go states it. Checking builds (GO_CHECKS) check it on every acquisition.
//
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
//   registry         a shard of the parked-goroutine registry (lib/runtime/registry.hpp:
//                    add on a g's first park, remove at its exit)
//   profile          a P's block-profile table (taken in ready(), which may run under
//                    a ctx's or a primitive's lock)
//   inject           the global run queue
//   idle             the parked-worker list
//   frame_central    the frame allocator's central free lists
//
// docs/locking.md mirrors this table.
#pragma once

#include <cstdint>

#include "go/config.hpp"

namespace go::detail {

enum class lock_rank : std::uint8_t {
  ctx = 1,
  timer,
  timers,
  chan,
  primitive,
  registry,
  profile,
  inject,
  idle,
  frame_central,
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
// Whether this thread holds the lock at addr (true, too, past the deepest nesting that
// is tracked: the check never reports a false violation).
GO_API bool lock_rank_held(const void* addr) noexcept;
#else
inline void lock_rank_acquire(lock_rank, const void*) noexcept {}
inline void lock_rank_release(lock_rank, const void*) noexcept {}
inline bool lock_rank_held(const void*) noexcept { return true; }
#endif

}  // namespace go::detail
