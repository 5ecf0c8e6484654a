// GO_TEST_CASE: a doctest case whose body is a goroutine, run under each runtime
// configuration (procs = 1, 2 and 4), like `go test -cpu 1,2,4` or tokio's rt_common.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <go/go.hpp>
#include <go/testing.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

#include "support/watchdog.hpp"

namespace go_test {

// GO_TEST_SCALE multiplies the sizes of stress tests (Go's testing.Short, inverted):
// 1 by default; CI's sanitizer runs keep 1, a soak run can use 10 or 100.
inline long scale() {
  const char* s = std::getenv("GO_TEST_SCALE");
  long v = s ? std::strtol(s, nullptr, 10) : 1;
  return v > 0 ? v : 1;
}

inline constexpr unsigned proc_counts[] = {1, 2, 4};

inline go::runtime_options with_procs(unsigned procs) {
  go::runtime_options o;
  o.procs = procs;
  return o;
}

// Awaits a and says whether it threw an E: await first, assert after, since doctest's
// assertion state is per thread and a goroutine may resume on another one. a may also
// be a callable that returns the awaitable, for a call that can throw before it
// returns one.
//   const bool threw = co_await go_test::throws<go::error>(go::net::dial("tcp", "x"));
//   CHECK(threw);
template <class E, class Awaitable>
go::task<bool> throws(Awaitable a) {
  try {
    if constexpr (std::is_invocable_v<Awaitable&>)
      co_await a();
    else
      co_await std::move(a);
  } catch (const E&) {
    co_return true;
  } catch (...) {
  }
  co_return false;
}

// The code of the go::error an awaitable (or a callable giving one) throws, or nullopt if
// it completes; any other exception goes on. Awaited outside the assertion:
//   const auto err = co_await go_test::error_of(c.read_full(buf));
//   CHECK(err == go::errc::eof);
template <class Awaitable>
go::task<std::optional<std::error_code>> error_of(Awaitable a) {
  try {
    if constexpr (std::is_invocable_v<Awaitable&>)
      co_await a();
    else
      co_await std::move(a);
  } catch (const go::error& e) {
    co_return e.code();
  }
  co_return std::nullopt;
}

// How many goroutines wait for `reason` (the dump's name: "IO wait", "chan receive",
// ...; empty: for anything).
inline std::uint64_t waiting_for(const go::runtime_stats& st, const std::string& reason) {
  if (reason.empty()) return st.waiting;
  for (const auto& [r, count] : st.waiting_by_reason)
    if (r == reason) return count;
  return 0;
}

// Waits until at least n goroutines of this runtime wait for `reason`, yielding in
// between, so that a test acts once a goroutine has reached its wait instead of sleeping
// and hoping. The 10 s bound only stops a hang (it throws), it times nothing.
inline go::task<void> until_waiting(std::uint64_t n, std::string reason = {}) {
  const auto give_up = go::clock::now() + std::chrono::seconds(10);
  for (;;) {
    if (waiting_for(go::runtime::current()->stats(), reason) >= n) co_return;
    if (go::clock::now() > give_up)
      throw std::runtime_error("until_waiting: " + std::to_string(n) + " goroutines never waited for " +
                               (reason.empty() ? std::string("anything") : reason));
    co_await go::yield();
  }
}

// A liveness test on a runtime of its own: rt.block_on(body) under the watchdog, so that
// a hang fails with the test's name and the goroutine dump within the bound.
template <class F>
decltype(auto) bounded_block_on(go::runtime& rt, const char* what, F&& body) {
  watchdog bound(rt, std::string("\"") + what + "\"");
  return rt.block_on(std::forward<F>(body));
}

}  // namespace go_test

#define GO_TEST_CAT2(a, b) a##b
#define GO_TEST_CAT(a, b) GO_TEST_CAT2(a, b)

// The body runs under a liveness bound (watchdog.hpp): a hang fails the case with its
// name and the goroutine dump. After the body, no goroutine it started may be left
// (go::testing, goleak's check):
// GO_TEST_CASE_LEAKY is for the cases that leave blocked goroutines on purpose (a nil
// channel, a limit of 0) for the runtime's shutdown to destroy.
#define GO_TEST_CASE_IMPL(name, fn, check_leaks)                   \
  static go::task<void> fn();                                      \
  TEST_CASE(name) {                                                \
    for (unsigned procs : go_test::proc_counts) {                  \
      CAPTURE(procs);                                              \
      go::runtime rt(go_test::with_procs(procs));                  \
      {                                                            \
        go_test::watchdog bound(rt, std::string("\"") + name +     \
                                        "\" with procs=" +         \
                                        std::to_string(procs));    \
        rt.block_on(fn);                                           \
      }                                                            \
      if (check_leaks) {                                           \
        std::string leaks = go::testing::leaked_goroutines(rt);    \
        CHECK_MESSAGE(leaks.empty(), leaks);                       \
      }                                                            \
    }                                                              \
  }                                                                \
  static go::task<void> fn()

#define GO_TEST_CASE(name) GO_TEST_CASE_IMPL(name, GO_TEST_CAT(go_test_body_, __LINE__), true)
#define GO_TEST_CASE_LEAKY(name) GO_TEST_CASE_IMPL(name, GO_TEST_CAT(go_test_body_, __LINE__), false)
