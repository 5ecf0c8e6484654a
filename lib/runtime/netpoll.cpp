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

// Runs f, which runs handlers, with a budget of poll_batch completions: wait_end() of the
// one that spends it stops the io_context, which ends f's poll() or run_one() there.
// Nobody else can be inside the io_context (the poll lock), so the stop is ours alone;
// it is undone before the lock is. Counts the polls that ran something (wakeups_).
// *polling is true meanwhile (relaxed: a hint for thieves, see p.hpp).
template <class F>
std::size_t netpoll::batch(atomic<bool>* polling, F&& f) noexcept {
  budget_owner_ = this;
  budget_ = poll_batch;
  if (polling) polling->store(true, memory_order_relaxed);
  const std::size_t n = guarded(std::forward<F>(f));
  if (polling) polling->store(false, memory_order_relaxed);
  budget_owner_ = nullptr;
  if (budget_ == 0) ioc_.restart();
  if (n > 0) wakeups_.store(wakeups_.load(memory_order_relaxed) + 1, memory_order_relaxed);  // under the poll lock
  return n;
}

std::size_t netpoll::poll(atomic<bool>* polling) noexcept {
  if (!try_lock()) return 0;
  last_poll_.store(nanotime(), memory_order_relaxed);
  const std::size_t n = batch(polling, [&] { return ioc_.poll(); });
  unlock();
  return n;
}

std::size_t netpoll::wait(std::int64_t deadline, atomic<bool>* polling) noexcept {
  return batch(polling, [&]() -> std::size_t {
    std::size_t k = 0;
    if (deadline == never) {
      k = ioc_.run_one();
    } else if (std::int64_t left = deadline - nanotime(); left > 0) {
      k = ioc_.run_one_for(std::chrono::nanoseconds(left));
    }
    last_poll_.store(nanotime(), memory_order_relaxed);
    if (k > 0 && budget_ > 0) k += ioc_.poll();  // what else is ready, within the batch
    return k;
  });
}

void netpoll::interrupt() noexcept {
  try {
    asio::post(ioc_, [] {});
  } catch (...) {
    // Out of memory: the poller wakes at its deadline or with the next completion.
  }
}

}  // namespace go::detail
