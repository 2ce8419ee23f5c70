// Lifecycle: the Start/Stop/Wait state machine every protocol server follows. Start may
// happen once; Stop may be requested any number of times from any thread (the first one
// counts); Wait blocks until Stop was requested and lets exactly one caller go on to tear
// the server down.
//
// Owns no resources, only the three flags. Thread-safety: every member function may be
// called from any thread.
#pragma once

#include <condition_variable>
#include <mutex>

#include "zerofs/common/status.h"

namespace zerofs::server {

class Lifecycle {
 public:
  // Internal error when the server was started before.
  Status BeginStart() {
    std::lock_guard lock(mu_);
    if (started_) return Status::Internal("server already started");
    started_ = true;
    return Status::Ok();
  }

  // True for the first call only; the caller then stops accepting and closes connections.
  bool BeginStop() {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return false;
      stopping_ = true;
    }
    cv_.notify_all();
    return true;
  }

  // Blocks until Stop was requested and returns true, once: the caller then tears down.
  // False at once when there is nothing to tear down (`running` is false: the server never
  // started, or its start failed) or another caller already went on.
  bool BeginWait(bool running) {
    std::unique_lock lock(mu_);
    if (waited_) return false;
    waited_ = true;
    if (!started_ || !running) return false;
    cv_.wait(lock, [&] { return stopping_; });
    return true;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool started_ = false;   // GUARDED_BY(mu_)
  bool stopping_ = false;  // GUARDED_BY(mu_)
  bool waited_ = false;    // GUARDED_BY(mu_)
};

}  // namespace zerofs::server
