// netpoll: the runtime's asio::io_context and the thread that runs it (Go's netpoll,
// with Asio standing in for epoll).
//
// A goroutine that waits for I/O parks; the operation's completion handler runs on the
// poller thread and only readies the goroutine (onto the global queue), so user code
// never runs on the poller. The io_context and its thread start on first use: a
// runtime without I/O pays nothing.
//
// Shutdown order (sched::stop): workers have exited, so nothing starts new operations;
// then stop() ends the poller thread, so no handler can ready a goroutine that the
// sweep is about to destroy; then the sweep destroys goroutines (their I/O objects
// cancel their operations into the stopped io_context, whose handlers never run); the
// io_context is destroyed last, with the sched, freeing those handlers uninvoked.
#pragma once

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <optional>
#include <string>
#include <thread>

namespace go::detail {

class netpoll {
 public:
  explicit netpoll(const std::string& thread_name);
  ~netpoll();
  netpoll(const netpoll&) = delete;
  netpoll& operator=(const netpoll&) = delete;

  asio::io_context& context() noexcept { return ioc_; }
  void stop() noexcept;  // idempotent

 private:
  asio::io_context ioc_{1};  // one thread runs it
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
};

}  // namespace go::detail
