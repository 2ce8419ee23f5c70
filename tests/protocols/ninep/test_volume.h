// TestVolume: a VfsHandler over a fresh volume on a MemoryStore, the handler zerofs-9p
// really runs, for the session, server and client tests. Declare it before the servers
// that share its handler: they must stop before the volume closes.
#pragma once

#include <memory>

#include "../../unit/vfs/vfs_test_support.h"
#include "zerofs/ninep/vfs_handler.h"

namespace zerofs::ninep::test {

class TestVolume {
 public:
  TestVolume() {
    VfsHandlerOptions options;
    options.lookup_groups = false;  // the tests' uids mean nothing on this machine
    // The fixture owns the Filesystem; the handler only borrows it.
    std::shared_ptr<vfs::Filesystem> fs(&vfs_.fs(), [](vfs::Filesystem*) {});
    handler_ = std::make_shared<VfsHandler>(fs, options);
  }
  ~TestVolume() { handler_.reset(); }
  TestVolume(const TestVolume&) = delete;
  TestVolume& operator=(const TestVolume&) = delete;

  const std::shared_ptr<VfsHandler>& handler() const { return handler_; }

 private:
  zerofs::testing::VfsFixture vfs_;
  std::shared_ptr<VfsHandler> handler_;
};

}  // namespace zerofs::ninep::test
