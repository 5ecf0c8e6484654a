// Runtime construction, stop, the shutdown sweep and statistics.
//
// Stop, step by step:
//   1. Under outside_mu_, set stopping_: from now on outside spawns are refused, so
//      nothing new enters the global queue from outside after the sweep starts.
//   2. Wake every worker. Each finishes the step it is running (a goroutine cannot be
//      interrupted) and exits its loop; join them.
//   3. Stop sysmon. Workers and sysmon are what poll the io_context (netpoll.hpp): from
//      now on no I/O completion readies anything.
//   4. Stop the blocking pool: queued calls are dropped, running ones finish and ready
//      their goroutines into the global queue. Shut the io_context down: its pending
//      operations, which live in the frames of the goroutines waiting for them, are
//      destroyed uninvoked while those frames still exist (netpoll.hpp).
//   5. Sweep (destroy_remaining): destroy every goroutine in a run queue, then every
//      parked one in the registry; destroying one may ready others (a guard unlocking a
//      mutex), so repeat until a pass finds nothing. Destroying a g runs the destructors
//      in its frames and completes the join protocol with join_killed.
//   6. Empty the timer heaps: the timers left (after(d) nobody waits for, after_func,
//      timers whose handles outlive the runtime) never fire; the heaps drop their
//      references.
//   7. Destroy the Ps: their frame caches go back to malloc.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <numeric>
#include <string>

#include "go/detail/assert.hpp"
#include "runtime/sched.hpp"
#include "runtime/netpoll.hpp"
#include "runtime/worker.hpp"

namespace go::detail {

namespace {

unsigned default_procs() {
  if (const char* env = std::getenv("GOMAXPROCS")) {
    char* end = nullptr;
    long n = std::strtol(env, &end, 10);
    if (end != env && *end == '\0' && n > 0) return static_cast<unsigned>(n);  // Go ignores bad values too
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw ? hw : 1;
}

// GODEBUG=schedtrace=<ms>,longrunwarn=1, as Go spells its knobs.
void apply_godebug(runtime_options& o) {
  const char* env = std::getenv("GODEBUG");
  if (!env) return;
  std::string s = env;
  for (std::size_t pos = 0; pos < s.size();) {
    std::size_t end = s.find(',', pos);
    if (end == std::string::npos) end = s.size();
    std::string kv = s.substr(pos, end - pos);
    pos = end + 1;
    std::size_t eq = kv.find('=');
    if (eq == std::string::npos) continue;
    std::string key = kv.substr(0, eq);
    long val = std::strtol(kv.c_str() + eq + 1, nullptr, 10);
    if (key == "schedtrace" && val > 0 && o.schedtrace.count() == 0) o.schedtrace = std::chrono::milliseconds(val);
    if (key == "longrunwarn" && val > 0) o.warn_long_running = true;
    if (key == "scheddetail" && val > 0) o.scheddetail = true;
    if (key == "leakcheck" && val > 0) o.leak_check = true;
    if (key == "schedlatency" && val > 0) o.sched_latency = true;
    if (key == "blockprofile" && val > 0) o.block_profile = true;
    if (key == "deadlock" && val == 0) o.deadlock_report = false;
    if (key == "deadlock" && val > 0) o.deadlock_report = true;
  }
}

runtime_options resolve(runtime_options o) {
  if (o.procs == 0) o.procs = default_procs();
  // The idle state word keeps 16 bits per count.
  if (o.procs > 4096) throw error(errc::invalid_argument, "go: runtime_options.procs must be at most 4096");
  if (o.max_blocking_threads == 0)
    throw error(errc::invalid_argument, "go: runtime_options.max_blocking_threads must be positive");
  apply_godebug(o);
  return o;
}

// Every live runtime, by serial number (with_live_sched). An OS mutex: taken only when
// a runtime starts or ends and on with_live_sched's rare path.
os_mutex live_mu{lock_rank::live};
std::vector<sched*> live_scheds;  // under live_mu
detail::atomic<std::uint64_t> serial_gen{0};

}  // namespace

bool with_live_sched(std::uint64_t serial, bool (*fn)(sched*, void*) noexcept, void* arg) noexcept {
  std::lock_guard lock(live_mu);
  for (sched* s : live_scheds)
    if (s->serial == serial) return fn(s, arg);
  return false;
}

void for_each_live_sched(bool (*fn)(sched*, void*) noexcept, void* arg) noexcept {
  std::lock_guard lock(live_mu);
  for (sched* s : live_scheds)
    if (fn(s, arg)) return;
}

sched::sched(runtime_options o, runtime* owner)
    : rt(owner),
      serial(serial_gen.fetch_add(1, detail::memory_order_relaxed) + 1),
      nprocs(o.procs),
      opts(std::move(o)),
      idlers(nprocs),
      parked(nprocs),
      blocking(opts.max_blocking_threads, opts.blocking_keep_alive, opts.thread_name + "-blk") {
  for (unsigned i = 0; i < nprocs; ++i) ps.push_back(std::make_unique<p>(i, central));
  for (std::uint32_t c = 1; c <= nprocs; ++c)
    if (std::gcd(c, nprocs) == 1) coprimes_.push_back(c);
  for (unsigned i = 0; i < nprocs; ++i) workers_.push_back(std::make_unique<worker>(*this, *ps[i]));
  threads_.reserve(nprocs);
  for (unsigned i = 0; i < nprocs; ++i) threads_.emplace_back([w = workers_[i].get()] { w->main(); });
  sysmon_ = std::thread([this] { sysmon_main(); });
  {
    std::lock_guard lock(live_mu);
    live_scheds.push_back(this);
  }
  if (opts.sigquit_dump) install_sigquit_dump();
  diag.store(static_cast<std::uint8_t>((opts.sched_latency ? diag_latency : 0) | (opts.block_profile ? diag_profile : 0)),
             memory_order_relaxed);  // (no goroutine exists before the constructor returns)
  if (const char* path = std::getenv("GOCORO_TRACE"); path && *path) {
    try {
      trace.start(*this, path);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "go: GOCORO_TRACE: %s\n", e.what());
    }
  }
}

sched::~sched() {
  {
    std::lock_guard lock(live_mu);  // after this, with_live_sched cannot reach us
    live_scheds.erase(std::find(live_scheds.begin(), live_scheds.end(), this));
  }
  stop();
}

void sched::stop() {
  if (stopped_) return;
  if (tls().s == this) fatal("go: runtime::stop called from one of its own goroutines");
  {
    std::lock_guard lock(outside_mu_);                 // (1)
    stopping_.store(true, memory_order_release);        // pairs with acquire in stopping()
  }
  {
    std::lock_guard lock(stw_mu_);                     // a worker paused for a dump leaves too
  }
  stw_cv_.notify_all();
  idlers.notify_all();                                 // (2)
  for (auto& t : threads_) t.join();
  stop_locked_threads();  // after the workers: a locked goroutine finishes its step
  try {
    (void)trace.stop(*this);  // GOCORO_TRACE's, or one the program left on
  } catch (const std::exception& e) {
    std::fprintf(stderr, "go: trace: %s\n", e.what());
  }
  {
    std::lock_guard lock(sysmon_mu_);                  // (3)
    sysmon_stop_ = true;
    sysmon_cv_.notify_one();
  }
  sysmon_.join();
  blocking.stop();                                     // (4)
  if (netpoll* np = io.net()) np->shutdown();
  if (opts.leak_check) {                               // the world is stopped for good
    std::string out;
    if (std::size_t n = leftover(out))
      std::fprintf(stderr, "go: leak check: %zu goroutine%s still alive at runtime stop:\n\n%s", n, n == 1 ? "" : "s",
                   out.c_str());
  }
  destroy_remaining();                                 // (5)
  for (auto& pp : ps)                                  // (6)
    for (timer_node* t : pp->timers.drain())
      if (t->ops->drop) t->ops->drop(t);
  stopped_ = true;
}

void sched::kill(g* gp) noexcept {
  gp->ops->kill(gp);
  exit(gp, /*killed=*/true);
}

// Single-threaded: every worker, sysmon and blocking thread has exited.
void sched::destroy_remaining() noexcept {
  for (bool found = true; found;) {
    found = false;
    for (unsigned i = 0; i < nprocs; ++i) {
      if (g* gp = ps[i]->runnext.exchange(nullptr, memory_order_acquire)) kill(gp), found = true;
      while (g* gp = workers_[i]->local_queue().pop()) kill(gp), found = true;
    }
    while (g* gp = global.pop()) kill(gp), found = true;
    for (;;) {
      // Only waiting gs: a registered g that is runnable sits in a queue (readied by a
      // destructor during this pass) and is destroyed from there in the next pass.
      g* victim = nullptr;
      parked.any_of([&](g* it) {
        if (it->status.load(memory_order_relaxed) != g_status::waiting) return false;
        victim = it;
        return true;
      });
      if (!victim) break;
      kill(victim);
      found = true;
    }
  }
}

runtime_stats sched::stats() const {
  runtime_stats st;
  st.procs = nprocs;
  std::uint64_t exited = outside_exited_.load(memory_order_relaxed);
  st.spawned = outside_spawned_.load(memory_order_relaxed);
  for (const auto& pp : ps) {
    st.spawned += pp->spawned.get();
    exited += pp->exited.get();
    st.steals += pp->steals.get();
    st.worker_parks += pp->parks.get();
    st.local_queues.push_back(pp->q.size() + (pp->runnext.load(memory_order_relaxed) ? 1 : 0));
  }
  st.live = st.spawned > exited ? st.spawned - exited : 0;  // counters are read at different times
  st.worker_unparks = idlers.unparks();
  st.long_running = long_running_.load(memory_order_relaxed);
  st.global_queue = global.size();
  st.timers_fired = timers.fired();
  if (netpoll* np = io.net()) st.poller_wakeups = np->wakeups();
  std::uint64_t by_reason[256] = {};
  for (const auto& pp : ps) {
    // Every run ends in a park, a yield or an exit (a park its unlock function cancels
    // continues the same run): parks need no counter on the park path.
    const std::uint64_t runs = pp->schedtick.load(memory_order_relaxed), done = pp->exited.get() + pp->yields.get();
    st.parks += runs > done ? runs - done : 0;
    for (std::size_t i = 0; i < st.sched_latency.size(); ++i) st.sched_latency[i] += pp->latency[i].get();
    if (pp->cur_goid.load(memory_order_relaxed)) ++st.running;
    st.runnable += pp->q.size() + (pp->runnext.load(memory_order_relaxed) ? 1 : 0);
  }
  parked.for_each([&](const g* gp) {
    if (gp->status.load(memory_order_relaxed) == g_status::waiting)
      ++by_reason[static_cast<std::uint8_t>(gp->reason.load(memory_order_relaxed))];
  });
  st.runnable += st.global_queue;
  for (unsigned r = 0; r < 256; ++r) {
    if (!by_reason[r]) continue;
    st.waiting += by_reason[r];
    st.waiting_by_reason.emplace_back(to_string(static_cast<wait_reason>(r)), by_reason[r]);
  }
  return st;
}

}  // namespace go::detail

namespace go {

runtime::runtime(runtime_options opts) : s_(new detail::sched(detail::resolve(std::move(opts)), this)) {}

runtime::~runtime() { delete s_; }

unsigned runtime::procs() const noexcept { return s_->nprocs; }

void runtime::stop() { s_->stop(); }

runtime_stats runtime::stats() const { return s_->stats(); }

runtime* runtime::current() noexcept {
  detail::sched* s = detail::tls().s;
  return s ? s->rt : nullptr;
}

unsigned gomaxprocs() noexcept {
  detail::sched* s = detail::tls().s;
  return s ? s->nprocs : 0;
}

std::uint64_t num_goroutine() noexcept {
  detail::sched* s = detail::tls().s;
  return s ? s->stats().live : 0;
}

}  // namespace go
