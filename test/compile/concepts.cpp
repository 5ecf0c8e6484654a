// Compile-time properties of the public types.
#include <go/go.hpp>
#include <type_traits>

static_assert(!std::is_copy_constructible_v<go::task<int>>, "a task is move-only");
static_assert(std::is_nothrow_move_constructible_v<go::task<int>>);
static_assert(!std::is_copy_constructible_v<go::join_handle<int>>, "a join handle is move-only");
static_assert(std::is_nothrow_move_constructible_v<go::join_handle<void>>);
static_assert(!std::is_copy_constructible_v<go::wait_group> && !std::is_move_constructible_v<go::wait_group>);
static_assert(std::is_default_constructible_v<go::wait_group>, "a zero wait_group is ready to use");
static_assert(std::is_base_of_v<std::system_error, go::error>);
static_assert(std::is_same_v<decltype(go::spawn(std::declval<go::task<int>>())), go::join_handle<int>>);

// A temporary timer's channel belongs to a timer that stops at once: taking it does not
// compile (a named timer's does).
template <class T>
concept has_channel = requires(T&& t) { std::forward<T>(t).c(); };
static_assert(has_channel<go::timer&> && !has_channel<go::timer>);
static_assert(has_channel<go::ticker&> && !has_channel<go::ticker>);
