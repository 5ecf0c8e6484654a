// GO_ASSERT for internal invariants (debug builds) and fatal() for the unrecoverable.
#pragma once

#include "go/config.hpp"

namespace go::detail {

// An internal invariant is broken: print "fatal error: <msg>" and abort. Like Go's
// runtime.throw, the message is a constant string naming what went wrong.
[[noreturn]] GO_API void fatal(const char* msg) noexcept;

}  // namespace go::detail

// GO_CHECK_INVARIANTS(x): x.check() in checking builds, after each locked operation on
// a structure that states invariants (chan_core, runq, inject, timer_heap, waitq, sema).
// check() itself is always compiled, so a test can call it in any build; it aborts with
// "fatal error: go: invariant broken: <structure>: <which one>".
#if !GO_CHECKS && !defined(GO_MODEL)  // the library's mode (go/detail/build_config.hpp); the model checker always checks
#define GO_ASSERT(cond, msg) ((void)0)
#define GO_CHECK_INVARIANTS(x) ((void)0)
#else
#define GO_ASSERT(cond, msg) ((cond) ? (void)0 : ::go::detail::fatal("go: assertion failed: " msg))
#define GO_CHECK_INVARIANTS(x) (x).check()
#endif

// For check(): abort with the broken invariant unless cond holds (any build).
#define GO_INVARIANT(cond, what) ((cond) ? (void)0 : ::go::detail::fatal("go: invariant broken: " what))
