// UDP (Go's udpsock.go): packet_conn and listen_packet.
#include <asio/ip/v6_only.hpp>

#include "net/addr.hpp"
#include "net/fd.hpp"

namespace go::net {

namespace {

task<datagram> read_from_impl(std::shared_ptr<detail::udpfd> fd, std::span<std::byte> buf, context ctx) {
  auto& f = detail::live(fd, "packet_conn", "read_from");
  for (;;) {
    std::error_code ec;
    udp::endpoint from;
    std::size_t n = 0;
    step s = detail::attempt(f, rd, ec, [&](std::error_code& e) {
      n = f.sock.receive_from(asio::buffer(buf.data(), buf.size()), from, 0, e);
    });
    if (s == step::done) co_return datagram{n, detail::to_string(from)};
    if (s != step::again) detail::fail("read", "udp", f.local, s, ec);
    auto r = co_await detail::wait(f, detail::receive_from{asio::buffer(buf.data(), buf.size()), &from}, ctx);
    if (!r.ec) co_return datagram{r.n, detail::to_string(from)};
    if (r.ec != asio::error::operation_aborted && !f.closed.load(go::detail::memory_order_relaxed)) detail::fail("read", "udp", f.local, step::failed, r.ec);
  }
}

task<std::size_t> write_to_impl(std::shared_ptr<detail::udpfd> fd, std::span<const std::byte> buf, udp::endpoint to,
                                context ctx) {
  auto& f = detail::live(fd, "packet_conn", "write_to");
  for (;;) {
    std::error_code ec;
    std::size_t n = 0;
    step s = detail::attempt(f, wr, ec, [&](std::error_code& e) {
      n = f.sock.send_to(asio::buffer(buf.data(), buf.size()), to, 0, e);
    });
    if (s == step::done) co_return n;
    if (s != step::again) detail::fail("write", "udp", f.local + "->" + detail::to_string(to), s, ec);
    (void)co_await detail::wait(f, detail::wait_for{wr}, ctx);
  }
}

}  // namespace

task<datagram> packet_conn::read_from(std::span<std::byte> buf) const { return read_from_impl(fd_, buf, {}); }
task<datagram> packet_conn::read_from(std::span<std::byte> buf, context ctx) const {
  return read_from_impl(fd_, buf, std::move(ctx));
}
task<std::size_t> packet_conn::write_to(std::span<const std::byte> buf, std::string_view addr) const {
  return write_to_impl(fd_, buf, detail::udp_endpoint(addr), {});
}
task<std::size_t> packet_conn::write_to(std::span<const std::byte> buf, std::string_view addr, context ctx) const {
  return write_to_impl(fd_, buf, detail::udp_endpoint(addr), std::move(ctx));
}

void packet_conn::close() const {
  if (fd_) detail::close_fd(*fd_);
}
void packet_conn::set_deadline(time_point t) const {
  set_read_deadline(t);
  set_write_deadline(t);
}
void packet_conn::set_read_deadline(time_point t) const {
  detail::set_deadline<udp_socket>(detail::live(fd_, "packet_conn", "set_read_deadline").shared_from_this(), rd, t);
}
void packet_conn::set_write_deadline(time_point t) const {
  detail::set_deadline<udp_socket>(detail::live(fd_, "packet_conn", "set_write_deadline").shared_from_this(), wr, t);
}
std::string packet_conn::local_addr() const { return fd_ ? fd_->local : std::string(); }

packet_conn listen_packet(std::string_view network, std::string_view address) {
  bool every = false;
  auto ep = detail::listen_endpoint<udp>("udp", network, address, every);
  udp_socket s(go::io_context().get_executor());
  std::error_code err;
  s.open(ep.protocol(), err);
  if (!err && every && ep.address().is_v6()) s.set_option(asio::ip::v6_only(false), err);
  if (!err) s.bind(ep, err);
  if (err) detail::fail("listen", "udp", detail::to_string(ep), step::failed, err);
  return access::make<packet_conn>(std::make_shared<detail::udpfd>(std::move(s)));
}

}  // namespace go::net
