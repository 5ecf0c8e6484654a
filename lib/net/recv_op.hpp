// recv_op: a TCP conn's read as an operation of Asio's own reactor, with gocoro's perform
// and completion (the wait of read_into in fd.hpp starts it).
//
// Asio's async_read_some makes the same kind of operation (a reactor_op queued on the
// descriptor, performed by the reactor when epoll reports the socket readable, and tried
// once as it starts, Asio's speculative read); this one differs in three things:
//   - perform() is one ::recvmsg with errno read directly (stream_call, as the conn's own
//     attempts make their calls). Asio's goes through non_blocking_recv1 and recv1, which
//     build an error_code for every call and compare it with three asio::error constants
//     (each comparison calls out for the category): about 100 user instructions per
//     perform against 20.
//   - A read that leaves the socket empty tells the reactor so (done_and_exhausted, as
//     Asio's sends do): one that came back short, or a full one after which the
//     kernel's count of unread bytes is 0 (TCP_INQ: the count comes with each recvmsg,
//     asked for once per conn by want_inq). The reactor then skips the speculative
//     recv of the next read until epoll reports new data, so a reader whose peer has
//     not answered yet makes no recv that fails: one recvmsg per message, where Go and
//     tokio make two (the read, and one more that fails with EAGAIN). Asio's reads say
//     "exhausted" only at the stream's end. No data can go unnoticed: the kernel takes
//     its count after the data it counts is queued, anything queued later wakes the
//     edge-triggered epoll entry again, and the reactor's flag changes only under its
//     descriptor lock, where every perform runs. A FIN with nothing before it counts
//     as one byte (the kernel's rule), so the end of the stream is read at once.
//   - The completion copies the results and the handler out, frees the operation (the
//     wait's arena) and calls the handler, with none of Asio's handler-tracking, executor
//     work or recycling-allocator machinery (the handler only stores the result and
//     readies a goroutine).
// The operation enters the reactor through epoll_reactor::start_op, as Asio's socket
// service starts its own (reactive_socket_service_base::start_op), so queueing,
// cancellation (cancel(), close) and the io_context's outstanding work are Asio's, not
// gocoro's.
//
// These are Asio's detail interfaces (reactor_op, epoll_reactor::start_op, the socket's
// implementation), read for Asio 1.22 (Debian 12's), and used only with that version and
// the epoll reactor: other versions change them (later ones give start_op more
// arguments). Elsewhere, or with GO_NET_ASIO_OPS defined (CI builds one configuration
// so), a read starts Asio's async_read_some, as before, and makes the failed recv.
#pragma once

#include <asio/detail/config.hpp>
#include <asio/version.hpp>

#if defined(ASIO_HAS_EPOLL) && !defined(ASIO_HAS_IO_URING_AS_DEFAULT) && ASIO_VERSION >= 102200 && \
    ASIO_VERSION < 102300 && !defined(GO_NET_ASIO_OPS)
#define GO_NET_RECV_OP 1
#else
#define GO_NET_RECV_OP 0
#endif

#if GO_NET_RECV_OP

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <asio/buffer.hpp>
#include <asio/detail/reactor.hpp>
#include <asio/detail/reactor_op.hpp>
#include <asio/error.hpp>
#include <cstring>
#include <memory>
#include <new>
#include <utility>

#include "net/stream_call.hpp"

namespace go::net::detail {

using reactor = asio::detail::epoll_reactor;

// The reactor of the io_context sock belongs to (a lookup under Asio's registry lock:
// made once per socket).
template <class Socket>
reactor* reactor_of(Socket& sock) {
  return &asio::use_service<reactor>(sock.get_executor().context());
}

// The socket's state inside Asio (its descriptor and the reactor's per-descriptor data),
// which basic_socket keeps protected.
template <class Socket>
struct socket_internals : Socket {
  static auto& of(Socket& s) noexcept { return (s.*(&socket_internals::impl_)).get_implementation(); }
};

// Ask the kernel to say, with each recvmsg on the TCP socket fd, how many bytes are
// left to read (TCP_INQ, Linux 4.18). If it cannot, reads are only known to have
// drained the socket when they come back short.
inline void want_inq([[maybe_unused]] int fd) noexcept {
#ifdef TCP_INQ  // glibc 2.28
  const int on = 1;
  (void)::setsockopt(fd, IPPROTO_TCP, TCP_INQ, &on, sizeof on);
#endif
}

// An error_code that says "no error", made once: a default-constructed std::error_code
// calls out for the system category each time.
inline const std::error_code no_error{};

// Handler: called as handler(ec, n) in the poll; its get_allocator() gives the memory
// the operation lives in (the wait's arena).
template <class Handler>
class recv_op final : public asio::detail::reactor_op {
 public:
  recv_op(int fd, asio::mutable_buffer buf, Handler h) noexcept
      : reactor_op(no_error, &do_perform, &do_complete), fd_(fd), buf_(buf), h_(std::move(h)) {}

  // Start a read of buf on sock into the reactor r (under the conn's lock, as every
  // call on its socket). Throws std::bad_alloc if the operation cannot be allocated.
  template <class Socket>
  static void start(reactor& r, Socket& sock, asio::mutable_buffer buf, Handler h) {
    auto& impl = socket_internals<Socket>::of(sock);
    alloc_t a(h.get_allocator());
    recv_op* op = ::new (static_cast<void*>(a.allocate(1))) recv_op(impl.socket_, buf, std::move(h));
    // The socket is non-blocking (pollfd's constructor), and buf is never empty (a read
    // of nothing does not wait): the two cases in which Asio's service would not start
    // the operation on the reactor.
    r.start_op(reactor::read_op, impl.socket_, impl.reactor_data_, op, false, true);
  }

 private:
  using alloc_t = typename std::allocator_traits<typename Handler::allocator_type>::template rebind_alloc<recv_op>;

  static status do_perform(reactor_op* base) noexcept {
    auto* o = static_cast<recv_op*>(base);
    iovec iov{o->buf_.data(), o->buf_.size()};
    alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(int))];
    msghdr m{};
    std::size_t n = 0;
    switch (stream_call(true, o->buf_.size(), n, o->ec_, [&] {
      m = msghdr{};
      m.msg_iov = &iov;
      m.msg_iovlen = 1;
      m.msg_control = control;
      m.msg_controllen = sizeof control;
      return ::recvmsg(o->fd_, &m, 0);
    })) {
      case step::again: return not_done;
      case step::done:
        o->bytes_transferred_ = n;
        return n < o->buf_.size() || drained(m) ? done_and_exhausted : done;
      default:  // failed: o->ec_ says why; eof (buf is not empty) leaves nothing to read
        return o->ec_ == asio::error::eof ? done_and_exhausted : done;
    }
  }

  // The kernel's count of bytes left to read after this recvmsg (TCP_INQ, asked for by
  // want_inq) is 0. False if it did not say.
  static bool drained([[maybe_unused]] msghdr& m) noexcept {
#ifdef TCP_CM_INQ
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
      if (c->cmsg_level == SOL_TCP && c->cmsg_type == TCP_CM_INQ && c->cmsg_len >= CMSG_LEN(sizeof(int))) {
        int inq = 0;
        std::memcpy(&inq, CMSG_DATA(c), sizeof inq);
        return inq == 0;
      }
    }
#endif
    return false;
  }

  // owner is null when the io_context destroys the operation uninvoked (shutdown).
  static void do_complete(void* owner, asio::detail::scheduler_operation* base, const std::error_code&, std::size_t) {
    auto* o = static_cast<recv_op*>(base);
    Handler h = std::move(o->h_);
    const std::error_code ec = o->ec_;
    const std::size_t n = o->bytes_transferred_;
    alloc_t a(h.get_allocator());
    o->~recv_op();
    a.deallocate(o, 1);  // before the call: the handler may start the next read in the same memory
    if (owner) h(ec, n);
  }

  int fd_;
  asio::mutable_buffer buf_;
  Handler h_;
};

}  // namespace go::net::detail

#else

namespace go::net::detail {
struct reactor;  // not used: reads start Asio's own operation
template <class Socket>
reactor* reactor_of(Socket&) noexcept {
  return nullptr;
}
inline void want_inq(int) noexcept {}
}  // namespace go::net::detail

#endif  // GO_NET_RECV_OP
