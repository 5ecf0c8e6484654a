// The context tree (Go's context.go).
//
// Nodes. A context handle is a shared_ptr to a ctx_node (null for background). Three
// kinds: cancel nodes (with_cancel, with_deadline, ...), value nodes (with_value) and
// without nodes (without_cancel). Each node points to its parent (values are looked up
// through the chain) and to its canceler: the cancel node whose done/err it reports --
// itself for a cancel node, its parent's canceler for a value node, none for a without
// node or background.
//
// Registration. A new cancel node joins the children list of its parent's canceler
// (Go's propagateCancel), or is canceled at once if that one is already done. It leaves
// the list when it is canceled (by its own cancel function or deadline) and when its
// last handle is dropped (the shared_ptr's deleter), so a long-lived parent's list holds
// only live, uncanceled children.
//
// Locks (rank ctx, detail/lock_rank.hpp). Each cancel node's mu protects its error,
// cause, done channel, hooks, timer and children list, and the sibling links of the
// children in that list. A cancel holds the node's lock while it cancels the children,
// each under its own lock: always parent before child, never the reverse. A child that
// unregisters takes its parent's lock only after releasing its own.
//
// The error flag (err) is written once, under mu, with release; read without the lock
// (acquire) by err() and by primitives deciding whether to park (detail/ctx_wait.hpp).
#include "go/context.hpp"

#include "go/detail/spinlock.hpp"
#include "runtime/sched.hpp"

namespace go::detail {

struct ctx_node {
  enum class kind : std::uint8_t { cancel, value, without };

  ctx_node(kind k_, std::shared_ptr<ctx_node> parent_) : k(k_), parent(std::move(parent_)) {}

  const kind k;
  const std::shared_ptr<ctx_node> parent;  // null: background
  ctx_node* canceler = nullptr;            // immutable after construction
  std::int64_t deadline = never;           // immutable after construction

  // value nodes
  const void* key = nullptr;
  std::shared_ptr<const void> value;

  // cancel nodes
  spinlock mu{lock_rank::ctx};
  atomic<int> err{0};               // written under mu
  std::exception_ptr cause;         // under mu
  chan<std::monostate> done;        // under mu; made on first done(), or the closed one
  ctx_hook* hooks = nullptr;        // under mu
  std::optional<func_timer> timer;  // under mu: the deadline's
  ctx_node* first_child = nullptr;  // under mu
  // Our place in our parent canceler's children list: under that canceler's mu.
  ctx_node* registered = nullptr;   // the canceler whose list holds us, or null
  ctx_node* prev_sib = nullptr;
  ctx_node* next_sib = nullptr;
};

namespace {

// The channel every context canceled before anyone asked for done() shares.
const chan<std::monostate>& closed_chan() {
  static const chan<std::monostate> c = [] {
    auto ch = make_chan<std::monostate>();
    ch.close();
    return ch;
  }();
  return c;
}

ctx_node* parent_canceler(const ctx_node* n) noexcept { return n->parent ? n->parent->canceler : nullptr; }

void unlink_child_locked(ctx_node* parent, ctx_node* c) noexcept {
  (c->prev_sib ? c->prev_sib->next_sib : parent->first_child) = c->next_sib;
  if (c->next_sib) c->next_sib->prev_sib = c->prev_sib;
  c->prev_sib = c->next_sib = nullptr;
  c->registered = nullptr;
}

// Leave our parent canceler's children list, if we are still in it.
void unregister(ctx_node* n) noexcept {
  ctx_node* p = parent_canceler(n);
  if (!p) return;
  p->mu.lock();
  if (n->registered == p) unlink_child_locked(p, n);
  p->mu.unlock();
}

void cancel(ctx_node* n, errc e, const std::exception_ptr& cause, bool remove_from_parent) noexcept {
  n->mu.lock();
  if (n->err.load(memory_order_relaxed) != 0) {  // under mu
    n->mu.unlock();
    return;
  }
  n->cause = cause;
  n->err.store(static_cast<int>(e), memory_order_release);  // pairs with acquire in err() and stop_requested()
  if (n->done.is_nil())
    n->done = closed_chan();
  else
    n->done.close();  // wakes every goroutine waiting on done() (readied, not run, under our lock)
  for (ctx_node* c = n->first_child; c;) {
    ctx_node* next = c->next_sib;
    c->registered = nullptr;
    c->prev_sib = c->next_sib = nullptr;
    cancel(c, e, cause, /*remove_from_parent=*/false);  // parent's lock, then the child's
    c = next;
  }
  n->first_child = nullptr;
  for (ctx_hook* h = n->hooks; h;) {
    ctx_hook* next = h->next;  // read first: fn may let the hook's frame go
    h->listed = false;
    h->prev = h->next = nullptr;
    h->fn(h);
    h = next;
  }
  n->hooks = nullptr;
  if (n->timer) n->timer->stop();
  n->mu.unlock();
  if (remove_from_parent) unregister(n);
}

std::exception_ptr error_of(errc e) { return std::make_exception_ptr(error(e)); }


// The deleter of every node: leave the parent's list and stop the deadline timer while
// the node is still whole, then free it. Hooks still listed can only be after_func
// registrations (a wait holds its ctx): the node can never be done now, so they are
// dropped, after the lock is released (dropping one may destroy its f).
void destroy_node(ctx_node* n) noexcept {
  if (n->k == ctx_node::kind::cancel) {
    unregister(n);
    n->mu.lock();
    if (n->timer) n->timer->stop();
    ctx_hook* hooks = std::exchange(n->hooks, nullptr);
    for (ctx_hook* h = hooks; h; h = h->next) h->listed = false;
    n->mu.unlock();
    for (ctx_hook* h = hooks; h;) {
      ctx_hook* next = h->next;  // read first: drop may free h
      if (h->drop) h->drop(h);
      h = next;
    }
  }
  delete n;
}

// A cancel node under parent, registered with the parent's canceler, or canceled at
// once if that one is done already (Go's propagateCancel).
std::shared_ptr<ctx_node> new_cancel_node(const context& parent, std::int64_t deadline) {
  const auto& pp = ctx_access::ptr(parent);
  std::shared_ptr<ctx_node> n(new ctx_node(ctx_node::kind::cancel, pp), &destroy_node);
  n->canceler = n.get();
  n->deadline = deadline;
  ctx_node* pc = parent_canceler(n.get());
  if (!pc) return n;
  pc->mu.lock();
  if (int e = pc->err.load(memory_order_relaxed); e != 0) {  // under mu
    std::exception_ptr c = pc->cause;
    pc->mu.unlock();
    cancel(n.get(), static_cast<errc>(e), c, /*remove_from_parent=*/false);
    return n;
  }
  n->registered = pc;
  n->next_sib = pc->first_child;
  if (pc->first_child) pc->first_child->prev_sib = n.get();
  pc->first_child = n.get();
  pc->mu.unlock();
  return n;
}

}  // namespace

recv_only<std::monostate> ctx_done(ctx_node* n) {
  ctx_node* c = n ? n->canceler : nullptr;
  if (!c) return {};  // never done: a nil channel
  c->mu.lock();
  if (c->done.is_nil()) c->done = make_chan<std::monostate>();
  recv_only<std::monostate> d = c->done;
  c->mu.unlock();
  return d;
}

std::error_code ctx_err(const ctx_node* n) noexcept {
  const ctx_node* c = n ? n->canceler : nullptr;
  if (!c) return {};
  int e = c->err.load(memory_order_acquire);  // pairs with the release store in cancel()
  return e ? make_error_code(static_cast<errc>(e)) : std::error_code();
}

std::optional<clock::time_point> ctx_deadline(const ctx_node* n) noexcept {
  if (!n || n->deadline == never) return std::nullopt;
  return clock::time_point(std::chrono::nanoseconds(n->deadline));
}

const void* ctx_value(const ctx_node* n, const void* key) noexcept {
  for (; n; n = n->parent.get())
    if (n->k == ctx_node::kind::value && n->key == key) return n->value.get();
  return nullptr;
}

std::exception_ptr ctx_cause(ctx_node* n) {
  ctx_node* c = n ? n->canceler : nullptr;
  if (!c) return nullptr;
  c->mu.lock();
  std::exception_ptr e = c->cause;
  int err = c->err.load(memory_order_relaxed);
  c->mu.unlock();
  if (!e && err) e = error_of(static_cast<errc>(err));
  return e;
}

void ctx_cancel(ctx_node* n, std::exception_ptr cause) noexcept { cancel(n, errc::canceled, cause, true); }

ctx_node* ctx_canceler(const ctx_node* n) noexcept { return n ? n->canceler : nullptr; }

std::size_t ctx_children(const context& ctx) noexcept {
  ctx_node* c = ctx_canceler(ctx_access::node(ctx));
  if (!c) return 0;
  std::size_t k = 0;
  c->mu.lock();
  for (ctx_node* it = c->first_child; it; it = it->next_sib) ++k;
  c->mu.unlock();
  return k;
}

std::size_t ctx_hooks(const context& ctx) noexcept {
  ctx_node* c = ctx_canceler(ctx_access::node(ctx));
  if (!c) return 0;
  std::size_t k = 0;
  c->mu.lock();
  for (ctx_hook* h = c->hooks; h; h = h->next) ++k;
  c->mu.unlock();
  return k;
}

bool ctx_add_hook(ctx_node* n, ctx_hook* h) noexcept {
  n->mu.lock();
  if (n->err.load(memory_order_relaxed) != 0) {  // under mu
    n->mu.unlock();
    return false;
  }
  h->prev = nullptr;
  h->next = n->hooks;
  if (n->hooks) n->hooks->prev = h;
  n->hooks = h;
  h->listed = true;
  n->mu.unlock();
  return true;
}

bool ctx_remove_hook(ctx_node* n, ctx_hook* h) noexcept {
  n->mu.lock();  // if a cancel is running h, this waits for it to finish
  const bool listed = h->listed;
  if (listed) {
    (h->prev ? h->prev->next : n->hooks) = h->next;
    if (h->next) h->next->prev = h->prev;
    h->listed = false;
  }
  n->mu.unlock();
  return listed;
}

// -- context.AfterFunc --
//
// A registration is the state's hook in the canceler's list; while listed, the hook owns
// the state's `self` reference. Exactly one of three takes the hook off the list, and
// that one releases `self`:
//   - the cancel (the hook's fn, under the canceler's lock): if it moves phase 0 -> 1, f
//     starts in a goroutine; if stop() got there first (phase 2), nothing runs;
//   - stop(): it moves phase 0 -> 2 first (the decision), then, if the canceler still
//     exists (weak_ptr), takes the hook off; if the cancel took it off meanwhile, the
//     cancel releases;
//   - the canceler's destruction (drop, outside its lock): it can never be done now.
// `self` may be released under the canceler's lock (by the cancel): the state then holds
// nothing that takes a lock when destroyed (f is gone, the canceler is only weak).
namespace {

struct spawn_args {
  after_func_base* st;
  bool started;
};

bool spawn_on_live(sched* s, void* arg) noexcept {
  auto* a = static_cast<spawn_args*>(arg);
  a->started = a->st->spawn(a->st, s);
  return true;
}

// f's goroutine, on its runtime: directly on a worker of it, else through the registry
// (the cancel may come from an outside thread, after the runtime is gone).
void start_after_func(after_func_base* st) noexcept {
  worker_tls& t = tls();
  if (t.s && t.s->serial == st->runtime_serial) {
    st->spawn(st, t.s);
    return;
  }
  spawn_args a{st, false};
  if (!with_live_sched(st->runtime_serial, &spawn_on_live, &a)) st->discard(st);
}

after_func_base* state_of(ctx_hook* h) noexcept {
  return static_cast<after_func_base::hook_t*>(h)->self;
}

void after_func_fire(ctx_hook* h) noexcept {  // under the canceler's lock; cancel unlisted h
  after_func_base* st = state_of(h);
  int registered = 0;
  if (st->phase.compare_exchange_strong(registered, 1, memory_order_acq_rel)) start_after_func(st);
  std::shared_ptr<after_func_base> self = std::move(st->self);  // last touch of *st
}

void after_func_drop(ctx_hook* h) noexcept {  // the canceler is being destroyed
  after_func_base* st = state_of(h);
  int registered = 0;
  if (st->phase.compare_exchange_strong(registered, 2, memory_order_acq_rel)) st->discard(st);
  std::shared_ptr<after_func_base> self = std::move(st->self);
}

// The shared_ptr that owns the canceler of ctx: the ctx's own, or the parent link of the
// canceler's child on the way up.
std::weak_ptr<ctx_node> canceler_weak(const context& ctx) noexcept {
  const std::shared_ptr<ctx_node>* sp = &ctx_access::ptr(ctx);
  ctx_node* k = ctx_canceler(sp->get());
  while (sp->get() != k) sp = &(*sp)->parent;
  return *sp;
}

}  // namespace

void after_func_register(const std::shared_ptr<after_func_base>& st, const context& ctx) {
  ctx_node* k = ctx_canceler(ctx_access::node(ctx));
  sched* s = current_sched_or_throw("go::after_func");
  st->runtime_serial = s->serial;
  st->canceler = canceler_weak(ctx);
  st->hook.self = st.get();
  st->hook.fn = &after_func_fire;
  st->hook.drop = &after_func_drop;
  st->self = st;  // the hook's reference, set before it can be listed
  if (ctx_add_hook(k, &st->hook)) return;
  // Done already: Go's AfterFunc runs f at once (in its goroutine).
  st->self.reset();
  st->phase.store(1, memory_order_relaxed);  // not shared yet
  if (!st->spawn(st.get(), s)) throw error(errc::runtime_stopped, "go::after_func: the runtime is stopping");
}

bool after_func_stop(after_func_base* st) noexcept {
  int registered = 0;
  if (!st->phase.compare_exchange_strong(registered, 2, memory_order_acq_rel)) return false;
  st->discard(st);  // ours alone now: the cancel lost the decision
  if (std::shared_ptr<ctx_node> k = st->canceler.lock()) {  // outside every lock: may be the last reference
    if (ctx_remove_hook(k.get(), &st->hook)) st->self.reset();
  }
  // Else the canceler is being destroyed: its drop releases self.
  return true;
}

const atomic<int>& ctx_err_flag(ctx_node* n) noexcept { return n->err; }

void throw_ctx_err(ctx_node* n) {
  int e = n->err.load(memory_order_acquire);
  throw error(e ? static_cast<errc>(e) : errc::canceled);  // what(): "context canceled", ...
}

void throw_err_of(const context& ctx) {
  std::error_code e = ctx.err();
  throw error(e ? static_cast<errc>(e.value()) : errc::canceled);
}

context ctx_with_value(const context& parent, const void* key, std::shared_ptr<const void> value) {
  const auto& pp = ctx_access::ptr(parent);
  auto n = std::shared_ptr<ctx_node>(new ctx_node(ctx_node::kind::value, pp), &destroy_node);
  n->canceler = pp ? pp->canceler : nullptr;
  n->deadline = pp ? pp->deadline : never;
  n->key = key;
  n->value = std::move(value);
  return ctx_access::make(std::move(n));
}

}  // namespace go::detail

namespace go {

using detail::ctx_access;

context_with<cancel_func> with_cancel(const context& parent) {
  auto n = detail::new_cancel_node(parent, ctx_access::node(parent) ? ctx_access::node(parent)->deadline : detail::never);
  return {ctx_access::make(n), ctx_access::func<cancel_func>(n)};
}

context_with<cancel_cause_func> with_cancel_cause(const context& parent) {
  auto n = detail::new_cancel_node(parent, ctx_access::node(parent) ? ctx_access::node(parent)->deadline : detail::never);
  return {ctx_access::make(n), ctx_access::func<cancel_cause_func>(n)};
}

context_with<cancel_func> with_deadline(const context& parent, clock::time_point deadline) {
  const std::int64_t d = detail::deadline_of(deadline);
  const std::int64_t inherited = ctx_access::node(parent) ? ctx_access::node(parent)->deadline : detail::never;
  if (inherited <= d) return with_cancel(parent);  // the parent's deadline comes first anyway
  auto n = detail::new_cancel_node(parent, d);
  const std::int64_t left = d - detail::nanotime();
  if (left <= 0) {
    detail::cancel(n.get(), errc::deadline_exceeded, nullptr, /*remove_from_parent=*/true);
  } else {
    std::weak_ptr<detail::ctx_node> weak = n;
    auto t = after_func(std::chrono::nanoseconds(left), [weak] {
      if (auto live = weak.lock()) detail::cancel(live.get(), errc::deadline_exceeded, nullptr, true);
    });
    n->mu.lock();
    if (n->err.load(detail::memory_order_relaxed) == 0)  // under mu
      n->timer.emplace(std::move(t));
    else
      t.stop();  // canceled meanwhile (by the parent)
    n->mu.unlock();
  }
  return {ctx_access::make(n), ctx_access::func<cancel_func>(n)};
}

context without_cancel(const context& parent) {
  const auto& pp = ctx_access::ptr(parent);
  auto n = std::shared_ptr<detail::ctx_node>(new detail::ctx_node(detail::ctx_node::kind::without, pp), &detail::destroy_node);
  return ctx_access::make(std::move(n));
}

std::exception_ptr cause(const context& ctx) { return detail::ctx_cause(ctx_access::node(ctx)); }

}  // namespace go
