// select_state: what the waiters of one blocked select share (Go's g.selectDone plus
// the index of the case that fired).
//
// Invariant: winner goes from -1 to a case index exactly once. A waker takes a select
// waiter only after winning that CAS, so exactly one case completes even when several
// channels become ready at once.
#pragma once

#include <cstdint>

#include "go/detail/atomic.hpp"

namespace go::detail {

struct select_state {
  atomic<std::int32_t> winner{-1};

  // Called by a waker holding the lock of the case's channel. acq_rel: the winner's
  // effects on the case (the value it moves) are published by the channel lock and the
  // ready(); the CAS itself only needs to be one total order of claims.
  bool try_win(std::uint16_t case_index) noexcept {
    std::int32_t expected = -1;
    return winner.compare_exchange_strong(expected, case_index, memory_order_acq_rel, memory_order_relaxed);
  }
};

}  // namespace go::detail
