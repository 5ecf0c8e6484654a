// The stages of the pipeline sample: generate -> square -> keep even. Each is a
// goroutine body that reads one channel, writes the next, and closes it when done.
// bench/chan_bench.cpp and test/unit/chan_programs_test.cpp run these same stages.
#pragma once

#include <go/go.hpp>

namespace pipeline {

inline go::task<void> generate(go::send_only<long> out, long n) {
  for (long i = 1; i <= n; ++i) co_await out.send(i);
  out.close();  // tells the next stage there is no more
}

inline go::task<void> square(go::recv_only<long> in, go::send_only<long> out) {
  while (auto v = co_await in.recv())  // Go's `for v := range in`
    co_await out.send(*v * *v);
  out.close();
}

inline go::task<void> keep_even(go::recv_only<long> in, go::send_only<long> out) {
  while (auto v = co_await in.recv())
    if (*v % 2 == 0) co_await out.send(*v);
  out.close();
}

// Start the three stages for 1..n and return the channel of results.
inline go::recv_only<long> start(long n) {
  auto numbers = go::make_chan<long>();
  auto squares = go::make_chan<long>();
  auto evens = go::make_chan<long>();
  go::spawn(generate, numbers, n);
  go::spawn(square, numbers, squares);
  go::spawn(keep_even, squares, evens);
  return evens;
}

}  // namespace pipeline
