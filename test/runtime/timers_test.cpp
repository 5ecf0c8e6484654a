// White-box tests of the per-P timer heap: random adds, stops (tombstones, compaction)
// and runs against a reference model, checking the invariants after every step.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <random>
#include <vector>

#include "runtime/timers.hpp"

using namespace go::detail;

namespace {
struct fired_log {
  std::vector<int> ids;
};
void record(timer_node* t, std::int64_t, fire_batch&) noexcept {
  auto* p = static_cast<std::pair<fired_log*, int>*>(t->arg);
  p->first->ids.push_back(p->second);
}
constexpr timer_ops record_ops{&record, nullptr, nullptr};
}  // namespace

TEST_CASE("the timer heap fires due timers in deadline order and never a stopped one") {
  timer_heap h;
  fired_log log;
  constexpr int n = 5000;
  std::vector<timer_node> nodes(n);
  std::vector<std::pair<fired_log*, int>> args(n);
  std::mt19937 rng(7);
  std::map<int, std::int64_t> pending;  // id -> when
  for (int i = 0; i < n; ++i) {
    args[i] = {&log, i};
    nodes[i].ops = &record_ops;
    nodes[i].arg = &args[i];
  }
  std::int64_t now = 0;
  for (int step = 0; step < 40000; ++step) {
    int id = static_cast<int>(rng() % n);
    switch (rng() % 4) {
      case 0:
      case 1:
        if (!pending.count(id)) {
          std::int64_t when = now + 1 + static_cast<std::int64_t>(rng() % 1000);
          h.add(&nodes[id], when);
          pending[id] = when;
        }
        break;
      case 2:
        CHECK(h.remove(&nodes[id]) == (pending.erase(id) == 1));
        break;
      case 3: {
        now += static_cast<std::int64_t>(rng() % 50);
        log.ids.clear();
        fire_batch b;
        h.run(now, b);
        std::int64_t last = -1;
        for (int fired : log.ids) {
          REQUIRE(pending.count(fired));
          CHECK(pending[fired] <= now);
          CHECK(pending[fired] >= last);  // in deadline order
          last = pending[fired];
          pending.erase(fired);
        }
        if (!b.full())
          for (auto& [pid, when] : pending) CHECK(when > now);  // nothing due was left behind
        break;
      }
    }
    if (step % 97 == 0) REQUIRE(h.valid());
    REQUIRE(h.size() == pending.size());
  }
  REQUIRE(h.valid());
  CHECK(h.drain().size() == pending.size());
}
