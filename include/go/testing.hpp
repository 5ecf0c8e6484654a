// go::testing: helpers for tests of code that uses gocoro (goleak's shape).
#pragma once

#include <chrono>
#include <string>

#include "go/runtime.hpp"

namespace go::testing {

// goleak's Find: the goroutines of rt still alive once `patience` has passed without
// all of them finishing (they may be on their way out), in the goroutine dump's format;
// empty if none are left. Call it from outside rt (after block_on returns, say).
[[nodiscard]] GO_API std::string leaked_goroutines(runtime& rt,
                                                   std::chrono::milliseconds patience = std::chrono::seconds(2));

// goleak's VerifyNone: throws go::error(invalid_argument), "found unexpected
// goroutines:" and the dump, if goroutines of rt are left.
GO_API void expect_no_leaks(runtime& rt, std::chrono::milliseconds patience = std::chrono::seconds(2));

}  // namespace go::testing
