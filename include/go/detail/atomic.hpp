// The sync facade: every atomic, fence, spin hint, thread yield and futex in gocoro comes
// from here, so that a checking build can swap the implementation in one place.
//
// GO_MODEL (defined only by test/model/, which compiles the structures it checks into
// its own binary and does not link the library): each operation becomes a step of the
// model checker in test/model/model.hpp, which runs the threads of a small case as
// fibers and explores their interleavings under x86-TSO (docs/testing.md, "Model
// checking"). The library itself always uses the std:: implementation.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>
#include <thread>

#ifdef GO_MODEL
#include "model_atomic.hpp"  // test/model/: go::model::atomic, fence, yield, futex
#endif

namespace go::detail {

using std::memory_order_acq_rel;
using std::memory_order_acquire;
using std::memory_order_relaxed;
using std::memory_order_release;
using std::memory_order_seq_cst;

#ifndef GO_MODEL

template <class T>
using atomic = std::atomic<T>;

// A fence (named so that a call cannot also find std::atomic_thread_fence by ADL).
inline void fence(std::memory_order o) noexcept { std::atomic_thread_fence(o); }

// A hint to the CPU that we are in a spin-wait loop (x86 `pause`, ARM `yield`).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield");
#endif
}

// Give the core to another thread (a spin that has waited long: its holder may have been
// descheduled).
inline void thread_yield() noexcept { std::this_thread::yield(); }

// Sleep while word == expected, until futex_wake or the timeout (null: none). Returns at
// once if word differs; may return spuriously (callers loop). Linux futexes, private to
// the process (lib/runtime/futex.cpp).
void futex_wait(atomic<std::uint32_t>& word, std::uint32_t expected, const timespec* timeout) noexcept;
void futex_wake(atomic<std::uint32_t>& word, int n) noexcept;

#else

template <class T>
using atomic = go::model::atomic<T>;
using go::model::fence;
using go::model::cpu_relax;
using go::model::futex_wait;
using go::model::futex_wake;
using go::model::thread_yield;

#endif

}  // namespace go::detail
