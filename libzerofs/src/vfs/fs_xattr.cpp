// FilesystemImpl: extended attributes in the user., trusted. and security. namespaces, with
// the checks of Linux's xattr_permission: trusted.* is root's (EPERM to write, invisible
// to read), user.* lives only on regular files and directories and follows the file's
// permission bits (and, on sticky directories, only the owner writes), security.* is
// unchecked by the VFS. system.* (POSIX ACLs) and unknown prefixes are EOPNOTSUPP.
#include <cerrno>
#include <mutex>

#include "filesystem_impl.h"
#include "permission.h"
#include "zerofs/index/index_format.h"
#include "zerofs/index/keys.h"
#include "zerofs/vfs/error.h"

namespace zerofs::vfs {
namespace {

using index::FileType;

enum class Namespace : std::uint8_t { kUser, kTrusted, kSecurity, kSystem, kUnknown };

constexpr std::string_view kUserPrefix = "user.";
constexpr std::string_view kTrustedPrefix = "trusted.";
constexpr std::string_view kSecurityPrefix = "security.";
constexpr std::string_view kSystemPrefix = "system.";

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

Namespace NamespaceOf(std::string_view name) {
  if (StartsWith(name, kUserPrefix)) return Namespace::kUser;
  if (StartsWith(name, kTrustedPrefix)) return Namespace::kTrusted;
  if (StartsWith(name, kSecurityPrefix)) return Namespace::kSecurity;
  if (StartsWith(name, kSystemPrefix)) return Namespace::kSystem;
  return Namespace::kUnknown;
}

Status CheckXattrName(std::string_view name) {
  if (name.empty() || name.size() > format::kMaxXattrNameBytes) {
    return Error(ERANGE, "xattr name of " + std::to_string(name.size()) + " bytes");
  }
  if (name.find('\0') != std::string_view::npos) return Error(EINVAL, "xattr name has NUL");
  return Status::Ok();
}

bool IsRegularOrDir(const InodeRecord& rec) {
  return rec.type() == FileType::kRegular || rec.type() == FileType::kDirectory;
}

// xattr_permission, then the namespace's handler (EOPNOTSUPP, EINVAL for a bare prefix).
Status CheckXattr(const Credentials& cred, const InodeRecord& rec, std::string_view name,
                  bool write) {
  const Namespace ns = NamespaceOf(name);
  const std::string what =
      "xattr '" + std::string(name.substr(0, 64)) + "' of inode " + std::to_string(rec.ino);
  if (ns == Namespace::kTrusted && !cred.is_root()) {
    return write ? Error(EPERM, what + ": trusted.* is root's") : Error(ENODATA, what);
  }
  if (ns == Namespace::kUser) {
    if (!IsRegularOrDir(rec)) {
      return write ? Error(EPERM, what + ": user.* on a special file") : Error(ENODATA, what);
    }
    if (write && rec.type() == FileType::kDirectory && (rec.mode & kModeSticky) != 0 &&
        !IsOwnerOrRoot(cred, rec)) {
      return Error(EPERM, what + ": sticky directory");
    }
  }
  if (ns == Namespace::kUser || ns == Namespace::kUnknown) {
    ZEROFS_RETURN_IF_ERROR(CheckAccess(cred, rec, write ? kAccessWrite : kAccessRead, what));
  }
  if (ns == Namespace::kUnknown || ns == Namespace::kSystem) {
    return Error(EOPNOTSUPP, what + ": unsupported namespace");
  }
  const std::size_t prefix = ns == Namespace::kUser      ? kUserPrefix.size()
                             : ns == Namespace::kTrusted ? kTrustedPrefix.size()
                                                         : kSecurityPrefix.size();
  if (name.size() == prefix) return Error(EINVAL, what + ": empty name after the prefix");
  return Status::Ok();
}

}  // namespace

Result<std::string> FilesystemImpl::GetXattr(const Credentials& cred, Ino ino,
                                             std::string_view name) {
  ZEROFS_RETURN_IF_ERROR(CheckXattrName(name));
  std::shared_lock ns(ns_mu_);
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(ino));
  ZEROFS_RETURN_IF_ERROR(CheckXattr(cred, rec, name, false));
  ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> value,
                          volume_->Get(index::XattrKey(ino, name)));
  if (!value.has_value()) {
    return Error(ENODATA, "no xattr '" + std::string(name.substr(0, 64)) + "' on inode " +
                              std::to_string(ino));
  }
  return std::move(*value);
}

Status FilesystemImpl::SetXattr(const Credentials& cred, Ino ino, std::string_view name,
                                std::string_view value, std::uint32_t flags) {
  if ((flags & ~(kXattrCreate | kXattrReplace)) != 0) return Error(EINVAL, "setxattr: flags");
  ZEROFS_RETURN_IF_ERROR(CheckXattrName(name));
  if (value.size() > format::kMaxXattrValueBytes) {
    return Error(E2BIG, "xattr value of " + std::to_string(value.size()) + " bytes");
  }
  ZEROFS_RETURN_IF_ERROR(CheckWritable());
  std::shared_lock ns(ns_mu_);
  std::lock_guard inode_lock(InodeLock(ino));
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(ino));
  ZEROFS_RETURN_IF_ERROR(CheckXattr(cred, rec, name, true));
  const std::string key = index::XattrKey(ino, name);
  ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> old, volume_->Get(key));
  if ((flags & kXattrCreate) != 0 && old.has_value()) return Error(EEXIST, "setxattr: exists");
  if ((flags & kXattrReplace) != 0 && !old.has_value()) return Error(ENODATA, "setxattr: absent");
  rec.ctime = Now();
  engine::Transaction txn;
  txn.Put(key, std::string(value));
  PutInode(txn, rec);
  return Commit(txn, {}, {ino});
}

Result<std::vector<std::string>> FilesystemImpl::ListXattr(const Credentials& cred, Ino ino) {
  std::shared_lock ns(ns_mu_);
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(ino));
  std::vector<std::string> names;
  Status parse;
  ZEROFS_RETURN_IF_ERROR(
      volume_->Scan(index::XattrPrefix(ino), {}, [&](std::string_view key, std::string_view) {
        auto parts = index::DecodeXattrKey(key);
        if (!parts.ok()) {
          parse = parts.status();
          return false;
        }
        if (NamespaceOf(parts->name) == Namespace::kTrusted && !cred.is_root()) return true;
        names.emplace_back(parts->name);
        return true;
      }));
  ZEROFS_RETURN_IF_ERROR(parse);
  return names;
}

Status FilesystemImpl::RemoveXattr(const Credentials& cred, Ino ino, std::string_view name) {
  ZEROFS_RETURN_IF_ERROR(CheckXattrName(name));
  ZEROFS_RETURN_IF_ERROR(CheckWritable());
  std::shared_lock ns(ns_mu_);
  std::lock_guard inode_lock(InodeLock(ino));
  ZEROFS_ASSIGN_OR_RETURN(InodeRecord rec, LoadInode(ino));
  ZEROFS_RETURN_IF_ERROR(CheckXattr(cred, rec, name, true));
  const std::string key = index::XattrKey(ino, name);
  ZEROFS_ASSIGN_OR_RETURN(std::optional<std::string> old, volume_->Get(key));
  if (!old.has_value()) return Error(ENODATA, "removexattr: absent");
  rec.ctime = Now();
  engine::Transaction txn;
  txn.Delete(key);
  PutInode(txn, rec);
  return Commit(txn, {}, {ino});
}

}  // namespace zerofs::vfs
