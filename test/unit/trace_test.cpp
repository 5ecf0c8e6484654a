// The execution tracer: a small deterministic program's trace, checked by
// test/support/check_trace.py (it parses the JSON, checks every run slice lies on one
// worker's track, every arrow has both ends, and the goroutines are the program's).
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include <go/go.hpp>

#include "support/go_test.hpp"

namespace {

go::task<void> trace_test_worker(go::chan<int> in, go::chan<int> out) {
  while (auto v = co_await in.recv()) co_await out.send(*v * 2);
}

std::string temp_path(const char* tag) {
  return "/tmp/gocoro-trace-" + std::to_string(::getpid()) + "-" + tag + ".json";
}

int check(const std::string& path, unsigned procs, int goroutines, const char* name) {
  std::string cmd = "python3 " GO_SOURCE_DIR "/test/support/check_trace.py " + path + " " + std::to_string(procs) + " " +
                    std::to_string(goroutines) + " '" + name + "'";
  int st = std::system(cmd.c_str());
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

}  // namespace

TEST_CASE("trace: a small program's slices, arrows and goroutines") {
  for (unsigned procs : go_test::proc_counts) {
    CAPTURE(procs);
    const std::string path = temp_path("small");
    {
      go::runtime rt(go_test::with_procs(procs));
      rt.start_trace(path);
      CHECK_THROWS_AS(rt.start_trace(path), go::error);  // one at a time
      rt.block_on([]() -> go::task<void> {
        auto in = go::make_chan<int>(), out = go::make_chan<int>();
        go::wait_group wg;
        for (int i = 0; i < 10; ++i)
          wg.go([in, out]() -> go::task<void> { co_await trace_test_worker(in, out); });
        long sum = 0;
        for (int i = 0; i < 100; ++i) {
          co_await in.send(i);
          sum += *(co_await out.recv());
        }
        in.close();
        co_await wg.wait();
        co_await go::sleep(std::chrono::microseconds(50));  // a timer firing in the trace
        CHECK(sum == 9900);
      });
      CHECK(rt.stop_trace());
      CHECK_FALSE(rt.stop_trace());  // none left
    }
    // main + 10 wg.go goroutines (each named by its root, which awaits the worker).
    CHECK(check(path, procs, 11, "wait_group::go") == 0);
    std::ifstream f(path);
    std::stringstream text;
    text << f.rdbuf();
    CHECK(text.str().find("\"end\":\"chan receive\"") != std::string::npos);  // parks with their reasons
    CHECK(text.str().find("\"timers fired\"") != std::string::npos);
    std::remove(path.c_str());
  }
}

TEST_CASE("trace: GOCORO_TRACE traces a runtime from start to stop; blocking calls get their track") {
  const std::string path = temp_path("env");
  ::setenv("GOCORO_TRACE", path.c_str(), 1);
  {
    go::runtime rt(go_test::with_procs(2));
    ::unsetenv("GOCORO_TRACE");
    int v = rt.block_on([]() -> go::task<int> { co_return co_await go::blocking([] { return 41; }) + 1; });
    CHECK(v == 42);
  }
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  CHECK(text.str().find("\"blocking calls\"") != std::string::npos);
  CHECK(text.str().find("\"cat\":\"blocking\"") != std::string::npos);
  CHECK(text.str().find("\"end\":\"blocking call\"") != std::string::npos);
  std::remove(path.c_str());
}

// A worker inside a goroutine that never suspends cannot stop for the start: the start
// fails, and no trace is left half on.
TEST_CASE("trace: a start that cannot stop the world fails and leaves no trace on") {
  const std::string path = temp_path("stuck");
  go::runtime rt(go_test::with_procs(1));
  std::atomic<bool> spinning{false}, release{false};
  std::thread owner([&] {
    rt.block_on([&]() -> go::task<void> {
      spinning = true;
      spinning.notify_all();
      while (!release.load()) {
      }  // holds the only P, never reaching a scheduling point
      co_return;
    });
  });
  spinning.wait(false);
  CHECK_THROWS_AS(rt.start_trace(path), go::error);
  CHECK_FALSE(rt.stop_trace());  // nothing was on
  release = true;
  owner.join();
  rt.start_trace(path);  // and a later start works
  rt.block_on([]() -> go::task<void> { co_await go::yield(); });
  CHECK(rt.stop_trace());
  std::remove(path.c_str());
}

namespace {
go::task<void> trace_locked_pinger(go::chan<int> in, go::chan<int> out) {
  co_await go::lock_os_thread();
  while (auto v = co_await in.recv()) co_await out.send(*v + 1);
  go::unlock_os_thread();
}
}  // namespace

TEST_CASE("trace: a locked goroutine's runs are on its thread's track, with their arrows") {
  const std::string path = temp_path("locked");
  {
    go::runtime rt(go_test::with_procs(2));
    rt.start_trace(path);
    rt.block_on([]() -> go::task<void> {
      auto in = go::make_chan<int>(), out = go::make_chan<int>();
      auto h = go::spawn(trace_locked_pinger, in, out);
      int sum = 0;
      for (int i = 0; i < 20; ++i) {
        co_await in.send(i);
        sum += *(co_await out.recv());
      }
      in.close();
      co_await h;
      CHECK(sum == 210);
    });
    CHECK(rt.stop_trace());
  }
  CHECK(check(path, 2, 2, "trace_locked_pinger") == 0);
  std::ifstream f(path);
  std::stringstream text;
  text << f.rdbuf();
  CHECK(text.str().find("\"locked thread 0\"") != std::string::npos);
  CHECK(text.str().find("\"tid\":2000,") != std::string::npos);
  std::remove(path.c_str());
}
