// The model checker's side of the sync facade (include/go/detail/atomic.hpp with
// GO_MODEL): atomics whose every operation is a step of the checker (model.cpp).
//
// Memory model: x86-TSO. A plain or release store goes into the storing thread's store
// buffer and reaches memory later, in order, when the checker chooses to drain it; a
// load reads the thread's own newest buffered store to that atomic, else memory. An
// RMW, a seq_cst store, a seq_cst fence and a futex call drain the thread's buffer
// first (locked instructions and syscalls are full barriers on x86). That is the
// reordering the runtime's Dekker fences exist for (store, then load of another
// variable); acquire/release need nothing more on x86. ARM's weaker orderings are not
// explored here: TSan and the stress tests on the real code cover them as well as they
// can.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <type_traits>

namespace go::model {

// -- the engine's hooks (model.cpp); outside an exploration they act at once --
void load_bits(const void* addr, void* out, std::size_t n) noexcept;       // own buffer, else memory
void store_bits(void* addr, const void* in, std::size_t n, bool sc) noexcept;  // buffered unless sc
void drain_own() noexcept;                                                  // before an RMW
void step(const char* what) noexcept;                                       // a scheduling point

void fence(std::memory_order o) noexcept;
void cpu_relax() noexcept;     // a spin: let another thread run
void thread_yield() noexcept;  // the same

template <class T>
class atomic {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) <= 8, "the model's atomics hold a word");

 public:
  constexpr atomic() noexcept : v_() {}
  constexpr atomic(T v) noexcept : v_(v) {}  // NOLINT: as std::atomic
  atomic(const atomic&) = delete;
  atomic& operator=(const atomic&) = delete;

  const void* address() const noexcept { return &v_; }  // the futex's key

  T load(std::memory_order = std::memory_order_seq_cst) const noexcept {
    T v;
    load_bits(&v_, &v, sizeof(T));
    step("load");
    return v;
  }
  void store(T v, std::memory_order o = std::memory_order_seq_cst) noexcept {
    store_bits(&v_, &v, sizeof(T), o == std::memory_order_seq_cst);
    step("store");
  }
  T exchange(T v, std::memory_order = std::memory_order_seq_cst) noexcept {
    return rmw([v](T) { return v; });
  }
  // Never fails spuriously: the model explores the interleavings, not LL/SC.
  bool compare_exchange_strong(T& expected, T desired, std::memory_order = std::memory_order_seq_cst,
                               std::memory_order = std::memory_order_seq_cst) noexcept {
    drain_own();
    const bool ok = std::memcmp(&v_, &expected, sizeof(T)) == 0;
    if (ok)
      v_ = desired;
    else
      expected = v_;
    step(ok ? "cas" : "cas failed");
    return ok;
  }
  bool compare_exchange_weak(T& expected, T desired, std::memory_order s = std::memory_order_seq_cst,
                             std::memory_order f = std::memory_order_seq_cst) noexcept {
    return compare_exchange_strong(expected, desired, s, f);
  }
  T fetch_add(T d, std::memory_order = std::memory_order_seq_cst) noexcept
    requires std::is_integral_v<T>
  {
    return rmw([d](T x) { return static_cast<T>(x + d); });
  }
  T fetch_sub(T d, std::memory_order = std::memory_order_seq_cst) noexcept
    requires std::is_integral_v<T>
  {
    return rmw([d](T x) { return static_cast<T>(x - d); });
  }
  T fetch_and(T d, std::memory_order = std::memory_order_seq_cst) noexcept
    requires std::is_integral_v<T>
  {
    return rmw([d](T x) { return static_cast<T>(x & d); });
  }
  T fetch_or(T d, std::memory_order = std::memory_order_seq_cst) noexcept
    requires std::is_integral_v<T>
  {
    return rmw([d](T x) { return static_cast<T>(x | d); });
  }

 private:
  template <class F>
  T rmw(F f) noexcept {
    drain_own();
    const T old = v_;
    v_ = f(old);
    step("rmw");
    return old;
  }
  T v_;  // memory; the threads' store buffers hold what has not reached it yet
};

void futex_wait(atomic<std::uint32_t>& word, std::uint32_t expected, const timespec* timeout) noexcept;
void futex_wake(atomic<std::uint32_t>& word, int n) noexcept;

}  // namespace go::model
