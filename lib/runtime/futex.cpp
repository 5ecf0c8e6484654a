// The facade's futex (detail/atomic.hpp): Linux's, private to the process.
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "go/detail/atomic.hpp"

namespace go::detail {

static_assert(sizeof(atomic<std::uint32_t>) == sizeof(std::uint32_t), "a futex is a 32-bit word");

void futex_wait(atomic<std::uint32_t>& word, std::uint32_t expected, const timespec* timeout) noexcept {
  syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, expected, timeout, nullptr, 0);
}

void futex_wake(atomic<std::uint32_t>& word, int n) noexcept {
  syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, n, nullptr, nullptr, 0);
}

}  // namespace go::detail
