// event: a one-waiter signal built on detail::park/ready, for tests that need a
// goroutine to wait for another before the channel issue lands. White box: it follows
// the park rules of go/detail/park.hpp.
#pragma once

#include <coroutine>
#include <go/detail/park.hpp>
#include <go/detail/spinlock.hpp>

namespace go_test {

class event {
 public:
  // Wait until signaled, then reset.
  auto wait() {
    struct awaiter {
      event& e;
      bool await_ready() const noexcept { return false; }
      bool await_suspend(std::coroutine_handle<> h) {
        go::detail::g* gp = go::detail::current_g_or_throw("event::wait");
        e.lock_.lock();
        if (e.set_) {
          e.set_ = false;
          e.lock_.unlock();
          return false;
        }
        e.waiter_ = gp;
        go::detail::park(gp, h, go::detail::wait_reason::park, &unlock, &e.lock_);
        return true;
      }
      void await_resume() const noexcept {}
    };
    return awaiter{*this};
  }

  void signal() {
    lock_.lock();
    go::detail::g* gp = waiter_;
    waiter_ = nullptr;
    if (!gp) set_ = true;
    lock_.unlock();
    if (gp) go::detail::ready(gp);
  }

 private:
  static bool unlock(go::detail::g*, void* l) noexcept {
    static_cast<go::detail::spinlock*>(l)->unlock();
    return true;
  }
  go::detail::spinlock lock_{go::detail::lock_rank::primitive};
  go::detail::g* waiter_ = nullptr;
  bool set_ = false;
};

}  // namespace go_test
