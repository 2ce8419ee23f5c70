// ExportAdmin: creates, lists, resizes and deletes the block devices of a volume.
//
// Every NBD export of a volume is a regular file in the directory /.nbd/ of its filesystem
// (DESIGN §7): the file's size is the device's size, its data the device's bytes, its holes
// the device's trimmed or never-written ranges. ExportAdmin is the one place that knows
// this layout; `zerofs nbd create|list|resize|delete`, the server's control socket and the
// VfsExportProvider (vfs_export_provider.h) all go through it. Because exports are plain
// files, one made by other means (a file created in /.nbd/ over NFS or 9P) is an export too.
//
// The directory is created on first use, owned by root with mode 0700: a device's bytes
// are as private as a disk's. Every change is durable (Fsync) before the call returns.
// Operations act as root on the filesystem (Credentials::Root()).
//
// Names: 1..255 bytes, no '/' and no NUL, not "." or ".." (a directory entry's rules).
// Sizes: 1 byte .. vfs::kMaxFileSize, a multiple of 512 (the sector every block-device
// client assumes; the Linux nbd driver rounds anything else down).
//
// Thread-safety: as the Filesystem: any method from any thread. Concurrent changes to the
// same name are serialized by the filesystem (one of two creates fails with AlreadyExists).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "zerofs/common/result.h"
#include "zerofs/common/status.h"
#include "zerofs/vfs/filesystem.h"

namespace zerofs::nbd {

// The directory of the exports, below the volume's root.
inline constexpr std::string_view kExportDirName = ".nbd";
inline constexpr std::uint32_t kExportDirMode = 0700;
inline constexpr std::uint32_t kExportFileMode = 0600;
inline constexpr std::uint64_t kExportSizeAlignBytes = 512;

// InvalidArgument naming the broken rule (see above).
Status ValidateExportName(std::string_view name);
Status ValidateExportSize(std::uint64_t size_bytes);

struct ExportInfo {
  std::string name;
  std::uint64_t size_bytes = 0;
  vfs::Ino ino = 0;
};

class ExportAdmin {
 public:
  explicit ExportAdmin(std::shared_ptr<vfs::Filesystem> fs);

  // A new sparse export of `size_bytes` (reads as zeros). AlreadyExists if the name is
  // taken; PermissionDenied (EROFS) on a read-only volume.
  Result<ExportInfo> Create(std::string_view name, std::uint64_t size_bytes);
  // Every export (regular file in /.nbd/), sorted by name; empty when /.nbd/ is missing.
  Result<std::vector<ExportInfo>> List();
  // One export; NotFound if there is none by that name.
  Result<ExportInfo> Get(std::string_view name);
  // Grows (the new range reads as zeros) or shrinks the export. Shrinking discards data,
  // so it is refused with InvalidArgument unless `allow_shrink`. Connected clients keep
  // the size they negotiated until they reconnect.
  Result<ExportInfo> Resize(std::string_view name, std::uint64_t size_bytes,
                            bool allow_shrink = false);
  // Removes the export. Connected clients keep using it until they disconnect; then its
  // storage is released.
  Status Delete(std::string_view name);

  // The inode of /.nbd/, creating it when `create` (and the volume is writable).
  // NotFound when it is missing and `create` is false.
  Result<vfs::Ino> ExportDir(bool create);

 private:
  std::shared_ptr<vfs::Filesystem> fs_;
};

}  // namespace zerofs::nbd
