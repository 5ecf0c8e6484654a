// Where a coroutine is suspended, for the goroutine dump's file:line.
//
// An awaiter whose wait parks notes, in the awaiting coroutine's promise (go::task's
// promise_base::suspended_at_), an address inside that coroutine's own function at the
// co_await: the dump symbolizes it to the line of the co_await (libbacktrace reports an
// inlined call at the line it was inlined from). In an optimized build await_suspend is
// inlined into the coroutine, so the address of the code there is one; without
// optimization await_suspend is a function of its own, and its return address is. If
// the address turns out to lie in another function (an await_suspend the optimizer kept
// out of line), the dump falls back to the line where the coroutine's function begins.
//
// The note is written only when the wait parks, before the goroutine's stack has unwound
// (nobody else can see the goroutine yet: detail/park.hpp): two instructions on the
// parking path, none when the value is there.
#pragma once

#include <coroutine>

#include "go/config.hpp"

namespace go::detail {

GO_ALWAYS_INLINE const void* code_here() noexcept {
  const void* pc = nullptr;
#if defined(__x86_64__)
  asm volatile("leaq 0(%%rip), %0" : "=r"(pc));
#elif defined(__aarch64__)
  asm volatile("adr %0, ." : "=r"(pc));
#endif
  return pc;
}

// A coroutine whose promise has no suspended_at_ (not a go::task) is left alone.
template <class P>
GO_ALWAYS_INLINE void note_suspension(std::coroutine_handle<P> h, const void* pc) noexcept {
  if constexpr (requires { h.promise().suspended_at_ = pc; }) h.promise().suspended_at_ = pc;
}

}  // namespace go::detail

// The suspension address, evaluated in the awaiter's own await_suspend (a macro, so that
// the return address is await_suspend's).
#if defined(__OPTIMIZE__) && (defined(__x86_64__) || defined(__aarch64__))
#define GO_SUSPENSION_PC() ::go::detail::code_here()
#else
#define GO_SUSPENSION_PC() (static_cast<const char*>(__builtin_return_address(0)) - 1)  // inside the call
#endif
