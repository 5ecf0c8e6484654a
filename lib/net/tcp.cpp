// TCP (Go's tcpsock.go): conn's reads and writes, listener, listen. dial.cpp dials.
#include <asio/ip/v6_only.hpp>
#include <new>
#include <optional>
#include <type_traits>

#include "net/addr.hpp"
#include "net/fd.hpp"

namespace go::net {

// The wait a read_awaiter holds in its wait_ bytes.
using read_wait = detail::io_wait<tcp_socket, detail::read_into>;

namespace {
read_wait& wait_in(unsigned char* bytes) noexcept { return *std::launder(reinterpret_cast<read_wait*>(bytes)); }
}  // namespace

// Go's loop tries the read first and waits only if it would block. But the read the wait
// starts is tried once more by Asio's reactor as it starts (its speculative read), so a
// read that waits would cost two failed recvs. After a read that had to wait, the next one
// most likely waits too (a peer that answers requests), so it skips its own try and lets
// the reactor's be the one: at most one failed recv per wait, as Go and tokio make, and
// none when the read before emptied the socket (the reactor then skips its try too:
// recv_op.hpp). If the data is there after all, the reactor's try gets it and the read
// completes through the io_context's queue (the next poll) rather than at once. So the
// read still tries first after 1, 2, 4, ... 1024 waits in a row and then after every
// 1024th: a run of reads through the queue is never longer than the run of waits before
// it (nor than 1024), and a streaming reader that caught up goes back to reading at once.
// (Every 64th cost 0.016 failed recvfroms per message in the echo workload, above Go's
// and tokio's count; every 1024th costs 0.001.)
bool conn::read_now(read_awaiter& r) {
  auto& f = detail::live(r.fd_, "conn", "read");
  r.waits_ = f.read_waits.load(go::detail::memory_order_relaxed);
  bool try_first = (r.waits_ & (r.waits_ - 1)) == 0 || r.waits_ % 1024 == 0;
  while (r.got_ < r.buf_.size()) {
    if (f.read_eof.load(go::detail::memory_order_relaxed)) return true;
    if (!try_first) return false;
    const auto rest = r.buf_.subspan(r.got_);
    std::error_code ec;
    std::size_t n = 0;
    step s = detail::attempt_recv(f, rest, n, ec);
    if (s == step::done) {
      if (r.waits_ != 0) f.read_waits.store(r.waits_ = 0, go::detail::memory_order_relaxed);  // (no store per read when streaming)
      r.got_ += n;
      if (!r.full_) return true;
      continue;
    }
    if (s == step::failed && ec == asio::error::eof) {
      f.read_eof.store(true, go::detail::memory_order_relaxed);
      return true;
    }
    if (s != step::again) detail::fail("read", "tcp", f.addrs(), s, ec);
    return false;
  }
  return true;  // full, or an empty buf
}

bool conn::read_park(read_awaiter& r, std::coroutine_handle<> h) {
  static_assert(sizeof(read_wait) <= read_awaiter::wait_size && alignof(read_wait) <= alignof(std::max_align_t),
                "conn::read_awaiter::wait_size is too small for the wait");
  auto& f = *r.fd_;
  const auto rest = r.buf_.subspan(r.got_);
  auto* w = ::new (static_cast<void*>(r.wait_))
      read_wait(f, detail::read_into{asio::buffer(rest.data(), rest.size()), r.full_, f.asio_reactor}, go::detail::ctx_access::canceler(r.ctx_));
  r.waiting_ = true;
  return w->await_suspend(h);
}

std::size_t conn::read_end(read_awaiter& r) {
  auto& f = *r.fd_;
  if (r.waiting_) {
    // Throws ctx's error if the ctx ended the wait with nothing read (the awaiter's
    // destructor then ends the wait).
    detail::wait_result res = wait_in(r.wait_).await_resume();
    read_drop(r);
    r.got_ += res.n;
    const bool closed = f.closed.load(go::detail::memory_order_relaxed);
    if (!res.ec) {
      f.read_waits.store(r.waits_ + 1, go::detail::memory_order_relaxed);
    } else if (res.ec == asio::error::eof && !closed) {
      f.read_eof.store(true, go::detail::memory_order_relaxed);
    } else if (res.ec != asio::error::operation_aborted && !closed) {
      detail::fail("read", "tcp", f.addrs(), step::failed, res.ec);
    }
    // Ended early (or a filling read stopped short): say why.
    if (res.why == detail::woken::no && closed) res.why = detail::woken::closed;
    if (res.ec || (r.full_ && r.got_ < r.buf_.size() && !f.read_eof.load(go::detail::memory_order_relaxed))) {
      switch (res.why) {
        case detail::woken::canceled: go::detail::throw_ctx_err(go::detail::ctx_access::canceler(r.ctx_));
        case detail::woken::closed: detail::fail("read", "tcp", f.addrs(), step::closed);
        case detail::woken::timeout: detail::fail("read", "tcp", f.addrs(), step::timeout);
        case detail::woken::no:
          if (res.ec != asio::error::eof) throw std::bad_alloc();  // the wait could not start (again)
      }
    }
  }
  if (r.full_ && r.got_ < r.buf_.size()) throw error(r.got_ == 0 ? errc::eof : errc::unexpected_eof);
  return r.got_;
}

void conn::read_drop(read_awaiter& r) noexcept {
  wait_in(r.wait_).~read_wait();
  r.waiting_ = false;
}

bool conn::write_now(detail::netfd* fd, std::span<const std::byte> buf, std::size_t& done) {
  if (!fd) throw error(errc::invalid_argument, "go::net::conn::write on an empty conn");
  auto& f = *fd;
  std::error_code ec;
  step s = detail::attempt_send(f, buf, done, ec);
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
    std::size_t n = 0;
    step s = detail::attempt_send(f, buf.subspan(done), n, ec);
    done += n;
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
