// go::spawn and go::join_handle: every goroutine runs once, results and exceptions
// travel through handles, captures live as long as the goroutine, misuse is an error.
#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/counted.hpp"
#include "support/event.hpp"
#include "support/go_test.hpp"

TEST_SUITE_BEGIN("spawn");

GO_TEST_CASE("every spawned goroutine runs exactly once") {
  const int n = static_cast<int>(20'000 * go_test::scale());
  std::vector<std::atomic<int>> runs(n);
  go::wait_group wg;
  wg.add(n);
  for (int i = 0; i < n; ++i) {
    auto body = [&runs, &wg, i]() -> go::task<void> {
      runs[i].fetch_add(1, std::memory_order_relaxed);
      wg.done();
      co_return;
    };
    go::spawn(body);
  }
  co_await wg.wait();
  int wrong = 0;
  for (auto& r : runs) wrong += r.load() != 1;
  CHECK(wrong == 0);
}

namespace {
go::task<int> square(int x) { co_return x * x; }
go::task<std::unique_ptr<int>> make_box(int x) { co_return std::make_unique<int>(x); }
go::task<void> fail(std::string msg) {
  co_await go::yield();
  throw std::runtime_error(msg);
}
go::task<std::size_t> length_of(const std::string& s) { co_return s.size(); }
}  // namespace

GO_TEST_CASE("a join handle gives the result or rethrows") {
  auto h = go::spawn(square, 12);
  CHECK(h.id() != 0);
  auto awaited_48 = co_await h;
  CHECK(awaited_48 == 144);
  CHECK_FALSE(h);  // awaiting consumes the handle

  auto box = co_await go::spawn(make_box, 5);
  CHECK(*box == 5);

  bool caught = false;
  try {
    co_await go::spawn(fail, std::string("bad input"));
  } catch (const std::runtime_error& e) {
    caught = std::string(e.what()) == "bad input";
  }
  CHECK(caught);

  // A reference parameter binds to the copy kept in the goroutine.
  auto awaited_63 = co_await go::spawn(length_of, std::string("four"));
  CHECK(awaited_63 == 4);
  // A task itself can be spawned.
  auto awaited_65 = co_await go::spawn(square(3));
  CHECK(awaited_65 == 9);
}

GO_TEST_CASE("a lambda's captures live as long as its goroutine") {
  go_test::event go_on, finished;
  std::string seen;
  {
    auto h = go::spawn([msg = std::string("still here"), &go_on, &finished, &seen]() -> go::task<void> {
      co_await go_on.wait();  // the spawner's lambda temporary is long gone
      seen = msg;
      finished.signal();
    });
    h.detach();
  }
  go_on.signal();
  co_await finished.wait();
  CHECK(seen == "still here");
}

GO_TEST_CASE("a detached goroutine runs on and frees itself") {
  const long before = go_test::counted::live;
  go::wait_group wg;
  wg.add(1);
  {
    auto h = go::spawn([c = go_test::counted(1), &wg]() -> go::task<void> {
      co_await go::yield();
      wg.done();
    });
  }  // dropped: detached
  co_await wg.wait();
  // The goroutine may still be finishing after done(): wait until it has freed itself.
  while (go_test::counted::live != before) co_await go::yield();
  CHECK(go_test::counted::live == before);
}

GO_TEST_CASE("done() tells whether awaiting would suspend") {
  go_test::event release;
  auto h = go::spawn([&release]() -> go::task<int> {
    co_await release.wait();
    co_return 1;
  });
  CHECK_FALSE(h.done());
  release.signal();
  while (!h.done()) co_await go::yield();
  auto awaited_109 = co_await h;
  CHECK(awaited_109 == 1);
}

namespace {
go::task<long> tree(int depth) {
  if (depth == 0) co_return 1;
  auto left = go::spawn(tree, depth - 1);
  auto right = go::spawn(tree, depth - 1);
  long l = co_await left;
  co_return l + co_await right;
}
go::task<int> chain(int n) {
  if (n == 0) co_return 0;
  co_return 1 + co_await go::spawn(chain, n - 1);
}
}  // namespace

GO_TEST_CASE("deeply nested spawns") {
  auto awaited_127 = co_await go::spawn(tree, 12);
  CHECK(awaited_127 == 4096);
  auto awaited_128 = co_await go::spawn(chain, 10'000);
  CHECK(awaited_128 == 10'000);
}

GO_TEST_CASE("goroutine ids are unique and non-zero") {
  constexpr int n = 1000;
  std::vector<std::uint64_t> ids(n);
  std::vector<go::join_handle<void>> hs;
  for (int i = 0; i < n; ++i)
    hs.push_back(go::spawn([&ids, i]() -> go::task<void> {
      ids[i] = go::this_goroutine::id();
      co_return;
    }));
  for (auto& h : hs) co_await h;
  std::sort(ids.begin(), ids.end());
  CHECK(ids.front() != 0);
  CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
  CHECK(go::this_goroutine::id() != 0);
}

GO_TEST_CASE("num_goroutine counts live goroutines") {
  const std::uint64_t base = go::num_goroutine();
  CHECK(base >= 1);
  auto release = go::make_chan<std::monostate>();  // closed to let them all go
  go::wait_group started, finished;
  started.add(10);
  finished.add(10);
  for (int i = 0; i < 10; ++i)
    go::spawn([&started, &finished, release]() -> go::task<void> {
      started.done();
      co_await release.recv();
      finished.done();
    });
  co_await started.wait();
  // Ten more are alive (each parked on the channel or about to be).
  CHECK(go::num_goroutine() >= base + 10);
  release.close();
  co_await finished.wait();  // (the leak check found the old version's lost wakeups)
}

TEST_CASE("spawn outside a runtime is a clear error") {
  auto body = []() -> go::task<void> { co_return; };
  CHECK_THROWS_AS(go::spawn(body), go::error);
  try {
    go::spawn(body);
  } catch (const go::error& e) {
    CHECK(e.code() == go::errc::no_runtime);
    CHECK(std::string(e.what()).find("go::spawn") != std::string::npos);
  }
  CHECK(go::this_goroutine::id() == 0);
  CHECK(go::gomaxprocs() == 0);
}

GO_TEST_CASE("awaiting an empty join handle throws") {
  go::join_handle<int> h;
  bool caught = false;
  try {
    (void)co_await h;
  } catch (const go::error& e) {
    caught = e.code() == go::errc::empty_join_handle;
  }
  CHECK(caught);
}

namespace {
std::atomic<std::uint64_t> panicked_id{0};
std::atomic<int> panics{0};
std::string panic_message;
void record_panic(std::uint64_t id, std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    panic_message = ex.what();
  }
  panicked_id = id;
  panics.fetch_add(1);
}
}  // namespace

GO_TEST_CASE("an exception leaving a detached goroutine goes to the panic handler") {
  panics = 0;
  auto previous = go::set_panic_handler(&record_panic);
  auto h = go::spawn([]() -> go::task<void> {
    throw std::logic_error("unrecovered");
    co_return;
  });
  std::uint64_t id = h.id();
  h.detach();
  while (panics.load() == 0) co_await go::yield();
  CHECK(panicked_id == id);
  CHECK(panic_message == "unrecovered");
  go::set_panic_handler(previous);
}

// Fairness. A goroutine cannot be preempted, so these check that the scheduler itself
// gives every runnable goroutine a turn, with one P where nothing can be stolen.
TEST_CASE("a yield loop cannot starve other goroutines") {
  go::runtime rt(go_test::with_procs(1));
  const bool stopped = go_test::bounded_block_on(rt, "a yield loop cannot starve other goroutines", []() -> go::task<bool> {
    std::atomic<bool> stop{false};
    auto spinner = go::spawn([&stop]() -> go::task<void> {
      while (!stop.load()) co_await go::yield();
    });
    auto stopper = go::spawn([&stop]() -> go::task<void> {
      stop = true;
      co_return;
    });
    co_await stopper;
    co_await spinner;  // ends only once the stopper ran (or the bound fails the test)
    co_return stop.load();
  });
  CHECK(stopped);
}

TEST_CASE("a spawn chain in runnext cannot starve the local queue") {
  go::runtime rt(go_test::with_procs(1));
  go_test::bounded_block_on(rt, "a spawn chain in runnext cannot starve the local queue", []() -> go::task<void> {
    std::atomic<bool> stop{false};
    go::wait_group chain_done;
    chain_done.add(1);
    // Each link spawns the next, which lands in runnext and would run forever ahead
    // of the queue if runnext could cut in without limit.
    struct link {
      static go::task<void> run(std::atomic<bool>* stop, go::wait_group* done) {
        if (stop->load())
          done->done();
        else
          go::spawn(run, stop, done);
        co_return;
      }
    };
    go::spawn([&stop]() -> go::task<void> {  // queued behind the chain
      stop = true;
      co_return;
    });
    go::spawn(link::run, &stop, &chain_done);
    co_await chain_done.wait();
    CHECK(stop.load());
  });
}

TEST_CASE("a ping-pong pair cannot starve the local or the global queue") {
  go::runtime rt(go_test::with_procs(1));
  go_test::bounded_block_on(rt, "a ping-pong pair cannot starve the local or the global queue", [&rt]() -> go::task<void> {
    std::atomic<bool> stop{false};
    go_test::event ping, pong;
    auto a = go::spawn([&]() -> go::task<void> {
      while (!stop.load()) {
        pong.signal();
        co_await ping.wait();
      }
      pong.signal();
    });
    auto b = go::spawn([&]() -> go::task<void> {
      while (!stop.load()) {
        co_await pong.wait();
        ping.signal();
      }
      ping.signal();
    });
    // Spawned from a thread outside the runtime: it waits in the global queue while
    // the pair keeps the local queue busy.
    std::atomic<bool> outside_ran{false};
    std::thread outside([&] {
      rt.spawn([&]() -> go::task<void> {
          outside_ran = true;
          co_return;
        }).detach();
    });
    outside.join();
    while (!outside_ran.load()) co_await go::yield();
    stop = true;
    co_await a;
    co_await b;
  });
}

// Readying into runnext wakes nobody; if the readier then runs on without suspending,
// an idle P must still get to the g in runnext (sysmon wakes one, which steals it).
TEST_CASE("runnext is stolen by an idle P while its owner keeps running") {
  go::runtime rt(go_test::with_procs(2));
  const std::uint64_t steals = go_test::bounded_block_on(rt, "runnext is stolen by an idle P while its owner keeps running", []() -> go::task<std::uint64_t> {
    std::atomic<bool> child_ran{false};
    auto child = go::spawn([&child_ran]() -> go::task<void> {
      child_ran = true;
      co_return;
    });
    while (!child_ran.load()) {
      // never suspends: only another P can run the child (or the bound fails the test)
    }
    co_await child;
    co_return go::runtime::current()->stats().steals;
  });
  CHECK(steals >= 1);  // the child ran on the other P, which took it from runnext
}

// Two goroutines that busy-wait for each other finish only if they run on different Ps
// at once: a P stuck in one goroutine must not keep the other in its queue. (This is
// what a sleeping worker's watch, and sysmon's wake for a stuck P with queued work,
// guarantee: docs/design/scheduler.md.)
TEST_CASE("goroutines that never suspend spread over the Ps") {
  go::runtime rt(go_test::with_procs(2));
  go_test::bounded_block_on(rt, "goroutines that never suspend spread over the Ps", []() -> go::task<void> {
    std::atomic<int> arrived{0};
    auto spinner = [&arrived]() -> go::task<void> {
      arrived.fetch_add(1);
      while (arrived.load() < 2) {
        // no suspension: only another P can run the other spinner
      }
      co_return;
    };
    auto a = go::spawn(spinner);
    auto b = go::spawn(spinner);
    co_await a;
    co_await b;
    CHECK(arrived.load() == 2);
  });
}

TEST_SUITE_END();
