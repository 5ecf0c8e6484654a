// The parsers that face the network, from the samples (fuzzed in test/fuzz): mini-redis's
// RESP parser and http_server's request parser. Regression tests name what they pin.
#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

#include "http_parse.hpp"
#include "resp.hpp"

TEST_SUITE_BEGIN("parsers");

TEST_CASE("resp: multibulk and inline commands, partial frames, Redis's limits") {
  std::vector<std::string_view> args;
  const std::string set = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n";
  resp::parse_result r = resp::parse(set, args);
  CHECK(r.st == resp::status::done);
  CHECK(r.used == set.size());
  CHECK(args == std::vector<std::string_view>{"SET", "k", "v"});
  for (std::size_t cut = 0; cut < set.size(); ++cut) {  // every prefix asks for more
    CAPTURE(cut);
    CHECK(resp::parse(std::string_view(set).substr(0, cut), args).st == resp::status::more);
  }
  r = resp::parse("PING  hello\r\n", args);
  CHECK(r.st == resp::status::done);
  CHECK(args == std::vector<std::string_view>{"PING", "hello"});
  r = resp::parse("*1\r\n$536870913\r\n", args);  // 512 MB + 1
  CHECK(r.st == resp::status::error);
  CHECK(r.error == "Protocol error: invalid bulk length");
  r = resp::parse("*1048577\r\n", args);
  CHECK(r.st == resp::status::error);
  CHECK(r.error == "Protocol error: invalid multibulk length");
  r = resp::parse("*1\r\n:5\r\n", args);
  CHECK(r.error == "Protocol error: expected '$', got ':'");
  r = resp::parse("*1\r\n$1\r\nab\r\n", args);  // the bulk is longer than it said
  CHECK(r.error == "Protocol error: expected CRLF");
  r = resp::parse(std::string(70 * 1024, 'a'), args);  // an inline command with no end
  CHECK(r.error == "Protocol error: too big inline request");
}

TEST_CASE("http: a request, pipelined requests, and malformed ones") {
  const std::string two = "POST /echo HTTP/1.1\r\nContent-Length: 5\r\n\r\nhelloGET / HTTP/1.0\r\n\r\n";
  request r;
  const long first = parse(two, r);
  REQUIRE(first > 0);
  CHECK(r.method == "POST");
  CHECK(r.body == "hello");
  CHECK(r.keep_alive);
  CHECK(parse(std::string_view(two).substr(static_cast<std::size_t>(first)), r) > 0);
  CHECK(r.version == "HTTP/1.0");
  CHECK_FALSE(r.keep_alive);
  CHECK(parse("GET / HTTP/1.1\r\nHost: x\r\n", r) == 0);  // more to come
  CHECK(parse("NONSENSE\r\n\r\n", r) == -1);
  CHECK(parse("GET / HTTP/1.1\r\nbad header\r\n\r\n", r) == -1);
}

// Regression: a Content-Length near 2^64 made end + 4 + length wrap around, so the
// parser said it had consumed fewer bytes than the head it had read.
TEST_CASE("http: a Content-Length too large to add is refused, not wrapped") {
  request r;
  CHECK(parse("GET / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n\r\n", r) == -1);
  CHECK(parse("GET / HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n", r) == -1);
}

TEST_SUITE_END();
