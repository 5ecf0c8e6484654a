// White-box tests of the tracer's event encoding (lib/runtime/trace.hpp): every kind
// survives encode then decode, the hot paths' direct writes decode like trace_encode's,
// and a truncated or malformed buffer is refused, not read past.
#include <doctest/doctest.h>

#include <vector>

#include "runtime/trace.hpp"

using go::detail::trace_buffer;
using go::detail::trace_decode;
using go::detail::trace_encode;
using go::detail::trace_ev;
using go::detail::trace_kind;

TEST_SUITE_BEGIN("trace");

namespace {
constexpr std::uint64_t start = 1'000'000;

trace_ev round_trip(const trace_ev& e, std::size_t& words) {
  std::uint64_t buf[go::detail::trace_max_words] = {};
  words = trace_encode(buf, e, start);
  trace_ev out;
  const std::uint64_t* end = trace_decode(buf, buf + words, out);
  REQUIRE(end == buf + words);
  return out;
}
}  // namespace

TEST_CASE("each kind decodes to what was encoded") {
  std::size_t words = 0;
  trace_ev run;
  run.kind = trace_kind::run;
  run.t0 = start + 123'456'789;
  run.goid = 0xabcdef12345;
  run.stamp = 0x1234;  // kept mod 256
  run.prev_end = 0xfe;
  trace_ev r = round_trip(run, words);
  CHECK(words == 2);
  CHECK(r.kind == trace_kind::run);
  CHECK(r.t0 == 123'456'789);  // since the trace's start
  CHECK(r.goid == run.goid);
  CHECK(r.stamp == 0x34);
  CHECK(r.prev_end == 0xfe);

  trace_ev ready;
  ready.kind = trace_kind::ready;
  ready.goid = 7;
  ready.stamp = 3;
  ready.from_blocking = 1;
  r = round_trip(ready, words);
  CHECK(words == 1);  // inside a run: no time of its own
  CHECK(r.kind == trace_kind::ready);
  CHECK(r.goid == 7);
  CHECK(r.stamp == 3);
  CHECK(r.from_blocking == 1);
  CHECK(r.own_time == 0);

  ready.kind = trace_kind::spawn;
  ready.own_time = 1;
  ready.t0 = start + 5;
  ready.prev_end = 9;
  r = round_trip(ready, words);
  CHECK(words == 2);
  CHECK(r.kind == trace_kind::spawn);
  CHECK(r.own_time == 1);
  CHECK(r.t0 == 5);
  CHECK(r.prev_end == 9);

  trace_ev steal;
  steal.kind = trace_kind::steal;
  steal.t0 = start + 1;
  steal.count = 0xffffffff;
  steal.other = 0xffff;
  r = round_trip(steal, words);
  CHECK(r.kind == trace_kind::steal);
  CHECK(r.count == 0xffffffff);
  CHECK(r.other == 0xffff);

  trace_ev name;
  name.kind = trace_kind::name;
  name.goid = ~std::uint64_t{0};
  name.t0 = 0xffff'8000'1234'5678;  // an address: all 64 bits
  r = round_trip(name, words);
  CHECK(words == 3);
  CHECK(r.goid == name.goid);
  CHECK(r.t0 == name.t0);

  trace_ev locked = run;  // a locked goroutine's run, whole: its end and its thread
  locked.locked = 1;
  locked.t1 = start + 987'654'321;
  locked.other = 3;
  r = round_trip(locked, words);
  CHECK(words == 3);
  CHECK(r.locked == 1);
  CHECK(r.t0 == 123'456'789);
  CHECK(r.t1 == 987'654'321);
  CHECK(r.other == 3);
  CHECK(r.goid == run.goid);
  CHECK(r.prev_end == 0xfe);

  trace_ev early;  // another core's clock a little behind the start: time 0, not a wrap
  early.kind = trace_kind::idle;
  early.t0 = start - 10;
  r = round_trip(early, words);
  CHECK(r.t0 == 0);
}

TEST_CASE("the hot paths' records decode like trace_encode's") {
  std::vector<std::uint64_t> chunk(trace_buffer::chunk_words);
  trace_buffer b;
  b.chunk = chunk.data();
  b.start = start;
  b.last_end = 4;
  b.add_run(start + 77, 42, 258);
  b.add_ready_in_run(/*spawn=*/true, 43, 1, /*from_blocking=*/false);
  b.add_ready_in_run(/*spawn=*/false, 44, 2, /*from_blocking=*/true);
  REQUIRE(b.n == 4);
  CHECK(b.last_end == 0);  // the run consumed how the P's last run ended
  const std::uint64_t* p = chunk.data();
  const std::uint64_t* end = p + b.n;
  trace_ev e;
  p = trace_decode(p, end, e);
  REQUIRE(p);
  CHECK(e.kind == trace_kind::run);
  CHECK(e.t0 == 77);
  CHECK(e.goid == 42);
  CHECK(e.stamp == 2);
  CHECK(e.prev_end == 4);
  p = trace_decode(p, end, e);
  REQUIRE(p);
  CHECK(e.kind == trace_kind::spawn);
  CHECK(e.goid == 43);
  CHECK(e.own_time == 0);
  p = trace_decode(p, end, e);
  REQUIRE(p);
  CHECK(e.kind == trace_kind::ready);
  CHECK(e.goid == 44);
  CHECK(e.from_blocking == 1);
  CHECK(p == end);
}

TEST_CASE("a truncated or malformed buffer is refused") {
  trace_ev run;
  run.kind = trace_kind::run;
  run.t0 = start + 1;
  std::uint64_t buf[3] = {};
  const std::size_t words = trace_encode(buf, run, start);
  trace_ev e;
  CHECK(trace_decode(buf, buf + words - 1, e) == nullptr);  // its second word is missing
  CHECK(trace_decode(buf, buf, e) == nullptr);
  const std::uint64_t bad[2] = {0x40, 0};  // a head with an unused bit set
  CHECK(trace_decode(bad, bad + 2, e) == nullptr);
  const std::uint64_t locked_ready[3] = {0x21, 0, 0};  // only a run can be a locked goroutine's
  CHECK(trace_decode(locked_ready, locked_ready + 3, e) == nullptr);
  run.locked = 1;
  const std::size_t locked_words = trace_encode(buf, run, start);
  CHECK(trace_decode(buf, buf + locked_words - 1, e) == nullptr);  // its third word is missing
}

TEST_SUITE_END();
