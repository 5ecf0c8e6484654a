// The parked-goroutine registry; see registry.hpp.
#include "runtime/registry.hpp"

#include "go/detail/assert.hpp"

namespace go::detail {

void registry::add(unsigned s, g* gp) noexcept {
  shard& sh = shards_[s];
  sh.lock.lock();
  gp->reg_shard = static_cast<std::int16_t>(s);
  gp->reg_index = static_cast<std::uint32_t>(sh.gs.size());
  sh.gs.push_back(gp);  // a bad_alloc here is out of memory: terminate, like Go's throw
  GO_CHECK_INVARIANTS(sh);
  sh.lock.unlock();
}

void registry::remove_registered(g* gp) noexcept {
  shard& sh = shards_[static_cast<unsigned>(gp->reg_shard)];
  sh.lock.lock();
  g* moved = sh.gs.back();  // swap-remove: O(1), order does not matter
  sh.gs[gp->reg_index] = moved;
  moved->reg_index = gp->reg_index;
  sh.gs.pop_back();
  gp->reg_shard = -1;
  GO_ASSERT(moved == gp || sh.gs[moved->reg_index] == moved, "registry: the moved g is not at its new place");
  GO_CHECK_INVARIANTS(sh);
  sh.lock.unlock();
}

// The invariants at the two ends of the shard, where add and remove write: O(1), so
// that a checking build with a million parked goroutines is not quadratic.
void registry::shard::check() const noexcept {
  lock.assert_held();
  if (gs.empty()) return;
  for (const std::size_t i : {std::size_t{0}, gs.size() - 1}) {
    GO_INVARIANT(gs[i]->reg_shard == static_cast<std::int16_t>(index), "registry: a g listed in a shard it does not name");
    GO_INVARIANT(gs[i]->reg_index == i, "registry: a g's reg_index is not its place in its shard");
  }
}

}  // namespace go::detail
