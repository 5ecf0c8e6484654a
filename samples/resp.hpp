// resp: the Redis serialization protocol (RESP2), the part a server needs: parse a
// client's commands from a byte buffer, and encode replies. No I/O and no runtime, so
// that the parser can be fuzzed alone (test/fuzz/resp_fuzz.cpp) and read in one sitting.
//
// A client sends either a multibulk array of bulk strings ("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n",
// what redis-cli and redis-benchmark send) or an inline command ("PING\r\n", what a
// human types into telnet). The limits are Redis's: a bulk string of at most 512 MB, an
// array of at most 1024 * 1024 elements, an inline command of at most 64 KiB; past them,
// or on a malformed frame, the parse fails with Redis's error text and the server closes
// the connection after replying, as Redis does. One deliberate difference: a bulk string
// not followed by CRLF is an error here ("expected CRLF"), where Redis skips two bytes
// whatever they are.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace resp {

inline constexpr std::int64_t max_bulk = 512LL * 1024 * 1024;  // Redis's proto-max-bulk-len
inline constexpr std::int64_t max_multibulk = 1024 * 1024;
inline constexpr std::size_t max_inline = 64 * 1024;  // Redis's PROTO_INLINE_MAX_SIZE

enum class status { done, more, error };

struct parse_result {
  status st = status::more;
  std::size_t used = 0;     // bytes of the buffer the command took (done)
  std::string error;       // Redis's error text, without "-" (error)
};

namespace detail {
// A decimal integer that fills s (Redis's string2ll: an optional '-', digits, no '+').
inline bool to_int(std::string_view s, std::int64_t& out) {
  if (s.empty() || s.size() > 20) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}
}  // namespace detail

// Parse one command at the front of buf into args (views into buf, valid while buf is).
// An empty inline line yields done with no args (Redis skips it).
inline parse_result parse(std::string_view buf, std::vector<std::string_view>& args) {
  args.clear();
  if (buf.empty()) return {};
  if (buf[0] != '*') {  // inline
    const std::size_t eol = buf.find('\n');
    if (eol == std::string_view::npos)
      return buf.size() > max_inline ? parse_result{status::error, 0, "Protocol error: too big inline request"}
                                     : parse_result{};
    std::string_view line = buf.substr(0, eol);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    for (std::size_t i = 0; i < line.size();) {
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
      const std::size_t start = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
      if (i > start) args.push_back(line.substr(start, i - start));
    }
    return {status::done, eol + 1, {}};
  }
  // *<count>\r\n then count times $<len>\r\n<bytes>\r\n
  std::size_t pos = 0;
  auto header = [&](char kind, std::int64_t& n, std::string_view bad) -> parse_result {
    const std::size_t eol = buf.find("\r\n", pos);
    if (eol == std::string_view::npos) {
      if (buf.size() - pos > max_inline) return {status::error, 0, std::string(bad)};
      return {};
    }
    if (buf[pos] != kind) {
      if (kind == '$') return {status::error, 0, std::string("Protocol error: expected '$', got '") + buf[pos] + "'"};
      return {status::error, 0, std::string(bad)};
    }
    if (!detail::to_int(buf.substr(pos + 1, eol - pos - 1), n)) return {status::error, 0, std::string(bad)};
    pos = eol + 2;
    return {status::done, 0, {}};
  };
  std::int64_t count = 0;
  if (parse_result r = header('*', count, "Protocol error: invalid multibulk length"); r.st != status::done) return r;
  if (count > max_multibulk) return {status::error, 0, "Protocol error: invalid multibulk length"};
  if (count <= 0) return {status::done, pos, {}};  // "*0" and "*-1": nothing to run
  for (std::int64_t i = 0; i < count; ++i) {
    if (pos >= buf.size()) return {};
    std::int64_t len = 0;
    if (parse_result r = header('$', len, "Protocol error: invalid bulk length"); r.st != status::done) return r;
    if (len < 0 || len > max_bulk) return {status::error, 0, "Protocol error: invalid bulk length"};
    const auto n = static_cast<std::size_t>(len);
    if (buf.size() - pos < n + 2) return {};
    if (buf[pos + n] != '\r' || buf[pos + n + 1] != '\n') return {status::error, 0, "Protocol error: expected CRLF"};
    args.push_back(buf.substr(pos, n));
    pos += n + 2;
  }
  return {status::done, pos, {}};
}

// Replies, appended to out.
inline void simple(std::string& out, std::string_view s) { out.append("+").append(s).append("\r\n"); }
inline void error(std::string& out, std::string_view s) { out.append("-").append(s).append("\r\n"); }
inline void integer(std::string& out, std::int64_t v) { out.append(":").append(std::to_string(v)).append("\r\n"); }
inline void bulk(std::string& out, std::string_view s) {
  out.append("$").append(std::to_string(s.size())).append("\r\n").append(s).append("\r\n");
}
inline void null_bulk(std::string& out) { out.append("$-1\r\n"); }
inline void array(std::string& out, std::size_t n) { out.append("*").append(std::to_string(n)).append("\r\n"); }

}  // namespace resp
