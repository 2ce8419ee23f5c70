// VfsExportProvider: the NBD exports of a volume, one per regular file in /.nbd/.
//
// Every handshake lists /.nbd/ afresh (ExportAdmin::List), so an export created while the
// server runs -- by `zerofs nbd create`, the control socket, or a file made in /.nbd/ over
// NFS or 9P -- is offered to the next client without a restart, and a deleted one is no
// longer offered (clients already connected keep it until they disconnect). The default
// export (the empty name, as `nbd://host:port` asks for) is the only export when there is
// exactly one; with several, a client must name one.
//
// Each opened export is a BlockDevice over an open handle of its file, used as root:
//   READ          Filesystem::Read (holes read as zeros; bytes past a file that shrank
//                 meanwhile read as zeros too)
//   WRITE         Filesystem::Write; with FUA, then Fsync
//   FLUSH         Fsync: every write completed before it is in the bucket when it answers
//   TRIM          Fallocate(PUNCH_HOLE | KEEP_SIZE): the extents are dropped, the segments'
//                 live bytes fall, and the range reads as zeros
//   WRITE_ZEROES  Fallocate(ZERO_RANGE | KEEP_SIZE), which stores a hole -- fast, so
//                 FAST_ZERO succeeds; with NO_HOLE zeros are written instead (then FAST_ZERO
//                 fails with ENOTSUP, since that is as slow as a write)
//   CACHE         Volume::ReadAhead of the range
// The size is the file's size when the client connected. A read-only volume (replica,
// checkpoint) gives read-only exports. Flush and FUA cover the writes of every connection
// to the same export (Fsync is per file, not per handle), so multi-conn is advertised.
//
// Ownership: holds the Filesystem; devices hold it too, so the filesystem outlives the last
// connection. Thread-safety: every method from any thread, concurrently.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/nbd/export_admin.h"
#include "zerofs/nbd/export_provider.h"
#include "zerofs/vfs/filesystem.h"

namespace zerofs::nbd {

struct VfsExportOptions {
  // Serve every export read-only even on a writable volume.
  bool read_only = false;
  // Block sizes advertised to clients (BlockDeviceCapabilities rules). The engine stores
  // 32 KiB extents; 4 KiB matches what filesystems on the device write.
  std::uint32_t preferred_block_bytes = 4096;
  std::uint32_t max_block_bytes = kDefaultMaxBlockBytes;
};

class VfsExportProvider final : public ExportProvider {
 public:
  // Creates /.nbd/ (root, 0700) if it is missing and the volume is writable.
  static Result<std::shared_ptr<VfsExportProvider>> Create(std::shared_ptr<vfs::Filesystem> fs,
                                                           VfsExportOptions options = {});

  VfsExportProvider(std::shared_ptr<vfs::Filesystem> fs, VfsExportOptions options);

  Result<std::vector<ExportSummary>> List() override;
  Result<OpenedExport> Open(std::string_view name) override;

 private:
  std::shared_ptr<vfs::Filesystem> fs_;
  const VfsExportOptions options_;
  ExportAdmin admin_;
};

}  // namespace zerofs::nbd
