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
#include "go/detail/context_handle.hpp"
#include "go/detail/ctx_wait.hpp"
#include "go/select.hpp"
#include "go/spawn.hpp"
#include "go/time.hpp"

namespace go {

namespace detail {
GO_API recv_only<std::monostate> ctx_done(ctx_node* n);
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

inline done_chan context::done() const { return detail::ctx_done(n_.get()); }

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
  struct hook_t : ctx_hook {
    after_func_base* self = nullptr;  // the hook's functions find the state from it
  } hook;
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
// chan<T>::recv(ctx) and send(v, ctx) (go/chan.hpp): a select on the channel and done().
template <class T>
task<std::optional<T>> recv_ctx(ctx_op_tag, recv_only<T> ch, context ctx) {
  if (ctx.err()) throw_err_of(ctx);
  auto done = ctx.done();
  auto r = co_await select(go::recv(ch), go::recv(done));
  if (r.index() == 1) throw_err_of(ctx);
  co_return std::move(r.template get<0>());
}

template <class T>
task<void> send_ctx(ctx_op_tag, send_only<T> ch, T v, context ctx) {
  if (ctx.err()) throw_err_of(ctx);
  auto done = ctx.done();
  auto r = co_await select(go::send(ch, std::move(v)), go::recv(done));
  if (r.index() == 1) throw_err_of(ctx);
}
}  // namespace detail

}  // namespace go
