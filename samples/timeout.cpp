// timeout: select with a timeout (Go by Example's "Timeouts"), a deadline for a whole
// request (context.WithTimeout), and a ticker driving periodic work until a timer ends it.
#include <cstdio>
#include <go/go.hpp>

using namespace std::chrono_literals;

// A slow "service": answers after `delay`.
go::recv_only<std::string> call(std::string what, std::chrono::milliseconds delay) {
  auto reply = go::make_chan<std::string>(1);  // buffered: the sender never blocks
  auto service = [reply, what, delay]() -> go::task<void> {
    co_await go::sleep(delay);
    co_await reply.send(what + " done");
  };
  go::spawn(service);
  return reply;
}

go::task<int> timeout_main() {
  int failures = 0;

  // 1. select with a timeout: the slow reply loses to go::after.
  auto r = co_await go::select(go::recv(call("slow", 200ms)), go::recv(go::after(20ms)));
  if (r.is<1>())
    std::printf("slow: timeout\n");
  else
    ++failures;

  // 2. A fast reply wins.
  auto fast = co_await go::select(go::recv(call("fast", 1ms)), go::recv(go::after(1s)));
  if (fast.is<0>())
    std::printf("fast: %s\n", fast.get<0>()->c_str());
  else
    ++failures;

  // 3. A deadline for a whole request: every wait under ctx gives up with its error.
  auto [ctx, cancel] = go::with_timeout(go::background(), 30ms);
  try {
    auto v = co_await call("request", 500ms).recv(ctx);
    std::printf("request: %s (unexpected)\n", v->c_str());
    ++failures;
  } catch (const go::error& e) {
    std::printf("request: %s\n", e.what());  // "context deadline exceeded"
    if (e.code() != go::errc::deadline_exceeded) ++failures;
  }
  cancel();  // releases the context (Go's `defer cancel()`)

  // 4. A ticker until a timer says stop.
  go::ticker tick(5ms);
  go::timer stop(28ms);
  int ticks = 0;
  for (bool running = true; running;) {
    auto t = co_await go::select(go::recv(tick.c()), go::recv(stop.c()));
    if (t.is<0>())
      ++ticks;
    else
      running = false;
  }
  std::printf("ticks before the timer: %d\n", ticks);
  if (ticks < 1) ++failures;
  co_return failures;
}

int main() { return go::run(timeout_main); }
