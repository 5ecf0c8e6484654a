// go::chan: rendezvous, buffering, order, close, nil channels, views, misuse.
#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "support/counted.hpp"
#include "support/go_test.hpp"

TEST_SUITE_BEGIN("chan");

GO_TEST_CASE("an unbuffered channel hands values over in order") {
  auto ch = go::make_chan<int>();
  CHECK(ch.cap() == 0);
  auto producer = [ch]() -> go::task<void> {
    for (int i = 0; i < 1000; ++i) co_await ch.send(i);
    ch.close();
  };
  go::spawn(producer);
  int expect = 0;
  while (auto v = co_await ch.recv()) CHECK(*v == expect++);  // Go's `for v := range ch`
  CHECK(expect == 1000);
}

GO_TEST_CASE("a buffered channel holds up to cap values") {
  auto ch = go::make_chan<std::string>(3);
  CHECK(ch.cap() == 3);
  co_await ch.send("a");
  CHECK(ch.try_send(std::string("b")));
  CHECK(ch.try_send("c"));
  CHECK(ch.len() == 3);
  std::string d = "d";
  CHECK_FALSE(ch.try_send(std::move(d)));
  CHECK(d == "d");  // left as it was
  auto awaited_37 = co_await ch.recv();
  CHECK(*awaited_37 == "a");
  auto r = ch.try_recv();
  REQUIRE(r);
  CHECK(*r.value == "b");
  CHECK(ch.len() == 1);
  ch.close();
  auto awaited_43 = co_await ch.recv();
  CHECK(*awaited_43 == "c");  // a closed channel is drained first
  auto awaited_44 = co_await ch.recv();
  CHECK_FALSE(awaited_44);
  auto closed = ch.try_recv();
  CHECK_FALSE(closed);
  CHECK(closed.closed);
  auto empty = go::make_chan<int>(1).try_recv();
  CHECK_FALSE(empty.closed);
}

GO_TEST_CASE("move-only values and empty signal types") {
  auto boxes = go::make_chan<std::unique_ptr<int>>(1);
  co_await boxes.send(std::make_unique<int>(7));
  auto b = co_await boxes.recv();
  REQUIRE(b);
  CHECK(**b == 7);

  auto done = go::make_chan<std::monostate>();  // Go's chan struct{}
  auto signaler = [done]() -> go::task<void> {
    co_await done.send({});
    done.close();
  };
  go::spawn(signaler);
  auto awaited_65 = co_await done.recv();
  CHECK(awaited_65);
  auto awaited_66 = co_await done.recv();
  CHECK_FALSE(awaited_66);
}

GO_TEST_CASE("close wakes every receiver and fails every sender") {
  auto ch = go::make_chan<int>();
  constexpr int receivers = 5, senders = 3;
  go::wait_group finished;
  std::atomic<int> got_nothing{0}, send_failed{0};
  finished.add(receivers + senders);
  for (int i = 0; i < receivers; ++i) {
    auto rx = [&, ch]() -> go::task<void> {
      if (!co_await ch.recv()) ++got_nothing;
      finished.done();
    };
    go::spawn(rx);
  }
  auto unbuffered_senders = go::make_chan<int>();
  for (int i = 0; i < senders; ++i) {
    auto tx = [&, unbuffered_senders]() -> go::task<void> {
      try {
        co_await unbuffered_senders.send(1);
      } catch (const go::error& e) {
        if (e.code() == go::errc::closed_channel && std::string(e.what()).find("send on closed channel") == 0)
          ++send_failed;
      }
      finished.done();
    };
    go::spawn(tx);
  }
  // Let them all block (with one P they run only when we yield).
  for (int i = 0; i < 100; ++i) co_await go::yield();
  ch.close();
  unbuffered_senders.close();
  co_await finished.wait();
  CHECK(got_nothing == receivers);
  CHECK(send_failed == senders);
}

GO_TEST_CASE("misuse of a closed or nil channel is an error with Go's message") {
  auto ch = go::make_chan<int>(1);
  ch.close();
  auto message = [](auto&& f) -> std::string {
    try {
      f();
    } catch (const go::error& e) {
      return e.what();
    }
    return "no error";
  };
  CHECK(message([&] { ch.close(); }).find("close of closed channel") == 0);
  CHECK(message([&] { (void)ch.try_send(1); }).find("send on closed channel") == 0);
  bool threw = false;
  try {
    co_await ch.send(1);
  } catch (const go::error& e) {
    threw = e.code() == go::errc::closed_channel;
  }
  CHECK(threw);
  go::chan<int> nil;
  CHECK(nil.is_nil());
  CHECK(message([&] { nil.close(); }).find("close of nil channel") == 0);
  CHECK_FALSE(nil.try_send(1));
  CHECK_FALSE(nil.try_recv());
  CHECK_FALSE(nil.try_recv().closed);
  CHECK(nil.len() == 0);
}

GO_TEST_CASE("send-only and receive-only views") {
  auto ch = go::make_chan<int>(4);
  go::send_only<int> out = ch;
  go::recv_only<int> in = ch;
  co_await out.send(1);
  CHECK(out.try_send(2));
  CHECK(in.len() == 2);
  auto awaited_140 = co_await in.recv();
  CHECK(*awaited_140 == 1);
  CHECK(*in.try_recv().value == 2);
  out.close();
  auto awaited_143 = co_await in.recv();
  CHECK_FALSE(awaited_143);
  CHECK_FALSE(ch == go::make_chan<int>());
  go::chan<int> copy = ch;
  CHECK(copy == ch);
}

// With one P the order in which goroutines park is the order we let them run.
TEST_CASE("waiting receivers and senders are served first come, first served") {
  go::runtime rt(go_test::with_procs(1));
  go_test::bounded_block_on(rt, "waiting receivers and senders are served first come, first served", []() -> go::task<void> {
    auto ch = go::make_chan<int>();
    std::vector<int> order;
    go::wait_group wg;
    for (int id = 0; id < 5; ++id) {
      wg.add(1);
      auto rx = [&, ch, id]() -> go::task<void> {
        auto v = co_await ch.recv();
        order.push_back(id * 100 + *v);
        wg.done();
      };
      go::spawn(rx);
      co_await go::yield();  // rx runs and parks
    }
    for (int v = 0; v < 5; ++v) co_await ch.send(v);
    co_await wg.wait();
    std::sort(order.begin(), order.end());  // they may run in any order; receiver k got value k
    CHECK(order == std::vector<int>{0, 101, 202, 303, 404});

    std::vector<int> sent;
    for (int id = 0; id < 5; ++id) {
      auto tx = [ch, id]() -> go::task<void> { co_await ch.send(id); };
      go::spawn(tx);
      co_await go::yield();  // tx runs and parks
    }
    for (int i = 0; i < 5; ++i) sent.push_back(*(co_await ch.recv()));
    CHECK(sent == std::vector<int>{0, 1, 2, 3, 4});
  });
}

GO_TEST_CASE_LEAKY("operations on a nil channel block forever") {
  go::chan<int> nil;
  std::atomic<bool> completed{false};
  go::wait_group started;
  started.add(2);
  auto rx = [&, nil]() -> go::task<void> {
    started.done();
    co_await nil.recv();
    completed = true;
  };
  auto tx = [&, nil]() -> go::task<void> {
    started.done();
    co_await nil.send(1);
    completed = true;
  };
  go::spawn(rx);
  go::spawn(tx);
  co_await started.wait();
  for (int i = 0; i < 100; ++i) co_await go::yield();
  CHECK_FALSE(completed.load());
  // The runtime's stop destroys them (LeakSanitizer checks nothing is left).
}

// Go's TestNonblockRecvRace: a non-blocking receive racing with close must still see
// the buffered value (empty, then closed, then empty again is not a snapshot).
GO_TEST_CASE("a non-blocking receive racing with close sees the buffered value") {
  for (int i = 0; i < 2000; ++i) {
    auto c = go::make_chan<int>(1);
    co_await c.send(1);
    std::atomic<bool> saw{false};
    auto h = go::spawn([c, &saw]() -> go::task<void> {
      saw = c.try_recv().value.has_value();
      co_return;
    });
    c.close();
    co_await h;
    CHECK(saw.load());
  }
}

TEST_CASE("goroutines blocked on channels are destroyed at shutdown") {
  go_test::counted::live = 0;
  {
    go::runtime rt(go_test::with_procs(2));
    auto ch = go::make_chan<go_test::counted>();
    go::wait_group started;
    started.add(2);
    rt.block_on([&]() -> go::task<void> {
      auto tx = [&, ch]() -> go::task<void> {
        started.done();
        co_await ch.send(go_test::counted(1));  // parked holding a value
      };
      auto other = go::make_chan<go_test::counted>(1);
      auto rx = [&, other]() -> go::task<void> {
        go_test::counted local(2);
        auto never = go::make_chan<int>();
        started.done();
        co_await never.recv();
      };
      go::spawn(tx);
      go::spawn(rx);
      co_await started.wait();
    });
  }
  CHECK(go_test::counted::live == 0);
}

TEST_SUITE_END();
