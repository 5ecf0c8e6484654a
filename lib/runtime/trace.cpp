// The execution tracer's writing side (trace.hpp has the recording side): the events
// of every P and of the shared buffer become one Chrome trace-event JSON file, the
// format Perfetto (ui.perfetto.dev) and chrome://tracing load.
//
// Tracks (one "thread" each, in process 1): P0..Pn-1, one per worker; "outside" for
// spawns and readies from threads that hold no P; "blocking calls" for go::blocking;
// "locked thread N" for each thread of a goroutine that called lock_os_thread.
// What they show:
//   - a slice per run of a goroutine on its P (or its locked thread): "g7 produce(int)" (the root function,
//     when its first run was traced), args: goid, how the run ended ("chan receive",
//     "yield", "exit", ...);
//   - a flow arrow from each spawn or ready (inside the slice of the goroutine that did
//     it, or a short slice on "outside") to the run it caused;
//   - a slice on "blocking calls" from a goroutine's park in go::blocking to its ready;
//   - instant events: steals ("steal from P1"), timer firings, poller wake-ups.
#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <unordered_map>

#include "go/error.hpp"
#include "runtime/sched.hpp"

namespace go::detail {

namespace {
constexpr int outside_tid = 1000, blocking_tid = 1001, locked_tid0 = 2000;

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

void sched::trace_add(const trace_ev& ev) noexcept {
  worker_tls& t = tls();
  p* pp = t.s == this ? t.pp : nullptr;
  trace_ev e = ev;
  const bool timed = (e.kind != trace_kind::ready && e.kind != trace_kind::spawn) || e.own_time;
  if (pp && timed) e.prev_end = std::exchange(pp->trace.last_end, 0);  // the P's last run ends here
  trace.add(pp, e);
}

const std::uint64_t* trace_decode(const std::uint64_t* p, const std::uint64_t* end, trace_ev& e) noexcept {
  if (p >= end) return nullptr;
  e = {};
  const std::uint64_t w0 = *p++;
  if (w0 & 0xc0) return nullptr;  // the head's unused bits
  e.kind = static_cast<trace_kind>(w0 & 7);
  e.from_blocking = (w0 >> 3) & 1;
  e.own_time = (w0 >> 4) & 1;
  e.locked = (w0 >> 5) & 1;
  if (e.locked && e.kind != trace_kind::run) return nullptr;
  auto set_id = [&](std::uint64_t id) {
    e.stamp = static_cast<std::uint32_t>(id & 0xff);
    e.goid = id >> 8;
  };
  if (e.kind == trace_kind::name) {
    if (end - p < 2) return nullptr;
    e.goid = p[0];
    e.t0 = p[1];
    return p + 2;
  }
  if (!e.timed()) {
    set_id(w0 >> 8);
    return p;
  }
  if (p >= end) return nullptr;
  const std::uint64_t w1 = *p++;
  e.t0 = trace_untime(w0 >> 8);
  e.prev_end = static_cast<std::uint8_t>(w1);
  const std::uint64_t payload = w1 >> 8;
  switch (e.kind) {
    case trace_kind::run:
      set_id(payload);
      if (e.locked) {
        if (p >= end) return nullptr;
        e.t1 = trace_untime(*p);
        e.other = static_cast<std::uint16_t>(*p++ >> 56);
      }
      break;
    case trace_kind::ready:
    case trace_kind::spawn:
      set_id(payload);
      break;
    case trace_kind::steal:
      e.count = static_cast<std::uint32_t>(payload);
      e.other = static_cast<std::uint16_t>(payload >> 32);
      break;
    case trace_kind::timers:
    case trace_kind::poll:
      e.count = static_cast<std::uint32_t>(payload);
      break;
    default:
      break;
  }
  return p;
}

void trace_buffer::next_chunk() {
  chunk = owner->swap_chunk(tid, chunk, n);
  n = 0;
}

void tracer::add(p* pp, const trace_ev& e) {
  if (pp) {
    pp->trace.add(e);
    return;
  }
  std::lock_guard lock(mu_);
  if (!shared_.chunk) return;  // the trace stopped after the caller saw it on
  if (shared_.n > trace_buffer::chunk_words - trace_max_words) {  // swap under our own lock
    queue_.push_back({shared_.tid, shared_.chunk, shared_.n});
    shared_.chunk = fresh_chunk();
    shared_.n = 0;
    cv_.notify_one();
  }
  shared_.n += trace_encode(shared_.chunk + shared_.n, e, shared_.start);
}

std::uint64_t* tracer::fresh_chunk() {
  if (!free_.empty()) {
    std::uint64_t* c = free_.back();
    free_.pop_back();
    return c;
  }
  all_.push_back(std::make_unique<std::uint64_t[]>(trace_buffer::chunk_words));
  return all_.back().get();
}

std::uint64_t* tracer::swap_chunk(int tid, std::uint64_t* full, std::size_t n) {
  std::lock_guard lock(mu_);
  queue_.push_back({tid, full, n});
  cv_.notify_one();
  return fresh_chunk();
}

// Writes each full chunk to the raw file as it comes, and gives the chunk back.
void tracer::writer_main() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return !queue_.empty() || writer_stop_; });
    if (queue_.empty()) return;
    written w = queue_.front();
    queue_.erase(queue_.begin());
    lock.unlock();
    const std::uint64_t head[2] = {static_cast<std::uint64_t>(w.tid), w.n};
    const bool ok = std::fwrite(head, sizeof head, 1, raw_) == 1 && std::fwrite(w.chunk, sizeof(std::uint64_t), w.n, raw_) == w.n;
    lock.lock();
    if (!ok) dropped_ += w.n;
    free_.push_back(w.chunk);
  }
}

void tracer::start(sched& s, std::string path) {
  if (path.empty()) throw error(errc::invalid_argument, "go: start_trace: an empty path");
  std::lock_guard control(control_mu_);
  std::unique_lock lock(mu_);
  if (on()) throw error(errc::invalid_argument, "go: start_trace: a trace is already being recorded");
  raw_ = std::tmpfile();
  if (!raw_) throw error(errc::invalid_argument, "go: start_trace: no temporary file for the events");
  writer_stop_ = false;
  dropped_ = 0;
  path_ = std::move(path);
  tsc0_ = trace_clock();  // the events' times count from here
  ns0_ = nanotime();
  shared_ = {};
  shared_.start = tsc0_;
  shared_.tid = outside_tid;
  shared_.owner = this;
  shared_.chunk = fresh_chunk();
  for (auto& pp : s.ps) {
    pp->trace = {};
    pp->trace.tid = static_cast<int>(pp->id);
    pp->trace.owner = this;
    pp->trace.start = tsc0_;
    pp->trace.chunk = fresh_chunk();
  }
  writer_ = std::thread([this] { writer_main(); });
  lock.unlock();
  const bool stopped = s.stop_the_world(std::chrono::milliseconds(1000));  // the P buffers are set up before anyone records
  if (stopped) {
    on_.store(true, memory_order_relaxed);
    s.diag.fetch_or(diag_trace, memory_order_relaxed);  // the workers are stopped: they see it when they go on
  }
  s.start_the_world();
  if (!stopped) {  // a worker may be inside a run: it must not start recording halfway
    discard(s);
    throw error(errc::invalid_argument, "go: start_trace: a worker did not stop within 1 s (a goroutine that never suspends); no trace is on");
  }
}

// A start that failed: nothing was recorded; the writer, the file and the buffers go.
// The P buffers are written with the workers running, as in start: with the trace off
// no worker reads them.
void tracer::discard(sched& s) {
  {
    std::lock_guard lock(mu_);
    writer_stop_ = true;
    cv_.notify_one();
  }
  writer_.join();
  std::lock_guard lock(mu_);
  for (auto& pp : s.ps) pp->trace = {};
  shared_ = {};
  free_storage();
}

// The raw file and every chunk, once the writer has ended (under mu_).
void tracer::free_storage() {
  std::fclose(raw_);
  raw_ = nullptr;
  queue_.clear();
  free_.clear();
  all_.clear();
}

bool tracer::stop(sched& s) {
  std::lock_guard control(control_mu_);
  {
    std::lock_guard lock(mu_);
    if (!on()) return false;
    on_.store(false, memory_order_relaxed);
    s.diag.fetch_and(static_cast<std::uint8_t>(~diag_trace), memory_order_relaxed);
  }
  // Every worker finishes what it is recording and stops before its buffer is read
  // (after runtime::stop, the workers have exited: nothing to wait for).
  const bool world = !s.stopping();
  if (world) (void)s.stop_the_world(std::chrono::milliseconds(1000));
  const std::uint64_t tsc1 = trace_clock();
  const std::int64_t ns1 = nanotime();
  for (auto& pp : s.ps) {  // each P's last run ends now, and says how it ended
    trace_ev e;
    e.kind = trace_kind::idle;
    e.t0 = tsc1;
    e.prev_end = pp->trace.last_end;
    pp->trace.add(e);
  }
  {
    std::lock_guard lock(mu_);
    for (auto& pp : s.ps) queue_.push_back({pp->trace.tid, pp->trace.chunk, pp->trace.n});
    queue_.push_back({shared_.tid, shared_.chunk, shared_.n});
    for (auto& pp : s.ps) pp->trace = {};
    shared_ = {};
    writer_stop_ = true;
    cv_.notify_one();
  }
  if (world) s.start_the_world();
  writer_.join();
  const double ns_per_tick = tsc1 > tsc0_ ? static_cast<double>(ns1 - ns0_) / static_cast<double>(tsc1 - tsc0_) : 1.0;
  auto us = [&](std::uint64_t ticks) { return static_cast<double>(ticks) * ns_per_tick / 1000.0; };  // since the start

  // Read the events back, per track, in order (a track's chunks are queued in the order
  // they filled). A ready or spawn inside a run takes the run's start as its time.
  std::map<int, std::vector<trace_ev>> tracks;
  std::map<int, std::uint64_t> run_start;
  std::vector<std::uint64_t> words;
  std::rewind(raw_);
  for (std::uint64_t head[2]; std::fread(head, sizeof head, 1, raw_) == 1;) {
    words.resize(head[1]);
    if (std::fread(words.data(), sizeof(std::uint64_t), head[1], raw_) != head[1]) break;
    const int tid = static_cast<int>(head[0]);
    auto& v = tracks[tid];
    std::uint64_t& t_run = run_start[tid];
    const std::uint64_t* end = words.data() + words.size();
    trace_ev e;
    for (const std::uint64_t* p = words.data(); p < end;) {
      const std::uint64_t* next = trace_decode(p, end, e);
      if (!next) {
        dropped_ += static_cast<std::uint64_t>(end - p);  // a malformed chunk: keep what came before it
        break;
      }
      p = next;
      if (e.kind == trace_kind::run && !e.locked) t_run = e.t0;
      if ((e.kind == trace_kind::ready || e.kind == trace_kind::spawn) && !e.own_time) e.t0 = t_run;
      v.push_back(e);
    }
  }
  {
    std::lock_guard lock(mu_);
    free_storage();
  }
  const std::uint64_t dropped = dropped_;

  // Gather: (track, event, a run's end and how it ended), and the joins below.
  struct tracked {
    int tid;
    const trace_ev* e;
    std::uint64_t end;   // a run's: the next timestamped event of its P
    std::uint8_t ended;  // a run's: from that event's prev_end
  };
  std::vector<tracked> all;
  std::unordered_map<std::uint64_t, std::string> names;  // goid -> root function
  std::map<int, unsigned> locked_tracks;  // tid -> the locked thread's number
  for (auto& [tid, evs] : tracks) {
    std::uint64_t next = tsc1 - tsc0_;  // scanning backwards: the nearest later event with its own time
    std::uint8_t ended = trace_exit;
    std::vector<tracked> mine;
    mine.reserve(evs.size());
    for (std::size_t i = evs.size(); i-- > 0;) {
      const trace_ev& e = evs[i];
      if (e.kind == trace_kind::name) {
        names.emplace(e.goid, function_name(reinterpret_cast<const void*>(static_cast<std::uintptr_t>(e.t0))));
        continue;
      }
      if (e.locked) {  // whole, on its thread's track: it ends no other event's slice
        const int lt = locked_tid0 + e.other;
        locked_tracks[lt] = e.other;
        mine.push_back({lt, &e, e.t1, e.prev_end});
        continue;
      }
      mine.push_back({tid, &e, next, ended});
      if (e.timed()) {
        next = e.t0;
        ended = e.prev_end;
      }
    }
    all.insert(all.end(), mine.rbegin(), mine.rend());
  }
  std::unordered_map<std::uint64_t, int> arrows;  // flow ids with a tail
  auto flow_of = [](const trace_ev& e) { return (e.goid << 8) | e.stamp; };
  for (const tracked& t : all)
    if (t.e->kind == trace_kind::ready || t.e->kind == trace_kind::spawn) arrows[flow_of(*t.e)] = 1;

  // Written as it is made, a MiB at a time: a trace of millions of events is hundreds of
  // MiB of JSON, which should not sit in memory whole.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path_.c_str(), "w"), &std::fclose);
  if (!f) throw error(errc::invalid_argument, "go: stop_trace: cannot write " + path_);
  std::string out = "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"dropped_words\":" + std::to_string(dropped) +
                    "},\"traceEvents\":[\n";
  auto flush = [&] {
    std::fwrite(out.data(), 1, out.size(), f.get());
    out.clear();
  };
  char buf[512];
  bool first = true;
  auto emit = [&](const std::string& ev) {
    if (!first) out += ",\n";
    first = false;
    out += ev;
    if (out.size() >= (std::size_t{1} << 20)) flush();
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
  for (const auto& [tid, number] : locked_tracks) track_name(tid, "locked thread " + std::to_string(number));

  // An instant event with one count (timer firings, poller wake-ups).
  auto instant = [&](int tid, const trace_ev& e, const char* cat, const char* name, const char* arg) {
    std::snprintf(buf, sizeof buf,
                  "{\"ph\":\"i\",\"s\":\"t\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"cat\":\"%s\",\"name\":\"%s\",\"args\":{\"%s\":%u}}",
                  tid, us(e.t0), cat, name, arg, e.count);
    emit(buf);
  };
  std::unordered_map<std::uint64_t, double> blocked_since;  // goid -> its park in go::blocking
  std::unordered_map<std::uint64_t, std::string> slice_names;  // goid -> its runs' name, as JSON
  std::vector<const tracked*> order;
  order.reserve(all.size());
  for (const tracked& t : all) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const tracked* a, const tracked* b) { return a->e->t0 < b->e->t0; });
  for (const tracked* tp : order) {
    const trace_ev& e = *tp->e;
    const int tid = tp->tid;
    switch (e.kind) {
      case trace_kind::run: {
        // A goroutine runs many times: its slice name is escaped once.
        auto [slot, fresh] = slice_names.try_emplace(e.goid);
        if (fresh) {
          std::string name = "g" + std::to_string(e.goid);
          if (auto it = names.find(e.goid); it != names.end()) name += " " + it->second;
          json_string(slot->second, name);
        }
        std::string ev;
        std::snprintf(buf, sizeof buf, "{\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"dur\":%.3f,\"cat\":\"run\",\"name\":", tid,
                      us(e.t0), us(tp->end) - us(e.t0));
        ev = buf;
        ev += slot->second;
        std::snprintf(buf, sizeof buf, ",\"args\":{\"goid\":%" PRIu64 ",\"end\":\"%s\"}}", e.goid, end_name(tp->ended));
        emit(ev + buf);
        if (arrows.count(flow_of(e))) {
          std::snprintf(buf, sizeof buf,
                        "{\"ph\":\"f\",\"bp\":\"e\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"id\":%" PRIu64 ",\"cat\":\"ready\",\"name\":\"ready\"}",
                        tid, us(e.t0), flow_of(e));
          emit(buf);
        }
        if (tp->ended == static_cast<std::uint8_t>(wait_reason::blocking)) blocked_since[e.goid] = us(tp->end);
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
        // A ready inside a run carries the run's start: 1 ns later keeps the tail inside the slice.
        std::snprintf(buf, sizeof buf,
                      "{\"ph\":\"s\",\"pid\":1,\"tid\":%d,\"ts\":%.3f,\"id\":%" PRIu64 ",\"cat\":\"ready\",\"name\":\"ready\",\"args\":{\"goid\":%" PRIu64 ",\"kind\":\"%s\"}}",
                      tid, us(e.t0) + (tid == outside_tid ? 0.0 : 0.001), flow_of(e), e.goid, what);
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
        instant(tid, e, "timers", "timers fired", "count");
        break;
      case trace_kind::idle:
      case trace_kind::name:
        break;
      case trace_kind::poll:
        instant(tid, e, "poll", "poller woke", "completions");
        break;
    }
  }
  out += "\n]}\n";
  flush();
  return true;
}

}  // namespace go::detail

namespace go {

void runtime::start_trace(std::string path) { s_->trace.start(*s_, std::move(path)); }
bool runtime::stop_trace() { return s_->trace.stop(*s_); }

}  // namespace go
