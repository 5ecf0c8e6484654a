// go::select: Go's select statement, over receive, send and default cases; and a dynamic
// form over a runtime list of cases (Go's reflect.Select).
#pragma once

#include <array>
#include <coroutine>
#include <cstdint>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "go/chan.hpp"
#include "go/detail/select_core.hpp"

namespace go {

// A receive case: `go::recv(ch)`; its result is std::optional<T> (nullopt: closed).
//
// A case borrows the channel of the handle it was made from, or owns it when made from
// a temporary handle (`go::recv(go::after(d))`, `go::recv(go::make_chan<int>())`): the
// temporary's reference moves into the case (no atomic), so a select built from
// temporaries and awaited later still has its channels.
template <class T>
class recv_case {
 public:
  using result_type = std::optional<T>;
  explicit recv_case(detail::chan_core* c) noexcept : c_(c) {}
  explicit recv_case(detail::chan_ref owned) noexcept : c_(owned.get()), owned_(std::move(owned)) {}
  recv_case(recv_case&& o) noexcept : c_(o.c_), owned_(std::move(o.owned_)) {}

  detail::scase make_case() noexcept { return {c_, slot_.ptr(), false}; }
  result_type take(bool received) noexcept { return received ? result_type(slot_.take()) : std::nullopt; }
  void discard(bool received) noexcept {
    if (received) slot_.destroy();
  }

 private:
  detail::chan_core* c_;
  detail::chan_ref owned_;  // null when borrowed
  detail::elem_slot<T> slot_;
};

// A send case: `go::send(ch, v)`; v is moved into the select and sent only if this case
// is chosen.
template <class T>
class send_case {
 public:
  using result_type = std::monostate;
  template <class U>
  send_case(detail::chan_core* c, U&& v) : c_(c), value_(std::forward<U>(v)) {}
  template <class U>
  send_case(detail::chan_ref owned, U&& v) : c_(owned.get()), owned_(std::move(owned)), value_(std::forward<U>(v)) {}

  detail::scase make_case() noexcept { return {c_, &value_, true}; }
  result_type take(bool) noexcept { return {}; }
  void discard(bool) noexcept {}

 private:
  detail::chan_core* c_;
  detail::chan_ref owned_;  // null when borrowed
  T value_;
};

// The default case: `go::default_case`. With it, select never blocks.
struct default_case_t {
  using result_type = std::monostate;
};
inline constexpr default_case_t default_case{};

// go::recv(ch): ch is a chan<T>, a recv_only<T> or a ctx's done(). A named handle is
// borrowed (it must outlive the select); a temporary one is owned by the case.
template <class Ch>
[[nodiscard]] auto recv(Ch&& ch) noexcept {
  using T = typename std::decay_t<decltype(ch.try_recv().value)>::value_type;
  if constexpr (std::is_lvalue_reference_v<Ch>)
    return recv_case<T>(detail::chan_access::core(ch));
  else  // a temporary (a const one is copied: one atomic)
    return recv_case<T>(detail::chan_access::ref(std::forward<Ch>(ch)));
}
template <class T, class U>
[[nodiscard]] send_case<T> send(const chan<T>& ch, U&& v) {
  return send_case<T>(detail::chan_access::core(ch), std::forward<U>(v));
}
template <class T, class U>
[[nodiscard]] send_case<T> send(const send_only<T>& ch, U&& v) {
  return send_case<T>(detail::chan_access::core(ch), std::forward<U>(v));
}
template <class T, class U>
[[nodiscard]] send_case<T> send(chan<T>&& ch, U&& v) {
  return send_case<T>(detail::chan_access::ref(std::move(ch)), std::forward<U>(v));
}
template <class T, class U>
[[nodiscard]] send_case<T> send(send_only<T>&& ch, U&& v) {
  return send_case<T>(detail::chan_access::ref(std::move(ch)), std::forward<U>(v));
}

// What a select did: which case ran (its position in the argument list) and, for a
// receive case, what it received.
template <class... Cases>
class select_result {
 public:
  std::size_t index() const noexcept { return index_; }
  template <std::size_t I>
  bool is() const noexcept {
    return index_ == I;
  }
  // The result of case I (std::optional<T> for a receive case); valid if is<I>().
  template <std::size_t I>
  auto& get() noexcept {
    return std::get<I>(results_);
  }

 private:
  template <class...>
  friend class select_awaiter;
  std::size_t index_ = 0;
  std::tuple<typename Cases::result_type...> results_;
};

// Suspends: only if no case is ready and there is no default case. Among the ready
//   cases one is chosen uniformly at random; with a default case, select never blocks
//   and decides on an atomic snapshot of all its channels. Cases on nil channels are
//   never ready. A channel may appear in several cases, as send and as receive; a
//   select never pairs its own send with its own receive.
// Resumes: readied by the goroutine whose operation completed one case (on that
//   goroutine's P), or by close. Exactly one case completes, even when several
//   channels become ready at once.
// Close: a receive case on a closed channel is ready and gives std::nullopt; a send
//   case on a closed channel throws go::error(closed_channel), as Go panics.
// Shutdown: a goroutine parked in select is destroyed by runtime::stop and leaves
//   every channel's queue.
// Thread safety: a select is one goroutine's; its channels are shared as usual.
template <class... Cases>
class [[nodiscard]] select_awaiter {
  static constexpr std::array<bool, sizeof...(Cases)> is_default{std::is_same_v<Cases, default_case_t>...};  // (select() has none)
  static constexpr std::size_t defaults = (std::size_t{0} + ... + std::is_same_v<Cases, default_case_t>);
  static constexpr std::size_t n = sizeof...(Cases) - defaults;
  static_assert(defaults <= 1, "go::select: at most one default case");
  static_assert(n < 0xffff, "go::select: too many cases");

 public:
  template <class... A>
  explicit select_awaiter(A&&... cs) : cases_(std::forward<A>(cs)...) {}
  select_awaiter(const select_awaiter&) = delete;
  ~select_awaiter() {
    core_.cancel();
    if (!done_) discard_all();
  }

  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    std::size_t k = 0;
    std::apply([&](auto&... c) { (bind_case(c, k), ...); }, cases_);
    core_.bind(scases_.data(), waiters_.data(), order_.data(), static_cast<std::uint16_t>(n), defaults != 0);
    if (!core_.start(h)) return false;
    detail::note_suspension(h, GO_SUSPENSION_PC());
    return true;
  }
  select_result<Cases...> await_resume() {
    core_.finish();
    select_result<Cases...> r;
    done_ = true;
    take_results(r, std::index_sequence_for<Cases...>{});
    return r;
  }

 private:
  template <class C>
  void bind_case(C& c, std::size_t& k) {
    if constexpr (!std::is_same_v<C, default_case_t>) scases_[k++] = c.make_case();
  }
  // Map the core's case number (defaults excluded) to the argument position.
  static constexpr std::size_t position_of(std::size_t core_index) {
    for (std::size_t i = 0, k = 0; i < sizeof...(Cases); ++i) {
      if (is_default[i]) {
        if (core_index == n) return i;
        continue;
      }
      if (k++ == core_index) return i;
    }
    return sizeof...(Cases);
  }
  template <std::size_t... I>
  void take_results(select_result<Cases...>& r, std::index_sequence<I...>) {
    r.index_ = position_of(core_.index());
    ((r.index_ == I ? (void)(std::get<I>(r.results_) = take_case(std::get<I>(cases_))) : (void)0), ...);
  }
  template <class C>
  typename C::result_type take_case(C& c) {
    if constexpr (std::is_same_v<C, default_case_t>)
      return {};
    else
      return c.take(core_.received());
  }
  void discard_all() {
    if (core_.index() == detail::select_core::none) return;
    std::size_t pos = position_of(core_.index());
    std::size_t i = 0;
    std::apply([&](auto&... c) { ((i++ == pos ? discard_case(c) : void()), ...); }, cases_);
  }
  template <class C>
  void discard_case(C& c) {
    if constexpr (!std::is_same_v<C, default_case_t>) c.discard(core_.received());
  }

  std::tuple<Cases...> cases_;
  std::array<detail::scase, n> scases_{};
  std::array<detail::chan_waiter, n> waiters_{};
  std::array<std::uint16_t, 2 * n> order_{};
  detail::select_core core_;
  bool done_ = false;
};

// co_await go::select(go::recv(a), go::send(b, v), go::default_case) -> select_result.
template <class... Cases>
[[nodiscard]] select_awaiter<std::decay_t<Cases>...> select(Cases&&... cases) {
  return select_awaiter<std::decay_t<Cases>...>(std::forward<Cases>(cases)...);
}

// -- The dynamic form (Go's reflect.Select): a runtime list of cases of one type. --

// One case of the dynamic form. It holds a reference to its channel (as reflect.Value
// does), so the list may outlive the handles it was made from.
template <class T>
class select_case {
 public:
  static select_case recv(recv_only<T> ch) { return select_case(detail::chan_access::ref(std::move(ch)), false); }
  static select_case recv(chan<T> ch) { return select_case(detail::chan_access::ref(std::move(ch)), false); }
  template <class U>
  static select_case send(send_only<T> ch, U&& v) {
    select_case c(detail::chan_access::ref(std::move(ch)), true);
    c.value_.emplace(std::forward<U>(v));
    return c;
  }
  template <class U>
  static select_case send(chan<T> ch, U&& v) {
    return send(send_only<T>(std::move(ch)), std::forward<U>(v));
  }

 private:
  template <class>
  friend class dynamic_select_awaiter;
  select_case(detail::chan_ref c, bool is_send) : c_(std::move(c)), is_send_(is_send) {}
  detail::chan_ref c_;
  bool is_send_;
  std::optional<T> value_;  // the value to send
};

template <class T>
struct dynamic_select_result {
  std::size_t index;         // the case that ran; cases.size() for the default
  std::optional<T> value;    // for a receive case: the value, or nullopt if closed
};

template <class T>
class [[nodiscard]] dynamic_select_awaiter {
 public:
  dynamic_select_awaiter(std::vector<select_case<T>>& cases, bool with_default)
      : cases_(cases), with_default_(with_default) {
    if (cases.size() >= 0xffff) throw error(errc::invalid_argument, "go::select: too many cases");
  }
  dynamic_select_awaiter(const dynamic_select_awaiter&) = delete;
  ~dynamic_select_awaiter() {
    core_.cancel();
    if (!done_ && core_.index() < cases_.size() && !cases_[core_.index()].is_send_ && core_.received())
      slots_[core_.index()].destroy();
  }

  bool await_ready() const noexcept { return false; }
  template <class P>
  bool await_suspend(std::coroutine_handle<P> h) {
    std::size_t n = cases_.size();
    scases_.resize(n);
    waiters_.resize(n);
    order_.resize(2 * n);
    slots_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      auto& c = cases_[i];
      scases_[i] = {c.c_.get(), c.is_send_ ? static_cast<void*>(&*c.value_) : slots_[i].ptr(), c.is_send_};
    }
    core_.bind(scases_.data(), waiters_.data(), order_.data(), static_cast<std::uint16_t>(n), with_default_);
    if (!core_.start(h)) return false;
    detail::note_suspension(h, GO_SUSPENSION_PC());
    return true;
  }
  dynamic_select_result<T> await_resume() {
    core_.finish();
    done_ = true;
    dynamic_select_result<T> r{core_.index(), std::nullopt};
    if (r.index < cases_.size() && !cases_[r.index].is_send_ && core_.received()) r.value.emplace(slots_[r.index].take());
    return r;
  }

 private:
  std::vector<select_case<T>>& cases_;
  bool with_default_;
  std::vector<detail::scase> scases_;
  std::vector<detail::chan_waiter> waiters_;
  std::vector<std::uint16_t> order_;
  std::vector<detail::elem_slot<T>> slots_;
  detail::select_core core_;
  bool done_ = false;
};

// co_await go::select(cases[, go::default_case]) over a std::vector<go::select_case<T>>.
// A sent value is consumed only if its case ran.
template <class T>
[[nodiscard]] dynamic_select_awaiter<T> select(std::vector<select_case<T>>& cases) {
  return dynamic_select_awaiter<T>(cases, false);
}
template <class T>
[[nodiscard]] dynamic_select_awaiter<T> select(std::vector<select_case<T>>& cases, default_case_t) {
  return dynamic_select_awaiter<T>(cases, true);
}

}  // namespace go
