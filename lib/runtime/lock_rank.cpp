// The debug checker for detail/lock_rank.hpp: a per-thread list of held ranks.
#include "go/detail/lock_rank.hpp"

#ifdef GO_LOCK_RANK_CHECKS
#include "go/detail/assert.hpp"

namespace go::detail {

namespace {
// Deep enough for every nesting the rank table allows: each rank once, plus the
// channels of a select (which may be many: deeper ones are not tracked).
constexpr int max_held = 64;
thread_local lock_rank held[max_held];
thread_local int nheld = 0;
}  // namespace

void lock_rank_acquire(lock_rank r) noexcept {
  const int tracked = nheld < max_held ? nheld : max_held;
  for (int i = 0; i < tracked; ++i)
    if (held[i] > r || (held[i] == r && r != lock_rank::chan && r != lock_rank::ctx))  // select: chans in address order; ctx: parent, then child
      fatal("go: lock order violation (see include/go/detail/lock_rank.hpp)");
  if (nheld < max_held) held[nheld] = r;
  ++nheld;
}

void lock_rank_release(lock_rank r) noexcept {
  if (nheld > max_held) {  // an untracked select channel
    --nheld;
    return;
  }
  for (int i = nheld - 1; i >= 0; --i) {
    if (held[i] == r) {
      for (int j = i; j + 1 < nheld; ++j) held[j] = held[j + 1];
      --nheld;
      return;
    }
  }
  fatal("go: released a lock that was not held");
}

}  // namespace go::detail
#endif
