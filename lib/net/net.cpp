// go::net over Asio sockets on the runtime's poller (go/asio.hpp's use_go).
//
// Asio's socket objects are not thread-safe, and Go lets one goroutine read while
// another writes and a third closes. Every call on a socket (starting an operation,
// close, shutdown) is therefore made under the netfd's mutex; completions run on the
// poller thread and touch only the waiting goroutine's awaiter. close() marks the fd
// closed first, so an operation that fails because of it reports "use of closed
// network connection", as Go does.
#include "go/net.hpp"

#include <asio/ip/tcp.hpp>
#include <asio/ip/v6_only.hpp>
#include <atomic>
#include <charconv>
#include <mutex>

#include "go/asio.hpp"

namespace go::net {

namespace detail {

using tcp = asio::ip::tcp;

std::string to_string(const tcp::endpoint& ep) {
  const auto a = ep.address();
  std::string host = a.to_string();
  if (a.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

struct netfd {
  explicit netfd(tcp::socket s) : sock(std::move(s)) {
    std::error_code ec;
    local = to_string(sock.local_endpoint(ec));
    remote = to_string(sock.remote_endpoint(ec));
    sock.set_option(tcp::no_delay(true), ec);  // Go's default for TCP conns
  }
  tcp::socket sock;
  std::shared_ptr<std::mutex> mu = std::make_shared<std::mutex>();  // see the top of the file
  std::atomic<bool> closed{false};
  // The peer's FIN was read: later reads return end of stream at once, as Go's do. (Asio
  // would register the read with the edge-triggered epoll, whose one EOF edge is spent.)
  std::atomic<bool> read_eof{false};
  std::string local, remote;
};

struct listenfd {
  explicit listenfd(tcp::acceptor a) : acc(std::move(a)) {
    std::error_code ec;
    addr = to_string(acc.local_endpoint(ec));
  }
  tcp::acceptor acc;
  std::shared_ptr<std::mutex> mu = std::make_shared<std::mutex>();
  std::atomic<bool> closed{false};
  std::string addr;
};

namespace {

errc classify(const std::error_code& ec) {
  if (ec == asio::error::connection_refused) return errc::connection_refused;
  if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe) return errc::connection_reset;
  if (ec == asio::error::address_in_use) return errc::address_in_use;
  return errc::net_error;
}

// Go's OpError text: "read tcp 127.0.0.1:5000->127.0.0.1:40000: connection reset by peer".
[[noreturn]] void fail(const char* op, const std::string& addrs, const std::error_code& ec, bool closed) {
  if (closed) throw error(errc::closed_connection, std::string(op) + " tcp " + addrs + ": use of closed network connection");
  errc e = classify(ec);
  std::string reason = e == errc::net_error ? ec.message() : make_error_code(e).message();
  if (ec == asio::error::broken_pipe) reason = "broken pipe";
  throw error(e, std::string(op) + " tcp " + addrs + ": " + reason);
}

struct host_port {
  std::string host, port;
};

host_port split(std::string_view op, std::string_view address) {
  auto bad = [&](const char* why) {
    return error(errc::bad_address, std::string(op) + " tcp: address " + std::string(address) + ": " + why);
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

void check_network(std::string_view op, std::string_view network) {
  if (network != "tcp" && network != "tcp4" && network != "tcp6")
    throw error(errc::bad_address, std::string(op) + " " + std::string(network) + ": unknown network " + std::string(network));
}

bool family_ok(std::string_view network, const asio::ip::address& a) {
  return network == "tcp" || (network == "tcp4" && a.is_v4()) || (network == "tcp6" && a.is_v6());
}

netfd& live(const std::shared_ptr<netfd>& fd, const char* op) {
  if (!fd) throw error(errc::invalid_argument, std::string("go::net::conn::") + op + " on an empty conn");
  if (fd->closed.load(std::memory_order_acquire)) fail(op, fd->local + "->" + fd->remote, {}, true);
  return *fd;
}

}  // namespace
}  // namespace detail

struct access {
  static conn make(std::shared_ptr<detail::netfd> fd) {
    conn c;
    c.fd_ = std::move(fd);
    return c;
  }
  static listener make(std::shared_ptr<detail::listenfd> fd) {
    listener l;
    l.fd_ = std::move(fd);
    return l;
  }
  static const std::shared_ptr<detail::netfd>& fd(const conn& c) { return c.fd_; }
};

using detail::tcp;

namespace {

task<std::size_t> read_some(std::shared_ptr<detail::netfd> fd, std::span<std::byte> buf, context ctx) {
  auto& f = detail::live(fd, "read");
  if (f.read_eof.load(std::memory_order_relaxed)) co_return 0;
  try {
    co_return co_await f.sock.async_read_some(asio::buffer(buf.data(), buf.size()),
                                              use_go_t{go::detail::ctx_access::canceler(ctx), &f.mu});
  } catch (const go::error&) {
    throw;  // ctx's error
  } catch (const std::system_error& e) {
    if (e.code() == asio::error::eof && !f.closed.load()) {
      f.read_eof.store(true, std::memory_order_relaxed);
      co_return 0;
    }
    detail::fail("read", f.local + "->" + f.remote, e.code(), f.closed.load());
  }
}

task<std::size_t> write_all(std::shared_ptr<detail::netfd> fd, std::span<const std::byte> buf, context ctx) {
  auto& f = detail::live(fd, "write");
  std::size_t done = 0;
  try {
    while (done < buf.size()) {
      done += co_await f.sock.async_write_some(asio::buffer(buf.data() + done, buf.size() - done),
                                               use_go_t{go::detail::ctx_access::canceler(ctx), &f.mu});
    }
  } catch (const go::error&) {
    throw;
  } catch (const std::system_error& e) {
    detail::fail("write", f.local + "->" + f.remote, e.code(), f.closed.load());
  }
  co_return done;
}

task<void> fill(std::shared_ptr<detail::netfd> fd, std::span<std::byte> buf, context ctx) {
  std::size_t got = 0;
  while (got < buf.size()) {
    std::size_t n = co_await read_some(fd, buf.subspan(got), ctx);
    if (n == 0) throw error(got == 0 ? errc::eof : errc::unexpected_eof);
    got += n;
  }
}

}  // namespace

task<std::size_t> conn::read(std::span<std::byte> buf) const { return read_some(fd_, buf, {}); }
task<std::size_t> conn::read(std::span<std::byte> buf, context ctx) const { return read_some(fd_, buf, std::move(ctx)); }
task<void> conn::read_full(std::span<std::byte> buf) const { return fill(fd_, buf, {}); }
task<void> conn::read_full(std::span<std::byte> buf, context ctx) const { return fill(fd_, buf, std::move(ctx)); }
task<std::size_t> conn::write(std::span<const std::byte> buf) const { return write_all(fd_, buf, {}); }
task<std::size_t> conn::write(std::span<const std::byte> buf, context ctx) const {
  return write_all(fd_, buf, std::move(ctx));
}

void conn::close() const {
  if (!fd_) return;
  std::lock_guard lock(*fd_->mu);
  if (fd_->closed.exchange(true, std::memory_order_acq_rel)) return;
  std::error_code ec;
  fd_->sock.close(ec);  // pending operations complete with operation_aborted
}

void conn::close_write() const {
  auto& f = detail::live(fd_, "close_write");
  std::lock_guard lock(*f.mu);
  std::error_code ec;
  f.sock.shutdown(tcp::socket::shutdown_send, ec);
}

std::string conn::local_addr() const { return fd_ ? fd_->local : std::string(); }
std::string conn::remote_addr() const { return fd_ ? fd_->remote : std::string(); }

task<conn> listener::accept() const {
  if (!fd_) throw error(errc::invalid_argument, "go::net::listener::accept on an empty listener");
  auto fd = fd_;  // the listener may be dropped while we wait
  if (fd->closed.load()) detail::fail("accept", fd->addr, {}, true);
  try {
    tcp::socket s = co_await fd->acc.async_accept(use_go_t{nullptr, &fd->mu});
    co_return access::make(std::make_shared<detail::netfd>(std::move(s)));
  } catch (const std::system_error& e) {
    detail::fail("accept", fd->addr, e.code(), fd->closed.load());
  }
}

void listener::close() const {
  if (!fd_) return;
  std::lock_guard lock(*fd_->mu);
  if (fd_->closed.exchange(true)) return;
  std::error_code ec;
  fd_->acc.close(ec);
}

std::string listener::addr() const { return fd_ ? fd_->addr : std::string(); }

listener listen(std::string_view network, std::string_view address) {
  detail::check_network("listen", network);
  auto [host, port] = detail::split("listen", address);
  unsigned short p = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (ec != std::errc() || ptr != port.data() + port.size())
    throw error(errc::bad_address, "listen tcp: address " + std::string(address) + ": invalid port");
  asio::ip::address a;
  if (host.empty())
    a = network == "tcp4" ? asio::ip::address(asio::ip::address_v4::any()) : asio::ip::address(asio::ip::address_v6::any());
  else if (host == "localhost")
    a = network == "tcp6" ? asio::ip::address(asio::ip::address_v6::loopback())
                          : asio::ip::address(asio::ip::address_v4::loopback());
  else {
    std::error_code perr;
    a = asio::ip::make_address(host, perr);
    if (perr || !detail::family_ok(network, a))
      throw error(errc::bad_address, "listen tcp: address " + std::string(address) + ": not an IP address of this network");
  }
  tcp::acceptor acc(go::io_context());
  tcp::endpoint ep(a, p);
  std::error_code err;
  acc.open(ep.protocol(), err);
  if (!err) acc.set_option(tcp::acceptor::reuse_address(true), err);
  if (!err && a.is_v6() && host.empty()) acc.set_option(asio::ip::v6_only(false), err);  // ":port": both families
  if (!err) acc.bind(ep, err);
  if (!err) acc.listen(asio::socket_base::max_listen_connections, err);
  if (err) detail::fail("listen", detail::to_string(ep), err, false);
  return access::make(std::make_shared<detail::listenfd>(std::move(acc)));
}

namespace {
// Owns its strings: a task is lazy, and the caller's views may be gone when it runs.
task<conn> dial_impl(context ctx, std::string network, std::string address) {
  detail::check_network("dial", network);
  auto [host, port] = detail::split("dial", address);
  if (host.empty()) host = "localhost";  // Go dials the local system
  std::vector<tcp::endpoint> eps;
  std::error_code perr;
  auto literal = asio::ip::make_address(host, perr);
  unsigned short p = 0;
  auto [ptr, pec] = std::from_chars(port.data(), port.data() + port.size(), p);
  if (!perr && pec == std::errc() && ptr == port.data() + port.size()) {
    eps.emplace_back(literal, p);
  } else {
    tcp::resolver resolver(go::io_context());  // runs getaddrinfo on Asio's resolver thread, not on a P
    try {
      auto results = co_await resolver.async_resolve(host, port, use_go(ctx));
      for (const auto& r : results) eps.push_back(r.endpoint());
    } catch (const go::error&) {
      throw;
    } catch (const std::system_error& e) {
      throw error(errc::bad_address, "dial tcp: lookup " + host + ": " + e.code().message());
    }
  }
  std::error_code last = asio::error::host_not_found;
  std::string last_addr = address;
  for (const auto& ep : eps) {
    if (!detail::family_ok(network, ep.address())) continue;
    tcp::socket s(go::io_context());
    try {
      co_await s.async_connect(ep, use_go(ctx));
      co_return access::make(std::make_shared<detail::netfd>(std::move(s)));
    } catch (const go::error&) {
      throw;
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
  return dial_impl(std::move(ctx), std::string(network), std::string(address));
}

task<conn> dial(std::string_view network, std::string_view address) {
  return dial_impl(context(), std::string(network), std::string(address));
}

}  // namespace go::net
