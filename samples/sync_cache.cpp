// sync_cache: the sync package the way services use it -- a cache behind an rwmutex
// (many readers, few writers), a semaphore bounding how many slow loads run at once,
// a once for lazy setup, and wg.go to wait for the request handlers.
#include <cstdio>
#include <go/go.hpp>
#include <map>
#include <string>

class cache {
 public:
  explicit cache(int max_loads) : loads_(max_loads) {}

  go::task<std::string> get(int key) {
    {
      auto r = co_await mu_.rlock();  // readers share the lock
      if (auto it = data_.find(key); it != data_.end()) co_return it->second;
    }
    co_await loads_.acquire();  // at most max_loads slow loads at once
    std::string value = co_await go::blocking([key] { return "value-" + std::to_string(key); });
    loads_.release();
    auto w = co_await mu_.lock();  // a writer excludes everyone
    ++misses_;
    co_return data_.try_emplace(key, std::move(value)).first->second;
  }

  int misses() const { return misses_; }

 private:
  go::rwmutex mu_;
  std::map<int, std::string> data_;  // protected by mu_
  int misses_ = 0;                   // protected by mu_ (written under the write lock)
  go::semaphore loads_;
};

go::task<int> cache_main() {
  go::once setup;
  cache c(2);
  go::wait_group handlers;
  go::mutex out_mu;
  long total_length = 0;  // protected by out_mu
  for (int req = 0; req < 100; ++req)
    handlers.go([&, req]() -> go::task<void> {
      auto init = setup.call([] { std::puts("setting up once"); });
      co_await init;
      std::string v = co_await c.get(req % 10);  // 10 distinct keys, requested 10 times each
      auto lock = co_await out_mu.lock();
      total_length += static_cast<long>(v.size());
    });
  co_await handlers.wait();
  std::printf("100 requests, %d cache misses, %ld bytes served\n", c.misses(), total_length);
  co_return c.misses() >= 10 ? 0 : 1;  // each key loaded at least once (twice if two raced)
}

int main() { return go::run(cache_main); }
