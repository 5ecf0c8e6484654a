// The poll descriptor's errors (fd.hpp): Go's OpError text for a failed operation.
#include "net/fd.hpp"

namespace go::net::detail {

errc classify(const std::error_code& ec) {
  if (ec == asio::error::connection_refused) return errc::connection_refused;
  if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe) return errc::connection_reset;
  if (ec == asio::error::address_in_use) return errc::address_in_use;
  return errc::net_error;
}

[[noreturn]] void fail(const char* op, const char* net, const std::string& addrs, step why,
                       const std::error_code& ec) {
  std::string head = std::string(op) + " " + net + " " + addrs + ": ";
  if (why == step::closed) throw error(errc::closed_connection, head + "use of closed network connection");
  if (why == step::timeout) throw error(errc::timeout, head + "i/o timeout");
  errc e = classify(ec);
  std::string reason = e == errc::net_error ? ec.message() : make_error_code(e).message();
  if (ec == asio::error::broken_pipe) reason = "broken pipe";
  throw error(e, head + reason);
}


}  // namespace go::net::detail
