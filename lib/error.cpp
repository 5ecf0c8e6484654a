// go::errc's error category, and detail::fatal.
#include "go/error.hpp"

#include <cstdio>
#include <cstdlib>

#include "go/detail/assert.hpp"

namespace go {

namespace {
class category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "go"; }
  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::no_runtime: return "no go::runtime is running this code";
      case errc::runtime_stopped: return "the go::runtime is stopped";
      case errc::negative_wait_group: return "sync: negative WaitGroup counter";
      case errc::empty_join_handle: return "empty handle";
      case errc::invalid_argument: return "invalid argument";
      case errc::closed_channel: return "closed channel";
      case errc::nil_channel: return "nil channel";
      case errc::unlock_of_unlocked: return "unlock of unlocked lock";
      case errc::semaphore_misuse: return "semaphore misuse";
      case errc::canceled: return "context canceled";
      case errc::deadline_exceeded: return "context deadline exceeded";
      case errc::connection_refused: return "connection refused";
      case errc::connection_reset: return "connection reset by peer";
      case errc::closed_connection: return "use of closed network connection";
      case errc::address_in_use: return "address already in use";
      case errc::bad_address: return "bad address";
      case errc::eof: return "EOF";
      case errc::unexpected_eof: return "unexpected EOF";
      case errc::timeout: return "i/o timeout";
      case errc::net_error: return "network error";
    }
    return "unknown go error";
  }
};
}  // namespace

const std::error_category& go_category() noexcept {
  static const category c;
  return c;
}

namespace detail {
void fatal(const char* msg) noexcept {
  std::fprintf(stderr, "fatal error: %s\n", msg);
  std::fflush(stderr);
  std::abort();
}
}  // namespace detail

}  // namespace go
