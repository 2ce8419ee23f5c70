#include "filesystem.h"

#include <fcntl.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>

#include "zerofs/common/log.h"

namespace zerofs::mount {

namespace {

constexpr int kMaxAttempts = 6;
constexpr std::size_t kMaxXattrBytes = 64 * 1024;  // Linux's XATTR_SIZE_MAX
constexpr int kMaxDepth = 4096;

struct Unit {};

timespec Ts(std::uint64_t sec, std::uint64_t nsec) {
  timespec t{};
  t.tv_sec = static_cast<time_t>(sec);
  t.tv_nsec = static_cast<long>(nsec);
  return t;
}

}  // namespace

struct stat ToStat(const ninep::Rgetattr& a) {
  struct stat st {};
  st.st_ino = a.qid.path;
  st.st_mode = a.mode;
  st.st_nlink = a.nlink;
  st.st_uid = a.uid;
  st.st_gid = a.gid;
  st.st_rdev = a.rdev;
  st.st_size = static_cast<off_t>(a.size);
  st.st_blksize = static_cast<blksize_t>(a.blksize != 0 ? a.blksize : 4096);
  st.st_blocks = static_cast<blkcnt_t>(a.blocks);
  st.st_atim = Ts(a.atime_sec, a.atime_nsec);
  st.st_mtim = Ts(a.mtime_sec, a.mtime_nsec);
  st.st_ctim = Ts(a.ctime_sec, a.ctime_nsec);
  return st;
}

struct Filesystem::Node {
  std::uint64_t id = 0;
  std::uint64_t qid_path = 0;
  std::uint8_t qid_type = 0;
  // The name it is known under: how it is walked to again.
  bool named = false;
  std::uint64_t parent = 0;
  std::string name;
  std::uint64_t seen_epoch = 0;  // the last session that found it under its name
  std::uint64_t nlookup = 0;  // the kernel's references
  std::uint64_t refs = 0;     // children naming it as parent, open handles
  std::vector<std::pair<std::uint32_t, FidPtr>> fids;  // per uid, any session
  // Epoch of the first write not covered by an fsync (0: none), and whether writes of an
  // older session were found unsynced (to report).
  std::uint64_t dirty_epoch = 0;
  std::uint64_t writes = 0;
  bool write_lost = false;
};

struct Filesystem::Handle {
  std::uint64_t node = 0;
  std::uint32_t uid = 0;
  std::uint32_t reopen_flags = 0;
  bool wrote = false;  // guarded by Filesystem::mu_
  std::mutex mu;
  FidPtr fid;  // guarded by mu
  std::uint32_t iounit = 0;
};

Filesystem::Filesystem(Client& client, FsOptions options)
    : client_(client), options_(std::move(options)) {
  auto root = std::make_unique<Node>();
  root->id = kRootId;
  root->nlookup = 1;
  nodes_.emplace(kRootId, std::move(root));
}

Filesystem::~Filesystem() = default;

std::size_t Filesystem::node_count() {
  std::lock_guard<std::mutex> lock(mu_);
  return nodes_.size();
}

std::size_t Filesystem::cached_fid_count() {
  std::lock_guard<std::mutex> lock(mu_);
  std::size_t n = 0;
  for (auto& [id, node] : nodes_) n += node->fids.size();
  return n;
}

// ---- retries ---------------------------------------------------------------------------

template <typename T, typename Fn>
ErrnoOr<T> Filesystem::Run(Fn&& fn) {
  SessionPtr session = client_.Current();
  if (!session) session = client_.Reconnect(nullptr);
  Attempt attempt;
  for (int i = 0;; ++i) {
    if (!session) return Fail{EIO};
    attempt.mutation_sent = false;
    ErrnoOr<T> r = fn(session, attempt);
    if (r.ok() || !IsConnectionError(r.error())) return r;
    if (r.error() == kErrLost && attempt.mutation_sent) attempt.maybe_done = true;
    if (i + 1 >= kMaxAttempts) return Fail{EIO};
    session = client_.Reconnect(session);
  }
}

int Filesystem::RunStatus(const std::function<int(const SessionPtr&, Attempt&)>& fn) {
  auto r = Run<Unit>([&](const SessionPtr& s, Attempt& a) -> ErrnoOr<Unit> {
    int err = fn(s, a);
    if (err != 0) return Fail{err};
    return Unit{};
  });
  return r.ok() ? 0 : r.error();
}

// ---- fids ------------------------------------------------------------------------------

ErrnoOr<std::pair<FidPtr, ninep::Qid>> Filesystem::Walk(const SessionPtr& s, const FidPtr& from,
                                                        std::vector<std::string> names) {
  ninep::Twalk walk;
  walk.fid = from->id;
  walk.newfid = s->NewFid();
  std::size_t wanted = names.size();
  walk.names = std::move(names);
  auto r = s->Call<ninep::Rwalk>(walk);
  if (!r.ok()) return Fail{r.error()};
  // A partial walk binds nothing: the first name that failed does not exist.
  if (r->qids.size() != wanted) return Fail{ENOENT};
  ninep::Qid qid = wanted > 0 ? r->qids.back() : ninep::Qid{};
  return std::make_pair(s->Adopt(walk.newfid), qid);
}

ErrnoOr<ninep::Rgetattr> Filesystem::GetattrFid(const SessionPtr& s, const FidPtr& fid) {
  ninep::Tgetattr req;
  req.fid = fid->id;
  req.request_mask = ninep::kGetattrBasic;
  return s->Call<ninep::Rgetattr>(req);
}

ErrnoOr<FidPtr> Filesystem::NodeFid(const SessionPtr& s, std::uint32_t uid, std::uint64_t ino,
                                    int depth) {
  std::uint64_t parent = 0;
  std::string name;
  std::uint64_t qid_path = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = nodes_.find(ino);
    if (it == nodes_.end()) return Fail{ESTALE};
    Node* node = it->second.get();
    if (ino != kRootId) {
      if (!node->named) {
        // Removed (or renamed over) while still in use: no name leads to it any more, but
        // an open handle does (the server answers for a removed directory through its
        // open fid, as ext4 does), else a fid of any user.
        for (auto& [fh, h] : handles_) {
          if (h->node != ino) continue;
          std::lock_guard<std::mutex> hlock(h->mu);
          if (h->fid && h->fid->session == s) {
            ZEROFS_LOG(kDebug) << "node " << ino << " has no name: using open fid " << h->fid->id;
            return h->fid;
          }
        }
        for (auto& [fid_uid, fid] : node->fids) {
          if (fid->session == s) return fid;
        }
        ZEROFS_LOG(kDebug) << "node " << ino << " has no name and no fid left: ESTALE";
        return Fail{ESTALE};
      }
      for (auto& [fid_uid, fid] : node->fids) {
        if (fid_uid == uid && fid->session == s) return fid;
      }
      parent = node->parent;
      name = node->name;
      qid_path = node->qid_path;
    }
  }
  if (ino == kRootId) return s->Root(uid);
  if (depth > kMaxDepth) return Fail{ELOOP};
  auto dir = NodeFid(s, uid, parent, depth + 1);
  if (!dir.ok()) return dir;
  auto walked = Walk(s, *dir, {name});
  if (!walked.ok()) return Fail{walked.error() == ENOENT ? ESTALE : walked.error()};
  // The name now names another file: ours was removed or replaced behind our back.
  if (walked->second.path != qid_path) return Fail{ESTALE};
  std::vector<FidPtr> garbage;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(ino);
  if (it != nodes_.end()) {
    it->second->seen_epoch = s->epoch();
    CacheFidLocked(it->second.get(), uid, walked->first, &garbage);
  }
  return walked->first;
}

void Filesystem::CacheFidLocked(Node* node, std::uint32_t uid, FidPtr fid,
                                std::vector<FidPtr>* garbage) {
  bool stored = false;
  for (auto& [fid_uid, cached] : node->fids) {
    if (fid_uid == uid) {
      garbage->push_back(std::move(cached));
      cached = fid;
      stored = true;
      break;
    }
  }
  if (!stored) node->fids.emplace_back(uid, fid);
  fid_fifo_.emplace_back(node->id, fid);
  while (fid_fifo_.size() > options_.max_cached_fids) {
    auto [id, weak] = fid_fifo_.front();
    fid_fifo_.pop_front();
    auto it = nodes_.find(id);
    FidPtr old = weak.lock();
    if (it == nodes_.end() || !old) continue;
    auto& fids = it->second->fids;
    for (auto f = fids.begin(); f != fids.end(); ++f) {
      if (f->second == old) {
        garbage->push_back(std::move(f->second));
        fids.erase(f);
        break;
      }
    }
  }
}

// ---- the node table --------------------------------------------------------------------

void Filesystem::UnnameLocked(Node* node, std::vector<std::uint64_t>* released) {
  if (!node->named) return;
  auto key = std::make_pair(node->parent, node->name);
  auto it = names_.find(key);
  if (it != names_.end() && it->second == node->id) names_.erase(it);
  auto p = nodes_.find(node->parent);
  if (p != nodes_.end() && p->second->refs > 0) p->second->refs--;
  released->push_back(node->parent);
  node->named = false;
  node->name.clear();
}

void Filesystem::SetNameLocked(Node* node, std::uint64_t parent, const std::string& name,
                               std::vector<std::uint64_t>* released) {
  if (node->named && node->parent == parent && node->name == name) return;
  if (nodes_.find(parent) == nodes_.end()) return;  // the parent was forgotten meanwhile
  UnnameLocked(node, released);
  auto key = std::make_pair(parent, name);
  auto it = names_.find(key);
  if (it != names_.end() && it->second != node->id) {
    auto other = nodes_.find(it->second);
    if (other != nodes_.end()) {
      UnnameLocked(other->second.get(), released);
      released->push_back(other->first);
    }
  }
  names_[key] = node->id;
  node->named = true;
  node->parent = parent;
  node->name = name;
  nodes_[parent]->refs++;
}

void Filesystem::MaybeEraseLocked(std::uint64_t id, std::vector<FidPtr>* garbage) {
  std::vector<std::uint64_t> todo{id};
  while (!todo.empty()) {
    std::uint64_t cur = todo.back();
    todo.pop_back();
    if (cur == kRootId) continue;
    auto it = nodes_.find(cur);
    if (it == nodes_.end()) continue;
    Node* node = it->second.get();
    if (node->nlookup > 0 || node->refs > 0) continue;
    for (auto& [uid, fid] : node->fids) garbage->push_back(std::move(fid));
    std::vector<std::uint64_t> released;
    UnnameLocked(node, &released);
    auto q = by_qid_.find(node->qid_path);
    if (q != by_qid_.end() && q->second == cur) by_qid_.erase(q);
    nodes_.erase(it);
    todo.insert(todo.end(), released.begin(), released.end());
  }
}

Entry Filesystem::Remember(std::uint64_t parent, const std::string& name,
                           const ninep::Rgetattr& attr, FidPtr fid, std::uint32_t uid,
                           std::uint64_t epoch) {
  std::vector<FidPtr> garbage;
  std::vector<std::uint64_t> released;
  std::lock_guard<std::mutex> lock(mu_);
  Node* node = nullptr;
  auto q = by_qid_.find(attr.qid.path);
  if (q != by_qid_.end()) {
    auto it = nodes_.find(q->second);
    // The same qid.path is the same file when the node is still known by a name and was
    // seen in this session, or is met again under its own name. Otherwise the number was
    // probably recycled: by the server after a removal, or by a restarted server that lost
    // its latest allocations. Then it is another file for the kernel; the old node keeps
    // its id until forgotten (and answers ESTALE when its name leads elsewhere).
    if (it != nodes_.end()) {
      Node* old = it->second.get();
      bool same_place = old->named && old->parent == parent && old->name == name;
      bool same = old->qid_type == attr.qid.type &&
                  ((old->named && old->seen_epoch == epoch) || same_place);
      if (same) node = old;
    }
  }
  if (node == nullptr) {
    auto fresh = std::make_unique<Node>();
    fresh->id = next_id_++;
    fresh->qid_path = attr.qid.path;
    fresh->qid_type = attr.qid.type;
    node = fresh.get();
    by_qid_[attr.qid.path] = fresh->id;
    nodes_.emplace(fresh->id, std::move(fresh));
  }
  SetNameLocked(node, parent, name, &released);
  if (fid) CacheFidLocked(node, uid, std::move(fid), &garbage);
  node->seen_epoch = epoch;
  node->nlookup++;
  Entry e;
  e.ino = node->id;
  e.attr = ToStat(attr);
  for (std::uint64_t id : released) MaybeEraseLocked(id, &garbage);
  return e;
}

void Filesystem::Forget(std::uint64_t ino, std::uint64_t nlookup) {
  std::vector<FidPtr> garbage;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(ino);
  if (it == nodes_.end() || ino == kRootId) return;
  it->second->nlookup -= std::min(nlookup, it->second->nlookup);
  MaybeEraseLocked(ino, &garbage);
}

int Filesystem::RemoveName(std::uint64_t parent, const std::string& name) {
  std::vector<FidPtr> garbage;
  std::vector<std::uint64_t> released;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = names_.find(std::make_pair(parent, name));
  if (it == names_.end()) return 0;
  auto n = nodes_.find(it->second);
  if (n != nodes_.end()) {
    UnnameLocked(n->second.get(), &released);
    released.push_back(n->first);
  } else {
    names_.erase(it);
  }
  for (std::uint64_t id : released) MaybeEraseLocked(id, &garbage);
  return 0;
}

void Filesystem::NoteEpochLocked(Node* node, std::uint64_t epoch) {
  if (node->dirty_epoch != 0 && node->dirty_epoch != epoch) {
    if (!node->write_lost) {
      ZEROFS_LOG(kWarn) << "inode " << node->qid_path
                        << ": writes not yet fsynced when the connection was lost may be "
                           "gone; its next fsync reports EIO";
    }
    node->write_lost = true;
    node->dirty_epoch = 0;
  }
}

// ---- lookups and attributes ------------------------------------------------------------

ErrnoOr<Entry> Filesystem::LookupOn(const SessionPtr& s, std::uint32_t uid, std::uint64_t parent,
                                    const std::string& name) {
  auto dir = NodeFid(s, uid, parent);
  if (!dir.ok()) return Fail{dir.error()};
  auto walked = Walk(s, *dir, {name});
  if (!walked.ok()) return Fail{walked.error()};
  auto attr = GetattrFid(s, walked->first);
  if (!attr.ok()) return Fail{attr.error()};
  return Remember(parent, name, *attr, walked->first, uid, s->epoch());
}

ErrnoOr<Entry> Filesystem::Lookup(const Caller& c, std::uint64_t parent, const std::string& name) {
  if (name.size() > 255) return Fail{ENAMETOOLONG};
  return Run<Entry>(
      [&](const SessionPtr& s, Attempt&) { return LookupOn(s, c.uid, parent, name); });
}

ErrnoOr<struct stat> Filesystem::Getattr(const Caller& c, std::uint64_t ino,
                                         std::optional<std::uint64_t> fh) {
  std::shared_ptr<Handle> h = fh ? FindHandle(*fh) : nullptr;
  return Run<struct stat>([&](const SessionPtr& s, Attempt&) -> ErrnoOr<struct stat> {
    auto fid = h ? HandleFid(s, h) : NodeFid(s, c.uid, ino);
    if (!fid.ok()) return Fail{fid.error()};
    auto attr = GetattrFid(s, *fid);
    if (!attr.ok()) return Fail{attr.error()};
    if (ino == kRootId) {
      std::lock_guard<std::mutex> lock(mu_);
      Node* root = nodes_[kRootId].get();
      root->qid_path = attr->qid.path;
      root->qid_type = attr->qid.type;
    }
    return ToStat(*attr);
  });
}

ErrnoOr<struct stat> Filesystem::Setattr(const Caller& c, std::uint64_t ino,
                                         ninep::Tsetattr request,
                                         std::optional<std::uint64_t> fh) {
  std::shared_ptr<Handle> h = fh ? FindHandle(*fh) : nullptr;
  return Run<struct stat>([&](const SessionPtr& s, Attempt&) -> ErrnoOr<struct stat> {
    auto fid = NodeFid(s, c.uid, ino);
    if (!fid.ok() && fid.error() == ESTALE && h) fid = HandleFid(s, h);
    if (!fid.ok()) return Fail{fid.error()};
    request.fid = (*fid)->id;
    auto r = s->Call<ninep::Rsetattr>(request);
    if (!r.ok() && r.error() == EPERM && request.valid == ninep::kSetattrMode) {
      // The kernel clears set-user-ID/set-group-ID bits itself before a write or
      // truncate by a non-owner, as a chmod in the writer's name, which the server
      // refuses. The server clears those bits on the write that follows (zerofs's VFS
      // does), so a chmod that only drops them is answered as done.
      auto attr = GetattrFid(s, *fid);
      if (!attr.ok()) return Fail{attr.error()};
      constexpr std::uint32_t kPrivBits = S_ISUID | S_ISGID;
      if ((attr->mode & 07777 & ~kPrivBits) == (request.mode & 07777) &&
          (attr->mode & kPrivBits) != 0) {
        struct stat st = ToStat(*attr);
        st.st_mode = (st.st_mode & ~static_cast<mode_t>(07777)) | (request.mode & 07777);
        return st;
      }
    }
    if (!r.ok()) return Fail{r.error()};
    auto attr = GetattrFid(s, *fid);
    if (!attr.ok()) return Fail{attr.error()};
    return ToStat(*attr);
  });
}

ErrnoOr<std::string> Filesystem::Readlink(const Caller& c, std::uint64_t ino) {
  return Run<std::string>([&](const SessionPtr& s, Attempt&) -> ErrnoOr<std::string> {
    auto fid = NodeFid(s, c.uid, ino);
    if (!fid.ok()) return Fail{fid.error()};
    ninep::Treadlink req;
    req.fid = (*fid)->id;
    auto r = s->Call<ninep::Rreadlink>(req);
    if (!r.ok()) return Fail{r.error()};
    return std::move(r->target);
  });
}

// ---- namespace changes -----------------------------------------------------------------

namespace {

// The reply of a namespace change that may have run before a lost connection.
template <typename R>
int MutationResult(const ErrnoOr<R>& r, bool maybe_done, int already_done_errno) {
  if (r.ok()) return 0;
  if (maybe_done && r.error() == already_done_errno) return 0;
  return r.error();
}

}  // namespace

ErrnoOr<Entry> Filesystem::Mknod(const Caller& c, std::uint64_t parent, const std::string& name,
                                 std::uint32_t mode, std::uint64_t rdev) {
  if (name.size() > 255) return Fail{ENAMETOOLONG};
  return Run<Entry>([&](const SessionPtr& s, Attempt& a) -> ErrnoOr<Entry> {
    auto dir = NodeFid(s, c.uid, parent);
    if (!dir.ok()) return Fail{dir.error()};
    ninep::Tmknod req;
    req.dfid = (*dir)->id;
    req.name = name;
    req.mode = mode;
    req.major = major(rdev);
    req.minor = minor(rdev);
    req.gid = c.gid;
    a.mutation_sent = true;
    if (int err = MutationResult(s->Call<ninep::Rmknod>(req), a.maybe_done, EEXIST)) {
      return Fail{err};
    }
    return LookupOn(s, c.uid, parent, name);
  });
}

ErrnoOr<Entry> Filesystem::Mkdir(const Caller& c, std::uint64_t parent, const std::string& name,
                                 std::uint32_t mode) {
  if (name.size() > 255) return Fail{ENAMETOOLONG};
  return Run<Entry>([&](const SessionPtr& s, Attempt& a) -> ErrnoOr<Entry> {
    auto dir = NodeFid(s, c.uid, parent);
    if (!dir.ok()) return Fail{dir.error()};
    ninep::Tmkdir req;
    req.dfid = (*dir)->id;
    req.name = name;
    req.mode = mode | S_IFDIR;
    req.gid = c.gid;
    a.mutation_sent = true;
    if (int err = MutationResult(s->Call<ninep::Rmkdir>(req), a.maybe_done, EEXIST)) {
      return Fail{err};
    }
    return LookupOn(s, c.uid, parent, name);
  });
}

ErrnoOr<Entry> Filesystem::Symlink(const Caller& c, const std::string& target,
                                   std::uint64_t parent, const std::string& name) {
  if (name.size() > 255) return Fail{ENAMETOOLONG};
  return Run<Entry>([&](const SessionPtr& s, Attempt& a) -> ErrnoOr<Entry> {
    auto dir = NodeFid(s, c.uid, parent);
    if (!dir.ok()) return Fail{dir.error()};
    ninep::Tsymlink req;
    req.fid = (*dir)->id;
    req.name = name;
    req.target = target;
    req.gid = c.gid;
    a.mutation_sent = true;
    if (int err = MutationResult(s->Call<ninep::Rsymlink>(req), a.maybe_done, EEXIST)) {
      return Fail{err};
    }
    return LookupOn(s, c.uid, parent, name);
  });
}

ErrnoOr<Entry> Filesystem::Link(const Caller& c, std::uint64_t ino, std::uint64_t new_parent,
                                const std::string& new_name) {
  if (new_name.size() > 255) return Fail{ENAMETOOLONG};
  return Run<Entry>([&](const SessionPtr& s, Attempt& a) -> ErrnoOr<Entry> {
    auto fid = NodeFid(s, c.uid, ino);
    if (!fid.ok()) return Fail{fid.error()};
    auto dir = NodeFid(s, c.uid, new_parent);
    if (!dir.ok()) return Fail{dir.error()};
    ninep::Tlink req;
    req.dfid = (*dir)->id;
    req.fid = (*fid)->id;
    req.name = new_name;
    a.mutation_sent = true;
    if (int err = MutationResult(s->Call<ninep::Rlink>(req), a.maybe_done, EEXIST)) {
      return Fail{err};
    }
    return LookupOn(s, c.uid, new_parent, new_name);
  });
}

int Filesystem::Unlink(const Caller& c, std::uint64_t parent, const std::string& name) {
  int err = RunStatus([&](const SessionPtr& s, Attempt& a) -> int {
    auto dir = NodeFid(s, c.uid, parent);
    if (!dir.ok()) return dir.error();
    ninep::Tunlinkat req;
    req.dirfid = (*dir)->id;
    req.name = name;
    a.mutation_sent = true;
    return MutationResult(s->Call<ninep::Runlinkat>(req), a.maybe_done, ENOENT);
  });
  if (err == 0) RemoveName(parent, name);
  return err;
}

int Filesystem::Rmdir(const Caller& c, std::uint64_t parent, const std::string& name) {
  int err = RunStatus([&](const SessionPtr& s, Attempt& a) -> int {
    auto dir = NodeFid(s, c.uid, parent);
    if (!dir.ok()) return dir.error();
    ninep::Tunlinkat req;
    req.dirfid = (*dir)->id;
    req.name = name;
    req.flags = ninep::kAtRemoveDir;
    a.mutation_sent = true;
    return MutationResult(s->Call<ninep::Runlinkat>(req), a.maybe_done, ENOENT);
  });
  if (err == 0) RemoveName(parent, name);
  return err;
}

int Filesystem::Rename(const Caller& c, std::uint64_t parent, const std::string& name,
                       std::uint64_t new_parent, const std::string& new_name,
                       unsigned int flags) {
  if ((flags & ~static_cast<unsigned int>(RENAME_NOREPLACE)) != 0) return EINVAL;
  if (new_name.size() > 255) return ENAMETOOLONG;
  int err = RunStatus([&](const SessionPtr& s, Attempt& a) -> int {
    auto from = NodeFid(s, c.uid, parent);
    if (!from.ok()) return from.error();
    auto to = NodeFid(s, c.uid, new_parent);
    if (!to.ok()) return to.error();
    if ((flags & RENAME_NOREPLACE) != 0 && !a.maybe_done) {
      // Not atomic: another client may create the target between the check and the rename.
      auto probe = Walk(s, *to, {new_name});
      if (probe.ok()) return EEXIST;
      if (probe.error() != ENOENT) return probe.error();
    }
    if (!renameat_unsupported_.load()) {
      ninep::Trenameat req;
      req.olddirfid = (*from)->id;
      req.oldname = name;
      req.newdirfid = (*to)->id;
      req.newname = new_name;
      a.mutation_sent = true;
      auto r = s->Call<ninep::Rrenameat>(req);
      if (r.ok() || r.error() != EOPNOTSUPP) return MutationResult(r, a.maybe_done, ENOENT);
      renameat_unsupported_.store(true);
    }
    // Servers without Trenameat: Trename of a fid of the source.
    auto src = Walk(s, *from, {name});
    if (!src.ok()) return (a.maybe_done && src.error() == ENOENT) ? 0 : src.error();
    ninep::Trename req;
    req.fid = src->first->id;
    req.dfid = (*to)->id;
    req.name = new_name;
    a.mutation_sent = true;
    return MutationResult(s->Call<ninep::Rrename>(req), a.maybe_done, ENOENT);
  });
  if (err != 0) return err;
  std::vector<FidPtr> garbage;
  std::vector<std::uint64_t> released;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = names_.find(std::make_pair(parent, name));
  if (it != names_.end()) {
    auto n = nodes_.find(it->second);
    if (n != nodes_.end()) SetNameLocked(n->second.get(), new_parent, new_name, &released);
  } else {
    // The target, if we knew it, is no longer reachable under its name.
    auto t = names_.find(std::make_pair(new_parent, new_name));
    if (t != names_.end()) {
      auto n = nodes_.find(t->second);
      if (n != nodes_.end()) {
        UnnameLocked(n->second.get(), &released);
        released.push_back(n->first);
      }
    }
  }
  for (std::uint64_t id : released) MaybeEraseLocked(id, &garbage);
  return 0;
}

// ---- open files ------------------------------------------------------------------------

std::uint32_t Filesystem::OpenFlags(int flags) const {
  // The kernel computes every offset (O_APPEND included), so the server must not append
  // on its own; creation is Tlcreate's business.
  int keep = O_ACCMODE | O_TRUNC | O_DIRECTORY | O_NOFOLLOW | O_SYNC | O_DSYNC | O_NOATIME;
  int out = flags & keep;
  if (options_.writeback && (out & O_ACCMODE) == O_WRONLY) out = (out & ~O_ACCMODE) | O_RDWR;
  return static_cast<std::uint32_t>(out);
}

std::shared_ptr<Filesystem::Handle> Filesystem::FindHandle(std::uint64_t fh) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = handles_.find(fh);
  return it == handles_.end() ? nullptr : it->second;
}

std::uint64_t Filesystem::AddHandle(std::shared_ptr<Handle> h) {
  std::lock_guard<std::mutex> lock(mu_);
  std::uint64_t fh = next_fh_++;
  auto it = nodes_.find(h->node);
  if (it != nodes_.end()) it->second->refs++;
  handles_.emplace(fh, std::move(h));
  return fh;
}

ErrnoOr<FidPtr> Filesystem::OpenFid(const SessionPtr& s, std::uint32_t uid, std::uint64_t ino,
                                    std::uint32_t flags, std::uint32_t* iounit) {
  auto node = NodeFid(s, uid, ino);
  if (!node.ok()) return node;
  auto clone = Walk(s, *node, {});
  if (!clone.ok()) return Fail{clone.error()};
  ninep::Tlopen req;
  req.fid = clone->first->id;
  req.flags = flags;
  auto r = s->Call<ninep::Rlopen>(req);
  if (!r.ok() && r.error() == EACCES && options_.writeback &&
      (flags & O_ACCMODE) == O_RDWR) {
    // Write-only permission: the writeback cache then cannot read partial pages, but
    // whole-page writes still work.
    clone = Walk(s, *node, {});
    if (!clone.ok()) return Fail{clone.error()};
    req.fid = clone->first->id;
    req.flags = (flags & ~static_cast<std::uint32_t>(O_ACCMODE)) | O_WRONLY;
    r = s->Call<ninep::Rlopen>(req);
  }
  if (!r.ok()) return Fail{r.error()};
  *iounit = r->iounit != 0 ? std::min(r->iounit, s->iounit()) : s->iounit();
  return clone->first;
}

ErrnoOr<FidPtr> Filesystem::HandleFid(const SessionPtr& s, const std::shared_ptr<Handle>& h) {
  {
    std::lock_guard<std::mutex> lock(h->mu);
    if (h->fid && h->fid->session == s) return h->fid;
  }
  std::uint32_t iounit = 0;
  auto fid = OpenFid(s, h->uid, h->node, h->reopen_flags, &iounit);
  if (!fid.ok()) {
    ZEROFS_LOG(kWarn) << "could not re-open a file after reconnecting: "
                      << std::strerror(fid.error() < 4096 ? fid.error() : EIO);
    return fid;
  }
  std::lock_guard<std::mutex> lock(h->mu);
  if (!h->fid || h->fid->session != s) {
    h->fid = *fid;
    h->iounit = iounit;
  }
  return h->fid;
}

ErrnoOr<std::uint64_t> Filesystem::Open(const Caller& c, std::uint64_t ino, int flags) {
  auto h = std::make_shared<Handle>();
  h->node = ino;
  h->uid = c.uid;
  std::uint32_t open_flags = OpenFlags(flags);
  h->reopen_flags = open_flags & ~static_cast<std::uint32_t>(O_TRUNC);
  auto r = Run<Unit>([&](const SessionPtr& s, Attempt&) -> ErrnoOr<Unit> {
    std::uint32_t iounit = 0;
    auto fid = OpenFid(s, c.uid, ino, open_flags, &iounit);
    if (!fid.ok()) return Fail{fid.error()};
    std::lock_guard<std::mutex> lock(h->mu);
    h->fid = *fid;
    h->iounit = iounit;
    return Unit{};
  });
  if (!r.ok()) return Fail{r.error()};
  return AddHandle(std::move(h));
}

ErrnoOr<std::pair<Entry, std::uint64_t>> Filesystem::Create(const Caller& c,
                                                            std::uint64_t parent,
                                                            const std::string& name,
                                                            std::uint32_t mode, int flags) {
  if (name.size() > 255) return Fail{ENAMETOOLONG};
  auto h = std::make_shared<Handle>();
  h->uid = c.uid;
  std::uint32_t open_flags = OpenFlags(flags);
  h->reopen_flags = open_flags & ~static_cast<std::uint32_t>(O_TRUNC);
  auto entry = Run<Entry>([&](const SessionPtr& s, Attempt& a) -> ErrnoOr<Entry> {
    auto dir = NodeFid(s, c.uid, parent);
    if (!dir.ok()) return Fail{dir.error()};
    auto clone = Walk(s, *dir, {});
    if (!clone.ok()) return Fail{clone.error()};
    ninep::Tlcreate req;
    req.fid = clone->first->id;
    req.name = name;
    req.flags = open_flags | O_CREAT | static_cast<std::uint32_t>(flags & O_EXCL);
    req.mode = mode;
    req.gid = c.gid;
    a.mutation_sent = true;
    auto r = s->Call<ninep::Rlcreate>(req);
    FidPtr fid = clone->first;
    std::uint32_t iounit = s->iounit();
    if (!r.ok()) {
      if (!(a.maybe_done && r.error() == EEXIST)) return Fail{r.error()};
      // Our lost Tlcreate ran: open what it created.
      auto walked = Walk(s, *dir, {name});
      if (!walked.ok()) return Fail{walked.error()};
      ninep::Tlopen open;
      open.fid = walked->first->id;
      open.flags = open_flags;
      auto o = s->Call<ninep::Rlopen>(open);
      if (!o.ok()) return Fail{o.error()};
      fid = walked->first;
    } else if (r->iounit != 0) {
      iounit = std::min(r->iounit, iounit);
    }
    auto attr = GetattrFid(s, fid);
    if (!attr.ok()) return Fail{attr.error()};
    {
      std::lock_guard<std::mutex> lock(h->mu);
      h->fid = fid;
      h->iounit = iounit;
    }
    return Remember(parent, name, *attr, nullptr, c.uid, s->epoch());
  });
  if (!entry.ok()) return Fail{entry.error()};
  h->node = entry->ino;
  std::uint64_t fh = AddHandle(std::move(h));
  return std::make_pair(*entry, fh);
}

ErrnoOr<std::string> Filesystem::Read(std::uint64_t fh, std::uint64_t offset, std::size_t size) {
  auto h = FindHandle(fh);
  if (!h) return Fail{EBADF};
  return Run<std::string>([&](const SessionPtr& s, Attempt&) -> ErrnoOr<std::string> {
    auto fid = HandleFid(s, h);
    if (!fid.ok()) return Fail{fid.error()};
    std::uint32_t iounit;
    {
      std::lock_guard<std::mutex> lock(h->mu);
      iounit = h->iounit;
    }
    std::string out;
    while (out.size() < size) {
      ninep::Tread req;
      req.fid = (*fid)->id;
      req.offset = offset + out.size();
      req.count = static_cast<std::uint32_t>(std::min<std::size_t>(size - out.size(), iounit));
      auto r = s->Call<ninep::Rread>(req);
      if (!r.ok()) return Fail{r.error()};
      std::size_t got = r->data.bytes.size();
      if (got > req.count) return Fail{EIO};
      if (out.empty()) {
        out = std::move(r->data.bytes);
      } else {
        out.append(r->data.bytes);
      }
      if (got < req.count) break;  // end of file
    }
    return out;
  });
}

ErrnoOr<std::size_t> Filesystem::Write(std::uint64_t fh, std::uint64_t offset,
                                       std::string_view data) {
  auto h = FindHandle(fh);
  if (!h) return Fail{EBADF};
  return Run<std::size_t>([&](const SessionPtr& s, Attempt&) -> ErrnoOr<std::size_t> {
    auto fid = HandleFid(s, h);
    if (!fid.ok()) return Fail{fid.error()};
    std::uint32_t iounit;
    {
      std::lock_guard<std::mutex> lock(h->mu);
      iounit = h->iounit;
    }
    std::size_t done = 0;
    while (done < data.size()) {
      ninep::Twrite req;
      req.fid = (*fid)->id;
      req.offset = offset + done;
      req.data.bytes.assign(data.substr(done, iounit));
      auto r = s->Call<ninep::Rwrite>(req);
      if (!r.ok()) {
        if (done > 0 && !IsConnectionError(r.error())) break;  // a short write
        return Fail{r.error()};
      }
      if (r->count == 0 || r->count > req.data.bytes.size()) return Fail{EIO};
      done += r->count;
    }
    std::lock_guard<std::mutex> lock(mu_);
    h->wrote = true;
    auto it = nodes_.find(h->node);
    if (it != nodes_.end()) {
      Node* node = it->second.get();
      NoteEpochLocked(node, s->epoch());
      if (node->dirty_epoch == 0) node->dirty_epoch = s->epoch();
      node->writes++;
    }
    return done;
  });
}

int Filesystem::Flush(std::uint64_t fh) {
  auto h = FindHandle(fh);
  if (!h) return EBADF;
  auto current = client_.Current();
  std::lock_guard<std::mutex> lock(mu_);
  if (!h->wrote) return 0;
  auto it = nodes_.find(h->node);
  if (it == nodes_.end()) return 0;
  if (current) NoteEpochLocked(it->second.get(), current->epoch());
  return it->second->write_lost ? EIO : 0;
}

int Filesystem::Fsync(std::uint64_t fh, bool datasync) {
  auto h = FindHandle(fh);
  if (!h) return EBADF;
  std::uint64_t writes_before = 0;
  std::uint64_t epoch = 0;
  int err = RunStatus([&](const SessionPtr& s, Attempt&) -> int {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = nodes_.find(h->node);
      if (it != nodes_.end()) {
        NoteEpochLocked(it->second.get(), s->epoch());
        writes_before = it->second->writes;
      }
    }
    auto fid = HandleFid(s, h);
    if (!fid.ok()) return fid.error();
    ninep::Tfsync req;
    req.fid = (*fid)->id;
    req.datasync = datasync ? 1 : 0;
    epoch = s->epoch();
    auto r = s->Call<ninep::Rfsync>(req);
    return r.ok() ? 0 : r.error();
  });
  std::lock_guard<std::mutex> lock(mu_);
  auto it = nodes_.find(h->node);
  if (it == nodes_.end()) return err;
  Node* node = it->second.get();
  if (err == 0) NoteEpochLocked(node, epoch);
  if (node->write_lost) {
    // Reported once, as Linux reports a writeback error once.
    node->write_lost = false;
    return EIO;
  }
  if (err == 0 && node->writes == writes_before && node->dirty_epoch == epoch) {
    node->dirty_epoch = 0;
  }
  return err;
}

int Filesystem::Fallocate(std::uint64_t fh, int mode, std::uint64_t offset,
                          std::uint64_t length) {
  auto h = FindHandle(fh);
  if (!h) return EBADF;
  bool keep_size = (mode & FALLOC_FL_KEEP_SIZE) != 0;
  int kind = mode & ~FALLOC_FL_KEEP_SIZE;
  if (kind != 0 && kind != FALLOC_FL_PUNCH_HOLE && kind != FALLOC_FL_ZERO_RANGE) {
    return EOPNOTSUPP;
  }
  if (kind == FALLOC_FL_PUNCH_HOLE && !keep_size) return EINVAL;  // as Linux requires
  if (offset + length < offset) return EFBIG;
  std::uint64_t end = offset + length;
  auto size = Run<std::uint64_t>([&](const SessionPtr& s, Attempt&) -> ErrnoOr<std::uint64_t> {
    auto fid = HandleFid(s, h);
    if (!fid.ok()) return Fail{fid.error()};
    auto attr = GetattrFid(s, *fid);
    if (!attr.ok()) return Fail{attr.error()};
    return attr->size;
  });
  if (!size.ok()) return size.error();
  if (kind != 0) {
    // Zeros over the part of the range inside the file.
    std::string zeros(std::min<std::uint64_t>(end, *size) > offset
                          ? std::min<std::uint64_t>(1U << 20, std::min(end, *size) - offset)
                          : 0,
                      '\0');
    for (std::uint64_t pos = offset; pos < std::min(end, *size);) {
      std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(zeros.size(),
                                                                       std::min(end, *size) - pos));
      auto w = Write(fh, pos, std::string_view(zeros.data(), n));
      if (!w.ok()) return w.error();
      pos += *w;
    }
  }
  if (keep_size || end <= *size) return 0;
  auto grown = Run<Unit>([&](const SessionPtr& s, Attempt&) -> ErrnoOr<Unit> {
    auto fid = HandleFid(s, h);
    if (!fid.ok()) return Fail{fid.error()};
    ninep::Tsetattr req;
    req.fid = (*fid)->id;
    req.valid = ninep::kSetattrSize;
    req.size = end;
    auto r = s->Call<ninep::Rsetattr>(req);
    if (!r.ok()) return Fail{r.error()};
    return Unit{};
  });
  return grown.ok() ? 0 : grown.error();
}

void Filesystem::Release(std::uint64_t fh) {
  std::shared_ptr<Handle> h;
  std::vector<FidPtr> garbage;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = handles_.find(fh);
    if (it == handles_.end()) return;
    h = std::move(it->second);
    handles_.erase(it);
    auto n = nodes_.find(h->node);
    if (n != nodes_.end()) {
      if (n->second->refs > 0) n->second->refs--;
      MaybeEraseLocked(h->node, &garbage);
    }
  }
  // The fid is clunked here, outside the lock, when the last user drops it.
}

// ---- directories -----------------------------------------------------------------------

ErrnoOr<std::uint64_t> Filesystem::Opendir(const Caller& c, std::uint64_t ino) {
  auto h = std::make_shared<Handle>();
  h->node = ino;
  h->uid = c.uid;
  h->reopen_flags = O_RDONLY | O_DIRECTORY;
  auto r = Run<Unit>([&](const SessionPtr& s, Attempt&) -> ErrnoOr<Unit> {
    std::uint32_t iounit = 0;
    auto fid = OpenFid(s, c.uid, ino, h->reopen_flags, &iounit);
    if (!fid.ok()) return Fail{fid.error()};
    std::lock_guard<std::mutex> lock(h->mu);
    h->fid = *fid;
    h->iounit = iounit;
    return Unit{};
  });
  if (!r.ok()) return Fail{r.error()};
  return AddHandle(std::move(h));
}

ErrnoOr<std::vector<ninep::Dirent>> Filesystem::Readdir(std::uint64_t fh, std::uint64_t offset,
                                                        std::size_t size) {
  auto h = FindHandle(fh);
  if (!h) return Fail{EBADF};
  return Run<std::vector<ninep::Dirent>>(
      [&](const SessionPtr& s, Attempt&) -> ErrnoOr<std::vector<ninep::Dirent>> {
        auto fid = HandleFid(s, h);
        if (!fid.ok()) return Fail{fid.error()};
        ninep::Treaddir req;
        req.fid = (*fid)->id;
        req.offset = offset;
        req.count = static_cast<std::uint32_t>(std::min<std::size_t>(size, s->iounit()));
        auto r = s->Call<ninep::Rreaddir>(req);
        if (!r.ok()) return Fail{r.error()};
        auto entries = ninep::DecodeDirents(r->data.bytes);
        if (!entries.ok()) return Fail{EIO};
        return std::move(*entries);
      });
}

int Filesystem::Fsyncdir(std::uint64_t fh, bool datasync) {
  auto h = FindHandle(fh);
  if (!h) return EBADF;
  return RunStatus([&](const SessionPtr& s, Attempt&) -> int {
    auto fid = HandleFid(s, h);
    if (!fid.ok()) return fid.error();
    ninep::Tfsync req;
    req.fid = (*fid)->id;
    req.datasync = datasync ? 1 : 0;
    auto r = s->Call<ninep::Rfsync>(req);
    return r.ok() ? 0 : r.error();
  });
}

ErrnoOr<struct statvfs> Filesystem::Statfs(const Caller& c) {
  return Run<struct statvfs>([&](const SessionPtr& s, Attempt&) -> ErrnoOr<struct statvfs> {
    auto fid = s->Root(c.uid);
    if (!fid.ok()) return Fail{fid.error()};
    ninep::Tstatfs req;
    req.fid = (*fid)->id;
    auto r = s->Call<ninep::Rstatfs>(req);
    if (!r.ok()) return Fail{r.error()};
    struct statvfs st {};
    st.f_bsize = r->bsize;
    st.f_frsize = r->bsize;
    st.f_blocks = r->blocks;
    st.f_bfree = r->bfree;
    st.f_bavail = r->bavail;
    st.f_files = r->files;
    st.f_ffree = r->ffree;
    st.f_favail = r->ffree;
    st.f_fsid = r->fsid;
    st.f_namemax = r->namelen != 0 ? r->namelen : 255;
    return st;
  });
}

// ---- xattrs ----------------------------------------------------------------------------

ErrnoOr<std::string> Filesystem::ReadXattr(const SessionPtr& s, const FidPtr& fid,
                                           const std::string& name) {
  ninep::Txattrwalk walk;
  walk.fid = fid->id;
  walk.newfid = s->NewFid();
  walk.name = name;
  auto r = s->Call<ninep::Rxattrwalk>(walk);
  if (!r.ok()) return Fail{r.error()};
  FidPtr xfid = s->Adopt(walk.newfid);
  if (r->size > kMaxXattrBytes) return Fail{E2BIG};
  std::string value;
  while (value.size() < r->size) {
    ninep::Tread read;
    read.fid = xfid->id;
    read.offset = value.size();
    read.count = static_cast<std::uint32_t>(std::min<std::uint64_t>(r->size - value.size(),
                                                                    s->iounit()));
    auto got = s->Call<ninep::Rread>(read);
    if (!got.ok()) return Fail{got.error()};
    if (got->data.bytes.empty()) break;
    value.append(got->data.bytes);
  }
  if (value.size() != r->size) return Fail{EIO};
  return value;
}

ErrnoOr<std::string> Filesystem::Getxattr(const Caller& c, std::uint64_t ino,
                                          const std::string& name) {
  return Run<std::string>([&](const SessionPtr& s, Attempt&) -> ErrnoOr<std::string> {
    auto fid = NodeFid(s, c.uid, ino);
    if (!fid.ok()) return Fail{fid.error()};
    auto value = ReadXattr(s, *fid, name);
    // Servers answer a missing attribute with ENOENT or ENODATA; Linux says ENODATA.
    if (!value.ok() && value.error() == ENOENT) return Fail{ENODATA};
    return value;
  });
}

ErrnoOr<std::string> Filesystem::Listxattr(const Caller& c, std::uint64_t ino) {
  return Run<std::string>([&](const SessionPtr& s, Attempt&) -> ErrnoOr<std::string> {
    auto fid = NodeFid(s, c.uid, ino);
    if (!fid.ok()) return Fail{fid.error()};
    return ReadXattr(s, *fid, "");
  });
}

int Filesystem::Setxattr(const Caller& c, std::uint64_t ino, const std::string& name,
                         std::string_view value, int flags) {
  if (value.size() > kMaxXattrBytes) return E2BIG;
  return RunStatus([&](const SessionPtr& s, Attempt& a) -> int {
    auto fid = NodeFid(s, c.uid, ino);
    if (!fid.ok()) return fid.error();
    auto clone = Walk(s, *fid, {});
    if (!clone.ok()) return clone.error();
    ninep::Txattrcreate create;
    create.fid = clone->first->id;
    create.name = name;
    create.attr_size = value.size();
    create.flags = static_cast<std::uint32_t>(flags);
    a.mutation_sent = true;
    auto r = s->Call<ninep::Rxattrcreate>(create);
    if (!r.ok()) {
      // XATTR_CREATE of an attribute our lost request created.
      return (a.maybe_done && r.error() == EEXIST) ? 0 : r.error();
    }
    std::size_t done = 0;
    while (done < value.size()) {
      ninep::Twrite write;
      write.fid = clone->first->id;
      write.offset = done;
      write.data.bytes.assign(value.substr(done, s->iounit()));
      auto w = s->Call<ninep::Rwrite>(write);
      if (!w.ok()) return w.error();
      if (w->count == 0) return EIO;
      done += w->count;
    }
    // The attribute is set by the clunk, whose answer is the answer.
    ninep::Tclunk clunk;
    clunk.fid = clone->first->id;
    auto done_reply = s->Call<ninep::Rclunk>(clunk);
    // The fid is gone whatever the answer; do not clunk it again.
    clone->first->clunk_on_drop = false;
    return done_reply.ok() ? 0 : done_reply.error();
  });
}

int Filesystem::Removexattr(const Caller& c, std::uint64_t ino, const std::string& name) {
  return RunStatus([&](const SessionPtr& s, Attempt& a) -> int {
    auto fid = NodeFid(s, c.uid, ino);
    if (!fid.ok()) return fid.error();
    auto clone = Walk(s, *fid, {});
    if (!clone.ok()) return clone.error();
    // What v9fs sends for removexattr: an empty value with XATTR_REPLACE.
    ninep::Txattrcreate create;
    create.fid = clone->first->id;
    create.name = name;
    create.attr_size = 0;
    create.flags = XATTR_REPLACE;
    a.mutation_sent = true;
    auto r = s->Call<ninep::Rxattrcreate>(create);
    int err = 0;
    if (!r.ok()) {
      err = r.error();
    } else {
      ninep::Tclunk clunk;
      clunk.fid = clone->first->id;
      auto done = s->Call<ninep::Rclunk>(clunk);
      clone->first->clunk_on_drop = false;
      if (!done.ok()) err = done.error();
    }
    if (err == ENOENT) err = ENODATA;
    if (err == ENODATA && a.maybe_done) err = 0;
    return err;
  });
}

// ---- locks -----------------------------------------------------------------------------

namespace {

std::uint8_t ToLockType(short type) {
  switch (type) {
    case F_RDLCK:
      return ninep::kLockTypeRead;
    case F_WRLCK:
      return ninep::kLockTypeWrite;
    default:
      return ninep::kLockTypeUnlock;
  }
}

short FromLockType(std::uint8_t type) {
  switch (type) {
    case ninep::kLockTypeRead:
      return F_RDLCK;
    case ninep::kLockTypeWrite:
      return F_WRLCK;
    default:
      return F_UNLCK;
  }
}

}  // namespace

ErrnoOr<LockRequest> Filesystem::Getlk(std::uint64_t fh, const LockRequest& lock) {
  auto h = FindHandle(fh);
  if (!h) return Fail{EBADF};
  return Run<LockRequest>([&](const SessionPtr& s, Attempt&) -> ErrnoOr<LockRequest> {
    auto fid = HandleFid(s, h);
    if (!fid.ok()) return Fail{fid.error()};
    ninep::Tgetlock req;
    req.fid = (*fid)->id;
    req.type = ToLockType(lock.type);
    req.start = lock.start;
    req.length = lock.length;
    req.proc_id = lock.pid;
    req.client_id = options_.lock_client_id;
    auto r = s->Call<ninep::Rgetlock>(req);
    if (!r.ok()) return Fail{r.error()};
    LockRequest out;
    out.type = FromLockType(r->type);
    out.start = r->start;
    out.length = r->length;
    out.pid = r->proc_id;
    return out;
  });
}

int Filesystem::Setlk(std::uint64_t fh, const LockRequest& lock, bool wait,
                      const std::function<bool()>& interrupted) {
  auto h = FindHandle(fh);
  if (!h) return EBADF;
  auto delay = std::chrono::milliseconds(10);
  for (;;) {
    ErrnoOr<std::uint8_t> status =
        Run<std::uint8_t>([&](const SessionPtr& s, Attempt&) -> ErrnoOr<std::uint8_t> {
          auto fid = HandleFid(s, h);
          if (!fid.ok()) return Fail{fid.error()};
          ninep::Tlock req;
          req.fid = (*fid)->id;
          req.type = ToLockType(lock.type);
          // Never ask the server to block: waiting is done here by polling, as v9fs
          // does, so that an interrupt can end it.
          req.flags = 0;
          req.start = lock.start;
          req.length = lock.length;
          req.proc_id = lock.pid;
          req.client_id = options_.lock_client_id;
          auto r = s->Call<ninep::Rlock>(req);
          if (!r.ok()) return Fail{r.error()};
          return r->status;
        });
    if (!status.ok()) return status.error();
    switch (*status) {
      case ninep::kLockSuccess:
        return 0;
      case ninep::kLockBlocked:
      case ninep::kLockGrace:
        if (!wait) return EAGAIN;
        break;
      default:
        return ENOLCK;
    }
    if (interrupted && interrupted()) return EINTR;
    std::this_thread::sleep_for(delay);
    delay = std::min(delay * 2, std::chrono::milliseconds(500));
  }
}

int Filesystem::Access(const Caller& c, std::uint64_t ino, int mask) {
  auto st = Getattr(c, ino, std::nullopt);
  if (!st.ok()) return st.error();
  if (mask == F_OK) return 0;
  std::uint32_t mode = st->st_mode;
  if (c.uid == 0) {
    // root may do anything, but execute needs some execute bit on a non-directory.
    if ((mask & X_OK) != 0 && !S_ISDIR(mode) && (mode & 0111) == 0) return EACCES;
    return 0;
  }
  std::uint32_t bits;
  if (st->st_uid == c.uid) {
    bits = (mode >> 6) & 7;
  } else if (st->st_gid == c.gid) {
    bits = (mode >> 3) & 7;
  } else {
    bits = mode & 7;
  }
  return (static_cast<std::uint32_t>(mask) & ~bits & 7) != 0 ? EACCES : 0;
}

}  // namespace zerofs::mount
