// Programs that end in the runtime's diagnostics, one per case name, for
// test/unit/debug_test.cpp to run as child processes (the deadlock report and SIGQUIT
// exit the process, as Go's do).
//   deadlock cases (exit 2, "fatal error: all goroutines are asleep - deadlock!"):
//     main_recv, mutex, wait_group, select_none
//   not deadlocks (exit 0): timer_pending, sleeper, io_wait, others_run
//   sigquit: raises SIGQUIT with goroutines blocked (exit 2, the dump)
//   leak: go::run returns with a goroutine blocked; GODEBUG=leakcheck=1 lists it
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
  std::fprintf(stderr, "unknown case %s\n", argv[1]);
  return 3;
}
