// The sync facade: every atomic, fence and spin hint in gocoro comes from here, so a
// model-checking or instrumented build can swap the implementation in one place.
#pragma once

#include <atomic>

namespace go::detail {

template <class T>
using atomic = std::atomic<T>;

using std::memory_order_acq_rel;
using std::memory_order_acquire;
using std::memory_order_relaxed;
using std::memory_order_release;
using std::memory_order_seq_cst;

// A hint to the CPU that we are in a spin-wait loop (x86 `pause`, ARM `yield`).
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  asm volatile("yield");
#endif
}

}  // namespace go::detail
