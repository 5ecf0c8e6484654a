// ctx_hook and ctx_wait: how a context cancels a goroutine parked in a sync primitive
// (mutex lock, semaphore acquire, wait_group wait).
//
// The protocol, for one waiter w in primitive P under context c:
//   arm:     add a hook to c (if c is already done, the wait fails at once) and point
//            w.stop at c's error flag.
//   park:    P, under its lock and before queueing w, checks the flag (stop_requested):
//            set means canceled, and the goroutine does not park.
//   cancel:  c stores its error flag (release), then, under c's lock, runs the hook,
//            which takes w out of P's queue under P's lock (P's own cancel(w)); if w was
//            still queued, it marks w canceled and readies the goroutine.
// Why no cancel is lost: P's critical section (check, queue) and the hook's (remove) are
// ordered by P's lock. If P's comes first, w is queued when the hook looks; if the
// hook's comes first, the flag was stored before it, and P's check sees it. A wait
// granted before the hook looks (w no longer queued) simply succeeds.
#pragma once

#include <memory>

#include "go/config.hpp"
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

class ctx_wait {
 public:
  using remove_fn = bool (*)(void* prim, waiter* w) noexcept;

  ctx_wait() noexcept = default;
  ctx_wait(const ctx_wait&) = delete;
  ctx_wait& operator=(const ctx_wait&) = delete;
  ~ctx_wait() { disarm(); }

  // Arm for a wait of w in prim under context n (null: a context that is never
  // canceled). Throws the context's error if it is already done.
  void arm(ctx_node* n, waiter* w, void* prim, remove_fn remove) {
    if (!n) return;
    w_ = w;
    prim_ = prim;
    remove_ = remove;
    hook_.fn = &run;
    if (!ctx_add_hook(n, &hook_)) throw_ctx_err(n);
    n_ = n;
    w->stop = &ctx_err_flag(n);
  }
  void disarm() noexcept {
    if (n_) ctx_remove_hook(n_, &hook_);
    n_ = nullptr;
  }
  // After the wait: throw the context's error if it ended by cancellation.
  void check(const waiter& w) {
    ctx_node* n = n_;
    disarm();
    if (w.canceled) throw_ctx_err(n);
  }

 private:
  static void run(ctx_hook* h) noexcept {
    auto* self = reinterpret_cast<ctx_wait*>(h);  // hook_ is the first member
    if (self->remove_(self->prim_, self->w_)) {
      self->w_->canceled = true;
      ready(self->w_->gp);  // last touch: the goroutine may run (and end) at once
    }
  }

  ctx_hook hook_;
  ctx_node* n_ = nullptr;
  waiter* w_ = nullptr;
  void* prim_ = nullptr;
  remove_fn remove_ = nullptr;
};

}  // namespace go::detail
