// libFuzzer target: the RESP parser of mini-redis (samples/resp.hpp). Parses the input
// the way a connection does (one command after another from the front of the buffer)
// and checks what the server relies on: a parse never reads past the buffer (ASan),
// takes at least one byte and at most what is there when it completes, gives arguments
// that lie inside the buffer, and fails only with one of Redis's protocol errors.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "resp.hpp"

namespace {
void require(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A copy of exactly `size` bytes: ASan sees any read past the end.
  const std::string buf(reinterpret_cast<const char*>(data), size);
  std::vector<std::string_view> args;
  for (std::size_t at = 0; at < buf.size();) {
    const std::string_view rest = std::string_view(buf).substr(at);
    const resp::parse_result r = resp::parse(rest, args);
    if (r.st == resp::status::more) break;
    if (r.st == resp::status::error) {
      require(r.error.rfind("Protocol error: ", 0) == 0);
      break;
    }
    require(r.used > 0 && r.used <= rest.size());
    for (std::string_view a : args) require(a.data() >= rest.data() && a.data() + a.size() <= rest.data() + r.used);
    at += r.used;
  }
  return 0;
}
