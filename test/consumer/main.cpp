#include <cstdio>
#include <go/go.hpp>

int main() {
  int v = go::run([]() -> go::task<int> { co_return co_await go::spawn([]() -> go::task<int> { co_return 41; }) + 1; });
  if (v != 42) return 1;
  std::puts("consumer ok");
}
