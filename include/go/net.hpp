// go::net: TCP connections and listeners (Go's net package), over the runtime's poller.
// No Asio types here: go/asio.hpp is the adapter for using Asio directly.
#pragma once

#include <chrono>
#include <coroutine>
#include <cstddef>
#include <cstdint>
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
  class read_awaiter;
  class read_full_awaiter;
  class write_awaiter;
  conn() noexcept = default;

  // co_await gives the bytes read (0 at end of stream).
  [[nodiscard]] read_awaiter read(std::span<std::byte> buf) const;
  [[nodiscard]] read_awaiter read(std::span<std::byte> buf, context ctx) const;
  [[nodiscard]] read_full_awaiter read_full(std::span<std::byte> buf) const;
  [[nodiscard]] read_full_awaiter read_full(std::span<std::byte> buf, context ctx) const;
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
  // read's three steps (read_awaiter): the first attempt (true if it is done), the wait,
  // and its result; read_drop ends a wait whose goroutine is destroyed.
  GO_API static bool read_now(read_awaiter& r);
  GO_API static bool read_park(read_awaiter& r, std::coroutine_handle<> h);
  GO_API static std::size_t read_end(read_awaiter& r);
  GO_API static void read_drop(read_awaiter& r) noexcept;
  // write's two halves: the first attempt (true if it wrote all of buf; done counts
  // what it wrote), and the loop that waits for room for the rest.
  GO_API static bool write_now(detail::netfd* fd, std::span<const std::byte> buf, std::size_t& done);
  GO_API static task<std::size_t> write_rest(std::shared_ptr<detail::netfd> fd, std::span<const std::byte> buf,
                                             std::size_t done, context ctx);
  std::shared_ptr<detail::netfd> fd_;
};

// What conn::read gives (and, filling buf, conn::read_full). Data that is already there
// is read inside await_ready. A read that has to wait parks the goroutine with no
// coroutine frame of its own: the wait, Asio's operation included, lives in the awaiter,
// that is in the awaiting frame (the wait_ bytes; lib/net/tcp.cpp checks they fit), and
// is started, and for read_full started again on the rest, by the poller. It owns what
// it needs (the conn's socket, the ctx); buf must live until it is awaited. Await it
// once; it is movable until then (a coroutine parameter is moved into its frame).
class [[nodiscard]] conn::read_awaiter {
 public:
  read_awaiter(read_awaiter&& o) noexcept
      : fd_(std::move(o.fd_)), buf_(o.buf_), ctx_(std::move(o.ctx_)), full_(o.full_) {}
  read_awaiter& operator=(read_awaiter&&) = delete;
  ~read_awaiter() {
    if (waiting_) conn::read_drop(*this);  // its goroutine is destroyed by runtime::stop
  }

  bool await_ready() { return conn::read_now(*this); }
  template <class Promise>
  bool await_suspend(std::coroutine_handle<Promise> h) {
    if (!conn::read_park(*this, h)) return false;
    go::detail::note_suspension(h, GO_SUSPENSION_PC());  // parked: the frame is ours until it unwinds
    return true;
  }
  std::size_t await_resume() { return conn::read_end(*this); }

 private:
  friend class conn;
  static constexpr std::size_t wait_size = 304;
  read_awaiter(std::shared_ptr<detail::netfd> fd, std::span<std::byte> buf, context ctx, bool full) noexcept
      : fd_(std::move(fd)), buf_(buf), ctx_(std::move(ctx)), full_(full) {}
  std::shared_ptr<detail::netfd> fd_;
  std::span<std::byte> buf_;
  context ctx_;
  std::size_t got_ = 0;       // bytes read into buf_ so far
  std::uint32_t waits_ = 0;   // the conn's waits in a row when the read began (tcp.cpp)
  bool full_;                 // read_full
  bool waiting_ = false;      // wait_ holds a wait
  alignas(std::max_align_t) unsigned char wait_[wait_size];
};

// What conn::read_full gives: as read_awaiter, filling buf; co_await throws go::error
// eof (nothing read) or unexpected_eof (part of buf) if the stream ends first.
class [[nodiscard]] conn::read_full_awaiter : public conn::read_awaiter {
 public:
  void await_resume() { (void)conn::read_end(*this); }

 private:
  friend class conn;
  explicit read_full_awaiter(read_awaiter&& r) noexcept : read_awaiter(std::move(r)) {}
};

inline conn::read_awaiter conn::read(std::span<std::byte> buf) const { return read_awaiter(fd_, buf, {}, false); }
inline conn::read_awaiter conn::read(std::span<std::byte> buf, context ctx) const {
  return read_awaiter(fd_, buf, std::move(ctx), false);
}
inline conn::read_full_awaiter conn::read_full(std::span<std::byte> buf) const {
  return read_full_awaiter(read_awaiter(fd_, buf, {}, true));
}
inline conn::read_full_awaiter conn::read_full(std::span<std::byte> buf, context ctx) const {
  return read_full_awaiter(read_awaiter(fd_, buf, std::move(ctx), true));
}

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
