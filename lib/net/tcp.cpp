// TCP (Go's tcpsock.go): conn's reads and writes, listener, listen. dial.cpp dials.
#include <asio/ip/v6_only.hpp>
#include <optional>
#include <type_traits>

#include "net/addr.hpp"
#include "net/fd.hpp"

namespace go::net {

namespace {

// read (Full = false): wait for data and return how many bytes arrived, or 0 at end of
// stream. read_full (Full = true): read until buf is full, or throw eof /
// unexpected_eof. One coroutine for both, so that read_full costs one frame, not one
// per read it makes.
template <bool Full>
task<std::conditional_t<Full, void, std::size_t>> read_loop(std::shared_ptr<detail::netfd> fd, std::span<std::byte> buf,
                                                            context ctx) {
  auto& f = detail::live(fd, "conn", "read");
  std::size_t got = 0;
  while (!buf.empty()) {
    // Go's loop tries the read first and waits only if it would block. But Asio's read,
    // which the wait starts, tries once more itself as it starts (its speculative
    // read), so a read that waits would cost two failed recvfroms. After a read that
    // had to wait, the next one most likely waits too (a peer that answers requests),
    // so it skips its own try and lets Asio's be the one: one failed recvfrom per wait,
    // as Go and tokio make. If the data is there after all, Asio's try gets it and the
    // read completes through the io_context's queue (the next poll) rather than at
    // once. So the read still tries first after 1, 2, 4, ... 1024 waits in a row and
    // then after every 1024th: a run of reads through the queue is never longer than the
    // run of waits before it (nor than 1024), and a streaming reader that caught up goes
    // back to reading at once. (Every 64th cost 0.016 failed recvfroms per message in
    // the echo workload, above Go's and tokio's count; every 1024th costs 0.001.)
    const std::uint32_t waits = f.read_waits.load(go::detail::memory_order_relaxed);
    bool try_first = (waits & (waits - 1)) == 0 || waits % 1024 == 0;
    std::size_t n = 0;  // this step's bytes; stays 0 at end of stream
    for (;;) {
      if (f.read_eof.load(go::detail::memory_order_relaxed)) break;
      if (try_first) {
        std::error_code ec;
        step s = detail::attempt(f, rd, ec, [&](std::error_code& e) { n = f.sock.read_some(asio::buffer(buf.data(), buf.size()), e); });
        if (s == step::done) {
          if (waits != 0) f.read_waits.store(0, go::detail::memory_order_relaxed);  // (no store per read when streaming)
          break;
        }
        if (s == step::failed && ec == asio::error::eof) {
          f.read_eof.store(true, go::detail::memory_order_relaxed);
          break;
        }
        if (s != step::again) detail::fail("read", "tcp", f.addrs(), s, ec);
      }
      try_first = true;  // after a wake-up: the loop's attempt says why (closed, timeout)
      auto r = co_await detail::wait(f, detail::read_into{asio::buffer(buf.data(), buf.size())}, ctx);
      if (!r.ec) {
        f.read_waits.store(waits + 1, go::detail::memory_order_relaxed);
        n = r.n;
        break;
      }
      if (r.ec == asio::error::eof && !f.closed.load(go::detail::memory_order_relaxed)) {
        f.read_eof.store(true, go::detail::memory_order_relaxed);
        break;
      }
      if (r.ec != asio::error::operation_aborted && !f.closed.load(go::detail::memory_order_relaxed)) detail::fail("read", "tcp", f.addrs(), step::failed, r.ec);
      // Woken early: the loop's attempt says why (closed, timeout), or waits again.
    }
    if constexpr (Full) {
      if (n == 0) throw error(got == 0 ? errc::eof : errc::unexpected_eof);
      got += n;
      buf = buf.subspan(n);
    } else {
      co_return n;
    }
  }
  if constexpr (!Full) co_return 0;  // an empty buf
}

}  // namespace

task<std::size_t> conn::read(std::span<std::byte> buf) const { return read_loop<false>(fd_, buf, {}); }
task<std::size_t> conn::read(std::span<std::byte> buf, context ctx) const { return read_loop<false>(fd_, buf, std::move(ctx)); }
task<void> conn::read_full(std::span<std::byte> buf) const { return read_loop<true>(fd_, buf, {}); }
task<void> conn::read_full(std::span<std::byte> buf, context ctx) const { return read_loop<true>(fd_, buf, std::move(ctx)); }
bool conn::write_now(detail::netfd* fd, std::span<const std::byte> buf, std::size_t& done) {
  if (!fd) throw error(errc::invalid_argument, "go::net::conn::write on an empty conn");
  auto& f = *fd;
  std::error_code ec;
  step s = detail::attempt(f, wr, ec, [&](std::error_code& e) { done = f.sock.write_some(asio::buffer(buf.data(), buf.size()), e); });
  if (s != step::done && s != step::again) detail::fail("write", "tcp", f.addrs(), s, ec);
  return done == buf.size();
}

// Go's loop: wait for room, write what fits, until all of buf is written.
task<std::size_t> conn::write_rest(std::shared_ptr<detail::netfd> fd, std::span<const std::byte> buf, std::size_t done,
                                   context ctx) {
  auto& f = *fd;
  while (done < buf.size()) {
    (void)co_await detail::wait(f, detail::wait_for{wr}, ctx);
    std::error_code ec;
    step s = detail::attempt(f, wr, ec, [&](std::error_code& e) {
      done += f.sock.write_some(asio::buffer(buf.data() + done, buf.size() - done), e);
    });
    if (s != step::done && s != step::again) detail::fail("write", "tcp", f.addrs(), s, ec);
  }
  co_return done;
}

void conn::close() const {
  if (fd_) detail::close_fd(*fd_);
}

void conn::close_write() const {
  auto& f = detail::live(fd_, "conn", "close_write");
  std::lock_guard lock(f.mu);
  if (f.closed.load(go::detail::memory_order_relaxed)) detail::fail("close_write", "tcp", f.addrs(), step::closed);
  std::error_code ec;
  f.sock.shutdown(tcp_socket::shutdown_send, ec);
}

void conn::set_deadline(time_point t) const {
  set_read_deadline(t);
  set_write_deadline(t);
}
void conn::set_read_deadline(time_point t) const { detail::set_deadline<tcp_socket>(detail::live(fd_, "conn", "set_read_deadline").shared_from_this(), rd, t); }
void conn::set_write_deadline(time_point t) const { detail::set_deadline<tcp_socket>(detail::live(fd_, "conn", "set_write_deadline").shared_from_this(), wr, t); }

std::string conn::local_addr() const { return fd_ ? fd_->local : std::string(); }
std::string conn::remote_addr() const { return fd_ ? fd_->remote : std::string(); }

task<conn> listener::accept() const {
  auto fd = fd_;  // the listener may be dropped while we wait
  auto& f = detail::live(fd, "listener", "accept");
  for (;;) {
    std::error_code ec;
    std::optional<tcp_socket> s;
    step st = detail::attempt(f, rd, ec, [&](std::error_code& e) { s.emplace(f.sock.accept(e)); });
    if (st == step::done) co_return access::make<conn>(std::make_shared<detail::netfd>(std::move(*s)));
    if (st != step::again) detail::fail("accept", "tcp", f.addr, st, ec);
    (void)co_await detail::wait(f, detail::wait_for{rd}, context());
  }
}

void listener::close() const {
  if (fd_) detail::close_fd(*fd_);
}

void listener::set_deadline(time_point t) const {
  detail::set_deadline<tcp_acceptor>(detail::live(fd_, "listener", "set_deadline").shared_from_this(), rd, t);
}

std::string listener::addr() const { return fd_ ? fd_->addr : std::string(); }

listener listen(std::string_view network, std::string_view address) {
  bool every = false;
  auto ep = detail::listen_endpoint<tcp>("tcp", network, address, every);
  tcp_acceptor acc(go::io_context().get_executor());
  std::error_code err;
  acc.open(ep.protocol(), err);
  if (!err) acc.set_option(tcp::acceptor::reuse_address(true), err);
  if (!err && every && ep.address().is_v6()) acc.set_option(asio::ip::v6_only(false), err);  // ":port": both families
  if (!err) acc.bind(ep, err);
  if (!err) acc.listen(asio::socket_base::max_listen_connections, err);
  if (err) detail::fail("listen", "tcp", detail::to_string(ep), step::failed, err);
  return access::make<listener>(std::make_shared<detail::listenfd>(std::move(acc)));
}

}  // namespace go::net
