// pipeline: generate -> square -> keep even -> sum, each stage a goroutine, connected by
// unbuffered channels (the Go blog's "Pipelines and cancellation", first half).
#include <cstdio>
#include <go/go.hpp>

go::task<void> generate(go::send_only<long> out, long n) {
  for (long i = 1; i <= n; ++i) co_await out.send(i);
  out.close();  // tells the next stage there is no more
}

go::task<void> square(go::recv_only<long> in, go::send_only<long> out) {
  while (auto v = co_await in.recv())  // Go's `for v := range in`
    co_await out.send(*v * *v);
  out.close();
}

go::task<void> keep_even(go::recv_only<long> in, go::send_only<long> out) {
  while (auto v = co_await in.recv())
    if (*v % 2 == 0) co_await out.send(*v);
  out.close();
}

go::task<int> pipeline_main() {
  constexpr long n = 1000;
  auto numbers = go::make_chan<long>();
  auto squares = go::make_chan<long>();
  auto evens = go::make_chan<long>();
  go::spawn(generate, numbers, n);
  go::spawn(square, numbers, squares);
  go::spawn(keep_even, squares, evens);

  long sum = 0;
  while (auto v = co_await evens.recv()) sum += *v;
  std::printf("sum of the even squares of 1..%ld = %ld\n", n, sum);
  co_return sum == 167167000 ? 0 : 1;
}

int main() { return go::run(pipeline_main); }
