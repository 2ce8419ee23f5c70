#include "fuse_ops.h"

#include "zerofs/common/log.h"

#include <fcntl.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

namespace zerofs::mount {

namespace {

FuseContext& Ctx(fuse_req_t req) { return *static_cast<FuseContext*>(fuse_req_userdata(req)); }

Caller CallerOf(fuse_req_t req) {
  const fuse_ctx* c = fuse_req_ctx(req);
  Caller caller;
  caller.uid = c->uid;
  caller.gid = c->gid;
  caller.pid = static_cast<std::uint32_t>(c->pid);
  return caller;
}

// Internal connection errors never reach the kernel.
int KernelErrno(int err) { return (err <= 0 || err >= 4096) ? EIO : err; }

void ReplyErr(fuse_req_t req, int err) { fuse_reply_err(req, err == 0 ? 0 : KernelErrno(err)); }

void ReplyEntry(fuse_req_t req, const ErrnoOr<Entry>& e) {
  if (!e.ok()) {
    ReplyErr(req, e.error());
    return;
  }
  fuse_entry_param p{};
  p.ino = e->ino;
  p.attr = e->attr;
  p.attr_timeout = Ctx(req).attr_timeout;
  p.entry_timeout = Ctx(req).entry_timeout;
  fuse_reply_entry(req, &p);
}

void OpInit(void* userdata, fuse_conn_info* conn) {
  auto* ctx = static_cast<FuseContext*>(userdata);
  conn->max_write = ctx->max_write;
  if (ctx->writeback && (conn->capable & FUSE_CAP_WRITEBACK_CACHE) != 0) {
    conn->want |= FUSE_CAP_WRITEBACK_CACHE;
  } else {
    conn->want &= ~static_cast<unsigned>(FUSE_CAP_WRITEBACK_CACHE);
  }
  if ((conn->capable & FUSE_CAP_HANDLE_KILLPRIV) != 0) conn->want |= FUSE_CAP_HANDLE_KILLPRIV;
  // FUSE_CAP_HANDLE_KILLPRIV: the server clears the
  // set-user-ID/set-group-ID bits on write, truncate and chown itself, as the caller's
  // own chmod could not (a non-owner may write but not chmod).
}

void OpLookup(fuse_req_t req, fuse_ino_t parent, const char* name) {
  auto e = Ctx(req).fs->Lookup(CallerOf(req), parent, name);
  if (!e.ok() && e.error() == ENOENT) {
    // A negative entry, cached for entry_timeout.
    fuse_entry_param p{};
    p.entry_timeout = Ctx(req).entry_timeout;
    fuse_reply_entry(req, &p);
    return;
  }
  ReplyEntry(req, e);
}

void OpForget(fuse_req_t req, fuse_ino_t ino, std::uint64_t nlookup) {
  Ctx(req).fs->Forget(ino, nlookup);
  fuse_reply_none(req);
}

void OpForgetMulti(fuse_req_t req, std::size_t count, fuse_forget_data* forgets) {
  for (std::size_t i = 0; i < count; ++i) Ctx(req).fs->Forget(forgets[i].ino, forgets[i].nlookup);
  fuse_reply_none(req);
}

void OpGetattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  std::optional<std::uint64_t> fh;
  if (fi != nullptr) fh = fi->fh;
  auto st = Ctx(req).fs->Getattr(CallerOf(req), ino, fh);
  if (!st.ok()) return ReplyErr(req, st.error());
  fuse_reply_attr(req, &*st, Ctx(req).attr_timeout);
}

void OpSetattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set,
               fuse_file_info* fi) {
  ninep::Tsetattr r;
  if (to_set & FUSE_SET_ATTR_MODE) {
    r.valid |= ninep::kSetattrMode;
    r.mode = attr->st_mode;
  }
  if (to_set & FUSE_SET_ATTR_UID) {
    r.valid |= ninep::kSetattrUid;
    r.uid = attr->st_uid;
  }
  if (to_set & FUSE_SET_ATTR_GID) {
    r.valid |= ninep::kSetattrGid;
    r.gid = attr->st_gid;
  }
  if (to_set & FUSE_SET_ATTR_SIZE) {
    r.valid |= ninep::kSetattrSize;
    r.size = static_cast<std::uint64_t>(attr->st_size);
  }
  if (to_set & FUSE_SET_ATTR_ATIME_NOW) {
    r.valid |= ninep::kSetattrAtime;  // without ATIME_SET: the server's "now"
  } else if (to_set & FUSE_SET_ATTR_ATIME) {
    r.valid |= ninep::kSetattrAtime | ninep::kSetattrAtimeSet;
    r.atime_sec = static_cast<std::uint64_t>(attr->st_atim.tv_sec);
    r.atime_nsec = static_cast<std::uint64_t>(attr->st_atim.tv_nsec);
  }
  if (to_set & FUSE_SET_ATTR_MTIME_NOW) {
    r.valid |= ninep::kSetattrMtime;
  } else if (to_set & FUSE_SET_ATTR_MTIME) {
    r.valid |= ninep::kSetattrMtime | ninep::kSetattrMtimeSet;
    r.mtime_sec = static_cast<std::uint64_t>(attr->st_mtim.tv_sec);
    r.mtime_nsec = static_cast<std::uint64_t>(attr->st_mtim.tv_nsec);
  }
  if (to_set & FUSE_SET_ATTR_CTIME) r.valid |= ninep::kSetattrCtime;
  std::optional<std::uint64_t> fh;
  if (fi != nullptr) fh = fi->fh;
  // Nothing but a ctime update: what the kernel sends when it leaves clearing the
  // set-user-ID bits to the server (HANDLE_KILLPRIV) before a write. The write itself
  // changes ctime; a Tsetattr would need ownership the writer may not have.
  ZEROFS_LOG(kDebug) << "setattr of node " << ino << ": FUSE to_set " << to_set
                     << ", 9P valid " << r.valid;
  if ((r.valid & ~ninep::kSetattrCtime) == 0) {
    auto st = Ctx(req).fs->Getattr(CallerOf(req), ino, fh);
    if (!st.ok()) return ReplyErr(req, st.error());
    fuse_reply_attr(req, &*st, Ctx(req).attr_timeout);
    return;
  }
  auto st = Ctx(req).fs->Setattr(CallerOf(req), ino, r, fh);
  if (!st.ok()) return ReplyErr(req, st.error());
  fuse_reply_attr(req, &*st, Ctx(req).attr_timeout);
}

void OpReadlink(fuse_req_t req, fuse_ino_t ino) {
  auto target = Ctx(req).fs->Readlink(CallerOf(req), ino);
  if (!target.ok()) return ReplyErr(req, target.error());
  fuse_reply_readlink(req, target->c_str());
}

void OpMknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev) {
  ReplyEntry(req, Ctx(req).fs->Mknod(CallerOf(req), parent, name, mode, rdev));
}

void OpMkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode) {
  ReplyEntry(req, Ctx(req).fs->Mkdir(CallerOf(req), parent, name, mode));
}

void OpUnlink(fuse_req_t req, fuse_ino_t parent, const char* name) {
  ReplyErr(req, Ctx(req).fs->Unlink(CallerOf(req), parent, name));
}

void OpRmdir(fuse_req_t req, fuse_ino_t parent, const char* name) {
  ReplyErr(req, Ctx(req).fs->Rmdir(CallerOf(req), parent, name));
}

void OpSymlink(fuse_req_t req, const char* link, fuse_ino_t parent, const char* name) {
  ReplyEntry(req, Ctx(req).fs->Symlink(CallerOf(req), link, parent, name));
}

void OpRename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
              const char* newname, unsigned int flags) {
  ReplyErr(req, Ctx(req).fs->Rename(CallerOf(req), parent, name, newparent, newname, flags));
}

void OpLink(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname) {
  ReplyEntry(req, Ctx(req).fs->Link(CallerOf(req), ino, newparent, newname));
}

void OpOpen(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto fh = Ctx(req).fs->Open(CallerOf(req), ino, fi->flags);
  if (!fh.ok()) return ReplyErr(req, fh.error());
  fi->fh = *fh;
  if (fuse_reply_open(req, fi) == -ENOENT) Ctx(req).fs->Release(*fh);  // interrupted
}

void OpCreate(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode,
              fuse_file_info* fi) {
  auto r = Ctx(req).fs->Create(CallerOf(req), parent, name, mode, fi->flags);
  if (!r.ok()) return ReplyErr(req, r.error());
  fi->fh = r->second;
  fuse_entry_param p{};
  p.ino = r->first.ino;
  p.attr = r->first.attr;
  p.attr_timeout = Ctx(req).attr_timeout;
  p.entry_timeout = Ctx(req).entry_timeout;
  if (fuse_reply_create(req, &p, fi) == -ENOENT) {
    Ctx(req).fs->Release(r->second);
    Ctx(req).fs->Forget(p.ino, 1);
  }
}

void OpRead(fuse_req_t req, fuse_ino_t /*ino*/, std::size_t size, off_t off,
            fuse_file_info* fi) {
  auto data = Ctx(req).fs->Read(fi->fh, static_cast<std::uint64_t>(off), size);
  if (!data.ok()) return ReplyErr(req, data.error());
  fuse_reply_buf(req, data->data(), data->size());
}

void OpWrite(fuse_req_t req, fuse_ino_t /*ino*/, const char* buf, std::size_t size, off_t off,
             fuse_file_info* fi) {
  auto n = Ctx(req).fs->Write(fi->fh, static_cast<std::uint64_t>(off),
                              std::string_view(buf, size));
  if (!n.ok()) return ReplyErr(req, n.error());
  fuse_reply_write(req, *n);
}

void OpFlush(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* fi) {
  ReplyErr(req, Ctx(req).fs->Flush(fi->fh));
}

void OpRelease(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* fi) {
  Ctx(req).fs->Release(fi->fh);
  fuse_reply_err(req, 0);
}

void OpFsync(fuse_req_t req, fuse_ino_t /*ino*/, int datasync, fuse_file_info* fi) {
  ReplyErr(req, Ctx(req).fs->Fsync(fi->fh, datasync != 0));
}

void OpOpendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi) {
  auto fh = Ctx(req).fs->Opendir(CallerOf(req), ino);
  if (!fh.ok()) return ReplyErr(req, fh.error());
  fi->fh = *fh;
  if (fuse_reply_open(req, fi) == -ENOENT) Ctx(req).fs->Releasedir(*fh);
}

void OpReaddir(fuse_req_t req, fuse_ino_t /*ino*/, std::size_t size, off_t off,
               fuse_file_info* fi) {
  auto entries = Ctx(req).fs->Readdir(fi->fh, static_cast<std::uint64_t>(off), size);
  if (!entries.ok()) return ReplyErr(req, entries.error());
  std::vector<char> buf(size);
  std::size_t used = 0;
  for (const auto& e : *entries) {
    struct stat st {};
    st.st_ino = e.qid.path;
    st.st_mode = static_cast<mode_t>(e.type) << 12;
    std::size_t need = fuse_add_direntry(req, buf.data() + used, size - used, e.name.c_str(),
                                         &st, static_cast<off_t>(e.offset));
    if (need > size - used) break;  // the rest comes with the next call, from e's cookie
    used += need;
  }
  fuse_reply_buf(req, buf.data(), used);
}

void OpReleasedir(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* fi) {
  Ctx(req).fs->Releasedir(fi->fh);
  fuse_reply_err(req, 0);
}

void OpFsyncdir(fuse_req_t req, fuse_ino_t /*ino*/, int datasync, fuse_file_info* fi) {
  ReplyErr(req, Ctx(req).fs->Fsyncdir(fi->fh, datasync != 0));
}

void OpStatfs(fuse_req_t req, fuse_ino_t /*ino*/) {
  auto st = Ctx(req).fs->Statfs(CallerOf(req));
  if (!st.ok()) return ReplyErr(req, st.error());
  fuse_reply_statfs(req, &*st);
}

void OpSetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value,
                std::size_t size, int flags) {
  ReplyErr(req, Ctx(req).fs->Setxattr(CallerOf(req), ino, name, std::string_view(value, size),
                                      flags));
}

void ReplyXattr(fuse_req_t req, const ErrnoOr<std::string>& value, std::size_t size) {
  if (!value.ok()) return ReplyErr(req, value.error());
  if (size == 0) {
    fuse_reply_xattr(req, value->size());
  } else if (value->size() > size) {
    fuse_reply_err(req, ERANGE);
  } else {
    fuse_reply_buf(req, value->data(), value->size());
  }
}

void OpGetxattr(fuse_req_t req, fuse_ino_t ino, const char* name, std::size_t size) {
  ReplyXattr(req, Ctx(req).fs->Getxattr(CallerOf(req), ino, name), size);
}

void OpListxattr(fuse_req_t req, fuse_ino_t ino, std::size_t size) {
  ReplyXattr(req, Ctx(req).fs->Listxattr(CallerOf(req), ino), size);
}

void OpRemovexattr(fuse_req_t req, fuse_ino_t ino, const char* name) {
  ReplyErr(req, Ctx(req).fs->Removexattr(CallerOf(req), ino, name));
}

void OpAccess(fuse_req_t req, fuse_ino_t ino, int mask) {
  ReplyErr(req, Ctx(req).fs->Access(CallerOf(req), ino, mask));
}

LockRequest ToLock(const struct flock* lock) {
  LockRequest r;
  r.type = lock->l_type;
  r.start = static_cast<std::uint64_t>(lock->l_start);
  r.length = static_cast<std::uint64_t>(lock->l_len);
  r.pid = static_cast<std::uint32_t>(lock->l_pid);
  return r;
}

void OpGetlk(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* fi, struct flock* lock) {
  LockRequest want = ToLock(lock);
  if (want.pid == 0) want.pid = CallerOf(req).pid;
  auto got = Ctx(req).fs->Getlk(fi->fh, want);
  if (!got.ok()) return ReplyErr(req, got.error());
  struct flock out = *lock;
  out.l_type = got->type;
  if (got->type != F_UNLCK) {
    out.l_start = static_cast<off_t>(got->start);
    out.l_len = static_cast<off_t>(got->length);
    out.l_pid = static_cast<pid_t>(got->pid);
  }
  fuse_reply_lock(req, &out);
}

void OpSetlk(fuse_req_t req, fuse_ino_t /*ino*/, fuse_file_info* fi, struct flock* lock,
             int sleep) {
  LockRequest want = ToLock(lock);
  if (want.pid == 0) want.pid = CallerOf(req).pid;
  ReplyErr(req, Ctx(req).fs->Setlk(fi->fh, want, sleep != 0,
                                   [req] { return fuse_req_interrupted(req) != 0; }));
}

void OpFallocate(fuse_req_t req, fuse_ino_t /*ino*/, int mode, off_t offset, off_t length,
                 fuse_file_info* fi) {
  if (offset < 0 || length <= 0) return ReplyErr(req, EINVAL);
  ReplyErr(req, Ctx(req).fs->Fallocate(fi->fh, mode, static_cast<std::uint64_t>(offset),
                                       static_cast<std::uint64_t>(length)));
}

}  // namespace

fuse_lowlevel_ops FuseOperations(bool server_locks) {
  fuse_lowlevel_ops ops{};
  ops.init = OpInit;
  ops.lookup = OpLookup;
  ops.forget = OpForget;
  ops.forget_multi = OpForgetMulti;
  ops.getattr = OpGetattr;
  ops.setattr = OpSetattr;
  ops.readlink = OpReadlink;
  ops.mknod = OpMknod;
  ops.mkdir = OpMkdir;
  ops.unlink = OpUnlink;
  ops.rmdir = OpRmdir;
  ops.symlink = OpSymlink;
  ops.rename = OpRename;
  ops.link = OpLink;
  ops.open = OpOpen;
  ops.create = OpCreate;
  ops.read = OpRead;
  ops.write = OpWrite;
  ops.flush = OpFlush;
  ops.release = OpRelease;
  ops.fsync = OpFsync;
  ops.opendir = OpOpendir;
  ops.readdir = OpReaddir;
  ops.releasedir = OpReleasedir;
  ops.fsyncdir = OpFsyncdir;
  ops.statfs = OpStatfs;
  ops.setxattr = OpSetxattr;
  ops.getxattr = OpGetxattr;
  ops.listxattr = OpListxattr;
  ops.removexattr = OpRemovexattr;
  ops.access = OpAccess;
  if (server_locks) {
    ops.getlk = OpGetlk;
    ops.setlk = OpSetlk;
  }
  ops.fallocate = OpFallocate;
  return ops;
}

}  // namespace zerofs::mount
