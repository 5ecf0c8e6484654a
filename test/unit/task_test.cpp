// go::task<T>: laziness, results of every kind, exceptions, and constant stack.
#include <memory>
#include <stdexcept>
#include <string>

#include "support/counted.hpp"
#include "support/go_test.hpp"

TEST_SUITE_BEGIN("task");

namespace {
go::task<int> answer() { co_return 42; }
go::task<void> nothing() { co_return; }
go::task<std::unique_ptr<std::string>> boxed(std::string s) { co_return std::make_unique<std::string>(std::move(s)); }
go::task<int&> ref_to(int& x) { co_return x; }
go::task<int> thrower() {
  throw std::runtime_error("boom");
  co_return 0;
}
go::task<int> add_nested(int depth) {
  if (depth == 0) co_return 0;
  int below = co_await add_nested(depth - 1);
  co_return below + 1;
}
}  // namespace

GO_TEST_CASE("co_await gives the value, void, a reference or a move-only type") {
  auto awaited_28 = co_await answer();
  CHECK(awaited_28 == 42);
  co_await nothing();
  auto p = co_await boxed("hi");
  REQUIRE(p);
  CHECK(*p == "hi");
  int x = 1;
  int& r = co_await ref_to(x);
  r = 7;
  CHECK(x == 7);
}

GO_TEST_CASE("co_await rethrows what the task threw") {
  bool caught = false;
  try {
    (void)co_await thrower();
  } catch (const std::runtime_error& e) {
    caught = std::string(e.what()) == "boom";
  }
  CHECK(caught);
}

GO_TEST_CASE("a task is lazy: its body runs only when awaited") {
  bool ran = false;
  auto t = [](bool& flag) -> go::task<void> {
    flag = true;
    co_return;
  }(ran);
  CHECK_FALSE(ran);
  co_await t;
  CHECK(ran);
}

TEST_CASE("destroying a task that never ran frees its frame and its arguments") {
  {
    auto t = [](go_test::counted c) -> go::task<int> { co_return c.value; }(go_test::counted(3));
    CHECK(go_test::counted::live == 1);  // moved into the frame
  }
  CHECK(go_test::counted::live == 0);
}

GO_TEST_CASE("nested tasks run inline in the same goroutine") {
  std::uint64_t id = go::this_goroutine::id();
  auto inner = [id]() -> go::task<bool> { co_return go::this_goroutine::id() == id; };
  auto awaited_71 = co_await inner();
  CHECK(awaited_71);
  auto awaited_72 = co_await add_nested(1000);
  CHECK(awaited_72 == 1000);
}

GO_TEST_CASE("awaiting an empty task throws") {
  go::task<int> empty;
  bool caught = false;
  try {
    (void)co_await empty;
  } catch (const go::error& e) {
    caught = e.code() == go::errc::empty_join_handle;
  }
  CHECK(caught);
}

namespace {
// The native stack position of the innermost frame, to compare across iterations.
[[gnu::noinline]] std::uintptr_t stack_position() {
  return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}
go::task<std::uintptr_t> sync_child() { co_return stack_position(); }
go::task<std::uintptr_t> sync_parent() { co_return co_await sync_child(); }
go::task<int> maybe_yield(int i) {
  if (i % 1000 == 0) co_await go::yield();
  co_return 1;
}
}  // namespace

// GCC PR 100897: symmetric transfer is a tail call only at -O2 without ASan. A task
// that finishes without suspending must not cost stack, in every build type.
GO_TEST_CASE("a million awaits of tasks that finish at once use constant stack") {
  constexpr int n = 1'000'000;
  std::uintptr_t first = co_await sync_child();
  std::uintptr_t last = 0;
  for (int i = 0; i < n; ++i) last = co_await sync_child();
  CHECK(first == last);
  first = co_await sync_parent();
  for (int i = 0; i < n; ++i) last = co_await sync_parent();
  CHECK(first == last);
  // Some children park (yield) and finish later: they resume their parent by symmetric
  // transfer, which may nest native frames, but only as deep as the task nesting.
  long sum = 0;
  for (int i = 0; i < n; ++i) sum += co_await maybe_yield(i);
  CHECK(sum == n);
}

TEST_SUITE_END();
