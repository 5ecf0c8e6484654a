// go::context, the handle (Go's Context value) and what the waits that take one need:
// the sync primitives include this, not go/context.hpp, so that a translation unit that
// includes <go/sync/mutex.hpp> sees no channel, select or timer. go/context.hpp is the
// public header: done() and the constructors of the tree live there.
#pragma once

#include <memory>
#include <optional>
#include <system_error>
#include <utility>

#include "go/config.hpp"
#include "go/detail/clock.hpp"
#include "go/detail/ctx_wait.hpp"

namespace go {

class done_chan;

class context;

namespace detail {
GO_API std::error_code ctx_err(const ctx_node* n) noexcept;
GO_API std::optional<clock::time_point> ctx_deadline(const ctx_node* n) noexcept;
GO_API const void* ctx_value(const ctx_node* n, const void* key) noexcept;
GO_API std::exception_ptr ctx_cause(ctx_node* n);
GO_API void ctx_cancel(ctx_node* n, std::exception_ptr cause) noexcept;
GO_API ctx_node* ctx_canceler(const ctx_node* n) noexcept;
// For tests: how many children are registered with the context's canceler, and how
// many hooks (after_func registrations, cancelable waits) are listed on it.
GO_API std::size_t ctx_children(const context& c) noexcept;
GO_API std::size_t ctx_hooks(const context& c) noexcept;
struct ctx_access;
}  // namespace detail

// A typed key for context values (Go's unexported key types): keys compare by
// identity, so two keys never collide. Declare one per value:
//   inline const go::context_key<std::string> request_id;
template <class T>
struct context_key {
  context_key() noexcept = default;
  context_key(const context_key&) = delete;
};

// go::context: a handle to a node in a context tree, copied freely (Go's Context value).
//   A default-constructed context is background(): never canceled, no deadline, no values.
// done(): closed once the context is canceled or its deadline passes. err(): empty while
//   not done, then errc::canceled ("context canceled") or errc::deadline_exceeded
//   ("context deadline exceeded"). cause(ctx): the cause given to a cancel_cause_func,
//   else an exception carrying err().
// Tree rules: canceling a context cancels every descendant; canceling a child leaves
//   its parent alone; a child is registered with its nearest cancelable ancestor only
//   while it can still be canceled -- it leaves the parent's list when it is canceled
//   or when its last handle (context copies and cancel functions) is dropped, so a
//   long-lived parent's bookkeeping does not grow. A child's deadline is never later
//   than its parent's.
// Timers: with_timeout / with_deadline start a timer, so they need a running runtime
//   (go::error(no_runtime) off it); the other constructors work anywhere.
// Thread safety: every operation may be used from any goroutine or thread concurrently.
class context {
 public:
  context() noexcept = default;  // background()

  [[nodiscard]] done_chan done() const;  // defined in go/context.hpp, with the channel
  [[nodiscard]] std::error_code err() const noexcept { return detail::ctx_err(n_.get()); }
  [[nodiscard]] std::optional<clock::time_point> deadline() const noexcept { return detail::ctx_deadline(n_.get()); }
  // The value stored under key by with_value on this context or an ancestor; null if none.
  template <class T>
  [[nodiscard]] const T* value(const context_key<T>& key) const noexcept {
    return static_cast<const T*>(detail::ctx_value(n_.get(), &key));
  }

 private:
  friend struct detail::ctx_access;
  explicit context(std::shared_ptr<detail::ctx_node> n) noexcept : n_(std::move(n)) {}
  std::shared_ptr<detail::ctx_node> n_;
};

[[nodiscard]] inline context background() noexcept { return {}; }
[[nodiscard]] inline context todo() noexcept { return {}; }

namespace detail {
struct ctx_access {
  static ctx_node* node(const context& c) noexcept { return c.n_.get(); }
  static const std::shared_ptr<ctx_node>& ptr(const context& c) noexcept { return c.n_; }
  static ctx_node* canceler(const context& c) noexcept { return ctx_canceler(c.n_.get()); }
  static ctx_hold hold(context c) noexcept {
    ctx_node* k = ctx_canceler(c.n_.get());
    return k ? ctx_hold{std::move(c.n_), k} : ctx_hold{};
  }
  static context make(std::shared_ptr<ctx_node> n) noexcept { return context(std::move(n)); }
  template <class F>
  static F func(std::shared_ptr<ctx_node> n) noexcept {
    F f;
    f.n_ = std::move(n);
    return f;
  }
};
}  // namespace detail

}  // namespace go
