// netpoll: the runtime's asio::io_context, driven by the workers the way Go's scheduler
// drives netpoll (findRunnable, netpoll(0), netpoll(delay)).
//
// A goroutine that waits for I/O parks; the operation's completion handler only readies
// it. Handlers run wherever the io_context is polled:
//   - a worker out of local and global work polls without blocking before it steals
//     (and again every few microseconds while it spins): the readied goroutines land
//     on its own P and it runs them itself, with no thread hop;
//   - the timed sleeper (worker::park), when goroutines wait for I/O, sleeps in the
//     poller instead of on its futex, bounded by the earliest timer; a wakeup
//     (idle::unpark) interrupts it by posting an empty handler;
//   - sysmon polls when nobody has for 10 ms (every worker busy in long goroutines).
// At most one thread drives the io_context at a time (busy_): Asio's scheduler lets a
// second thread take the reactor from the first and leaves the first on a condition
// variable that nothing signals, so a worker that finds the poller busy skips the poll.
// Poll results are never lost by skipping: the busy thread runs them.
//
// A poll readies at most poll_batch goroutines, not all it could. Asio's queue holds
// the reactor itself as one entry: running it makes one epoll_wait, which appends the
// completions it found and then the reactor again. io_context::poll() runs until the
// queue has nothing but the reactor left, so under a steady stream of completions it
// went round several times, and each epoll_wait found only the few events that had
// come in the meantime (the echo workload: 5-6 epoll_waits per poll, 76 per 1,000
// messages; tokio 19, Go 22). Now the completion that spends the batch stops the
// io_context (wait_end), which ends the poll there; the rest of what the epoll_wait
// found stays queued ahead of the reactor for the next poll, by any worker, which takes
// it with no system call, and epoll_wait comes round again once that is taken, with the
// events that came in meanwhile (12 per 1,000 messages). A batch is also about what
// Go's netpoll(0) hands over: the goroutines one epoll_wait readied. (Running poll_one
// up to poll_batch times instead did the same, but sets Asio's per-call state up for
// each handler: 4,068 user instructions per echo round trip against 3,856 this way, and
// 3,776 for the unbounded poll.)
//
// The io_context is created on first use, so a runtime without I/O pays nothing. A work
// guard keeps it from stopping when it runs out of work.
//
// Shutdown order (sched::stop): workers and sysmon have exited, so nothing polls; then
// shutdown() destroys every operation still pending in the reactor or queued in the
// io_context, with its handler, uninvoked. That must come before the sweep destroys the
// goroutines: a wait's operation lives in the waiting goroutine's frame (io_wait's
// arena), and a socket destroyed with its wait still registered hands the operation to
// the io_context (Asio's deregister_descriptor writes its error code and queues it), to
// be freed when the io_context goes -- after the frame that held it was freed. Once
// shut down, Asio's reactor lets sockets and timers be closed and destroyed without
// touching anything of theirs (the sweep's destructors do both); the io_context is
// destroyed last, with the sched.
#pragma once

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <cstdint>

#include "go/detail/atomic.hpp"

namespace go::detail {

class netpoll {
 public:
  netpoll();
  netpoll(const netpoll&) = delete;
  netpoll& operator=(const netpoll&) = delete;

  asio::io_context& context() noexcept { return ioc_; }

  // Goroutines waiting for an I/O completion (Go's netpollWaiters): nobody polls while
  // it is 0. seq_cst: begin pairs with the timed sleeper's look (poller::wait_begin, timed_sleeper.hpp).
  void wait_begin() noexcept { waiters_.fetch_add(1, memory_order_seq_cst); }
  // A wait ended: its handler readied the goroutine. Inside a poll, this spends one of
  // the poll's batch (see the top of the file).
  void wait_end() noexcept {
    waiters_.fetch_sub(1, memory_order_relaxed);
    if (budget_owner_ == this && --budget_ == 0) ioc_.stop();
  }
  bool has_waiters() const noexcept { return waiters_.load(memory_order_seq_cst) > 0; }

  // The right to drive the io_context (see the top of the file).
  bool try_lock() noexcept { return !busy_.load(memory_order_relaxed) && !busy_.exchange(true, memory_order_acquire); }
  void unlock() noexcept { busy_.store(false, memory_order_release); }

  // How many goroutines one poll or wait readies at most (see the top of the file).
  static constexpr std::size_t poll_batch = 16;

  // Run the handlers that are ready, up to a batch, without blocking, if nobody else is
  // polling. Returns how many ran. polling (p::polling of the P whose worker polls, or
  // null) is set while the handlers run: only once the poll lock is ours.
  std::size_t poll(atomic<bool>* polling = nullptr) noexcept;
  // Holding the lock: block until a handler runs, interrupt(), or deadline (never: no
  // limit), then run what else is ready, up to a batch; polling as for poll().
  std::size_t wait(std::int64_t deadline, atomic<bool>* polling) noexcept;
  // Wake a thread blocked in wait().
  void interrupt() noexcept;
  // Runtime stop, with nothing polling and before the sweep: destroy every pending
  // operation and queued handler, uninvoked (see the top of the file).
  void shutdown() noexcept { ioc_.shutdown(); }

  // When the io_context was last polled (nanotime), for sysmon.
  std::int64_t last_poll() const noexcept { return last_poll_.load(memory_order_relaxed); }

 private:
  template <class F>
  std::size_t batch(atomic<bool>* polling, F&& f) noexcept;
  // The poll in progress on this thread, and how many more completions it may run
  // (inline, so that wait_end's callers read them with no TLS wrapper call).
  static inline thread_local netpoll* budget_owner_ = nullptr;
  static inline thread_local std::size_t budget_ = 0;

  // asio::io_context, whose shutdown (protected in Asio's execution_context, run by its
  // destructor) the runtime runs earlier.
  struct context_t : asio::io_context {
    using asio::io_context::shutdown;
  };
  context_t ioc_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  atomic<bool> busy_{false};
  atomic<std::int64_t> waiters_{0};
  atomic<std::uint64_t> wakeups_{0};  // polls that completed something; written under the poll lock

 public:
  std::uint64_t wakeups() const noexcept { return wakeups_.load(memory_order_relaxed); }

 private:
  atomic<std::int64_t> last_poll_{0};
};

}  // namespace go::detail
