// go::lock_os_thread: a locked goroutine resumes on its own thread across every kind of
// wait, no other goroutine runs there, and the Ps keep running the others.
#include <doctest/doctest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <go/go.hpp>
#include <go/net.hpp>

#include "support/go_test.hpp"

#include <sys/syscall.h>
#include <unistd.h>

namespace {
// The calling thread, asked anew each time: pthread_self (std::this_thread::get_id) is
// declared const, and clang reuses its value across a co_await, on another thread.
[[gnu::noinline]] long thread_now() { return ::syscall(SYS_gettid); }
}  // namespace

GO_TEST_CASE("lock_os_thread: one thread across parks, sleeps, channel waits, blocking calls and I/O") {
  auto ping = go::make_chan<int>();
  std::mutex mu;
  std::set<long> others;  // where the other goroutines ran
  go::wait_group wg;
  auto other = [&]() -> go::task<void> {
    for (int i = 0; i < 20; ++i) {
      {
        std::lock_guard lock(mu);
        others.insert(thread_now());
      }
      co_await go::yield();
    }
  };
  for (unsigned i = 0; i < 2 * go::gomaxprocs(); ++i) wg.go(other);
  auto sender = [ping]() -> go::task<void> {
    for (int i = 0; i < 3; ++i) co_await ping.send(i);
  };
  go::spawn(sender);  // the Ps run it while the locked goroutine waits

  co_await go::lock_os_thread();
  const long mine = thread_now();
  std::set<long> seen{mine};
  for (int i = 0; i < 3; ++i) {
    auto v = co_await ping.recv();  // a channel wait
    CHECK(v == i);
    seen.insert(thread_now());
  }
  co_await go::sleep(std::chrono::microseconds(100));  // a timer
  seen.insert(thread_now());
  co_await go::yield();
  seen.insert(thread_now());
  long blocked_on = co_await go::blocking([] { return thread_now(); });
  seen.insert(thread_now());
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  auto acceptor = [l]() -> go::task<void> {
    auto c = co_await l.accept();
    (void)co_await c.write(std::string_view("x"));
  };
  auto a = go::spawn(acceptor);
  auto c = co_await go::net::dial("tcp", l.addr());  // I/O waits
  std::byte buf[1];
  co_await c.read_full(buf);
  seen.insert(thread_now());
  co_await a;
  CHECK(seen.size() == 1);  // always the same thread
  CHECK(blocked_on != mine);
  CHECK(go::detail::current_p_index() == -1);  // it holds no P

  co_await wg.wait();
  {
    std::lock_guard lock(mu);
    CHECK(others.count(mine) == 0);  // nobody else ran on it
    CHECK(!others.empty());
  }

  go::unlock_os_thread();
  co_await go::yield();  // the next suspension takes it back to the Ps
  CHECK(thread_now() != mine);
  CHECK(go::detail::current_p_index() >= 0);
}

GO_TEST_CASE("lock_os_thread: nested locks count; unlock without a lock is an error") {
  bool refused = false;
  try {
    go::unlock_os_thread();
  } catch (const go::error& e) {
    refused = e.code() == go::errc::invalid_argument;
  }
  CHECK(refused);
  co_await go::lock_os_thread();
  const long mine = thread_now();
  co_await go::lock_os_thread();  // nested: stays
  go::unlock_os_thread();
  co_await go::sleep(std::chrono::microseconds(50));
  CHECK(thread_now() == mine);  // still locked (one lock left)
  go::unlock_os_thread();
  co_await go::sleep(std::chrono::microseconds(50));
  CHECK(go::detail::current_p_index() >= 0);  // back on a P
}

TEST_CASE("lock_os_thread: a runtime stopped with a locked goroutine parked destroys it") {
  auto never = go::make_chan<int>();
  std::atomic<bool> destroyed{false};
  {
    go::runtime rt(go_test::with_procs(1));
    struct flag {
      std::atomic<bool>& f;
      ~flag() { f = true; }
    };
    auto started = go::make_chan<int>(1);
    rt.block_on([&]() -> go::task<void> {
      auto locked = [&destroyed, never, started]() -> go::task<void> {
        flag f{destroyed};
        co_await go::lock_os_thread();
        co_await started.send(1);
        (void)co_await never.recv();  // parked for good, on its own thread
      };
      go::spawn(locked);
      (void)co_await started.recv();
    });
  }
  CHECK(destroyed.load());
}

namespace {
go::task<void> locked_dump_waiter(go::chan<int> started, go::chan<int> c) {
  co_await go::lock_os_thread();
  co_await started.send(1);
  (void)co_await c.recv();  // parked on its own thread
  go::unlock_os_thread();
}
}  // namespace

// Its thread does not stop with the world; the dump still reads a parked locked
// goroutine's await chain (under the thread's frames mutex).
GO_TEST_CASE("lock_os_thread: the dump shows a parked locked goroutine's await chain") {
  auto started = go::make_chan<int>(), c = go::make_chan<int>();
  auto h = go::spawn(locked_dump_waiter, started, c);
  (void)co_await started.recv();
  co_await go_test::until_waiting(1, "chan receive");
  const std::string dump = go::dump_goroutines();
  c.close();
  co_await h;
  CHECK(dump.find("[chan receive]:") != std::string::npos);
  CHECK(dump.find("locked_dump_waiter") != std::string::npos);
}
