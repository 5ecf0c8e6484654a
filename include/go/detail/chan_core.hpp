// chan_core: the type-erased state of a channel (Go's hchan), shared by every
// go::chan<T> handle to it. Elements move through a small ops table, as Go moves them
// with typedmemmove; lib/chan.cpp implements the operations.
//
// Invariants (all fields below lock_ are protected by it; check() verifies them):
//   - At least one of sendq and recvq is empty (a sender and a receiver that met would
//     have completed), unless every waiter in both is a select's case (a select that
//     sends and receives on one channel queues on both sides, as in Go).
//   - count > 0 implies recvq is empty; count < capacity implies sendq is empty
//     (for capacity 0: any waiting sender means no waiting receiver and vice versa).
//   - Once closed, sendq is empty forever (close fails every waiting sender).
//   - Buffer slots [recvx, recvx + count) (mod capacity) hold constructed elements;
//     count <= capacity and sendx == (recvx + count) mod capacity.
//   - A waiter in sendq says is_send, one in recvq does not.
#pragma once

#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <new>
#include <type_traits>
#include <utility>

#include "go/config.hpp"
#include "go/detail/atomic.hpp"
#include "go/detail/spinlock.hpp"
#include "go/detail/waitq.hpp"

namespace go::detail {

// How a channel moves its elements. An empty type (a signal) needs no storage: size is
// 0, the buffer holds nothing, and move() with a null source default-constructs.
struct elem_ops {
  std::size_t size;
  std::size_t align;
  void (*move)(void* dst, void* src) noexcept;  // move-construct *dst from *src
  void (*destroy)(void* p) noexcept;
};

template <class T>
struct elem_ops_for {
  static_assert(std::is_nothrow_move_constructible_v<T>,
                "go::chan<T>: T must be nothrow move constructible (elements move under the channel lock)");
  static constexpr bool empty = std::is_empty_v<T> && std::is_nothrow_default_constructible_v<T>;
  static void move(void* dst, void* src) noexcept {
    if constexpr (empty) {
      if (!src) return (void)::new (dst) T();
    }
    ::new (dst) T(std::move(*static_cast<T*>(src)));
  }
  static void destroy(void* p) noexcept { static_cast<T*>(p)->~T(); }
  static constexpr elem_ops ops{empty ? 0 : sizeof(T), alignof(T), &move, &destroy};
};

struct select_state;

// One goroutine blocked on one channel operation (Go's sudog for channels).
struct chan_waiter : waiter {
  bool success = false;          // completed by a peer (true) or woken by close (false)
  bool is_send = false;          // which of the channel's queues holds it
  std::uint16_t case_index = 0;  // which case, for a select
  void* elem = nullptr;          // send: the value to take; recv: storage to construct into
  select_state* sel = nullptr;   // set if this waiter is one case of a select
};
static_assert(sizeof(chan_waiter) == 56, "the flags share the waiter's tail padding (waitq.hpp)");

class chan_core;

// One case of a select, as the non-template select core sees it (select.hpp builds
// them; timers and contexts plug in by presenting a channel).
struct scase {
  chan_core* c = nullptr;  // null: a nil channel, never ready
  void* elem = nullptr;    // send: the value; recv: storage
  bool is_send = false;
};

enum class chan_status : std::uint8_t { done, would_block, closed };

class chan_core {
 public:
  // A channel of `capacity` elements. Throws go::error(invalid_argument), Go's
  // "makechan: size out of range", if the buffer could not be allocated (its size
  // overflows, or passes max_alloc, or malloc fails). timer: len() and cap() read 0,
  // whatever the buffer (Go 1.23's timer channels are unbuffered; ours hold one value,
  // which stop/reset drain).
  GO_API static chan_core* make(std::uint64_t capacity, const elem_ops* ops, bool timer = false);
  // The largest buffer a channel may have, in bytes: Go's maxAlloc on 64-bit Linux.
  static constexpr std::uint64_t max_alloc = std::uint64_t{1} << 47;
  void retain() noexcept { refs_.fetch_add(1, memory_order_relaxed); }  // a new handle from an existing one
  GO_API void release() noexcept;

  // Go's cap(c) and len(c) (a snapshot); both 0 for a timer's channel.
  std::size_t capacity() const noexcept { return timer_ ? 0 : capacity_; }
  std::size_t len() const noexcept { return timer_ ? 0 : count_.load(memory_order_relaxed); }

  // A blocking send or receive, from an awaiter's await_suspend: complete at once
  // (return false; w->success says whether a receive got a value, and a send on a
  // closed channel throws), or enqueue *w and park the goroutine (return true).
  GO_API bool complete_or_park(chan_waiter* w, bool is_send, std::coroutine_handle<> h);
  // Non-blocking.
  GO_API chan_status try_send(void* elem);
  GO_API chan_status try_recv(void* out);
  GO_API void close();
  // Remove a waiter that is still queued (its goroutine is being destroyed).
  GO_API void cancel(chan_waiter* w) noexcept;

  // -- for select.cpp: the caller holds lock_ --
  spinlock& lock() noexcept { return lock_; }
  chan_status send_locked(void* elem, g** to_ready) noexcept;
  chan_status recv_locked(void* out, g** to_ready) noexcept;
  void enqueue_locked(chan_waiter* w, bool is_send) noexcept;
  void dequeue_locked(chan_waiter* w) noexcept;
  // The invariants above; the caller holds lock_ (GO_CHECK_INVARIANTS, assert.hpp).
  GO_API void check() const noexcept;

 private:
  chan_core(std::size_t capacity, const elem_ops* ops, std::byte* buf, bool timer) noexcept
      : capacity_(capacity), ops_(ops), buf_(buf), timer_(timer) {}
  ~chan_core();
  void* slot(std::size_t i) noexcept { return ops_->size ? buf_ + i * ops_->size : nullptr; }
  chan_waiter* dequeue(waitq& q) noexcept;

  spinlock lock_{lock_rank::chan};
  const std::size_t capacity_;       // immutable
  const elem_ops* const ops_;        // immutable
  std::byte* const buf_;             // immutable pointer; slots protected by lock_
  const bool timer_;                 // immutable: a timer's channel (len/cap read 0)
  std::size_t sendx_ = 0, recvx_ = 0;
  atomic<std::size_t> count_{0};     // written under lock_; read without it by len()
  bool closed_ = false;
  waitq recvq_, sendq_;
  atomic<std::size_t> refs_{1};
};

}  // namespace go::detail
