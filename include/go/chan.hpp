// go::chan<T>: Go's channels.
#pragma once

#include <concepts>
#include <coroutine>
#include <cstddef>
#include <cstdint>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "go/detail/chan_core.hpp"
#include "go/detail/context_handle.hpp"  // the context handle, for the ctx forms
#include "go/detail/park.hpp"
#include "go/error.hpp"
#include "go/task.hpp"

namespace go {

template <class T>
class chan;
template <class T>
class send_only;
template <class T>
class recv_only;

namespace detail {
template <class T>
class chan_view;

// A counted reference to a chan_core; null is a nil channel.
class chan_ref {
 public:
  chan_ref() noexcept = default;
  explicit chan_ref(chan_core* c) noexcept : c_(c) {}
  chan_ref(const chan_ref& o) noexcept : c_(o.c_) {
    if (c_) c_->retain();
  }
  chan_ref(chan_ref&& o) noexcept : c_(std::exchange(o.c_, nullptr)) {}
  chan_ref& operator=(chan_ref o) noexcept {
    std::swap(c_, o.c_);
    return *this;
  }
  ~chan_ref() {
    if (c_) c_->release();
  }
  chan_core* get() const noexcept { return c_; }

 private:
  chan_core* c_ = nullptr;
};

// Park the running goroutine for good: a blocking operation on a nil channel. Only the
// runtime's shutdown ends it (destroying the goroutine).
GO_API void park_forever(std::coroutine_handle<> h, wait_reason why);
[[noreturn]] GO_API void throw_send_on_closed();
[[noreturn]] GO_API void throw_close_of_nil();

// Uninitialized storage for one received element.
template <class T>
struct elem_slot {
  alignas(T) std::byte bytes[sizeof(T)];
  void* ptr() noexcept { return bytes; }
  T take() noexcept {
    T* p = std::launder(reinterpret_cast<T*>(bytes));
    T v(std::move(*p));
    p->~T();
    return v;
  }
  void destroy() noexcept { std::launder(reinterpret_cast<T*>(bytes))->~T(); }
};

// The awaiters borrow the channel from the handle they were made from (no atomic on
// the hot path), or, made from a temporary handle (`make_chan<int>(1).send(v)`), own it:
// the handle's reference moves in, so the channel lives as long as the awaiter.
template <class T>
class send_awaiter {
 public:
  template <class U>
  send_awaiter(chan_core* c, U&& v) : c_(c), value_(std::forward<U>(v)) {}
  template <class U>
  send_awaiter(chan_ref owned, U&& v) : c_(owned.get()), owned_(std::move(owned)), value_(std::forward<U>(v)) {}
  send_awaiter(const send_awaiter&) = delete;
  ~send_awaiter() {
    if (w_.queued) c_->cancel(&w_);  // destroyed while parked (runtime shutdown)
  }
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    if (!c_) {
      park_forever(h, wait_reason::chan_send_nil);
    } else {
      w_.elem = &value_;
      if (!(parked_ = c_->complete_or_park(&w_, /*is_send=*/true, h))) return false;
    }
    note_suspension(h, GO_SUSPENSION_PC());  // parked: the frame is ours until it unwinds
    return true;
  }
  void await_resume() const {
    if (parked_ && !w_.success) throw_send_on_closed();
  }

 private:
  chan_core* c_;
  chan_ref owned_;  // null when borrowed
  T value_;
  chan_waiter w_;
  bool parked_ = false;
};

template <class T>
class recv_awaiter {
 public:
  explicit recv_awaiter(chan_core* c) noexcept : c_(c) {}
  explicit recv_awaiter(chan_ref owned) noexcept : c_(owned.get()), owned_(std::move(owned)) {}
  recv_awaiter(const recv_awaiter&) = delete;
  ~recv_awaiter() {
    if (w_.queued)
      c_->cancel(&w_);  // destroyed while parked (runtime shutdown)
    else if (w_.success && !taken_)
      slot_.destroy();  // received, then destroyed before resuming
  }
  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    if (!c_) {
      park_forever(h, wait_reason::chan_receive_nil);
    } else {
      w_.elem = slot_.ptr();
      if (!c_->complete_or_park(&w_, /*is_send=*/false, h)) return false;
    }
    note_suspension(h, GO_SUSPENSION_PC());  // parked: the frame is ours until it unwinds
    return true;
  }
  std::optional<T> await_resume() noexcept {
    if (!w_.success) return std::nullopt;
    taken_ = true;
    return std::optional<T>(slot_.take());
  }

 private:
  chan_core* c_;
  chan_ref owned_;  // null when borrowed
  elem_slot<T> slot_;
  chan_waiter w_;
  bool taken_ = false;
};

struct chan_access;

}  // namespace detail

// The outcome of a non-blocking receive: a value, or none because the channel is empty
// (closed == false) or closed and drained (closed == true).
template <class T>
struct try_recv_result {
  std::optional<T> value;
  bool closed = false;
  explicit operator bool() const noexcept { return value.has_value(); }
};

// go::chan<T> -- a channel, shared by every copy of the handle (a Go channel value).
//
// Suspends: `co_await ch.send(v)` until a receiver takes v (unbuffered) or there is
//   room in the buffer; `co_await ch.recv()` until a value or close. Neither suspends
//   when it can complete at once. A send to a waiting receiver hands the value straight
//   to it. Waiters are served first come, first served; one sender's values arrive in
//   order.
// Resumes: the goroutine that completes a parked operation readies it into its own
//   P's runnext slot (or the global queue from outside the runtime), so a
//   sender/receiver pair runs back to back on one P.
// Close: close() wakes every waiting receiver (they get std::nullopt once the buffer is
//   drained) and fails every waiting sender with go::error(closed_channel), "send on
//   closed channel". Sending on a closed channel throws the same; closing twice throws
//   "close of closed channel"; closing a nil channel throws "close of nil channel".
// Nil: a default-constructed chan is nil: send and recv block forever, try_* never
//   succeed, and select never picks its cases.
// Ranging: `while (auto v = co_await ch.recv()) use(*v);` is Go's `for v := range ch`.
// Shutdown: a goroutine parked in send or recv is destroyed by runtime::stop and leaves
//   the channel's queue; the value it was sending is destroyed with it.
// Thread safety: every member may be called from any goroutine or thread concurrently
//   (the blocking ones from goroutines). T must be nothrow move constructible; an empty
//   T (std::monostate, a `struct {}`) takes no buffer space.
template <class T>
class chan {
 public:
  using value_type = T;

  chan() noexcept = default;  // nil

  // On a temporary handle the awaiter takes the handle's reference (see send_awaiter).
  [[nodiscard]] detail::send_awaiter<T> send(const T& v) const& { return {c(), v}; }
  [[nodiscard]] detail::send_awaiter<T> send(T&& v) const& { return {c(), std::move(v)}; }
  [[nodiscard]] detail::send_awaiter<T> send(const T& v) && { return {std::move(ref_), v}; }
  [[nodiscard]] detail::send_awaiter<T> send(T&& v) && { return {std::move(ref_), std::move(v)}; }
  [[nodiscard]] detail::recv_awaiter<T> recv() const& noexcept { return detail::recv_awaiter<T>(c()); }
  [[nodiscard]] detail::recv_awaiter<T> recv() && noexcept { return detail::recv_awaiter<T>(std::move(ref_)); }
  // Receive and send that a context cancels: they throw go::error with ctx's error once
  // ctx is done. They wait through a select on ctx's done channel, so they need
  // <go/context.hpp> where they are called (without it: a compile error naming
  // recv_ctx or send_ctx, never a link error).
  [[nodiscard]] task<std::optional<T>> recv(context ctx) const;
  [[nodiscard]] task<void> send(T v, context ctx) const;

  // Send without blocking: true if sent. On false, v is left as it was.
  bool try_send(T&& v) const { return c() && c()->try_send(&v) == detail::chan_status::done; }
  bool try_send(const T& v) const {
    T copy(v);
    return try_send(std::move(copy));
  }
  // Receive without blocking.
  try_recv_result<T> try_recv() const {
    try_recv_result<T> r;
    if (!c()) return r;
    detail::elem_slot<T> slot;
    detail::chan_status st = c()->try_recv(slot.ptr());
    if (st == detail::chan_status::done) r.value.emplace(slot.take());
    r.closed = st == detail::chan_status::closed;
    return r;
  }

  void close() const {
    if (!c()) detail::throw_close_of_nil();
    c()->close();
  }
  std::size_t len() const noexcept { return c() ? c()->len() : 0; }
  std::size_t cap() const noexcept { return c() ? c()->capacity() : 0; }
  bool is_nil() const noexcept { return c() == nullptr; }

  friend bool operator==(const chan& a, const chan& b) noexcept { return a.c() == b.c(); }

 private:
  friend struct detail::chan_access;
  explicit chan(detail::chan_ref r) noexcept : ref_(std::move(r)) {}
  detail::chan_core* c() const noexcept { return ref_.get(); }

  detail::chan_ref ref_;
};


namespace detail {
// What both directional views offer: the channel's size, and nil-ness.
template <class T>
class chan_view {
 public:
  chan_view() noexcept = default;
  chan_view(chan<T> ch) noexcept : ch_(std::move(ch)) {}
  std::size_t len() const noexcept { return ch_.len(); }
  std::size_t cap() const noexcept { return ch_.cap(); }
  bool is_nil() const noexcept { return ch_.is_nil(); }

 protected:
  friend struct chan_access;
  chan<T> ch_;
};
}  // namespace detail

// Go's chan<- T: may send and close, not receive. Made implicitly from a chan<T>.
template <class T>
class send_only : public detail::chan_view<T> {
 public:
  using detail::chan_view<T>::chan_view;
  [[nodiscard]] auto send(const T& v) const& { return this->ch_.send(v); }
  [[nodiscard]] auto send(T&& v) const& { return this->ch_.send(std::move(v)); }
  [[nodiscard]] auto send(const T& v) && { return std::move(this->ch_).send(v); }
  [[nodiscard]] auto send(T&& v) && { return std::move(this->ch_).send(std::move(v)); }
  [[nodiscard]] task<void> send(T v, context ctx) const;  // see chan<T>::send(v, ctx)
  bool try_send(T&& v) const { return this->ch_.try_send(std::move(v)); }
  bool try_send(const T& v) const { return this->ch_.try_send(v); }
  void close() const { this->ch_.close(); }
};

// Go's <-chan T: may only receive. Made implicitly from a chan<T>.
template <class T>
class recv_only : public detail::chan_view<T> {
 public:
  using detail::chan_view<T>::chan_view;
  [[nodiscard]] auto recv() const& noexcept { return this->ch_.recv(); }
  [[nodiscard]] auto recv() && noexcept { return std::move(this->ch_).recv(); }
  [[nodiscard]] task<std::optional<T>> recv(context ctx) const;  // see chan<T>::recv(ctx)
  try_recv_result<T> try_recv() const { return this->ch_.try_recv(); }
};

namespace detail {
struct chan_access {
  template <class T>
  static chan<T> make(chan_core* c) noexcept {
    return chan<T>(chan_ref(c));
  }
  template <class T>
  static chan_core* core(const chan<T>& ch) noexcept {
    return ch.c();
  }
  template <class T>
  static chan_core* core(const chan_view<T>& ch) noexcept {
    return ch.ch_.c();
  }
  // The handle's counted reference: taken from a temporary (no atomic), copied otherwise.
  template <class T>
  static chan_ref ref(chan<T>&& ch) noexcept {
    return std::move(ch.ref_);
  }
  template <class T>
  static chan_ref ref(chan_view<T>&& ch) noexcept {
    return std::move(ch.ch_.ref_);
  }
  template <class T>
  static chan_ref ref(const chan<T>& ch) noexcept {
    return ch.ref_;
  }
  template <class T>
  static chan_ref ref(const chan_view<T>& ch) noexcept {
    return ch.ch_.ref_;
  }
};
}  // namespace detail

// The context forms. Each calls detail::recv_ctx / send_ctx (go/context.hpp) unqualified,
// with a detail tag first: argument-dependent lookup finds them where the form is
// instantiated, so chan.hpp need not see select or the context tree.
namespace detail {
struct ctx_op_tag {};
}  // namespace detail
template <class T>
task<std::optional<T>> chan<T>::recv(context ctx) const {
  return recv_ctx(detail::ctx_op_tag{}, recv_only<T>(*this), std::move(ctx));
}
template <class T>
task<std::optional<T>> recv_only<T>::recv(context ctx) const {
  return recv_ctx(detail::ctx_op_tag{}, *this, std::move(ctx));
}
template <class T>
task<void> chan<T>::send(T v, context ctx) const {
  return send_ctx(detail::ctx_op_tag{}, send_only<T>(*this), std::move(v), std::move(ctx));
}
template <class T>
task<void> send_only<T>::send(T v, context ctx) const {
  return send_ctx(detail::ctx_op_tag{}, *this, std::move(v), std::move(ctx));
}

namespace detail {
[[noreturn]] GO_API void throw_makechan_size();
}

// Go's make(chan T, capacity). Capacity 0 is an unbuffered (rendezvous) channel. A
// negative capacity, or one whose buffer cannot be allocated, throws
// go::error(invalid_argument), "makechan: size out of range", as Go panics.
template <class T, std::integral N = std::size_t>
[[nodiscard]] chan<T> make_chan(N capacity = 0) {
  if constexpr (std::is_signed_v<N>)
    if (capacity < 0) detail::throw_makechan_size();
  return detail::chan_access::make<T>(
      detail::chan_core::make(static_cast<std::uint64_t>(capacity), &detail::elem_ops_for<T>::ops));
}

}  // namespace go
