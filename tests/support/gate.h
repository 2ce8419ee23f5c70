// Gate: a point test threads (a handler, a device call) wait at until the test opens it,
// so a test can hold some requests in flight while others complete. Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace zerofs::testing {

class Gate {
 public:
  void Open() {
    std::lock_guard lock(mu_);
    open_ = true;
    cv_.notify_all();
  }
  // Blocks the calling thread until Open().
  void Pass() {
    std::unique_lock lock(mu_);
    ++waiting_;
    cv_.notify_all();
    cv_.wait(lock, [&] { return open_; });
    --waiting_;
  }
  // Waits until `n` threads are blocked at the gate; false after a timeout.
  bool WaitForWaiters(int n, std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] { return waiting_ >= n; });
  }
  int waiting() {
    std::lock_guard lock(mu_);
    return waiting_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
  int waiting_ = 0;
};

}  // namespace zerofs::testing
