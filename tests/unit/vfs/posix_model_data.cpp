// PosixModel: handles, file data, SEEK_DATA/SEEK_HOLE, xattrs, restarts.
#include <algorithm>
#include <cerrno>

#include "posix_model.h"

namespace zerofs::testing {
namespace {

constexpr std::uint64_t kExtent = 32 * 1024;
constexpr std::uint32_t STICKY = 01000;

// Whether extent `e` of `data` holds any byte that is not zero: the engine stores exactly
// those extents, so SEEK_DATA / SEEK_HOLE see exactly them.
bool ExtentHasData(const std::string& data, std::uint64_t e) {
  const std::uint64_t begin = e * kExtent;
  const std::uint64_t end = std::min<std::uint64_t>(data.size(), begin + kExtent);
  for (std::uint64_t i = begin; i < end; ++i) {
    if (data[i] != '\0') return true;
  }
  return false;
}

}  // namespace

int PosixModel::OpenChecks(const vfs::Credentials& c, Node& n, std::uint32_t flags, bool created,
                           Handle* out) {
  const std::uint32_t acc = flags & 3;
  if (acc == 3) return EINVAL;
  out->ino = n.ino;
  out->cred = c;
  out->readable = acc == 0 || acc == 2;
  out->writable = acc == 1 || acc == 2;
  out->append = (flags & vfs::kOpenAppend) != 0;
  out->dir = n.is_dir();
  const bool trunc = (flags & vfs::kOpenTruncate) != 0;
  if (n.type() == vfs::FileType::kSymlink) return ELOOP;
  if ((flags & vfs::kOpenDirectory) && !n.is_dir()) return ENOTDIR;
  if (n.is_dir() && (out->writable || trunc)) return EISDIR;
  if (created) return 0;
  std::uint32_t mask = out->readable ? 4 : 0;
  if (out->writable || trunc) mask |= 2;
  if (int e = Perm(c, n, mask)) return e;
  if (trunc && n.is_reg()) {
    n.data.clear();
    n.mtime = n.ctime = now_;
    KillOnWrite(c, n);
  }
  return 0;
}

int PosixModel::Open(const vfs::Credentials& c, vfs::Ino ino, std::uint32_t flags,
                     vfs::HandleId handle) {
  Node* n = Find(ino);
  if (!n) return ESTALE;
  Handle h;
  if (int e = OpenChecks(c, *n, flags, false, &h)) return e;
  ++n->open_count;
  handles_[handle] = h;
  handle_inos_[handle] = ino;
  return 0;
}

int PosixModel::Release(vfs::HandleId handle) {
  auto it = handles_.find(handle);
  if (it == handles_.end()) return EBADF;
  Node* n = Find(it->second.ino);
  handles_.erase(it);
  handle_inos_.erase(handle);
  if (n && --n->open_count == 0 && n->nlink == 0) nodes_.erase(n->ino);
  return 0;
}

void PosixModel::Restart() {
  handles_.clear();
  handle_inos_.clear();
  for (auto it = nodes_.begin(); it != nodes_.end();) {
    it->second.open_count = 0;
    it = it->second.nlink == 0 ? nodes_.erase(it) : std::next(it);
  }
}

Out<std::string> PosixModel::ReadData(vfs::Ino ino, std::uint64_t offset, std::uint64_t length) {
  Node* n = Find(ino);
  if (!n) return Out<std::string>::Fail(ESTALE);
  if (n->is_dir()) return Out<std::string>::Fail(EISDIR);
  if (!n->is_reg()) return Out<std::string>::Fail(EINVAL);
  std::string out;
  if (offset < n->data.size()) out = n->data.substr(offset, length);
  if (length > 0) Touch(*n);
  return {0, out};
}

Out<std::string> PosixModel::Read(vfs::HandleId handle, std::uint64_t offset,
                                  std::uint64_t length) {
  auto it = handles_.find(handle);
  if (it == handles_.end()) return Out<std::string>::Fail(EBADF);
  if (it->second.dir) return Out<std::string>::Fail(EISDIR);
  if (!it->second.readable) return Out<std::string>::Fail(EBADF);
  return ReadData(it->second.ino, offset, length);
}

Out<std::string> PosixModel::ReadInode(const vfs::Credentials& c, vfs::Ino ino,
                                       std::uint64_t offset, std::uint64_t length) {
  Node* n = Find(ino);
  if (!n) return Out<std::string>::Fail(ESTALE);
  if (n->is_reg()) {
    if (int e = Perm(c, *n, 4)) return Out<std::string>::Fail(e);
  }
  return ReadData(ino, offset, length);
}

Out<std::uint64_t> PosixModel::WriteData(const vfs::Credentials& c, vfs::Ino ino,
                                         std::uint64_t offset, const std::string& data,
                                         bool append) {
  Node* n = Find(ino);
  if (!n) return Out<std::uint64_t>::Fail(ESTALE);
  if (n->is_dir()) return Out<std::uint64_t>::Fail(EISDIR);
  if (!n->is_reg()) return Out<std::uint64_t>::Fail(EINVAL);
  if (append) offset = n->data.size();
  if (data.empty()) return {0, 0};
  if (n->data.size() < offset + data.size()) n->data.resize(offset + data.size(), '\0');
  std::copy(data.begin(), data.end(), n->data.begin() + static_cast<std::ptrdiff_t>(offset));
  n->mtime = n->ctime = now_;
  KillOnWrite(c, *n);
  return {0, data.size()};
}

Out<std::uint64_t> PosixModel::Write(vfs::HandleId handle, std::uint64_t offset,
                                     const std::string& data) {
  auto it = handles_.find(handle);
  if (it == handles_.end()) return Out<std::uint64_t>::Fail(EBADF);
  if (!it->second.writable) return Out<std::uint64_t>::Fail(EBADF);
  return WriteData(it->second.cred, it->second.ino, offset, data, it->second.append);
}

Out<std::uint64_t> PosixModel::WriteInode(const vfs::Credentials& c, vfs::Ino ino,
                                          std::uint64_t offset, const std::string& data) {
  Node* n = Find(ino);
  if (!n) return Out<std::uint64_t>::Fail(ESTALE);
  if (n->is_reg()) {
    if (int e = Perm(c, *n, 2)) return Out<std::uint64_t>::Fail(e);
  }
  return WriteData(c, ino, offset, data, false);
}

int PosixModel::Fallocate(vfs::HandleId handle, std::uint32_t mode, std::uint64_t offset,
                          std::uint64_t length) {
  if (length == 0) return EINVAL;
  if (mode & ~0x13U) return EOPNOTSUPP;
  const bool keep = mode & 1, punch = mode & 2, zero = mode & 0x10;
  if (punch && (!keep || zero)) return EOPNOTSUPP;
  auto it = handles_.find(handle);
  if (it == handles_.end()) return EBADF;
  if (!it->second.writable) return EBADF;
  Node* n = Find(it->second.ino);
  if (!n) return ESTALE;
  if (n->is_dir()) return EISDIR;
  if (!n->is_reg()) return ENODEV;
  const std::uint64_t end = offset + length;
  if ((punch || zero) && offset < n->data.size()) {
    std::fill(
        n->data.begin() + static_cast<std::ptrdiff_t>(offset),
        n->data.begin() + static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(end, n->data.size())),
        '\0');
  }
  if (!punch && !keep && end > n->data.size()) n->data.resize(end, '\0');
  n->mtime = n->ctime = now_;
  KillOnWrite(it->second.cred, *n);
  return 0;
}

Out<std::uint64_t> PosixModel::Seek(vfs::HandleId handle, std::uint64_t offset, int whence) {
  using R = Out<std::uint64_t>;
  if (whence != vfs::kSeekData && whence != vfs::kSeekHole) return R::Fail(EINVAL);
  auto it = handles_.find(handle);
  if (it == handles_.end()) return R::Fail(EBADF);
  Node* n = Find(it->second.ino);
  if (!n) return R::Fail(ESTALE);  // a directory removed while open
  if (!n->is_reg()) return R::Fail(EINVAL);
  const std::uint64_t size = n->data.size();
  if (offset >= size) return R::Fail(ENXIO);
  const std::uint64_t last = (size - 1) / kExtent;
  for (std::uint64_t e = offset / kExtent; e <= last; ++e) {
    const bool data = ExtentHasData(n->data, e);
    if (whence == vfs::kSeekData && data) return {0, std::max(offset, e * kExtent)};
    if (whence == vfs::kSeekHole && !data) return {0, std::max(offset, e * kExtent)};
  }
  if (whence == vfs::kSeekData) return R::Fail(ENXIO);
  return {0, size};
}

// ---- xattrs ----

int PosixModel::XattrCheck(const vfs::Credentials& c, const Node& n, const std::string& name,
                           bool write) const {
  auto starts = [&](const char* p) { return name.rfind(p, 0) == 0; };
  const bool user = starts("user."), trusted = starts("trusted."), security = starts("security.");
  const bool system = starts("system.");
  if (trusted && c.uid != 0) return write ? EPERM : ENODATA;
  if (user) {
    if (!n.is_reg() && !n.is_dir()) return write ? EPERM : ENODATA;
    if (write && n.is_dir() && (n.mode & STICKY) && c.uid != 0 && c.uid != n.uid) return EPERM;
  }
  if (!trusted && !security && !system) {
    if (int e = Perm(c, n, write ? 2 : 4)) return e;
  }
  if (!user && !trusted && !security) return EOPNOTSUPP;
  if (name == "user." || name == "trusted." || name == "security.") return EINVAL;
  return 0;
}

Out<std::string> PosixModel::GetXattr(const vfs::Credentials& c, vfs::Ino ino,
                                      const std::string& name) {
  if (name.empty() || name.size() > 255) return Out<std::string>::Fail(ERANGE);
  Node* n = Find(ino);
  if (!n) return Out<std::string>::Fail(ESTALE);
  if (int e = XattrCheck(c, *n, name, false)) return Out<std::string>::Fail(e);
  auto it = n->xattrs.find(name);
  if (it == n->xattrs.end()) return Out<std::string>::Fail(ENODATA);
  return {0, it->second};
}

int PosixModel::SetXattr(const vfs::Credentials& c, vfs::Ino ino, const std::string& name,
                         const std::string& value, std::uint32_t flags) {
  if (flags & ~3U) return EINVAL;
  if (name.empty() || name.size() > 255) return ERANGE;
  if (value.size() > 65536) return E2BIG;
  Node* n = Find(ino);
  if (!n) return ESTALE;
  if (int e = XattrCheck(c, *n, name, true)) return e;
  const bool exists = n->xattrs.contains(name);
  if ((flags & 1) && exists) return EEXIST;
  if ((flags & 2) && !exists) return ENODATA;
  n->xattrs[name] = value;
  n->ctime = now_;
  return 0;
}

Out<std::vector<std::string>> PosixModel::ListXattr(const vfs::Credentials& c, vfs::Ino ino) {
  Node* n = Find(ino);
  if (!n) return Out<std::vector<std::string>>::Fail(ESTALE);
  std::vector<std::string> names;
  for (const auto& [name, value] : n->xattrs) {
    if (name.rfind("trusted.", 0) == 0 && c.uid != 0) continue;
    names.push_back(name);
  }
  return {0, names};
}

int PosixModel::RemoveXattr(const vfs::Credentials& c, vfs::Ino ino, const std::string& name) {
  if (name.empty() || name.size() > 255) return ERANGE;
  Node* n = Find(ino);
  if (!n) return ESTALE;
  if (int e = XattrCheck(c, *n, name, true)) return e;
  if (!n->xattrs.erase(name)) return ENODATA;
  n->ctime = now_;
  return 0;
}

}  // namespace zerofs::testing
