#include "cache/prefetch_pool.h"

#include <algorithm>
#include <utility>

namespace zerofs::cache {

PrefetchPool::PrefetchPool(std::size_t threads, std::size_t max_queued)
    : max_queued_(std::max<std::size_t>(max_queued, 1)) {
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Loop(); });
}

PrefetchPool::~PrefetchPool() {
  std::deque<std::function<void()>> dropped;  // destroyed without the lock: tasks may lock
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    dropped.swap(queue_);
  }
  work_cv_.notify_all();
  for (std::thread& t : threads_) t.join();
}

std::size_t PrefetchPool::Submit(std::function<void()> task) {
  std::size_t dropped = 0;
  std::function<void()> oldest;  // destroyed after the lock is released
  {
    std::lock_guard lock(mu_);
    if (stopping_ || threads_.empty()) return 1;
    if (queue_.size() >= max_queued_) {
      oldest = std::move(queue_.front());
      queue_.pop_front();
      dropped = 1;
    }
    queue_.push_back(std::move(task));
  }
  work_cv_.notify_one();
  return dropped;
}

void PrefetchPool::WaitIdle() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [this] { return (queue_.empty() || threads_.empty()) && running_ == 0; });
}

void PrefetchPool::Loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) break;
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    try {
      task();
    } catch (...) {
      // Read-ahead is advice; a later read reports whatever went wrong.
    }
    task = nullptr;
    lock.lock();
    --running_;
    idle_cv_.notify_all();
  }
  idle_cv_.notify_all();
}

}  // namespace zerofs::cache
