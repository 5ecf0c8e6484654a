// Seeing inside a running program: the goroutine dump (Go's traceback of every
// goroutine), stopping the world for it, SIGQUIT, the deadlock report and the leak
// check (docs/observability.md).
//
// The dump reads goroutines from three places: the worker that calls it (its own g,
// running), the run queues (runnext, local, global) and the parked registry (every g
// that has parked once stays registered until it exits). A g's await chain is its
// innermost suspended task frame (resume_point) and the continuation links up to the
// root task; those frames are stable only while no worker runs the g, so chains are read
// with the world stopped (stop_the_world: every worker waits between two goroutines).
// A worker that does not stop in time (a goroutine that never suspends) leaves the dump
// with headers only: ids, states, wait reasons and spawn sites, which never change
// while the g lives and are read under the queue and registry locks.
//
// Names: the first word of a coroutine frame is its resume function (both compilers'
// ABI), which the symbolizer (Boost.Stacktrace over libbacktrace when the build found
// it, else dladdr) turns into the coroutine's name and, with debug info, the file:line
// where the function starts. "created by" is the return address of the spawn call.
#include <cxxabi.h>
#include <dlfcn.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#if GO_HAVE_STACKTRACE
#define BOOST_STACKTRACE_LINK
#include <boost/stacktrace/frame.hpp>
#endif

#include "go/task.hpp"
#include "runtime/netpoll.hpp"
#include "runtime/sched.hpp"

namespace go::detail {

namespace {

std::string demangle(const char* mangled) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> d(abi::__cxa_demangle(mangled, nullptr, nullptr, &status), &std::free);
  return status == 0 && d ? std::string(d.get()) : std::string(mangled);
}

bool ends_with(const std::string& s, const char* suffix) {
  const std::size_t n = std::strlen(suffix);
  return s.size() >= n && s.compare(s.size() - n, n, suffix) == 0;
}

// g++ names a coroutine's resume function "f(f(int)::_ZL1fi.Frame*) [clone .actor]",
// clang "f(int) [clone .resume]": both become "f(int)".
std::string coroutine_name(std::string n) {
  for (const char* suffix : {" [clone .actor]", " [clone .resume]", " [clone .destroy]", " (.resume)"})
    if (ends_with(n, suffix)) n.resize(n.size() - std::strlen(suffix));
  const std::size_t frame = n.rfind(".Frame*)");
  if (frame != std::string::npos) {
    const std::size_t mangled = n.rfind("::_Z", frame);
    if (mangled != std::string::npos) return demangle(n.substr(mangled + 2, frame - mangled - 2).c_str());
  }
  return n;
}

struct location {
  std::string function;
  std::string file;  // empty without debug info
  unsigned line = 0;
};

location symbolize(const void* pc) {
  location l;
#if GO_HAVE_STACKTRACE
  boost::stacktrace::frame f(pc);
  l.function = f.name();
  l.file = f.source_file();
  l.line = static_cast<unsigned>(f.source_line());
  // clang's line tables can give "<build dir>//<absolute path>": keep the absolute one.
  if (std::size_t twice = l.file.rfind("//"); twice != std::string::npos) l.file.erase(0, twice + 1);
#else
  Dl_info info{};
  if (dladdr(pc, &info) && info.dli_sname) l.function = demangle(info.dli_sname);
#endif
  if (l.function.empty()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%p", pc);
    l.function = buf;
  } else {
    l.function = coroutine_name(std::move(l.function));
  }
  return l;
}

void append_location(std::string& out, const location& l) {
  out += l.function;
  out += '\n';
  if (!l.file.empty()) {
    out += '\t';
    out += l.file;
    out += ':';
    out += std::to_string(l.line);
    out += '\n';
  }
}

// What the dump needs of one goroutine, copied under the lock that keeps the g alive.
struct gsnap {
  std::uint64_t id = 0;
  g_status status = g_status::runnable;
  wait_reason why = wait_reason::none;
  std::uint32_t since_ms = 0;
  std::uint64_t creator = 0;
  const void* spawn_pc = nullptr;
  int worker = -1;                  // running: its P
  bool started = false;             // it has run: it has a resume point
  struct frame {
    const void* resume_fn;
    const void* suspended_at;  // detail/suspension.hpp; null if not noted
  };
  std::vector<frame> chain;  // innermost first (world stopped)
};

// The await chain of a g that is not running: the innermost suspended frame, then each
// frame's continuation (task.hpp's promise_base, at the frame's promise offset for any
// promise aligned to at most 16 bytes, as every task's is).
void read_chain(const g* gp, gsnap& s) {
  void* frame = gp->resume_point.address();
  for (int depth = 0; frame && depth < 256; ++depth) {
    void* resume_fn = *static_cast<void**>(frame);
    if (!resume_fn) break;  // at its final suspend
    const promise_base& pr = std::coroutine_handle<promise_base>::from_address(frame).promise();
    s.chain.push_back({resume_fn, pr.suspended_at_});
    frame = pr.continuation_.address();
  }
}

gsnap snap(sched& sc, const g* gp, bool frames) {
  gsnap s;
  s.id = gp->id;
  s.status = gp->status.load(memory_order_relaxed);
  s.why = gp->reason.load(memory_order_relaxed);
  s.since_ms = gp->wait_since.load(memory_order_relaxed);
  s.creator = gp->creator;
  s.spawn_pc = gp->spawn_pc;
  if (!gp->locked.load(memory_order_relaxed)) {
    s.started = static_cast<bool>(gp->resume_point);
    if (frames && s.started && s.status != g_status::running) read_chain(gp, s);
    return s;
  }
  // A locked goroutine has run (it called lock_os_thread). Its thread does not stop with
  // the world: its frames are read only under the thread's frames mutex, which it holds
  // from each resume until the goroutine is parked again (a running one is left out).
  s.started = true;
  if (frames && s.status != g_status::running) {
    if (locked_thread* lt = sc.hold_locked_frames(gp)) {
      if (gp->status.load(memory_order_relaxed) != g_status::running) read_chain(gp, s);
      lt->frames.unlock();
    }
  }
  return s;
}

void append(std::string& out, std::initializer_list<std::string_view> parts) {
  for (std::string_view p : parts) out.append(p);  // (operator+ chains trip g++ 12's -Wrestrict)
}

// now_ms and the g's since_ms are in the units of wait_since: ms of the coarse clock, or
// us with the block profile (ms_unit = 1000 then).
void format(std::string& out, const gsnap& s, std::uint32_t now_ms, bool frames, std::uint32_t ms_unit = 1) {
  append(out, {"goroutine ", std::to_string(s.id), " ["});
  switch (s.status) {
    case g_status::running: out += "running"; break;
    case g_status::runnable: out += "runnable"; break;
    case g_status::waiting: out += to_string(s.why); break;
    case g_status::dead: out += "dead"; break;
  }
  if (s.status == g_status::waiting && now_ms >= s.since_ms) {
    const std::uint32_t minutes = (now_ms - s.since_ms) / (60'000 * ms_unit);
    if (minutes >= 1) append(out, {", ", std::to_string(minutes), " minutes"});  // Go's wording, "1 minutes" too
  }
  out += "]:\n";
  if (s.status == g_status::running) {
    if (s.worker < 0)
      out += "\t(running on its own OS thread, lock_os_thread: its await chain changes while it runs)\n";
    else
      append(out, {"\t(running on P ", std::to_string(s.worker), ": its await chain changes while it runs)\n"});
  } else if (!s.started) {
    out += "\t(not started yet)\n";
  } else if (!frames) {
    out += "\t(await chain not read: the world did not stop)\n";
  }
  for (const gsnap::frame& f : s.chain) {
    location l = symbolize(f.resume_fn);
    // The line of the co_await it is suspended at, when the noted address is inside the
    // same function (else, and without debug info, where the function begins).
    if (f.suspended_at) {
      location at = symbolize(f.suspended_at);
      if (at.function == l.function && !at.file.empty()) {
        l.file = std::move(at.file);
        l.line = at.line;
      }
    }
    append_location(out, l);
  }
  if (s.spawn_pc) {
    // pc - 1: inside the call, so the line is the spawn's, not the next statement's.
    location at = symbolize(static_cast<const char*>(s.spawn_pc) - 1);
    // The main goroutine of block_on (go::run) has no "created by", as Go's main has none.
    if (s.creator == 0 && at.function.find("go::runtime::block_on") != std::string::npos) {
      out += '\n';
      return;
    }
    append(out, {"created by ", at.function});
    if (s.creator) append(out, {" in goroutine ", std::to_string(s.creator)});
    out += '\n';
    if (!at.file.empty()) append(out, {"\t", at.file, ":", std::to_string(at.line), "\n"});
  }
  out += '\n';
}

}  // namespace

std::string function_name(const void* pc) { return symbolize(pc).function; }

// -- stop the world --

bool sched::stop_the_world(std::chrono::milliseconds patience) {
  dump_mu_.lock();  // released by start_the_world
  const unsigned self = tls().s == this && tls().pp ? 1 : 0;  // a worker (a locked thread holds no P)
  std::unique_lock lock(stw_mu_);
  stw_.store(true, memory_order_release);  // pairs with the acquire load in stw_requested()
  diag.fetch_or(diag_stw, memory_order_relaxed);  // a running worker sees it at its next execute
  idlers.notify_all();                     // sleeping workers come back and pause
  return stw_cv_.wait_for(lock, patience, [&] { return stw_paused_ + self >= nprocs; });
}

void sched::start_the_world() {
  {
    std::lock_guard lock(stw_mu_);
    stw_.store(false, memory_order_release);
    diag.fetch_and(static_cast<std::uint8_t>(~diag_stw), memory_order_relaxed);
  }
  stw_cv_.notify_all();
  dump_mu_.unlock();
}

void sched::stw_pause() noexcept {
  std::unique_lock lock(stw_mu_);
  ++stw_paused_;
  stw_cv_.notify_all();
  stw_cv_.wait(lock, [&] { return !stw_.load(memory_order_relaxed) || stopping(); });
  --stw_paused_;
}

// -- the dump --

void sched::dump(std::string& out, bool frames, bool only_running, const char* suffix) {
  std::vector<gsnap> gs;
  const g* self = tls().s == this ? tls().cur : nullptr;
  if (self) {
    gsnap s = snap(*this, self, false);
    s.status = g_status::running;
    s.worker = tls().pp ? static_cast<int>(tls().pp->id) : -1;  // -1: a locked goroutine's own thread
    gs.push_back(std::move(s));
  }
  std::size_t hidden = 0;
  // Other workers' goroutines: with the world stopped every other worker is between
  // two goroutines; else only their numbers are safe to read (the g may end meanwhile).
  if (!frames) {
    for (const auto& pp : ps) {
      const std::uint64_t id = pp->cur_goid.load(memory_order_relaxed);
      if (!id || (self && id == self->id)) continue;
      gsnap s;
      s.id = id;
      s.status = g_status::running;
      s.worker = static_cast<int>(pp->id);
      s.started = true;
      gs.push_back(std::move(s));
    }
  }
  if (!only_running) {
    auto queued = [&](g* gp) {
      if (gp && gp->reg_shard < 0) gs.push_back(snap(*this, gp, frames));  // a registered one comes from the registry
    };
    if (frames) {  // queued gs are safe to read only while no worker takes them
      for (const auto& pp : ps) {
        queued(pp->runnext.load(memory_order_acquire));
        queued(pp->in_hand);
        pp->q.for_each_stopped(queued);
      }
      global.for_each(queued);
    } else {
      hidden = global.size();
      for (const auto& pp : ps) hidden += pp->q.size() + (pp->runnext.load(memory_order_relaxed) ? 1 : 0);
    }
    parked.for_each([&](g* gp) {
      const g_status st = gp->status.load(memory_order_relaxed);
      if (st == g_status::waiting || (frames && st == g_status::runnable)) gs.push_back(snap(*this, gp, frames));
    });
  }
  std::sort(gs.begin() + (self ? 1 : 0), gs.end(), [](const gsnap& a, const gsnap& b) { return a.id < b.id; });
  const bool us = opts.block_profile;  // wait_since is the park's clock in us then
  const std::uint32_t now = us ? static_cast<std::uint32_t>(nanotime() / 1000) : coarse_ms.load(memory_order_relaxed);
  for (const gsnap& s : gs) format(out, s, now, frames, us ? 1000 : 1);
  if (hidden) append(out, {"(", std::to_string(hidden), " runnable goroutines not listed: a worker did not stop in time)\n\n"});
  if (suffix) out += suffix;
}

bool sched::deadlocked() const {
  if (stopping() || idlers.unparked() != 0 || !global.empty()) return false;
  for (const auto& pp : ps)
    if (!pp->q.empty() || pp->runnext.load(memory_order_acquire)) return false;
  if (timers.earliest() != never) return false;  // a timer may wake someone
  if (netpoll* np = io.net(); np && np->has_waiters()) return false;
  std::uint64_t waiting = 0;
  const bool wakeable = parked.any_of([&](const g* gp) {
    if (gp->status.load(memory_order_relaxed) != g_status::waiting) return false;
    const wait_reason why = gp->reason.load(memory_order_relaxed);
    if (why == wait_reason::blocking || why == wait_reason::io) return true;  // a thread or the kernel will wake it
    ++waiting;
    return false;
  });
  if (wakeable) return false;
  const runtime_stats st = stats();
  return st.live > 0 && waiting == st.live;
}

std::size_t sched::leftover(std::string& out) {
  std::string body;
  dump(body, /*frames=*/true, /*only_running=*/false);
  std::size_t n = 0;
  for (std::size_t pos = 0; (pos = body.find("goroutine ", pos)) != std::string::npos; pos += 10)
    if (pos == 0 || body[pos - 1] == '\n') ++n;
  out += body;
  return n;
}

// -- the block profile --

void sched::profile_block(g* gp) noexcept {
  const std::uint32_t now_us = static_cast<std::uint32_t>(nanotime() / 1000);
  const std::uint64_t waited_ns = static_cast<std::uint64_t>(now_us - gp->wait_since.load(memory_order_relaxed)) * 1000;
  const void* site = gp->resume_point ? *static_cast<void* const*>(gp->resume_point.address()) : nullptr;
  const auto why = static_cast<std::uint8_t>(gp->reason.load(memory_order_relaxed));
  worker_tls& t = tls();
  p& pp = t.s == this && t.pp ? *t.pp : *ps[0];  // any P's table will do: each has its lock
  pp.prof_lock.lock();
  p::blocked& b = pp.prof[{why, site}];  // a bad_alloc here is out of memory (noexcept: terminate)
  ++b.count;
  b.total_ns += waited_ns;
  pp.prof_lock.unlock();
}

// -- SIGQUIT --

namespace {
int sigquit_pipe[2] = {-1, -1};

extern "C" void on_sigquit(int) {
  const char c = 1;
  const int saved = errno;
  (void)!::write(sigquit_pipe[1], &c, 1);  // async-signal-safe; the dumping thread does the rest
  errno = saved;
}

void write_all(const std::string& s) {
  for (std::size_t done = 0; done < s.size();) {
    ssize_t n = ::write(2, s.data() + done, s.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

bool dump_one(sched* s, void* arg) noexcept {
  auto* out = static_cast<std::pair<std::string*, int>*>(arg);
  try {
    const bool stopped = s->stop_the_world(std::chrono::milliseconds(500));
    s->dump(*out->first, stopped, out->second == 1);
    s->start_the_world();
  } catch (...) {
  }
  return false;  // visit every runtime
}

void sigquit_main() {
  char c;
  while (::read(sigquit_pipe[0], &c, 1) < 0 && errno == EINTR) {
  }
  // GOTRACEBACK: none prints no goroutine, single the running ones, all (the default
  // for SIGQUIT) every one.
  int level = 2;
  if (const char* tb = std::getenv("GOTRACEBACK")) {
    if (std::strcmp(tb, "none") == 0 || std::strcmp(tb, "0") == 0) level = 0;
    if (std::strcmp(tb, "single") == 0) level = 1;
  }
  std::string out = "SIGQUIT: quit\n\n";
  if (level > 0) {
    std::pair<std::string*, int> arg{&out, level};
    for_each_live_sched(&dump_one, &arg);
  }
  write_all(out);
  std::_Exit(2);
}
}  // namespace

void install_sigquit_dump() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    struct sigaction old {};
    if (::sigaction(SIGQUIT, nullptr, &old) != 0) return;
    if ((old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) return;  // the program's own handler stays
    if (::pipe(sigquit_pipe) != 0) return;
    try {
      std::thread(sigquit_main).detach();  // blocked in read until the signal comes
    } catch (...) {
      return;
    }
    struct sigaction sa {};
    sa.sa_handler = &on_sigquit;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    ::sigaction(SIGQUIT, &sa, nullptr);
  });
}

// -- the deadlock report (from sysmon) --

void report_deadlock(sched& s) noexcept {
  std::string out = "fatal error: all goroutines are asleep - deadlock!\n\n";
  const bool stopped = s.stop_the_world(std::chrono::milliseconds(1000));
  try {
    s.dump(out, stopped, false);
  } catch (...) {
  }
  write_all(out);
  std::_Exit(2);
}

}  // namespace go::detail

namespace go {

namespace {
std::string dump_of(detail::sched* s) {
  std::string out;
  const bool stopped = s->stop_the_world(std::chrono::milliseconds(1000));
  try {
    s->dump(out, stopped, false);
  } catch (...) {
    s->start_the_world();
    throw;
  }
  s->start_the_world();
  return out;
}
}  // namespace

std::string dump_goroutines() {
  detail::sched* s = detail::tls().s;
  if (!s) throw error(errc::no_runtime, "go::dump_goroutines: no go::runtime is current on this thread");
  return dump_of(s);
}

void dump_goroutines(std::ostream& out) { out << dump_goroutines(); }

std::string dump_goroutines(runtime& rt) { return dump_of(rt.s_); }

std::vector<block_profile_entry> runtime::block_profile() const {
  std::map<std::pair<std::uint8_t, const void*>, detail::p::blocked> all;
  for (auto& pp : s_->ps) {
    pp->prof_lock.lock();
    for (const auto& [key, b] : pp->prof) {
      auto& sum = all[key];
      sum.count += b.count;
      sum.total_ns += b.total_ns;
    }
    pp->prof_lock.unlock();
  }
  std::vector<block_profile_entry> out;
  for (const auto& [key, b] : all)
    out.push_back({detail::to_string(static_cast<detail::wait_reason>(key.first)),
                   key.second ? detail::function_name(key.second) : std::string("?"), b.count,
                   std::chrono::nanoseconds(b.total_ns)});
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.total > b.total; });
  return out;
}

void runtime::reset_block_profile() {
  for (auto& pp : s_->ps) {
    pp->prof_lock.lock();
    pp->prof.clear();
    pp->prof_lock.unlock();
  }
}

}  // namespace go

namespace go::testing {

std::string leaked_goroutines(runtime& rt, std::chrono::milliseconds patience) {
  // Goroutines that are finishing get the time they need: look again with a growing
  // pause, as goleak retries, until none is left or patience runs out.
  const auto give_up = std::chrono::steady_clock::now() + patience;
  for (auto pause = std::chrono::microseconds(100); rt.stats().live != 0;) {
    if (std::chrono::steady_clock::now() >= give_up) return dump_goroutines(rt);
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(100'000));
  }
  return {};
}

void expect_no_leaks(runtime& rt, std::chrono::milliseconds patience) {
  std::string leaks = leaked_goroutines(rt, patience);
  if (!leaks.empty()) throw error(errc::invalid_argument, "found unexpected goroutines:\n" + leaks);
}

}  // namespace go::testing
