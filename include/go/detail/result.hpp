// result<T>: the outcome of a computation that has not been read yet: nothing, a
// value of T (void, objects, references, move-only types) or an exception.
#pragma once

#include <exception>
#include <memory>
#include <type_traits>
#include <utility>
#include <variant>

namespace go::detail {

template <class T>
class result {
  // References are stored as pointers so the variant can hold them.
  using stored = std::conditional_t<std::is_reference_v<T>, std::add_pointer_t<T>, T>;

 public:
  template <class U>
  void set_value(U&& v) noexcept(std::is_nothrow_constructible_v<stored, U&&>) {
    if constexpr (std::is_reference_v<T>)
      state_.template emplace<1>(std::addressof(v));
    else
      state_.template emplace<1>(std::forward<U>(v));
  }
  void set_exception(std::exception_ptr e) noexcept { state_.template emplace<2>(std::move(e)); }

  bool has_exception() const noexcept { return state_.index() == 2; }
  std::exception_ptr exception() const noexcept { return has_exception() ? std::get<2>(state_) : nullptr; }

  // Moves the value out, or rethrows the stored exception.
  T get() {
    if (state_.index() == 2) std::rethrow_exception(std::get<2>(state_));
    if constexpr (std::is_reference_v<T>)
      return static_cast<T>(*std::get<1>(state_));
    else
      return std::move(std::get<1>(state_));
  }

 private:
  std::variant<std::monostate, stored, std::exception_ptr> state_;
};

template <>
class result<void> {
 public:
  void set_value() noexcept {}
  void set_exception(std::exception_ptr e) noexcept { exception_ = std::move(e); }
  bool has_exception() const noexcept { return exception_ != nullptr; }
  std::exception_ptr exception() const noexcept { return exception_; }
  void get() {
    if (exception_) std::rethrow_exception(exception_);
  }

 private:
  std::exception_ptr exception_;
};

// Run f and store what it returns or throws.
template <class T, class F>
void capture(result<T>& r, F&& f) noexcept {
  try {
    if constexpr (std::is_void_v<T>) {
      std::forward<F>(f)();
      r.set_value();
    } else {
      r.set_value(std::forward<F>(f)());
    }
  } catch (...) {
    r.set_exception(std::current_exception());
  }
}

}  // namespace go::detail
