// The model checker's engine (model.hpp): fibers on ucontext, TSO store buffers, and a
// depth-first walk over the schedules.
#include "model.hpp"

#include <ucontext.h>

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <memory>
#include <vector>

#include "model_atomic.hpp"

namespace go::model {

namespace {

constexpr std::size_t stack_size = 256 * 1024;

struct buffered {  // a store that has not reached memory
  void* addr;
  std::uint64_t bits;
  std::size_t n;
};

enum class state { runnable, blocked_futex, blocked_join, done };

struct fiber {
  ucontext_t ctx;
  char* stack = nullptr;
  std::function<void()> fn;
  state st = state::runnable;
  const void* wait_addr = nullptr;  // blocked_futex: the word
  int join_target = -1;             // blocked_join: whom
  bool yielding = false;
  std::deque<buffered> buf;  // oldest first
};

struct choice {
  std::uint32_t chosen;
  std::uint32_t count;
};

struct engine {
  const options* opt = nullptr;
  std::vector<std::unique_ptr<char[]>> stacks;  // reused from one schedule to the next
  std::vector<std::unique_ptr<fiber>> fibers;
  int current = 0;
  ucontext_t home;  // explore()'s context: where a schedule ends
  std::vector<choice> path;
  std::size_t depth = 0;
  int preemptions = 0;
  std::uint64_t steps = 0;
  bool failed = false;
  std::string message;
  bool tracing = false;
  std::string trace;
};

engine* E = nullptr;  // the exploration in progress, if any

fiber& cur() { return *E->fibers[static_cast<std::size_t>(E->current)]; }

// A line of the failing schedule's trace (only while replaying it).
__attribute__((format(printf, 1, 2))) void note(const char* fmt, ...) {
  if (!E->tracing) return;
  char line[256];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  E->trace += line;
  E->trace += '\n';
}

void drain_one(fiber& f) {
  const buffered b = f.buf.front();
  f.buf.pop_front();
  std::memcpy(b.addr, &b.bits, b.n);
}

void drain_all(fiber& f) {
  while (!f.buf.empty()) drain_one(f);
}

std::uint32_t choose(std::uint32_t count) {
  if (count == 1) return 0;  // no choice: not recorded
  if (E->depth < E->path.size()) {
    const choice c = E->path[E->depth++];
    if (c.count != count) fail("the case is not deterministic: a replayed schedule offered different choices");
    return c.chosen;
  }
  E->path.push_back({0, count});
  ++E->depth;
  return 0;
}

[[noreturn]] void end_schedule() {
  setcontext(&E->home);
  std::abort();  // unreachable
}

void switch_to(int k) {
  const int prev = E->current;
  if (k == prev) return;
  E->current = k;
  note("-> t%d", k);
  swapcontext(&E->fibers[static_cast<std::size_t>(prev)]->ctx, &E->fibers[static_cast<std::size_t>(k)]->ctx);
}

// Choose what happens next; returns when the current fiber runs again.
void schedule() {
  struct option {
    int drain;  // 0: run thread k; 1: drain its oldest store; 2: drain its whole buffer
    int k;
  };
  for (;;) {
    fiber& c = cur();
    const bool runnable = c.st == state::runnable;
    const bool free_switch = !runnable;  // not a preemption
    const bool may_preempt = E->preemptions < E->opt->preemptions;
    option opts[3 * 64];
    std::uint32_t n = 0;
    if (runnable && c.yielding) {
      // A spin: the next runnable thread after this one runs, without a choice. Which
      // one it is does not matter to the spinner, and a choice per spin would multiply
      // the schedules by every iteration of every spin loop.
      c.yielding = false;
      const std::size_t nf = E->fibers.size();
      for (std::size_t d = 1; d <= nf; ++d) {
        const std::size_t k = (static_cast<std::size_t>(E->current) + d) % nf;
        if (E->fibers[k]->st == state::runnable) {
          switch_to(static_cast<int>(k));
          return;
        }
      }
    }
    if (runnable && !free_switch) opts[n++] = {0, E->current};
    for (std::size_t k = 0; k < E->fibers.size(); ++k)
      if (static_cast<int>(k) != E->current && E->fibers[k]->st == state::runnable && (free_switch || may_preempt))
        opts[n++] = {0, static_cast<int>(k)};
    // Draining: one store (what TSO allows at any moment), or all of them at once (the
    // same as several drains in a row, for one unit of the bound).
    if (may_preempt)
      for (std::size_t k = 0; k < E->fibers.size(); ++k) {
        if (!E->fibers[k]->buf.empty()) opts[n++] = {1, static_cast<int>(k)};
        if (E->fibers[k]->buf.size() > 1) opts[n++] = {2, static_cast<int>(k)};
      }
    if (n == 0) {
      // Nothing can run. (Blocked and finished fibers have drained their buffers.)
      for (auto& f : E->fibers)
        if (f->st != state::done) fail("deadlock: every thread that has not finished is blocked (a lost wakeup?)");
      end_schedule();
    }
    const option o = opts[choose(n)];
    if (o.drain) {
      ++E->preemptions;
      fiber& f = *E->fibers[static_cast<std::size_t>(o.k)];
      note(o.drain == 1 ? "drain one store of t%d" : "drain every store of t%d", o.k);
      if (o.drain == 1)
        drain_one(f);
      else
        drain_all(f);
      continue;
    }
    if (o.k != E->current && runnable && !free_switch) ++E->preemptions;
    switch_to(o.k);
    return;
  }
}

void entry(int id) {
  fiber& f = *E->fibers[static_cast<std::size_t>(id)];
  try {
    f.fn();
  } catch (const std::exception& e) {
    static char what[256];  // fail() does not return: the message must outlive this frame
    std::snprintf(what, sizeof what, "an exception escaped a thread: %s", e.what());
    fail(what);
  } catch (...) {
    fail("an exception escaped a thread");
  }
  f.fn = nullptr;
  drain_all(f);  // a thread's exit is a full barrier
  f.st = state::done;
  note("t%d ends", id);
  for (auto& o : E->fibers)
    if (o->st == state::blocked_join && o->join_target == id) o->st = state::runnable;
  schedule();  // never comes back: a finished fiber is not chosen
  std::abort();
}

int add_fiber(std::function<void()> fn) {
  const std::size_t id = E->fibers.size();
  if (id >= 64) fail("too many threads for the model (64)");
  if (E->stacks.size() <= id) E->stacks.push_back(std::make_unique<char[]>(stack_size));
  auto f = std::make_unique<fiber>();
  f->fn = std::move(fn);
  f->stack = E->stacks[id].get();
  getcontext(&f->ctx);
  f->ctx.uc_stack.ss_sp = f->stack;
  f->ctx.uc_stack.ss_size = stack_size;
  f->ctx.uc_link = nullptr;
  makecontext(&f->ctx, reinterpret_cast<void (*)()>(&entry), 1, static_cast<int>(id));
  E->fibers.push_back(std::move(f));
  return static_cast<int>(id);
}

void run_one(const std::function<void()>& body) {
  E->fibers.clear();
  E->current = 0;
  E->depth = 0;
  E->preemptions = 0;
  E->steps = 0;
  E->failed = false;
  E->message.clear();
  E->trace.clear();
  add_fiber(body);
  swapcontext(&E->home, &E->fibers[0]->ctx);
}

}  // namespace

result explore(const options& o, const std::function<void()>& body) {
  engine e;
  e.opt = &o;
  E = &e;
  result r;
  for (;;) {
    run_one(body);
    ++r.executions;
    if (e.failed) {
      r.failed = true;
      r.message = e.message;
      e.path.resize(e.depth);
      e.tracing = true;
      run_one(body);  // the same schedule again, traced
      r.trace = e.trace;
      break;
    }
    while (!e.path.empty() && e.path.back().chosen + 1 >= e.path.back().count) e.path.pop_back();
    if (e.path.empty()) {
      r.complete = true;
      break;
    }
    ++e.path.back().chosen;
    if (r.executions >= o.max_executions) break;
  }
  e.fibers.clear();
  E = nullptr;
  return r;
}

thread::thread(std::function<void()> f) {
  if (!E) fail("model::thread outside explore()");
  drain_all(cur());  // creating a thread is a syscall: a full barrier
  id_ = add_fiber(std::move(f));
  step("spawn");
}

void thread::join() {
  fiber& f = *E->fibers[static_cast<std::size_t>(id_)];
  if (f.st == state::done) return;
  drain_all(cur());  // a join is a syscall: a full barrier
  cur().st = state::blocked_join;
  cur().join_target = id_;
  note("t%d joins t%d", E->current, id_);
  schedule();
}

void check(bool cond, const char* what) {
  if (!cond) fail(what);
}

void fail(const char* what) {
  if (!E) {
    std::fprintf(stderr, "model: %s (outside an exploration)\n", what);
    std::abort();
  }
  if (!E->failed) {
    E->failed = true;
    E->message = what;
  }
  note("t%d fails: %s", E->current, what);
  end_schedule();
}

// -- the facade's side --

void load_bits(const void* addr, void* out, std::size_t n) noexcept {
  if (E)
    for (auto it = cur().buf.rbegin(); it != cur().buf.rend(); ++it)
      if (it->addr == addr) return (void)std::memcpy(out, &it->bits, n);  // our own newest store
  std::memcpy(out, addr, n);
}

void store_bits(void* addr, const void* in, std::size_t n, bool sc) noexcept {
  if (!E) return (void)std::memcpy(addr, in, n);
  if (sc) {  // an x86 seq_cst store is an xchg: a full barrier
    drain_all(cur());
    return (void)std::memcpy(addr, in, n);
  }
  buffered b{addr, 0, n};
  std::memcpy(&b.bits, in, n);
  cur().buf.push_back(b);
}

void drain_own() noexcept {
  if (E) drain_all(cur());
}

void step(const char* what) noexcept {
  if (!E) return;
  note("t%d %s", E->current, what);
  if (++E->steps > E->opt->max_steps) fail("a schedule ran past max_steps (a livelock?)");
  schedule();
}

void fence(std::memory_order o) noexcept {
  if (o != std::memory_order_seq_cst) return;  // acquire / release fences are free on x86
  drain_own();
  step("fence");
}

// A spin hint takes no step of its own: the next atomic operation (the spinner's look
// at the lock or flag) switches to another thread.
void cpu_relax() noexcept {
  if (E) cur().yielding = true;
}

void thread_yield() noexcept { cpu_relax(); }

void futex_wait(atomic<std::uint32_t>& word, std::uint32_t expected, const timespec* timeout) noexcept {
  if (!E) return;
  drain_own();  // a syscall
  std::uint32_t v;
  std::memcpy(&v, word.address(), sizeof v);
  if (v != expected || timeout) {  // a timed wait is allowed to time out at once
    step(v != expected ? "futex_wait: value changed" : "futex_wait: timed out");
    return;
  }
  cur().st = state::blocked_futex;
  cur().wait_addr = word.address();
  note("t%d futex_wait: sleeps", E->current);
  schedule();
}

void futex_wake(atomic<std::uint32_t>& word, int n) noexcept {
  if (!E) return;
  drain_own();
  for (auto& f : E->fibers)
    if (n > 0 && f->st == state::blocked_futex && f->wait_addr == word.address()) {
      f->st = state::runnable;
      --n;
    }
  step("futex_wake");
}

}  // namespace go::model

// The code under test reports a broken invariant through fatal(): in the model, that
// fails the schedule.
namespace go::detail {
[[noreturn]] void fatal(const char* msg) noexcept { go::model::fail(msg); }
}  // namespace go::detail
