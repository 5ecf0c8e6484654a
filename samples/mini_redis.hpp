// mini_redis: the server of samples/redis_server (a Redis RESP2 server on gocoro, one
// goroutine per connection), as a header so that other samples can run it in-process
// (samples/conn_pool.cpp hammers it through a connection pool). docs/services.md
// says how it is built from gocoro's parts.
//
// Commands: PING, ECHO, GET, SET (EX/PX/NX/XX), DEL, EXISTS, INCR, DECR, INCRBY, DECRBY,
// EXPIRE, PEXPIRE, TTL, PTTL, MGET, MSET, KEYS, PUBLISH, SUBSCRIBE, UNSUBSCRIBE, QUIT,
// CONFIG GET (what redis-benchmark asks for), DBSIZE, FLUSHALL.
//
// How it is built from gocoro's parts (docs/services.md):
//   - the keyspace is 16 shards, each a map under a go::mutex (a goroutine that waits
//     for a shard parks; the mutex is uncontended almost always);
//   - a key with a time to live is also in its shard's expiry heap; one goroutine with
//     a go::ticker (10 per second, Redis's hz) deletes the keys that are due, and every
//     read checks the deadline too (Redis's lazy expiry), so nothing past its time is
//     ever returned;
//   - a subscriber has a buffered go::chan of messages and a goroutine that writes them
//     to its socket; PUBLISH only try_sends, and a subscriber whose channel is full is
//     disconnected (Redis's client-output-buffer-limit for pubsub), so a slow reader
//     never blocks a publisher;
//   - replies to pipelined requests are gathered and written at once;
//   - run(listener, stop): when stop is done, the listener closes, idle connections end,
//     requests already read get their replies within a deadline (a context), and run
//     returns.
#pragma once

#include <algorithm>
#include <array>
#include <cstdio>
#include <functional>
#include <go/go.hpp>
#include <go/net.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "accept_loop.hpp"
#include "resp.hpp"



namespace mini_redis {

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(go::clock::now().time_since_epoch()).count();
}

// A command name in lower case, in the caller's small buffer (no allocation per command);
// a name too long for it cannot be a command, and stays as it is.
inline std::string_view lower_name(std::string_view s, std::array<char, 24>& buf) {
  if (s.size() > buf.size()) return s;
  for (std::size_t i = 0; i < s.size(); ++i) buf[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
  return {buf.data(), s.size()};
}

inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Redis's glob (stringmatchlen): *, ?, [abc], [^a-z], and \ to escape.
inline bool glob(std::string_view p, std::string_view s) {
  while (!p.empty()) {
    switch (p[0]) {
      case '*':
        while (p.size() > 1 && p[1] == '*') p.remove_prefix(1);
        if (p.size() == 1) return true;
        for (std::size_t i = 0; i <= s.size(); ++i)
          if (glob(p.substr(1), s.substr(i))) return true;
        return false;
      case '?':
        if (s.empty()) return false;
        s.remove_prefix(1);
        p.remove_prefix(1);
        break;
      case '[': {
        if (s.empty()) return false;
        std::size_t i = 1;
        const bool negate = i < p.size() && p[i] == '^';
        if (negate) ++i;
        bool match = false;
        for (; i < p.size() && p[i] != ']'; ++i) {
          if (p[i] == '\\' && i + 1 < p.size()) {
            match |= p[++i] == s[0];
          } else if (i + 2 < p.size() && p[i + 1] == '-' && p[i + 2] != ']') {
            char lo = p[i], hi = p[i + 2];
            if (lo > hi) std::swap(lo, hi);
            match |= s[0] >= lo && s[0] <= hi;
            i += 2;
          } else {
            match |= p[i] == s[0];
          }
        }
        if (match == negate) return false;
        p.remove_prefix(i < p.size() ? i + 1 : i);
        s.remove_prefix(1);
        break;
      }
      case '\\':
        if (p.size() > 1) p.remove_prefix(1);
        [[fallthrough]];
      default:
        if (s.empty() || p[0] != s[0]) return false;
        p.remove_prefix(1);
        s.remove_prefix(1);
    }
  }
  return s.empty();
}

// ---- the keyspace ----

// Heterogeneous lookup: find a std::string key by a string_view without making one.
struct key_hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view k) const noexcept { return std::hash<std::string_view>{}(k); }
};

struct entry {
  std::string value;
  std::int64_t expires = 0;  // ms since the clock's epoch; 0: never
};

class keyspace {
 public:
  static constexpr std::size_t nshards = 16;

  struct shard {
    go::mutex mu;
    std::unordered_map<std::string, entry, key_hash, std::equal_to<>> map;  // under mu
    // (deadline, key): a key's entries here may be stale (its ttl changed or it was
    // deleted); the expirer checks the map before deleting.
    std::priority_queue<std::pair<std::int64_t, std::string>, std::vector<std::pair<std::int64_t, std::string>>,
                        std::greater<>>
        expiries;  // under mu

    // The live entry for key, or null (an expired one is deleted on the way: lazy expiry).
    entry* find(std::string_view key, std::int64_t now) {
      auto it = map.find(key);
      if (it == map.end()) return nullptr;
      if (it->second.expires != 0 && it->second.expires <= now) {
        map.erase(it);
        return nullptr;
      }
      return &it->second;
    }
    void set_expiry(const std::string& key, entry& e, std::int64_t when) {
      e.expires = when;
      if (when != 0) expiries.emplace(when, key);
    }
  };

  shard& of(std::string_view key) { return shards_[std::hash<std::string_view>{}(key) % nshards]; }
  std::array<shard, nshards>& all() { return shards_; }

  // The active expiry cycle: delete every key whose time has come.
  go::task<std::size_t> expire_due() {
    std::size_t n = 0;
    const std::int64_t now = now_ms();
    for (shard& s : shards_) {
      auto g = co_await s.mu.lock();
      while (!s.expiries.empty() && s.expiries.top().first <= now) {
        auto [when, key] = s.expiries.top();
        s.expiries.pop();
        auto it = s.map.find(key);
        if (it != s.map.end() && it->second.expires == when) s.map.erase(it), ++n;
      }
    }
    co_return n;
  }

 private:
  std::array<shard, nshards> shards_;
};

// ---- pub/sub ----

// A subscribed connection: messages wait in a buffered channel for its writer.
struct subscriber {
  go::chan<std::string> inbox = go::make_chan<std::string>(subscriber_buffer);
  go::net::conn conn;
  static constexpr std::size_t subscriber_buffer = 1024;  // messages (Redis limits bytes: 32 MB hard)
};

class pubsub {
 public:
  // Subscribe s to ch (idempotent).
  void subscribe(const std::string& ch, const std::shared_ptr<subscriber>& s) {
    std::lock_guard lock(mu_);
    channels_[ch].insert(s);
  }
  void unsubscribe(const std::string& ch, const std::shared_ptr<subscriber>& s) {
    std::lock_guard lock(mu_);
    if (auto it = channels_.find(ch); it != channels_.end()) {
      it->second.erase(s);
      if (it->second.empty()) channels_.erase(it);
    }
  }
  // Deliver msg to every subscriber of ch without waiting for any: one whose buffer is
  // full is disconnected (its connection closes; its reader then unsubscribes it).
  std::size_t publish(const std::string& ch, std::string_view msg) {
    std::string frame;
    resp::array(frame, 3);
    resp::bulk(frame, "message");
    resp::bulk(frame, ch);
    resp::bulk(frame, msg);
    std::vector<std::shared_ptr<subscriber>> targets;
    {
      std::lock_guard lock(mu_);
      if (auto it = channels_.find(ch); it != channels_.end()) targets.assign(it->second.begin(), it->second.end());
    }
    std::size_t n = 0;
    for (auto& s : targets) {
      try {
        if (s->inbox.try_send(frame))
          ++n;
        else
          s->conn.close();  // a slow subscriber: Redis's output-buffer rule
      } catch (const go::error&) {
        // Its session ended after we listed it (it unsubscribes, then closes the inbox).
      }
    }
    return n;
  }

 private:
  // A plain lock: held for a map update, never across an await.
  std::mutex mu_;
  std::map<std::string, std::set<std::shared_ptr<subscriber>>> channels_;
};

// ---- commands ----

struct server {
  keyspace keys;
  pubsub channels;
};

struct session {
  session(server& sv, go::net::conn c) : srv(sv), conn(std::move(c)) {}
  server& srv;
  go::net::conn conn;
  std::shared_ptr<subscriber> sub;   // set once the connection subscribes
  go::join_handle<void> writer;      // sub's writer, which the session outlives
  std::set<std::string> subscribed;  // its channels
  go::mutex write_mu;                // the reader's replies and the subscriber's writer share the socket
  bool quit = false;
};

inline void wrong_arity(std::string& out, std::string_view cmd) {
  resp::error(out, "ERR wrong number of arguments for '" + lower(cmd) + "' command");
}

inline constexpr const char* not_integer = "ERR value is not an integer or out of range";

// SET key value [EX s | PX ms] [NX | XX]
inline go::task<void> cmd_set(session& s, const std::vector<std::string_view>& a, std::string& out) {
  std::int64_t ttl_ms = 0;
  bool nx = false, xx = false;
  for (std::size_t i = 3; i < a.size(); ++i) {
    const std::string opt = lower(a[i]);
    if ((opt == "ex" || opt == "px") && i + 1 < a.size() && ttl_ms == 0) {
      std::int64_t v = 0;
      if (!resp::detail::to_int(a[++i], v)) co_return resp::error(out, not_integer);
      if (v <= 0 || v > (std::int64_t{1} << 46)) co_return resp::error(out, "ERR invalid expire time in 'set' command");
      ttl_ms = opt == "ex" ? v * 1000 : v;
    } else if (opt == "nx" && !xx) {
      nx = true;
    } else if (opt == "xx" && !nx) {
      xx = true;
    } else {
      co_return resp::error(out, "ERR syntax error");
    }
  }
  auto& sh = s.srv.keys.of(a[1]);
  auto g = co_await sh.mu.lock();
  const std::int64_t now = now_ms();
  entry* e = sh.find(a[1], now);
  if ((nx && e) || (xx && !e)) co_return resp::null_bulk(out);
  if (!e) e = &sh.map.emplace(std::string(a[1]), entry{}).first->second;  // the key is copied only when new
  e->value.assign(a[2]);
  if (ttl_ms)
    sh.set_expiry(std::string(a[1]), *e, now + ttl_ms);
  else
    e->expires = 0;
  resp::simple(out, "OK");
}

inline go::task<void> cmd_incrby(session& s, std::string_view key, std::int64_t by, std::string& out) {
  auto& sh = s.srv.keys.of(key);
  auto g = co_await sh.mu.lock();
  entry* e = sh.find(key, now_ms());
  std::int64_t v = 0;
  if (e && !resp::detail::to_int(e->value, v)) co_return resp::error(out, not_integer);
  if ((by > 0 && v > INT64_MAX - by) || (by < 0 && v < INT64_MIN - by))
    co_return resp::error(out, "ERR increment or decrement would overflow");
  v += by;
  if (!e) e = &sh.map.emplace(std::string(key), entry{}).first->second;
  e->value = std::to_string(v);
  resp::integer(out, v);
}

inline go::task<void> cmd_expire(session& s, std::string_view key, std::int64_t ms, std::string& out) {
  auto& sh = s.srv.keys.of(key);
  auto g = co_await sh.mu.lock();
  const std::int64_t now = now_ms();
  entry* e = sh.find(key, now);
  if (!e) co_return resp::integer(out, 0);
  if (ms <= 0) {
    sh.map.erase(std::string(key));  // a time in the past deletes the key, as Redis does
  } else {
    sh.set_expiry(std::string(key), *e, now + ms);
  }
  resp::integer(out, 1);
}

inline go::task<void> cmd_ttl(session& s, std::string_view key, bool ms, std::string& out) {
  auto& sh = s.srv.keys.of(key);
  auto g = co_await sh.mu.lock();
  const std::int64_t now = now_ms();
  entry* e = sh.find(key, now);
  if (!e) co_return resp::integer(out, -2);
  if (e->expires == 0) co_return resp::integer(out, -1);
  const std::int64_t left = e->expires - now;
  resp::integer(out, ms ? left : (left + 500) / 1000);
}

// The writer of a subscribed connection: messages from its channel to its socket.
inline go::task<void> subscriber_writer(std::shared_ptr<subscriber> sub, session* s) {
  try {
    while (auto msg = co_await sub->inbox.recv()) {
      auto g = co_await s->write_mu.lock();
      co_await sub->conn.write(*msg);
    }
  } catch (const go::error&) {
    sub->conn.close();  // the reader sees it and ends the session
  }
}

inline go::task<void> cmd_subscribe(session& s, const std::vector<std::string_view>& a, std::string& out) {
  if (!s.sub) {
    s.sub = std::make_shared<subscriber>();
    s.sub->conn = s.conn;
    s.writer = go::spawn(subscriber_writer, s.sub, &s);
  }
  for (std::size_t i = 1; i < a.size(); ++i) {
    std::string ch(a[i]);
    if (s.subscribed.insert(ch).second) s.srv.channels.subscribe(ch, s.sub);
    resp::array(out, 3);
    resp::bulk(out, "subscribe");
    resp::bulk(out, ch);
    resp::integer(out, static_cast<std::int64_t>(s.subscribed.size()));
  }
  co_return;
}

inline void cmd_unsubscribe(session& s, const std::vector<std::string_view>& a, std::string& out) {
  std::vector<std::string> which;
  if (a.size() > 1)
    which.assign(a.begin() + 1, a.end());
  else
    which.assign(s.subscribed.begin(), s.subscribed.end());
  if (which.empty()) {  // Redis answers even when there is nothing to leave
    resp::array(out, 3);
    resp::bulk(out, "unsubscribe");
    resp::null_bulk(out);
    resp::integer(out, 0);
  }
  for (const std::string& ch : which) {
    if (s.subscribed.erase(ch)) s.srv.channels.unsubscribe(ch, s.sub);
    resp::array(out, 3);
    resp::bulk(out, "unsubscribe");
    resp::bulk(out, ch);
    resp::integer(out, static_cast<std::int64_t>(s.subscribed.size()));
  }
}

// Run one command, appending its reply to out.
inline go::task<void> run_command(session& s, const std::vector<std::string_view>& a, std::string& out) {
  std::array<char, 24> name_buf;
  const std::string_view cmd = lower_name(a[0], name_buf);
  const std::size_t n = a.size();
  auto arity = [&](std::size_t min, std::size_t max = SIZE_MAX) { return n >= min && n <= max; };
  if (!s.subscribed.empty() && cmd != "subscribe" && cmd != "unsubscribe" && cmd != "ping" && cmd != "quit") {
    resp::error(out, "ERR Can't execute '" + std::string(cmd) +
                         "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context");
    co_return;
  }
  if (cmd == "ping") {
    if (!arity(1, 2)) co_return wrong_arity(out, a[0]);
    if (!s.subscribed.empty()) {  // in subscribe mode PING answers as a message
      resp::array(out, 2);
      resp::bulk(out, "pong");
      resp::bulk(out, n == 2 ? a[1] : "");
    } else if (n == 2) {
      resp::bulk(out, a[1]);
    } else {
      resp::simple(out, "PONG");
    }
  } else if (cmd == "echo") {
    if (!arity(2, 2)) co_return wrong_arity(out, a[0]);
    resp::bulk(out, a[1]);
  } else if (cmd == "get") {
    if (!arity(2, 2)) co_return wrong_arity(out, a[0]);
    auto& sh = s.srv.keys.of(a[1]);
    auto g = co_await sh.mu.lock();
    if (entry* e = sh.find(a[1], now_ms()))
      resp::bulk(out, e->value);
    else
      resp::null_bulk(out);
  } else if (cmd == "set") {
    if (!arity(3)) co_return wrong_arity(out, a[0]);
    co_await cmd_set(s, a, out);
  } else if (cmd == "del" || cmd == "exists") {
    if (!arity(2)) co_return wrong_arity(out, a[0]);
    std::int64_t count = 0;
    const std::int64_t now = now_ms();
    for (std::size_t i = 1; i < n; ++i) {
      auto& sh = s.srv.keys.of(a[i]);
      auto g = co_await sh.mu.lock();
      if (sh.find(a[i], now)) {
        ++count;
        if (cmd == "del") sh.map.erase(std::string(a[i]));
      }
    }
    resp::integer(out, count);
  } else if (cmd == "incr" || cmd == "decr") {
    if (!arity(2, 2)) co_return wrong_arity(out, a[0]);
    co_await cmd_incrby(s, a[1], cmd == "incr" ? 1 : -1, out);
  } else if (cmd == "incrby" || cmd == "decrby") {
    if (!arity(3, 3)) co_return wrong_arity(out, a[0]);
    std::int64_t by = 0;
    if (!resp::detail::to_int(a[2], by) || (cmd == "decrby" && by == INT64_MIN)) co_return resp::error(out, not_integer);
    co_await cmd_incrby(s, a[1], cmd == "incrby" ? by : -by, out);
  } else if (cmd == "expire" || cmd == "pexpire") {
    if (!arity(3, 3)) co_return wrong_arity(out, a[0]);
    std::int64_t v = 0;
    if (!resp::detail::to_int(a[2], v)) co_return resp::error(out, not_integer);
    if (v > (std::int64_t{1} << 46) || v < -(std::int64_t{1} << 46))
      co_return resp::error(out, "ERR invalid expire time in '" + std::string(cmd) + "' command");
    co_await cmd_expire(s, a[1], cmd == "expire" ? v * 1000 : v, out);
  } else if (cmd == "ttl" || cmd == "pttl") {
    if (!arity(2, 2)) co_return wrong_arity(out, a[0]);
    co_await cmd_ttl(s, a[1], cmd == "pttl", out);
  } else if (cmd == "mget") {
    if (!arity(2)) co_return wrong_arity(out, a[0]);
    resp::array(out, n - 1);
    const std::int64_t now = now_ms();
    for (std::size_t i = 1; i < n; ++i) {
      auto& sh = s.srv.keys.of(a[i]);
      auto g = co_await sh.mu.lock();
      if (entry* e = sh.find(a[i], now))
        resp::bulk(out, e->value);
      else
        resp::null_bulk(out);
    }
  } else if (cmd == "mset") {
    if (n < 3 || n % 2 == 0) co_return wrong_arity(out, a[0]);
    for (std::size_t i = 1; i < n; i += 2) {
      auto& sh = s.srv.keys.of(a[i]);
      auto g = co_await sh.mu.lock();
      entry& e = sh.map[std::string(a[i])];
      e.value.assign(a[i + 1]);
      e.expires = 0;
    }
    resp::simple(out, "OK");
  } else if (cmd == "keys") {
    if (!arity(2, 2)) co_return wrong_arity(out, a[0]);
    std::vector<std::string> found;
    const std::int64_t now = now_ms();
    for (auto& sh : s.srv.keys.all()) {
      auto g = co_await sh.mu.lock();
      for (const auto& [k, e] : sh.map)
        if ((e.expires == 0 || e.expires > now) && glob(a[1], k)) found.push_back(k);
    }
    resp::array(out, found.size());
    for (const auto& k : found) resp::bulk(out, k);
  } else if (cmd == "dbsize") {
    if (!arity(1, 1)) co_return wrong_arity(out, a[0]);
    std::int64_t count = 0;
    for (auto& sh : s.srv.keys.all()) {
      auto g = co_await sh.mu.lock();
      count += static_cast<std::int64_t>(sh.map.size());
    }
    resp::integer(out, count);
  } else if (cmd == "flushall" || cmd == "flushdb") {
    for (auto& sh : s.srv.keys.all()) {
      auto g = co_await sh.mu.lock();
      sh.map.clear();
      sh.expiries = {};
    }
    resp::simple(out, "OK");
  } else if (cmd == "publish") {
    if (!arity(3, 3)) co_return wrong_arity(out, a[0]);
    resp::integer(out, static_cast<std::int64_t>(s.srv.channels.publish(std::string(a[1]), a[2])));
  } else if (cmd == "subscribe") {
    if (!arity(2)) co_return wrong_arity(out, a[0]);
    co_await cmd_subscribe(s, a, out);
  } else if (cmd == "unsubscribe") {
    cmd_unsubscribe(s, a, out);
  } else if (cmd == "config" && n == 3 && lower(a[1]) == "get") {
    // redis-benchmark asks for these at start; nothing here is configurable.
    const std::string p = lower(a[2]);
    const char* value = p == "save" ? "" : p == "appendonly" ? "no" : nullptr;
    resp::array(out, value ? 2 : 0);
    if (value) resp::bulk(out, p), resp::bulk(out, value);
  } else if (cmd == "quit") {
    resp::simple(out, "OK");
    s.quit = true;
  } else {
    std::string msg = "ERR unknown command '" + std::string(a[0]) + "', with args beginning with: ";
    for (std::size_t i = 1; i < n && i < 4; ++i) msg += "'" + std::string(a[i]) + "' ";
    resp::error(out, msg);
  }
}

// One connection: read, run every complete command (pipelining), write the replies at
// once. Ends at EOF, QUIT, a protocol error (after its reply, as Redis closes), the
// connection closing under it (a slow subscriber) or the server's shutdown.
inline go::task<void> serve(server& srv, go::net::conn c, go::context read_ctx, go::context write_ctx) {
  session s{srv, c};
  std::string buf, out;
  std::vector<char> chunk(16 * 1024);
  std::vector<std::string_view> args;
  try {
    while (!s.quit) {
      const std::size_t n = co_await c.read(std::as_writable_bytes(std::span(chunk)), read_ctx);
      if (n == 0) break;
      buf.append(chunk.data(), n);
      std::size_t used = 0;
      bool close = false;
      while (!s.quit && !close) {
        const resp::parse_result r = resp::parse(std::string_view(buf).substr(used), args);
        if (r.st == resp::status::more) break;
        if (r.st == resp::status::error) {
          resp::error(out, "ERR " + std::string(r.error));
          close = true;
          break;
        }
        used += r.used;
        if (!args.empty()) co_await run_command(s, args, out);
      }
      buf.erase(0, used);
      if (!out.empty()) {
        auto g = co_await s.write_mu.lock();
        co_await c.write(std::as_bytes(std::span(out)), write_ctx);
        out.clear();
      }
      if (close) break;
    }
  } catch (const go::error& e) {
    const auto code = e.code();
    if (code != go::errc::canceled && code != go::errc::connection_reset && code != go::errc::closed_connection)
      std::fprintf(stderr, "redis_server: %s\n", e.what());
  }
  for (const std::string& ch : s.subscribed) srv.channels.unsubscribe(ch, s.sub);
  c.close();
  if (s.sub) {  // its writer ends (the socket is closed), and it holds &s: join it
    s.sub->inbox.close();
    co_await s.writer;
  }
}


// Serve on l until stop is done (or l is closed), then shut down gracefully: stop
// accepting, end every read (idle connections go), give the replies to requests already
// read `drain` to be written, cut the rest, and return.
inline go::task<void> run(go::net::listener l, go::context stop, std::chrono::milliseconds drain = std::chrono::seconds(5)) {
  server srv;
  auto [read_ctx, stop_reading] = go::with_cancel(stop);  // a stop ends every read
  auto [write_ctx, stop_writing] = go::with_cancel(go::background());
  auto [running, finished] = go::with_cancel(stop);
  auto closer = go::spawn([l, running = running]() -> go::task<void> {
    co_await running.done();  // a stop, or the end of run
    l.close();                // accept() fails: the loop below ends
  });
  // The active expiry cycle (Redis's hz 10), until the server ends.
  auto [expire_ctx, stop_expiring] = go::with_cancel(go::background());
  auto expirer = go::spawn([&srv, ctx = expire_ctx]() -> go::task<void> {
    go::ticker tick(std::chrono::milliseconds(100));
    for (;;) {
      auto r = co_await go::select(go::recv(tick.c()), go::recv(ctx.done()));
      if (r.index() == 1) co_return;
      (void)co_await srv.keys.expire_due();
    }
  });
  go::wait_group conns;
  auto serve_one = [&srv, read_ctx = read_ctx, write_ctx = write_ctx](go::net::conn c) {
    return serve(srv, c, read_ctx, write_ctx);
  };
  co_await accept_until_closed(l, conns, serve_one);
  stop_reading();
  auto [drain_ctx, drain_cancel] = go::with_timeout(go::background(), drain);
  bool drained = true;
  try {
    co_await conns.wait(drain_ctx);
  } catch (const go::error&) {
    drained = false;
  }
  if (!drained) {
    stop_writing();
    co_await conns.wait();
  }
  drain_cancel();
  stop_expiring();
  co_await expirer;
  finished();
  co_await closer;
}

}  // namespace mini_redis
