// http_server: a minimal HTTP/1.1 server with keep-alive, one goroutine per connection,
// graceful shutdown on SIGINT/SIGTERM. Try it with wrk:
//   http_server 127.0.0.1:8080 &  wrk -t2 -c100 -d10s http://127.0.0.1:8080/
// Routes: GET / answers "Hello, World!"; POST /echo answers the request's body;
// anything else is 404. A connection idle for 30 s between requests is closed (a read
// deadline, reset before each request).
//   http_server --self-test     serve on a free port, check the answers to keep-alive,
//                               pipelined, POST, 404, "Connection: close" and bad
//                               requests, then signal ourselves and shut down
#include <asio/signal_set.hpp>
#include <charconv>
#include <csignal>
#include <cstdio>
#include <go/asio.hpp>
#include <go/go.hpp>
#include <go/net.hpp>
#include <string>
#include <string_view>

using namespace std::chrono_literals;

struct request {
  std::string_view method, path, version, body;
  bool keep_alive = true;
};

// Parse one request at the front of buf: its size, 0 if more bytes are needed, -1 if
// it is malformed.
long parse(std::string_view buf, request& r) {
  std::size_t end = buf.find("\r\n\r\n");
  if (end == std::string_view::npos) return buf.size() > 64 * 1024 ? -1 : 0;
  std::string_view head = buf.substr(0, end);
  std::size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  std::size_t sp1 = line.find(' '), sp2 = line.rfind(' ');
  if (sp1 == std::string_view::npos || sp1 == sp2) return -1;
  r.method = line.substr(0, sp1);
  r.path = line.substr(sp1 + 1, sp2 - sp1 - 1);
  r.version = line.substr(sp2 + 1);
  if (r.version != "HTTP/1.1" && r.version != "HTTP/1.0") return -1;
  r.keep_alive = r.version == "HTTP/1.1";
  std::size_t length = 0;
  while (eol != std::string_view::npos) {
    std::size_t next = head.find("\r\n", eol + 2);
    std::string_view h = head.substr(eol + 2, next == std::string_view::npos ? next : next - eol - 2);
    eol = next;
    std::size_t colon = h.find(':');
    if (colon == std::string_view::npos) return -1;
    std::string_view name = h.substr(0, colon), value = h.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    auto is = [&](std::string_view a, std::string_view b) {
      return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return std::tolower(x) == std::tolower(y); });
    };
    if (is(name, "content-length")) {
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), length);
      if (ec != std::errc() || p != value.data() + value.size()) return -1;
    } else if (is(name, "connection")) {
      if (is(value, "close")) r.keep_alive = false;
      if (is(value, "keep-alive")) r.keep_alive = true;
    }
  }
  std::size_t total = end + 4 + length;
  if (buf.size() < total) return total > 1024 * 1024 ? -1 : 0;
  r.body = buf.substr(end + 4, length);
  return static_cast<long>(total);
}

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
      std::raise(SIGINT);
    };
    go::spawn(client);
  }

  go::wait_group conns;
  for (;;) {
    go::net::conn c;
    try {
      c = co_await l.accept();
    } catch (const go::error& e) {
      if (e.code() == go::errc::closed_connection) break;
      throw;
    }
    conns.go([c, ctx = ctx]() { return serve(c, ctx); });
  }
  co_await conns.wait();
  if (self_test) std::printf("self-test: %s\n", failures == 0 ? "ok" : "FAILED");
  co_return failures;
}

int main(int argc, char** argv) {
  std::string arg = argc > 1 ? argv[1] : "127.0.0.1:8080";
  bool self_test = arg == "--self-test";
  return go::run(server_main, self_test ? std::string("127.0.0.1:0") : arg, self_test);
}
