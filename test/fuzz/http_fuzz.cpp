// libFuzzer target: the request parser of samples/http_server (samples/http_parse.hpp).
// Parses requests from the front of the input as the server does and checks that a
// parse never reads past the buffer (ASan), consumes at least the head and at most the
// buffer, and leaves every field inside what it consumed.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "http_parse.hpp"

namespace {
void require(bool ok) {
  if (!ok) std::abort();
}
bool inside(std::string_view part, std::string_view whole) {
  return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string buf(reinterpret_cast<const char*>(data), size);
  for (std::size_t at = 0; at < buf.size();) {
    const std::string_view rest = std::string_view(buf).substr(at);
    request r;
    const long used = parse(rest, r);
    if (used <= 0) break;
    require(static_cast<std::size_t>(used) <= rest.size() && used >= 4);
    const std::string_view taken = rest.substr(0, static_cast<std::size_t>(used));
    require(inside(r.method, taken) && inside(r.path, taken) && inside(r.version, taken) && inside(r.body, taken));
    at += static_cast<std::size_t>(used);
  }
  return 0;
}
