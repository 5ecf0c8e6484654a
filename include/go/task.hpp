// go::task<T>: the lazy coroutine type goroutines are written in.
#pragma once

#include <coroutine>
#include <exception>
#include <utility>

#include "go/detail/frame_alloc.hpp"
#include "go/detail/result.hpp"
#include "go/detail/suspension.hpp"
#include "go/error.hpp"

namespace go {

template <class T = void>
class task;

namespace detail {

// How a task hands control back, without relying on symmetric transfer for the common
// case. g++ makes the symmetric-transfer hand-off a tail call only at -O2 without ASan
// (GCC PR 100897), so a loop of awaits that finish at once would grow the stack by a
// frame each time. Instead:
//
//   1. The awaiting parent's await_suspend resumes the child inline, with the child's
//      continuation still null.
//   2. If the child runs to completion, its final_suspend sees no continuation and
//      returns to that resume() call; await_suspend returns false and the parent goes
//      on. The stack is back where it was: nothing accumulates over a loop.
//   3. If the child parks, control comes back the same way with the child not done;
//      await_suspend records the parent as its continuation and returns true. This is
//      safe without atomics because a parked g becomes visible to wakers only after its
//      whole stack has unwound to the worker (detail/park.hpp).
//   4. When the parked child later finishes, its final_suspend transfers to the
//      parent. Without a tail call that nests one native frame per level of task
//      nesting -- bounded by the nesting depth, never by a loop count.
struct final_awaiter {
  bool await_ready() const noexcept { return false; }
  template <class Promise>
  std::coroutine_handle<> await_suspend(std::coroutine_handle<Promise> h) const noexcept {
    std::coroutine_handle<> next = h.promise().continuation_;
    return next ? next : std::noop_coroutine();
  }
  void await_resume() const noexcept {}
};

struct promise_base : frame_allocated {
  std::coroutine_handle<> continuation_;
  const void* suspended_at_ = nullptr;  // the dump's file:line (detail/suspension.hpp)

  std::suspend_always initial_suspend() const noexcept { return {}; }
  final_awaiter final_suspend() const noexcept { return {}; }
};
static_assert(sizeof(promise_base) == 16, "a task frame's share of the promise is quoted in docs/design/scheduler.md");

template <class T>
struct task_promise : promise_base {
  result<T> result_;

  task<T> get_return_object() noexcept;
  void unhandled_exception() noexcept { result_.set_exception(std::current_exception()); }
  template <class U = T>
  void return_value(U&& v) { result_.set_value(std::forward<U>(v)); }
};

template <>
struct task_promise<void> : promise_base {
  result<void> result_;

  task<void> get_return_object() noexcept;
  void unhandled_exception() noexcept { result_.set_exception(std::current_exception()); }
  void return_void() noexcept {}
};

}  // namespace detail

// go::task<T> -- a lazy, move-only coroutine that produces a T or throws.
//
// Suspends: the body does not start until the task is awaited (or spawned); `co_await t`
//   runs it inline in the awaiting goroutine. If the body finishes without parking,
//   the awaiter never suspends: a million such awaits in a loop use constant stack.
// Resumes: in the same goroutine, on whichever worker (P) resumes the goroutine after
//   the task's last park; a task never migrates by itself.
// Result: `co_await t` gives T (void, a value, a reference, a move-only type) or
//   rethrows what the body threw. A task is awaited once.
// Default-constructed: empty; awaiting it throws go::error(empty_join_handle).
// Thread safety: a task is owned by one goroutine at a time; move it, don't share it.
template <class T>
class [[nodiscard]] task {
 public:
  using promise_type = detail::task_promise<T>;
  using handle_type = std::coroutine_handle<promise_type>;

  task() noexcept = default;
  explicit task(handle_type h) noexcept : h_(h) {}
  task(task&& other) noexcept : h_(std::exchange(other.h_, {})) {}
  task& operator=(task&& other) noexcept {
    if (this != &other) {
      reset();
      h_ = std::exchange(other.h_, {});
    }
    return *this;
  }
  ~task() { reset(); }

  bool valid() const noexcept { return static_cast<bool>(h_); }
  bool done() const noexcept { return h_ && h_.done(); }

  // Destroy the coroutine frame (and, through it, every task it is awaiting).
  void reset() noexcept {
    if (h_) std::exchange(h_, {}).destroy();
  }

  handle_type handle() const noexcept { return h_; }
  handle_type release() noexcept { return std::exchange(h_, {}); }

  struct awaiter {
    handle_type h_;

    bool await_ready() const {
      if (!h_) throw error(errc::empty_join_handle, "go: co_await on an empty task");
      return h_.done();
    }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> parent) {
      h_.resume();                    // (1) run the child inline
      if (h_.done()) return false;    // (2) it finished: the parent continues at once
      h_.promise().continuation_ = parent;  // (3) it parked: resume the parent when it ends
      detail::note_suspension(parent, GO_SUSPENSION_PC());
      return true;
    }
    T await_resume() { return h_.promise().result_.get(); }
  };

  awaiter operator co_await() const& noexcept { return awaiter{h_}; }
  awaiter operator co_await() const&& noexcept { return awaiter{h_}; }

 private:
  handle_type h_;
};

namespace detail {
template <class T>
task<T> task_promise<T>::get_return_object() noexcept {
  return task<T>(std::coroutine_handle<task_promise<T>>::from_promise(*this));
}
inline task<void> task_promise<void>::get_return_object() noexcept {
  return task<void>(std::coroutine_handle<task_promise<void>>::from_promise(*this));
}

template <class>
inline constexpr bool is_task_v = false;
template <class T>
inline constexpr bool is_task_v<task<T>> = true;
}  // namespace detail

}  // namespace go
