// go::net: TCP connections and listeners (Go's net package), over the runtime's poller.
// No Asio types here: go/asio.hpp is the adapter for using Asio directly.
#pragma once

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
}  // namespace detail

// <!-- outline:conn -->
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
// Shutdown: a goroutine blocked on a conn is destroyed by runtime::stop; a conn must not
//   outlive its runtime.
// Thread safety: one reader and one writer may work concurrently, and close() may be
//   called from anywhere, as in Go.
// <!-- /outline -->
class conn {
 public:
  conn() noexcept = default;

  [[nodiscard]] GO_API task<std::size_t> read(std::span<std::byte> buf) const;
  [[nodiscard]] GO_API task<std::size_t> read(std::span<std::byte> buf, context ctx) const;
  [[nodiscard]] GO_API task<void> read_full(std::span<std::byte> buf) const;
  [[nodiscard]] GO_API task<void> read_full(std::span<std::byte> buf, context ctx) const;
  [[nodiscard]] GO_API task<std::size_t> write(std::span<const std::byte> buf) const;
  [[nodiscard]] GO_API task<std::size_t> write(std::span<const std::byte> buf, context ctx) const;
  [[nodiscard]] task<std::size_t> write(std::string_view s) const { return write(std::as_bytes(std::span(s))); }

  GO_API void close() const;
  GO_API void close_write() const;
  [[nodiscard]] GO_API std::string local_addr() const;
  [[nodiscard]] GO_API std::string remote_addr() const;
  bool valid() const noexcept { return fd_ != nullptr; }

 private:
  friend struct access;
  std::shared_ptr<detail::netfd> fd_;
};

// <!-- outline:listener -->
// go::net::listener: a listening TCP socket (Go's net.Listener). accept() waits for a
//   connection; close() wakes a goroutine blocked in accept with
//   go::error(closed_connection). addr() is the bound address ("127.0.0.1:40123").
// <!-- /outline -->
class listener {
 public:
  listener() noexcept = default;
  [[nodiscard]] GO_API task<conn> accept() const;
  GO_API void close() const;
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

}  // namespace go::net
