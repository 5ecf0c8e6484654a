// go::blocking(fn): run a blocking call off the Ps (Go's syscall handoff, tokio's
// spawn_blocking).
#pragma once

#include <coroutine>
#include <type_traits>
#include <utility>

#include "go/detail/park.hpp"
#include "go/detail/result.hpp"
#include "go/detail/suspension.hpp"

namespace go {

namespace detail {
struct blocking_job {
  void (*run)(blocking_job*) noexcept = nullptr;
  blocking_job* next = nullptr;  // the pool's queue link, protected by the pool's lock
  g* gp = nullptr;
};
GO_API void park_blocking(blocking_job* job, std::coroutine_handle<> h);
}  // namespace detail

// Suspends: always. fn() runs on a thread of the runtime's elastic blocking pool (grown
//   on demand up to runtime_options::max_blocking_threads; idle threads exit after
//   blocking_keep_alive), so no P is ever held by the blocking call.
// Resumes: on a P of the same runtime, readied from the pool thread through the
//   global run queue, with fn's result or its exception.
// Shutdown: runtime::stop waits for calls that are running; queued ones never start
//   and their goroutines are destroyed.
// Thread safety: fn runs on another thread: it must not touch the goroutine's state
//   concurrently (the goroutine is suspended meanwhile, so its locals are safe).
template <class F>
class [[nodiscard]] blocking_awaiter : detail::blocking_job {
 public:
  using value_type = std::invoke_result_t<F&>;

  explicit blocking_awaiter(F f) : f_(std::move(f)) { run = &run_job; }

  bool await_ready() const noexcept { return false; }
  template <class P>
  void await_suspend(std::coroutine_handle<P> h) {
    detail::note_suspension(h, GO_SUSPENSION_PC());  // it always parks
    detail::park_blocking(this, h);
  }
  value_type await_resume() { return result_.get(); }

 private:
  static void run_job(detail::blocking_job* job) noexcept {
    auto* self = static_cast<blocking_awaiter*>(job);
    detail::g* gp = self->gp;  // read before ready(): afterwards *self may be gone
    detail::capture(self->result_, self->f_);
    detail::ready(gp);
  }

  F f_;
  detail::result<value_type> result_;
};

// co_await go::blocking(fn) -> fn()'s result, computed on the blocking pool.
template <class F>
[[nodiscard]] blocking_awaiter<std::decay_t<F>> blocking(F&& fn) {
  return blocking_awaiter<std::decay_t<F>>(std::forward<F>(fn));
}

}  // namespace go
