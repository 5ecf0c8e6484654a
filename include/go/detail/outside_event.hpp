// outside_event: a one-shot event a thread outside the runtime blocks on.
#pragma once

#include <condition_variable>
#include <mutex>

#include "go/detail/os_mutex.hpp"

namespace go::detail {

struct outside_event {
  os_mutex mu{lock_rank::event};
  std::condition_variable_any cv;
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
