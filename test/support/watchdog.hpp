// watchdog: the bound of a liveness test. A test that waits for something the runtime
// must make happen (a wakeup, a timer, a ready) hangs when the runtime fails it; under
// this bound it fails instead, within the bound, with a message naming the test and the
// goroutine dump (what each goroutine waits for), rather than being killed by ctest's
// timeout without a word. The bound only stops a hang: it times nothing.
//
// Every GO_TEST_CASE runs under one (go_test.hpp). The bound is GO_TEST_BOUND seconds
// if set, else 120 s times GO_TEST_SCALE: far above any case's run time under the
// sanitizers, far below ctest's 600 s.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <go/runtime.hpp>
#include <mutex>
#include <string>
#include <thread>

namespace go_test {

inline std::chrono::seconds liveness_bound() {
  if (const char* b = std::getenv("GO_TEST_BOUND"))
    if (long v = std::strtol(b, nullptr, 10); v > 0) return std::chrono::seconds(v);
  const char* s = std::getenv("GO_TEST_SCALE");
  const long scale = s && std::strtol(s, nullptr, 10) > 0 ? std::strtol(s, nullptr, 10) : 1;
  return std::chrono::seconds(120 * scale);
}

class watchdog {
 public:
  // Watch rt while the test `what` runs; past the bound, print and abort.
  watchdog(go::runtime& rt, std::string what) : rt_(rt), what_(std::move(what)), thread_([this] { watch(); }) {}
  ~watchdog() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  watchdog(const watchdog&) = delete;
  watchdog& operator=(const watchdog&) = delete;

 private:
  void watch() {
    const auto bound = liveness_bound();
    std::unique_lock lock(mu_);
    if (cv_.wait_for(lock, bound, [&] { return done_; })) return;
    const std::string dump = go::dump_goroutines(rt_);
    std::fprintf(stderr, "go_test: liveness bound of %lld s passed in %s: it never finished. The goroutines:\n%s\n",
                 static_cast<long long>(bound.count()), what_.c_str(), dump.c_str());
    std::fflush(stderr);
    std::abort();
  }

  go::runtime& rt_;
  const std::string what_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;  // under mu_
  std::thread thread_;  // last: starts once everything above exists
};

}  // namespace go_test
