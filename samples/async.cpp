// async: futures the Go way. async(f) starts f in a goroutine and returns a channel that
// will hold its one outcome (a value or the exception it threw). The channel has one
// slot, so the goroutine finishes and goes away even if nobody ever waits for it, and a
// wait is an ordinary channel receive: it can sit in a select beside a timeout.
//   auto fut = async(fetch);                       // go func() { ch <- fetch() }()
//   auto r = co_await go::select(go::recv(fut), go::recv(go::after(100ms)));
// Checks: a fast call's value, a slow call that times out (and whose goroutine still
// finishes), an exception that travels to the waiter, and ten calls gathered in parallel.
#include <cstdio>
#include <exception>
#include <go/go.hpp>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <variant>

using namespace std::chrono_literals;

template <class T>
struct task_value;
template <class T>
struct task_value<go::task<T>> {
  using type = T;
};

// What async's channel carries: the value, or the exception f threw.
template <class T>
using outcome = std::variant<T, std::exception_ptr>;

template <class F>
auto async(F f) {
  using T = typename task_value<std::invoke_result_t<F&>>::type;
  auto ch = go::make_chan<outcome<T>>(1);
  auto body = [f = std::move(f), ch]() mutable -> go::task<void> {
    try {
      T v = co_await f();
      (void)ch.try_send(outcome<T>(std::move(v)));  // the one slot is free: never blocks
    } catch (...) {
      (void)ch.try_send(outcome<T>(std::current_exception()));
    }
  };
  go::spawn(std::move(body));
  return go::recv_only<outcome<T>>(ch);
}

// The value, or the exception rethrown.
template <class T>
T get(outcome<T>&& o) {
  if (auto* e = std::get_if<std::exception_ptr>(&o)) std::rethrow_exception(*e);
  return std::get<T>(std::move(o));
}

go::task<std::string> lookup(std::string name, std::chrono::milliseconds latency) {
  co_await go::sleep(latency);
  if (name.empty()) throw std::invalid_argument("lookup: empty name");
  co_return "addr-of-" + name;
}

go::task<int> async_main() {
  int bad = 0;
  std::atomic<int> finished{0};

  // A fast call, awaited with a generous timeout.
  auto fast = async([] { return lookup("db", 1ms); });
  auto timeout = go::after(5s);
  auto r = co_await go::select(go::recv(fast), go::recv(timeout));
  std::string got = r.index() == 0 ? get(std::move(*r.get<0>())) : "timeout";
  std::printf("fast: %s\n", got.c_str());
  bad += got != "addr-of-db";

  // A slow call, abandoned after 10 ms: its goroutine still finishes, into the slot.
  auto slow_call = [&finished]() -> go::task<std::string> {
    auto v = co_await lookup("cache", 200ms);
    ++finished;
    co_return v;
  };
  auto slow = async(slow_call);
  auto short_timeout = go::after(10ms);
  auto s = co_await go::select(go::recv(slow), go::recv(short_timeout));
  std::printf("slow: %s\n", s.index() == 1 ? "timed out after 10ms" : "answered");
  bad += s.index() != 1;

  // An exception travels to whoever waits.
  auto failing = async([] { return lookup("", 1ms); });
  auto f = co_await failing.recv();
  try {
    (void)get(std::move(*f));
    ++bad;
  } catch (const std::invalid_argument& e) {
    std::printf("failing: %s\n", e.what());
  }

  // Fan out ten calls, gather them in order.
  std::vector<go::recv_only<outcome<std::string>>> futures;
  for (int i = 0; i < 10; ++i) {
    auto call = [i] { return lookup("host" + std::to_string(i), std::chrono::milliseconds(10 - i)); };
    futures.push_back(async(call));
  }
  for (int i = 0; i < 10; ++i) {
    auto v = co_await futures[static_cast<std::size_t>(i)].recv();
    bad += get(std::move(*v)) != "addr-of-host" + std::to_string(i);
  }
  std::printf("gathered 10 in order\n");

  // The abandoned call's goroutine ends on its own: its value waits in the slot.
  auto late = co_await slow.recv();
  bad += finished.load() != 1 || get(std::move(*late)) != "addr-of-cache";
  std::printf("async: %s\n", bad == 0 ? "ok" : "FAILED");
  co_return bad;
}

int main() { return go::run(async_main); }
