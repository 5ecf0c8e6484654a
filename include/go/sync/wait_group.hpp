// go::wait_group: Go's sync.WaitGroup.
#pragma once

#include <coroutine>
#include <cstdint>
#include <functional>
#include <type_traits>

#include "go/detail/atomic.hpp"
#include "go/detail/context_handle.hpp"  // the handle only: no channel, select or timer
#include "go/detail/ctx_wait.hpp"
#include "go/detail/spinlock.hpp"
#include "go/detail/waitq.hpp"
#include "go/spawn.hpp"

namespace go {

// add(n) / done() never suspend. A counter that goes negative throws
//   go::error(negative_wait_group) ("sync: negative WaitGroup counter") and is left
//   as it was.
// Suspends: `co_await wg.wait()` parks the goroutine until the counter is zero (not
//   at all if it already is).
// Resumes: readied by the add/done that brought the counter to zero, on that caller's
//   P when it is a goroutine (runnext), else through the global queue. Every waiter
//   is woken.
// Shutdown: a waiting goroutine destroyed by runtime::stop leaves the wait_group.
// Default-constructed: ready to use, counter zero. Not copyable or movable.
// Thread safety: all members may be called concurrently, from goroutines or threads
//   (add/done; wait needs a goroutine).
class wait_group {
 public:
  wait_group() noexcept = default;
  wait_group(const wait_group&) = delete;
  wait_group& operator=(const wait_group&) = delete;

  GO_API void add(int delta);
  void done() { add(-1); }

  // Go 1.25's wg.Go(f): add(1), then run f (a callable returning a go::task, or a plain
  // callable) in a new goroutine that calls done() when f returns or throws. An
  // exception from f is an unrecovered panic, as in Go.
  template <class F>
  void go(F&& f);
  // The current counter.
  std::int32_t count() const noexcept {
    return static_cast<std::int32_t>(state_.load(detail::memory_order_acquire) >> 32);
  }

  class [[nodiscard]] awaiter {
   public:
    explicit awaiter(wait_group& wg, detail::ctx_hold ctx = {}) noexcept : wg_(wg), ctx_(std::move(ctx)) {}
    awaiter(const awaiter&) = delete;
    ~awaiter() {
      cw_.disarm();
      if (w_.queued) wg_.cancel(&w_);
    }
    bool await_ready() const noexcept {
      return wg_.count() == 0 && !(ctx_.canceler && detail::ctx_err_flag(ctx_.canceler).load(detail::memory_order_relaxed));
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {
      cw_.arm(ctx_.canceler, &w_, &wg_, &remove_waiter);  // throws if ctx is done already
      if (!wg_.park_wait(&w_, h)) return false;
      detail::note_suspension(h, GO_SUSPENSION_PC());
      return true;
    }
    void await_resume() { cw_.check(w_); }

   private:
    static bool remove_waiter(void* wg, detail::waiter* w) noexcept { return static_cast<wait_group*>(wg)->cancel(w); }
    wait_group& wg_;
    detail::ctx_hold ctx_;
    detail::waiter w_;
    detail::ctx_wait cw_;
  };
  awaiter wait() noexcept { return awaiter(*this); }
  // A wait that ctx cancels: throws go::error with ctx's error if ctx is done first.
  awaiter wait(context ctx) noexcept { return awaiter(*this, detail::ctx_access::hold(std::move(ctx))); }

 private:
  GO_API bool park_wait(detail::waiter* w, std::coroutine_handle<> h);
  GO_API bool cancel(detail::waiter* w) noexcept;
  GO_API void wake_all() noexcept;

  // counter (signed, high 32 bits) | number of parked waiters (low 32 bits).
  detail::atomic<std::uint64_t> state_{0};
  detail::spinlock lock_{detail::lock_rank::primitive};
  detail::waitq waiters_;  // protected by lock_
};

template <class F>
void wait_group::go(F&& f) {
  add(1);
  auto body = [this, fn = std::forward<F>(f)]() mutable -> task<void> {
    struct done_on_exit {
      wait_group* wg;
      ~done_on_exit() { wg->done(); }
    } guard{this};
    if constexpr (detail::is_task_v<std::invoke_result_t<decltype(fn)&>>)
      co_await std::invoke(fn);
    else
      std::invoke(fn);
  };
  try {
    ::go::spawn(std::move(body));  // the handle is dropped: detached
  } catch (...) {
    done();
    throw;
  }
}

}  // namespace go
