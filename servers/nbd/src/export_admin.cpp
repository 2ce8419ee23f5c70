// ExportAdmin: the exports of a volume as files in /.nbd/; see export_admin.h.
#include "zerofs/nbd/export_admin.h"

#include <algorithm>
#include <cerrno>
#include <utility>

#include "zerofs/vfs/error.h"

namespace zerofs::nbd {
namespace {

const vfs::Credentials kRoot = vfs::Credentials::Root();
constexpr std::size_t kMaxNameBytes = 255;
constexpr std::size_t kReadDirBatch = 256;

std::string Quoted(std::string_view name) {
  return "'" + std::string(name) + "'";
}

ExportInfo InfoOf(std::string_view name, const vfs::Attr& attr) {
  ExportInfo info;
  info.name = std::string(name);
  info.size_bytes = attr.size;
  info.ino = attr.ino;
  return info;
}

}  // namespace

Status ValidateExportName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("export name is empty");
  if (name.size() > kMaxNameBytes) {
    return Status::InvalidArgument("export name longer than " + std::to_string(kMaxNameBytes) +
                                   " bytes");
  }
  if (name.find('/') != std::string_view::npos) {
    return Status::InvalidArgument("export name " + Quoted(name) + " contains '/'");
  }
  if (name.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("export name contains a NUL byte");
  }
  if (name == "." || name == "..") {
    return Status::InvalidArgument("export name " + Quoted(name) + " is reserved");
  }
  return Status::Ok();
}

Status ValidateExportSize(std::uint64_t size_bytes) {
  if (size_bytes == 0) return Status::InvalidArgument("export size is zero");
  if (size_bytes > vfs::kMaxFileSize) {
    return Status::InvalidArgument("export size " + std::to_string(size_bytes) +
                                   " is larger than the largest file (" +
                                   std::to_string(vfs::kMaxFileSize) + " bytes)");
  }
  if (size_bytes % kExportSizeAlignBytes != 0) {
    return Status::InvalidArgument("export size " + std::to_string(size_bytes) +
                                   " is not a multiple of " +
                                   std::to_string(kExportSizeAlignBytes) + " bytes");
  }
  return Status::Ok();
}

ExportAdmin::ExportAdmin(std::shared_ptr<vfs::Filesystem> fs) : fs_(std::move(fs)) {}

Result<vfs::Ino> ExportAdmin::ExportDir(bool create) {
  auto found = fs_->Lookup(kRoot, vfs::kRootIno, kExportDirName);
  if (found.ok()) {
    if (!found->is_dir()) {
      return Status::InvalidArgument("/" + std::string(kExportDirName) +
                                     " exists but is not a directory");
    }
    return found->ino;
  }
  if (vfs::ErrnoOf(found.status()) != ENOENT || !create) return found.status();
  auto made = fs_->Mkdir(kRoot, vfs::kRootIno, kExportDirName, kExportDirMode);
  if (!made.ok()) {
    // Another caller may have made it meanwhile.
    if (vfs::ErrnoOf(made.status()) == EEXIST) return ExportDir(false);
    return made.status().WithContext("creating /" + std::string(kExportDirName));
  }
  ZEROFS_RETURN_IF_ERROR(fs_->SyncAll());
  return made->ino;
}

Result<ExportInfo> ExportAdmin::Create(std::string_view name, std::uint64_t size_bytes) {
  ZEROFS_RETURN_IF_ERROR(ValidateExportName(name));
  ZEROFS_RETURN_IF_ERROR(ValidateExportSize(size_bytes));
  ZEROFS_ASSIGN_OR_RETURN(vfs::Ino dir, ExportDir(true));
  auto created = fs_->Create(kRoot, dir, name, kExportFileMode, vfs::kOpenReadWrite,
                             /*exclusive=*/true, /*open=*/false);
  if (!created.ok()) {
    if (created.status().code() == StatusCode::kAlreadyExists) {
      return Status::AlreadyExists("export " + Quoted(name) + " exists already");
    }
    return created.status().WithContext("creating export " + Quoted(name));
  }
  // Setting the size stores nothing: the whole device is one hole until written.
  auto sized = fs_->SetAttr(kRoot, created->attr.ino, vfs::SetAttrRequest::Truncate(size_bytes));
  if (!sized.ok()) {
    Status removed = fs_->Unlink(kRoot, dir, name);
    (void)removed;  // the size error is the one to report
    return sized.status().WithContext("sizing export " + Quoted(name));
  }
  ZEROFS_RETURN_IF_ERROR(fs_->SyncAll());
  return InfoOf(name, *sized);
}

Result<std::vector<ExportInfo>> ExportAdmin::List() {
  std::vector<ExportInfo> exports;
  auto dir = ExportDir(false);
  if (!dir.ok()) {
    if (dir.status().code() == StatusCode::kNotFound) return exports;
    return dir.status();
  }
  std::uint64_t cookie = 0;
  for (;;) {
    ZEROFS_ASSIGN_OR_RETURN(std::vector<vfs::DirEntry> batch,
                            fs_->ReadDirInode(kRoot, *dir, cookie, kReadDirBatch));
    if (batch.empty()) break;
    for (const vfs::DirEntry& entry : batch) {
      cookie = entry.cookie;
      if (entry.name == "." || entry.name == "..") continue;
      if (entry.type != vfs::FileType::kRegular) continue;
      auto attr = fs_->GetAttr(entry.ino);
      if (!attr.ok()) {
        // Removed between the listing and the stat: not an export any more.
        if (attr.status().code() == StatusCode::kNotFound) continue;
        return attr.status();
      }
      if (!attr->is_regular()) continue;
      exports.push_back(InfoOf(entry.name, *attr));
    }
  }
  std::sort(exports.begin(), exports.end(),
            [](const ExportInfo& a, const ExportInfo& b) { return a.name < b.name; });
  return exports;
}

Result<ExportInfo> ExportAdmin::Get(std::string_view name) {
  ZEROFS_RETURN_IF_ERROR(ValidateExportName(name));
  auto dir = ExportDir(false);
  if (!dir.ok()) {
    if (dir.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("no export " + Quoted(name));
    }
    return dir.status();
  }
  auto attr = fs_->Lookup(kRoot, *dir, name);
  if (!attr.ok()) {
    if (attr.status().code() == StatusCode::kNotFound) {
      return Status::NotFound("no export " + Quoted(name));
    }
    return attr.status();
  }
  if (!attr->is_regular()) {
    return Status::NotFound("/" + std::string(kExportDirName) + "/" + std::string(name) +
                            " is not a regular file, so not an export");
  }
  return InfoOf(name, *attr);
}

Result<ExportInfo> ExportAdmin::Resize(std::string_view name, std::uint64_t size_bytes,
                                       bool allow_shrink) {
  ZEROFS_RETURN_IF_ERROR(ValidateExportSize(size_bytes));
  ZEROFS_ASSIGN_OR_RETURN(ExportInfo current, Get(name));
  if (size_bytes < current.size_bytes && !allow_shrink) {
    return Status::InvalidArgument("shrinking export " + Quoted(name) + " from " +
                                   std::to_string(current.size_bytes) + " to " +
                                   std::to_string(size_bytes) +
                                   " bytes would discard data; allow shrinking to do it");
  }
  ZEROFS_ASSIGN_OR_RETURN(
      vfs::Attr attr, fs_->SetAttr(kRoot, current.ino, vfs::SetAttrRequest::Truncate(size_bytes)));
  ZEROFS_RETURN_IF_ERROR(fs_->FsyncInode(attr.ino));
  return InfoOf(name, attr);
}

Status ExportAdmin::Delete(std::string_view name) {
  ZEROFS_ASSIGN_OR_RETURN(ExportInfo current, Get(name));
  (void)current;
  ZEROFS_ASSIGN_OR_RETURN(vfs::Ino dir, ExportDir(false));
  Status removed = fs_->Unlink(kRoot, dir, name);
  if (!removed.ok()) return removed.WithContext("deleting export " + Quoted(name));
  return fs_->SyncAll();
}

}  // namespace zerofs::nbd
