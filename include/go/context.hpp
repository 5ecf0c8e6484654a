// go::context: Go's context package -- cancellation, deadlines and request-scoped values
// that flow down a tree of contexts.
#pragma once

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <system_error>
#include <type_traits>
#include <utility>
#include <variant>

#include "go/chan.hpp"
#include "go/detail/ctx_wait.hpp"
#include "go/select.hpp"
#include "go/spawn.hpp"
#include "go/time.hpp"

namespace go {

class context;

namespace detail {
GO_API recv_only<std::monostate> ctx_done(ctx_node* n);
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

// ctx.done(): a receive-only channel that is closed when the context is done (a nil
// channel, which never becomes ready, for a context that cannot be canceled). Usable in
// select (`go::recv(ctx.done())`), and awaitable itself: `co_await ctx.done();`.
class done_chan : public recv_only<std::monostate> {
 public:
  using recv_only<std::monostate>::recv_only;
  done_chan(recv_only<std::monostate> c) noexcept : recv_only<std::monostate>(std::move(c)) {}
  auto operator co_await() const& noexcept { return recv(); }
  auto operator co_await() && noexcept { return std::move(*this).recv(); }  // owns the channel
};

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

  [[nodiscard]] done_chan done() const { return detail::ctx_done(n_.get()); }
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

// Go's CancelFunc: cancels its context (with errc::canceled) and its descendants, and
// takes it out of its parent. Idempotent; copyable; callable from any thread.
class cancel_func {
 public:
  void operator()() const noexcept {
    if (n_) detail::ctx_cancel(n_.get(), nullptr);
  }

 private:
  friend struct detail::ctx_access;
  std::shared_ptr<detail::ctx_node> n_;
};

// Go's CancelCauseFunc: as cancel_func, recording why (cause(ctx) reports it).
class cancel_cause_func {
 public:
  void operator()(std::exception_ptr cause = nullptr) const noexcept {
    if (n_) detail::ctx_cancel(n_.get(), std::move(cause));
  }
  template <class E, class = std::enable_if_t<std::is_base_of_v<std::exception, std::decay_t<E>>>>
  void operator()(E&& e) const noexcept {
    (*this)(std::make_exception_ptr(std::forward<E>(e)));
  }

 private:
  friend struct detail::ctx_access;
  std::shared_ptr<detail::ctx_node> n_;
};

template <class Cancel>
struct [[nodiscard]] context_with {
  context ctx;
  Cancel cancel;
};

GO_API context_with<cancel_func> with_cancel(const context& parent);
GO_API context_with<cancel_cause_func> with_cancel_cause(const context& parent);
GO_API context_with<cancel_func> with_deadline(const context& parent, clock::time_point deadline);
template <class Rep, class Period>
context_with<cancel_func> with_timeout(const context& parent, std::chrono::duration<Rep, Period> d) {
  return with_deadline(parent, clock::time_point(std::chrono::nanoseconds(detail::deadline_from_now(d))));
}
// Go's WithoutCancel: parent's values, but never canceled and no deadline.
[[nodiscard]] GO_API context without_cancel(const context& parent);
[[nodiscard]] GO_API std::exception_ptr cause(const context& ctx);

namespace detail {
GO_API context ctx_with_value(const context& parent, const void* key, std::shared_ptr<const void> value);
}
template <class T, class U>
[[nodiscard]] context with_value(const context& parent, const context_key<T>& key, U&& value) {
  return detail::ctx_with_value(parent, &key, std::make_shared<const T>(std::forward<U>(value)));
}

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
// Throw ctx's error, or a "context canceled" one if it is not done (which cannot happen
// when a wait ended by cancellation).
[[noreturn]] GO_API void throw_err_of(const context& ctx);
}  // namespace detail

// go::after_func(ctx, f): Go's context.AfterFunc. Once ctx is done, f runs in a goroutine
//   of its own (f returns a go::task or is a plain callable); if ctx is done already, at
//   once. stop() unregisters it: true if that kept f from running, false if f has
//   started or stop ran before. A registration is a hook in the ctx's list, not a
//   goroutine: a stopped one costs nothing afterwards, and f and everything it captured
//   are destroyed by stop(). Registering needs a running runtime (f runs on it);
//   dropping the handle does not unregister, as in Go. A ctx that can never be done
//   again (its last handle dropped) drops its registrations: f never runs. f does not
//   run if its runtime has stopped by the time ctx is done.
namespace detail {
// One registration (lib/context.cpp has the protocol). The hook is listed in the
// canceler's hooks and then holds `self`, the registration's reference to the state;
// whoever takes the hook off the list (the cancel, stop(), or the canceler's end)
// releases it. phase decides, once, whether f runs: 0 registered, 1 started, 2 stopped.
struct after_func_base {
  struct hook_t {
    ctx_hook h;  // first member: the hook's functions find the state from it
    after_func_base* self;
  } hook{};
  atomic<int> phase{0};
  std::weak_ptr<ctx_node> canceler;        // the node whose list holds the hook
  std::shared_ptr<after_func_base> self;   // the hook's reference while listed
  std::uint64_t runtime_serial = 0;        // the runtime f runs on
  // Start f in a goroutine of s (after phase went 0 -> 1), or destroy f (0 -> 2).
  bool (*spawn)(after_func_base* st, sched* s) noexcept = nullptr;
  void (*discard)(after_func_base* st) noexcept = nullptr;
};
GO_API void after_func_register(const std::shared_ptr<after_func_base>& st, const context& ctx);
GO_API bool after_func_stop(after_func_base* st) noexcept;

template <class F>
struct after_func_state final : after_func_base {
  explicit after_func_state(F fn) : f(std::move(fn)) {
    spawn = &spawn_f;
    discard = &discard_f;
  }
  std::optional<F> f;  // until it is moved into its goroutine, or discarded

  static bool spawn_f(after_func_base* b, sched* s) noexcept {
    auto* st = static_cast<after_func_state*>(b);
    auto body = [fn = std::move(*st->f)]() mutable -> task<void> {
      if constexpr (is_task_v<std::invoke_result_t<F&>>)
        co_await std::invoke(fn);
      else
        std::invoke(fn);
    };
    st->f.reset();
    try {
      spawn_on(s, std::move(body));  // detached, as Go's `go f()`
      return true;
    } catch (...) {
      return false;  // the runtime has stopped (or no memory): f is dropped
    }
  }
  static void discard_f(after_func_base* b) noexcept { static_cast<after_func_state*>(b)->f.reset(); }
};
}  // namespace detail

class context_after_func {
 public:
  bool stop() noexcept { return st_ && detail::after_func_stop(st_.get()); }

 private:
  template <class F>
  friend context_after_func after_func(const context& ctx, F f);
  std::shared_ptr<detail::after_func_base> st_;
};

template <class F>
context_after_func after_func(const context& ctx, F f) {
  context_after_func h;
  h.st_ = std::make_shared<detail::after_func_state<F>>(std::move(f));
  if (detail::ctx_access::canceler(ctx))
    detail::after_func_register(h.st_, ctx);
  else
    h.st_->discard(h.st_.get());  // never done: f never runs; stop() still reports true once
  return h;
}

// -- Waits that a context cancels. Each throws go::error with ctx's error
// (errc::canceled or errc::deadline_exceeded) once ctx is done; a wait that completed
// first (a value received, a lock granted) is not undone. A context that is already done
// fails the wait at once, even if it could complete. --

// Go's `select { case <-time.After(d): case <-ctx.Done(): return ctx.Err() }`.
template <class Rep, class Period>
task<void> sleep(std::chrono::duration<Rep, Period> d, context ctx) {
  if (ctx.err()) detail::throw_err_of(ctx);
  if (d <= d.zero()) co_return;
  timer t(d);
  auto done = ctx.done();
  auto r = co_await select(go::recv(t.c()), go::recv(done));
  if (r.index() == 1) detail::throw_err_of(ctx);
}

namespace detail {
template <class T>
task<std::optional<T>> recv_ctx(recv_only<T> ch, context ctx) {
  if (ctx.err()) throw_err_of(ctx);
  auto done = ctx.done();
  auto r = co_await select(go::recv(ch), go::recv(done));
  if (r.index() == 1) throw_err_of(ctx);
  co_return std::move(r.template get<0>());
}

template <class T>
task<void> send_ctx(send_only<T> ch, T v, context ctx) {
  if (ctx.err()) throw_err_of(ctx);
  auto done = ctx.done();
  auto r = co_await select(go::send(ch, std::move(v)), go::recv(done));
  if (r.index() == 1) throw_err_of(ctx);
}
}  // namespace detail

template <class T>
task<std::optional<T>> chan<T>::recv(context ctx) const {
  return detail::recv_ctx<T>(*this, std::move(ctx));
}
template <class T>
task<std::optional<T>> recv_only<T>::recv(context ctx) const {
  return detail::recv_ctx<T>(*this, std::move(ctx));
}
template <class T>
task<void> chan<T>::send(T v, context ctx) const {
  return detail::send_ctx<T>(*this, std::move(v), std::move(ctx));
}
template <class T>
task<void> send_only<T>::send(T v, context ctx) const {
  return detail::send_ctx<T>(*this, std::move(v), std::move(ctx));
}

}  // namespace go
