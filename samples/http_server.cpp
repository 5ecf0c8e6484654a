// http_server: a minimal HTTP/1.1 server with keep-alive, one goroutine per connection,
// graceful shutdown on SIGINT/SIGTERM. Try it with wrk:
//   http_server 127.0.0.1:8080 &  wrk -t2 -c100 -d10s http://127.0.0.1:8080/
// Routes: GET / answers "Hello, World!"; POST /echo answers the request's body;
// anything else is 404. A connection idle for 30 s between requests is closed (a read
// deadline, reset before each request).
//   http_server --self-test     serve on a free port, check the answers to keep-alive,
//                               pipelined, POST, 404, "Connection: close" and bad
//                               requests, then 10,000 connect/request/close cycles with
//                               no descriptor left behind (/proc/self/fd counted before
//                               and after), then signal ourselves and shut down
#include <asio/signal_set.hpp>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <go/asio.hpp>
#include <go/go.hpp>
#include <go/net.hpp>
#include <string>
#include <string_view>

#include "accept_loop.hpp"
#include "http_parse.hpp"

using namespace std::chrono_literals;

std::string respond(const request& r) {
  std::string_view status = "200 OK", body = "Hello, World!";
  if (r.method == "POST" && r.path == "/echo")
    body = r.body;
  else if (r.method != "GET" || r.path != "/")
    status = "404 Not Found", body = "not found";
  std::string out = "HTTP/1.1 " + std::string(status) + "\r\nContent-Type: text/plain\r\nContent-Length: " +
                    std::to_string(body.size()) + (r.keep_alive ? "\r\n\r\n" : "\r\nConnection: close\r\n\r\n");
  return out.append(body);
}

go::task<void> serve(go::net::conn c, go::context ctx) {
  std::string buf, out;
  std::string chunk(16 * 1024, '\0');
  try {
    for (bool open = true; open;) {
      c.set_read_deadline(go::clock::now() + 30s);  // idle keep-alive connections go
      std::size_t n = co_await c.read(std::as_writable_bytes(std::span(chunk)), ctx);
      if (n == 0) break;
      buf.append(chunk, 0, n);
      // Answer every complete request in the buffer (pipelining), in one write.
      request r;
      long used;
      while (open && (used = parse(buf, r)) != 0) {
        if (used < 0) {
          out += "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
          open = false;
          break;
        }
        out += respond(r);
        open = r.keep_alive;
        buf.erase(0, static_cast<std::size_t>(used));
      }
      if (!out.empty()) co_await c.write(std::as_bytes(std::span(out)), ctx);
      out.clear();
    }
  } catch (const go::error& e) {
    if (e.code() != go::errc::canceled && e.code() != go::errc::connection_reset && e.code() != go::errc::timeout)
      std::fprintf(stderr, "%s\n", e.what());
  }
  c.close();
}

// The self-test's client: one connection, several requests, each answer checked.
go::task<int> check_answers(std::string addr) {
  struct exchange {
    std::string send, expect;
  };
  auto ok = [](std::string_view body, bool close = false) {
    return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
           (close ? "\r\nConnection: close\r\n\r\n" : "\r\n\r\n") + std::string(body);
  };
  const std::string get = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  const exchange script[] = {
      {get, ok("Hello, World!")},
      {get + get, ok("Hello, World!") + ok("Hello, World!")},  // pipelined
      {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello", ok("hello")},
      {"GET /nope HTTP/1.1\r\n\r\n",
       "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 9\r\n\r\nnot found"},
      {"GET / HTTP/1.1\r\nConnection: close\r\n\r\n", ok("Hello, World!", true)},
  };
  int bad = 0;
  auto c = co_await go::net::dial("tcp", addr);
  for (const auto& [send, expect] : script) {
    co_await c.write(send);
    std::string got(expect.size(), '\0');
    co_await c.read_full(std::as_writable_bytes(std::span(got)));
    if (got != expect) ++bad, std::fprintf(stderr, "self-test: sent %s\ngot %s\n", send.c_str(), got.c_str());
  }
  std::string rest(1, '\0');  // "Connection: close": the server closes
  bad += co_await c.read(std::as_writable_bytes(std::span(rest))) != 0;
  c.close();
  // A malformed request gets 400 and the connection closes.
  auto b = co_await go::net::dial("tcp", addr);
  co_await b.write(std::string_view("NONSENSE\r\n\r\n"));
  std::string answer(64, '\0');
  std::size_t n = co_await b.read(std::as_writable_bytes(std::span(answer)));
  bad += answer.substr(0, n).rfind("HTTP/1.1 400", 0) != 0;
  b.close();
  co_return bad;
}

std::size_t open_fds() {
  std::size_t n = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) ++n;
  return n;
}

// 10,000 connections, each one request with "Connection: close" read to the end of
// stream: afterwards, once the server's goroutines have closed their ends, the process
// holds as many descriptors as before (the bound only stops a hang).
go::task<int> connect_close_cycles(std::string addr) {
  const std::size_t before = open_fds();
  const std::string request = "GET / HTTP/1.1\r\nConnection: close\r\n\r\n";
  int bad = 0;
  for (int i = 0; i < 10'000; ++i) {
    auto c = co_await go::net::dial("tcp", addr);
    co_await c.write(request);
    std::string answer, chunk(256, '\0');
    while (std::size_t n = co_await c.read(std::as_writable_bytes(std::span(chunk)))) answer.append(chunk, 0, n);
    bad += answer.rfind("HTTP/1.1 200 OK", 0) != 0;
    c.close();
  }
  const auto give_up = go::clock::now() + 10s;
  while (open_fds() != before && go::clock::now() < give_up) co_await go::yield();
  const std::size_t after = open_fds();
  std::printf("self-test: 10000 connect/request/close cycles, %d bad answers; descriptors %zu before, %zu after\n", bad,
              before, after);
  co_return bad + (after != before);
}

go::task<int> server_main(std::string address, bool self_test) {
  auto [ctx, cancel] = go::with_cancel(go::background());
  auto l = go::net::listen("tcp", address);
  std::printf("listening on http://%s/\n", l.addr().c_str());

  asio::signal_set signals(go::io_context(), SIGINT, SIGTERM);
  auto on_signal = [&signals, l, cancel = cancel]() -> go::task<void> {
    int sig = co_await signals.async_wait(go::use_go);
    std::printf("signal %d: shutting down\n", sig);
    cancel();
    l.close();
  };
  go::spawn(on_signal);

  int failures = 0;
  if (self_test) {
    auto client = [addr = l.addr(), &failures]() -> go::task<void> {
      failures = co_await check_answers(addr);
      failures += co_await connect_close_cycles(addr);
      std::raise(SIGINT);
    };
    go::spawn(client);
  }

  go::wait_group conns;
  auto serve_one = [ctx = ctx](go::net::conn c) { return serve(c, ctx); };
  co_await accept_until_closed(l, conns, serve_one);
  co_await conns.wait();
  if (self_test) std::printf("self-test: %s\n", failures == 0 ? "ok" : "FAILED");
  co_return failures;
}

int main(int argc, char** argv) {
  std::string arg = argc > 1 ? argv[1] : "127.0.0.1:8080";
  bool self_test = arg == "--self-test";
  return go::run(server_main, self_test ? std::string("127.0.0.1:0") : arg, self_test);
}
