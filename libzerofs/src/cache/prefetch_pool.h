// PrefetchPool: a few threads that run read-ahead tasks from a bounded queue.
//
// Read-ahead is advice: when the queue is full, the oldest queued task is dropped to make
// room for the new one (a sequential reader has moved on past what it asked for first).
// Tasks must not throw; one that does is dropped silently, like a failed prefetch.
//
// Ownership: owned by a CachedExtentReader; its destructor drops queued tasks and joins the
// threads after the running tasks return. Internal to libzerofs.
// Thread-safety: Submit and WaitIdle may be called concurrently from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace zerofs::cache {

class PrefetchPool {
 public:
  PrefetchPool(std::size_t threads, std::size_t max_queued);
  ~PrefetchPool();

  PrefetchPool(const PrefetchPool&) = delete;
  PrefetchPool& operator=(const PrefetchPool&) = delete;

  // Queues `task`; returns how many older tasks were dropped to make room (0 or 1).
  std::size_t Submit(std::function<void()> task);

  // Returns once the queue is empty and no task runs (tasks submitted meanwhile included).
  void WaitIdle();

 private:
  void Loop();

  const std::size_t max_queued_;
  std::mutex mu_;
  std::condition_variable work_cv_;          // a task was queued, or stopping
  std::condition_variable idle_cv_;          // a task finished
  std::deque<std::function<void()>> queue_;  // GUARDED_BY(mu_)
  std::size_t running_ = 0;                  // GUARDED_BY(mu_)
  bool stopping_ = false;                    // GUARDED_BY(mu_)
  std::vector<std::thread> threads_;         // set in the constructor only
};

}  // namespace zerofs::cache
