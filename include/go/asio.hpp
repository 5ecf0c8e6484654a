// go/asio.hpp: any Asio asynchronous operation, awaited from a goroutine.
//
//   asio::steady_timer t(go::io_context(), 50ms);
//   co_await t.async_wait(go::use_go);
//   std::size_t n = co_await sock.async_read_some(asio::buffer(buf), go::use_go);
//   co_await sig.async_wait(go::use_go(ctx));   // ctx's cancel cancels the operation
//
// This is the only gocoro header that shows Asio types; go/go.hpp does not include it.
#pragma once

#include <asio/async_result.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <coroutine>
#include <memory>
#include <optional>
#include <system_error>
#include <tuple>
#include <type_traits>
#include <utility>

#include "go/context.hpp"
#include "go/detail/atomic.hpp"
#include "go/detail/ctx_wait.hpp"
#include "go/detail/park.hpp"
#include "go/detail/suspension.hpp"

namespace go {

// The runtime's io_context (Go's netpoller), made on first use and polled by the
// runtime's workers (one at a time), as Go's scheduler polls netpoll. Create the Asio
// objects a goroutine awaits with go::use_go on it. They must not outlive the runtime.
// Throws go::error(no_runtime) off the runtime.
GO_API asio::io_context& io_context();

// The completion token. `co_await op(..., go::use_go)` parks the goroutine until the
// operation completes: the completion handler, run by whichever worker polls the
// io_context, only readies it (user code never runs inside the poller).
// The result: an error_code first argument that is set is thrown as std::system_error
// (as asio::use_awaitable does); the other arguments are returned (nothing, a value, or
// a std::tuple). go::use_go(ctx) also cancels the operation (Asio's per-operation
// cancellation, cancellation_type::all) once ctx is done, and then throws go::error
// with ctx's error.
// The token holds a reference to its ctx, so an operation started with
// use_go(<a temporary context>) and awaited later still has it.
struct use_go_t {
  detail::ctx_hold ctx;
  use_go_t operator()(context c) const noexcept { return use_go_t{detail::ctx_access::hold(std::move(c))}; }
};
inline const use_go_t use_go{};  // constant-initialized (a null reference)

namespace detail {

// The cancellation of one use_go(ctx) operation, shared by its awaiter, its starter and
// the posted emit (each may outlive the others).
//
// The ctx's hook and the starter race: the hook may run before the operation is
// started, when an emit would find no slot handler and be lost. So each side sets its
// flag and then reads the other's (seq_cst, a Dekker handshake): at least one of them
// sees both set and posts the emit; both may, and a second emit finds nothing to do.
// The emit runs inside a poll of the io_context, as the operation's completion does
// (polls are one at a time), which is what Asio requires of a cancellation slot; the
// completion handler clears the slot first, so a late emit never reaches an operation
// (or a socket) that is gone.
struct asio_cancel {
  asio::cancellation_signal signal;
  asio::io_context* ioc = nullptr;
  detail::atomic<bool> started{false};
  detail::atomic<bool> requested{false};
};
GO_API void post_cancel(std::shared_ptr<asio_cancel> c) noexcept;
GO_API asio::io_context& current_io_context();

template <class... Sig>
struct asio_values {
  using tuple = std::tuple<std::decay_t<Sig>...>;
};

template <class Init, class ArgsTuple, class... Sig>
class [[nodiscard]] asio_awaiter {
 public:
  asio_awaiter(Init init, ArgsTuple args, use_go_t token)
      : init_(std::move(init)), args_(std::move(args)), ctx_(std::move(token.ctx)) {}
  asio_awaiter(asio_awaiter&&) = default;  // moved only before it is awaited

  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    gp_ = current_g_or_throw("co_await with go::use_go");
    if (ctx_.canceler) {
      cancel_ = std::make_shared<asio_cancel>();
      cancel_->ioc = &current_io_context();
      if (!watch_.arm(ctx_.canceler, this, &on_cancel)) throw_ctx_err(ctx_.canceler);
    }
    park(gp_, h, wait_reason::io, &start, this);
    note_suspension(h, GO_SUSPENSION_PC());
    return true;
  }
  auto await_resume() {
    watch_.disarm();
    return take(std::index_sequence_for<Sig...>{});
  }
  // First of all: on_cancel touches the members declared after watch_.
  ~asio_awaiter() { watch_.disarm(); }

 private:
  struct handler {
    asio_awaiter* self;
    using cancellation_slot_type = asio::cancellation_slot;
    cancellation_slot_type get_cancellation_slot() const noexcept {
      return self->cancel_ ? self->cancel_->signal.slot() : cancellation_slot_type();
    }
    template <class... A>
    void operator()(A&&... a) {
      if (self->cancel_) self->cancel_->signal.slot().clear();
      self->result_.emplace(std::forward<A>(a)...);
      io_wait_end(self->gp_);
      ready(self->gp_);  // last touch: the goroutine may run (and end) at once
    }
  };

  // The park's unlock function: the goroutine has unwound, so the operation may start
  // (and complete) now.
  static bool start(g*, void* p) noexcept {
    auto* self = static_cast<asio_awaiter*>(p);
    std::shared_ptr<asio_cancel> c = self->cancel_;  // ours: *self may end once the operation starts
    io_wait_begin(self->gp_);
    std::apply([self](auto&&... a) { std::move(self->init_)(handler{self}, std::move(a)...); }, std::move(self->args_));
    if (c) {
      c->started.store(true, detail::memory_order_seq_cst);  // Dekker with on_cancel: store, then load the other flag
      if (c->requested.load(detail::memory_order_seq_cst)) post_cancel(std::move(c));
    }
    return true;
  }
  // Runs under the context's lock when it is canceled (ctx_watch: at most once, and never
  // after disarm() returned).
  static void on_cancel(void* p) noexcept {
    auto* self = static_cast<asio_awaiter*>(p);
    self->canceled_ = true;  // read after disarm(), which waits for this call
    self->cancel_->requested.store(true, detail::memory_order_seq_cst);  // Dekker with start(): see asio_cancel
    if (self->cancel_->started.load(detail::memory_order_seq_cst)) post_cancel(self->cancel_);
  }
  template <std::size_t... I>
  auto take(std::index_sequence<I...>) {
    auto& r = *result_;
    using first = std::tuple_element_t<0, std::tuple<std::decay_t<Sig>..., void>>;
    if constexpr (sizeof...(Sig) > 0 && std::is_same_v<first, std::error_code>) {
      const std::error_code& ec = std::get<0>(r);
      if (ec) {
        if (canceled_ && ec == asio::error::operation_aborted) throw_ctx_err(ctx_.canceler);
        throw std::system_error(ec);
      }
      return rest<1>(r, std::make_index_sequence<sizeof...(Sig) - 1>{});
    } else {
      return rest<0>(r, std::make_index_sequence<sizeof...(Sig)>{});
    }
  }
  template <std::size_t Skip, std::size_t... I>
  static auto rest(typename asio_values<Sig...>::tuple& r, std::index_sequence<I...>) {
    if constexpr (sizeof...(I) == 0)
      return;
    else if constexpr (sizeof...(I) == 1)
      return std::move(std::get<Skip>(r));
    else
      return std::make_tuple(std::move(std::get<Skip + I>(r))...);
  }

  Init init_;
  ArgsTuple args_;
  ctx_hold ctx_;
  ctx_watch watch_;  // declared after ctx_, which keeps the watched node alive
  bool canceled_ = false;
  std::shared_ptr<asio_cancel> cancel_;  // with a ctx only
  g* gp_ = nullptr;
  std::optional<typename asio_values<Sig...>::tuple> result_;
};

}  // namespace detail
}  // namespace go

template <class... Sig>
struct asio::async_result<go::use_go_t, void(Sig...)> {
  template <class Initiation, class... InitArgs>
  static auto initiate(Initiation&& init, go::use_go_t token, InitArgs&&... args) {
    using tuple = std::tuple<std::decay_t<InitArgs>...>;
    return go::detail::asio_awaiter<std::decay_t<Initiation>, tuple, Sig...>(
        std::forward<Initiation>(init), tuple(std::forward<InitArgs>(args)...), std::move(token));
  }
};
