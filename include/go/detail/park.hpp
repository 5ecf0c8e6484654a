// park/ready: the only bridge from primitives to the scheduler (Go's gopark/goready).
//
// The rule every primitive follows (docs/HACKING.md):
//   1. In await_suspend, take the primitive's lock, enqueue a waiter naming current_g(),
//      and call park() with an unlock function that releases the lock. Return true.
//      Do not release the lock yourself, and touch nothing after park(): the g is not
//      visible to wakers until its worker runs the unlock function, after the whole
//      coroutine stack has suspended (so no waker can resume a half-suspended frame).
//   2. A waker dequeues waiters under the lock, releases it, and only then calls
//      ready() on each g. Never ready() while holding a primitive's lock, never resume
//      a coroutine directly.
#pragma once

#include <coroutine>

#include "go/config.hpp"
#include "go/detail/g.hpp"

namespace go::detail {

// The g running on this thread, or null off the runtime. Out of line on purpose: a
// goroutine can resume on another thread, and clang may cache a thread_local's
// address across a suspension point (LLVM #47179).
GO_API g* current_g() noexcept;

// current_g(), or throw go::error(no_runtime) naming `what`.
GO_API g* current_g_or_throw(const char* what);

// Suspend the running g at h. unlockf(gp, arg) runs once the stack has unwound.
GO_API void park(g* gp, std::coroutine_handle<> h, wait_reason why, unlock_fn unlockf, void* arg) noexcept;

// Make a parked g runnable: on this worker's P (runnext) if called from a worker of its
// runtime, else on the global queue; wakes an idle worker if none is searching.
GO_API void ready(g* gp) noexcept;

// gp is about to wait for an I/O completion from its runtime's poller (go/asio.hpp,
// go::net), and has stopped waiting: while anyone waits, idle workers poll (Go's
// netpollWaiters). Call begin before starting the operation, end in its completion.
GO_API void io_wait_begin(g* gp) noexcept;
GO_API void io_wait_end(g* gp) noexcept;

}  // namespace go::detail
