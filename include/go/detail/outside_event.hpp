// outside_event: a one-shot event a thread outside the runtime blocks on.
#pragma once

#include <condition_variable>
#include <mutex>

namespace go::detail {

struct outside_event {
  std::mutex mu;
  std::condition_variable cv;
  bool set = false;

  void signal() {
    std::lock_guard lock(mu);  // notify under the lock: the waiter may free *this right after
    set = true;
    cv.notify_one();
  }
  void wait() {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return set; });
  }
};

}  // namespace go::detail
