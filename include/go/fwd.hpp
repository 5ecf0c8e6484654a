// Forward declarations of gocoro's public types.
#pragma once

namespace go {
template <class T>
class task;
template <class T>
class join_handle;
class runtime;
struct runtime_options;
struct runtime_stats;
class wait_group;
class error;
enum class errc;
}  // namespace go
