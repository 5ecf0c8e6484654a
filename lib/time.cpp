// go::sleep, after, timer, ticker and after_func over the per-P timer heaps.
//
// timer_impl is the node behind the timer handles, reference-counted: one reference per
// handle, plus one held by the heap while the node is queued (dropped when a one-shot
// fires, when stop() takes it out, or when the runtime stops).
//
// Go 1.23's rule, no stale value after stop or reset, holds because every delivery
// happens under the heap's lock, and stop/reset (under the timer's own lock, so they are
// serialized) first take the node out of the heap or, if a firing took it out already,
// wait for that firing's delivery to finish (timer_settle), then empty the channel.
// After that nothing can deliver until the timer is started again. (Found by TSan: a
// stop that saw the node out of the heap drained the channel before the firing that
// took it out had delivered.)
#include "go/time.hpp"

#include "go/spawn.hpp"
#include "runtime/sched.hpp"

namespace go::detail {

struct timer_impl {
  timer_node node;
  spinlock mu{lock_rank::timer};  // serializes stop, reset and start of this timer
  atomic<std::uint32_t> refs{1};
  bool armed = false;               // under mu: started, and not stopped since
  chan<clock::time_point> ch;       // nil for after_func

  void retain() noexcept { refs.fetch_add(1, memory_order_relaxed); }
  inline void release() noexcept;
};

// after_func's timer: the call lives only here, so a channel timer (a million of them
// pending is a benchmark) does not carry an empty std::function.
struct func_timer_impl : timer_impl {
  std::function<task<void>()> fn;
};

void timer_impl::release() noexcept {
  // acq_rel: the last release sees every other holder's writes before deleting.
  if (refs.fetch_sub(1, memory_order_acq_rel) != 1) return;
  if (ch.is_nil())  // made by timer_make as a func_timer_impl, and ch never changes
    delete static_cast<func_timer_impl*>(this);
  else
    delete this;
}

namespace {

timer_impl* impl_of(timer_node* t) noexcept { return static_cast<timer_impl*>(t->arg); }

void chan_fire(timer_node* t, std::int64_t now, fire_batch& out) noexcept {
  timer_impl* ti = impl_of(t);
  chan_core* c = chan_access::core(ti->ch);
  clock::time_point v{std::chrono::nanoseconds(now)};
  g* to_ready = nullptr;
  c->lock().lock();
  (void)c->send_locked(&v, &to_ready);  // full: the last value is still unread; drop this one
  c->lock().unlock();
  if (to_ready) out.ready[out.nready++] = to_ready;
  if (t->period == 0) ti->release();  // the heap's reference
}

void func_fire(timer_node* t, std::int64_t, fire_batch& out) noexcept {
  out.later[out.nlater++] = t;  // the heap's reference passes to func_later
}

void func_later(timer_node* t, sched* s) noexcept {
  timer_impl* ti = impl_of(t);
  try {
    (void)spawn_on(s, static_cast<func_timer_impl*>(ti)->fn);  // detached, as Go's `go f()`
  } catch (...) {
    // The runtime is stopping (or out of memory): the call is dropped, as a timer
    // pending at shutdown would be.
  }
  ti->release();
}

void drop_ref(timer_node* t) noexcept { impl_of(t)->release(); }

constexpr timer_ops chan_ops{&chan_fire, nullptr, &drop_ref};
constexpr timer_ops func_ops{&func_fire, &func_later, &drop_ref};

void sleep_fire(timer_node* t, std::int64_t, fire_batch& out) noexcept {
  out.ready[out.nready++] = static_cast<g*>(t->arg);
}
constexpr timer_ops sleep_ops{&sleep_fire, nullptr, nullptr};

bool sleep_unlock(g*, void* arg) noexcept {
  // The goroutine has unwound: only now may the timer fire and ready it.
  auto* t = static_cast<timer_node*>(arg);
  timer_start(t, t->when, "go::sleep");  // on a worker: cannot throw
  return true;
}

// Take the node out of its heap and empty its channel; under ti->mu. Whether a delivery
// was pending (Go 1.23's Stop result).
bool stop_locked(timer_impl* ti) noexcept {
  // Stopped already, and nothing was started since: nothing can be in the heap, in
  // flight or in the channel (our last stop emptied it).
  if (!ti->armed) return false;
  ti->armed = false;
  const bool in_heap = timer_stop(&ti->node);
  if (in_heap)
    ti->release();  // the heap's reference; the caller's keeps ti alive
  else
    timer_settle(&ti->node);  // a firing may still be delivering: let it finish first
  // A one-shot timer taken out of the heap has not fired since it was started, and its
  // channel was empty then: nothing to drain. A ticker may have ticked meanwhile.
  const bool may_hold = !in_heap || ti->node.period > 0;
  bool drained = may_hold && !ti->ch.is_nil() && ti->ch.try_recv().value;
  return in_heap || drained;
}

}  // namespace

bool sleep_awaiter::park_sleep(timer_node* t, std::int64_t when, std::coroutine_handle<> h) {
  g* gp = current_g_or_throw("go::sleep");
  t->ops = &sleep_ops;
  t->arg = gp;
  t->when = when;
  park(gp, h, wait_reason::sleep, &sleep_unlock, t);
  return true;
}

timer_impl* timer_make(std::int64_t when, std::int64_t period, chan<clock::time_point> ch,
                       std::function<task<void>()> fn, const char* what) {
  timer_impl* ti;
  if (ch.is_nil()) {
    auto* f = new func_timer_impl;
    f->fn = std::move(fn);
    ti = f;
    ti->node.ops = &func_ops;
  } else {
    ti = new timer_impl;
    ti->ch = std::move(ch);
    ti->node.ops = &chan_ops;
  }
  ti->node.arg = ti;
  ti->node.period = period;
  ti->retain();  // the heap's (before the start: a worker may fire it at once)
  ti->armed = true;  // not shared yet: no lock needed
  try {
    timer_start(&ti->node, when, what);
  } catch (...) {  // it never reached a heap: drop the heap's reference and ours
    ti->release();
    ti->release();
    throw;
  }
  return ti;
}

void timer_release(timer_impl* t) noexcept { t->release(); }

bool timer_impl_stop(timer_impl* ti) noexcept {
  ti->mu.lock();
  bool pending = stop_locked(ti);
  ti->mu.unlock();
  return pending;
}

bool timer_impl_reset(timer_impl* ti, std::int64_t when, std::int64_t period, const char* what) {
  if (!ti) throw error(errc::invalid_argument, std::string("go: ") + what + " on a moved-from timer");
  ti->mu.lock();
  bool pending = stop_locked(ti);
  ti->node.period = period;  // not in a heap: ours alone
  ti->retain();              // the heap's
  try {
    timer_start(&ti->node, when, what);
  } catch (...) {
    ti->release();
    ti->mu.unlock();
    throw;
  }
  ti->armed = true;
  ti->mu.unlock();
  return pending;
}

recv_only<clock::time_point> after_when(std::int64_t when) {
  auto ch = make_timer_chan();
  timer_release(timer_make(when, 0, ch, {}, "go::after"));  // only the heap holds it now
  return ch;
}

}  // namespace go::detail
