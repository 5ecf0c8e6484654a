// A small model checker for the runtime's lock-free protocols, in the manner of tokio's
// loom: a case's threads run as fibers on one OS thread, every atomic operation of the
// code under test (compiled with GO_MODEL, so that detail/atomic.hpp gives it the
// atomics of model_atomic.hpp) is a scheduling point, and explore() runs the case again
// and again until it has tried every schedule within the bounds, depth first.
//
// What one schedule chooses at each point: keep running the current thread, switch to
// another runnable one, or drain the oldest store of a thread's store buffer to memory
// (x86-TSO, model_atomic.hpp). Switching away from a thread that could go on, and
// draining, are preemptions; a schedule makes at most options::preemptions of them
// (CHESS's bound: most concurrency bugs need very few). Switching away from a thread
// that blocked, finished or spins (cpu_relax, thread_yield) is free. When nothing can
// run, every buffer drains; if still nothing can run, a thread that has not finished
// is blocked for good: the case deadlocked (a lost wakeup).
//
// A case fails when check() is false, the code under test calls detail::fatal (a
// GO_ASSERT, a check() of its invariants), an exception escapes a thread, it
// deadlocks, or a schedule runs past options::max_steps (a livelock). explore() then
// replays the failing schedule with a trace of every step and returns it.
//
// The case must be deterministic given the schedule: no clocks, no randomness, no
// real threads, no I/O.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace go::model {

struct options {
  int preemptions = 2;
  std::uint64_t max_executions = 2'000'000;
  std::uint64_t max_steps = 20'000;
};

struct result {
  std::uint64_t executions = 0;  // schedules run
  bool complete = false;         // every schedule within the bound was run
  bool failed = false;
  std::string message;  // why the failing schedule failed
  std::string trace;    // its steps, one per line: "t<thread> <operation>"
};

// Run body once per schedule. body runs as thread 0 and starts the others.
result explore(const options& o, const std::function<void()>& body);

// A thread of the case (a fiber). join() blocks the caller's fiber until it ends.
class thread {
 public:
  explicit thread(std::function<void()> f);
  thread(const thread&) = delete;
  thread& operator=(const thread&) = delete;
  void join();

 private:
  int id_;
};

// Fail the current schedule unless cond holds.
void check(bool cond, const char* what);
[[noreturn]] void fail(const char* what);

}  // namespace go::model
