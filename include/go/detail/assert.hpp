// GO_ASSERT for internal invariants (debug builds) and fatal() for the unrecoverable.
#pragma once

#include "go/config.hpp"

namespace go::detail {

// An internal invariant is broken: print "fatal error: <msg>" and abort. Like Go's
// runtime.throw, the message is a constant string naming what went wrong.
[[noreturn]] GO_API void fatal(const char* msg) noexcept;

}  // namespace go::detail

#if !GO_CHECKS  // the library's mode (go/detail/build_config.hpp)
#define GO_ASSERT(cond, msg) ((void)0)
#else
#define GO_ASSERT(cond, msg) ((cond) ? (void)0 : ::go::detail::fatal("go: assertion failed: " msg))
#endif
