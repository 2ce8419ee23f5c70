// TestVolume: a VfsNfsHandler over a fresh volume on a MemoryStore, the handler the server
// really runs, for the codec and server tests. The root directory is mode 0777 so that the
// test credentials (uid 1000) may create in it.
#pragma once

#include <catch2/catch.hpp>
#include <memory>

#include "../../unit/engine/engine_test_support.h"
#include "zerofs/common/log.h"
#include "zerofs/nfs/vfs_handler.h"
#include "zerofs/vfs/filesystem.h"

namespace zerofs::nfs::test {

class TestVolume {
 public:
  TestVolume() : store_(std::make_shared<objstore::MemoryStore>()) {
    log::SetLevel(log::Level::kWarn);
    testing::InitVolume(*store_);
    auto volume = engine::Volume::Open(testing::TestOptions(store_, cache_.path()));
    INFO(volume.status().ToString());
    REQUIRE(volume.ok());
    volume_ = std::shared_ptr<engine::Volume>(std::move(*volume));
    vfs::FilesystemOptions fs_options;
    fs_options.volume = volume_;
    fs_options.root_mode = 0777;
    auto fs = vfs::Filesystem::Open(std::move(fs_options));
    INFO(fs.status().ToString());
    REQUIRE(fs.ok());
    fs_ = std::shared_ptr<vfs::Filesystem>(std::move(*fs));
    handler_ = std::make_shared<VfsNfsHandler>(fs_);
  }
  ~TestVolume() {
    handler_.reset();
    fs_.reset();
    (void)volume_->Close();
  }
  TestVolume(const TestVolume&) = delete;
  TestVolume& operator=(const TestVolume&) = delete;

  // Shared with the servers and dispatchers of a test, which must go before the volume.
  const std::shared_ptr<VfsNfsHandler>& handler() const { return handler_; }

 private:
  testing::TempDir cache_;
  std::shared_ptr<objstore::MemoryStore> store_;
  std::shared_ptr<engine::Volume> volume_;
  std::shared_ptr<vfs::Filesystem> fs_;
  std::shared_ptr<VfsNfsHandler> handler_;
};

}  // namespace zerofs::nfs::test
