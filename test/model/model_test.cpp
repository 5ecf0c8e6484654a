// Model checking of the runtime's lock-free protocols on the real code (model.hpp): the
// 4-slot run queue with a thief, the idle-worker wakeup protocol with its parker, and the
// spinlock. Each protocol's comment names the case here that covers it. The first cases
// check the checker: it must find a Dekker race without its fence, a lost wakeup, and
// the spinlock bug this project fixed (unlock reading its rank after the release).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <vector>

#include "model.hpp"
#include "runtime/idle.hpp"
#include "runtime/runq.hpp"
#include "runtime/timed_sleeper.hpp"

using namespace go;
using detail::memory_order_acq_rel;
using detail::memory_order_acquire;
using detail::memory_order_relaxed;
using detail::memory_order_release;
using detail::memory_order_seq_cst;

namespace {

// Explore and report: a failing schedule is printed with its trace.
model::result run(const model::options& o, const std::function<void()>& body) {
  model::result r = model::explore(o, body);
  if (r.failed) std::printf("model: %s after %llu schedules\n%s", r.message.c_str(),
                            static_cast<unsigned long long>(r.executions), r.trace.c_str());
  return r;
}

model::options bound(int preemptions) {
  model::options o;
  o.preemptions = preemptions;
  return o;
}

// Stand-ins for goroutines: the queues never look inside a g.
detail::g* fake_g(std::uintptr_t i) { return reinterpret_cast<detail::g*>(i * 64); }
std::uintptr_t id_of(detail::g* gp) { return reinterpret_cast<std::uintptr_t>(gp) / 64; }

}  // namespace

TEST_SUITE_BEGIN("model");

// ---- the checker finds what it is for ----

TEST_CASE("the checker finds a Dekker race without the fence (TSO store buffering), and none with it") {
  for (bool fenced : {false, true}) {
    model::result r = model::explore(bound(2), [fenced] {
      detail::atomic<int> x{0}, y{0};
      int rx = -1, ry = -1;
      model::thread a([&] {
        x.store(1, memory_order_relaxed);
        if (fenced) detail::fence(memory_order_seq_cst);
        ry = y.load(memory_order_relaxed);
      });
      model::thread b([&] {
        y.store(1, memory_order_relaxed);
        if (fenced) detail::fence(memory_order_seq_cst);
        rx = x.load(memory_order_relaxed);
      });
      a.join();
      b.join();
      model::check(rx == 1 || ry == 1, "both threads read the other's flag as 0");
    });
    CHECK(r.failed == !fenced);
    CHECK((r.complete || r.failed));
  }
}

TEST_CASE("the checker reports a lost wakeup as a deadlock") {
  model::result r = model::explore(bound(1), [] {
    detail::atomic<std::uint32_t> flag{0}, word{0};
    model::thread waiter([&] {
      // Wrong on purpose: it sleeps on a word the waker does not change, so a wake that
      // comes between the look at the flag and the sleep is lost.
      if (flag.load(memory_order_acquire) == 0) detail::futex_wait(word, 0, nullptr);
    });
    model::thread waker([&] {
      flag.store(1, memory_order_release);
      detail::futex_wake(word, 1);
    });
    waiter.join();
    waker.join();
  });
  CHECK(r.failed);
  CHECK(r.message.find("deadlock") != std::string::npos);
}

namespace {
// spinlock as it was before 1d3a768, but for the rank check, which the model does not
// run: unlock hands the rank it read to the caller instead of to lock_rank_release.
class old_spinlock {
 public:
  explicit old_spinlock(detail::lock_rank rank) noexcept : rank_(rank) {}
  void lock() noexcept {
    while (locked_.exchange(true, memory_order_acquire))
      while (locked_.load(memory_order_relaxed)) detail::cpu_relax();
  }
  void unlock(detail::lock_rank& released) noexcept {
    locked_.store(false, memory_order_release);
    released = rank_;  // was lock_rank_release(rank_): a read of *this after the release
  }

 private:
  detail::atomic<bool> locked_{false};
  detail::lock_rank rank_;
};
}  // namespace

TEST_CASE("the checker finds the old spinlock's read after release, and the spinlock has none") {
  // The old unlock: its read of rank_ can come after the next holder freed the lock.
  model::result old = model::explore(bound(2), [] {
    alignas(old_spinlock) unsigned char storage[sizeof(old_spinlock)];
    auto* l = ::new (storage) old_spinlock(detail::lock_rank::primitive);
    detail::lock_rank read{};
    l->lock();
    model::thread next([&] {
      l->lock();
      l->~old_spinlock();
      std::memset(storage, 0xdb, sizeof storage);  // freed and reused
    });
    l->unlock(read);
    next.join();
    model::check(read == detail::lock_rank::primitive, "unlock read the lock after the next holder freed it");
  });
  CHECK(old.failed);

  // The spinlock of today copies its rank before the release; the model runs every
  // schedule of the same case with it (nothing after the store to read).
  model::result now = run(bound(2), [] {
    alignas(detail::spinlock) unsigned char storage[sizeof(detail::spinlock)];
    auto* l = ::new (storage) detail::spinlock(detail::lock_rank::primitive);
    l->lock();
    model::thread next([&] {
      l->lock();
      l->~spinlock();
      std::memset(storage, 0xdb, sizeof storage);
    });
    l->unlock();
    next.join();
  });
  CHECK_FALSE(now.failed);
  CHECK(now.complete);
}

// ---- spinlock ----

TEST_CASE("spinlock: mutual exclusion, and every store in a critical section is seen by the next holder") {
  model::result r = run(bound(3), [] {
    detail::spinlock l(detail::lock_rank::primitive);
    detail::atomic<int> inside{0};  // relaxed: the lock must order them
    int count = 0;
    auto body = [&] {
      l.lock();
      model::check(inside.load(memory_order_relaxed) == 0, "two holders at once");
      inside.store(1, memory_order_relaxed);
      ++count;
      inside.store(0, memory_order_relaxed);
      l.unlock();
    };
    model::thread a(body), b(body);
    a.join();
    b.join();
    model::check(count == 2, "an increment was lost");
  });
  CHECK_FALSE(r.failed);
  CHECK(r.complete);
}

// ---- the run queue: owner push/pop against a thief (runq.hpp) ----

TEST_CASE("runq: the owner pushes and pops while a thief steals: every g is taken once") {
  static_assert(detail::runq::capacity == 4, "the model runs the 4-slot queue");
  model::result r = run(bound(3), [] {
    detail::runq victim_q, loot_q;
    detail::runq::local victim(victim_q), loot(loot_q);
    std::vector<std::uintptr_t> got;
    model::thread owner([&] {
      for (std::uintptr_t i = 1; i <= 3; ++i) model::check(victim.push_back(fake_g(i)), "push_back refused a g with room");
      while (detail::g* gp = victim.pop()) got.push_back(id_of(gp));
    });
    model::thread thief([&] {
      if (detail::g* gp = victim_q.steal_into(loot)) {
        got.push_back(id_of(gp));
        while (detail::g* more = loot.pop()) got.push_back(id_of(more));
      }
    });
    owner.join();
    thief.join();
    std::sort(got.begin(), got.end());
    model::check(got == std::vector<std::uintptr_t>{1, 2, 3}, "a g was lost or taken twice");
    model::check(victim.empty() && loot.empty(), "a queue is not empty at the end");
  });
  CHECK_FALSE(r.failed);
  CHECK(r.complete);
  MESSAGE("runq push/pop vs steal: " << r.executions << " schedules");
}

TEST_CASE("runq: a full queue moves half out (take_half) while a thief steals: every g is taken once") {
  model::result r = run(bound(3), [] {
    detail::runq victim_q, loot_q;
    detail::runq::local victim(victim_q), loot(loot_q);
    for (std::uintptr_t i = 1; i <= 4; ++i) victim.push_back(fake_g(i));
    std::vector<std::uintptr_t> got;
    model::thread owner([&] {
      if (!victim.push_back(fake_g(5))) {
        detail::g* half[detail::runq::capacity / 2];
        const std::uint32_t n = victim.take_half(half);
        for (std::uint32_t i = 0; i < n; ++i) got.push_back(id_of(half[i]));
        model::check(victim.push_back(fake_g(5)), "no room after take_half or a steal");
      }
      while (detail::g* gp = victim.pop()) got.push_back(id_of(gp));
    });
    model::thread thief([&] {
      if (detail::g* gp = victim_q.steal_into(loot)) {
        got.push_back(id_of(gp));
        while (detail::g* more = loot.pop()) got.push_back(id_of(more));
      }
    });
    owner.join();
    thief.join();
    std::sort(got.begin(), got.end());
    model::check(got == std::vector<std::uintptr_t>{1, 2, 3, 4, 5}, "a g was lost or taken twice");
  });
  CHECK_FALSE(r.failed);
  CHECK(r.complete);
  MESSAGE("runq take_half vs steal: " << r.executions << " schedules");
}

TEST_CASE("runq: two thieves and the owner: every g is taken once") {
  model::result r = run(bound(3), [] {
    detail::runq victim_q, loot1_q, loot2_q;
    detail::runq::local victim(victim_q), loot1(loot1_q), loot2(loot2_q);
    for (std::uintptr_t i = 1; i <= 3; ++i) victim.push_back(fake_g(i));
    std::vector<std::uintptr_t> got;
    auto thief = [&](detail::runq::local& loot) {
      if (detail::g* gp = victim_q.steal_into(loot)) {
        got.push_back(id_of(gp));
        while (detail::g* more = loot.pop()) got.push_back(id_of(more));
      }
    };
    model::thread t1([&] { thief(loot1); }), t2([&] { thief(loot2); });
    while (detail::g* gp = victim.pop()) got.push_back(id_of(gp));
    t1.join();
    t2.join();
    std::sort(got.begin(), got.end());
    model::check(got == std::vector<std::uintptr_t>{1, 2, 3}, "a g was lost or taken twice");
  });
  CHECK_FALSE(r.failed);
  CHECK(r.complete);
  MESSAGE("runq two thieves: " << r.executions << " schedules");
}

// ---- the idle-worker protocol (idle.hpp's P1-P3 against S1-S2) and its parker ----

namespace {
// Worker 1 ran out of work while searching and goes to sleep the way the worker loop
// does (begin_park, a last look at the queues, then park or cancel_park); the producers
// publish a g each and notify. Whatever the interleaving, every g is run: no lost
// wakeup. A g is published as a run queue publishes it, by a release store (which x86
// may hold in its store buffer past the producer's next load: what P2's fence is for).
void sleeper_and_producer(int producers) {
  detail::idle idle(2);
  detail::atomic<int> queued[2] = {0, 0};  // stand-ins for the run queues, one per producer
  int ran = 0;
  auto any_queued = [&] {
    for (int i = 0; i < producers; ++i)
      if (queued[i].load(memory_order_acquire)) return true;
    return false;
  };
  bool searching = idle.begin_search();  // worker 1 searches; the producers run goroutines
  model::thread sleeper([&] {
    for (;;) {
      idle.begin_park(1, searching);  // S1
      if (any_queued()) {             // S2
        idle.cancel_park(1);
      } else {
        idle.park(1, detail::never);
        idle.finish_park(1);
      }
      // Awake again, as a searcher (cancel_park and finish_park say so): take what
      // there is, and stop searching as the worker loop does.
      for (int i = 0; i < producers; ++i) ran += queued[i].exchange(0, memory_order_acquire);
      if (idle.end_search()) idle.notify_one();  // the last searcher found work: wake a replacement
      if (ran == producers) return;
      searching = idle.begin_search();  // out of work again
    }
  });
  std::vector<std::unique_ptr<model::thread>> ps;
  for (int i = 0; i < producers; ++i)
    ps.push_back(std::make_unique<model::thread>([&, i] {
      queued[i].store(1, memory_order_release);  // P1
      idle.notify_one();                         // P2, P3
    }));
  for (auto& p : ps) p->join();
  sleeper.join();
}
}  // namespace

TEST_CASE("idle: a worker going to sleep and a producer publishing a g: the g runs (no lost wakeup)") {
  model::result r = run(bound(3), [] { sleeper_and_producer(1); });
  CHECK_FALSE(r.failed);
  CHECK(r.complete);
  MESSAGE("idle, one producer: " << r.executions << " schedules");
}

TEST_CASE("idle: two producers and a sleeper: both gs run") {
  model::result r = run(bound(2), [] { sleeper_and_producer(2); });
  CHECK_FALSE(r.failed);
  CHECK(r.complete);
  MESSAGE("idle, two producers: " << r.executions << " schedules");
}

TEST_CASE("parker: an unpark before, during or after the park is never lost") {
  model::result r = run(bound(3), [] {
    detail::parker p;
    model::thread sleeper([&] { model::check(p.park(), "park returned without an unpark"); });
    model::thread waker([&] { p.unpark(); });
    sleeper.join();
    waker.join();
    model::check(!p.pending(), "an unpark was left pending after being consumed");
  });
  CHECK_FALSE(r.failed);
  CHECK(r.complete);
}

TEST_CASE("idle: begin_poll against unpark (Dekker): the poller is interrupted or does not block") {
  model::result r = run(bound(3), [] {
    detail::idle idle(2);
    detail::atomic<int> breaks{0};
    idle.set_breaker([](void* b) noexcept { static_cast<detail::atomic<int>*>(b)->fetch_add(1, memory_order_relaxed); }, &breaks);
    bool blocked = false;
    model::thread poller([&] {
      blocked = idle.begin_poll(1);  // true: it would block in epoll now
    });
    model::thread waker([&] { idle.wake(1); });
    poller.join();
    waker.join();
    model::check(!blocked || breaks.load(memory_order_relaxed) > 0, "the poller blocks and nobody interrupts it");
  });
  CHECK_FALSE(r.failed);
  CHECK(r.complete);
}

// ---- the timed sleeper against a timer's add and an I/O wait (timed_sleeper.hpp) ----

namespace {
// The timed sleeper as it would be without T2's fence: what the cases below must catch.
class unfenced_sleeper {
 public:
  bool claim(unsigned worker) noexcept {
    int none = -1;
    if (!who_.compare_exchange_strong(none, static_cast<int>(worker), memory_order_seq_cst, memory_order_relaxed))
      return false;
    until_.store(detail::never, memory_order_relaxed);  // no fence after it
    return true;
  }
  void decided(std::int64_t deadline) noexcept { until_.store(deadline, memory_order_relaxed); }
  void release() noexcept { who_.store(-1, memory_order_release); }
  int timer_added(std::int64_t when) noexcept {
    detail::fence(memory_order_seq_cst);
    const int w = who_.load(memory_order_relaxed);
    return w >= 0 && when < until_.load(memory_order_relaxed) ? w : -1;
  }

 private:
  detail::atomic<int> who_{-1};
  detail::atomic<std::int64_t> until_{detail::never};
};

// Worker 1 goes to sleep as the timed sleeper (T1-T3; the heap's head is the stand-in
// for every heap's next_, published by the heap lock's release) while another thread
// adds a timer due at 100 (A1-A3). The sleeper's deadline must cover the timer, or the
// adder must wake it. An earlier sleep (until 50) left its deadline behind, as a real
// one does: the adder may read it while the new sleeper's "deciding" is still in its
// store buffer.
template <class Sleeper>
model::result timer_against_sleeper() {
  return model::explore(bound(2), [] {
    Sleeper sleeper;
    if (sleeper.claim(0)) {  // the earlier sleep
      sleeper.decided(50);
      sleeper.release();
    }
    detail::atomic<std::int64_t> head{detail::never};
    std::int64_t deadline = detail::never;
    bool slept_timed = false;
    int woken = -1;
    model::thread worker([&] {
      if (sleeper.claim(1)) {                            // T1, T2
        deadline = head.load(memory_order_acquire);      // T3
        sleeper.decided(deadline);
        slept_timed = true;
      }
    });
    model::thread adder([&] {
      head.store(100, memory_order_release);  // A1
      woken = sleeper.timer_added(100);       // A2, A3
    });
    worker.join();
    adder.join();
    model::check(!slept_timed || deadline <= 100 || woken == 1, "the timed sleeper missed a timer and nobody woke it");
  });
}
}  // namespace

TEST_CASE("timed sleeper: a timer added while a worker decides how long to sleep is seen or wakes it") {
  model::result r = timer_against_sleeper<detail::timed_sleeper>();
  if (r.failed) std::printf("model: %s\n%s", r.message.c_str(), r.trace.c_str());
  CHECK_FALSE(r.failed);
  CHECK(r.complete);
  MESSAGE("timed sleeper vs add: " << r.executions << " schedules");
}

TEST_CASE("timed sleeper: without the sleeper's fence the checker finds the missed timer") {
  model::result r = timer_against_sleeper<unfenced_sleeper>();
  CHECK(r.failed);
  CHECK(r.message.find("missed a timer") != std::string::npos);
}

TEST_CASE("timed sleeper: a goroutine that starts an I/O wait is polled for or wakes the sleeper") {
  model::result r = run(bound(3), [] {
    detail::timed_sleeper sleeper;
    detail::atomic<std::int64_t> waiters{0};  // the netpoll's waiter count
    bool polls = false, slept_timed = false;
    int woken = -1;
    model::thread worker([&] {
      if (sleeper.claim(1)) {  // T1, T2
        sleeper.decided(detail::never);
        polls = waiters.load(memory_order_seq_cst) > 0;  // T4
        slept_timed = true;
      }
    });
    model::thread io([&] {
      waiters.fetch_add(1, memory_order_seq_cst);  // W1
      woken = sleeper.holder();                    // W2
    });
    worker.join();
    io.join();
    model::check(!slept_timed || polls || woken == 1, "the sleeper sleeps outside the poller and nobody wakes it");
  });
  CHECK_FALSE(r.failed);
  CHECK(r.complete);
}

TEST_SUITE_END();
