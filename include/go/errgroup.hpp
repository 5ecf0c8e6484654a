// go::errgroup: golang.org/x/sync/errgroup -- goroutines working on subtasks of one
// task, with the first failure reported and (with_context) canceling the rest.
#pragma once

#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include "go/context.hpp"
#include "go/spawn.hpp"
#include "go/sync/semaphore.hpp"
#include "go/sync/wait_group.hpp"

namespace go {

// A default-constructed errgroup works (Go's zero value); errgroup::with_context(parent)
//   also gives a context that the first failure cancels (with that failure as its
//   cause), as does the end of wait().
// go(f): f is a callable returning go::task<void>, go::task<std::error_code> or
//   go::task<std::exception_ptr> (or a plain callable returning one of those values).
//   A thrown exception, a non-empty error_code or a non-null exception_ptr is a
//   failure; the first one is kept. `co_await g.go(f)` starts f in a new goroutine, first
//   waiting for a slot if set_limit(n) bounds the goroutines running at once.
// try_go(f): starts f only if a slot is free at once; returns whether it did.
// wait(): `co_await g.wait()` waits for every goroutine started by go/try_go, then
//   rethrows the first failure (an error_code as a std::system_error).
// set_limit(n): at most n goroutines of the group at once (n < 0: no limit). With n == 0,
//   as in Go, try_go returns false and `co_await g.go(f)` blocks for good. Changing it
//   while goroutines of the group run throws go::error(invalid_argument), as Go panics.
// The errgroup may be moved; its goroutines share its state, not the object.
class errgroup {
  struct state {
    wait_group wg;
    std::unique_ptr<semaphore> slots;  // null: no limit, or a limit of 0 (no slot ever)
    bool no_slots = false;             // set_limit(0): go() blocks forever, try_go fails
    detail::atomic<bool> failed{false};
    std::exception_ptr first;         // written once, by the goroutine that set failed
    std::optional<cancel_cause_func> cancel;

    void fail(std::exception_ptr e) noexcept {
      bool no = false;
      if (!failed.compare_exchange_strong(no, true, detail::memory_order_acq_rel)) return;
      first = std::move(e);
      if (cancel) (*cancel)(first);
    }
  };

 public:
  errgroup() : st_(std::make_shared<state>()) {}

  [[nodiscard]] static std::pair<errgroup, context> with_context(const context& parent) {
    errgroup g;
    auto [ctx, cancel] = with_cancel_cause(parent);
    g.st_->cancel.emplace(std::move(cancel));
    return {std::move(g), std::move(ctx)};
  }

  void set_limit(int n) {
    if (st_->wg.count() != 0)
      throw error(errc::invalid_argument, "errgroup: modify limit while " + std::to_string(st_->wg.count()) +
                                              " goroutines in the group are still active");
    st_->no_slots = n == 0;  // Go's make(chan token, 0): a send that never completes
    st_->slots = n <= 0 ? nullptr : std::make_unique<semaphore>(n);
  }

  template <class F>
  class [[nodiscard]] go_awaiter {
   public:
    go_awaiter(std::shared_ptr<state> st, F f) : st_(std::move(st)), f_(std::move(f)) {}
    bool await_ready() {
      if (st_->slots || st_->no_slots) return false;
      start(st_, std::move(f_));
      return true;
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      if (st_->no_slots) {  // a limit of 0: no slot will ever free up (Go blocks for good)
        detail::park_forever(h, detail::wait_reason::chan_send);
        detail::note_suspension(h, GO_SUSPENSION_PC());
        return true;
      }
      acquire_.emplace(*st_->slots, 1);
      if (!acquire_->await_suspend(h)) return false;
      detail::note_suspension(h, GO_SUSPENSION_PC());
      return true;
    }
    void await_resume() {
      if (acquire_) start(st_, std::move(f_));
    }

   private:
    std::shared_ptr<state> st_;
    F f_;
    std::optional<semaphore::acquire_awaiter> acquire_;
  };

  template <class F>
  go_awaiter<std::decay_t<F>> go(F&& f) {
    return go_awaiter<std::decay_t<F>>(st_, std::forward<F>(f));
  }

  template <class F>
  bool try_go(F&& f) {
    if (st_->no_slots || (st_->slots && !st_->slots->try_acquire(1))) return false;
    start(st_, std::forward<F>(f));
    return true;
  }

  task<void> wait() {
    auto st = st_;  // the group may move while we wait
    co_await st->wg.wait();
    if (st->cancel) (*st->cancel)(st->first);
    if (st->first) std::rethrow_exception(st->first);
  }

 private:
  template <class R>
  static std::exception_ptr failure_of(R&& r) {
    using T = std::decay_t<R>;
    if constexpr (std::is_same_v<T, std::error_code>)
      return r ? std::make_exception_ptr(std::system_error(r)) : nullptr;
    else {
      static_assert(std::is_same_v<T, std::exception_ptr>,
                    "errgroup: f must give void, std::error_code or std::exception_ptr");
      return r;
    }
  }

  // Run f in a goroutine holding one slot (if limited) and one wait_group count.
  template <class F>
  static void start(std::shared_ptr<state> st, F&& f) {
    st->wg.add(1);
    auto body = [st, fn = std::forward<F>(f)]() mutable -> task<void> {
      struct release {  // also when the runtime destroys the goroutine
        state* s;
        ~release() {
          if (s->slots) s->slots->release(1);
          s->wg.done();
        }
      } r{st.get()};
      std::exception_ptr failure;
      try {
        using R = std::invoke_result_t<decltype(fn)&>;
        if constexpr (detail::is_task_v<R>) {
          if constexpr (std::is_void_v<typename detail::task_value<R>::type>)
            co_await std::invoke(fn);
          else {
            auto result = co_await std::invoke(fn);
            failure = failure_of(std::move(result));
          }
        } else if constexpr (std::is_void_v<R>) {
          std::invoke(fn);
        } else {
          failure = failure_of(std::invoke(fn));
        }
      } catch (...) {
        failure = std::current_exception();
      }
      if (failure) st->fail(std::move(failure));
    };
    try {
      spawn(std::move(body));  // detached: wait() joins through the wait_group
    } catch (...) {
      if (st->slots) st->slots->release(1);
      st->wg.done();
      throw;
    }
  }

  std::shared_ptr<state> st_;
};

}  // namespace go
