// The scheduler's side of the netpoll; see poller.hpp.
#include "runtime/poller.hpp"

#include "go/error.hpp"
#include "runtime/netpoll.hpp"
#include "runtime/sched.hpp"

namespace go::detail {

poller::poller(sched& s) noexcept : s_(s) {}
poller::~poller() = default;

netpoll& poller::get() {
  if (netpoll* np = net()) return *np;
  std::lock_guard lock(mu_);
  if (!np_) {
    if (s_.stopping()) throw error(errc::runtime_stopped, "go: I/O on a runtime that is stopping or stopped");
    np_ = std::make_unique<netpoll>();
    s_.idlers.set_breaker([](void* np) noexcept { static_cast<netpoll*>(np)->interrupt(); }, np_.get());
    ptr_.store(np_.get(), memory_order_release);  // pairs with the acquire in net()
  }
  return *np_;
}

// If a worker sleeps as the timed sleeper without polling (it looked before there was
// I/O to wait for), wake it: it sleeps again, this time in the poller.
void poller::wait_begin() noexcept {
  net()->wait_begin();                    // W1 (seq_cst)
  const int w = s_.timers.sleeper.holder();  // W2 (seq_cst)
  if (w >= 0 && s_.idlers.poller() != w) s_.idlers.wake(static_cast<unsigned>(w));
}

bool poller::poll(netpoll* np, atomic<bool>& polling) noexcept {
  if (!np->has_waiters()) return false;
  const std::size_t n = np->poll(&polling);
  if (n > 0 && GO_UNLIKELY(s_.trace.on())) {
    trace_ev e;
    e.kind = trace_kind::poll;
    e.t0 = trace_clock();
    e.count = static_cast<std::uint32_t>(n);
    s_.trace_add(e);
  }
  return n > 0;
}

void io_wait_begin(g* gp) noexcept { gp->owner->io.wait_begin(); }
void io_wait_end(g* gp) noexcept { gp->owner->io.net()->wait_end(); }

}  // namespace go::detail
