// The frame allocator: per-P caches over central batch lists over malloc.
#include "runtime/frame_alloc.hpp"

#include <cstdlib>
#include <new>

#include "go/detail/frame_alloc.hpp"
#include "runtime/sched.hpp"

namespace go::detail {

namespace {
// Central keeps at most this many batches per class (256 x 32 blocks); beyond that,
// frames go back to malloc so a burst does not pin its peak forever.
constexpr std::size_t central_max_batches = 256;

void*& next_of(void* block) noexcept { return *static_cast<void**>(block); }
// Blocks are at least 16 bytes: room for both links.
void*& batch_next_of(void* block) noexcept { return static_cast<void**>(block)[1]; }

void* malloc_class(std::size_t cls) {
  void* p = std::malloc(frame_class_size(cls));
  if (!p) throw std::bad_alloc();
  return p;
}

void free_list(void* head) noexcept {
  while (head) {
    void* next = next_of(head);
    std::free(head);
    head = next;
  }
}
}  // namespace

void* allocate_frame(std::size_t size) {
#ifdef GO_FRAME_ALLOC_MALLOC
  return ::operator new(size);  // sanitizer builds: ASan sees every frame's use-after-free
#endif
  std::size_t cls = frame_class_of(size);
  if (cls >= frame_classes) return ::operator new(size);
  if (p* pp = tls().pp) return pp->frames.allocate(cls);
  return malloc_class(cls);
}

void deallocate_frame(void* block, std::size_t size) noexcept {
  if (!block) return;
#ifdef GO_FRAME_ALLOC_MALLOC
  return ::operator delete(block);
#endif
  std::size_t cls = frame_class_of(size);
  if (cls >= frame_classes) return ::operator delete(block);
  if (p* pp = tls().pp) return pp->frames.deallocate(block, cls);
  std::free(block);
}

void* frame_cache::allocate(std::size_t cls) {
  list& l = lists_[cls];
  if (!l.head) {
    l.head = central_.take_batch(cls);
    if (!l.head) {
      // The central list is empty too, as it is all through a spawn storm: get a whole
      // batch from malloc, so this P comes back to the central lock once per batch
      // instead of once per frame. Linked in malloc's order, so frames used one after
      // another lie one after another.
      void** tail = &l.head;
      std::uint32_t n = 0;
      for (; n < frame_batch; ++n) {
        void* block = std::malloc(frame_class_size(cls));
        if (!block) break;
        *tail = block;
        tail = &next_of(block);
      }
      *tail = nullptr;
      if (n == 0) throw std::bad_alloc();
      l.count = n;
    } else {
      l.count = frame_batch;
    }
  }
  void* block = l.head;
  l.head = next_of(block);
  --l.count;
  return block;
}

void frame_cache::deallocate(void* block, std::size_t cls) noexcept {
  list& l = lists_[cls];
  next_of(block) = l.head;
  l.head = block;
  if (++l.count < 2 * frame_batch) return;
  // Hand the newest batch to the central list, keep the rest.
  void* last = l.head;
  for (std::uint32_t i = 1; i < frame_batch; ++i) last = next_of(last);
  void* batch = l.head;
  l.head = next_of(last);
  next_of(last) = nullptr;
  l.count -= frame_batch;
  central_.put_batch(cls, batch);
}

frame_cache::~frame_cache() {
  for (list& l : lists_) free_list(l.head);
}

void* frame_central::take_batch(std::size_t cls) noexcept {
  list& l = lists_[cls];
  l.lock.lock();
  void* batch = l.batches;
  if (batch) {
    l.batches = batch_next_of(batch);
    --l.count;
  }
  l.lock.unlock();
  return batch;
}

void frame_central::put_batch(std::size_t cls, void* batch) noexcept {
  list& l = lists_[cls];
  l.lock.lock();
  if (l.count < central_max_batches) {
    batch_next_of(batch) = l.batches;
    l.batches = batch;
    ++l.count;
    batch = nullptr;
  }
  l.lock.unlock();
  free_list(batch);
}

frame_central::~frame_central() {
  for (list& l : lists_) {
    for (void* b = l.batches; b;) {
      void* next = batch_next_of(b);
      free_list(b);
      b = next;
    }
  }
}

}  // namespace go::detail
