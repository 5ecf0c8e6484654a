// poller: how the scheduler drives the netpoll (netpoll.hpp), the role Go's findRunnable
// plays with netpoll(0) and netpoll(delay): the io_context made on first use, a worker's
// non-blocking poll when it runs out of work, and the wakeup of the timed sleeper when a
// goroutine starts to wait for I/O (W1-W2 of timed_sleeper.hpp).
//
// Fields: mu_ guards the creation of np_; np_ is written once under mu_ and published
// through ptr_ (release, paired with the acquire in net()); s_ is immutable.
#pragma once

#include <memory>
#include <mutex>

#include "go/detail/atomic.hpp"
#include "go/detail/os_mutex.hpp"

namespace go::detail {
class netpoll;
class sched;

class poller {
 public:
  explicit poller(sched& s) noexcept;
  ~poller();
  poller(const poller&) = delete;
  poller& operator=(const poller&) = delete;

  // The netpoll, made on first use (throws go::error runtime_stopped once stopping).
  netpoll& get();
  // The netpoll, or null until first use. Any thread.
  netpoll* net() const noexcept { return ptr_.load(memory_order_acquire); }  // pairs with the release in get()
  // A goroutine is about to wait for I/O (W1, W2).
  void wait_begin() noexcept;
  // A worker out of work: run the I/O completions that are ready; the goroutines they
  // ready land on the caller's P, whose polling flag (p::polling) is set meanwhile, so
  // that other Ps may take them at once. Cheap when nobody waits for I/O or someone else
  // polls. True if any ran. (Inline up to the first check: a runtime that never did I/O
  // pays a load, not a call, each time a worker runs out of work.)
  bool poll(atomic<bool>& polling) noexcept {
    netpoll* np = net();
    return np && poll(np, polling);
  }

 private:
  bool poll(netpoll* np, atomic<bool>& polling) noexcept;

  sched& s_;
  os_mutex mu_{lock_rank::poller};
  std::unique_ptr<netpoll> np_;
  atomic<netpoll*> ptr_{nullptr};
};

}  // namespace go::detail
