// go::context: the tree rules, deadlines, values, causes, after_func, and the waits a
// context cancels (receive, send, sleep, mutex, semaphore, wait_group).
#include <atomic>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/go_test.hpp"

using namespace std::chrono_literals;

TEST_SUITE_BEGIN("context");

namespace {
inline const go::context_key<std::string> user_key;
inline const go::context_key<std::string> other_key;  // same type, different key
inline const go::context_key<int> number_key;

// Expect `body` to throw go::error with `code`.
template <class F>
go::task<void> expect_ctx_error(F body, go::errc code) {
  bool threw = false;
  try {
    co_await body();
  } catch (const go::error& e) {
    threw = true;
    CHECK(e.code() == code);
  }
  CHECK(threw);
}
}  // namespace

TEST_CASE("background is never done and has no deadline or values") {
  go::context bg = go::background();
  CHECK(bg.done().is_nil());
  CHECK_FALSE(bg.err());
  CHECK_FALSE(bg.deadline());
  CHECK(bg.value(user_key) == nullptr);
  CHECK(go::cause(bg) == nullptr);
  CHECK(go::todo().done().is_nil());
}

TEST_CASE("cancel reaches every descendant, not the parent; it is idempotent") {
  auto [parent, cancel_parent] = go::with_cancel(go::background());
  auto [child, cancel_child] = go::with_cancel(parent);
  auto valued = go::with_value(child, number_key, 7);
  auto [grandchild, cancel_grandchild] = go::with_cancel(valued);
  auto [sibling, cancel_sibling] = go::with_cancel(parent);

  cancel_child();
  CHECK(child.err() == go::errc::canceled);
  CHECK(valued.err() == go::errc::canceled);  // a value context reports its canceler's state
  CHECK(grandchild.err() == go::errc::canceled);
  CHECK(child.done().try_recv().closed);
  CHECK_FALSE(parent.err());
  CHECK_FALSE(sibling.err());

  cancel_parent();
  cancel_parent();
  CHECK(sibling.err() == go::errc::canceled);
  CHECK(parent.done().try_recv().closed);
  CHECK(go::make_error_code(go::errc::canceled).message() == "context canceled");
}

TEST_CASE("a child of a done context is done at once") {
  auto [parent, cancel] = go::with_cancel(go::background());
  cancel();
  auto [child, cancel_child] = go::with_cancel(parent);
  CHECK(child.err() == go::errc::canceled);
  CHECK(child.done().try_recv().closed);
}

TEST_CASE("children leave the parent's list when canceled or dropped") {
  auto [parent, cancel] = go::with_cancel(go::background());
  for (int i = 0; i < 1000; ++i) {
    auto [c, cc] = go::with_cancel(parent);
    if (i % 2) cc();  // canceled, but still referenced until the end of the iteration
  }
  CHECK(go::detail::ctx_children(parent) == 0);
  auto [kept, cancel_kept] = go::with_cancel(parent);
  auto v = go::with_value(kept, number_key, 1);
  auto [grand, cancel_grand] = go::with_cancel(v);  // registers with `kept`, through the value node
  CHECK(go::detail::ctx_children(parent) == 1);
  CHECK(go::detail::ctx_children(kept) == 1);
  cancel_grand();
  CHECK(go::detail::ctx_children(kept) == 0);
  cancel();
  CHECK(go::detail::ctx_children(parent) == 0);
  CHECK(kept.err() == go::errc::canceled);
}

TEST_CASE("values: typed keys, nearest wins, visible through cancel contexts") {
  auto a = go::with_value(go::background(), user_key, std::string("alice"));
  auto b = go::with_value(a, number_key, 42);
  auto [c, cancel] = go::with_cancel(b);
  auto d = go::with_value(c, user_key, "bob");
  REQUIRE(d.value(user_key));
  CHECK(*d.value(user_key) == "bob");
  CHECK(*c.value(user_key) == "alice");
  CHECK(*d.value(number_key) == 42);
  CHECK(d.value(other_key) == nullptr);  // same type, different key
}

TEST_CASE("without_cancel keeps values but not cancellation or deadline") {
  auto [parent, cancel] = go::with_cancel(go::with_value(go::background(), number_key, 5));
  auto detached = go::without_cancel(parent);
  auto [child, cancel_child] = go::with_cancel(detached);
  cancel();
  CHECK(parent.err());
  CHECK_FALSE(detached.err());
  CHECK(detached.done().is_nil());
  CHECK_FALSE(child.err());
  CHECK(*child.value(number_key) == 5);
}

TEST_CASE("cause: the given cause, else the context's error, inherited by children") {
  auto [ctx, cancel] = go::with_cancel_cause(go::background());
  auto [child, cancel_child] = go::with_cancel(ctx);
  cancel(std::runtime_error("shutting down"));
  CHECK(ctx.err() == go::errc::canceled);
  for (const go::context* c : {&ctx, &child}) {
    try {
      std::rethrow_exception(go::cause(*c));
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "shutting down");
    }
  }
  auto [plain, cancel_plain] = go::with_cancel(go::background());
  CHECK(go::cause(plain) == nullptr);
  cancel_plain();
  try {
    std::rethrow_exception(go::cause(plain));
  } catch (const go::error& e) {
    CHECK(e.code() == go::errc::canceled);
  }
}

GO_TEST_CASE("with_timeout expires with deadline_exceeded; a child's deadline is never later") {
  auto [ctx, cancel] = go::with_timeout(go::background(), 2ms);
  REQUIRE(ctx.deadline());
  auto [late, cancel_late] = go::with_timeout(ctx, 1h);
  CHECK(late.deadline() == ctx.deadline());  // clamped to the parent's
  // A deadline before the parent's, whenever this line runs (a 1 ms timeout was not,
  // once 1 ms had passed since ctx was made: an ASan run on a loaded host).
  auto [early, cancel_early] = go::with_deadline(ctx, *ctx.deadline() - 1ms);
  CHECK(*early.deadline() < *ctx.deadline());
  co_await ctx.done();
  CHECK(ctx.err() == go::errc::deadline_exceeded);
  CHECK(late.err() == go::errc::deadline_exceeded);
  CHECK(early.err() == go::errc::deadline_exceeded);
  CHECK(go::clock::now() >= *ctx.deadline());

  auto [past, cancel_past] = go::with_deadline(go::background(), go::clock::now() - 1s);
  CHECK(past.err() == go::errc::deadline_exceeded);

  auto [stopped, cancel_stopped] = go::with_timeout(go::background(), 1h);
  cancel_stopped();  // canceled before the deadline: canceled, and its timer stops
  CHECK(stopped.err() == go::errc::canceled);
}

GO_TEST_CASE("after_func runs once the context is done; stop prevents it") {
  auto [ctx, cancel] = go::with_cancel(go::background());
  auto ran = go::make_chan<int>(2);
  auto f = go::after_func(ctx, [ran]() { (void)ran.try_send(1); });
  auto g = go::after_func(ctx, [ran]() -> go::task<void> { co_await ran.send(2); });
  CHECK(g.stop());
  CHECK_FALSE(g.stop());
  cancel();
  auto first = co_await ran.recv();
  CHECK(*first == 1);
  CHECK_FALSE(f.stop());  // it ran
  CHECK(ran.len() == 0);  // g never ran

  auto never = go::after_func(go::background(), [] {});
  CHECK(never.stop());
}

GO_TEST_CASE("ctx.done() works in select and as an awaitable") {
  auto [ctx, cancel] = go::with_cancel(go::background());
  auto work = go::make_chan<int>();
  auto canceler = [cancel = cancel]() -> go::task<void> {
    cancel();
    co_return;
  };
  go::spawn(canceler);
  auto r = co_await go::select(go::recv(work), go::recv(ctx.done()));
  CHECK(r.index() == 1);
  co_await ctx.done();  // already closed: returns at once
}

GO_TEST_CASE("each kind of wait returns early with the context's error") {
  auto [ctx_, cancel] = go::with_cancel(go::background());
  go::context ctx = ctx_;  // captured below (clang 14 cannot capture structured bindings)
  auto ch = go::make_chan<int>();        // nobody sends
  auto full = go::make_chan<int>(1);     // nobody receives
  co_await full.send(0);
  go::mutex mu;
  auto held = co_await mu.lock();
  go::semaphore sem(1);
  co_await sem.acquire(1);
  go::wait_group wg;
  wg.add(1);

  constexpr int kinds = 6;
  auto results = go::make_chan<int>(kinds);
  auto started = go::make_chan<int>(kinds);
  auto run = [&](int kind) -> go::task<void> {
    int result = -1;  // not canceled: wrong
    co_await started.send(kind);
    try {
      switch (kind) {
        case 0: (void)co_await ch.recv(ctx); break;
        case 1: co_await full.send(1, ctx); break;
        case 2: co_await go::sleep(1h, ctx); break;  // the wait under test: only the cancel ends it
        case 3: (void)co_await mu.lock(ctx); break;
        case 4: co_await sem.acquire(1, ctx); break;
        case 5: co_await wg.wait(ctx); break;
      }
    } catch (const go::error& e) {
      result = e.code() == go::errc::canceled ? kind : -2;
    }
    co_await results.send(result);
  };
  for (int k = 0; k < kinds; ++k) go::spawn(run, k);
  for (int k = 0; k < kinds; ++k) co_await started.recv();
  co_await go_test::until_waiting(kinds);  // each has reached its wait
  cancel();
  std::vector<bool> seen(kinds, false);
  for (int k = 0; k < kinds; ++k) {
    int v = *(co_await results.recv());
    REQUIRE(v >= 0);
    seen[v] = true;
  }
  for (bool s : seen) CHECK(s);
  // The primitives are intact: nothing was left queued or held by the canceled waits.
  held.unlock();
  CHECK(mu.try_lock());
  mu.unlock();
  sem.release(1);
  CHECK(sem.try_acquire(1));
  wg.done();
  co_await wg.wait();
}

GO_TEST_CASE("a done context fails a wait at once; a completed wait is not undone") {
  auto [ctx_, cancel] = go::with_cancel(go::background());
  go::context ctx = ctx_;  // captured below
  auto ch = go::make_chan<int>(1);
  co_await ch.send(1, ctx);
  auto awaited_248 = co_await ch.recv(ctx);
  CHECK(*awaited_248 == 1);
  go::mutex mu;
  { auto g = co_await mu.lock(ctx); }
  cancel();
  co_await expect_ctx_error([&]() -> go::task<void> { (void)co_await ch.recv(ctx); }, go::errc::canceled);
  co_await expect_ctx_error([&]() -> go::task<void> { (void)co_await mu.lock(ctx); }, go::errc::canceled);
  CHECK_FALSE(mu.is_locked());
  go::wait_group wg;
  co_await expect_ctx_error([&]() -> go::task<void> { co_await wg.wait(ctx); }, go::errc::canceled);

  go::context timed = go::with_timeout(go::background(), 1ms).ctx;
  auto never = go::make_chan<int>();
  co_await expect_ctx_error([&]() -> go::task<void> { (void)co_await never.recv(timed); },
                            go::errc::deadline_exceeded);
}

// x/sync/semaphore's race: a grant racing with a cancel. Whichever wins, the units are
// either held by the acquirer (and released) or never taken, and the next waiter goes on.
GO_TEST_CASE("semaphore grants racing with cancels lose no units") {
  go::semaphore sem(3);
  go::wait_group wg;
  for (int w = 0; w < 8; ++w) {
    wg.go([&sem, w]() -> go::task<void> {
      for (int i = 0; i < 200; ++i) {
        auto [ctx, cancel] = go::with_cancel(go::background());
        if ((i + w) % 3 == 0) {
          auto canceler = [cancel = cancel]() -> go::task<void> {
            cancel();
            co_return;
          };
          go::spawn(canceler);
        }
        try {
          co_await sem.acquire(1 + (i % 3), ctx);
          co_await go::yield();
          sem.release(1 + (i % 3));
        } catch (const go::error& e) {
          CHECK(e.code() == go::errc::canceled);
        }
      }
    });
  }
  co_await wg.wait();
  CHECK(sem.try_acquire(3));  // every unit came back
}

GO_TEST_CASE("mutex locks racing with cancels keep the mutex consistent") {
  go::mutex mu;
  long counter = 0, acquired = 0;
  go::wait_group wg;
  for (int w = 0; w < 8; ++w) {
    wg.go([&, w]() -> go::task<void> {
      for (int i = 0; i < 300; ++i) {
        auto [ctx, cancel] = go::with_cancel(go::background());
        if ((i + w) % 4 == 0) {
          auto canceler = [cancel = cancel]() -> go::task<void> {
            cancel();
            co_return;
          };
          go::spawn(canceler);
        }
        try {
          auto g = co_await mu.lock(ctx);
          ++counter;
          ++acquired;
          if (i % 8 == 0) co_await go::yield();
        } catch (const go::error&) {
        }
      }
    });
  }
  co_await wg.wait();
  CHECK(counter == acquired);
  CHECK_FALSE(mu.is_locked());
  CHECK(mu.try_lock());
}

TEST_SUITE_END();
