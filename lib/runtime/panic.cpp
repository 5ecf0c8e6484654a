// Unrecovered panics: an exception that left a detached goroutine.
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "go/runtime.hpp"
#include "runtime/sched.hpp"

namespace go {

namespace {
std::string describe(std::exception_ptr e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    return ex.what();
  } catch (...) {
    return "(an exception not derived from std::exception)";
  }
}

// Like Go: the message, the goroutine, exit status 2.
void default_panic(std::uint64_t goid, std::exception_ptr e) {
  std::fprintf(stderr, "panic: %s\n\ngoroutine %" PRIu64 " [running]:\n(stackless goroutine: no stack trace)\n",
               describe(e).c_str(), goid);
  std::fflush(stderr);
  std::_Exit(2);
}

detail::atomic<panic_handler> handler{&default_panic};
}  // namespace

panic_handler set_panic_handler(panic_handler h) noexcept {
  return handler.exchange(h ? h : &default_panic, detail::memory_order_acq_rel);  // the handler is all it publishes
}

namespace detail {
void report_panic(std::uint64_t goid, std::exception_ptr e) noexcept {
  handler.load(detail::memory_order_acquire)(goid, std::move(e));  // pairs with set_panic_handler
}
}  // namespace detail

}  // namespace go
