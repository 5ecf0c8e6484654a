// go::errc and go::error: the errors gocoro reports for misuse and runtime conditions.
#pragma once

#include <string>
#include <system_error>

#include "go/config.hpp"

namespace go {

// What went wrong. Messages follow Go's wording where Go has one.
enum class errc {
  no_runtime = 1,          // a goroutine operation was used where no go::runtime is current
  runtime_stopped,         // the runtime was stopped (or is stopping): spawn refused, or a join
                           // finds its goroutine destroyed by the shutdown
  negative_wait_group,     // "sync: negative WaitGroup counter"
  empty_join_handle,       // awaiting a join_handle that is empty (moved from, detached or joined)
  invalid_argument,        // a bad option or argument
  closed_channel,          // "send on closed channel", "close of closed channel"
  nil_channel,             // "close of nil channel"
  unlock_of_unlocked,      // "sync: unlock of unlocked mutex", "sync: RUnlock of unlocked RWMutex", ...
  semaphore_misuse,        // acquiring more than the semaphore's size; releasing more than held
  canceled,                // "context canceled": a context's cancel ran
  deadline_exceeded,       // "context deadline exceeded": a context's deadline passed
  connection_refused,      // "connect: connection refused"
  connection_reset,        // "connection reset by peer", "broken pipe"
  closed_connection,       // "use of closed network connection"
  address_in_use,          // "bind: address already in use"
  bad_address,             // a malformed or unresolvable address ("missing port in address", ...)
  eof,                     // "EOF": the peer closed before anything was read (read_full)
  unexpected_eof,          // "unexpected EOF": the peer closed in the middle (read_full)
  timeout,                 // "i/o timeout": a conn's deadline passed (Go's os.ErrDeadlineExceeded)
  net_error,               // any other network error; what() has the system's reason
};

GO_API const std::error_category& go_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), go_category()}; }

// The exception gocoro throws. code() says which errc; what() says what was wrong, in
// Go's words where Go has them ("send on closed channel", "dial tcp 127.0.0.1:1:
// connect: connection refused"): the message alone, without the category's text that
// std::system_error would append.
class error : public std::system_error {
 public:
  explicit error(errc e) : std::system_error(make_error_code(e)), what_(code().message()) {}
  error(errc e, const std::string& what) : std::system_error(make_error_code(e), what), what_(what) {}
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  std::string what_;
};

}  // namespace go

template <>
struct std::is_error_code_enum<go::errc> : std::true_type {};
