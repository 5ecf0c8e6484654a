// The goroutine dump, the deadlock report, SIGQUIT and the leak check. The reports
// that end the process run as child processes (test/diag/cases.cpp): each checks the
// message and the exit status, as Go's own tests of checkdead do.
#include <doctest/doctest.h>
#include <sys/wait.h>

#include <array>
#include <csignal>
#include <atomic>
#include <cstdio>
#include <string>

#include <go/go.hpp>
#include <go/testing.hpp>

#include "support/go_test.hpp"

namespace {

struct child {
  int status = -1;  // the exit status, or -1 if it did not exit normally
  std::string output;
};

// Run a case of diag_cases with the given environment prefix, stdout and stderr together.
child run_case(const std::string& name, const std::string& env = "") {
  child c;
  std::string cmd = env + " " GO_DIAG_CASES " " + name + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  REQUIRE(p != nullptr);
  std::array<char, 4096> buf;
  for (std::size_t n; (n = std::fread(buf.data(), 1, buf.size(), p)) > 0;) c.output.append(buf.data(), n);
  int st = ::pclose(p);
  if (WIFEXITED(st)) c.status = WEXITSTATUS(st);
  return c;
}

bool has(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// Ended by abort(): the shell that popen runs reports 128 + SIGABRT.
bool aborted(const child& c) { return c.status == 128 + SIGABRT || c.status == -1; }

const char* const deadlock = "fatal error: all goroutines are asleep - deadlock!";

// The lines of their co_awaits, which a dump with debug info names (each kept on the
// line of its await).
std::atomic<int> dump_inner_line{0}, dump_outer_line{0};
go::task<int> dump_test_inner(go::chan<int> c) {
  dump_inner_line = __LINE__; auto v = co_await c.recv();
  co_return v.value_or(0);
}
go::task<void> dump_test_outer(go::chan<int> c) {
  dump_outer_line = __LINE__; (void)co_await dump_test_inner(c);
}

}  // namespace

TEST_CASE("deadlock: Go's classic cases end with the report, the dump and exit status 2") {
  for (const char* name : {"main_recv", "mutex", "wait_group", "select_none"}) {
    CAPTURE(name);
    child c = run_case(name);
    CHECK(c.status == 2);
    CHECK(has(c.output, deadlock));
    CHECK(has(c.output, "goroutine 1 ["));
  }
  child recv = run_case("main_recv");
  CHECK(has(recv.output, "goroutine 1 [chan receive]:"));
  CHECK(has(recv.output, "diag_receive_forever"));  // the await chain, innermost first
  child mu = run_case("mutex");
  CHECK(has(mu.output, "[sync.Mutex.Lock]:"));
  CHECK(has(mu.output, "goroutine 1 [sync.WaitGroup.Wait]:"));
  CHECK(has(mu.output, "created by "));
  CHECK(has(mu.output, " in goroutine 1"));
  child none = run_case("select_none");
  CHECK(has(none.output, "goroutine 1 [select (no cases)]:"));
}

TEST_CASE("deadlock: a pending timer, a sleeper, an I/O wait or others still running are not one") {
  for (const char* name : {"timer_pending", "sleeper", "io_wait", "others_run"}) {
    CAPTURE(name);
    child c = run_case(name);
    CHECK(c.status == 0);
    CHECK_FALSE(has(c.output, deadlock));
  }
  child off = run_case("main_recv", "GODEBUG=deadlock=0 timeout 1");  // the report is off: it hangs
  CHECK_FALSE(has(off.output, deadlock));
}

TEST_CASE("SIGQUIT prints every goroutine and exits 2; GOTRACEBACK=none prints none") {
  child c = run_case("sigquit");
  CHECK(c.status == 2);
  CHECK(has(c.output, "SIGQUIT: quit"));
  CHECK(has(c.output, "[chan receive]:"));
  CHECK(has(c.output, "diag_receive_forever"));
  child quiet = run_case("sigquit", "GOTRACEBACK=none");
  CHECK(quiet.status == 2);
  CHECK(has(quiet.output, "SIGQUIT: quit"));
  CHECK_FALSE(has(quiet.output, "goroutine "));
}

TEST_CASE("leak check: GODEBUG=leakcheck=1 lists the goroutines left at stop") {
  child plain = run_case("leak");
  CHECK(plain.status == 0);
  CHECK_FALSE(has(plain.output, "leak check"));
  child checked = run_case("leak", "GODEBUG=leakcheck=1");
  CHECK(checked.status == 0);
  CHECK(has(checked.output, "go: leak check: 1 goroutine still alive at runtime stop:"));
  CHECK(has(checked.output, "[chan receive]:"));
  CHECK(has(checked.output, "diag_receive_forever"));
}

TEST_CASE("go::testing: leaked_goroutines and expect_no_leaks") {
  go::runtime rt(go_test::with_procs(2));
  auto c = go::make_chan<int>();
  rt.block_on([c]() -> go::task<void> {
    go::spawn(dump_test_outer, c);
    co_return;
  });
  std::string leaks = go::testing::leaked_goroutines(rt, std::chrono::milliseconds(100));
  CHECK(has(leaks, "[chan receive]:"));
  CHECK(has(leaks, "dump_test_inner"));
  CHECK(has(leaks, "dump_test_outer"));
  CHECK_THROWS_WITH_AS(go::testing::expect_no_leaks(rt, std::chrono::milliseconds(10)),
                       doctest::Contains("found unexpected goroutines:"), go::error);
  c.close();  // it finishes
  CHECK(go::testing::leaked_goroutines(rt).empty());
  CHECK_NOTHROW(go::testing::expect_no_leaks(rt));
}

GO_TEST_CASE("dump_goroutines: every goroutine, its wait reason, await chain and creator") {
  auto c = go::make_chan<int>();
  go::mutex mu;
  auto held = co_await mu.lock();
  auto r1 = go::spawn(dump_test_outer, c);
  auto r2 = go::spawn(dump_test_outer, c);
  auto locker = [&mu]() -> go::task<void> { auto g = co_await mu.lock(); };
  auto l = go::spawn(locker);
  co_await go_test::until_waiting(2, "chan receive");  // both receivers and the locker have parked
  co_await go_test::until_waiting(1, "sync.Mutex.Lock");
  const std::string dump = go::dump_goroutines();
  const std::uint64_t me = go::this_goroutine::id();
  CHECK(dump.rfind("goroutine " + std::to_string(me) + " [running]:", 0) == 0);  // the caller first
  CHECK(has(dump, "[sync.Mutex.Lock]:"));
  const std::size_t inner = dump.find("dump_test_inner");
  const std::size_t outer = dump.find("dump_test_outer");
  CHECK(inner != std::string::npos);
  CHECK(outer != std::string::npos);
  CHECK(inner < outer);  // innermost first
  if (has(dump, "debug_test.cpp:")) {  // a build with line info: the lines of the co_awaits
    CHECK(has(dump, "debug_test.cpp:" + std::to_string(dump_inner_line.load()) + "\n"));
    CHECK(has(dump, "debug_test.cpp:" + std::to_string(dump_outer_line.load()) + "\n"));
  }
  CHECK(has(dump, "created by "));
  CHECK(has(dump, " in goroutine " + std::to_string(me)));
  held.unlock();
  c.close();
  co_await l;  // mu lives in this frame: the locker must be done with it
  co_await r1;
  co_await r2;
}

TEST_CASE("GODEBUG=schedtrace,scheddetail: a line per P, per M and per goroutine after each SCHED line") {
  child c = run_case("mutex", "GODEBUG=schedtrace=20,scheddetail=1,deadlock=0 GOMAXPROCS=2 timeout 0.3");
  CHECK(has(c.output, "SCHED "));
  CHECK(has(c.output, "  P0: status="));
  CHECK(has(c.output, "  P1: status="));
  CHECK(has(c.output, "  M1: p=1 curg="));
  CHECK(has(c.output, "  G1: status=2(sync.WaitGroup.Wait)"));
  CHECK(has(c.output, "(sync.Mutex.Lock)"));
}

GO_TEST_CASE("runtime_stats: goroutines by state and wait reason, parks, timers, poller wakeups") {
  auto gate = go::make_chan<int>();
  auto [ctx, cancel] = go::with_cancel(go::background());
  go::wait_group wg;
  for (int i = 0; i < 5; ++i) wg.go([gate]() -> go::task<void> { (void)co_await gate.recv(); });
  for (int i = 0; i < 3; ++i) {
    auto nap = [c = ctx]() -> go::task<void> {
      try {
        co_await go::sleep(std::chrono::hours(1), c);  // a wait the dump must list; the cancel ends it
      } catch (const go::error&) {
      }
    };
    wg.go(nap);
  }
  co_await go_test::until_waiting(5, "chan receive");
  co_await go_test::until_waiting(3, "select");
  const go::runtime_stats st = go::runtime::current()->stats();
  CHECK(go_test::waiting_for(st, "chan receive") == 5);
  CHECK(go_test::waiting_for(st, "select") == 3);  // sleep(d, ctx) waits in a select on the timer and ctx
  CHECK(st.waiting >= 8);
  CHECK(st.running >= 1);  // this one
  CHECK(st.parks >= 8);
  const std::uint64_t fired = st.timers_fired;
  co_await go::sleep(std::chrono::microseconds(10));  // the behavior under test: a timer fires and is counted
  CHECK(go::runtime::current()->stats().timers_fired > fired);
  gate.close();
  cancel();
  co_await wg.wait();
}

TEST_CASE("runtime_stats: the scheduling latency histogram, when asked for") {
  go::runtime_options o = go_test::with_procs(2);
  o.sched_latency = true;
  go::runtime rt(o);
  rt.block_on([]() -> go::task<void> {
    auto ping = go::make_chan<int>(), pong = go::make_chan<int>();
    auto echo = [ping, pong]() -> go::task<void> {
      while (auto v = co_await ping.recv()) co_await pong.send(*v);
    };
    auto h = go::spawn(echo);
    for (int i = 0; i < 1000; ++i) {
      co_await ping.send(i);
      (void)co_await pong.recv();
    }
    ping.close();
    co_await h;
  });
  go::runtime_stats st = rt.stats();
  std::uint64_t samples = 0;
  for (std::uint64_t n : st.sched_latency) samples += n;
  CHECK(samples >= 1000);
  go::runtime plain(go_test::with_procs(1));
  plain.block_on([]() -> go::task<void> { co_await go::yield(); });
  std::uint64_t none = 0;
  for (std::uint64_t n : plain.stats().sched_latency) none += n;
  CHECK(none == 0);  // off unless asked for
}

namespace {
go::task<int> block_profile_waiter(go::chan<int> c) {
  auto v = co_await c.recv();
  co_return v.value_or(0);
}
}  // namespace

TEST_CASE("block profile: time blocked per wait reason and await site; reset") {
  go::runtime_options o = go_test::with_procs(2);
  o.block_profile = true;
  go::runtime rt(o);
  rt.block_on([]() -> go::task<void> {
    auto c = go::make_chan<int>();
    auto h = go::spawn(block_profile_waiter, c);
    co_await go::sleep(std::chrono::milliseconds(1));  // (what is measured; nothing waits on it)
    co_await c.send(7);
    int v = co_await h;
    CHECK(v == 7);
  });
  auto prof = rt.block_profile();
  bool found = false, slept = false;
  for (const auto& e : prof) {
    if (e.reason == "chan receive" && e.site.find("block_profile_waiter") != std::string::npos && e.count >= 1 &&
        e.total.count() > 0)
      found = true;
    if (e.reason == "sleep") slept = true;
  }
  CHECK(found);
  CHECK(slept);
  rt.reset_block_profile();
  CHECK(rt.block_profile().empty());
  go::runtime off(go_test::with_procs(1));
  // A park the profile would count if it were on: the behavior under test, not a wait for anything.
  off.block_on([]() -> go::task<void> { co_await go::sleep(std::chrono::microseconds(10)); });
  CHECK(off.block_profile().empty());  // only when asked for
}

TEST_CASE("invariants: a structure broken on purpose trips its check(), in every build") {
  const std::pair<const char*, const char*> cases[] = {
      {"broken_waitq", "fatal error: go: invariant broken: waitq: next and prev links disagree"},
      {"chan_sender_in_recvq", "fatal error: go: invariant broken: chan: a sender in the receive queue"},
      {"chan_both_queues", "fatal error: go: invariant broken: chan: a sender and a receiver wait at once"},
  };
  for (const auto& [name, message] : cases) {
    const std::string what = name;
    CAPTURE(what);
    child c = run_case(name);
    CHECK(aborted(c));
    CHECK(has(c.output, message));
  }
}

TEST_CASE("a liveness test that hangs fails within its bound, naming itself, with the goroutine dump") {
  child c = run_case("liveness_bound", "GO_TEST_BOUND=1");
  CHECK(aborted(c));
  CHECK(has(c.output, "go_test: liveness bound of 1 s passed in \"a goroutine that sleeps for an hour\""));
  CHECK(has(c.output, "[sleep"));
}

TEST_CASE("invariants: a try_lock against the lock order is recorded, not refused") {
  child c = run_case("os_mutex_try_lock");
  CHECK(c.status == 0);
}

TEST_CASE("invariants: checking builds abort on an unheld lock, a select lock order violation, a double remove") {
  const std::pair<const char*, const char*> cases[] = {
      {"unheld_lock", "fatal error: go: assertion failed: a spinlock the caller must hold is not held"},
      {"chan_lock_order", "fatal error: go: lock order violation: a channel's lock below one already held"},
      {"waitq_remove_unqueued", "fatal error: go: assertion failed: waitq::remove of a waiter that is not queued"},
      {"os_mutex_order", "fatal error: go: lock order violation (see include/go/detail/lock_rank.hpp)"},
  };
  for (const auto& [name, message] : cases) {
    const std::string what = name;
    CAPTURE(what);
    child c = run_case(name);
    if (GO_CHECKS) {
      CHECK(aborted(c));
      CHECK(has(c.output, message));
    } else {
      CHECK(c.status == 0);  // Release: the checks are compiled out
    }
  }
}
