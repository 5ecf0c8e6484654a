// http_parse: the request parser of samples/http_server, alone (no I/O, no runtime), so
// that it can be fuzzed (test/fuzz/http_fuzz.cpp). HTTP/1.0 and 1.1, Content-Length
// bodies; a head of at most 64 KiB and a request of at most 1 MiB.
#pragma once

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstddef>
#include <string_view>

inline constexpr std::size_t max_request = 1024 * 1024;

struct request {
  std::string_view method, path, version, body;
  bool keep_alive = true;
};

// Parse one request at the front of buf: its size, 0 if more bytes are needed, -1 if
// it is malformed.
inline long parse(std::string_view buf, request& r) {
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
      if (length > max_request) return -1;  // (and end + 4 + length cannot overflow)
    } else if (is(name, "connection")) {
      if (is(value, "close")) r.keep_alive = false;
      if (is(value, "keep-alive")) r.keep_alive = true;
    }
  }
  std::size_t total = end + 4 + length;
  if (buf.size() < total) return total > max_request ? -1 : 0;
  r.body = buf.substr(end + 4, length);
  return static_cast<long>(total);
}
