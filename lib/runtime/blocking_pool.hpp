// blocking_pool: the elastic threads that run go::blocking calls (Go's syscall handoff:
// the call runs on a thread that holds no P; tokio's blocking pool).
//
// Invariants (all protected by mu_): queue_ holds jobs not yet started; threads_ counts
// live pool threads, idle_ those waiting for a job; once stopping_ is set no job is
// accepted or started.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "go/blocking.hpp"
#include "go/detail/os_mutex.hpp"

namespace go::detail {

class blocking_pool {
 public:
  blocking_pool(unsigned max_threads, std::chrono::milliseconds keep_alive, std::string name);
  ~blocking_pool() { stop(); }

  // Queue a job; starts a thread if none is idle and the bound allows. False once
  // stopping (the job will not run).
  bool submit(blocking_job* job);
  // Drop queued jobs, wait for running ones and for every thread to exit.
  void stop();

  std::uint64_t threads() const;

 private:
  void thread_main();

  const unsigned max_threads_;
  const std::chrono::milliseconds keep_alive_;
  const std::string name_;
  mutable os_mutex mu_{lock_rank::blocking};
  std::condition_variable_any work_cv_;  // a job arrived, or stopping
  std::condition_variable_any exit_cv_;  // a thread exited (stop() waits on it)
  blocking_job* head_ = nullptr;     // protected by mu_: FIFO of queued jobs
  blocking_job* tail_ = nullptr;
  unsigned threads_ = 0, idle_ = 0;  // protected by mu_
  bool stopping_ = false;            // protected by mu_
};

}  // namespace go::detail
