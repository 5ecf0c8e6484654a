// registry: every goroutine that has parked at least once and has not exited (Go's
// allgs, less the ones that never blocked). The shutdown sweep destroys the parked ones
// from here; the dump, the deadlock report, stats and scheddetail read it.
//
// A g that never parks needs no entry: it is always running or in a run queue, where
// the sweep and the dump find it. So a g registers on its first park (park(), from the
// worker that runs it) and unregisters when it exits.
//
// Sharded by P, so that registrations on different Ps do not share a lock: a g joins the
// shard of the P it first parks on and stays there (any thread may unregister it).
//
// Invariants (under each shard's lock; check() verifies them at the shard's ends after
// each add and remove): for every g in shard s at position i, g->reg_shard == s and
// g->reg_index == i; a g is in at most one shard.
//
// Fields: shards_ is immutable after construction; each shard's vector is protected by
// its lock (lock_rank::registry); a g's reg_shard / reg_index by the lock of the shard
// reg_shard names.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "go/detail/g.hpp"
#include "go/detail/spinlock.hpp"

namespace go::detail {

class registry {
 public:
  explicit registry(unsigned shards) : n_(shards), shards_(std::make_unique<shard[]>(shards)) {
    for (unsigned s = 0; s < shards; ++s) shards_[s].index = s;
  }

  // gp's first park, on P `shard`'s worker (or P0's shard from a thread with no P).
  void add(unsigned shard, g* gp) noexcept;
  // gp exits (any thread). No-op if it never registered.
  void remove(g* gp) noexcept {
    if (gp->reg_shard >= 0) remove_registered(gp);
  }

  // Call f(g*) for each registered g, one shard at a time under its lock, until f
  // returns true; returns whether it did. f must not park, ready or take a lock of a
  // rank at or below registry.
  template <class F>
  bool any_of(F&& f) const {
    for (unsigned s = 0; s < n_; ++s) {
      shard& sh = shards_[s];
      sh.lock.lock();
      for (g* gp : sh.gs)
        if (f(gp)) {
          sh.lock.unlock();
          return true;
        }
      sh.lock.unlock();
    }
    return false;
  }
  template <class F>
  void for_each(F&& f) const {
    (void)any_of([&](g* gp) {
      f(gp);
      return false;
    });
  }

  // Shards count: one per P.
  unsigned shards() const noexcept { return n_; }

 private:
  void remove_registered(g* gp) noexcept;
  struct alignas(64) shard {
    mutable spinlock lock{lock_rank::registry};
    std::vector<g*> gs;  // protected by lock
    unsigned index = 0;  // immutable after construction
    void check() const noexcept;  // the invariants above, under lock
  };
  const unsigned n_;
  const std::unique_ptr<shard[]> shards_;
};

}  // namespace go::detail
