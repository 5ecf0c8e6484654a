// go::select: readiness, default, nil cases, fairness, one case only, close, the
// dynamic form, and Go's own select tests.
#include <array>
#include <atomic>
#include <set>
#include <vector>

#include "support/counted.hpp"
#include "support/go_test.hpp"

TEST_SUITE_BEGIN("select");

GO_TEST_CASE("select runs the ready case and gives its value") {
  auto a = go::make_chan<int>(1), b = go::make_chan<int>(1);
  co_await b.send(5);
  auto r = co_await go::select(go::recv(a), go::recv(b));
  CHECK(r.index() == 1);
  REQUIRE(r.is<1>());
  CHECK(*r.get<1>() == 5);

  auto s = co_await go::select(go::send(a, 9), go::recv(b));
  CHECK(s.index() == 0);
  auto awaited_23 = co_await a.recv();
  CHECK(*awaited_23 == 9);
}

GO_TEST_CASE("default runs only when no case is ready; nil cases are never ready") {
  auto a = go::make_chan<int>();
  go::chan<int> nil;
  auto r = co_await go::select(go::recv(a), go::send(nil, 1), go::recv(nil), go::default_case);
  CHECK(r.index() == 3);
  auto full = go::make_chan<int>(1);
  co_await full.send(1);
  auto s = co_await go::select(go::default_case, go::send(full, 2));
  CHECK(s.index() == 0);
  auto t = co_await go::select(go::default_case, go::recv(full));
  CHECK(t.index() == 1);
  CHECK(*t.get<1>() == 1);
}

GO_TEST_CASE("a blocked select wakes for the first case that becomes ready") {
  auto a = go::make_chan<int>();
  auto b = go::make_chan<std::string>();
  auto sender = [b]() -> go::task<void> { co_await b.send("hello"); };
  go::spawn(sender);
  auto r = co_await go::select(go::recv(a), go::recv(b));
  REQUIRE(r.index() == 1);
  CHECK(*r.get<1>() == "hello");
  auto receiver = [a]() -> go::task<int> { co_return *(co_await a.recv()); };
  auto h = go::spawn(receiver);
  auto s = co_await go::select(go::send(a, 42), go::recv(b));
  CHECK(s.index() == 0);
  auto awaited_52 = co_await h;
  CHECK(awaited_52 == 42);
}

GO_TEST_CASE("close wakes every select waiting on the channel") {
  auto c = go::make_chan<int>(), other = go::make_chan<int>();
  constexpr int n = 8;
  go::wait_group done;
  std::atomic<int> woke_closed{0};
  done.add(n);
  for (int i = 0; i < n; ++i) {
    auto waiter = [&, c, other]() -> go::task<void> {
      auto r = co_await go::select(go::recv(other), go::recv(c));
      if (r.index() == 1 && !r.get<1>()) ++woke_closed;
      done.done();
    };
    go::spawn(waiter);
  }
  for (int i = 0; i < 50; ++i) co_await go::yield();
  c.close();
  co_await done.wait();
  CHECK(woke_closed == n);
}

GO_TEST_CASE("a send case on a closed channel is an error") {
  auto c = go::make_chan<int>(1);
  c.close();
  bool threw = false;
  try {
    (void)co_await go::select(go::send(c, 1), go::default_case);
  } catch (const go::error& e) {
    threw = e.code() == go::errc::closed_channel;
  }
  CHECK(threw);
}

GO_TEST_CASE("the same channel may appear in several cases") {
  auto c = go::make_chan<int>(2);
  co_await c.send(1);
  std::set<std::size_t> seen;
  for (int i = 0; i < 100; ++i) {
    auto r = co_await go::select(go::recv(c), go::recv(c), go::send(c, 1));
    seen.insert(r.index());
    if (r.index() != 2) co_await c.send(1);  // put it back
    else (void)co_await c.recv();
  }
  CHECK(seen.size() == 3);
}

// Go's TestSelfSelect: two goroutines select on sending and receiving the same channel;
// on an unbuffered channel a select must never receive its own send.
GO_TEST_CASE("a select never pairs its own send with its own receive") {
  for (int cap : {0, 10}) {
    auto c = go::make_chan<int>(cap);
    go::wait_group wg;
    std::atomic<int> self_receives{0};
    wg.add(2);
    for (int p = 0; p < 2; ++p) {
      auto body = [&, c, p, cap]() -> go::task<void> {
        for (int i = 0; i < 1000; ++i) {
          if ((p == 0 || i % 2 == 0)) {
            auto r = co_await go::select(go::send(c, p), go::recv(c));
            if (r.index() == 1 && cap == 0 && *r.get<1>() == p) ++self_receives;
          } else {
            auto r = co_await go::select(go::recv(c), go::send(c, p));
            if (r.index() == 0 && cap == 0 && *r.get<0>() == p) ++self_receives;
          }
        }
        wg.done();
      };
      go::spawn(body);
    }
    co_await wg.wait();
    CHECK(self_receives == 0);
  }
}

// Exactly one case of a select completes even when several senders arrive at once;
// the losing sender moves on (stays blocked until someone else receives).
GO_TEST_CASE("exactly one case fires when several become ready at once") {
  for (int round = 0; round < 300; ++round) {
    std::array<go::chan<int>, 3> cs{go::make_chan<int>(), go::make_chan<int>(), go::make_chan<int>()};
    auto selector = [cs]() -> go::task<int> {
      auto r = co_await go::select(go::recv(cs[0]), go::recv(cs[1]), go::recv(cs[2]));
      co_return static_cast<int>(r.index());
    };
    auto h = go::spawn(selector);
    std::vector<go::join_handle<void>> senders;
    for (int i = 0; i < 3; ++i) {
      auto tx = [c = cs[i], i]() -> go::task<void> { co_await c.send(i); };
      senders.push_back(go::spawn(tx));
    }
    int chosen = co_await h;
    // The two senders that lost are still blocked: drain them; nothing is lost or doubled.
    int drained = 0;
    for (int i = 0; i < 3; ++i)
      if (i != chosen) drained += *(co_await cs[i].recv()) == i;
    for (auto& s : senders) co_await s;
    CHECK(drained == 2);
    CHECK(cs[chosen].len() == 0);
  }
}

// Among ready cases, one is chosen uniformly at random: a chi-square test over 4 cases.
GO_TEST_CASE("select chooses uniformly among ready cases") {
  constexpr int cases = 4, trials = 40'000;
  std::array<go::chan<int>, cases> cs;
  for (auto& c : cs) {
    c = go::make_chan<int>(1);
    co_await c.send(0);
  }
  std::array<int, cases> hits{};
  for (int t = 0; t < trials; ++t) {
    auto r = co_await go::select(go::recv(cs[0]), go::recv(cs[1]), go::recv(cs[2]), go::recv(cs[3]));
    ++hits[r.index()];
    co_await cs[r.index()].send(0);  // keep every case ready
  }
  double expected = static_cast<double>(trials) / cases, chi2 = 0;
  for (int h : hits) chi2 += (h - expected) * (h - expected) / expected;
  CHECK_MESSAGE(chi2 < 16.27, "chi2 = " << chi2);  // chi-square, 3 degrees of freedom, p = 0.001
}

GO_TEST_CASE("the dynamic select, like reflect.Select") {
  std::vector<go::chan<int>> chans;
  for (int i = 0; i < 5; ++i) chans.push_back(go::make_chan<int>(1));
  co_await chans[3].send(33);
  std::vector<go::select_case<int>> cases;
  for (auto& c : chans) cases.push_back(go::select_case<int>::recv(c));
  auto r = co_await go::select(cases);
  CHECK(r.index == 3);
  CHECK(r.value == 33);
  auto d = co_await go::select(cases, go::default_case);
  CHECK(d.index == cases.size());

  std::vector<go::select_case<int>> sends;
  sends.push_back(go::select_case<int>::send(chans[0], 7));
  sends.push_back(go::select_case<int>::recv(chans[1]));
  auto s = co_await go::select(sends);
  CHECK(s.index == 0);
  auto awaited_190 = co_await chans[0].recv();
  CHECK(*awaited_190 == 7);
}

TEST_CASE("goroutines parked in select are destroyed at shutdown") {
  go_test::counted::live = 0;
  {
    go::runtime rt(go_test::with_procs(2));
    auto a = go::make_chan<go_test::counted>();
    auto b = go::make_chan<int>();
    go::chan<int> nil;
    go::wait_group started;
    started.add(2);
    rt.block_on([&]() -> go::task<void> {
      auto sel = [&, a, b]() -> go::task<void> {
        started.done();
        co_await go::select(go::recv(a), go::send(a, go_test::counted(1)), go::recv(b));
      };
      auto forever = [&, nil]() -> go::task<void> {
        started.done();
        co_await go::select(go::recv(nil));  // no ready case, ever
      };
      go::spawn(sel);
      go::spawn(forever);
      co_await started.wait();
    });
  }
  CHECK(go_test::counted::live == 0);
}

TEST_SUITE_END();
