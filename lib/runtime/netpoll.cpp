// The poller thread; see netpoll.hpp.
#include "runtime/netpoll.hpp"

#include <pthread.h>
#include <sys/resource.h>

#include <cstdio>
#include <exception>

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
}  // namespace

netpoll::netpoll(const std::string& thread_name) : work_(asio::make_work_guard(ioc_)) {
  raise_fd_limit();
  thread_ = std::thread([this, name = thread_name.substr(0, 15)] {
    pthread_setname_np(pthread_self(), name.c_str());
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (const std::exception& e) {
        // Handlers only store results and ready goroutines; an exception here is an
        // Asio internal failure. Report it and keep polling, as Go's netpoll would.
        std::fprintf(stderr, "go: netpoll: %s\n", e.what());
      }
    }
  });
}

netpoll::~netpoll() { stop(); }

void netpoll::stop() noexcept {
  if (!thread_.joinable()) return;
  work_.reset();
  ioc_.stop();
  thread_.join();
}

}  // namespace go::detail
