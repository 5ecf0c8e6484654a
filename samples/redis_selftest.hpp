// redis_server --self-test's client: every command's reply, byte for byte, as Redis 7
// answers (checked against Debian's redis-server with scripts/redis-check too).
// Included by redis_server.cpp inside its anonymous namespace (after mini_redis.hpp).

struct exchange {
  std::string send, expect;
};

// Send (if anything), then read exactly as many bytes as expected and compare; a difference is
// printed and counted.
go::task<int> expect_all(go::net::conn c, const std::vector<exchange>& script) {
  int bad = 0;
  for (const auto& [send, expect] : script) {
    if (!send.empty()) co_await c.write(send);
    std::string got(expect.size(), '\0');
    co_await c.read_full(std::as_writable_bytes(std::span(got)));
    if (got != expect) {
      ++bad;
      std::fprintf(stderr, "self-test: sent %s\nwanted %s\ngot    %s\n", send.c_str(), expect.c_str(), got.c_str());
    }
  }
  co_return bad;
}

std::string cmd(std::initializer_list<std::string_view> args) {
  std::string out;
  resp::array(out, args.size());
  for (auto a : args) resp::bulk(out, a);
  return out;
}

go::task<int> self_test_client(std::string addr) {
  int bad = 0;
  auto c = co_await go::net::dial("tcp", addr);
  const std::vector<exchange> basics = {
      {cmd({"PING"}), "+PONG\r\n"},
      {"PING\r\n", "+PONG\r\n"},  // inline
      {cmd({"ECHO", "hi"}), "$2\r\nhi\r\n"},
      {cmd({"SET", "k", "v"}), "+OK\r\n"},
      {cmd({"GET", "k"}), "$1\r\nv\r\n"},
      {cmd({"GET", "nope"}), "$-1\r\n"},
      {cmd({"SET", "k", "w", "NX"}), "$-1\r\n"},
      {cmd({"SET", "k2", "w", "XX"}), "$-1\r\n"},
      {cmd({"SET", "k", "w", "XX"}), "+OK\r\n"},
      {cmd({"SET", "k", "w", "EX", "x"}), "-ERR value is not an integer or out of range\r\n"},
      {cmd({"SET", "k", "w", "EX", "0"}), "-ERR invalid expire time in 'set' command\r\n"},
      {cmd({"SET", "k", "w", "NX", "XX"}), "-ERR syntax error\r\n"},
      {cmd({"EXISTS", "k", "nope", "k"}), ":2\r\n"},
      {cmd({"INCR", "n"}), ":1\r\n"},
      {cmd({"INCRBY", "n", "41"}), ":42\r\n"},
      {cmd({"DECR", "n"}), ":41\r\n"},
      {cmd({"DECRBY", "n", "1"}), ":40\r\n"},
      {cmd({"INCR", "k"}), "-ERR value is not an integer or out of range\r\n"},
      {cmd({"SET", "big", "9223372036854775807"}) + cmd({"INCR", "big"}),
       "+OK\r\n-ERR increment or decrement would overflow\r\n"},
      {cmd({"MSET", "a", "1", "b", "2"}), "+OK\r\n"},
      {cmd({"MGET", "a", "nope", "b"}), "*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n"},
      {cmd({"TTL", "a"}), ":-1\r\n"},
      {cmd({"TTL", "nope"}), ":-2\r\n"},
      {cmd({"EXPIRE", "a", "100"}), ":1\r\n"},
      {cmd({"TTL", "a"}), ":100\r\n"},
      {cmd({"EXPIRE", "nope", "100"}), ":0\r\n"},
      {cmd({"DEL", "a", "b", "nope"}), ":2\r\n"},
      {cmd({"GET"}), "-ERR wrong number of arguments for 'get' command\r\n"},
      {cmd({"FOO", "x"}), "-ERR unknown command 'FOO', with args beginning with: 'x' \r\n"},
      // pipelined: three commands in one write, three replies in order
      {cmd({"SET", "p", "1"}) + cmd({"INCR", "p"}) + cmd({"GET", "p"}), "+OK\r\n:2\r\n$1\r\n2\r\n"},
  };
  bad += co_await expect_all(c, basics);
  // KEYS: both keys, in any order.
  const std::string mset_keys = cmd({"MSET", "ka", "1", "kb", "2"}) + cmd({"KEYS", "k[ab]"});
  co_await c.write(mset_keys);
  std::string keys(5 + 4 + 2 * 8, '\0');  // +OK\r\n *2\r\n and two "$2\r\nkX\r\n"
  co_await c.read_full(std::as_writable_bytes(std::span(keys)));
  const bool keys_ok = keys == "+OK\r\n*2\r\n$2\r\nka\r\n$2\r\nkb\r\n" || keys == "+OK\r\n*2\r\n$2\r\nkb\r\n$2\r\nka\r\n";
  if (!keys_ok) ++bad, std::fprintf(stderr, "self-test: KEYS k[ab] gave %s\n", keys.c_str());

  // Expiry by the timer: a key with a 50 ms time to live is gone after it (the active
  // cycle deletes it; GET would also hide it).
  const std::vector<exchange> set_ttl = {{cmd({"SET", "t", "v", "PX", "50"}), "+OK\r\n"}, {cmd({"PTTL", "nope"}), ":-2\r\n"}};
  bad += co_await expect_all(c, set_ttl);
  co_await go::sleep(300ms);  // the behavior under test: a timer must expire the key
  const std::vector<exchange> expired = {{cmd({"GET", "t"}), "$-1\r\n"}, {cmd({"EXISTS", "t"}), ":0\r\n"}};
  bad += co_await expect_all(c, expired);

  // Pub/sub: two subscribers get a message; PUBLISH counts them.
  auto s1 = co_await go::net::dial("tcp", addr);
  auto s2 = co_await go::net::dial("tcp", addr);
  const std::string sub_reply = "*3\r\n$9\r\nsubscribe\r\n$4\r\nnews\r\n:1\r\n";
  const std::vector<exchange> subscribe1 = {{cmd({"SUBSCRIBE", "news"}), sub_reply}};
  bad += co_await expect_all(s1, subscribe1);
  const std::vector<exchange> subscribe2 = {{cmd({"SUBSCRIBE", "news"}), sub_reply}};
  bad += co_await expect_all(s2, subscribe2);
  const std::vector<exchange> publish_two = {{cmd({"PUBLISH", "news", "hello"}), ":2\r\n"}};
  bad += co_await expect_all(c, publish_two);
  const std::string msg = "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n";
  const std::vector<exchange> delivered1 = {{"", msg}};
  bad += co_await expect_all(s1, delivered1);
  const std::vector<exchange> delivered2 = {{"", msg}};
  bad += co_await expect_all(s2, delivered2);
  const std::vector<exchange> subscribed_mode = {{cmd({"GET", "k"}),
            "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this "
            "context\r\n"},
           {cmd({"UNSUBSCRIBE", "news"}), "*3\r\n$11\r\nunsubscribe\r\n$4\r\nnews\r\n:0\r\n"}};
  bad += co_await expect_all(s1, subscribed_mode);
  const std::vector<exchange> publish_one = {{cmd({"PUBLISH", "news", "again"}), ":1\r\n"}};
  bad += co_await expect_all(c, publish_one);
  const std::vector<exchange> delivered_again = {{"", "*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nagain\r\n"}};
  bad += co_await expect_all(s2, delivered_again);
  s1.close();

  // A subscriber that never reads: the publisher is never blocked, and once its buffer
  // is full the server disconnects it (Redis's output-buffer rule).
  const std::string big(64 * 1024, 'x');
  std::size_t delivered_last = 1;
  for (int i = 0; i < 4000 && delivered_last != 0; ++i) {
    const std::string publish = cmd({"PUBLISH", "news", big});
    co_await c.write(publish);
    std::string r(4, '\0');  // ":1\r\n" or ":0\r\n"
    co_await c.read_full(std::as_writable_bytes(std::span(r)));
    delivered_last = r == ":0\r\n" ? 0 : 1;
  }
  if (delivered_last != 0) ++bad, std::fprintf(stderr, "self-test: a subscriber that never reads was never disconnected\n");
  s2.close();

  // Bad input: Redis's error, then the connection closes.
  auto e = co_await go::net::dial("tcp", addr);
  co_await e.write(std::string_view("*1\r\n$600000000\r\n"));
  std::string answer(64, '\0');
  std::size_t n = co_await e.read(std::as_writable_bytes(std::span(answer)));
  if (answer.substr(0, n) != "-ERR Protocol error: invalid bulk length\r\n")
    ++bad, std::fprintf(stderr, "self-test: a bulk length past 512 MB gave %s\n", answer.substr(0, n).c_str());
  n = co_await e.read(std::as_writable_bytes(std::span(answer)));
  if (n != 0) ++bad, std::fprintf(stderr, "self-test: the connection stayed open after a protocol error\n");
  e.close();

  const std::vector<exchange> quit = {{cmd({"QUIT"}), "+OK\r\n"}};
  bad += co_await expect_all(c, quit);
  std::string rest(1, '\0');
  if (co_await c.read(std::as_writable_bytes(std::span(rest))) != 0) ++bad, std::fprintf(stderr, "self-test: QUIT left it open\n");
  c.close();
  co_return bad;
}
