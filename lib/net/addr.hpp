// Address parsing (Go's ipsock.go SplitHostPort and the Listen/Dial address rules),
// with the errors Go gives for bad ones ("missing port in address", "too many colons").
#pragma once

#include <asio/ip/address.hpp>
#include <asio/ip/udp.hpp>
#include <string>
#include <string_view>

#include "go/error.hpp"

namespace go::net::detail {

struct host_port {
  std::string host, port;
};

// "host:port" or "[v6]:port"; `what` names the operation in the error ("dial tcp").
host_port split(std::string_view what, std::string_view address);
// "tcp", "tcp4", "tcp6" (kind "tcp") or the same for "udp".
void check_network(std::string_view op, std::string_view kind, std::string_view network);
// Whether a fits the network's family ("tcp4" only v4, "tcp6" only v6, else both).
bool family_ok(std::string_view network, const asio::ip::address& a);
// A decimal port, the whole string.
bool parse_port(const std::string& port, unsigned short& p);
// The local address listen and listen_packet bind: an empty host is every address,
// "localhost" the loopback, else an IP literal of the network's family.
asio::ip::address bind_address(std::string_view what, std::string_view network, std::string_view address,
                               const std::string& host);
// A write_to destination: an IP literal, or localhost / an empty host for the loopback.
asio::ip::udp::endpoint udp_endpoint(std::string_view address);

// Go's Listen/ListenPacket address: kind "tcp" or "udp", network that or with 4 or 6.
// every: the host was empty (listen on every address, both families for "tcp"/"udp").
template <class Protocol>
typename Protocol::endpoint listen_endpoint(const char* kind, std::string_view network, std::string_view address,
                                            bool& every) {
  const std::string what = std::string("listen ") + kind;
  check_network("listen", kind, network);
  auto [host, port] = split(what, address);
  unsigned short p = 0;
  if (!parse_port(port, p)) throw error(errc::bad_address, what + ": address " + std::string(address) + ": invalid port");
  every = host.empty();
  return {bind_address(what, network, address, host), p};
}


}  // namespace go::net::detail
