// counted: a value type that counts its live instances, for lifetime tests.
#pragma once

#include <atomic>

namespace go_test {

struct counted {
  static inline std::atomic<long> live{0};
  int value = 0;
  explicit counted(int v = 0) : value(v) { ++live; }
  counted(const counted& o) : value(o.value) { ++live; }
  counted(counted&& o) noexcept : value(o.value) { ++live; }
  counted& operator=(const counted&) = default;
  counted& operator=(counted&&) = default;
  ~counted() { --live; }
};

}  // namespace go_test
