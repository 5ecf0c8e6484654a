// go::rwmutex: Go's sync.RWMutex.
#pragma once

#include <coroutine>
#include <cstdint>
#include <utility>

#include "go/detail/spinlock.hpp"
#include "go/detail/waitq.hpp"

namespace go {

// <!-- outline:rwmutex -->
// Suspends: `co_await rw.lock()` (writer) parks while readers or a writer hold it;
//   `co_await rw.rlock()` (reader) parks while a writer holds it *or waits for it*: a
//   waiting writer blocks new readers, so writers cannot starve. Both give guards.
// Hand-over: when the last reader leaves, the first waiting writer gets the lock; when
//   a writer unlocks, every reader waiting at that moment gets it, then writers again.
// Misuse: unlock of an unlocked rwmutex throws go::error(unlock_of_unlocked) ("sync:
//   Unlock of unlocked RWMutex"; "sync: RUnlock of unlocked RWMutex").
// Shutdown: a goroutine parked here is destroyed by runtime::stop and leaves the queue.
// Thread safety: all members may be called concurrently; lock/rlock need a goroutine.
// <!-- /outline -->
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
    void unlock() { std::exchange(m_, nullptr)->template unlock_impl<Write>(); }
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

  template <bool Write>
  class [[nodiscard]] lock_awaiter {
   public:
    explicit lock_awaiter(rwmutex& m) noexcept : m_(m) {}
    lock_awaiter(const lock_awaiter&) = delete;
    ~lock_awaiter() {
      if (w_.queued) m_.cancel(&w_, Write);
    }
    bool await_ready() const noexcept { return false; }
    bool await_suspend(std::coroutine_handle<> h) { return m_.acquire_or_park(&w_, Write, h); }
    basic_guard<Write> await_resume() noexcept { return basic_guard<Write>(m_); }

   private:
    rwmutex& m_;
    detail::waiter w_;
  };

  lock_awaiter<true> lock() noexcept { return lock_awaiter<true>(*this); }
  lock_awaiter<false> rlock() noexcept { return lock_awaiter<false>(*this); }
  GO_API bool try_lock();
  GO_API bool try_rlock();
  void unlock() { unlock_impl<true>(); }
  void runlock() { unlock_impl<false>(); }

 private:
  template <bool Write>
  void unlock_impl() {
    if constexpr (Write)
      unlock_writer();
    else
      unlock_reader();
  }
  GO_API void unlock_writer();
  GO_API void unlock_reader();
  GO_API bool acquire_or_park(detail::waiter* w, bool write, std::coroutine_handle<> h);
  GO_API void cancel(detail::waiter* w, bool write) noexcept;

  detail::spinlock lock_{detail::lock_rank::primitive};
  std::int64_t readers_ = 0;  // readers holding it; protected by lock_
  bool writer_ = false;       // a writer holds it; protected by lock_
  detail::waitq writers_;     // protected by lock_
  detail::waitq readers_q_;   // protected by lock_
};

}  // namespace go
