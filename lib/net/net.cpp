// go::net over Asio sockets on the runtime's poller, the way Go's net package sits on
// internal/poll and netpoll.
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
// the fd's mutex; the calls are non-blocking, so it is held for one system call at
// most. close() marks the fd closed under it, so an operation that fails because of it
// reports "use of closed network connection", as Go does.
//
// Waking a waiter early (close, an expired deadline, a ctx's cancel) cancels the
// socket's pending waits (Asio's cancel() takes both directions). A waiter woken that
// way re-checks why: closed, its own deadline expired, its ctx done, or none of these
// (the other direction's event), when it simply tries again. A wait that is about to
// start checks the same three under the mutex, so none of them can slip in between
// the check and the registration.
#include "go/net.hpp"

#include <asio/ip/tcp.hpp>
#include <asio/ip/udp.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/steady_timer.hpp>
#include <charconv>
#include <mutex>

#include "go/asio.hpp"
#include "go/detail/atomic.hpp"

namespace go::net {

namespace detail {

using tcp = asio::ip::tcp;
using udp = asio::ip::udp;

enum direction : int { rd = 0, wr = 1 };

template <class Endpoint>
std::string to_string(const Endpoint& ep) {
  const auto a = ep.address();
  std::string host = a.to_string();
  if (a.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(ep.port());
}

// What Go's poll.FD and pollDesc hold for one socket: the socket, the mutex that
// serializes calls on it, the closed flag and the two deadlines. S is a tcp::socket,
// tcp::acceptor or udp::socket.
template <class S>
struct pollfd : std::enable_shared_from_this<pollfd<S>> {
  explicit pollfd(S s) : sock(std::move(s)) {
    std::error_code ec;
    sock.non_blocking(true, ec);
  }
  S sock;
  std::mutex mu;
  go::detail::atomic<bool> closed{false};
  // A deadline holds by itself: an attempt compares the clock with `at`, so it fails
  // once the deadline has passed even if no goroutine was ever blocked (the timer, which
  // runs only while the poller is polled, is there to wake a blocked one).
  struct deadline {
    std::unique_ptr<asio::steady_timer> timer;  // made on first use
    std::uint64_t gen = 0;                      // a timer armed for an older setting is stale
    time_point at{};                            // {}: none
    bool expired = false;                       // at has passed (seen by the timer or a check)
    bool passed() noexcept {
      if (!expired && at != time_point{} && std::chrono::steady_clock::now() >= at) expired = true;
      return expired;
    }
  };
  deadline dl[2];  // under mu; [rd], [wr]
};

struct netfd : pollfd<tcp::socket> {
  explicit netfd(tcp::socket s) : pollfd(std::move(s)) {
    std::error_code ec;
    local = to_string(sock.local_endpoint(ec));
    remote = to_string(sock.remote_endpoint(ec));
    sock.set_option(tcp::no_delay(true), ec);  // Go's default for TCP conns
  }
  // The peer's FIN was read: later reads return end of stream at once, as Go's do (the
  // edge-triggered epoll under Asio reports that edge once).
  go::detail::atomic<bool> read_eof{false};
  // Reads in a row that had to wait (a hint, relaxed; see read_some).
  go::detail::atomic<std::uint32_t> read_waits{0};
  std::string local, remote;
  std::string addrs() const { return local + "->" + remote; }
};

struct listenfd : pollfd<tcp::acceptor> {
  explicit listenfd(tcp::acceptor a) : pollfd(std::move(a)) {
    std::error_code ec;
    addr = to_string(sock.local_endpoint(ec));
  }
  std::string addr;
};

struct udpfd : pollfd<udp::socket> {
  explicit udpfd(udp::socket s) : pollfd(std::move(s)) {
    std::error_code ec;
    local = to_string(sock.local_endpoint(ec));
  }
  std::string local;
};

namespace {

bool would_block(const std::error_code& ec) {
  return ec == asio::error::would_block || ec == asio::error::try_again;
}

// How one attempt ended.
enum class step { done, again, closed, timeout, failed };

// One attempt: under the mutex, check closed and the deadline, then make the call.
template <class S, class Call>
step attempt(pollfd<S>& f, direction d, std::error_code& ec, Call&& call) {
  std::lock_guard lock(f.mu);
  if (f.closed.load(go::detail::memory_order_relaxed)) return step::closed;
  if (f.dl[d].passed()) return step::timeout;
  call(ec);
  if (!ec) return step::done;
  return would_block(ec) ? step::again : step::failed;
}

// What a park starts: wait for readiness in one direction (accept, write) ...
struct wait_for {
  direction d;
  template <class S, class H>
  void start(S& sock, H&& h) const {
    sock.async_wait(d == rd ? S::wait_read : S::wait_write, std::forward<H>(h));
  }
};
// ... or read as soon as data arrives, on the thread that polls: Asio's reactor then
// needs no epoll_ctl to re-arm the edge-triggered descriptor (a readiness wait does),
// and the data comes with the wake-up. (Go's loop reads again after the wake-up.)
struct read_into {
  asio::mutable_buffer buf;
  static constexpr direction d = rd;
  template <class S, class H>
  void start(S& sock, H&& h) const {
    sock.async_read_some(buf, std::forward<H>(h));
  }
};
struct receive_from {
  asio::mutable_buffer buf;
  udp::endpoint* from;
  static constexpr direction d = rd;
  template <class H>
  void start(udp::socket& sock, H&& h) const {
    sock.async_receive_from(buf, *from, std::forward<H>(h));
  }
};

// How a wait ended: ec (operation_aborted when woken early, see the top of the file)
// and, for a read, the bytes it read.
struct wait_result {
  std::error_code ec;
  std::size_t n = 0;
};

// Park until Op completes (or one of the early wake-ups in the comment at the top).
// Throws ctx's error if ctx ended the wait, unless a read completed with data anyway.
template <class S, class Op>
class [[nodiscard]] io_wait {
 public:
  io_wait(pollfd<S>& f, Op op, go::detail::ctx_node* ctx) noexcept : f_(f), op_(op), ctx_(ctx) {}
  io_wait(const io_wait&) = delete;
  ~io_wait() { unhook(); }

  bool await_ready() const noexcept { return false; }
  bool await_suspend(std::coroutine_handle<> h) {
    gp_ = go::detail::current_g_or_throw("go::net");
    if (ctx_) {
      hook_.self = this;
      hook_.h.fn = &on_cancel;
      if (!go::detail::ctx_add_hook(ctx_, &hook_.h)) {
        canceled_ = true;
        return false;
      }
      hooked_ = true;
    }
    go::detail::park(gp_, h, go::detail::wait_reason::io, &start, this);
    return true;
  }
  wait_result await_resume() {
    unhook();
    if (canceled_ && (!started_ || result_.ec || result_.n == 0)) go::detail::throw_ctx_err(ctx_);
    if (!started_) result_.ec = asio::error::operation_aborted;  // woken before it started
    return result_;
  }

 private:
  // Asio allocates each operation through the handler's allocator. One operation at a
  // time belongs to a wait, and Asio frees it before it calls the handler, so the
  // wait's own buffer holds it: no malloc per wait. (Asio's recycling cache does not
  // help here: operations start on the workers, outside the io_context's run.)
  template <class T>
  struct arena {
    using value_type = T;
    io_wait* self;
    arena(io_wait* w) noexcept : self(w) {}  // NOLINT: implicit, as allocators are
    template <class U>
    arena(const arena<U>& o) noexcept : self(o.self) {}  // NOLINT
    T* allocate(std::size_t n) {
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
    void operator()(const std::error_code& ec, std::size_t n = 0) const {
      self->result_ = {ec, n};
      go::detail::io_wait_end(self->gp_);
      go::detail::ready(self->gp_);  // last touch
    }
  };

  // The park's unlock function: the goroutine has unwound; start the operation, unless
  // a reason to wake has already come.
  static bool start(go::detail::g*, void* p) noexcept {
    auto* self = static_cast<io_wait*>(p);
    pollfd<S>& f = self->f_;
    std::lock_guard lock(f.mu);
    if (self->canceled_ || f.closed.load(go::detail::memory_order_relaxed) || f.dl[self->op_.d].passed()) return false;
    self->started_ = true;
    go::detail::io_wait_begin(self->gp_);
    try {
      self->op_.start(f.sock, handler{self});
    } catch (...) {
      go::detail::io_wait_end(self->gp_);
      self->started_ = false;
      return false;  // out of memory: resume; the caller tries again
    }
    return true;
  }
  // Under the context's lock, at most once, never after unhook() returned.
  static void on_cancel(go::detail::ctx_hook* h) noexcept {
    io_wait* self = reinterpret_cast<hook_t*>(h)->self;  // h is the first member
    std::lock_guard lock(self->f_.mu);
    self->canceled_ = true;
    std::error_code ec;
    if (self->started_) self->f_.sock.cancel(ec);
  }
  void unhook() noexcept {
    if (hooked_) go::detail::ctx_remove_hook(ctx_, &hook_.h);
    hooked_ = false;
  }

  pollfd<S>& f_;
  Op op_;
  go::detail::ctx_node* ctx_;
  go::detail::g* gp_ = nullptr;
  struct hook_t {
    go::detail::ctx_hook h;
    io_wait* self = nullptr;
  } hook_;
  bool hooked_ = false;
  bool started_ = false;   // under f_.mu
  bool canceled_ = false;  // under f_.mu until the wait ends
  wait_result result_;
  alignas(std::max_align_t) unsigned char storage_[256];  // the operation (arena)
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
  if (!dl.timer) dl.timer = std::make_unique<asio::steady_timer>(go::io_context());
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

errc classify(const std::error_code& ec) {
  if (ec == asio::error::connection_refused) return errc::connection_refused;
  if (ec == asio::error::connection_reset || ec == asio::error::broken_pipe) return errc::connection_reset;
  if (ec == asio::error::address_in_use) return errc::address_in_use;
  return errc::net_error;
}

// Go's OpError text: "read tcp 127.0.0.1:5000->127.0.0.1:40000: connection reset by peer".
[[noreturn]] void fail(const char* op, const char* net, const std::string& addrs, step why,
                       const std::error_code& ec = {}) {
  std::string head = std::string(op) + " " + net + " " + addrs + ": ";
  if (why == step::closed) throw error(errc::closed_connection, head + "use of closed network connection");
  if (why == step::timeout) throw error(errc::timeout, head + "i/o timeout");
  errc e = classify(ec);
  std::string reason = e == errc::net_error ? ec.message() : make_error_code(e).message();
  if (ec == asio::error::broken_pipe) reason = "broken pipe";
  throw error(e, head + reason);
}

struct host_port {
  std::string host, port;
};

host_port split(std::string_view what, std::string_view address) {
  auto bad = [&](const char* why) {
    return error(errc::bad_address, std::string(what) + ": address " + std::string(address) + ": " + why);
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

// "tcp", "tcp4", "tcp6" (kind "tcp") or the same for "udp".
void check_network(std::string_view op, std::string_view kind, std::string_view network) {
  std::string k(kind);
  if (network != k && network != k + "4" && network != k + "6")
    throw error(errc::bad_address, std::string(op) + " " + std::string(network) + ": unknown network " + std::string(network));
}

bool family_ok(std::string_view network, const asio::ip::address& a) {
  char last = network.back();
  return (last != '4' && last != '6') || (last == '4' && a.is_v4()) || (last == '6' && a.is_v6());
}

bool parse_port(const std::string& port, unsigned short& p) {
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
  return ec == std::errc() && ptr == port.data() + port.size();
}

// The local address listen and listen_packet bind: an empty host is every address,
// "localhost" the loopback, else an IP literal of the network's family.
asio::ip::address bind_address(std::string_view what, std::string_view network, std::string_view address,
                               const std::string& host) {
  bool v4 = network.back() == '4', v6 = network.back() == '6';
  if (host.empty()) return v4 ? asio::ip::address(asio::ip::address_v4::any()) : asio::ip::address_v6::any();
  if (host == "localhost") return v6 ? asio::ip::address(asio::ip::address_v6::loopback()) : asio::ip::address_v4::loopback();
  std::error_code perr;
  auto a = asio::ip::make_address(host, perr);
  if (perr || !family_ok(network, a))
    throw error(errc::bad_address,
                std::string(what) + ": address " + std::string(address) + ": not an IP address of this network");
  return a;
}

// Go's Listen/ListenPacket address: kind "tcp" or "udp", network that or with 4 or 6.
// every: the host was empty (listen on every address, both families for "tcp"/"udp").
template <class Protocol>
typename Protocol::endpoint listen_endpoint(const char* kind, std::string_view network, std::string_view address,
                                            bool& every) {
  const std::string what = std::string("listen ") + kind;
  check_network("listen", kind, network);
  auto [host, port] = split(what, address);
  unsigned short p = 0;
  if (!parse_port(port, p)) throw error(errc::bad_address, what + ": address " + std::string(address) + ": invalid port");
  every = host.empty();
  return {bind_address(what, network, address, host), p};
}

template <class Fd>
Fd& live(const std::shared_ptr<Fd>& fd, const char* type, const char* op) {
  if (!fd) throw error(errc::invalid_argument, std::string("go::net::") + type + "::" + op + " on an empty " + type);
  return *fd;
}

}  // namespace
}  // namespace detail

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
using detail::udp;
using detail::wr;

namespace {

task<std::size_t> read_some(std::shared_ptr<detail::netfd> fd, std::span<std::byte> buf, context ctx) {
  auto& f = detail::live(fd, "conn", "read");
  if (buf.empty()) co_return 0;
  auto at_eof = [&] {
    f.read_eof.store(true, go::detail::memory_order_relaxed);
    return std::size_t{0};
  };
  // Go's loop tries the read first and waits only if it would block. But Asio's read,
  // which the wait starts, tries once more itself as it starts (its speculative read),
  // so a read that waits would cost two failed recvfroms. After a read that had to wait,
  // the next one most likely waits too (a peer that answers requests), so it skips its
  // own try and lets Asio's be the one: one failed recvfrom per wait, as Go and tokio
  // make. If the data is there after all, Asio's try gets it and the read completes
  // through the io_context's queue (the next poll) rather than at once. So the read
  // still tries first after 1, 2, 4, ... 64 waits in a row and then after every 64th:
  // a run of reads through the queue is never longer than the run of waits before it,
  // and a streaming reader that caught up goes back to reading at once.
  const std::uint32_t waits = f.read_waits.load(go::detail::memory_order_relaxed);
  bool try_first = (waits & (waits - 1)) == 0 || waits % 64 == 0;
  for (;;) {
    if (f.read_eof.load(go::detail::memory_order_relaxed)) co_return 0;
    if (try_first) {
      std::error_code ec;
      std::size_t n = 0;
      step s = detail::attempt(f, rd, ec, [&](std::error_code& e) { n = f.sock.read_some(asio::buffer(buf.data(), buf.size()), e); });
      if (s == step::done) {
        if (waits != 0) f.read_waits.store(0, go::detail::memory_order_relaxed);  // (no store per read when streaming)
        co_return n;
      }
      if (s == step::failed && ec == asio::error::eof) co_return at_eof();
      if (s != step::again) detail::fail("read", "tcp", f.addrs(), s, ec);
    }
    try_first = true;  // after a wake-up: the loop's attempt says why (closed, timeout)
    auto r = co_await detail::wait(f, detail::read_into{asio::buffer(buf.data(), buf.size())}, ctx);
    if (!r.ec) {
      f.read_waits.store(waits + 1, go::detail::memory_order_relaxed);
      co_return r.n;
    }
    if (r.ec == asio::error::eof && !f.closed.load(go::detail::memory_order_relaxed)) co_return at_eof();
    if (r.ec != asio::error::operation_aborted && !f.closed.load(go::detail::memory_order_relaxed)) detail::fail("read", "tcp", f.addrs(), step::failed, r.ec);
    // Woken early: the loop's attempt says why (closed, timeout), or waits again.
  }
}

task<std::size_t> write_all(std::shared_ptr<detail::netfd> fd, std::span<const std::byte> buf, context ctx) {
  auto& f = detail::live(fd, "conn", "write");
  std::size_t done = 0;
  while (done < buf.size()) {
    std::error_code ec;
    step s = detail::attempt(f, wr, ec, [&](std::error_code& e) {
      done += f.sock.write_some(asio::buffer(buf.data() + done, buf.size() - done), e);
    });
    if (s == step::again) {
      (void)co_await detail::wait(f, detail::wait_for{wr}, ctx);
    } else if (s != step::done) {
      detail::fail("write", "tcp", f.addrs(), s, ec);
    }
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
  if (fd_) detail::close_fd(*fd_);
}

void conn::close_write() const {
  auto& f = detail::live(fd_, "conn", "close_write");
  std::lock_guard lock(f.mu);
  if (f.closed.load(go::detail::memory_order_relaxed)) detail::fail("close_write", "tcp", f.addrs(), step::closed);
  std::error_code ec;
  f.sock.shutdown(tcp::socket::shutdown_send, ec);
}

void conn::set_deadline(time_point t) const {
  set_read_deadline(t);
  set_write_deadline(t);
}
void conn::set_read_deadline(time_point t) const { detail::set_deadline<tcp::socket>(detail::live(fd_, "conn", "set_read_deadline").shared_from_this(), rd, t); }
void conn::set_write_deadline(time_point t) const { detail::set_deadline<tcp::socket>(detail::live(fd_, "conn", "set_write_deadline").shared_from_this(), wr, t); }

std::string conn::local_addr() const { return fd_ ? fd_->local : std::string(); }
std::string conn::remote_addr() const { return fd_ ? fd_->remote : std::string(); }

task<conn> listener::accept() const {
  auto fd = fd_;  // the listener may be dropped while we wait
  auto& f = detail::live(fd, "listener", "accept");
  for (;;) {
    std::error_code ec;
    std::optional<tcp::socket> s;
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
  detail::set_deadline<tcp::acceptor>(detail::live(fd_, "listener", "set_deadline").shared_from_this(), rd, t);
}

std::string listener::addr() const { return fd_ ? fd_->addr : std::string(); }

listener listen(std::string_view network, std::string_view address) {
  bool every = false;
  auto ep = detail::listen_endpoint<tcp>("tcp", network, address, every);
  tcp::acceptor acc(go::io_context());
  std::error_code err;
  acc.open(ep.protocol(), err);
  if (!err) acc.set_option(tcp::acceptor::reuse_address(true), err);
  if (!err && every && ep.address().is_v6()) acc.set_option(asio::ip::v6_only(false), err);  // ":port": both families
  if (!err) acc.bind(ep, err);
  if (!err) acc.listen(asio::socket_base::max_listen_connections, err);
  if (err) detail::fail("listen", "tcp", detail::to_string(ep), step::failed, err);
  return access::make<listener>(std::make_shared<detail::listenfd>(std::move(acc)));
}

namespace {

// Owns its strings: a task is lazy, and the caller's views may be gone when it runs.
task<conn> dial_impl(context ctx, std::string network, std::string address, bool timeout_is_io) {
  detail::check_network("dial", "tcp", network);
  auto [host, port] = detail::split("dial tcp", address);
  if (host.empty()) host = "localhost";  // Go dials the local system
  std::vector<tcp::endpoint> eps;
  std::error_code perr;
  auto literal = asio::ip::make_address(host, perr);
  unsigned short p = 0;
  // A deadline that ends the dial is Go's "i/o timeout" for dial_timeout.
  auto timed_out = [&](const go::error& e) {
    if (timeout_is_io && e.code() == errc::deadline_exceeded)
      throw error(errc::timeout, "dial tcp " + address + ": i/o timeout");
    throw;
  };
  if (!perr && detail::parse_port(port, p)) {
    eps.emplace_back(literal, p);
  } else {
    tcp::resolver resolver(go::io_context());  // runs getaddrinfo on Asio's resolver thread, not on a P
    try {
      auto results = co_await resolver.async_resolve(host, port, use_go(ctx));
      for (const auto& r : results) eps.push_back(r.endpoint());
    } catch (const go::error& e) {
      timed_out(e);
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
      co_return access::make<conn>(std::make_shared<detail::netfd>(std::move(s)));
    } catch (const go::error& e) {
      timed_out(e);
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
  return dial_impl(std::move(ctx), std::string(network), std::string(address), false);
}

task<conn> dial(std::string_view network, std::string_view address) {
  return dial_impl(context(), std::string(network), std::string(address), false);
}

task<conn> dial_timeout(std::string_view network, std::string_view address, std::chrono::nanoseconds timeout) {
  auto [ctx, cancel] = with_timeout(background(), timeout);
  // The cancel function goes with the task's frame: dropping it would not cancel, but
  // keeping it lets the deadline's timer go as soon as the dial ends.
  auto run = [](context c, cancel_func stop, std::string n, std::string a) -> task<conn> {
    auto result = co_await dial_impl(c, std::move(n), std::move(a), true);
    stop();
    co_return result;
  };
  return run(std::move(ctx), std::move(cancel), std::string(network), std::string(address));
}

// UDP

namespace {

udp::endpoint udp_endpoint(std::string_view address) {
  auto [host, port] = detail::split("write udp", address);
  unsigned short p = 0;
  if (!detail::parse_port(port, p))
    throw error(errc::bad_address, "write udp: address " + std::string(address) + ": invalid port");
  if (host.empty() || host == "localhost") return {asio::ip::address_v4::loopback(), p};
  std::error_code perr;
  auto a = asio::ip::make_address(host, perr);
  if (perr) throw error(errc::bad_address, "write udp: address " + std::string(address) + ": not an IP address");
  return {a, p};
}

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
  return write_to_impl(fd_, buf, udp_endpoint(addr), {});
}
task<std::size_t> packet_conn::write_to(std::span<const std::byte> buf, std::string_view addr, context ctx) const {
  return write_to_impl(fd_, buf, udp_endpoint(addr), std::move(ctx));
}

void packet_conn::close() const {
  if (fd_) detail::close_fd(*fd_);
}
void packet_conn::set_deadline(time_point t) const {
  set_read_deadline(t);
  set_write_deadline(t);
}
void packet_conn::set_read_deadline(time_point t) const {
  detail::set_deadline<udp::socket>(detail::live(fd_, "packet_conn", "set_read_deadline").shared_from_this(), rd, t);
}
void packet_conn::set_write_deadline(time_point t) const {
  detail::set_deadline<udp::socket>(detail::live(fd_, "packet_conn", "set_write_deadline").shared_from_this(), wr, t);
}
std::string packet_conn::local_addr() const { return fd_ ? fd_->local : std::string(); }

packet_conn listen_packet(std::string_view network, std::string_view address) {
  bool every = false;
  auto ep = detail::listen_endpoint<udp>("udp", network, address, every);
  udp::socket s(go::io_context());
  std::error_code err;
  s.open(ep.protocol(), err);
  if (!err && every && ep.address().is_v6()) s.set_option(asio::ip::v6_only(false), err);
  if (!err) s.bind(ep, err);
  if (err) detail::fail("listen", "udp", detail::to_string(ep), step::failed, err);
  return access::make<packet_conn>(std::make_shared<detail::udpfd>(std::move(s)));
}

}  // namespace go::net
