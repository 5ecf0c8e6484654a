// Programs that end in the runtime's diagnostics, one per case name, for
// test/unit/debug_test.cpp to run as child processes (the deadlock report and SIGQUIT
// exit the process, as Go's do).
//   deadlock cases (exit 2, "fatal error: all goroutines are asleep - deadlock!"):
//     main_recv, mutex, wait_group, select_none
//   not deadlocks (exit 0): timer_pending, sleeper, io_wait, others_run
//   sigquit: raises SIGQUIT with goroutines blocked (exit 2, the dump)
//   leak: go::run returns with a goroutine blocked; GODEBUG=leakcheck=1 lists it
//   broken invariants (abort, "fatal error: go: invariant broken: ..."), any build:
//     broken_waitq, chan_sender_in_recvq, chan_both_queues
//   checking builds only (abort, "fatal error: go: ..."; exit 0 in Release): unheld_lock,
//     chan_lock_order, waitq_remove_unqueued, os_mutex_order; os_mutex_try_lock exits 0
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

#include <go/go.hpp>
#include <go/net.hpp>

#include "go/detail/chan_core.hpp"
#include "go/detail/os_mutex.hpp"
#include "go/detail/spinlock.hpp"
#include "go/detail/waitq.hpp"
#include "support/watchdog.hpp"

using namespace std::chrono_literals;

namespace {

go::task<int> diag_receive_forever(go::chan<int> c) {
  auto v = co_await c.recv();
  co_return v.value_or(0);
}

go::task<int> main_recv() {
  auto c = go::make_chan<int>();
  co_return co_await diag_receive_forever(c);
}

go::task<int> mutex_case() {
  go::mutex mu;
  auto held = co_await mu.lock();
  go::wait_group wg;
  for (int i = 0; i < 3; ++i)
    wg.go([&mu]() -> go::task<void> {
      auto g = co_await mu.lock();  // never: main holds it while it waits for them
    });
  co_await wg.wait();
  co_return 0;
}

go::task<int> wait_group_case() {
  go::wait_group wg;
  wg.add(1);
  co_await wg.wait();  // nobody calls done
  co_return 0;
}

go::task<int> select_none() {
  co_await go::select();  // Go's select {}
  co_return 0;
}

// A timer still pending wakes the blocked main goroutine: not a deadlock.
go::task<int> timer_pending() {
  auto c = go::make_chan<int>(1);
  auto t = go::after_func(100ms, [c] { (void)c.try_send(7); });
  auto v = co_await c.recv();
  co_return v == 7 ? 0 : 1;
}

go::task<int> sleeper() {
  co_await go::sleep(100ms);
  co_return 0;
}

// Blocked in accept until a thread outside the runtime connects: not a deadlock.
go::task<int> io_wait() {
  auto l = go::net::listen("tcp", "127.0.0.1:0");
  std::string addr = l.addr();
  std::thread dialer([addr] {
    std::this_thread::sleep_for(100ms);  // the accept is blocked by then (either order works)
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<std::uint16_t>(std::stoi(addr.substr(addr.rfind(':') + 1))));
    ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
    ::close(fd);
  });
  auto conn = co_await l.accept();
  dialer.join();
  co_return conn.valid() ? 0 : 1;
}

// One goroutine blocked for good while main keeps working and then returns: Go's rule,
// not a deadlock.
go::task<int> others_run() {
  auto never = go::make_chan<int>();
  go::spawn(diag_receive_forever, never);
  for (int i = 0; i < 20; ++i) co_await go::sleep(10ms);
  co_return 0;
}

go::task<int> sigquit() {
  auto c = go::make_chan<int>();
  go::spawn(diag_receive_forever, c);
  co_await go::yield();
  ::raise(SIGQUIT);
  co_await c.recv();
  co_return 1;
}

go::task<int> leak() {
  auto c = go::make_chan<int>();
  go::spawn(diag_receive_forever, c);
  co_await go::yield();
  co_return 0;
}

}  // namespace

// -- invariants broken on purpose (the structures' check(), detail/assert.hpp) --

int broken_waitq() {
  go::detail::waitq q;
  go::detail::waiter a, b;
  q.push_back(&a);
  q.push_back(&b);
  b.prev = nullptr;  // the links disagree now
  q.check();
  return 0;
}

// A channel's queues, corrupted under its lock through select's entry points.
int broken_chan(bool both_queues) {
  auto c = go::make_chan<int>();
  go::detail::chan_core* core = go::detail::chan_access::core(c);
  go::detail::chan_waiter r, w;
  core->lock().lock();
  core->enqueue_locked(&r, /*is_send=*/false);
  if (both_queues)
    core->enqueue_locked(&w, /*is_send=*/true);  // a plain sender and a plain receiver at once
  else
    r.is_send = true;  // a sender in the receive queue
  core->check();
  core->lock().unlock();
  return 0;
}

int unheld_lock() {
  go::detail::spinlock l(go::detail::lock_rank::primitive);
  l.assert_held();
  return 0;
}

int chan_lock_order() {
  // select locks channels in increasing address order; this takes two the other way.
  go::detail::spinlock locks[2] = {go::detail::spinlock(go::detail::lock_rank::chan), go::detail::spinlock(go::detail::lock_rank::chan)};
  locks[1].lock();
  locks[0].lock();
  locks[0].unlock();
  locks[1].unlock();
  return 0;
}

// A test that never finishes (a goroutine asleep for an hour: the pending timer keeps
// the deadlock report quiet), under the watchdog every GO_TEST_CASE has.
int liveness_bound() {
  go::runtime rt;
  go_test::watchdog bound(rt, "\"a goroutine that sleeps for an hour\"");
  rt.block_on([]() -> go::task<void> { co_await go::sleep(1h); });
  return 0;
}

int os_mutex_order() {
  // The stop-the-world lock, then a context's: ctx ranks below dump (lock_rank.hpp).
  go::detail::os_mutex dump(go::detail::lock_rank::dump);
  go::detail::spinlock ctx(go::detail::lock_rank::ctx);
  dump.lock();
  ctx.lock();
  ctx.unlock();
  dump.unlock();
  return 0;
}

int os_mutex_try_lock() {
  // A try_lock against the order is no deadlock: it is recorded, not refused.
  go::detail::os_mutex high(go::detail::lock_rank::locked), low(go::detail::lock_rank::locked_frames);
  high.lock();
  const bool got = low.try_lock();
  if (got) low.unlock();
  high.unlock();
  return got ? 0 : 4;
}

int waitq_remove_unqueued() {
  go::detail::waitq q;
  go::detail::waiter a;
  q.push_back(&a);
  q.remove(&a);
  q.remove(&a);  // not queued any more
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) return 3;
  const std::string name = argv[1];
  if (name == "main_recv") return go::run(main_recv);
  if (name == "mutex") return go::run(mutex_case);
  if (name == "wait_group") return go::run(wait_group_case);
  if (name == "select_none") return go::run(select_none);
  if (name == "timer_pending") return go::run(timer_pending);
  if (name == "sleeper") return go::run(sleeper);
  if (name == "io_wait") return go::run(io_wait);
  if (name == "others_run") return go::run(others_run);
  if (name == "sigquit") return go::run(sigquit);
  if (name == "leak") return go::run(leak);
  if (name == "broken_waitq") return broken_waitq();
  if (name == "chan_sender_in_recvq") return broken_chan(false);
  if (name == "chan_both_queues") return broken_chan(true);
  if (name == "unheld_lock") return unheld_lock();
  if (name == "chan_lock_order") return chan_lock_order();
  if (name == "waitq_remove_unqueued") return waitq_remove_unqueued();
  if (name == "os_mutex_order") return os_mutex_order();
  if (name == "liveness_bound") return liveness_bound();
  if (name == "os_mutex_try_lock") return os_mutex_try_lock();
  std::fprintf(stderr, "unknown case %s\n", argv[1]);
  return 3;
}
