// The frame allocator: coroutine frames and goroutine control blocks come from per-P
// size-class free lists (lib/runtime/frame_alloc.cpp); off the runtime, from malloc.
#pragma once

#include <cstddef>

#include "go/config.hpp"

namespace go::detail {

// Same contract as ::operator new / sized ::operator delete: deallocate_frame must get
// the size that was passed to allocate_frame. Any thread may free any block.
[[nodiscard]] GO_API void* allocate_frame(std::size_t size);
GO_API void deallocate_frame(void* p, std::size_t size) noexcept;

// Mix-in giving a type (a promise, a goroutine block) the frame allocator.
struct frame_allocated {
  static void* operator new(std::size_t size) { return allocate_frame(size); }
  static void operator delete(void* p, std::size_t size) noexcept { deallocate_frame(p, size); }
};

}  // namespace go::detail
