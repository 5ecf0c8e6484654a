// go::rwmutex: Go's sync.RWMutex.
#pragma once

#include <coroutine>
#include <cstdint>
#include <optional>
#include <utility>

#include "go/detail/atomic.hpp"
#include "go/detail/sema.hpp"
#include "go/sync/mutex.hpp"
#include "go/task.hpp"

namespace go {

// Suspends: `co_await rw.lock()` (writer) parks while readers or a writer hold it;
//   `co_await rw.rlock()` (reader) parks while a writer holds it *or waits for it*: a
//   waiting writer blocks new readers, so writers cannot starve. Both give guards.
//   rlock/runlock are one atomic add each when no writer is around, as in Go.
// Hand-over: the last reader to leave wakes the waiting writer; a writer's unlock
//   admits every reader that arrived while it held the lock, then the next writer
//   competes through the writers' mutex.
// Misuse: unlock of an unlocked rwmutex throws go::error(unlock_of_unlocked) ("sync:
//   Unlock of unlocked RWMutex"; "sync: RUnlock of unlocked RWMutex").
// Shutdown: a goroutine parked here is destroyed by runtime::stop and leaves the queue.
// Thread safety: all members may be called concurrently; lock/rlock need a goroutine.
class rwmutex {
 public:
  rwmutex() noexcept = default;
  rwmutex(const rwmutex&) = delete;
  rwmutex& operator=(const rwmutex&) = delete;

  template <bool Write>
  class [[nodiscard]] basic_guard {
   public:
    basic_guard() noexcept = default;
    explicit basic_guard(rwmutex& m) noexcept : m_(&m) {}
    basic_guard(basic_guard&& o) noexcept : m_(std::exchange(o.m_, nullptr)) {}
    basic_guard& operator=(basic_guard&& o) noexcept {
      if (this != &o) {
        reset();
        m_ = std::exchange(o.m_, nullptr);
      }
      return *this;
    }
    ~basic_guard() { reset(); }
    void unlock() { release()->template unlock_impl<Write>(); }
    rwmutex* release() noexcept { return std::exchange(m_, nullptr); }
    bool owns_lock() const noexcept { return m_ != nullptr; }

   private:
    void reset() {
      if (m_) std::exchange(m_, nullptr)->template unlock_impl<Write>();
    }
    rwmutex* m_ = nullptr;
  };
  using guard = basic_guard<true>;
  using read_guard = basic_guard<false>;

  class [[nodiscard]] rlock_awaiter {
   public:
    explicit rlock_awaiter(rwmutex& m) noexcept : m_(m) {}
    // Announce ourselves; a negative count means a writer holds or waits for it.
    bool await_ready() noexcept {
      return m_.reader_count_.fetch_add(1, detail::memory_order_acquire) + 1 >= 0;  // pairs with release in unlock()
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> h) {  // the writer's unlock wakes us
      sem_.emplace(m_.reader_sem_, detail::wait_reason::rwmutex_rlock);
      if (!sem_->await_suspend(h)) return false;
      detail::note_suspension(h, GO_SUSPENSION_PC());
      return true;
    }
    read_guard await_resume() noexcept { return read_guard(m_); }

   private:
    rwmutex& m_;
    std::optional<detail::sema::awaiter> sem_;  // only the slow path pays for a waiter
  };

  class [[nodiscard]] lock_awaiter {
   public:
    explicit lock_awaiter(rwmutex& m) noexcept : m_(m) {}
    bool await_ready() noexcept { return m_.try_lock(); }
    template <class Promise>
    bool await_suspend(std::coroutine_handle<Promise> h) {
      slow_ = m_.lock_slow();  // run inline, like any nested task
      if (!typename task<void>::awaiter{slow_.handle()}.await_suspend(h)) return false;
      detail::note_suspension(h, GO_SUSPENSION_PC());  // (unoptimized, the inner note is not ours)
      return true;
    }
    guard await_resume() {
      if (slow_.valid()) slow_.handle().promise().result_.get();
      return guard(m_);
    }

   private:
    rwmutex& m_;
    task<void> slow_;
  };

  lock_awaiter lock() noexcept { return lock_awaiter(*this); }
  rlock_awaiter rlock() noexcept { return rlock_awaiter(*this); }

  bool try_lock() noexcept {
    if (!w_.try_lock()) return false;
    std::int32_t none = 0;
    // acquire pairs with the release in runlock(): the readers' critical sections are done
    if (reader_count_.compare_exchange_strong(none, -max_readers, detail::memory_order_acquire,
                                              detail::memory_order_relaxed))
      return true;
    w_.unlock();
    return false;
  }
  bool try_rlock() noexcept {
    for (std::int32_t c = reader_count_.load(detail::memory_order_relaxed); c >= 0;)
      if (reader_count_.compare_exchange_weak(c, c + 1, detail::memory_order_acquire, detail::memory_order_relaxed))
        return true;
    return false;
  }
  void unlock() { unlock_impl<true>(); }
  void runlock() { unlock_impl<false>(); }

 private:
  // Go's rwmutexMaxReaders: a writer subtracts it, so a negative count means "writer".
  static constexpr std::int32_t max_readers = 1 << 30;

  template <bool Write>
  void unlock_impl() {
    if constexpr (Write) {
      unlock_writer();
    } else {
      // release pairs with the writer's acquire: our reads happen before its writes
      std::int32_t r = reader_count_.fetch_sub(1, detail::memory_order_release) - 1;
      if (r < 0) runlock_slow(r);
    }
  }
  GO_API void runlock_slow(std::int32_t r);
  GO_API void unlock_writer();
  GO_API task<void> lock_slow();

  mutex w_;  // held by the writer, or by one waiting for the readers to leave
  detail::atomic<std::int32_t> reader_count_{0};  // readers in or waiting, minus max_readers with a writer
  detail::atomic<std::int32_t> reader_wait_{0};   // readers a pending writer still waits for
  detail::sema writer_sem_;  // the pending writer parks here until the last reader leaves
  detail::sema reader_sem_;  // readers that came while a writer was around park here
};

}  // namespace go
