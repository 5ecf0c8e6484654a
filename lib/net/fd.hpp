// The poll descriptor under go::net (Go's internal/poll FD and pollDesc): a socket with
// the lock that serializes calls on it, its closed flag and deadlines, one attempt of a
// system call, and the park that waits for readiness on the runtime's poller. tcp.cpp,
// udp.cpp and dial.cpp build the public types on it; addr.hpp parses addresses.
//
// Every operation is Go's loop: try the system call at once on the goroutine's own
// thread (the socket is non-blocking); only if it would block, wait for readiness with
// Asio's async_wait (pollDesc.waitRead / waitWrite) and try again. A read of data that
// is already there, and almost every write, so never leaves the worker, and a wait's
// completion only readies the goroutine (user code never runs on the poller).
//
// Asio's socket objects are not thread-safe, and Go lets one goroutine read while
// another writes and a third closes or sets a deadline. Every call on a socket (the
// system call of an attempt, starting a wait, cancel, close) is therefore made under
// the fd's lock; the calls are non-blocking, so it is held for one system call at
// most, and it is a spinlock (a pthread mutex's lock and unlock cost five times the
// instructions, twice per message). close() marks the fd closed under it, so an
// operation that fails because of it reports "use of closed network connection", as
// Go does.
//
// Waking a waiter early (close, an expired deadline, a ctx's cancel) cancels the
// socket's pending waits (Asio's cancel() takes both directions). The completion of a
// wait woken that way checks why, under the lock: closed, its own deadline expired, its
// ctx done -- the wait ends and says which (wait_result::why) -- or none of these (the
// other direction's event), when it starts the operation again there, in the poller,
// and the goroutine sleeps on. A wait that is about to start checks the same three
// under the lock, so none of them can slip in between the check and the registration.
#pragma once

#include <sys/socket.h>

#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>
#include <memory>
#include <mutex>
#include <span>
#include <string>

#include "go/asio.hpp"
#include "go/detail/atomic.hpp"
#include "go/detail/ctx_wait.hpp"
#include "go/detail/spinlock.hpp"
#include "go/net.hpp"
#include "net/recv_op.hpp"
#include "net/stream_call.hpp"

namespace go::net {

namespace detail {

using tcp = asio::ip::tcp;
using udp = asio::ip::udp;
// The I/O objects use the io_context's own executor, not the type-erased
// any_io_executor: Asio then tracks no extra work per operation (the operation itself
// is the io_context's outstanding work) and copies no polymorphic executor.
using executor = asio::io_context::executor_type;
using tcp_socket = asio::basic_stream_socket<tcp, executor>;
using tcp_acceptor = asio::basic_socket_acceptor<tcp, executor>;
using udp_socket = asio::basic_datagram_socket<udp, executor>;
using steady_timer = asio::basic_waitable_timer<std::chrono::steady_clock, asio::wait_traits<std::chrono::steady_clock>, executor>;

enum direction : int { rd = 0, wr = 1 };

template <class Endpoint>
std::string to_string(const Endpoint& ep) {
  const auto a = ep.address();
  std::string host = a.to_string();
  if (a.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

// Why a wait ended early, or did not start, or an attempt was refused (see the top of the
// file).
enum class woken : std::uint8_t { no, closed, timeout, canceled };

// What Go's poll.FD and pollDesc hold for one socket: the socket, the lock that
// serializes calls on it, the closed flag and the two deadlines. S is a tcp_socket,
// tcp_acceptor or udp_socket.
template <class S>
struct pollfd : std::enable_shared_from_this<pollfd<S>> {
  explicit pollfd(S s) : sock(std::move(s)) {
    std::error_code ec;
    sock.non_blocking(true, ec);
  }
  S sock;
  go::detail::spinlock mu{go::detail::lock_rank::socket};
  go::detail::atomic<bool> closed{false};
  // A deadline holds by itself: an attempt compares the clock with `at`, so it fails
  // once the deadline has passed even if no goroutine was ever blocked (the timer, which
  // runs only while the poller is polled, is there to wake a blocked one).
  struct deadline {
    std::unique_ptr<steady_timer> timer;  // made on first use
    std::uint64_t gen = 0;                // a timer armed for an older setting is stale
    time_point at{};                      // {}: none
    bool expired = false;                 // at has passed (seen by the timer or a check)
    bool passed() noexcept {
      if (!expired && at != time_point{} && std::chrono::steady_clock::now() >= at) expired = true;
      return expired;
    }
  };
  deadline dl[2];  // under mu; [rd], [wr]

  // Under mu: what stops a call in direction d now (closed, its deadline passed), if
  // anything. Every attempt and every wait checks it.
  woken stopped(direction d) noexcept {
    if (closed.load(go::detail::memory_order_relaxed)) return woken::closed;
    if (dl[d].passed()) return woken::timeout;
    return woken::no;
  }
};

struct netfd : pollfd<tcp_socket> {
  explicit netfd(tcp_socket s) : pollfd(std::move(s)) {
    std::error_code ec;
    local = to_string(sock.local_endpoint(ec));
    remote = to_string(sock.remote_endpoint(ec));
    sock.set_option(tcp::no_delay(true), ec);  // Go's default for TCP conns
    want_inq(sock.native_handle());            // for recv_op
  }
  reactor* const asio_reactor = reactor_of(sock);  // for read_into
  // The peer's FIN was read: later reads return end of stream at once, as Go's do (the
  // edge-triggered epoll under Asio reports that edge once).
  go::detail::atomic<bool> read_eof{false};
  // Reads in a row that had to wait (a hint, relaxed; see read_some).
  go::detail::atomic<std::uint32_t> read_waits{0};
  std::string local, remote;
  std::string addrs() const { return local + "->" + remote; }
};

struct listenfd : pollfd<tcp_acceptor> {
  explicit listenfd(tcp_acceptor a) : pollfd(std::move(a)) {
    std::error_code ec;
    addr = to_string(sock.local_endpoint(ec));
  }
  std::string addr;
};

struct udpfd : pollfd<udp_socket> {
  explicit udpfd(udp_socket s) : pollfd(std::move(s)) {
    std::error_code ec;
    local = to_string(sock.local_endpoint(ec));
  }
  std::string local;
};



inline bool would_block(const std::error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

inline step refused(woken w) noexcept { return w == woken::closed ? step::closed : step::timeout; }

// One attempt: under the lock, check closed and the deadline, then make the call.
template <class S, class Call>
step attempt(pollfd<S>& f, direction d, std::error_code& ec, Call&& call) {
  std::lock_guard lock(f.mu);
  if (woken w = f.stopped(d); w != woken::no) return refused(w);
  call(ec);
  if (!ec) return step::done;
  return would_block(ec) ? step::again : step::failed;
}

// One attempt of a TCP conn's recv or send, as attempt() does it, but with the system
// call (sys, given the descriptor) made on the descriptor itself: Asio's synchronous
// read_some and write_some wrap the same call in layers of state checks and error_code
// construction (each comparison with an asio::error constant calls out for the
// category), about 130 user instructions per round trip of the echo workload. n: the
// bytes moved; ec: set only when it fails, eof for a recv that finds the stream's end
// (as Asio's).
template <class Sys>
step attempt_stream(pollfd<tcp_socket>& f, direction d, std::size_t len, std::size_t& n, std::error_code& ec, Sys&& sys) {
  std::lock_guard lock(f.mu);
  if (woken w = f.stopped(d); w != woken::no) return refused(w);
  const int fd = f.sock.native_handle();
  return stream_call(d == rd, len, n, ec, [&] { return sys(fd); });
}
inline step attempt_recv(pollfd<tcp_socket>& f, std::span<std::byte> b, std::size_t& n, std::error_code& ec) {
  return attempt_stream(f, rd, b.size(), n, ec, [&](int fd) { return ::recv(fd, b.data(), b.size(), 0); });
}
// MSG_NOSIGNAL: a send to a reset peer fails with EPIPE instead of raising SIGPIPE, as
// Asio's sends do.
inline step attempt_send(pollfd<tcp_socket>& f, std::span<const std::byte> b, std::size_t& n, std::error_code& ec) {
  return attempt_stream(f, wr, b.size(), n, ec, [&](int fd) { return ::send(fd, b.data(), b.size(), MSG_NOSIGNAL); });
}

// What a park starts: wait for readiness in one direction (accept, write) ...
struct wait_for {
  direction d;
  template <class S, class H>
  void start(S& sock, H&& h) const {
    sock.async_wait(d == rd ? S::wait_read : S::wait_write, std::forward<H>(h));
  }
  static bool more(std::size_t) noexcept { return false; }
};
// ... or read as soon as data arrives, on the thread that polls: Asio's reactor then
// needs no epoll_ctl to re-arm the edge-triggered descriptor (a readiness wait does),
// and the data comes with the wake-up. (Go's loop reads again after the wake-up.) With
// fill, a read that got less than buf reads on into the rest before the wait ends (Go's
// io.ReadFull). The read is recv_op (recv_op.hpp) where Asio's reactor allows it.
struct read_into {
  asio::mutable_buffer buf;
  bool fill = false;
  reactor* r;  // the socket's (netfd::asio_reactor)
  static constexpr direction d = rd;
  template <class H>
  void start(tcp_socket& sock, H&& h) const {
#if GO_NET_RECV_OP
    recv_op<std::decay_t<H>>::start(*r, sock, buf, std::forward<H>(h));
#else
    sock.async_read_some(buf, std::forward<H>(h));
#endif
  }
  // A read of n bytes completed: whether the wait goes on for more.
  bool more(std::size_t n) noexcept {
    if (!fill) return false;
    buf += n;
    return buf.size() > 0;
  }
};
struct receive_from {
  asio::mutable_buffer buf;
  udp::endpoint* from;
  static constexpr direction d = rd;
  template <class H>
  void start(udp_socket& sock, H&& h) const {
    sock.async_receive_from(buf, *from, std::forward<H>(h));
  }
  static bool more(std::size_t) noexcept { return false; }
};

// How a wait ended: ec (operation_aborted when woken early, with why), and for a read
// the bytes it read (a filling read can end early with some: then ec is clear and why
// says what stopped it).
struct wait_result {
  std::error_code ec;
  std::size_t n = 0;
  woken why = woken::no;
};

// Park until Op completes (or one of the early wake-ups in the comment at the top).
// Throws ctx's error if ctx ended the wait, unless a read completed with data anyway.
template <class S, class Op>
class [[nodiscard]] io_wait {
 public:
  io_wait(pollfd<S>& f, Op op, go::detail::ctx_node* ctx) noexcept : f_(f), op_(op), ctx_(ctx) {}
  io_wait(const io_wait&) = delete;
  ~io_wait() { watch_.disarm(); }  // first of all: on_cancel touches the other members

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    gp_ = go::detail::current_g_or_throw("go::net");
    if (!watch_.arm(ctx_, this, &on_cancel)) {
      canceled_ = true;
      return false;
    }
    go::detail::park(gp_, h, go::detail::wait_reason::io, &start, this);
    return true;
  }
  wait_result await_resume() {
    watch_.disarm();
    if (canceled_ && (!started_ || result_.ec || result_.n == 0)) go::detail::throw_ctx_err(ctx_);
    if (!started_) result_.ec = asio::error::operation_aborted;  // woken before it started
    return result_;
  }

 private:
  // Asio allocates each operation through the handler's allocator. One operation at a
  // time belongs to a wait, and Asio frees it before it calls the handler, so the
  // wait's own buffer holds it: no malloc per wait. (Asio's recycling cache does not
  // help here: operations start on the workers, outside the io_context's run.) The
  // buffer fits the largest operation (checked here, at compile time: 112 bytes for a
  // TCP read with Asio 1.22 on x86-64); the heap is only a fallback for a second one.
  template <class T>
  struct arena {
    using value_type = T;
    io_wait* self;
    arena(io_wait* w) noexcept : self(w) {}  // NOLINT: implicit, as allocators are
    template <class U>
    arena(const arena<U>& o) noexcept : self(o.self) {}  // NOLINT
    T* allocate(std::size_t n) {
      static_assert(sizeof(T) <= sizeof(io_wait::storage_), "io_wait's storage_ is too small for Asio's operation");
      if (sizeof(T) * n <= sizeof(self->storage_) && !self->storage_used_) {
        self->storage_used_ = true;
        return reinterpret_cast<T*>(self->storage_);
      }
      return static_cast<T*>(::operator new(sizeof(T) * n));
    }
    void deallocate(T* p, std::size_t) noexcept {
      if (reinterpret_cast<unsigned char*>(p) == self->storage_)
        self->storage_used_ = false;
      else
        ::operator delete(p);
    }
    template <class U>
    bool operator==(const arena<U>& o) const noexcept { return self == o.self; }
  };

  struct handler {
    io_wait* self;
    using allocator_type = arena<void>;
    allocator_type get_allocator() const noexcept { return allocator_type(self); }
    // Runs in a poll. Woken early for no reason of this wait's own (see the top of the
    // file), or a filling read with more to read: start again and sleep on.
    void operator()(const std::error_code& ec, std::size_t n = 0) const {
      io_wait& w = *self;
      w.result_.n += n;
      if (ec ? ec == asio::error::operation_aborted : w.op_.more(n)) {
        std::lock_guard lock(w.f_.mu);
        w.result_.why = w.why_now();
        if (w.result_.why == woken::no && w.begin()) return;
      }
      w.result_.ec = ec;
      go::detail::io_wait_end(w.gp_);
      go::detail::ready(w.gp_);  // last touch
    }
  };

  // Under f_.mu: a reason to stop waiting, if there is one.
  woken why_now() noexcept { return canceled_ ? woken::canceled : f_.stopped(op_.d); }
  // Under f_.mu: start the operation. False if it could not (out of memory): the wait
  // ends with operation_aborted and no reason, and the caller's loop tries again.
  bool begin() noexcept {
    try {
      op_.start(f_.sock, handler{this});
      return true;
    } catch (...) {
      return false;
    }
  }

  // The park's unlock function: the goroutine has unwound; start the operation, unless
  // a reason to wake has already come.
  static bool start(go::detail::g*, void* p) noexcept {
    auto* self = static_cast<io_wait*>(p);
    std::lock_guard lock(self->f_.mu);
    if ((self->result_.why = self->why_now()) != woken::no) return false;
    self->started_ = true;
    go::detail::io_wait_begin(self->gp_);
    if (self->begin()) return true;
    go::detail::io_wait_end(self->gp_);
    self->started_ = false;
    return false;
  }
  // Under the context's lock, at most once, never after disarm() returned (ctx_watch).
  static void on_cancel(void* p) noexcept {
    auto* self = static_cast<io_wait*>(p);
    std::lock_guard lock(self->f_.mu);
    self->canceled_ = true;
    std::error_code ec;
    if (self->started_) self->f_.sock.cancel(ec);
  }
  pollfd<S>& f_;
  Op op_;
  go::detail::ctx_node* ctx_;
  go::detail::g* gp_ = nullptr;
  go::detail::ctx_watch watch_;
  bool started_ = false;   // under f_.mu
  bool canceled_ = false;  // under f_.mu until the wait ends
  wait_result result_;
  alignas(std::max_align_t) unsigned char storage_[128];  // the operation (arena)
  bool storage_used_ = false;
};

template <class S, class Op>
io_wait<S, Op> wait(pollfd<S>& f, Op op, const context& ctx) {
  return io_wait<S, Op>(f, op, go::detail::ctx_access::canceler(ctx));
}

// Go's SetReadDeadline / SetWriteDeadline for one direction.
template <class S>
void set_deadline(const std::shared_ptr<pollfd<S>>& fp, direction d, time_point t) {
  pollfd<S>& f = *fp;
  std::lock_guard lock(f.mu);
  auto& dl = f.dl[d];
  ++dl.gen;
  dl.expired = false;
  dl.at = t;
  if (dl.timer) dl.timer->cancel();
  if (t == time_point{}) return;
  std::error_code ec;
  if (t <= std::chrono::steady_clock::now()) {
    dl.expired = true;
    f.sock.cancel(ec);  // wake a blocked operation; it sees the deadline
    return;
  }
  if (!dl.timer) dl.timer = std::make_unique<steady_timer>(go::io_context().get_executor());
  dl.timer->expires_at(t);
  // Runs inside a poll of the io_context (a worker). A weak reference: a pending
  // deadline must not keep a dropped conn alive.
  dl.timer->async_wait([wf = std::weak_ptr<pollfd<S>>(fp), d, gen = dl.gen](const std::error_code& e) {
    if (e) return;
    auto f = wf.lock();
    if (!f) return;
    std::lock_guard lock(f->mu);
    if (f->dl[d].gen != gen) return;  // set again since
    f->dl[d].expired = true;
    std::error_code ec2;
    f->sock.cancel(ec2);
  });
}

template <class S>
void close_fd(pollfd<S>& f) {
  std::lock_guard lock(f.mu);
  if (f.closed.exchange(true, go::detail::memory_order_acq_rel)) return;
  std::error_code ec;
  for (auto& dl : f.dl)
    if (dl.timer) dl.timer->cancel();
  f.sock.close(ec);  // pending waits complete (operation_aborted)
}


// The error a system call's failure is reported as (connection_refused, ...).
errc classify(const std::error_code& ec);
// Go's OpError text: "read tcp 127.0.0.1:5000->127.0.0.1:40000: connection reset by peer".
[[noreturn]] void fail(const char* op, const char* net, const std::string& addrs, step why,
                       const std::error_code& ec = {});

template <class Fd>
Fd& live(const std::shared_ptr<Fd>& fd, const char* type, const char* op) {
  if (!fd) throw error(errc::invalid_argument, std::string("go::net::") + type + "::" + op + " on an empty " + type);
  return *fd;
}


}  // namespace detail

// Makes the public handles (conn, listener, packet_conn befriend it) from an fd.
struct access {
  template <class Handle, class Fd>
  static Handle make(std::shared_ptr<Fd> fd) {
    Handle h;
    h.fd_ = std::move(fd);
    return h;
  }
};

using detail::rd;
using detail::step;
using detail::tcp;
using detail::tcp_acceptor;
using detail::tcp_socket;
using detail::udp;
using detail::udp_socket;
using detail::wr;

}  // namespace go::net
