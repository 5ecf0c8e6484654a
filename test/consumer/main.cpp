// An outside program built against the installed package, with or without NDEBUG: the
// inline parts of the headers (a spinlock in go::pool, a channel, a select, a mutex)
// must link against the library whatever the consumer's own checking mode.
#include <cstdio>
#include <go/go.hpp>

int main() {
  go::pool<int> pool([] { return 7; });
  pool.put(pool.get());
  int v = go::run([&]() -> go::task<int> {
    auto ch = go::make_chan<int>(1);
    go::mutex mu;
    {
      auto g = co_await mu.lock();
      co_await ch.send(co_await go::spawn([]() -> go::task<int> { co_return 41; }));
    }
    auto r = co_await go::select(go::recv(ch), go::default_case);
    co_return (r.index() == 0 ? *r.get<0>() : 0) + pool.get() - 6;
  });
  if (v != 42) return 1;
  std::puts("consumer ok");
}
