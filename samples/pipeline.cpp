// pipeline: generate -> square -> keep even -> sum, each stage a goroutine, connected by
// unbuffered channels (the Go blog's "Pipelines and cancellation", first half). The
// stages are in pipeline.hpp.
#include <cstdio>
#include <go/go.hpp>

#include "pipeline.hpp"

go::task<int> pipeline_main() {
  constexpr long n = 1000;
  auto evens = pipeline::start(n);
  long sum = 0;
  while (auto v = co_await evens.recv()) sum += *v;
  std::printf("sum of the even squares of 1..%ld = %ld\n", n, sum);
  co_return sum == 167167000 ? 0 : 1;
}

int main() { return go::run(pipeline_main); }
