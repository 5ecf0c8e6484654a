// cache_padded<T>: keeps a hot shared field on its own cache line(s).
#pragma once

#include <cstddef>

namespace go::detail {

// 128 bytes, not 64: Intel's spatial prefetcher pulls cache lines in adjacent pairs, so
// two fields 64 bytes apart still false-share (Intel optimization manual, 2.5.5.4; the
// same number crossbeam's and tokio's CachePadded use on x86_64 and aarch64).
inline constexpr std::size_t cacheline_size = 128;

template <class T>
struct alignas(cacheline_size) cache_padded {
  T value;
  T* operator->() noexcept { return &value; }
  const T* operator->() const noexcept { return &value; }
  T& operator*() noexcept { return value; }
  const T& operator*() const noexcept { return value; }
};

}  // namespace go::detail
