// The per-P timer heap (timers.hpp) and the timer entry points of timer.hpp.
#include "runtime/timers.hpp"

#include "go/error.hpp"
#include "runtime/sched.hpp"

namespace go::detail {

void timer_heap::sift_up(std::uint32_t i) noexcept {
  lock_.assert_held();
  entry e = h_[i];
  while (i > 0) {
    std::uint32_t parent = (i - 1) / 4;
    if (h_[parent].when <= e.when) break;
    place(i, h_[parent]);
    i = parent;
  }
  place(i, e);
}

void timer_heap::sift_down(std::uint32_t i) noexcept {
  lock_.assert_held();
  const std::uint32_t n = static_cast<std::uint32_t>(h_.size());
  entry e = h_[i];
  for (;;) {
    std::uint32_t first = 4 * i + 1;
    if (first >= n) break;
    std::uint32_t best = first;
    std::uint32_t end = first + 4 < n ? first + 4 : n;
    for (std::uint32_t c = first + 1; c < end; ++c)
      if (h_[c].when < h_[best].when) best = c;
    if (e.when <= h_[best].when) break;
    place(i, h_[best]);
    i = best;
  }
  place(i, e);
}

void timer_heap::remove_at(std::uint32_t i) noexcept {
  if (timer_node* t = h_[i].t) {
    t->index = timer_node::npos;
    t->heap.store(nullptr, memory_order_relaxed);  // under lock_; see timer_stop
  } else {
    --dead_;
  }
  entry last = h_.back();
  h_.pop_back();
  if (i == h_.size()) return;
  place(i, last);
  if (i > 0 && h_[(i - 1) / 4].when > last.when)
    sift_up(i);
  else
    sift_down(i);
}

// Drop every tombstone and rebuild the heap bottom-up (Floyd): O(n).
void timer_heap::compact() noexcept {
  std::size_t live = 0;
  for (std::size_t i = 0; i < h_.size(); ++i)
    if (h_[i].t) h_[live++] = h_[i];
  h_.resize(live);
  dead_ = 0;
  for (std::size_t i = 0; i < live; ++i) h_[i].t->index = static_cast<std::uint32_t>(i);
  if (live > 1)
    for (std::size_t i = (live - 2) / 4 + 1; i-- > 0;) sift_down(static_cast<std::uint32_t>(i));
}

bool timer_heap::add(timer_node* t, std::int64_t when) noexcept {
  lock_.lock();
  t->when = when;
  t->home = this;
  t->heap.store(this, memory_order_relaxed);
  h_.push_back({when, t});  // bad_alloc here is out of memory: terminate, as Go throws
  sift_up(static_cast<std::uint32_t>(h_.size() - 1));
  const bool earliest = t->index == 0;
  publish();
  GO_CHECK_INVARIANTS(*this);
  lock_.unlock();
  return earliest;
}

bool timer_heap::remove(timer_node* t) noexcept {
  lock_.lock();
  const bool here = t->heap.load(memory_order_relaxed) == this;
  if (here) {
    const std::uint32_t i = t->index;
    t->index = timer_node::npos;
    t->heap.store(nullptr, memory_order_relaxed);  // under lock_; see timer_stop
    h_[i].t = nullptr;                               // a tombstone
    ++dead_;
    if (dead_ > h_.size() / 2) compact();
    publish();
  }
  GO_CHECK_INVARIANTS(*this);
  lock_.unlock();
  return here;
}

void timer_heap::run(std::int64_t now, fire_batch& out) noexcept {
  lock_.lock();
  while (!h_.empty() && h_[0].when <= now && !out.full()) {
    timer_node* t = h_[0].t;
    if (!t) {  // a stopped timer's tombstone
      remove_at(0);
      continue;
    }
    if (t->period > 0) {
      // A ticker: the next tick after now, skipping the ones a slow P missed (Go drops
      // them too: the channel holds at most one).
      std::int64_t next = t->when + t->period;
      if (next <= now) next += ((now - next) / t->period + 1) * t->period;
      t->when = next;
      h_[0].when = next;
      sift_down(0);
    } else {
      remove_at(0);
    }
    t->ops->fire(t, now, out);  // may free a one-shot t: not touched again
  }
  publish();
  GO_CHECK_INVARIANTS(*this);
  lock_.unlock();
}

// The invariants of timers.hpp, or which one is broken. Past `limit` entries only the
// first `limit` are walked: a checking build checks after every operation, and a
// full walk of a million timers each time would make the stress tests quadratic.
const char* timer_heap::broken(std::size_t limit) const noexcept {
  if (next_.load(memory_order_relaxed) != (h_.empty() ? never : h_[0].when))
    return "go: invariant broken: timer_heap: next is not the root's when";
  if (dead_ > h_.size()) return "go: invariant broken: timer_heap: more tombstones than entries";
  const std::size_t n = h_.size() < limit ? h_.size() : limit;
  std::size_t dead = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0 && h_[(i - 1) / 4].when > h_[i].when) return "go: invariant broken: timer_heap: a child is due before its parent";
    if (!h_[i].t)
      ++dead;
    else if (h_[i].t->index != i || h_[i].t->heap.load(memory_order_relaxed) != this || h_[i].t->when != h_[i].when)
      return "go: invariant broken: timer_heap: an entry and its timer disagree";
  }
  if (n == h_.size() && dead != dead_) return "go: invariant broken: timer_heap: the tombstone count is off";
  return nullptr;
}

void timer_heap::check() const noexcept {
  lock_.assert_held();
  if (const char* what = broken(check_limit)) fatal(what);
}

bool timer_heap::valid() noexcept {
  lock_.lock();
  const bool ok = broken(static_cast<std::size_t>(-1)) == nullptr;
  lock_.unlock();
  return ok;
}

std::vector<timer_node*> timer_heap::drain() noexcept {
  lock_.lock();
  std::vector<timer_node*> nodes;
  nodes.reserve(h_.size());
  for (entry& e : h_) {
    if (!e.t) continue;  // a tombstone
    e.t->index = timer_node::npos;
    e.t->heap.store(nullptr, memory_order_relaxed);
    nodes.push_back(e.t);
  }
  h_.clear();
  dead_ = 0;
  publish();
  lock_.unlock();
  return nodes;
}

void timer_start(timer_node* t, std::int64_t when, const char* what) {
  worker_tls& w = tls();
  if (!w.s)
    throw error(errc::no_runtime, std::string("go: ") + what + " outside a goroutine (timers belong to a go::runtime)");
  w.s->timers.add(w.pp ? *w.pp : *w.s->ps[0], t, when);  // a locked goroutine's thread holds no P: P0's heap
}

bool timer_stop(timer_node* t) noexcept {
  // Only the heap may clear `heap` concurrently (by firing t), never move t to another
  // heap: whoever stops or starts t is the only one modifying it. So a heap seen here is
  // the one to lock, and remove() re-checks under its lock.
  timer_heap* h = t->heap.load(memory_order_acquire);
  return h && h->remove(t);
}

}  // namespace go::detail

namespace go::detail {
void timer_settle(timer_node* t) noexcept {
  if (t->home) t->home->barrier();
}
}  // namespace go::detail
