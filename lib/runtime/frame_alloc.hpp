// The frame allocator's per-P cache and central lists (tcmalloc's thread cache /
// central free list, sized for coroutine frames).
//
// Invariants:
//   - Every block, whoever frees it, was obtained from malloc with exactly its size
//     class's size, so any block of a class may serve any request of that class and
//     may go back to malloc from any thread.
//   - A frame_cache belongs to one P and is touched only by the worker holding it.
//   - A central list holds whole batches (batch_size blocks, linked through their first
//     word; batches linked through their second word), protected by its lock.
#pragma once

#include <cstddef>
#include <cstdint>

#include "go/detail/spinlock.hpp"

namespace go::detail {

// Classes of 64 bytes up to 2 KiB: a coroutine frame is a few dozen to a few hundred
// bytes, and 64-byte granularity keeps each block on its own cache lines.
inline constexpr std::size_t frame_class_step = 64;
inline constexpr std::size_t frame_classes = 32;  // 64 .. 2048
inline constexpr std::size_t frame_max_cached = frame_class_step * frame_classes;
// A P keeps up to 2 batches per class before handing one to the central list: enough
// to absorb bursts, small enough to bound what idle Ps hoard (128 KiB per class at 2 KiB).
inline constexpr std::uint32_t frame_batch = 32;

class frame_central {
 public:
  ~frame_central();
  void* take_batch(std::size_t cls) noexcept;       // a batch, or null
  void put_batch(std::size_t cls, void* batch) noexcept;

 private:
  struct list {
    spinlock lock{lock_rank::frame_central};
    void* batches = nullptr;  // protected by lock
    std::size_t count = 0;    // protected by lock
  };
  list lists_[frame_classes];
};

class frame_cache {
 public:
  explicit frame_cache(frame_central& central) noexcept : central_(central) {}
  ~frame_cache();  // returns every cached block to malloc
  void* allocate(std::size_t cls);
  void deallocate(void* p, std::size_t cls) noexcept;

 private:
  struct list {
    void* head = nullptr;
    std::uint32_t count = 0;
  };
  frame_central& central_;
  list lists_[frame_classes];
};

}  // namespace go::detail
