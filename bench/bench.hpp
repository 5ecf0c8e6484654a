// The benchmark harness: each executable runs one named case per process (so peak RSS
// belongs to that case alone) and prints one machine-readable line:
//   BENCH name=<case> ns=<total> ops=<n> ns_per_op=<x> maxrss_kb=<peak RSS>
// bench/run interleaves these runs with the Go twins' and takes medians.
#pragma once

#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <string>

namespace bench {

inline long maxrss_kb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

// mem_bytes_per_op, when given, is a workload's own memory measure (bench/run prefers
// it to peak RSS for the memory ratio).
inline void report(const std::string& name, std::chrono::nanoseconds total, long ops, double mem_bytes_per_op = -1) {
  std::printf("BENCH name=%s ns=%lld ops=%ld ns_per_op=%.2f maxrss_kb=%ld", name.c_str(),
              static_cast<long long>(total.count()), ops, static_cast<double>(total.count()) / ops, maxrss_kb());
  if (mem_bytes_per_op >= 0) std::printf(" mem_bytes_per_op=%.1f", mem_bytes_per_op);
  std::printf("\n");
}

// Fails the run loudly: a benchmark whose result is wrong measures nothing.
inline void check(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "benchmark check failed: %s\n", what);
    std::exit(1);
  }
}

// main() for a benchmark executable: argv[1] names the case to run.
inline int main(int argc, char** argv, const std::map<std::string, std::function<void()>>& cases) {
  if (argc == 2 && cases.count(argv[1])) {
    cases.at(argv[1])();
    return 0;
  }
  std::fprintf(stderr, "usage: %s <case>\ncases:", argv[0]);
  for (auto& [name, fn] : cases) std::fprintf(stderr, " %s", name.c_str());
  std::fprintf(stderr, "\n");
  return 2;
}

}  // namespace bench
