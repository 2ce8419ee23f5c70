// The writer lease: how a process that is about to open a volume for writing learns that
// another live process already serves it, instead of fencing it.
//
// Fencing (the epoch in `root`) is what keeps a volume correct with two writers; the lease
// is politeness on top: a small object `lease` in the bucket, JSON
//
//   {"holder": "<random id>", "host": "...", "pid": 123, "boot_id": "<uuid>",
//    "pid_ns": "pid:[4026531836]", "pid_start_ticks": 4567, "program": "zerofs run",
//    "renewed_unix_ms": 1795000000000, "ttl_ms": 30000}
//
// written with a conditional put (If-None-Match / If-Match), renewed every ttl/3, and
// deleted on a clean close. A writer open finds a lease renewed less than ttl ago by
// another holder and refuses with kUnavailable "volume in use by ..."; `--takeover`
// overrides that (the old writer is then fenced and stops acknowledging writes). A holder
// that died leaves a lease that expires after ttl, except that a holder of this host (same
// host name, boot id and pid namespace) whose pid no longer runs, or now names a process
// that started at another time, is known to be dead and is taken over at once. Readers (read-only,
// checkpoints) neither take nor check it. Clocks of the hosts must agree to well within the ttl.
//
// The lease holds no secret: host name, pid and program, for the error message.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "zerofs/common/result.h"
#include "zerofs/format.h"
#include "zerofs/objstore/object_store.h"

namespace zerofs::server {

// The lease object; its body and its conditional-write rules are docs/format.md §13.
inline constexpr std::string_view kLeaseKey = format::kLeaseObjectName;

struct LeaseOptions {
  std::string program;  // who holds it, for the message another process shows
  std::chrono::milliseconds ttl{30000};
  bool takeover = false;  // take the lease even while another holder renews it
};

class WriterLease {
 public:
  // Takes the lease (see above) and starts renewing it in the background.
  static Result<std::unique_ptr<WriterLease>> Acquire(std::shared_ptr<objstore::ObjectStore> store,
                                                      LeaseOptions options);
  ~WriterLease();
  WriterLease(const WriterLease&) = delete;
  WriterLease& operator=(const WriterLease&) = delete;

  // Stops renewing and deletes the lease (if it is still ours).
  void Release();
  // False once another process took the lease over.
  bool held() const { return held_; }

 private:
  WriterLease(std::shared_ptr<objstore::ObjectStore> store, LeaseOptions options,
              std::string holder, std::string etag);
  void RenewLoop();
  std::string Body() const;

  std::shared_ptr<objstore::ObjectStore> store_;
  LeaseOptions options_;
  std::string holder_;
  std::string etag_;
  std::atomic<bool> held_{true};
  std::mutex mu_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread renewer_;
};

}  // namespace zerofs::server
