// How a context cuts a wait short: ctx_watch, the one registration every cancelable wait
// uses (the sync primitives through ctx_wait below, go::net's io_wait, the Asio adapter's
// asio_awaiter; a channel operation or a sleep with a ctx is a select on its done()
// channel, whose case is a waiter like any other), and ctx_wait, the protocol for a
// goroutine parked in a sync primitive (mutex lock, semaphore acquire, wait_group wait).
//
// The protocol, for one waiter w in primitive P under context c:
//   arm:     watch c (if c is already done, the wait fails at once) and point w.stop at
//            c's error flag.
//   park:    P, under its lock and before queueing w, checks the flag (stop_requested):
//            set means canceled, and the goroutine does not park.
//   cancel:  c stores its error flag (release), then, under c's lock, runs the watch,
//            which takes w out of P's queue under P's lock (P's own cancel(w), through
//            detail::cancel_wait); if w was still queued, it marks w canceled and
//            readies the goroutine.
// Why no cancel is lost: P's critical section (check, queue) and the watch's (remove)
// are ordered by P's lock. If P's comes first, w is queued when the watch looks; if the
// watch's comes first, the flag was stored before it, and P's check sees it. A wait
// granted before the watch looks (w no longer queued) simply succeeds.
#pragma once

#include <memory>

#include "go/config.hpp"
#include "go/detail/assert.hpp"
#include "go/detail/atomic.hpp"
#include "go/detail/park.hpp"
#include "go/detail/waitq.hpp"

namespace go::detail {

struct ctx_node;

// What a cancelable wait keeps of its context: a counted reference to the context's
// node (which keeps its ancestors, the canceler among them, alive), so that an awaiter
// made from a temporary context cannot outlive it, and the canceler whose cancel ends
// the wait (null: a context that is never canceled, and then nothing is kept).
struct ctx_hold {
  std::shared_ptr<ctx_node> keep;
  ctx_node* canceler = nullptr;
};

// One thing to do when a context is canceled. Lives in the waiting goroutine's frame;
// fn runs under the context's lock, once, unless the hook was removed first.
struct ctx_hook {
  ctx_hook* prev = nullptr;
  ctx_hook* next = nullptr;
  void (*fn)(ctx_hook*) noexcept = nullptr;
  // Called (outside every lock) for a hook still listed when its node is destroyed, so
  // can never be done: only an after_func registration can be (a wait holds its ctx).
  void (*drop)(ctx_hook*) noexcept = nullptr;
  bool listed = false;
};

// Add h to n's hooks; false (nothing added) if n is already done.
GO_API bool ctx_add_hook(ctx_node* n, ctx_hook* h) noexcept;
// Take h out of n's hooks if it is still there, and say whether it was; after this
// returns, h->fn is not running.
GO_API bool ctx_remove_hook(ctx_node* n, ctx_hook* h) noexcept;
// n's error flag: 0 while n is not done, else the go::errc.
GO_API const atomic<int>& ctx_err_flag(ctx_node* n) noexcept;
// Throw go::error with n's error (canceled or deadline_exceeded).
[[noreturn]] GO_API void throw_ctx_err(ctx_node* n);

// A wait's registration with its context: arm() asks n to call fn(owner) when it is
// canceled; the call runs under n's lock, at most once, and never after disarm() has
// returned, so the owner may be destroyed right after disarm(). Lives in the waiting
// goroutine's frame (an awaiter's member).
class ctx_watch : ctx_hook {
 public:
  using on_cancel_fn = void (*)(void* owner) noexcept;

  ctx_watch() noexcept = default;
  ctx_watch(const ctx_watch&) = delete;
  ctx_watch& operator=(const ctx_watch&) = delete;
  // An awaiter may be moved before it is awaited, never while armed.
  ctx_watch([[maybe_unused]] ctx_watch&& o) noexcept : ctx_hook() { GO_ASSERT(!o.n_, "a ctx_watch moved while armed"); }
  ~ctx_watch() { disarm(); }

  // Watch n (null: a context that is never canceled; nothing to do). False, with
  // nothing registered, if n is already done.
  [[nodiscard]] bool arm(ctx_node* n, void* owner, on_cancel_fn fn) noexcept {
    if (!n) return true;
    owner_ = owner;
    on_cancel_ = fn;
    this->fn = &run;
    if (!ctx_add_hook(n, this)) return false;
    n_ = n;
    return true;
  }
  void disarm() noexcept {
    if (n_) ctx_remove_hook(n_, this);
    n_ = nullptr;
  }
  ctx_node* node() const noexcept { return n_; }

 private:
  static void run(ctx_hook* h) noexcept {
    auto* self = static_cast<ctx_watch*>(h);
    self->on_cancel_(self->owner_);
  }

  ctx_node* n_ = nullptr;
  void* owner_ = nullptr;
  on_cancel_fn on_cancel_ = nullptr;
};

class ctx_wait {
 public:
  using remove_fn = bool (*)(void* prim, waiter* w) noexcept;

  ctx_wait() noexcept = default;
  ctx_wait(const ctx_wait&) = delete;
  ctx_wait& operator=(const ctx_wait&) = delete;
  ~ctx_wait() { disarm(); }  // first of all: on_cancel reads the other members

  // Arm for a wait of w in prim under context n (null: a context that is never
  // canceled). Throws the context's error if it is already done.
  void arm(ctx_node* n, waiter* w, void* prim, remove_fn remove) {
    if (!n) return;
    w_ = w;
    prim_ = prim;
    remove_ = remove;
    if (!watch_.arm(n, this, &on_cancel)) throw_ctx_err(n);
    w->stop = &ctx_err_flag(n);
  }
  void disarm() noexcept { watch_.disarm(); }
  // After the wait: throw the context's error if it ended by cancellation.
  void check(const waiter& w) {
    ctx_node* n = watch_.node();
    disarm();
    if (w.canceled) throw_ctx_err(n);
  }

 private:
  static void on_cancel(void* p) noexcept {
    auto* self = static_cast<ctx_wait*>(p);
    if (self->remove_(self->prim_, self->w_)) {
      self->w_->canceled = true;
      ready(self->w_->gp);  // last touch: the goroutine may run (and end) at once
    }
  }

  ctx_watch watch_;
  waiter* w_ = nullptr;
  void* prim_ = nullptr;
  remove_fn remove_ = nullptr;
};

}  // namespace go::detail
