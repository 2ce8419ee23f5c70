// The writer lease; see lease.h.
#include "zerofs/server/lease.h"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "zerofs/common/coding.h"
#include "zerofs/common/log.h"
#include "zerofs/crypto/random.h"

namespace zerofs::server {

namespace {

using nlohmann::json;

std::int64_t NowUnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string RandomHolder() {
  std::array<std::uint8_t, 16> raw{};
  crypto::SystemRandom().Fill(raw);
  return coding::HexEncode(raw);
}

std::string HostName() {
  char name[256] = {};
  if (::gethostname(name, sizeof(name) - 1) != 0) return "?";
  return name;
}

// The first line of a small file under /proc, or "" if it cannot be read.
std::string ReadLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return {};
  return line;
}

// Identifies this boot of this machine: a pid is only meaningful within one boot.
std::string BootId() {
  return ReadLine("/proc/sys/kernel/random/boot_id");
}

// Identifies this process's pid namespace ("pid:[4026531836]"): two containers on one host
// share the boot id and may share a host name, but not the meaning of a pid.
std::string PidNamespace() {
  char buf[64] = {};
  const ssize_t n = ::readlink("/proc/self/ns/pid", buf, sizeof(buf) - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// When process `pid` started, in clock ticks after boot (field 22 of /proc/PID/stat), or -1
// if there is no such process. Together with the pid it names one process: a pid that was
// reused by a later process has another start time.
std::int64_t StartTicks(std::int64_t pid) {
  const std::string stat = ReadLine("/proc/" + std::to_string(pid) + "/stat");
  // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses; fields after the
  // last ')' are plain. STATE is field 3, so the start time is the 20th after ')'.
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  for (int i = 3; i <= 22; ++i) {
    if (!(fields >> field)) return -1;
  }
  std::int64_t ticks = -1;
  try {
    ticks = std::stoll(field);
  } catch (...) {
    return -1;
  }
  return ticks;
}

// True if the lease was written by a process of this host, this boot and this pid namespace
// that no longer runs: it died without releasing the lease (SIGKILL, the OOM killer, a
// crash), so nobody renews it and waiting for the ttl would only delay a restart. A lease
// without these fields (or of another host) is never judged dead here.
bool HolderIsGoneFromThisHost(const json& lease) {
  const std::string boot = lease.value("boot_id", std::string());
  const std::string ns = lease.value("pid_ns", std::string());
  const std::int64_t pid = lease.value("pid", std::int64_t{0});
  if (boot.empty() || ns.empty() || pid <= 0) return false;
  if (lease.value("host", std::string()) != HostName() || boot != BootId() ||
      ns != PidNamespace()) {
    return false;
  }
  if (pid == static_cast<std::int64_t>(::getpid())) return false;  // this very process
  if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) return true;
  const std::int64_t recorded = lease.value("pid_start_ticks", std::int64_t{-1});
  const std::int64_t now = StartTicks(pid);
  return recorded >= 0 && now >= 0 && now != recorded;  // the pid now names another process
}

// "zerofs run on host1 (pid 123), renewed 4 s ago"
std::string Describe(const json& lease, std::int64_t age_ms) {
  return lease.value("program", std::string("a zerofs server")) + " on " +
         lease.value("host", std::string("?")) + " (pid " +
         std::to_string(lease.value("pid", 0)) + "), lease renewed " +
         std::to_string(age_ms / 1000) + " s ago";
}

}  // namespace

WriterLease::WriterLease(std::shared_ptr<objstore::ObjectStore> store, LeaseOptions options,
                         std::string holder, std::string etag)
    : store_(std::move(store)),
      options_(std::move(options)),
      holder_(std::move(holder)),
      etag_(std::move(etag)) {
  renewer_ = std::thread([this] { RenewLoop(); });
}

WriterLease::~WriterLease() { Release(); }

std::string WriterLease::Body() const {
  return json{{"holder", holder_},
              {"host", HostName()},
              {"pid", static_cast<std::int64_t>(::getpid())},
              {"boot_id", BootId()},
              {"pid_ns", PidNamespace()},
              {"pid_start_ticks", StartTicks(::getpid())},
              {"program", options_.program},
              {"renewed_unix_ms", NowUnixMs()},
              {"ttl_ms", options_.ttl.count()}}
      .dump();
}

Result<std::unique_ptr<WriterLease>> WriterLease::Acquire(
    std::shared_ptr<objstore::ObjectStore> store, LeaseOptions options) {
  const std::string holder = RandomHolder();
  auto current = store->Get(kLeaseKey);
  objstore::PutOptions put = objstore::PutOptions::IfNoneMatch();
  if (current.ok()) {
    const json lease = json::parse(current->data, nullptr, /*allow_exceptions=*/false);
    if (lease.is_object()) {
      const std::int64_t age = NowUnixMs() - lease.value("renewed_unix_ms", std::int64_t{0});
      const std::int64_t ttl = lease.value("ttl_ms", std::int64_t{30000});
      const bool dead = age < ttl && HolderIsGoneFromThisHost(lease);
      if (dead) {
        ZEROFS_LOG(kWarn) << "the writer lease names " << Describe(lease, age)
                          << ", which no longer runs on this host; taking the volume over";
      } else if (age < ttl && !options.takeover) {
        return Status::Unavailable("volume in use by " + Describe(lease, age) +
                                   "; stop that server (or wait " +
                                   std::to_string((ttl - age) / 1000 + 1) +
                                   " s if it died), or pass --takeover to fence it");
      }
      if (age < ttl && !dead) {
        ZEROFS_LOG(kWarn) << "taking the volume over from " << Describe(lease, age)
                          << "; it will be fenced";
      }
    }
    put = objstore::PutOptions::IfMatch(current->info.etag);
  } else if (current.status().code() != StatusCode::kNotFound) {
    return current.status().WithContext("reading the writer lease");
  }
  auto lease = std::unique_ptr<WriterLease>(
      new WriterLease(store, options, holder, std::string()));
  auto written = store->Put(kLeaseKey, lease->Body(), put);
  if (!written.ok()) {
    lease->held_ = false;
    lease->Release();
    if (written.status().code() == StatusCode::kPreconditionFailed) {
      return Status::Unavailable(
          "volume in use: another process took the writer lease at the same moment");
    }
    return written.status().WithContext("writing the writer lease");
  }
  {
    std::lock_guard<std::mutex> lock(lease->mu_);
    lease->etag_ = written->etag;
  }
  return lease;
}

void WriterLease::RenewLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait_for(lock, options_.ttl / 3, [this] { return stopping_; });
    if (stopping_) return;
    if (!held_ || etag_.empty()) continue;
    const std::string etag = etag_;
    lock.unlock();
    auto renewed = store_->Put(kLeaseKey, Body(), objstore::PutOptions::IfMatch(etag));
    lock.lock();
    if (renewed.ok()) {
      etag_ = renewed->etag;
    } else if (renewed.status().code() == StatusCode::kPreconditionFailed ||
               renewed.status().code() == StatusCode::kNotFound) {
      held_ = false;
      ZEROFS_LOG(kError) << "the writer lease was taken over by another process; this "
                            "writer will be fenced";
    } else {
      ZEROFS_LOG(kWarn) << "renewing the writer lease: " << renewed.status();
    }
  }
}

void WriterLease::Release() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (renewer_.joinable()) renewer_.join();
  if (!held_ || etag_.empty()) return;
  // Only our own lease: someone who took over keeps theirs.
  auto current = store_->Head(kLeaseKey);
  if (current.ok() && current->etag == etag_) {
    Status deleted = store_->Delete(kLeaseKey);
    if (!deleted.ok()) ZEROFS_LOG(kWarn) << "deleting the writer lease: " << deleted;
  }
  held_ = false;
}

}  // namespace zerofs::server
