// One system call of a TCP conn's read or write, as every caller on the descriptor makes
// it: the conn's own attempts (attempt_stream, fd.hpp) and the read the poller performs
// (recv_op.hpp).
#pragma once

#include <sys/types.h>

#include <asio/error.hpp>
#include <cerrno>
#include <cstddef>
#include <system_error>

namespace go::net::detail {

// How one attempt ended.
enum class step { done, again, closed, timeout, failed };

// Make sys() (a recv, recvmsg or send on a non-blocking stream socket, giving its
// ssize_t result) once, again if a signal interrupted it. done: n bytes moved (0 only for
// an empty buffer or a write); again: it would block; failed: ec says why, eof for a read
// of len > 0 bytes that found the stream's end (as Asio's reads say it). ec is written
// only when it fails.
template <class Sys>
step stream_call(bool reading, std::size_t len, std::size_t& n, std::error_code& ec, Sys&& sys) noexcept {
  for (;;) {
    const ssize_t r = sys();
    if (r > 0 || (r == 0 && (!reading || len == 0))) {
      n = static_cast<std::size_t>(r);
      return step::done;
    }
    if (r == 0) {
      ec = asio::error::eof;
      return step::failed;
    }
    const int e = errno;
    if (e == EINTR) continue;
    if (e == EAGAIN || e == EWOULDBLOCK) return step::again;
    ec = std::error_code(e, asio::error::get_system_category());
    return step::failed;
  }
}

}  // namespace go::net::detail
