// Go's time package, the parts about waiting: sleep, after, timer, ticker, after_func.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstdint>
#include <functional>
#include <type_traits>
#include <utility>

#include "go/chan.hpp"
#include "go/detail/clock.hpp"
#include "go/detail/timer.hpp"
#include "go/task.hpp"

namespace go {

// go::clock (go/detail/clock.hpp), the clock of every timer: monotonic, as Go's timers
// are. Timer channels carry the clock::time_point at which the timer fired.

namespace detail {

class sleep_awaiter {
 public:
  // due: the deadline has passed already (sleep(d) with d <= 0 knows without a clock read).
  sleep_awaiter(std::int64_t when, bool due) noexcept : when_(when), due_(due) {}
  sleep_awaiter(const sleep_awaiter&) = delete;
  ~sleep_awaiter() {
    if (parked_) timer_stop(&t_);  // destroyed asleep (runtime shutdown): leave the heap
  }
  bool await_ready() const noexcept { return due_; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    if (!(parked_ = park_sleep(&t_, when_, h))) return false;
    note_suspension(h, GO_SUSPENSION_PC());
    return true;
  }
  void await_resume() const noexcept {}

 private:
  GO_API static bool park_sleep(timer_node* t, std::int64_t when, std::coroutine_handle<> h);
  timer_node t_;
  std::int64_t when_;
  bool due_;
  bool parked_ = false;
};

struct timer_impl;
GO_API timer_impl* timer_make(std::int64_t when, std::int64_t period, chan<clock::time_point> ch,
                              std::function<task<void>()> fn, const char* what);
GO_API void timer_release(timer_impl* t) noexcept;
GO_API bool timer_impl_stop(timer_impl* t) noexcept;
GO_API bool timer_impl_reset(timer_impl* t, std::int64_t when, std::int64_t period, const char* what);
GO_API recv_only<clock::time_point> after_when(std::int64_t when);

// A timer's channel: one slot underneath (stop and reset drain it), but len() and cap()
// read 0, as Go 1.23's unbuffered timer channels do.
inline chan<clock::time_point> make_timer_chan() {
  return chan_access::make<clock::time_point>(chan_core::make(1, &elem_ops_for<clock::time_point>::ops, /*timer=*/true));
}

template <class Rep, class Period>
std::int64_t deadline_from_now(std::chrono::duration<Rep, Period> d) noexcept {
  return deadline_after(nanotime(), d);
}
inline std::int64_t deadline_of(clock::time_point tp) noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(tp.time_since_epoch()).count();
}
template <class Rep, class Period>
std::int64_t positive_period(std::chrono::duration<Rep, Period> d, const char* what) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  if (ns <= 0) throw error(errc::invalid_argument, what);
  return ns;
}

// The common part of the timer handles: a reference to the impl.
class timer_handle {
 public:
  timer_handle(timer_handle&& o) noexcept : impl_(std::exchange(o.impl_, nullptr)) {}
  timer_handle& operator=(timer_handle&& o) noexcept {
    std::swap(impl_, o.impl_);
    return *this;
  }
  ~timer_handle() {
    if (impl_) timer_release(impl_);
  }

 protected:
  explicit timer_handle(timer_impl* impl) noexcept : impl_(impl) {}
  timer_impl* impl_;
};

}  // namespace detail

// Suspends: `co_await go::sleep(d)` parks the goroutine for at least d (not at all if
//   d <= 0); sleep_until(tp) until tp. The timer lives in the goroutine's frame and in
//   its P's timer heap: no allocation.
// Resumes: readied by whichever worker fires its P's timers first (the owner when it
//   schedules, an idle worker sleeping until that deadline, or sysmon for a P stuck in
//   a long goroutine). sleep(d, ctx) (go/context.hpp) also returns early on cancel.
// Shutdown: a sleeping goroutine is destroyed by runtime::stop; its timer leaves the heap.
// Thread safety: a goroutine operation; throws go::error(no_runtime) off the runtime.
template <class Rep, class Period>
[[nodiscard]] detail::sleep_awaiter sleep(std::chrono::duration<Rep, Period> d) noexcept {
  return detail::sleep_awaiter(detail::deadline_from_now(d), d <= d.zero());
}
[[nodiscard]] inline detail::sleep_awaiter sleep_until(clock::time_point tp) noexcept {
  const std::int64_t when = detail::deadline_of(tp);
  return detail::sleep_awaiter(when, when <= detail::nanotime());
}

// Go's time.After: a channel that receives the time once, after d. Usable in select.
// The timer cannot be stopped; it is released when it fires (or at runtime shutdown).
// Where it may be abandoned early and d is long, use a go::timer, which stop() frees.
template <class Rep, class Period>
[[nodiscard]] recv_only<clock::time_point> after(std::chrono::duration<Rep, Period> d) {
  return detail::after_when(detail::deadline_from_now(d));
}

// go::timer: Go's time.Timer with Go 1.23 semantics. The time is delivered on c()
//   once d has passed. c() reads len 0 and cap 0, as Go 1.23's does (one slot
//   underneath, which stop and reset drain).
// stop(): the timer will not deliver; a value it delivered that nobody received is
//   discarded, so no stale value can be received after stop() returns. Returns whether
//   it stopped a pending delivery (the timer had not fired, or its value was unread).
// reset(d): stop(), then start again for d; returns what stop() would have.
// Destroying the timer stops it. Moving it keeps the channel.
// Thread safety: stop/reset of one timer may be called concurrently; they need the
//   runtime only to start (reset from off the runtime throws go::error(no_runtime)).
class timer : detail::timer_handle {
 public:
  template <class Rep, class Period>
  explicit timer(std::chrono::duration<Rep, Period> d) : timer(detail::deadline_from_now(d), detail::make_timer_chan()) {}
  timer(timer&&) noexcept = default;
  timer& operator=(timer&&) noexcept = default;
  ~timer() { stop(); }

  [[nodiscard]] const recv_only<clock::time_point>& c() const& noexcept { return c_; }
  // The channel of a temporary timer would belong to a timer that is stopped at once.
  const recv_only<clock::time_point>& c() const&& = delete;
  bool stop() noexcept { return impl_ && detail::timer_impl_stop(impl_); }
  template <class Rep, class Period>
  bool reset(std::chrono::duration<Rep, Period> d) {
    return detail::timer_impl_reset(impl_, detail::deadline_from_now(d), 0, "go::timer::reset");
  }

 private:
  timer(std::int64_t when, chan<clock::time_point> ch)
      : timer_handle(detail::timer_make(when, 0, ch, {}, "go::timer")), c_(std::move(ch)) {}
  recv_only<clock::time_point> c_;
};

// go::ticker: Go's time.Ticker. Delivers the time on c() every period d; a receiver
//   that falls behind gets at most one waiting tick (the others are dropped), and the
//   ticks stay on the original schedule. d must be positive (go::error(invalid_argument),
//   Go's "non-positive interval for NewTicker").
// stop() / reset(d): as go::timer's (no stale tick after either); destroying it stops it.
class ticker : detail::timer_handle {
 public:
  template <class Rep, class Period>
  explicit ticker(std::chrono::duration<Rep, Period> d)
      : ticker(detail::positive_period(d, "non-positive interval for NewTicker"), detail::make_timer_chan()) {}
  ticker(ticker&&) noexcept = default;
  ticker& operator=(ticker&&) noexcept = default;
  ~ticker() { stop(); }

  [[nodiscard]] const recv_only<clock::time_point>& c() const& noexcept { return c_; }
  const recv_only<clock::time_point>& c() const&& = delete;  // see timer::c()
  bool stop() noexcept { return impl_ && detail::timer_impl_stop(impl_); }
  template <class Rep, class Period>
  void reset(std::chrono::duration<Rep, Period> d) {
    auto p = detail::positive_period(d, "non-positive interval for Ticker.Reset");
    detail::timer_impl_reset(impl_, detail::nanotime() + p, p, "go::ticker::reset");
  }

 private:
  ticker(std::int64_t period, chan<clock::time_point> ch)
      : timer_handle(detail::timer_make(detail::nanotime() + period, period, ch, {}, "go::ticker")), c_(std::move(ch)) {}
  recv_only<clock::time_point> c_;
};

// go::after_func(d, f): Go's time.AfterFunc. After d, f runs in a goroutine of its own
//   (f returns a go::task, or is a plain callable). The returned func_timer can stop()
//   it (true if that prevented the run) or reset(d) it; dropping the func_timer does
//   not cancel the call, as in Go. f is copied; it must be copyable.
class func_timer : detail::timer_handle {
 public:
  func_timer(func_timer&&) noexcept = default;
  func_timer& operator=(func_timer&&) noexcept = default;

  bool stop() noexcept { return impl_ && detail::timer_impl_stop(impl_); }
  template <class Rep, class Period>
  bool reset(std::chrono::duration<Rep, Period> d) {
    return detail::timer_impl_reset(impl_, detail::deadline_from_now(d), 0, "go::func_timer::reset");
  }

 private:
  template <class Rep, class Period, class F>
  friend func_timer after_func(std::chrono::duration<Rep, Period> d, F f);
  explicit func_timer(detail::timer_impl* impl) noexcept : timer_handle(impl) {}
};

template <class Rep, class Period, class F>
func_timer after_func(std::chrono::duration<Rep, Period> d, F f) {
  std::function<task<void>()> body;
  if constexpr (detail::is_task_v<std::invoke_result_t<F&>>)
    body = [f = std::move(f)]() mutable -> task<void> { co_await std::invoke(f); };
  else
    body = [f = std::move(f)]() mutable -> task<void> {
      std::invoke(f);
      co_return;
    };
  return func_timer(detail::timer_make(detail::deadline_from_now(d), 0, {}, std::move(body), "go::after_func"));
}

}  // namespace go
