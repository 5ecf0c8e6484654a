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
};

GO_API const std::error_category& go_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept { return {static_cast<int>(e), go_category()}; }

// The exception gocoro throws. code() says which errc; what() says what was wrong.
class error : public std::system_error {
 public:
  explicit error(errc e) : std::system_error(make_error_code(e)) {}
  error(errc e, const std::string& what) : std::system_error(make_error_code(e), what) {}
};

}  // namespace go

template <>
struct std::is_error_code_enum<go::errc> : std::true_type {};
