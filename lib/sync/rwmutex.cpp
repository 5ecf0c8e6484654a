// go::rwmutex (Go's sync.RWMutex algorithm, rwmutex.go).
//
// reader_count_ counts readers inside or waiting. A writer, holding w_, subtracts
// max_readers: from then on new readers see a negative count and park on reader_sem_,
// and the writer waits on writer_sem_ for the r readers that were inside (recorded in
// reader_wait_; each leaving reader decrements it, the last one wakes the writer). The
// writer's unlock adds max_readers back and releases reader_sem_ once for every reader
// that arrived meanwhile. A counting semaphore, not a wait list, because a release may
// come before the matching park.
#include "go/sync/rwmutex.hpp"

#include "go/error.hpp"

namespace go {

void rwmutex::runlock_slow(std::int32_t r) {
  if (r + 1 == 0 || r + 1 == -max_readers) {
    reader_count_.fetch_add(1, detail::memory_order_relaxed);  // undo: nothing was held
    throw error(errc::unlock_of_unlocked, "sync: RUnlock of unlocked RWMutex");
  }
  // A writer is pending: the last of the readers it waits for wakes it.
  if (reader_wait_.fetch_sub(1, detail::memory_order_acq_rel) - 1 == 0) writer_sem_.release(1);
}

task<void> rwmutex::lock_slow() {
  auto w = co_await w_.lock();  // first, exclude other writers
  w.release();                  // held until unlock_writer()
  // Announce the writer; r readers are inside.
  std::int32_t r = reader_count_.fetch_sub(max_readers, detail::memory_order_acq_rel);
  if (r != 0 && reader_wait_.fetch_add(r, detail::memory_order_acq_rel) + r != 0) {
    auto wait_readers = writer_sem_.acquire(detail::wait_reason::rwmutex_lock);
    co_await wait_readers;
  }
}

void rwmutex::unlock_writer() {
  // release pairs with the acquire of readers that get in after us
  std::int32_t r = reader_count_.fetch_add(max_readers, detail::memory_order_release) + max_readers;
  if (r >= max_readers) {
    reader_count_.fetch_sub(max_readers, detail::memory_order_relaxed);  // undo: no writer held it
    throw error(errc::unlock_of_unlocked, "sync: Unlock of unlocked RWMutex");
  }
  if (r > 0) reader_sem_.release(static_cast<std::uint32_t>(r));  // admit the readers that queued
  w_.unlock();
}

}  // namespace go
