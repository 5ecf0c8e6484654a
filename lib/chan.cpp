// go::chan's type-erased core: send, receive, close, direct handoff (Go's chan.go).
//
// Every operation completes under the channel lock and readies at most one goroutine,
// after unlocking (HACKING.md rule 2). A waiter that belongs to a select is taken only
// if its select has not completed yet: dequeue() wins the select's CAS or skips it,
// so exactly one case of a select fires, and the losing waker moves on to the next
// waiter.
#include "go/chan.hpp"
#include "go/detail/chan_core.hpp"

#include <cstdlib>
#include <limits>
#include <new>

#include "go/detail/park.hpp"
#include "go/detail/select_state.hpp"
#include "go/error.hpp"

namespace go::detail {

void throw_makechan_size() { throw error(errc::invalid_argument, "makechan: size out of range"); }

chan_core* chan_core::make(std::uint64_t capacity, const elem_ops* ops, bool timer) {
  // One block: the core, then the ring buffer, aligned for the element type. Every
  // step is checked: capacity * size must not wrap (Go's makechan: "overflow ||
  // mem > maxAlloc-hchanSize").
  const std::size_t align = ops->align > alignof(chan_core) ? ops->align : alignof(chan_core);
  const std::size_t head = (sizeof(chan_core) + ops->align - 1) / ops->align * ops->align;
  if (ops->size != 0 && capacity > (max_alloc - head) / ops->size) throw_makechan_size();
  if (capacity > std::numeric_limits<std::size_t>::max()) throw_makechan_size();
  const std::size_t bytes = head + static_cast<std::size_t>(capacity) * ops->size;
  void* mem = ::operator new(bytes, std::align_val_t(align), std::nothrow);
  if (!mem) throw_makechan_size();
  auto* buf = static_cast<std::byte*>(mem) + head;
  return ::new (mem) chan_core(static_cast<std::size_t>(capacity), ops, buf, timer);
}

chan_core::~chan_core() {
  for (std::size_t i = 0, n = count_.load(memory_order_relaxed); i < n; ++i)
    if (void* s = slot((recvx_ + i) % capacity_)) ops_->destroy(s);
}

void chan_core::release() noexcept {
  // acq_rel: the last owner must see every other owner's writes before destroying.
  if (refs_.fetch_sub(1, memory_order_acq_rel) != 1) return;
  std::size_t align = ops_->align > alignof(chan_core) ? ops_->align : alignof(chan_core);
  this->~chan_core();
  ::operator delete(static_cast<void*>(this), std::align_val_t(align));
}

chan_waiter* chan_core::dequeue(waitq& q) noexcept {
  while (waiter* base = q.pop_front()) {
    auto* w = static_cast<chan_waiter*>(base);
    // A select waiting on several channels: only the first waker to win its CAS may
    // complete it; the others skip this waiter (the select removes the rest itself).
    if (w->sel && !w->sel->try_win(w->case_index)) continue;
    return w;
  }
  return nullptr;
}

void chan_core::check() const noexcept {
  const std::size_t n = count_.load(memory_order_relaxed);
  GO_INVARIANT(n <= capacity_, "chan: more elements than the capacity");
  GO_INVARIANT(capacity_ == 0 ? sendx_ == 0 && recvx_ == 0 : sendx_ == (recvx_ + n) % capacity_,
               "chan: sendx is not recvx + count");
  GO_INVARIANT(n == 0 || recvq_.empty(), "chan: receivers wait while the buffer holds elements");
  GO_INVARIANT(n == capacity_ || sendq_.empty(), "chan: senders wait while the buffer has room");
  GO_INVARIANT(!closed_ || sendq_.empty(), "chan: senders wait on a closed channel");
  recvq_.check();
  sendq_.check();
  const bool both = !recvq_.empty() && !sendq_.empty();
  int i = 0;
  for (const waiter* w = recvq_.front(); w && i < waitq::check_depth; w = w->next, ++i) {
    GO_INVARIANT(!static_cast<const chan_waiter*>(w)->is_send, "chan: a sender in the receive queue");
    GO_INVARIANT(!both || static_cast<const chan_waiter*>(w)->sel, "chan: a sender and a receiver wait at once");
  }
  i = 0;
  for (const waiter* w = sendq_.front(); w && i < waitq::check_depth; w = w->next, ++i) {
    GO_INVARIANT(static_cast<const chan_waiter*>(w)->is_send, "chan: a receiver in the send queue");
    GO_INVARIANT(!both || static_cast<const chan_waiter*>(w)->sel, "chan: a sender and a receiver wait at once");
  }
}

chan_status chan_core::send_locked(void* elem, g** to_ready) noexcept {
  lock_.assert_held();
  if (closed_) return chan_status::closed;
  if (chan_waiter* r = dequeue(recvq_)) {  // a receiver waits: hand the value straight to it
    ops_->move(r->elem, elem);
    r->success = true;
    *to_ready = r->gp;
    return chan_status::done;
  }
  std::size_t n = count_.load(memory_order_relaxed);  // written only under lock_
  if (n < capacity_) {
    ops_->move(slot(sendx_), elem);
    if (++sendx_ == capacity_) sendx_ = 0;
    count_.store(n + 1, memory_order_relaxed);  // len() is a snapshot; data is ordered by lock_
    return chan_status::done;
  }
  return chan_status::would_block;
}

chan_status chan_core::recv_locked(void* out, g** to_ready) noexcept {
  lock_.assert_held();
  if (chan_waiter* s = dequeue(sendq_)) {
    if (capacity_ == 0) {
      ops_->move(out, s->elem);  // unbuffered: straight from the sender
    } else {
      // Buffer full (a sender waits): take the head, and the sender's value becomes the
      // tail, so values keep their order (Go's recv()).
      void* head = slot(recvx_);
      ops_->move(out, head);
      if (head) ops_->destroy(head);
      ops_->move(head, s->elem);
      if (++recvx_ == capacity_) recvx_ = 0;
      sendx_ = recvx_;
    }
    s->success = true;
    *to_ready = s->gp;
    return chan_status::done;
  }
  std::size_t n = count_.load(memory_order_relaxed);  // written only under lock_
  if (n > 0) {
    void* head = slot(recvx_);
    ops_->move(out, head);
    if (head) ops_->destroy(head);
    if (++recvx_ == capacity_) recvx_ = 0;
    count_.store(n - 1, memory_order_relaxed);
    return chan_status::done;
  }
  return closed_ ? chan_status::closed : chan_status::would_block;
}

void chan_core::enqueue_locked(chan_waiter* w, bool is_send) noexcept {
  lock_.assert_held();
  w->is_send = is_send;
  (is_send ? sendq_ : recvq_).push_back(w);
}

void chan_core::dequeue_locked(chan_waiter* w) noexcept {
  lock_.assert_held();
  if (!w->queued) return;  // a waker already took it off (and won or lost the select)
  (w->is_send ? sendq_ : recvq_).remove(w);
}

namespace {
bool unlock_chan(g*, void* lock) noexcept {
  static_cast<spinlock*>(lock)->unlock();
  return true;
}
}  // namespace

bool chan_core::complete_or_park(chan_waiter* w, bool is_send, std::coroutine_handle<> h) {
  g* gp = current_g_or_throw(is_send ? "channel send" : "channel receive");
  g* to_ready = nullptr;
  lock_.lock();
  chan_status st = is_send ? send_locked(w->elem, &to_ready) : recv_locked(w->elem, &to_ready);
  GO_CHECK_INVARIANTS(*this);
  if (st == chan_status::would_block) {
    w->gp = gp;
    w->success = false;
    enqueue_locked(w, is_send);
    GO_CHECK_INVARIANTS(*this);
    park(gp, h, is_send ? wait_reason::chan_send : wait_reason::chan_receive, &unlock_chan, &lock_);
    return true;
  }
  lock_.unlock();
  if (is_send && st == chan_status::closed) throw_send_on_closed();
  w->success = st == chan_status::done;
  if (to_ready) ready(to_ready);
  return false;
}

chan_status chan_core::try_send(void* elem) {
  g* to_ready = nullptr;
  lock_.lock();
  chan_status st = send_locked(elem, &to_ready);
  GO_CHECK_INVARIANTS(*this);
  lock_.unlock();
  if (st == chan_status::closed) throw_send_on_closed();
  if (to_ready) ready(to_ready);
  return st;
}

chan_status chan_core::try_recv(void* out) {
  g* to_ready = nullptr;
  lock_.lock();
  chan_status st = recv_locked(out, &to_ready);
  GO_CHECK_INVARIANTS(*this);
  lock_.unlock();
  if (to_ready) ready(to_ready);
  return st;
}

void chan_core::close() {
  ready_list woken;
  lock_.lock();
  if (closed_) {
    lock_.unlock();
    throw error(errc::closed_channel, "close of closed channel");
  }
  closed_ = true;
  // Every receiver wakes with nothing (the buffer is empty, or there would be no
  // receivers), every sender wakes to fail; select waiters only if they win their CAS.
  while (chan_waiter* w = dequeue(recvq_)) {
    w->success = false;
    woken.push_back(w);
  }
  while (chan_waiter* w = dequeue(sendq_)) {
    w->success = false;
    woken.push_back(w);
  }
  GO_CHECK_INVARIANTS(*this);
  lock_.unlock();
  ready_all(woken);  // after unlocking (HACKING.md rule 2)
}

void chan_core::cancel(chan_waiter* w) noexcept {
  lock_.lock();
  dequeue_locked(w);
  GO_CHECK_INVARIANTS(*this);
  lock_.unlock();
}

}  // namespace go::detail

namespace go::detail {

void throw_send_on_closed() { throw error(errc::closed_channel, "send on closed channel"); }
void throw_close_of_nil() { throw error(errc::nil_channel, "close of nil channel"); }

namespace {
bool stay_parked(g*, void*) noexcept { return true; }
}  // namespace

void park_forever(std::coroutine_handle<> h, wait_reason why) {
  park(current_g_or_throw("a blocking operation on a nil channel"), h, why, &stay_parked, nullptr);
}

}  // namespace go::detail
