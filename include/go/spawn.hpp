// go::spawn, go::join_handle, go::yield, go::this_goroutine: Go's `go` statement.
#pragma once

#include <coroutine>
#include <cstdint>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "go/detail/frame_alloc.hpp"
#include "go/detail/g.hpp"
#include "go/detail/outside_event.hpp"
#include "go/detail/park.hpp"
#include "go/error.hpp"
#include "go/task.hpp"

namespace go {

namespace detail {

// A g whose root task yields T.
template <class T>
struct g_of : g {
  task<T> task_;
};

struct no_body {};

// The root task of a goroutine whose callable threw instead of returning a task.
template <class T>
task<T> failed_task(std::exception_ptr e) {
  co_await std::suspend_never{};
  std::rethrow_exception(e);
}

// The heap block of one goroutine: the g, its root task, and the callable and
// arguments the task is made from. The callable lives here, not in the caller, so a
// coroutine lambda's captures live exactly as long as the goroutine.
//
// The root task is made when the goroutine first runs (start), not at spawn: a spawned
// goroutine waiting in a run queue costs only this block, and its frames are allocated
// on the P that runs them. If making the task throws, the goroutine fails with that.
template <class T, class Body>
struct goroutine final : g_of<T>, frame_allocated {
  Body body_;

  template <class... A>
  explicit goroutine(A&&... a) : body_{std::forward<A>(a)...} {
    this->ops = &ops_;
  }
  // The task's frames may refer to body_ (a lambda's `this`, arguments taken by
  // reference): destroy them first.
  ~goroutine() { this->task_.reset(); }

  static std::coroutine_handle<> start(g* gp) noexcept {
    auto* self = static_cast<goroutine*>(gp);
    if constexpr (!std::is_same_v<Body, no_body>) {
      try {
        self->task_ = self->body_.make_task();
      } catch (...) {
        self->task_ = failed_task<T>(std::current_exception());
      }
    }
    return self->task_.handle();
  }
  static void destroy(g* gp) noexcept { delete static_cast<goroutine*>(gp); }
  static void kill(g* gp) noexcept { static_cast<goroutine*>(gp)->task_.reset(); }
  static std::exception_ptr failure(g* gp) noexcept {
    auto& t = static_cast<goroutine*>(gp)->task_;
    return t.done() ? t.handle().promise().result_.exception() : nullptr;
  }
  static constexpr g_ops ops_{&start, &destroy, &kill, &failure};
};

// Body of spawn(f, args...): the decayed callable and arguments.
template <class F, class... Args>
struct call_body {
  [[no_unique_address]] F f;  // (an empty callable or no arguments take no room in the block)
  [[no_unique_address]] std::tuple<Args...> args;
  // By-value parameters are moved into the frame; reference parameters bind to the
  // copies kept here, which live as long as the goroutine.
  auto make_task() {
    return std::apply([this](Args&... a) { return std::invoke(f, std::move(a)...); }, args);
  }
};


class sched;
GO_API sched* current_sched_or_throw(const char* what);
GO_API void start(sched* s, g* gp);            // assign id, count, make runnable
GO_API void detach(g* gp) noexcept;            // the join_handle lets go
GO_API void park_join(g* target, std::coroutine_handle<> h);
GO_API void join_outside(g* target, outside_event* ev);
GO_API void release_joined(g* gp) noexcept;    // free a joined goroutine's block
GO_API void yield_current(std::coroutine_handle<> h);

// A goroutine of a one-word callable (a function pointer, a lambda capturing one
// reference) is 88 bytes: the frame allocator's 88-byte class, one 96-byte malloc chunk.
static_assert(sizeof(goroutine<void, call_body<task<void> (*)()>>) == 88,
              "the block size is quoted in docs/design/scheduler.md");

template <class F, class... Args>
using spawn_result_t = std::invoke_result_t<std::decay_t<F>&, std::decay_t<Args>&&...>;

template <class>
struct task_value;
template <class T>
struct task_value<task<T>> {
  using type = T;
};

}  // namespace detail

// go::join_handle<T> -- the result of go::spawn: the goroutine's outcome, to await.
//
// Suspends: `co_await h` parks the awaiting goroutine until the spawned one finishes
//   (not at all if it has), then gives its T or rethrows its exception. Awaiting
//   consumes the handle.
// Resumes: on the P of the worker that ran the goroutine's last step (it is readied
//   into that P's runnext slot, so it typically runs right after).
// Dropping it, or detach(), detaches: the goroutine runs on and frees itself. An
//   exception that leaves a detached goroutine is an unrecovered panic (go::runtime).
// Shutdown: if the runtime stops first, the goroutine is destroyed at its suspension
//   point and awaiting the handle throws go::error(runtime_stopped).
// Default-constructed: empty; awaiting it throws go::error(empty_join_handle).
// Thread safety: one owner; it may be moved across goroutines and threads.
template <class T>
class join_handle {
 public:
  join_handle() noexcept = default;
  explicit join_handle(detail::g_of<T>* gp) noexcept : g_(gp) {}
  join_handle(join_handle&& o) noexcept : g_(std::exchange(o.g_, nullptr)) {}
  join_handle& operator=(join_handle&& o) noexcept {
    if (this != &o) {
      detach();
      g_ = std::exchange(o.g_, nullptr);
    }
    return *this;
  }
  ~join_handle() { detach(); }

  // Let the goroutine run on its own.
  void detach() noexcept {
    if (g_) detail::detach(std::exchange(g_, nullptr));
  }

  explicit operator bool() const noexcept { return g_ != nullptr; }
  // Whether the goroutine has finished (so that awaiting will not suspend).
  bool done() const noexcept { return g_ && (g_->join_state.load(detail::memory_order_acquire) & detail::join_done); }
  // The goroutine's id, as this_goroutine::id() reports it inside; 0 if empty.
  std::uint64_t id() const noexcept { return g_ ? g_->id : 0; }

  struct awaiter {
    join_handle& h_;

    bool await_ready() const {
      if (!h_.g_) throw error(errc::empty_join_handle, "go: co_await on an empty join_handle");
      return h_.done();
    }
    template <class P>
    void await_suspend(std::coroutine_handle<P> c) {
      detail::note_suspension(c, GO_SUSPENSION_PC());  // before the park: it always parks
      detail::park_join(h_.g_, c);
    }
    T await_resume() {
      struct release {
        detail::g_of<T>* gp;
        ~release() { detail::release_joined(gp); }
      } r{std::exchange(h_.g_, nullptr)};
      if (r.gp->join_state.load(detail::memory_order_relaxed) & detail::join_killed)
        throw error(errc::runtime_stopped, "go: goroutine was destroyed by runtime shutdown before it finished");
      return r.gp->task_.handle().promise().result_.get();
    }
  };
  awaiter operator co_await() & noexcept { return awaiter{*this}; }
  awaiter operator co_await() && noexcept { return awaiter{*this}; }

 private:
  friend class runtime;
  // Block the calling thread (outside the runtime) until the goroutine ends.
  T block() {
    awaiter a{*this};
    if (!a.await_ready()) {
      detail::outside_event ev;
      detail::join_outside(g_, &ev);
      ev.wait();
    }
    return a.await_resume();
  }

  detail::g_of<T>* g_ = nullptr;
};

namespace detail {

template <class F, class... Args>
auto make_goroutine(F&& f, Args&&... args) {
  if constexpr (is_task_v<std::decay_t<F>> && sizeof...(Args) == 0) {
    using T = typename task_value<std::decay_t<F>>::type;
    if (!f.valid()) throw error(errc::invalid_argument, "go: spawn of an empty task");
    auto* gp = new goroutine<T, no_body>();
    gp->task_ = std::move(f);
    return gp;
  } else {
    using R = spawn_result_t<F, Args...>;
    static_assert(is_task_v<R>, "go::spawn: the callable must return a go::task<T>");
    using T = typename task_value<R>::type;
    using G = goroutine<T, call_body<std::decay_t<F>, std::decay_t<Args>...>>;
    return new G(std::forward<F>(f), std::tuple<std::decay_t<Args>...>(std::forward<Args>(args)...));
  }
}

template <class F, class... Args>
GO_ALWAYS_INLINE auto spawn_on(sched* s, F&& f, Args&&... args) {
  auto* gp = make_goroutine(std::forward<F>(f), std::forward<Args>(args)...);
  using T = decltype(gp->task_.handle().promise().result_.get());
  try {
    start(s, gp);
  } catch (...) {
    gp->ops->destroy(gp);
    throw;
  }
  return join_handle<T>(gp);
}

}  // namespace detail

// Start a goroutine running f(args...) -- Go's `go f(args...)` -- on the current runtime.
// f is any callable returning go::task<T> (or a task itself, with no args). The callable
// and the arguments are moved or copied into the goroutine and live as long as it.
// The new goroutine goes to this P's runnext slot: it runs next, right after the
// spawner parks or yields (or sooner, on an idle P that steals it).
// Throws go::error(no_runtime) outside a goroutine; use go::runtime::spawn there.
template <class F, class... Args>
GO_ALWAYS_INLINE auto spawn(F&& f, Args&&... args) {
  return detail::spawn_on(detail::current_sched_or_throw("go::spawn"), std::forward<F>(f),
                          std::forward<Args>(args)...);
}

// Go's runtime.Gosched: let other goroutines run; this one goes to the back of its
// P's run queue and resumes later, possibly on another P.
struct yield_awaiter {
  bool await_ready() const noexcept { return false; }
  void await_suspend(std::coroutine_handle<> h) const { detail::yield_current(h); }
  void await_resume() const noexcept {}
};
[[nodiscard]] inline yield_awaiter yield() noexcept { return {}; }

namespace detail {
GO_API bool lock_os_thread_suspend(std::coroutine_handle<> h);
GO_API void lock_os_thread_resume();
}  // namespace detail

// Go's runtime.LockOSThread: `co_await go::lock_os_thread();` and from then on the
// goroutine always resumes on one OS thread of its own, and no other goroutine runs on
// that thread, while the Ps go on running everything else (the goroutine holds no P, also
// while it waits). For thread-affine libraries. Nested calls count; each needs its
// unlock_os_thread(). Throws go::error(runtime_stopped) if no thread could be started.
struct [[nodiscard]] lock_os_thread_awaiter {
  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) const { return detail::lock_os_thread_suspend(h); }
  void await_resume() const { detail::lock_os_thread_resume(); }
};
[[nodiscard]] inline lock_os_thread_awaiter lock_os_thread() noexcept { return {}; }
// Go's runtime.UnlockOSThread: undoes one lock_os_thread; after the last, the goroutine
// goes back to the Ps at its next suspension. Throws go::error(invalid_argument) if the
// goroutine is not locked.
GO_API void unlock_os_thread();

namespace this_goroutine {
// The running goroutine's id (the main goroutine of go::run is 1); 0 off the runtime.
GO_API std::uint64_t id() noexcept;
}  // namespace this_goroutine

}  // namespace go
