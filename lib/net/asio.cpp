// go::io_context and the helpers of go/asio.hpp.
#include "go/asio.hpp"

#include <asio/post.hpp>

#include "runtime/netpoll.hpp"
#include "runtime/sched.hpp"

namespace go {

namespace detail {

asio::io_context& current_io_context() { return current_sched_or_throw("go::io_context")->io.get().context(); }

void post_cancel(std::shared_ptr<asio_cancel> c) noexcept {
  try {
    asio::io_context& ioc = *c->ioc;
    asio::post(ioc, [c = std::move(c)] { c->signal.emit(asio::cancellation_type::all); });
  } catch (...) {
    // Out of memory: the operation is not canceled; it completes in its own time.
  }
}

}  // namespace detail

asio::io_context& io_context() { return detail::current_io_context(); }

}  // namespace go
