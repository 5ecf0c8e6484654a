// go::once: Go's sync.Once, and the Go 1.21 helpers once_func / once_value.
#pragma once

#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include "go/detail/atomic.hpp"
#include "go/detail/spinlock.hpp"
#include "go/detail/waitq.hpp"
#include "go/task.hpp"

namespace go {

// `co_await once.call(f)` runs f exactly once, for the first caller; f may be a plain
//   callable or return a go::task. Concurrent callers park until f has finished; later
//   callers return at once (one acquire load) and see everything f did.
// If f throws: as in Go when f panics, the once counts as done. The exception goes to
//   the caller that ran f; the others, then and later, return normally without calling f.
// Resumes: waiters are readied by the caller that ran f, on its P.
// Shutdown: a goroutine parked in call() is destroyed by runtime::stop and leaves the
//   queue.
// Thread safety: call() may be called concurrently from any goroutines.
class once {
 public:
  once() noexcept = default;
  once(const once&) = delete;
  once& operator=(const once&) = delete;

  bool done() const noexcept { return state_.load(detail::memory_order_acquire) == finished; }

  template <class F>
  class [[nodiscard]] call_awaiter {
   public:
    call_awaiter(once& o, F f) : o_(o), f_(std::move(f)) {}
    bool await_ready() const noexcept { return o_.done(); }  // pairs with release in finish()
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
      slow_ = o_.run_slow(f_);  // a task run inline: it may run f, which may suspend
      if (!typename task<void>::awaiter{slow_.handle()}.await_suspend(h)) return false;
      detail::note_suspension(h, GO_SUSPENSION_PC());  // (unoptimized, the inner note is not ours)
      return true;
    }
    void await_resume() {
      if (slow_.valid()) slow_.handle().promise().result_.get();
    }

   private:
    once& o_;
    F f_;
    task<void> slow_;
  };

  template <class F>
  call_awaiter<std::decay_t<F>> call(F&& f) {
    return call_awaiter<std::decay_t<F>>(*this, std::forward<F>(f));
  }

 private:
  struct waiter : detail::waiter {};
  struct wait_done;
  static constexpr std::uint32_t idle = 0, running = 1, finished = 2;

  template <class F>
  task<void> run_slow(F& f) {
    if (!co_await begin()) co_return;  // someone else ran f (and we waited for it)
    struct finisher {
      once& o;
      ~finisher() { o.finish(); }  // done even if f throws (Go's Once after a panic)
    } fin{*this};
    if constexpr (detail::is_task_v<std::invoke_result_t<F&>>)
      co_await std::invoke(f);
    else
      std::invoke(f);
  }

  struct begin_awaiter {
    once& o;
    waiter w;
    bool mine = false;
    begin_awaiter(once& ow) : o(ow) {}
    begin_awaiter(const begin_awaiter&) = delete;
    ~begin_awaiter() {
      if (w.queued) o.cancel(&w);
    }
    bool await_ready() const noexcept { return false; }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      if (!o.begin_or_park(&w, &mine, h)) return false;
      detail::note_suspension(h, GO_SUSPENSION_PC());
      return true;
    }
    bool await_resume() const noexcept { return mine; }
  };
  begin_awaiter begin() { return begin_awaiter(*this); }

  GO_API bool begin_or_park(waiter* w, bool* mine, std::coroutine_handle<> h);
  GO_API void finish() noexcept;
  GO_API void cancel(waiter* w) noexcept;

  detail::atomic<std::uint32_t> state_{idle};
  detail::spinlock lock_{detail::lock_rank::primitive};
  detail::waitq waiters_;  // protected by lock_
};

namespace detail {
template <class F>
struct once_func_state {
  explicit once_func_state(F fn) : f(std::move(fn)) {}
  once o;
  F f;
  std::exception_ptr error;  // what f threw, rethrown by every call (Go re-panics)
};
// Run f once, keeping what it throws. f may be a plain callable or return a go::task.
template <class F>
task<void> once_func_run(once_func_state<F>& s) {
  try {
    if constexpr (is_task_v<std::invoke_result_t<F&>>)
      co_await std::invoke(s.f);
    else
      std::invoke(s.f);
  } catch (...) {
    s.error = std::current_exception();
  }
}
// A coroutine function, not a coroutine lambda: the state is a by-value parameter, so
// the frame owns a reference to it and the callable may be a temporary.
template <class F>
task<void> once_func_call(std::shared_ptr<once_func_state<F>> s) {
  auto call = s->o.call([&s] { return once_func_run(*s); });
  co_await call;
  if (s->error) std::rethrow_exception(s->error);  // written before the once finished
}

template <class F, class T>
struct once_value_state {
  explicit once_value_state(F fn) : f(std::move(fn)) {}
  once o;
  F f;
  std::optional<T> value;
  std::exception_ptr error;
};
template <class F, class T>
task<T> once_value_call(std::shared_ptr<once_value_state<F, T>> s) {
  auto compute = [&s] {
    try {
      s->value.emplace(std::invoke(s->f));
    } catch (...) {
      s->error = std::current_exception();
    }
  };
  auto call = s->o.call(compute);
  co_await call;
  if (s->error) std::rethrow_exception(s->error);
  co_return *s->value;
}
}  // namespace detail

// Go 1.21 sync.OnceFunc: a callable that runs f once; `co_await g()` on every call.
// If f throws, every call (the first and all later ones) rethrows that same exception,
// and f is not run again, as Go's OnceFunc re-panics with the same value.
template <class F>
auto once_func(F f) {
  auto s = std::make_shared<detail::once_func_state<F>>(std::move(f));
  return [s] { return detail::once_func_call(s); };
}

// Go 1.21 sync.OnceValue: a callable whose `co_await g()` gives f's value, computed
// once; f must be a plain callable here. If f throws, every call rethrows it.
template <class F>
auto once_value(F f) {
  using T = std::invoke_result_t<F&>;
  auto s = std::make_shared<detail::once_value_state<F, T>>(std::move(f));
  return [s] { return detail::once_value_call(s); };
}

}  // namespace go
