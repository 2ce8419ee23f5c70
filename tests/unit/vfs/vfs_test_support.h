// Shared helpers for VFS tests: a Filesystem over a fresh MemoryStore volume with a clock
// the test controls, a few users, errno checks.
#pragma once

#include <chrono>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <memory>
#include <string>
#include <vector>

#include "../engine/engine_test_support.h"
#include "zerofs/common/log.h"
#include "zerofs/vfs/error.h"
#include "zerofs/vfs/filesystem.h"

namespace zerofs::testing {

// Time as the test sets it; each Tick moves it by a second and a nanosecond so that
// successive operations get distinct, predictable stamps.
class TestClock {
 public:
  vfs::Timespec Now() const { return {sec_.load(), nsec_.load()}; }
  void Set(std::int64_t sec, std::uint32_t nsec) {
    sec_ = sec;
    nsec_ = nsec;
  }
  vfs::Timespec Tick() {
    sec_ += 1;
    nsec_ = (nsec_ + 1) % 1000000000U;
    return Now();
  }

 private:
  std::atomic<std::int64_t> sec_{1700000000};
  std::atomic<std::uint32_t> nsec_{0};
};

inline const vfs::Credentials kRoot = vfs::Credentials::Root();
inline const vfs::Credentials kAlice = vfs::Credentials::User(1000, 1000, {100});
inline const vfs::Credentials kBob = vfs::Credentials::User(1001, 1001, {100});
inline const vfs::Credentials kCarol = vfs::Credentials::User(1002, 1002);

class VfsFixture {
 public:
  // `flush_interval`: how long the engine buffers changes before flushing on its own.
  explicit VfsFixture(std::chrono::milliseconds flush_interval = std::chrono::milliseconds(50))
      : store_(std::make_shared<objstore::MemoryStore>()), flush_interval_(flush_interval) {
    log::SetLevel(log::Level::kWarn);
    InitVolume(*store_);
    Open();
  }
  ~VfsFixture() { Close(); }

  vfs::Filesystem& fs() { return *fs_; }
  TestClock& clock() { return *clock_; }
  engine::Volume& volume() { return *volume_; }
  const std::shared_ptr<objstore::MemoryStore>& store() { return store_; }

  void Open(vfs::AtimeMode atime = vfs::AtimeMode::kRelatime) {
    if (caches_.empty()) caches_.push_back(std::make_unique<TempDir>());
    engine::VolumeOptions volume_options = TestOptions(store_, caches_.back()->path());
    volume_options.flush_interval = flush_interval_;
    auto volume = engine::Volume::Open(std::move(volume_options));
    INFO(volume.status().ToString());
    REQUIRE(volume.ok());
    volume_ = std::shared_ptr<engine::Volume>(std::move(*volume));
    vfs::FilesystemOptions options;
    options.volume = volume_;
    options.atime = atime;
    auto clock = clock_;
    options.clock = [clock] { return clock->Now(); };
    auto fs = vfs::Filesystem::Open(std::move(options));
    INFO(fs.status().ToString());
    REQUIRE(fs.ok());
    fs_ = std::move(*fs);
  }
  // Drops the Filesystem without releasing handles (as a crash would), closes the volume
  // after making everything durable.
  void Close() {
    fs_.reset();
    if (volume_) {
      REQUIRE(volume_->SyncAll().ok());
      REQUIRE(volume_->Close().ok());
      volume_.reset();
    }
  }
  // With `fresh_cache` the volume opens with an empty cache directory, so everything is
  // read back from the bucket (snapshot + journal), not from the local index.
  void Reopen(bool fresh_cache = false, vfs::AtimeMode atime = vfs::AtimeMode::kRelatime) {
    Close();
    if (fresh_cache) caches_.push_back(std::make_unique<TempDir>());
    Open(atime);
  }

 private:
  std::shared_ptr<objstore::MemoryStore> store_;
  std::chrono::milliseconds flush_interval_;
  std::vector<std::unique_ptr<TempDir>> caches_;
  std::shared_ptr<TestClock> clock_ = std::make_shared<TestClock>();
  std::shared_ptr<engine::Volume> volume_;
  std::unique_ptr<vfs::Filesystem> fs_;
};

inline const Status& StatusOf(const Status& s) {
  return s;
}
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}
template <typename T>
int Errno(const T& r) {
  return vfs::ErrnoOf(StatusOf(r));
}

}  // namespace zerofs::testing

namespace Catch {
template <>
struct StringMaker<zerofs::vfs::Timespec> {
  static std::string convert(const zerofs::vfs::Timespec& t) {
    return std::to_string(t.sec) + "." + std::to_string(t.nsec);
  }
};
}  // namespace Catch

// The errno of a Status or Result, compared by name in failure messages.
#define CHECK_ERRNO(expr, err)                                                       \
  do {                                                                               \
    const int zerofs_errno_ = ::zerofs::testing::Errno(expr);                        \
    INFO(#expr " -> " << ::zerofs::vfs::ErrnoName(zerofs_errno_));                   \
    CHECK(::zerofs::vfs::ErrnoName(zerofs_errno_) == ::zerofs::vfs::ErrnoName(err)); \
  } while (false)
#define REQUIRE_OK(expr)                                           \
  do {                                                             \
    auto&& zerofs_ok_ = (expr);                                    \
    INFO(#expr " -> " << ::zerofs::testing::StatusOf(zerofs_ok_)); \
    REQUIRE(zerofs_ok_.ok());                                      \
  } while (false)
