// The debug checker for detail/lock_rank.hpp: a per-thread list of held locks.
#include "go/detail/lock_rank.hpp"

#ifdef GO_LOCK_RANK_CHECKS
#include "go/detail/assert.hpp"

namespace go::detail {

namespace {
// Deep enough for every nesting the rank table allows: each rank once, plus the
// channels of a select (which may be many: deeper ones are not tracked).
constexpr int max_held = 64;
struct held_lock {
  lock_rank rank;
  const void* addr;
};
thread_local held_lock held[max_held];
thread_local int nheld = 0;
}  // namespace

void lock_rank_acquire(lock_rank r, const void* addr) noexcept {
  const int tracked = nheld < max_held ? nheld : max_held;
  for (int i = 0; i < tracked; ++i) {
    const held_lock& h = held[i];
    if (h.rank < r) continue;
    // select: channels in increasing address order; ctx: parent, then child (which an
    // address cannot tell).
    if (h.rank == r && r == lock_rank::chan && h.addr < addr) continue;
    if (h.rank == r && r == lock_rank::ctx && h.addr != addr) continue;
    fatal(h.rank == r && r == lock_rank::chan
              ? "go: lock order violation: a channel's lock below one already held (select locks in address order)"
              : "go: lock order violation (see include/go/detail/lock_rank.hpp)");
  }
  if (nheld < max_held) held[nheld] = {r, addr};
  ++nheld;
}

void lock_rank_acquired_try(lock_rank r, const void* addr) noexcept {
  if (nheld < max_held) held[nheld] = {r, addr};
  ++nheld;
}

void lock_rank_release(lock_rank r, const void* addr) noexcept {
  if (nheld > max_held) {  // an untracked select channel
    --nheld;
    return;
  }
  for (int i = nheld - 1; i >= 0; --i) {
    if (held[i].addr == addr && held[i].rank == r) {
      for (int j = i; j + 1 < nheld; ++j) held[j] = held[j + 1];
      --nheld;
      return;
    }
  }
  fatal("go: released a lock that was not held");
}

bool lock_rank_held(const void* addr) noexcept {
  if (nheld > max_held) return true;  // past what is tracked: do not guess
  for (int i = 0; i < nheld; ++i)
    if (held[i].addr == addr) return true;
  return false;
}

}  // namespace go::detail
#endif
