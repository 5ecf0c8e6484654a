// The execution tracer's writing side (trace.hpp has the recording side): the events
// of every P and of the shared buffer become one Chrome trace-event JSON file, the
// format Perfetto (ui.perfetto.dev) and chrome://tracing load.
//
// Tracks (one "thread" each, in process 1): P0..Pn-1, one per worker; "outside" for
// spawns and readies from threads that hold no P; "blocking calls" for go::blocking.
// What they show:
//   - a slice per run of a goroutine on its P: "g7 produce(int)" (the root function,
//     when its first run was traced), args: goid, how the run ended ("chan receive",
//     "yield", "exit", ...);
//   - a flow arrow from each spawn or ready (inside the slice of the goroutine that did
//     it, or a short slice on "outside") to the run it caused;
//   - a slice on "blocking calls" from a goroutine's park in go::blocking to its ready;
//   - instant events: steals ("steal from P1"), timer firings, poller wake-ups.
#include <cinttypes>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "go/error.hpp"
#include "runtime/sched.hpp"

namespace go::detail {

namespace {
constexpr int outside_tid = 1000, blocking_tid = 1001;

const char* end_name(std::uint8_t reason) {
  if (reason == trace_yield) return "yield";
  if (reason == trace_exit) return "exit";
  return to_string(static_cast<wait_reason>(reason));
}

void json_string(std::string& out, const std::string& s) {
  out += '"';
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  out += '"';
}
}  // namespace

void sched::trace_add(const trace_ev& e) noexcept {
  worker_tls& t = tls();
  trace.add(t.s == this ? t.pp : nullptr, e);
}

void sched::trace_ready(g* gp, trace_kind kind) noexcept {
  stamp_ready(gp);
  trace_ev e;
  e.kind = kind;
  e.t0 = trace_clock();
  e.goid = gp->id;
  e.flow = (gp->id << 32) | gp->wait_since.load(memory_order_relaxed);
  e.from_blocking = gp->reason.load(memory_order_relaxed) == wait_reason::blocking;
  trace_add(e);
}

void tracer::add(p* pp, const trace_ev& e) {
  if (pp) {
    pp->trace.add(e);
    return;
  }
  std::lock_guard lock(mu_);
  shared_.add(e);
}

void tracer::start(sched& s, std::string path) {
  if (path.empty()) throw error(errc::invalid_argument, "go: start_trace: an empty path");
  std::lock_guard lock(mu_);
  if (on()) throw error(errc::invalid_argument, "go: start_trace: a trace is already being recorded");
  const bool stopped = s.stop_the_world(std::chrono::milliseconds(1000));  // the P buffers are ours
  for (auto& pp : s.ps) {
    pp->trace.evs.clear();
    pp->trace.dropped = 0;
  }
  shared_.evs.clear();
  shared_.dropped = 0;
  path_ = std::move(path);
  tsc0_ = trace_clock();
  ns0_ = nanotime();
  on_.store(true, memory_order_relaxed);
  s.start_the_world();
  if (!stopped) throw error(errc::invalid_argument, "go: start_trace: a worker did not stop (a goroutine that never suspends)");
}

bool tracer::stop(sched& s) {
  std::lock_guard lock(mu_);
  if (!on()) return false;
  on_.store(false, memory_order_relaxed);
  // Every worker finishes what it is recording and stops before its buffer is read
  // (after runtime::stop, the workers have exited: nothing to wait for).
  const bool world = !s.stopping();
  if (world) (void)s.stop_the_world(std::chrono::milliseconds(1000));
  const std::uint64_t tsc1 = trace_clock();
  const std::int64_t ns1 = nanotime();
  const double ns_per_tick = tsc1 > tsc0_ ? static_cast<double>(ns1 - ns0_) / static_cast<double>(tsc1 - tsc0_) : 1.0;
  auto us = [&](std::uint64_t tsc) { return static_cast<double>(tsc - tsc0_) * ns_per_tick / 1000.0; };

  // Gather: (track, event), and the joins: root names, ready arrows, blocking parks.
  struct tracked {
    int tid;
    const trace_ev* e;
  };
  std::vector<tracked> all;
  std::uint64_t dropped = shared_.dropped;
  for (const auto& pp : s.ps) {
    for (const trace_ev& e : pp->trace.evs) all.push_back({static_cast<int>(pp->id), &e});
    dropped += pp->trace.dropped;
  }
  for (const trace_ev& e : shared_.evs) all.push_back({outside_tid, &e});
  std::unordered_map<std::uint64_t, std::string> names;  // goid -> root function
  std::unordered_map<std::uint64_t, int> arrows;         // flow ids with a tail
  for (const tracked& t : all) {
    if (t.e->kind == trace_kind::run && t.e->fn && !names.count(t.e->goid)) names[t.e->goid] = function_name(t.e->fn);
    if (t.e->kind == trace_kind::ready || t.e->kind == trace_kind::spawn) arrows[t.e->flow] = 1;
  }

  std::string out = "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"dropped_events\":" + std::to_string(dropped) +
                    "},\"traceEvents\":[\n";
  char buf[512];
  bool first = true;
  auto emit = [&](const std::string& ev) {
    if (!first) out += ",\n";
    first = false;
    out += ev;
  };
  auto track_name = [&](int tid, const std::string& name) {
    std::string ev = "{\"ph\":\"M\",\"pid\":1,\"tid\":" + std::to_string(tid) + ",\"name\":\"thread_name\",\"args\":{\"name\":";
    json_string(ev, name);
    emit(ev + "}}");
    emit("{\"ph\":\"M\",\"pid\":1,\"tid\":" + std::to_string(tid) + ",\"name\":\"thread_sort_index\",\"args\":{\"sort_index\":" +
         std::to_string(tid) + "}}");
  };
  emit("{\"ph\":\"M\",\"pid\":1,\"name\":\"process_name\",\"args\":{\"name\":\"gocoro\"}}");
  for (const auto& pp : s.ps) track_name(static_cast<int>(pp->id), "P" + std::to_string(pp->id));
  track_name(outside_tid, "outside");
  track_name(blocking_tid, "blocking calls");

  std::unordered_map<std::uint64_t, double> blocked_since;  // goid -> its park in go::blocking
  std::vector<const tracked*> order;
  order.reserve(all.size());
  for (const tracked& t : all) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const tracked* a, const tracked* b) { return a->e->t0 < b->e->t0; });
  for (const tracked* tp : order) {
    const trace_ev& e = *tp->e;
    const int tid = tp->tid;
    switch (e.kind) {
      case trace_kind::run: {
        std::string name = "g" + std::to_string(e.goid);
        if (auto it = names.find(e.goid); it != names.end()) name += " " + it->second;
        std::string ev;
        std::snprintf(buf, sizeof buf, "{\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,\"cat\":\"run\",\"name\":", tid,
                      us(e.t0), us(e.t1) - us(e.t0));
        ev = buf;
        json_string(ev, name);
        std::snprintf(buf, sizeof buf, ",\"args\":{\"goid\":%" PRIu64 ",\"end\":\"%s\"}}", e.goid, end_name(e.reason));
        emit(ev + buf);
        if (e.flow && arrows.count(e.flow)) {
          std::snprintf(buf, sizeof buf,
                        "{\"ph\":\"f\",\"bp\":\"e\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"id\":%" PRIu64 ",\"cat\":\"ready\",\"name\":\"ready\"}",
                        tid, us(e.t0), e.flow);
          emit(buf);
        }
        if (e.reason == static_cast<std::uint8_t>(wait_reason::blocking)) blocked_since[e.goid] = us(e.t1);
        break;
      }
      case trace_kind::ready:
      case trace_kind::spawn: {
        const char* what = e.kind == trace_kind::spawn ? "spawn" : "ready";
        if (tid == outside_tid) {  // a short slice to hold the arrow's tail
          std::snprintf(buf, sizeof buf,
                        "{\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"dur\":0.5,\"cat\":\"%s\",\"name\":\"%s g%" PRIu64 "\"}",
                        tid, us(e.t0), what, what, e.goid);
          emit(buf);
        }
        std::snprintf(buf, sizeof buf,
                      "{\"ph\":\"s\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"id\":%" PRIu64 ",\"cat\":\"ready\",\"name\":\"ready\",\"args\":{\"goid\":%" PRIu64 ",\"kind\":\"%s\"}}",
                      tid, us(e.t0), e.flow, e.goid, what);
        emit(buf);
        if (e.from_blocking) {
          if (auto it = blocked_since.find(e.goid); it != blocked_since.end()) {
            std::snprintf(buf, sizeof buf,
                          "{\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,\"cat\":\"blocking\",\"name\":\"blocking g%" PRIu64 "\"}",
                          blocking_tid, it->second, us(e.t0) - it->second, e.goid);
            emit(buf);
            blocked_since.erase(it);
          }
        }
        break;
      }
      case trace_kind::steal:
        std::snprintf(buf, sizeof buf,
                      "{\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"cat\":\"steal\",\"name\":\"steal from P%u\",\"args\":{\"goroutines\":%u}}",
                      tid, us(e.t0), static_cast<unsigned>(e.other), e.count);
        emit(buf);
        break;
      case trace_kind::timers:
        std::snprintf(buf, sizeof buf,
                      "{\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"cat\":\"timers\",\"name\":\"timers fired\",\"args\":{\"count\":%u}}",
                      tid, us(e.t0), e.count);
        emit(buf);
        break;
      case trace_kind::poll:
        std::snprintf(buf, sizeof buf,
                      "{\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"cat\":\"poll\",\"name\":\"poller woke\",\"args\":{\"completions\":%u}}",
                      tid, us(e.t0), e.count);
        emit(buf);
        break;
    }
  }
  out += "\n]}\n";
  for (auto& pp : s.ps) {
    pp->trace.evs.clear();
    pp->trace.evs.shrink_to_fit();
  }
  shared_.evs.clear();
  shared_.evs.shrink_to_fit();
  if (world) s.start_the_world();
  std::FILE* f = std::fopen(path_.c_str(), "w");
  if (!f) throw error(errc::invalid_argument, "go: stop_trace: cannot write " + path_);
  std::fwrite(out.data(), 1, out.size(), f);
  std::fclose(f);
  return true;
}

}  // namespace go::detail

namespace go {

void runtime::start_trace(std::string path) { s_->trace.start(*s_, std::move(path)); }
bool runtime::stop_trace() { return s_->trace.stop(*s_); }

}  // namespace go
