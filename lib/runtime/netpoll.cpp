// The runtime's io_context and how it is polled; see netpoll.hpp.
#include "runtime/netpoll.hpp"

#include <sys/resource.h>

#include <asio/post.hpp>
#include <chrono>
#include <cstdio>
#include <exception>

#include "go/detail/timer.hpp"

namespace go::detail {

namespace {
// Go (since 1.19) raises the soft limit on open files to the hard limit at start-up: a
// server with thousands of connections should not fail at 1024. Done once, when the
// first runtime starts doing I/O.
void raise_fd_limit() noexcept {
  static const bool done = [] {
    rlimit r{};
    if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur < r.rlim_max) {
      r.rlim_cur = r.rlim_max;
      setrlimit(RLIMIT_NOFILE, &r);
    }
    return true;
  }();
  (void)done;
}

// Handlers only store results and ready goroutines; an exception out of the io_context
// is an Asio internal failure. Report it and go on, as Go's netpoll would.
template <class F>
std::size_t guarded(F&& f) noexcept {
  try {
    return f();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "go: netpoll: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "go: netpoll: unknown exception\n");
  }
  return 1;  // something ran
}
}  // namespace

netpoll::netpoll() : work_(asio::make_work_guard(ioc_)) { raise_fd_limit(); }

// Run at most `limit` ready handlers, one epoll_wait at most in the common case (see
// poll_batch in netpoll.hpp).
std::size_t netpoll::run_ready(std::size_t limit) {
  std::size_t n = 0;
  while (n < limit && ioc_.poll_one()) ++n;
  return n;
}

std::size_t netpoll::poll() noexcept {
  if (!try_lock()) return 0;
  last_poll_.store(nanotime(), memory_order_relaxed);
  std::size_t n = guarded([&] { return run_ready(poll_batch); });
  if (n > 0) wakeups_.store(wakeups_.load(memory_order_relaxed) + 1, memory_order_relaxed);  // under the poll lock
  unlock();
  return n;
}

std::size_t netpoll::wait(std::int64_t deadline) noexcept {
  std::size_t n = guarded([&]() -> std::size_t {
    if (deadline == never) return ioc_.run_one();
    std::int64_t left = deadline - nanotime();
    if (left <= 0) return 0;
    return ioc_.run_one_for(std::chrono::nanoseconds(left));
  });
  last_poll_.store(nanotime(), memory_order_relaxed);
  if (n > 0) n += guarded([&] { return run_ready(poll_batch - 1); });
  if (n > 0) wakeups_.store(wakeups_.load(memory_order_relaxed) + 1, memory_order_relaxed);  // under the poll lock
  return n;
}

void netpoll::interrupt() noexcept {
  try {
    asio::post(ioc_, [] {});
  } catch (...) {
    // Out of memory: the poller wakes at its deadline or with the next completion.
  }
}

}  // namespace go::detail
