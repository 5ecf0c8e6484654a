// Address parsing (addr.hpp).
#include "net/addr.hpp"

#include <charconv>

namespace go::net::detail {

host_port split(std::string_view what, std::string_view address) {
  auto bad = [&](const char* why) {
    return error(errc::bad_address, std::string(what) + ": address " + std::string(address) + ": " + why);
  };
  std::size_t colon = address.rfind(':');
  if (colon == std::string_view::npos) throw bad("missing port in address");
  std::string_view host = address.substr(0, colon), port = address.substr(colon + 1);
  if (!host.empty() && host.front() == '[') {
    if (host.back() != ']') throw bad("missing ']' in address");
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    throw bad("too many colons in address");
  }
  if (port.empty()) throw bad("missing port in address");
  return {std::string(host), std::string(port)};
}

void check_network(std::string_view op, std::string_view kind, std::string_view network) {
  std::string k(kind);
  if (network != k && network != k + "4" && network != k + "6")
    throw error(errc::bad_address, std::string(op) + " " + std::string(network) + ": unknown network " + std::string(network));
}

bool family_ok(std::string_view network, const asio::ip::address& a) {
  char last = network.back();
  return (last != '4' && last != '6') || (last == '4' && a.is_v4()) || (last == '6' && a.is_v6());
}

bool parse_port(const std::string& port, unsigned short& p) {
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  return ec == std::errc() && ptr == port.data() + port.size();
}

asio::ip::address bind_address(std::string_view what, std::string_view network, std::string_view address,
                               const std::string& host) {
  bool v4 = network.back() == '4', v6 = network.back() == '6';
  if (host.empty()) return v4 ? asio::ip::address(asio::ip::address_v4::any()) : asio::ip::address_v6::any();
  if (host == "localhost") return v6 ? asio::ip::address(asio::ip::address_v6::loopback()) : asio::ip::address_v4::loopback();
  std::error_code perr;
  auto a = asio::ip::make_address(host, perr);
  if (perr || !family_ok(network, a))
    throw error(errc::bad_address,
                std::string(what) + ": address " + std::string(address) + ": not an IP address of this network");
  return a;
}

asio::ip::udp::endpoint udp_endpoint(std::string_view address) {
  auto [host, port] = split("write udp", address);
  unsigned short p = 0;
  if (!parse_port(port, p))
    throw error(errc::bad_address, "write udp: address " + std::string(address) + ": invalid port");
  if (host.empty() || host == "localhost") return {asio::ip::address_v4::loopback(), p};
  std::error_code perr;
  auto a = asio::ip::make_address(host, perr);
  if (perr) throw error(errc::bad_address, "write udp: address " + std::string(address) + ": not an IP address");
  return {a, p};
}

}  // namespace go::net::detail
