// Dial (Go's dial.go): resolve the address (Asio's resolver, off the Ps), then connect
// to each address in turn through the Asio adapter, under the caller's ctx.
#include <vector>

#include "net/addr.hpp"
#include "net/fd.hpp"

namespace go::net {

namespace {

// Owns its strings: a task is lazy, and the caller's views may be gone when it runs.
task<conn> dial_impl(context ctx, std::string network, std::string address, bool timeout_is_io) {
  detail::check_network("dial", "tcp", network);
  auto [host, port] = detail::split("dial tcp", address);
  if (host.empty()) host = "localhost";  // Go dials the local system
  std::vector<tcp::endpoint> eps;
  std::error_code perr;
  auto literal = asio::ip::make_address(host, perr);
  unsigned short p = 0;
  // A deadline that ends the dial is Go's "i/o timeout" for dial_timeout.
  auto timed_out = [&](const go::error& e) {
    if (timeout_is_io && e.code() == errc::deadline_exceeded)
      throw error(errc::timeout, "dial tcp " + address + ": i/o timeout");
    throw;
  };
  if (!perr && detail::parse_port(port, p)) {
    eps.emplace_back(literal, p);
  } else {
    tcp::resolver resolver(go::io_context());  // runs getaddrinfo on Asio's resolver thread, not on a P
    try {
      auto results = co_await resolver.async_resolve(host, port, use_go(ctx));
      for (const auto& r : results) eps.push_back(r.endpoint());
    } catch (const go::error& e) {
      timed_out(e);
    } catch (const std::system_error& e) {
      throw error(errc::bad_address, "dial tcp: lookup " + host + ": " + e.code().message());
    }
  }
  std::error_code last = asio::error::host_not_found;
  std::string last_addr = address;
  for (const auto& ep : eps) {
    if (!detail::family_ok(network, ep.address())) continue;
    tcp_socket s(go::io_context().get_executor());
    try {
      co_await s.async_connect(ep, use_go(ctx));
      co_return access::make<conn>(std::make_shared<detail::netfd>(std::move(s)));
    } catch (const go::error& e) {
      timed_out(e);
    } catch (const std::system_error& e) {
      last = e.code();
      last_addr = detail::to_string(ep);
    }
  }
  errc code = detail::classify(last);
  std::string reason = code == errc::net_error ? last.message() : make_error_code(code).message();
  throw error(code, "dial tcp " + last_addr + ": connect: " + reason);
}

}  // namespace

task<conn> dial(context ctx, std::string_view network, std::string_view address) {
  return dial_impl(std::move(ctx), std::string(network), std::string(address), false);
}

task<conn> dial(std::string_view network, std::string_view address) {
  return dial_impl(context(), std::string(network), std::string(address), false);
}

task<conn> dial_timeout(std::string_view network, std::string_view address, std::chrono::nanoseconds timeout) {
  auto [ctx, cancel] = with_timeout(background(), timeout);
  // The cancel function goes with the task's frame: dropping it would not cancel, but
  // keeping it lets the deadline's timer go as soon as the dial ends.
  auto run = [](context c, cancel_func stop, std::string n, std::string a) -> task<conn> {
    auto result = co_await dial_impl(c, std::move(n), std::move(a), true);
    stop();
    co_return result;
  };
  return run(std::move(ctx), std::move(cancel), std::string(network), std::string(address));
}

}  // namespace go::net
