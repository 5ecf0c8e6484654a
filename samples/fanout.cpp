// fanout: an errgroup fans a search out over several "backends"; the first failure
// cancels the rest through the group's context, and wait() reports it. Then the same
// with every backend healthy, at most 2 at a time (set_limit).
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <go/go.hpp>

using namespace std::chrono_literals;

// A backend answers after `latency`, or fails if it is broken; it honours ctx.
go::task<std::string> query(go::context ctx, std::string name, std::chrono::milliseconds latency, bool broken) {
  co_await go::sleep(latency, ctx);  // throws ctx's error if the group gave up first
  if (broken) throw std::runtime_error(name + ": backend unavailable");
  co_return name + ": 3 results";
}

struct backend {
  std::string name;
  std::chrono::milliseconds latency;
  bool broken;
};

go::task<int> search(const std::vector<backend>& backends, int limit, std::vector<std::string>& answers) {
  auto [g, ctx] = go::errgroup::with_context(go::background());
  g.set_limit(limit);
  answers.assign(backends.size(), "");
  for (std::size_t i = 0; i < backends.size(); ++i) {
    // Name the lambda before awaiting: g++ 12 destroys a lambda with by-value captures
    // twice when it is written inside a co_await expression.
    auto ask = [&, i, ctx = ctx]() -> go::task<void> {
      answers[i] = co_await query(ctx, backends[i].name, backends[i].latency, backends[i].broken);
    };
    co_await g.go(ask);
  }
  try {
    co_await g.wait();
    co_return 0;
  } catch (const std::exception& e) {
    std::printf("search failed: %s\n", e.what());
    co_return 1;
  }
}

go::task<int> fanout_main() {
  std::vector<std::string> answers;
  // One broken backend: the slow ones are canceled instead of running their 10 s.
  std::vector<backend> flaky{{"web", 10s, false}, {"images", 5ms, true}, {"video", 10s, false}};
  auto start = go::clock::now();
  int failed = co_await search(flaky, -1, answers);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(go::clock::now() - start);
  std::printf("flaky search: %s after %lld ms\n", failed ? "failed fast" : "succeeded?", static_cast<long long>(took.count()));

  std::vector<backend> healthy{{"web", 3ms, false}, {"images", 2ms, false}, {"video", 1ms, false}, {"news", 1ms, false}};
  int bad = co_await search(healthy, 2, answers);
  for (const auto& a : answers) std::printf("  %s\n", a.c_str());
  co_return failed == 1 && bad == 0 && took < 5s ? 0 : 1;
}

int main() { return go::run(fanout_main); }
