// A pipeline with the most common Go bug: a stage that never closes its output, so the
// consumer waits forever. Run it as it is and gocoro reports what Go would:
//
//   $ build/samples/stuck
//   fatal error: all goroutines are asleep - deadlock!
//
//   goroutine 1 [chan receive]:
//   ...
//
// (exit status 2). `stuck --dump` prints the goroutines while they run instead, then
// fixes the bug and finishes; `stuck --fixed` closes the channel and exits 0. Ctrl-backslash
// (SIGQUIT) prints the same dump at any time. docs/observability.md walks through it.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include <go/go.hpp>

namespace {

bool close_output = false;

go::task<void> produce(go::send_only<int> out, int n) {
  for (int i = 1; i <= n; ++i) co_await out.send(i);
  if (close_output) out.close();  // the bug: without this, sum() never sees the end
}

go::task<void> square(go::recv_only<int> in, go::send_only<int> out) {
  while (auto v = co_await in.recv()) co_await out.send(*v * *v);
  out.close();
}

go::task<long> sum(go::recv_only<int> in) {
  long total = 0;
  while (auto v = co_await in.recv()) total += *v;
  co_return total;
}

go::task<int> main_task(bool dump) {
  auto numbers = go::make_chan<int>();
  auto squares = go::make_chan<int>();
  go::spawn(produce, numbers, 100);
  go::spawn(square, numbers, squares);
  if (dump) {
    // Once the producer and the squarer are both blocked on their sends, show them.
    std::string d;
    for (int tries = 0; tries < 1'000'000; ++tries) {
      d = go::dump_goroutines();
      std::size_t sends = 0;
      for (std::size_t at = 0; (at = d.find("[chan send]", at)) != std::string::npos; ++at) ++sends;
      if (sends == 2) break;
      co_await go::yield();
    }
    std::cout << d;
    close_output = true;
  }
  long total = co_await sum(squares);
  std::printf("sum of squares of 1..100 = %ld\n", total);
  co_return total == 338350 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const bool dump = argc > 1 && std::strcmp(argv[1], "--dump") == 0;
  close_output = argc > 1 && std::strcmp(argv[1], "--fixed") == 0;
  return go::run(main_task, dump);
}
