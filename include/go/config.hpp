// Version, export macro and build-time knobs.
#pragma once

#include "go/detail/build_config.hpp"  // GO_CHECKS: how the library was built

#define GOCORO_VERSION_MAJOR 0
#define GOCORO_VERSION_MINOR 1
#define GOCORO_VERSION_PATCH 0

#if defined(__GNUC__)
#define GO_API __attribute__((visibility("default")))
#define GO_NOINLINE [[gnu::noinline]]
// For the spawn templates: inlined into the spawner, so that the runtime's (out of line)
// start sees the spawn call's own return address, the dump's "created by".
#define GO_ALWAYS_INLINE [[gnu::always_inline]] inline
#define GO_LIKELY(x) __builtin_expect(!!(x), 1)
#define GO_UNLIKELY(x) __builtin_expect(!!(x), 0)
#else
#define GO_API
#define GO_NOINLINE
#define GO_ALWAYS_INLINE inline
#define GO_LIKELY(x) (x)
#define GO_UNLIKELY(x) (x)
#endif
