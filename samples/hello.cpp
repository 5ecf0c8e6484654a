// hello: goroutines, join handles and a wait_group -- the first program to read.
#include <cstdio>
#include <go/go.hpp>
#include <numeric>
#include <vector>

// A goroutine is any function returning go::task<T>.
go::task<long> sum_range(long from, long to) {
  long s = 0;
  for (long i = from; i < to; ++i) s += i;
  co_return s;
}

go::task<int> hello_main() {
  std::printf("hello from goroutine %llu on %u procs\n",
              static_cast<unsigned long long>(go::this_goroutine::id()), go::gomaxprocs());

  // Fan out: one goroutine per slice, joined through their handles (Go would use a
  // channel or an errgroup; a join_handle gives the result directly).
  std::vector<go::join_handle<long>> parts;
  for (long i = 0; i < 8; ++i) parts.push_back(go::spawn(sum_range, i * 1'000'000, (i + 1) * 1'000'000));
  long total = 0;
  for (auto& h : parts) total += co_await h;
  std::printf("sum of 0..8e6 = %ld\n", total);

  // Fire and forget, then wait for all of them with a wait_group.
  go::wait_group wg;
  std::vector<int> squares(10);
  for (int i = 0; i < 10; ++i) {
    wg.add(1);
    auto square = [&wg, &squares, i]() -> go::task<void> {
      squares[i] = i * i;
      wg.done();
      co_return;
    };
    go::spawn(square);  // dropping the handle detaches; the lambda lives in the goroutine
  }
  co_await wg.wait();
  std::printf("squares sum to %d\n", std::accumulate(squares.begin(), squares.end(), 0));

  // Blocking work runs off the scheduler's threads.
  int answer = co_await go::blocking([] { return 42; });
  std::printf("blocking call answered %d\n", answer);
  co_return total == 31'999'996'000'000 ? 0 : 1;
}

int main() { return go::run(hello_main); }
