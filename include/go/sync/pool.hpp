// go::pool<T>: Go's sync.Pool, a per-P cache of reusable objects.
#pragma once

#include <array>
#include <functional>
#include <optional>
#include <utility>
#include <vector>

#include "go/config.hpp"
#include "go/detail/atomic.hpp"
#include "go/detail/cacheline.hpp"
#include "go/detail/spinlock.hpp"

namespace go {

namespace detail {
// The running worker's P index, or -1 off the runtime.
GO_API int current_p_index() noexcept;
}  // namespace detail

// get() returns a cached object from this P's shard if there is one, else from another
// shard, else a new one from the constructor function. put() caches an object on this
// P's shard. Neither suspends. As in Go, a pool is a cache, not a free list you can
// count on: cached objects may be dropped (each shard keeps at most max_per_shard).
// Thread safety: get and put may be called concurrently from any goroutine or thread.
template <class T>
class pool {
 public:
  static constexpr std::size_t shards = 64;  // Ps beyond this share shards (hashed)
  static constexpr std::size_t max_per_shard = 256;

  explicit pool(std::function<T()> make) : make_(std::move(make)) {}
  pool(const pool&) = delete;
  pool& operator=(const pool&) = delete;

  T get() {
    std::size_t home = home_shard();
    for (std::size_t i = 0; i < shards; ++i) {  // this P's shard first, then steal
      if (auto v = take((home + i) % shards)) return std::move(*v);
      if (i == 0 && empty_hint_.load(detail::memory_order_relaxed)) break;  // nothing cached anywhere lately
    }
    return make_();
  }

  void put(T v) {
    shard& s = *shards_[home_shard()];
    {
      held h(s.lock);  // push_back or T's move may throw: the lock must still go
      if (s.items.size() < max_per_shard) s.items.push_back(std::move(v));
    }
    empty_hint_.store(false, detail::memory_order_relaxed);
  }

 private:
  struct held {  // a scope holding a shard's lock
    detail::spinlock& l;
    explicit held(detail::spinlock& lk) noexcept : l(lk) { l.lock(); }
    held(const held&) = delete;
    ~held() { l.unlock(); }
  };
  struct shard {
    detail::spinlock lock{detail::lock_rank::primitive};
    std::vector<T> items;  // protected by lock
  };
  static std::size_t home_shard() noexcept {
    int p = detail::current_p_index();
    return p < 0 ? shards - 1 : static_cast<std::size_t>(p) % shards;
  }
  std::optional<T> take(std::size_t i) {
    shard& s = *shards_[i];
    held h(s.lock);
    std::optional<T> v;
    if (!s.items.empty()) {
      v.emplace(std::move(s.items.back()));
      s.items.pop_back();
    }
    return v;
  }

  std::function<T()> make_;
  std::array<detail::cache_padded<shard>, shards> shards_;
  // A hint only (relaxed): "nothing was ever put". A stale value costs a scan or a new
  // object, never correctness.
  detail::atomic<bool> empty_hint_{true};
};

}  // namespace go
