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
//   - Sanitizer builds (GO_FRAME_ALLOC_MALLOC) bypass the caches: every frame is its own
//     malloc, so ASan sees each use-after-free.
//
// Measured and rejected: 64-byte-aligned blocks carved from slabs, which end false
// sharing between hot frames on different Ps (4x4 producers/consumers on one channel:
// 1.3x Go instead of 1.6x), but make queued goroutines cost 128 bytes instead of 96,
// and a spawn storm's peak RSS went from 0.09x to 0.93x of Go's (docs/benchmark-notes.md).
#pragma once

#include <cstddef>
#include <cstdint>

#include "go/detail/spinlock.hpp"

namespace go::detail {

// Size classes: a grid of 16-byte steps up to 256 bytes, where most frames and goroutine
// blocks fall (a goroutine block is 88 bytes, a small lambda's frame 56), then 64-byte
// steps up to 2 KiB; each class is 8 bytes over its grid step. glibc's malloc cuts chunks
// of 16-byte multiples with an 8-byte header, so a block of 16k + 8 bytes fills its chunk
// exactly: an 88-byte block takes a 96-byte chunk, where the grid's own 96 would take 112.
// Larger requests go to operator new.
inline constexpr std::size_t frame_small_step = 16, frame_small_max = 256;
inline constexpr std::size_t frame_large_step = 64, frame_large_max = 2048;
inline constexpr std::size_t frame_slack = 8;  // malloc's chunk header
inline constexpr std::size_t frame_classes =
    frame_small_max / frame_small_step + (frame_large_max - frame_small_max) / frame_large_step;

constexpr std::size_t frame_class_of(std::size_t size) noexcept {
  const std::size_t grid = size > frame_slack ? size - frame_slack : 1;
  if (grid <= frame_small_max) return (grid - 1) / frame_small_step;
  return frame_small_max / frame_small_step + (grid - frame_small_max - 1) / frame_large_step;
}
constexpr std::size_t frame_class_size(std::size_t cls) noexcept {
  constexpr std::size_t small = frame_small_max / frame_small_step;
  return frame_slack +
         (cls < small ? (cls + 1) * frame_small_step : frame_small_max + (cls - small + 1) * frame_large_step);
}
static_assert(frame_class_size(frame_class_of(1)) == 24 && frame_class_size(frame_class_of(24)) == 24);
static_assert(frame_class_size(frame_class_of(88)) == 88 && frame_class_size(frame_class_of(89)) == 104);
static_assert(frame_class_size(frame_class_of(265)) == 328);
static_assert(frame_class_of(frame_large_max + frame_slack) == frame_classes - 1 &&
              frame_class_of(frame_large_max + frame_slack + 1) == frame_classes);
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
