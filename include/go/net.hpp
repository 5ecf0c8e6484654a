// go::net: TCP connections and listeners (Go's net package), over the runtime's poller.
// No Asio types here: go/asio.hpp is the adapter for using Asio directly.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "go/context.hpp"
#include "go/task.hpp"

namespace go::net {

namespace detail {
struct netfd;
struct listenfd;
struct udpfd;
}  // namespace detail

// The clock of deadlines (go::clock). A default-constructed time_point{} is Go's zero
// time.Time: no deadline.
using time_point = std::chrono::steady_clock::time_point;

// A datagram's size and sender (packet_conn::read_from).
struct datagram {
  std::size_t n = 0;
  std::string from;  // "127.0.0.1:40000", "[::1]:40000"
};

// go::net::conn: a TCP connection (Go's net.Conn), a shared handle.
// read(buf): waits for data; returns how many bytes arrived (at least 1), or 0 at end
//   of stream (Go's io.EOF). read_full(buf) fills buf or throws go::error(eof /
//   unexpected_eof). write(buf) writes all of buf.
// A ctx given to read/write/read_full cancels the wait: go::error with ctx's error.
// close() wakes every goroutine blocked on the conn with go::error(closed_connection),
//   "use of closed network connection"; so does any later use. close_write() sends FIN
//   (Go's CloseWrite): the peer reads end of stream, and we can still read.
// Errors are go::error with Go's wording: "read tcp 127.0.0.1:5000->127.0.0.1:40000:
//   connection reset by peer".
// Deadlines (Go's SetDeadline / SetReadDeadline / SetWriteDeadline): once the read
//   (write) deadline has passed, a blocked read (write) and every later one fail with
//   go::error(timeout), "i/o timeout", even if data is ready; setting a later deadline,
//   or time_point{} for none, makes them work again. A deadline is a point in time, not
//   a per-call timeout: servers set it again before each request.
// Shutdown: a goroutine blocked on a conn is destroyed by runtime::stop; a conn must not
//   outlive its runtime.
// Thread safety: one reader and one writer may work concurrently, and close() may be
//   called from anywhere, as in Go.
class conn {
 public:
  class write_awaiter;
  conn() noexcept = default;

  [[nodiscard]] GO_API task<std::size_t> read(std::span<std::byte> buf) const;
  [[nodiscard]] GO_API task<std::size_t> read(std::span<std::byte> buf, context ctx) const;
  [[nodiscard]] GO_API task<void> read_full(std::span<std::byte> buf) const;
  [[nodiscard]] GO_API task<void> read_full(std::span<std::byte> buf, context ctx) const;
  // co_await gives the bytes written (all of buf).
  [[nodiscard]] write_awaiter write(std::span<const std::byte> buf) const;
  [[nodiscard]] write_awaiter write(std::span<const std::byte> buf, context ctx) const;
  [[nodiscard]] write_awaiter write(std::string_view s) const;

  GO_API void close() const;
  GO_API void close_write() const;
  GO_API void set_deadline(time_point t) const;  // both directions
  GO_API void set_read_deadline(time_point t) const;
  GO_API void set_write_deadline(time_point t) const;
  [[nodiscard]] GO_API std::string local_addr() const;
  [[nodiscard]] GO_API std::string remote_addr() const;
  bool valid() const noexcept { return fd_ != nullptr; }

 private:
  friend struct access;
  // write's two halves: the first attempt (true if it wrote all of buf; done counts
  // what it wrote), and the loop that waits for room for the rest.
  GO_API static bool write_now(detail::netfd* fd, std::span<const std::byte> buf, std::size_t& done);
  GO_API static task<std::size_t> write_rest(std::shared_ptr<detail::netfd> fd, std::span<const std::byte> buf,
                                             std::size_t done, context ctx);
  std::shared_ptr<detail::netfd> fd_;
};

// What conn::write gives. The socket takes almost every write at once: then the await
// completes inside await_ready, with no coroutine frame made; a write that has to wait
// for room runs conn::write_rest as a nested task (the shape of mutex::lock_awaiter).
// It owns what it needs (the conn's socket, the ctx); buf must live until it is awaited.
class [[nodiscard]] conn::write_awaiter {
 public:
  bool await_ready() { return conn::write_now(fd_.get(), buf_, done_); }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    slow_ = conn::write_rest(std::move(fd_), buf_, done_, std::move(ctx_));
    if (!typename task<std::size_t>::awaiter{slow_.handle()}.await_suspend(h)) return false;
    go::detail::note_suspension(h, GO_SUSPENSION_PC());
    return true;
  }
  std::size_t await_resume() { return slow_.valid() ? slow_.handle().promise().result_.get() : done_; }

 private:
  friend class conn;
  write_awaiter(std::shared_ptr<detail::netfd> fd, std::span<const std::byte> buf, context ctx) noexcept
      : fd_(std::move(fd)), buf_(buf), ctx_(std::move(ctx)) {}
  std::shared_ptr<detail::netfd> fd_;
  std::span<const std::byte> buf_;
  context ctx_;
  std::size_t done_ = 0;
  task<std::size_t> slow_;
};

inline conn::write_awaiter conn::write(std::span<const std::byte> buf) const { return write_awaiter(fd_, buf, {}); }
inline conn::write_awaiter conn::write(std::span<const std::byte> buf, context ctx) const {
  return write_awaiter(fd_, buf, std::move(ctx));
}
inline conn::write_awaiter conn::write(std::string_view s) const { return write(std::as_bytes(std::span(s))); }

// go::net::listener: a listening TCP socket (Go's net.Listener). accept() waits for a
//   connection; close() wakes a goroutine blocked in accept with
//   go::error(closed_connection). addr() is the bound address ("127.0.0.1:40123").
//   set_deadline(t) (Go's TCPListener.SetDeadline): once t has passed, accept fails
//   with go::error(timeout), "i/o timeout", even with a connection waiting.
class listener {
 public:
  listener() noexcept = default;
  [[nodiscard]] GO_API task<conn> accept() const;
  GO_API void close() const;
  GO_API void set_deadline(time_point t) const;
  [[nodiscard]] GO_API std::string addr() const;

 private:
  friend struct access;
  std::shared_ptr<detail::listenfd> fd_;
};

// Go's net.Listen("tcp", "host:port"): "tcp", "tcp4" or "tcp6"; an empty host (":8080")
// listens on every address, port 0 picks a free port. Throws go::error: bad_address
// for a malformed address, address_in_use. Needs a runtime.
[[nodiscard]] GO_API listener listen(std::string_view network, std::string_view address);

// Go's net.Dial / DialContext: connect to "host:port" (a name is resolved without
// blocking a P; every address it resolves to is tried in turn). ctx cancels it.
// Throws go::error: connection_refused, bad_address, canceled / deadline_exceeded.
[[nodiscard]] GO_API task<conn> dial(std::string_view network, std::string_view address);
[[nodiscard]] GO_API task<conn> dial(context ctx, std::string_view network, std::string_view address);
// Go's net.DialTimeout: as dial, giving up after `timeout` with go::error(timeout),
// "dial tcp 10.0.0.1:80: i/o timeout".
[[nodiscard]] GO_API task<conn> dial_timeout(std::string_view network, std::string_view address,
                                             std::chrono::nanoseconds timeout);

// go::net::packet_conn: a UDP socket (Go's net.PacketConn), a shared handle.
// read_from(buf) waits for one datagram: its size (what did not fit in buf is dropped,
//   as in Go) and its sender. write_to(buf, "host:port") sends one datagram; the host is
//   an IP literal or "localhost" (a datagram is never worth a name lookup in the send
//   path; resolve names once, with dial, or outside). Deadlines, close and ctx work as
//   they do for a conn.
class packet_conn {
 public:
  packet_conn() noexcept = default;
  [[nodiscard]] GO_API task<datagram> read_from(std::span<std::byte> buf) const;
  [[nodiscard]] GO_API task<datagram> read_from(std::span<std::byte> buf, context ctx) const;
  [[nodiscard]] GO_API task<std::size_t> write_to(std::span<const std::byte> buf, std::string_view addr) const;
  [[nodiscard]] GO_API task<std::size_t> write_to(std::span<const std::byte> buf, std::string_view addr,
                                                  context ctx) const;
  GO_API void close() const;
  GO_API void set_deadline(time_point t) const;
  GO_API void set_read_deadline(time_point t) const;
  GO_API void set_write_deadline(time_point t) const;
  [[nodiscard]] GO_API std::string local_addr() const;
  bool valid() const noexcept { return fd_ != nullptr; }

 private:
  friend struct access;
  std::shared_ptr<detail::udpfd> fd_;
};

// Go's net.ListenPacket("udp", "host:port"): "udp", "udp4" or "udp6"; addresses as for
// listen. Throws go::error: bad_address, address_in_use.
[[nodiscard]] GO_API packet_conn listen_packet(std::string_view network, std::string_view address);

}  // namespace go::net
