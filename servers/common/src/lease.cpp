// The writer lease; see lease.h.
#include "zerofs/server/lease.h"

#include <unistd.h>

#include <array>
#include <nlohmann/json.hpp>
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
      if (age < ttl && !options.takeover) {
        return Status::Unavailable(
            "volume in use by " + Describe(lease, age) +
            "; stop that server (or wait " + std::to_string((ttl - age) / 1000 + 1) +
            " s if it died), or pass --takeover to fence it");
      }
      if (age < ttl) {
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
