// select_core: the non-template part of select (Go's selectgo), over cases given as
// arrays by the typed front ends in select.hpp. lib/select.cpp has the protocol.
#pragma once

#include <coroutine>
#include <cstdint>

#include "go/config.hpp"
#include "go/detail/chan_core.hpp"
#include "go/detail/select_state.hpp"

namespace go::detail {

class select_core {
 public:
  // cases[i] and waiters[i] belong together; order has room for 2 * n entries.
  void bind(scase* cases, chan_waiter* waiters, std::uint16_t* order, std::uint16_t n, bool has_default) noexcept {
    cases_ = cases;
    waiters_ = waiters;
    order_ = order;
    n_ = n;
    has_default_ = has_default;
  }

  // From await_suspend. Completes a ready case, or the default; else enqueues on every
  // channel and parks (returns true). Throws go::error(closed_channel) for a send case
  // on a closed channel, as Go panics.
  GO_API bool start(std::coroutine_handle<> h);
  // From await_resume after a park: take the other waiters off their queues.
  GO_API void finish();
  // From the awaiter's destructor: leave every queue (the goroutine is being destroyed).
  GO_API void cancel() noexcept;

  static constexpr std::uint16_t none = 0xffff;
  // The case that completed: 0..n-1, n for the default case, none if none did.
  std::uint16_t index() const noexcept { return index_; }
  // For a receive case: whether a value arrived (false: the channel was closed).
  bool received() const noexcept { return received_; }

 private:
  std::uint16_t lock_all() noexcept;  // returns how many distinct channels were locked
  void unlock_all() noexcept;
  void check_all() const noexcept;
  static bool unlock_all_fn(g*, void* self) noexcept;

  scase* cases_ = nullptr;
  chan_waiter* waiters_ = nullptr;
  std::uint16_t* order_ = nullptr;  // [0, n): poll order; [n, 2n): lock order
  std::uint16_t n_ = 0;
  std::uint16_t nlocked_ = 0;
  std::uint16_t index_ = none;
  bool has_default_ = false;
  bool parked_ = false;
  bool received_ = false;
  select_state state_;
};

}  // namespace go::detail
