// go::clock: the clock of every deadline and timer (Go's monotonic time).
#pragma once

#include <chrono>

namespace go {
using clock = std::chrono::steady_clock;
}  // namespace go
