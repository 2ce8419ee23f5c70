// VfsNfsHandler: the namespace procedures (CREATE, MKDIR, SYMLINK, MKNOD, REMOVE, RMDIR,
// RENAME, LINK) and READDIR(PLUS); see vfs_handler.h.
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <algorithm>

#include "vfs_handler_util.h"
#include "zerofs/nfs/vfs_handler.h"

namespace zerofs::nfs {
namespace {

using namespace vfs_handler_internal;  // NOLINT(google-build-using-namespace)

constexpr std::uint32_t kDefaultFileMode = 0644;
constexpr std::uint32_t kDefaultDirMode = 0755;
// Entries one READDIR(PLUS) reads from the Filesystem at most; the encoder trims what does
// not fit the client's byte budget.
constexpr std::size_t kMaxListEntries = 4096;

std::optional<WccAttr> WccOf(const vfs::Attr& a) {
  auto t = [](const vfs::Timespec& ts) {
    return NfsTime3{static_cast<std::uint32_t>(std::clamp<std::int64_t>(ts.sec, 0, 0xffffffffLL)),
                    ts.nsec};
  };
  return WccAttr{a.size, t(a.mtime), t(a.ctime)};
}

std::uint32_t Be32(const Verifier& v, std::size_t at) {
  return (std::uint32_t{v[at]} << 24) | (std::uint32_t{v[at + 1]} << 16) |
         (std::uint32_t{v[at + 2]} << 8) | v[at + 3];
}

}  // namespace

void VfsNfsHandler::FinishDirop(const vfs::Credentials& cred, Result<vfs::Attr> made,
                                const vfs::SetAttrRequest& extra, vfs::Ino dir,
                                DiropRes& res) const {
  if (made.ok() && !Empty(extra)) made = fs_->SetAttr(cred, made->ino, extra);
  res.status = StatOf(made);
  if (made.ok()) {
    res.object = HandleOf(*made);
    res.obj_attr = ToFattr(*made);
  }
  res.dir_wcc.after = PostOp(dir);
}

DiropRes VfsNfsHandler::Create(const CallContext& ctx, const CreateArgs& args) {
  DiropRes res;
  vfs::Attr dir;
  res.status = Resolve(args.where.dir, &dir);
  if (res.status != Nfsstat3::kOk) return res;
  res.dir_wcc.before = WccOf(dir);
  const vfs::Credentials cred = CredOf(ctx);
  const std::string& name = args.where.name;

  if (args.mode != CreateMode::kExclusive) {
    const std::uint32_t mode = args.attributes.mode.value_or(kDefaultFileMode) & 07777;
    auto made = fs_->Create(cred, dir.ino, name, mode, vfs::kOpenReadOnly,
                            args.mode == CreateMode::kGuarded, /*open=*/false);
    if (!made.ok()) {
      FinishDirop(cred, made.status(), {}, dir.ino, res);
      return res;
    }
    vfs::SetAttrRequest extra;
    if (made->created) {
      extra = RequestOf(args.attributes, /*with_mode=*/false);
    } else {
      // UNCHECKED on an existing file applies only the size (a truncating open).
      extra.size = args.attributes.size;
    }
    FinishDirop(cred, made->attr, extra, dir.ino, res);
    return res;
  }

  // EXCLUSIVE: the client's verifier is kept in atime and mtime (as Linux's knfsd keeps it)
  // until the client's SETATTR that follows sets the real ones, so a retransmitted CREATE
  // finds its own file and succeeds. The stripe keeps a retransmission from looking at the
  // file between its creation and the stamping of the verifier.
  const vfs::Timespec atime{static_cast<std::int64_t>(Be32(args.verf, 0)), 0};
  const vfs::Timespec mtime{static_cast<std::int64_t>(Be32(args.verf, 4)), 0};
  std::lock_guard lock(Stripe(dir.ino));
  auto made = fs_->Create(cred, dir.ino, name, 0, vfs::kOpenReadOnly, /*exclusive=*/true,
                          /*open=*/false);
  if (made.ok()) {
    FinishDirop(cred, made->attr,
                vfs::SetAttrRequest::Times(vfs::TimeUpdate::At(atime), vfs::TimeUpdate::At(mtime)),
                dir.ino, res);
    return res;
  }
  if (vfs::ErrnoOf(made.status()) == EEXIST) {
    auto existing = fs_->Lookup(cred, dir.ino, name);
    if (existing.ok() && existing->is_regular() && existing->atime == atime &&
        existing->mtime == mtime) {
      FinishDirop(cred, *existing, {}, dir.ino, res);
      return res;
    }
  }
  FinishDirop(cred, made.status(), {}, dir.ino, res);
  return res;
}

DiropRes VfsNfsHandler::Mkdir(const CallContext& ctx, const MkdirArgs& args) {
  DiropRes res;
  vfs::Attr dir;
  res.status = Resolve(args.where.dir, &dir);
  if (res.status != Nfsstat3::kOk) return res;
  res.dir_wcc.before = WccOf(dir);
  const vfs::Credentials cred = CredOf(ctx);
  const std::uint32_t mode = args.attributes.mode.value_or(kDefaultDirMode) & 07777;
  vfs::SetAttrRequest extra = RequestOf(args.attributes, /*with_mode=*/false);
  extra.size.reset();
  FinishDirop(cred, fs_->Mkdir(cred, dir.ino, args.where.name, mode), extra, dir.ino, res);
  return res;
}

DiropRes VfsNfsHandler::Symlink(const CallContext& ctx, const SymlinkArgs& args) {
  DiropRes res;
  vfs::Attr dir;
  res.status = Resolve(args.where.dir, &dir);
  if (res.status != Nfsstat3::kOk) return res;
  res.dir_wcc.before = WccOf(dir);
  const vfs::Credentials cred = CredOf(ctx);
  // A symlink's mode is always 0777; only an owner the caller may give it applies.
  vfs::SetAttrRequest extra = vfs::SetAttrRequest::Chown(args.attributes.uid, args.attributes.gid);
  FinishDirop(cred, fs_->Symlink(cred, dir.ino, args.where.name, args.target), extra, dir.ino,
              res);
  return res;
}

DiropRes VfsNfsHandler::Mknod(const CallContext& ctx, const MknodArgs& args) {
  DiropRes res;
  vfs::Attr dir;
  res.status = Resolve(args.where.dir, &dir);
  if (res.status != Nfsstat3::kOk) return res;
  res.dir_wcc.before = WccOf(dir);
  std::uint32_t type = 0;
  std::uint64_t rdev = 0;
  switch (args.type) {
    case Ftype3::kChr: type = S_IFCHR; break;
    case Ftype3::kBlk: type = S_IFBLK; break;
    case Ftype3::kSock: type = S_IFSOCK; break;
    case Ftype3::kFifo: type = S_IFIFO; break;
    default:
      res.status = Nfsstat3::kBadtype;
      res.dir_wcc.after = PostOp(dir.ino);
      return res;
  }
  if (args.type == Ftype3::kChr || args.type == Ftype3::kBlk) rdev = makedev(args.major, args.minor);
  const vfs::Credentials cred = CredOf(ctx);
  const std::uint32_t mode = (args.attributes.mode.value_or(kDefaultFileMode) & 07777) | type;
  vfs::SetAttrRequest extra = RequestOf(args.attributes, /*with_mode=*/false);
  extra.size.reset();
  FinishDirop(cred, fs_->Mknod(cred, dir.ino, args.where.name, mode, rdev), extra, dir.ino, res);
  return res;
}

WccRes VfsNfsHandler::Remove(const CallContext& ctx, const RemoveArgs& args) {
  WccRes res;
  vfs::Attr dir;
  res.status = Resolve(args.object.dir, &dir);
  if (res.status != Nfsstat3::kOk) return res;
  res.wcc.before = WccOf(dir);
  res.status = StatOf(fs_->Unlink(CredOf(ctx), dir.ino, args.object.name));
  res.wcc.after = PostOp(dir.ino);
  return res;
}

WccRes VfsNfsHandler::Rmdir(const CallContext& ctx, const RemoveArgs& args) {
  WccRes res;
  vfs::Attr dir;
  res.status = Resolve(args.object.dir, &dir);
  if (res.status != Nfsstat3::kOk) return res;
  res.wcc.before = WccOf(dir);
  res.status = StatOf(fs_->Rmdir(CredOf(ctx), dir.ino, args.object.name));
  res.wcc.after = PostOp(dir.ino);
  return res;
}

RenameRes VfsNfsHandler::Rename(const CallContext& ctx, const RenameArgs& args) {
  RenameRes res;
  vfs::Attr from, to;
  res.status = Resolve(args.from.dir, &from);
  if (res.status == Nfsstat3::kOk) res.status = Resolve(args.to.dir, &to);
  if (res.status != Nfsstat3::kOk) return res;
  res.from_dir_wcc.before = WccOf(from);
  res.to_dir_wcc.before = WccOf(to);
  res.status = StatOf(
      fs_->Rename(CredOf(ctx), from.ino, args.from.name, to.ino, args.to.name, /*flags=*/0));
  res.from_dir_wcc.after = PostOp(from.ino);
  res.to_dir_wcc.after = PostOp(to.ino);
  return res;
}

LinkRes VfsNfsHandler::Link(const CallContext& ctx, const LinkArgs& args) {
  LinkRes res;
  vfs::Attr file, dir;
  res.status = Resolve(args.file, &file);
  if (res.status == Nfsstat3::kOk) res.status = Resolve(args.link.dir, &dir);
  if (res.status != Nfsstat3::kOk) return res;
  res.link_dir_wcc.before = WccOf(dir);
  res.status = StatOf(fs_->Link(CredOf(ctx), file.ino, dir.ino, args.link.name));
  res.file_attr = PostOp(file.ino);
  res.link_dir_wcc.after = PostOp(dir.ino);
  return res;
}

// --- READDIR(PLUS) --------------------------------------------------------------------------

ReaddirRes VfsNfsHandler::List(const CallContext& ctx, const Fh3& fh, std::uint64_t cookie,
                               const Verifier& verf, std::size_t max_entries, bool plus) {
  ReaddirRes res;
  vfs::Attr dir;
  res.status = Resolve(fh, &dir);
  if (res.status != Nfsstat3::kOk) return res;
  if (!dir.is_dir()) {
    res.status = Nfsstat3::kNotdir;
    res.dir_attr = ToFattr(dir);
    return res;
  }
  // Cookies never go stale (see the header), so the verifier is checked only for being
  // ours: a client that kept one from another volume gets BAD_COOKIE.
  if (cookie != 0 && verf != Verifier{} && verf != cookie_verf_) {
    res.status = Nfsstat3::kBadCookie;
    res.dir_attr = ToFattr(dir);
    return res;
  }
  max_entries = std::clamp<std::size_t>(max_entries, 1, kMaxListEntries);
  auto entries = fs_->ReadDirInode(CredOf(ctx), dir.ino, cookie, max_entries);
  res.status = StatOf(entries);
  res.dir_attr = PostOp(dir.ino);
  if (!entries.ok()) return res;
  res.verf = cookie_verf_;
  res.eof = entries->size() < max_entries;
  res.entries.reserve(entries->size());
  for (vfs::DirEntry& e : *entries) {
    DirEntry out;
    out.fileid = e.ino;
    out.name = std::move(e.name);
    out.cookie = e.cookie;
    if (plus) {
      // An entry removed since the listing read it goes without attributes and handle.
      if (auto a = fs_->GetAttr(e.ino); a.ok()) {
        out.attr = ToFattr(*a);
        out.handle = HandleOf(*a);
      }
    }
    res.entries.push_back(std::move(out));
  }
  return res;
}

ReaddirRes VfsNfsHandler::Readdir(const CallContext& ctx, const ReaddirArgs& args) {
  // The smallest entry takes 28 bytes of the reply (value-follows, fileid, a name of up to
  // four bytes, cookie).
  return List(ctx, args.dir, args.cookie, args.verf, args.count / 28 + 1, /*plus=*/false);
}

ReaddirRes VfsNfsHandler::Readdirplus(const CallContext& ctx, const ReaddirplusArgs& args) {
  // dircount covers names and cookies (24 bytes at least per entry); maxcount the whole
  // entry, about 150 bytes with attributes and handle.
  const std::size_t by_names = args.dircount / 24 + 1;
  const std::size_t by_bytes = args.maxcount / 150 + 1;
  return List(ctx, args.dir, args.cookie, args.verf, std::min(by_names, by_bytes),
              /*plus=*/true);
}

}  // namespace zerofs::nfs
