// VfsExportProvider and the BlockDevice over a file of /.nbd/; see vfs_export_provider.h.
#include "zerofs/nbd/vfs_export_provider.h"

#include <algorithm>
#include <cerrno>
#include <string>
#include <utility>

#include "zerofs/common/log.h"
#include "zerofs/vfs/error.h"

namespace zerofs::nbd {
namespace {

// Zeros written per call for WRITE_ZEROES with NO_HOLE: bounds the memory one request
// takes however long its range (the engine compresses them to almost nothing).
constexpr std::uint64_t kZeroWriteChunkBytes = 1ULL << 20;

// What a Filesystem failure means to a block-device client: the transmission layer maps
// these codes to NBD errors (EPERM, ENOSPC, ENOTSUP, EIO). VFS errnos that would otherwise
// read as EINVAL (a caller mistake) are I/O errors here: the request was already checked.
Status DeviceStatus(const Status& status, std::string_view what) {
  if (status.ok()) return status;
  const std::string message = std::string(what) + ": " + status.message();
  switch (vfs::ErrnoOf(status)) {
    case EROFS:
    case EPERM:
    case EACCES: return Status::PermissionDenied(message);
    case ENOSPC:
    case EDQUOT:
    case EFBIG: return Status::NoSpace(message);
    case EOPNOTSUPP: return Status::NotSupported(message);
    default: return Status::IoError(message);
  }
}

class VfsBlockDevice final : public BlockDevice {
 public:
  VfsBlockDevice(std::shared_ptr<vfs::Filesystem> fs, std::string name, vfs::Ino ino,
                 vfs::HandleId handle, std::uint64_t size_bytes, BlockDeviceCapabilities caps)
      : fs_(std::move(fs)),
        name_(std::move(name)),
        ino_(ino),
        handle_(handle),
        size_bytes_(size_bytes),
        caps_(caps) {}

  ~VfsBlockDevice() override {
    Status released = fs_->Release(handle_);
    if (!released.ok()) {
      ZEROFS_LOG(kWarn) << "nbd: closing export " << name_ << ": " << released;
    }
  }
  VfsBlockDevice(const VfsBlockDevice&) = delete;
  VfsBlockDevice& operator=(const VfsBlockDevice&) = delete;

  std::uint64_t Size() const override { return size_bytes_; }
  BlockDeviceCapabilities Capabilities() const override { return caps_; }

  Result<std::string> Read(std::uint64_t offset, std::uint32_t length) override {
    auto data = fs_->Read(handle_, offset, length);
    if (!data.ok()) return DeviceStatus(data.status(), "read of export " + name_);
    // The file may have been shrunk under a connected client: past its end is zeros, as
    // the device's size promised bytes there.
    if (data->size() < length) data->resize(length, '\0');
    return std::move(*data);
  }

  Status Write(std::uint64_t offset, std::string_view data, bool fua) override {
    while (!data.empty()) {
      auto written = fs_->Write(handle_, offset, data);
      if (!written.ok()) return DeviceStatus(written.status(), "write to export " + name_);
      if (*written == 0) return Status::NoSpace("write to export " + name_ + ": no progress");
      offset += *written;
      data.remove_prefix(*written);
    }
    return fua ? Flush() : Status::Ok();
  }

  Status Flush() override {
    return DeviceStatus(fs_->Fsync(handle_, /*datasync=*/true), "flush of export " + name_);
  }

  Status Trim(std::uint64_t offset, std::uint32_t length, bool fua) override {
    ZEROFS_RETURN_IF_ERROR(DeviceStatus(
        fs_->Fallocate(handle_, vfs::kFallocPunchHole | vfs::kFallocKeepSize, offset, length),
        "trim of export " + name_));
    return fua ? Flush() : Status::Ok();
  }

  Status WriteZeroes(std::uint64_t offset, std::uint32_t length, bool no_hole, bool fast_zero,
                     bool fua) override {
    if (no_hole) {
      // Keeping the range allocated means storing zero extents: as slow as any write.
      if (fast_zero) {
        return Status::NotSupported("write-zeroes without a hole is not faster than a write");
      }
      const std::string zeros(std::min<std::uint64_t>(length, kZeroWriteChunkBytes), '\0');
      std::uint64_t done = 0;
      while (done < length) {
        const std::uint64_t n = std::min<std::uint64_t>(length - done, zeros.size());
        ZEROFS_RETURN_IF_ERROR(
            Write(offset + done, std::string_view(zeros).substr(0, n), /*fua=*/false));
        done += n;
      }
    } else {
      ZEROFS_RETURN_IF_ERROR(DeviceStatus(
          fs_->Fallocate(handle_, vfs::kFallocZeroRange | vfs::kFallocKeepSize, offset, length),
          "write-zeroes on export " + name_));
    }
    return fua ? Flush() : Status::Ok();
  }

  Status Cache(std::uint64_t offset, std::uint32_t length) override {
    fs_->volume().ReadAhead(ino_, offset, length);
    return Status::Ok();
  }

 private:
  const std::shared_ptr<vfs::Filesystem> fs_;
  const std::string name_;
  const vfs::Ino ino_;
  const vfs::HandleId handle_;
  const std::uint64_t size_bytes_;
  const BlockDeviceCapabilities caps_;
};

}  // namespace

Result<std::shared_ptr<VfsExportProvider>> VfsExportProvider::Create(
    std::shared_ptr<vfs::Filesystem> fs, VfsExportOptions options) {
  if (!fs->volume().read_only()) {
    ExportAdmin admin(fs);
    ZEROFS_RETURN_IF_ERROR(admin.ExportDir(/*create=*/true).status());
  }
  BlockDeviceCapabilities caps;
  caps.preferred_block_bytes = options.preferred_block_bytes;
  caps.max_block_bytes = options.max_block_bytes;
  ZEROFS_RETURN_IF_ERROR(ValidateCapabilities(caps));
  return std::make_shared<VfsExportProvider>(std::move(fs), options);
}

VfsExportProvider::VfsExportProvider(std::shared_ptr<vfs::Filesystem> fs, VfsExportOptions options)
    : fs_(std::move(fs)), options_(options), admin_(fs_) {}

Result<std::vector<ExportSummary>> VfsExportProvider::List() {
  ZEROFS_ASSIGN_OR_RETURN(std::vector<ExportInfo> exports, admin_.List());
  std::vector<ExportSummary> summaries;
  summaries.reserve(exports.size());
  for (ExportInfo& info : exports) {
    ExportSummary summary;
    summary.description = "/" + std::string(kExportDirName) + "/" + info.name;
    summary.name = std::move(info.name);
    summary.size_bytes = info.size_bytes;
    summaries.push_back(std::move(summary));
  }
  return summaries;
}

Result<OpenedExport> VfsExportProvider::Open(std::string_view name) {
  std::string canonical(name);
  if (canonical.empty()) {
    ZEROFS_ASSIGN_OR_RETURN(std::vector<ExportInfo> exports, admin_.List());
    if (exports.size() != 1) {
      return Status::NotFound(exports.empty()
                                  ? "no default export: the volume has no exports"
                                  : "no default export: the volume has " +
                                        std::to_string(exports.size()) + " exports; name one");
    }
    canonical = exports.front().name;
  } else if (!ValidateExportName(canonical).ok()) {
    return Status::NotFound("no export '" + canonical + "'");
  }
  ZEROFS_ASSIGN_OR_RETURN(ExportInfo info, admin_.Get(canonical));

  const bool read_only = options_.read_only || fs_->volume().read_only();
  auto handle = fs_->Open(vfs::Credentials::Root(), info.ino,
                          read_only ? vfs::kOpenReadOnly : vfs::kOpenReadWrite);
  if (!handle.ok()) {
    if (handle.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("no export '" + canonical + "'");
    }
    return handle.status().WithContext("opening export '" + canonical + "'");
  }
  // The size as of the open: a resize between the lookup and the open is seen by the
  // next client.
  auto attr = fs_->GetAttr(info.ino);
  if (!attr.ok()) {
    Status released = fs_->Release(*handle);
    (void)released;
    return attr.status().WithContext("opening export '" + canonical + "'");
  }

  BlockDeviceCapabilities caps;
  caps.read_only = read_only;
  caps.can_flush = true;
  caps.can_trim = true;
  caps.can_zero = true;
  caps.can_fast_zero = true;
  caps.can_cache = true;
  caps.can_multi_conn = true;
  caps.min_block_bytes = 1;
  caps.preferred_block_bytes = options_.preferred_block_bytes;
  caps.max_block_bytes = options_.max_block_bytes;

  OpenedExport opened;
  opened.name = canonical;
  opened.description = "/" + std::string(kExportDirName) + "/" + canonical;
  opened.device =
      std::make_shared<VfsBlockDevice>(fs_, canonical, info.ino, *handle, attr->size, caps);
  return opened;
}

}  // namespace zerofs::nbd
