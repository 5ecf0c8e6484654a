// The go::blocking thread pool.
#include "runtime/blocking_pool.hpp"

#include <pthread.h>

#include <thread>

namespace go::detail {

blocking_pool::blocking_pool(unsigned max_threads, std::chrono::milliseconds keep_alive, std::string name)
    : max_threads_(max_threads), keep_alive_(keep_alive), name_(std::move(name)) {}

bool blocking_pool::submit(blocking_job* job) {
  std::unique_lock lock(mu_);
  if (stopping_) return false;
  job->next = nullptr;
  (tail_ ? tail_->next : head_) = job;
  tail_ = job;
  if (idle_ > 0) {
    work_cv_.notify_one();
  } else if (threads_ < max_threads_) {
    ++threads_;
    // Detached: a thread announces its exit under mu_ and touches nothing of the pool
    // after releasing it, so stop() can return once threads_ reaches zero.
    std::thread([this] { thread_main(); }).detach();
  }
  return true;
}

void blocking_pool::thread_main() {
  pthread_setname_np(pthread_self(), name_.substr(0, 15).c_str());
  std::unique_lock lock(mu_);
  for (;;) {
    if (!head_) {
      ++idle_;
      bool got = work_cv_.wait_for(lock, keep_alive_, [&] { return head_ != nullptr || stopping_; });
      --idle_;
      if (!got || (stopping_ && !head_)) break;
    }
    if (stopping_) break;
    blocking_job* job = head_;
    head_ = job->next;
    if (!head_) tail_ = nullptr;
    lock.unlock();
    job->run(job);  // readies the job's goroutine; the job may be gone afterwards
    lock.lock();
  }
  --threads_;
  exit_cv_.notify_all();  // under mu_: stop() may destroy the pool once it sees zero
}

void blocking_pool::stop() {
  std::unique_lock lock(mu_);
  stopping_ = true;
  head_ = tail_ = nullptr;  // queued jobs never start; their goroutines are destroyed by the sweep
  work_cv_.notify_all();
  exit_cv_.wait(lock, [&] { return threads_ == 0; });
}

std::uint64_t blocking_pool::threads() const {
  std::lock_guard lock(mu_);
  return threads_;
}

}  // namespace go::detail
