// VfsNfsHandler over a real volume (engine + Filesystem on a MemoryStore): file handles
// (bad, stale, across a reopen), the SETATTR guard, CREATE modes and an exclusive create's
// retransmission, weak cache consistency data, the write verifier through COMMIT and across
// a reopen, concurrent COMMITs sharing one flush, relaxed commit, permissions through
// AUTH_SYS and AUTH_NONE, and READDIR/READDIRPLUS paging with cookies.
#include "zerofs/nfs/vfs_handler.h"

#include <catch2/catch.hpp>
#include <set>
#include <thread>

#include "../../unit/engine/engine_test_support.h"
#include "zerofs/common/log.h"
#include "zerofs/objstore/fault_injecting_store.h"
#include "zerofs/vfs/filesystem.h"

namespace zerofs::nfs {
namespace {

using testing::InitVolume;
using testing::TempDir;
using testing::TestOptions;

CallContext As(std::uint32_t uid, std::uint32_t gid, std::vector<std::uint32_t> gids = {}) {
  CallContext ctx;
  ctx.cred.uid = uid;
  ctx.cred.gid = gid;
  ctx.cred.gids = std::move(gids);
  ctx.cred.machine_name = "client";
  ctx.peer = "test";
  return ctx;
}
const CallContext kRoot = As(0, 0);
const CallContext kAlice = As(1000, 1000);
const CallContext kBob = As(1001, 1001);
CallContext Anonymous() {
  CallContext ctx = As(kNobodyId, kNobodyId);
  ctx.anonymous = true;
  return ctx;
}

Sattr3 Mode(std::uint32_t mode) {
  Sattr3 s;
  s.mode = mode;
  return s;
}

// A volume on a MemoryStore that can be closed and reopened (a new writer epoch), with a
// handler over its filesystem.
class Fixture {
 public:
  explicit Fixture(std::chrono::milliseconds flush_interval = std::chrono::milliseconds(50),
                   CommitMode mode = CommitMode::kDurable)
      : inner_(std::make_shared<objstore::MemoryStore>()),
        store_(std::make_shared<objstore::FaultInjectingStore>(inner_, 1)),
        flush_interval_(flush_interval) {
    log::SetLevel(log::Level::kWarn);
    InitVolume(*inner_);
    caches_.push_back(std::make_unique<TempDir>());
    Open(mode);
  }
  ~Fixture() { Close(); }

  void Open(CommitMode mode = CommitMode::kDurable, std::optional<std::uint64_t> nonce = {}) {
    engine::VolumeOptions options = TestOptions(store_, caches_.back()->path());
    options.flush_interval = flush_interval_;
    auto volume = engine::Volume::Open(std::move(options));
    INFO(volume.status().ToString());
    REQUIRE(volume.ok());
    volume_ = std::shared_ptr<engine::Volume>(std::move(*volume));
    vfs::FilesystemOptions fs_options;
    fs_options.volume = volume_;
    fs_options.root_mode = 0777;
    auto fs = vfs::Filesystem::Open(std::move(fs_options));
    REQUIRE(fs.ok());
    fs_ = std::shared_ptr<vfs::Filesystem>(std::move(*fs));
    VfsNfsOptions handler_options;
    handler_options.commit = mode;
    handler_options.instance_nonce = nonce;
    h = std::make_shared<VfsNfsHandler>(fs_, handler_options);
    root = h->RootHandle();
  }
  // The store stops answering, then the process goes: what was not durable is lost. The
  // next Open starts from the bucket alone (a fresh cache directory).
  void Crash() {
    store_->Crash();
    h.reset();
    fs_.reset();
    if (volume_) {
      (void)volume_->Close();
      volume_.reset();
    }
    store_->Restart();
    caches_.push_back(std::make_unique<TempDir>());
  }
  void Close() {
    h.reset();
    fs_.reset();
    if (volume_) {
      REQUIRE(volume_->SyncAll().ok());
      REQUIRE(volume_->Close().ok());
      volume_.reset();
    }
  }
  engine::Volume& volume() { return *volume_; }

  Fh3 MakeFile(const Fh3& dir, const std::string& name, const CallContext& ctx = kRoot,
               std::uint32_t mode = 0644) {
    CreateArgs a;
    a.where = {dir, name};
    a.mode = CreateMode::kGuarded;
    a.attributes = Mode(mode);
    DiropRes r = h->Create(ctx, a);
    REQUIRE(r.status == Nfsstat3::kOk);
    REQUIRE(r.object.has_value());
    return *r.object;
  }
  Fh3 MakeDir(const Fh3& dir, const std::string& name, const CallContext& ctx = kRoot) {
    MkdirArgs a;
    a.where = {dir, name};
    a.attributes = Mode(0755);
    DiropRes r = h->Mkdir(ctx, a);
    REQUIRE(r.status == Nfsstat3::kOk);
    return *r.object;
  }
  WriteRes Write(const Fh3& f, std::uint64_t off, const std::string& data,
                 StableHow how = StableHow::kUnstable, const CallContext& ctx = kRoot) {
    WriteArgs a;
    a.file = f;
    a.offset = off;
    a.count = static_cast<std::uint32_t>(data.size());
    a.stable = how;
    a.data = data;
    return h->Write(ctx, a);
  }
  ReadRes Read(const Fh3& f, std::uint64_t off, std::uint32_t count,
               const CallContext& ctx = kRoot) {
    return h->Read(ctx, ReadArgs{f, off, count});
  }
  Nfsstat3 GetattrStatus(const Fh3& f) { return h->Getattr(kRoot, FhArgs{f}).status; }
  Fattr3 Attr(const Fh3& f) {
    GetattrRes r = h->Getattr(kRoot, FhArgs{f});
    REQUIRE(r.status == Nfsstat3::kOk);
    return r.attributes;
  }
  Fh3 Lookup(const Fh3& dir, const std::string& name) {
    LookupRes r = h->Lookup(kRoot, LookupArgs{{dir, name}});
    REQUIRE(r.status == Nfsstat3::kOk);
    return r.object;
  }

  std::shared_ptr<VfsNfsHandler> h;
  Fh3 root;

 private:
  std::shared_ptr<objstore::MemoryStore> inner_;
  std::shared_ptr<objstore::FaultInjectingStore> store_;
  std::vector<std::unique_ptr<TempDir>> caches_;
  std::chrono::milliseconds flush_interval_;
  std::shared_ptr<engine::Volume> volume_;
  std::shared_ptr<vfs::Filesystem> fs_;
};

TEST_CASE("file handles: garbage and other volumes are BADHANDLE, deleted files STALE",
          "[nfs][vfs_handler]") {
  Fixture f;
  CHECK(f.GetattrStatus(f.root) == Nfsstat3::kOk);
  CHECK(f.Attr(f.root).type == Ftype3::kDir);
  CHECK(f.Attr(f.root).fsid == f.h->volume_id());
  CHECK(f.GetattrStatus(Fh3{"short"}) == Nfsstat3::kBadhandle);
  CHECK(f.GetattrStatus(Fh3{std::string(28, 'x')}) == Nfsstat3::kBadhandle);
  CHECK(f.GetattrStatus(Fh3{}) == Nfsstat3::kBadhandle);

  Fh3 other_volume = f.root;
  other_volume.data[5] = static_cast<char>(other_volume.data[5] ^ 1);
  CHECK(f.GetattrStatus(other_volume) == Nfsstat3::kBadhandle);

  const Fh3 file = f.MakeFile(f.root, "a");
  Fh3 wrong_generation = file;
  wrong_generation.data[27] = static_cast<char>(wrong_generation.data[27] ^ 1);
  CHECK(f.GetattrStatus(wrong_generation) == Nfsstat3::kStale);
  Fh3 no_such_inode = file;
  no_such_inode.data[12] = 0x7f;
  CHECK(f.GetattrStatus(no_such_inode) == Nfsstat3::kStale);

  CHECK(f.h->Remove(kRoot, RemoveArgs{{f.root, "a"}}).status == Nfsstat3::kOk);
  CHECK(f.GetattrStatus(file) == Nfsstat3::kStale);
  CHECK(f.Read(file, 0, 10).status == Nfsstat3::kStale);
  CHECK(f.Write(file, 0, "x").status == Nfsstat3::kStale);
  CHECK(f.h->Lookup(kRoot, LookupArgs{{file, "x"}}).status == Nfsstat3::kStale);

  // A handle outlives the server: the same volume reopened accepts it.
  const Fh3 kept = f.MakeFile(f.root, "kept");
  f.Close();
  f.Open();
  CHECK(f.GetattrStatus(kept) == Nfsstat3::kOk);
  CHECK(f.Lookup(f.root, "kept") == kept);
}

TEST_CASE("SETATTR: the guard, chmod and chown rights, truncate", "[nfs][vfs_handler]") {
  Fixture f;
  const Fh3 file = f.MakeFile(f.root, "g", kAlice);
  const Fattr3 before = f.Attr(file);

  SetattrArgs stale;
  stale.object = file;
  stale.attributes = Mode(0600);
  stale.guard_ctime = NfsTime3{before.ctime.seconds - 1, before.ctime.nseconds};
  WccRes r = f.h->Setattr(kAlice, stale);
  CHECK(r.status == Nfsstat3::kNotSync);
  CHECK(f.Attr(file).mode == 0644);

  SetattrArgs guarded = stale;
  guarded.guard_ctime = before.ctime;
  r = f.h->Setattr(kAlice, guarded);
  CHECK(r.status == Nfsstat3::kOk);
  REQUIRE(r.wcc.before.has_value());
  CHECK(r.wcc.before->ctime == before.ctime);
  REQUIRE(r.wcc.after.has_value());
  CHECK(r.wcc.after->mode == 0600);

  SetattrArgs chown;
  chown.object = file;
  chown.attributes.uid = 1001;
  CHECK(f.h->Setattr(kAlice, chown).status == Nfsstat3::kPerm);
  CHECK(f.h->Setattr(kBob, SetattrArgs{file, Mode(0777), {}}).status == Nfsstat3::kPerm);
  CHECK(f.h->Setattr(kRoot, chown).status == Nfsstat3::kOk);
  CHECK(f.Attr(file).uid == 1001);

  REQUIRE(f.Write(file, 0, "0123456789").status == Nfsstat3::kOk);
  SetattrArgs trunc;
  trunc.object = file;
  trunc.attributes.size = 4;
  CHECK(f.h->Setattr(kRoot, trunc).status == Nfsstat3::kOk);
  CHECK(f.Attr(file).size == 4);
  CHECK(f.Read(file, 0, 100).data == "0123");
}

TEST_CASE("CREATE: unchecked, guarded, exclusive and its retransmission", "[nfs][vfs_handler]") {
  Fixture f;
  CreateArgs guarded;
  guarded.where = {f.root, "f"};
  guarded.mode = CreateMode::kGuarded;
  guarded.attributes = Mode(0640);
  DiropRes made = f.h->Create(kAlice, guarded);
  REQUIRE(made.status == Nfsstat3::kOk);
  CHECK(made.obj_attr->mode == 0640);
  CHECK(made.obj_attr->uid == 1000);
  CHECK(f.h->Create(kAlice, guarded).status == Nfsstat3::kExist);

  REQUIRE(f.Write(*made.object, 0, "content", StableHow::kUnstable, kAlice).status ==
          Nfsstat3::kOk);
  CreateArgs unchecked = guarded;
  unchecked.mode = CreateMode::kUnchecked;
  unchecked.attributes = Mode(0600);
  DiropRes again = f.h->Create(kAlice, unchecked);
  REQUIRE(again.status == Nfsstat3::kOk);
  CHECK(*again.object == *made.object);
  CHECK(again.obj_attr->size == 7);     // no size asked: the data stays
  CHECK(again.obj_attr->mode == 0640);  // and so does the mode of an existing file
  unchecked.attributes.size = 0;
  CHECK(f.h->Create(kAlice, unchecked).obj_attr->size == 0);

  CreateArgs exclusive;
  exclusive.where = {f.root, "x"};
  exclusive.mode = CreateMode::kExclusive;
  exclusive.verf = {1, 2, 3, 4, 5, 6, 7, 8};
  DiropRes first = f.h->Create(kAlice, exclusive);
  REQUIRE(first.status == Nfsstat3::kOk);
  DiropRes retransmit = f.h->Create(kAlice, exclusive);
  REQUIRE(retransmit.status == Nfsstat3::kOk);
  CHECK(*retransmit.object == *first.object);
  CreateArgs other = exclusive;
  other.verf[7] = 9;
  CHECK(f.h->Create(kAlice, other).status == Nfsstat3::kExist);
  exclusive.where.name = "f";
  CHECK(f.h->Create(kAlice, exclusive).status == Nfsstat3::kExist);

  // The client then sets the real attributes; the verifier is gone with them.
  SetattrArgs set;
  set.object = *first.object;
  set.attributes = Mode(0644);
  set.attributes.atime_how = set.attributes.mtime_how = TimeHow::kServerTime;
  REQUIRE(f.h->Setattr(kAlice, set).status == Nfsstat3::kOk);
  CHECK(f.Attr(*first.object).mode == 0644);
  exclusive.where.name = "x";
  CHECK(f.h->Create(kAlice, exclusive).status == Nfsstat3::kExist);

  CHECK(f.h->Create(kAlice, CreateArgs{{f.root, "a/b"}, CreateMode::kGuarded, {}, {}}).status ==
        Nfsstat3::kInval);
  CHECK(f.h->Create(kAlice, CreateArgs{{f.root, std::string(256, 'n')}, CreateMode::kGuarded,
                                       {}, {}})
            .status == Nfsstat3::kNametoolong);
}

TEST_CASE("weak cache consistency data brackets each change", "[nfs][vfs_handler]") {
  Fixture f;
  const Fh3 dir = f.MakeDir(f.root, "d");
  const Fattr3 d0 = f.Attr(dir);
  std::this_thread::sleep_for(std::chrono::milliseconds(5));

  CreateArgs c{{dir, "file"}, CreateMode::kGuarded, Mode(0644), {}};
  DiropRes made = f.h->Create(kRoot, c);
  REQUIRE(made.status == Nfsstat3::kOk);
  REQUIRE(made.dir_wcc.before.has_value());
  CHECK(made.dir_wcc.before->mtime == d0.mtime);
  CHECK(made.dir_wcc.before->ctime == d0.ctime);
  REQUIRE(made.dir_wcc.after.has_value());
  CHECK(made.dir_wcc.after->mtime != d0.mtime);
  const Fattr3 d1 = *made.dir_wcc.after;

  WriteRes w = f.Write(*made.object, 0, std::string(5000, 'w'));
  REQUIRE(w.status == Nfsstat3::kOk);
  CHECK(w.wcc.before->size == 0);
  CHECK(w.wcc.after->size == 5000);

  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  RenameRes rn = f.h->Rename(kRoot, RenameArgs{{dir, "file"}, {f.root, "moved"}});
  REQUIRE(rn.status == Nfsstat3::kOk);
  CHECK(rn.from_dir_wcc.before->mtime == d1.mtime);
  CHECK(rn.from_dir_wcc.after->mtime != d1.mtime);
  CHECK(rn.to_dir_wcc.after.has_value());

  WccRes rm = f.h->Remove(kRoot, RemoveArgs{{f.root, "moved"}});
  REQUIRE(rm.status == Nfsstat3::kOk);
  CHECK(rm.wcc.before.has_value());
  CHECK(rm.wcc.after.has_value());
  // A failure reports the directory's attributes too.
  WccRes missing = f.h->Remove(kRoot, RemoveArgs{{f.root, "moved"}});
  CHECK(missing.status == Nfsstat3::kNoent);
  CHECK(missing.wcc.after.has_value());
}

TEST_CASE("the write verifier: stable through COMMIT, new with each volume epoch",
          "[nfs][vfs_handler]") {
  Fixture f(std::chrono::milliseconds(3600 * 1000));
  f.Close();
  f.Open(CommitMode::kDurable, 42);
  const Fh3 file = f.MakeFile(f.root, "data");
  WriteRes w = f.Write(file, 0, "committed");
  REQUIRE(w.status == Nfsstat3::kOk);
  CHECK(w.committed == StableHow::kUnstable);
  const Verifier v = w.verf;
  CHECK(v == f.h->write_verifier());

  const auto durable_before = f.volume().stats().durable_seq;
  CommitRes c = f.h->Commit(kRoot, CommitArgs{file, 0, 0});
  REQUIRE(c.status == Nfsstat3::kOk);
  CHECK(c.verf == v);
  CHECK(f.volume().stats().durable_seq > durable_before);  // COMMIT made it durable

  WriteRes sync = f.Write(file, 9, "+sync", StableHow::kFileSync);
  CHECK(sync.committed == StableHow::kFileSync);
  CHECK(sync.verf == v);
  CHECK(f.h->Stats().writes_stable == 1);
  CHECK(f.h->Stats().commits == 1);

  WriteRes lost = f.Write(file, 100, "never committed");
  CHECK(lost.verf == v);

  // The server dies before the COMMIT: the next instance has a new verifier even with the
  // same nonce (the writer epoch moved), the committed data is there, the rest is not.
  f.Crash();
  f.Open(CommitMode::kDurable, 42);
  CHECK(f.h->write_verifier() != v);
  CHECK(f.Read(file, 0, 1000).data == "committed+sync");
  CHECK(f.Attr(file).size == 14);
  CommitRes c2 = f.h->Commit(kRoot, CommitArgs{file, 0, 0});
  CHECK(c2.verf != v);
}

TEST_CASE("concurrent COMMITs share one flush", "[nfs][vfs_handler]") {
  Fixture f(std::chrono::milliseconds(3600 * 1000));
  constexpr int kFiles = 16;
  std::vector<Fh3> files;
  for (int i = 0; i < kFiles; ++i) {
    files.push_back(f.MakeFile(f.root, "c" + std::to_string(i)));
    REQUIRE(f.Write(files.back(), 0, std::string(10000, static_cast<char>('a' + i))).status ==
            Nfsstat3::kOk);
  }
  const engine::VolumeStats before = f.volume().stats();
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int i = 0; i < kFiles; ++i) {
    threads.emplace_back([&, i] {
      if (f.h->Commit(kRoot, CommitArgs{files[static_cast<std::size_t>(i)], 0, 0}).status ==
          Nfsstat3::kOk) {
        ok++;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(ok == kFiles);
  const engine::VolumeStats after = f.volume().stats();
  INFO("flushes " << before.flushes << " -> " << after.flushes);
  // Every COMMIT found its data in the one open batch: one flush serves them all (a second
  // may start if a late COMMIT arrives while the first uploads, with nothing new in it).
  CHECK(after.flushes - before.flushes <= 2);
  CHECK(after.segments_written - before.segments_written <= 2);
  CHECK(after.durable_seq >= before.committed_seq);
}

TEST_CASE("relaxed commit answers without waiting for the bucket", "[nfs][vfs_handler]") {
  Fixture f(std::chrono::milliseconds(3600 * 1000), CommitMode::kRelaxed);
  CHECK(f.h->commit_mode() == CommitMode::kRelaxed);
  const Fh3 file = f.MakeFile(f.root, "r");
  REQUIRE(f.Write(file, 0, "relaxed").status == Nfsstat3::kOk);
  const auto durable = f.volume().stats().durable_seq;
  CommitRes c = f.h->Commit(kRoot, CommitArgs{file, 0, 0});
  CHECK(c.status == Nfsstat3::kOk);
  CHECK(c.verf == f.h->write_verifier());
  WriteRes w = f.Write(file, 7, "!", StableHow::kFileSync);
  CHECK(w.committed == StableHow::kFileSync);
  CHECK(f.volume().stats().durable_seq == durable);  // nothing was flushed
  CHECK(f.h->Stats().acks_without_flush == 2);
  CHECK(f.h->Stats().commit_mode == CommitMode::kRelaxed);
  // Which is what relaxed risks: a crash now loses the "committed" data.
  f.Crash();
  f.Open();
  CHECK(f.GetattrStatus(file) == Nfsstat3::kStale);
}

TEST_CASE("permissions: AUTH_SYS users, owner override, AUTH_NONE as nobody",
          "[nfs][vfs_handler]") {
  Fixture f;
  const Fh3 secret = f.MakeFile(f.root, "secret", kAlice, 0600);
  REQUIRE(f.Write(secret, 0, "alice's", StableHow::kUnstable, kAlice).status == Nfsstat3::kOk);
  CHECK(f.Read(secret, 0, 100, kBob).status == Nfsstat3::kAcces);
  CHECK(f.Read(secret, 0, 100, Anonymous()).status == Nfsstat3::kAcces);
  CHECK(f.Write(secret, 0, "x", StableHow::kUnstable, kBob).status == Nfsstat3::kAcces);

  AccessRes bob = f.h->Access(kBob, AccessArgs{secret, 0x3f});
  CHECK(bob.status == Nfsstat3::kOk);
  CHECK(bob.access == 0);
  AccessRes alice = f.h->Access(kAlice, AccessArgs{secret, 0x3f});
  CHECK(alice.access == (kAccessRead | kAccessModify | kAccessExtend));
  AccessRes dir = f.h->Access(kBob, AccessArgs{f.root, 0x3f});
  CHECK(dir.access == (kAccessRead | kAccessLookup | kAccessModify | kAccessExtend |
                       kAccessDelete));

  // A file created read-only stays writable by its owner (the descriptor that made it).
  const Fh3 ro = f.MakeFile(f.root, "ro", kAlice, 0444);
  CHECK(f.Write(ro, 0, "data", StableHow::kUnstable, kAlice).status == Nfsstat3::kOk);
  CHECK(f.Write(ro, 0, "data", StableHow::kUnstable, kBob).status == Nfsstat3::kAcces);

  // Anonymous callers create files as nobody.
  const Fh3 anon = f.MakeFile(f.root, "anon", Anonymous());
  CHECK(f.Attr(anon).uid == kNobodyId);
  CHECK(f.Attr(anon).gid == kNobodyId);

  // Supplementary groups count.
  const Fh3 group_file = f.MakeFile(f.root, "group", kAlice, 0640);
  SetattrArgs chgrp;
  chgrp.object = group_file;
  chgrp.attributes.gid = 500;
  REQUIRE(f.h->Setattr(kRoot, chgrp).status == Nfsstat3::kOk);
  CHECK(f.Read(group_file, 0, 10, As(1001, 1001, {500})).status == Nfsstat3::kOk);
  CHECK(f.Read(group_file, 0, 10, As(1001, 1001, {501})).status == Nfsstat3::kAcces);
}

TEST_CASE("READDIR and READDIRPLUS page through every entry once", "[nfs][vfs_handler]") {
  Fixture f;
  const Fh3 dir = f.MakeDir(f.root, "big");
  std::set<std::string> expected = {".", ".."};
  for (int i = 0; i < 300; ++i) {
    const std::string name = "entry-" + std::to_string(i);
    f.MakeFile(dir, name);
    expected.insert(name);
  }
  for (bool plus : {false, true}) {
    INFO((plus ? "READDIRPLUS" : "READDIR"));
    const std::string removed = plus ? "entry-1" : "entry-0";
    std::multiset<std::string> seen;
    std::uint64_t cookie = 0;
    Verifier verf{};
    bool eof = false;
    int calls = 0;
    while (!eof && calls < 1000) {
      ++calls;
      ReaddirRes r = plus ? f.h->Readdirplus(kRoot, ReaddirplusArgs{dir, cookie, verf, 600, 4000})
                          : f.h->Readdir(kRoot, ReaddirArgs{dir, cookie, verf, 600});
      REQUIRE(r.status == Nfsstat3::kOk);
      CHECK(r.verf == f.h->cookie_verifier());
      verf = r.verf;
      for (const DirEntry& e : r.entries) {
        seen.insert(e.name);
        cookie = e.cookie;
        if (plus) {
          REQUIRE(e.attr.has_value());
          REQUIRE(e.handle.has_value());
          CHECK(e.attr->fileid == e.fileid);
        }
      }
      eof = r.eof;
      // Remove an entry already listed and add one: neither disturbs the rest.
      if (calls == 3) {
        REQUIRE(f.h->Remove(kRoot, RemoveArgs{{dir, removed}}).status == Nfsstat3::kOk);
        f.MakeFile(dir, plus ? "late-plus" : "late");
      }
    }
    CHECK(eof);
    CHECK(calls > 5);
    for (const std::string& name : expected) {
      if (name == "entry-0" && plus) continue;  // removed by the first pass
      CHECK(seen.count(name) == 1);
    }
    CHECK(seen.count(plus ? "late-plus" : "late") == 1);  // created after its cookie point
  }
  ReaddirRes bad = f.h->Readdir(kRoot, ReaddirArgs{dir, 5, {9, 9, 9, 9, 9, 9, 9, 9}, 4000});
  CHECK(bad.status == Nfsstat3::kBadCookie);
  const Fh3 file = f.MakeFile(f.root, "notdir");
  CHECK(f.h->Readdir(kRoot, ReaddirArgs{file, 0, {}, 4000}).status == Nfsstat3::kNotdir);
}

TEST_CASE("links, symlinks, special files, MOUNT and file system information",
          "[nfs][vfs_handler]") {
  Fixture f;
  const Fh3 file = f.MakeFile(f.root, "target");
  LinkRes link = f.h->Link(kRoot, LinkArgs{file, {f.root, "hard"}});
  REQUIRE(link.status == Nfsstat3::kOk);
  CHECK(link.file_attr->nlink == 2);
  CHECK(f.Lookup(f.root, "hard") == file);

  SymlinkArgs sl;
  sl.where = {f.root, "sym"};
  sl.target = "target";
  DiropRes sym = f.h->Symlink(kRoot, sl);
  REQUIRE(sym.status == Nfsstat3::kOk);
  CHECK(sym.obj_attr->type == Ftype3::kLnk);
  ReadlinkRes rl = f.h->Readlink(kRoot, FhArgs{*sym.object});
  CHECK(rl.status == Nfsstat3::kOk);
  CHECK(rl.target == "target");
  CHECK(f.h->Readlink(kRoot, FhArgs{file}).status == Nfsstat3::kInval);

  MknodArgs chr;
  chr.where = {f.root, "null"};
  chr.type = Ftype3::kChr;
  chr.attributes = Mode(0666);
  chr.major = 1;
  chr.minor = 3;
  DiropRes dev = f.h->Mknod(kRoot, chr);
  REQUIRE(dev.status == Nfsstat3::kOk);
  CHECK(dev.obj_attr->type == Ftype3::kChr);
  CHECK(dev.obj_attr->rdev_major == 1);
  CHECK(dev.obj_attr->rdev_minor == 3);
  CHECK(f.h->Mknod(kAlice, MknodArgs{{f.root, "dev2"}, Ftype3::kBlk, Mode(0600), 8, 0}).status ==
        Nfsstat3::kPerm);
  MknodArgs fifo{{f.root, "fifo"}, Ftype3::kFifo, Mode(0600), 0, 0};
  CHECK(f.h->Mknod(kAlice, fifo).obj_attr->type == Ftype3::kFifo);
  CHECK(f.h->Mknod(kAlice, MknodArgs{{f.root, "reg"}, Ftype3::kReg, {}, 0, 0}).status ==
        Nfsstat3::kBadtype);

  const Fh3 sub = f.MakeDir(f.root, "sub");
  f.MakeFile(sub, "inner");
  CHECK(f.h->Rmdir(kRoot, RemoveArgs{{f.root, "sub"}}).status == Nfsstat3::kNotempty);
  CHECK(f.h->Rename(kRoot, RenameArgs{{f.root, "sub"}, {sub, "loop"}}).status ==
        Nfsstat3::kInval);

  MntRes m = f.h->Mnt(kRoot, "/");
  CHECK(m.status == MountStat3::kOk);
  CHECK(m.handle == f.root);
  // libnfs mounts the directory part of its URL: nfs://host/file asks for "" and
  // nfs://host//file for "/"; both are the root export.
  for (const char* root_path : {"", "//", "/."}) {
    MntRes r = f.h->Mnt(kRoot, root_path);
    CHECK(r.status == MountStat3::kOk);
    CHECK(r.handle == f.root);
  }
  MntRes ms = f.h->Mnt(kRoot, "/sub");
  CHECK(ms.status == MountStat3::kOk);
  CHECK(ms.handle == sub);
  CHECK(f.h->Mnt(kRoot, "/missing").status == MountStat3::kNoent);
  CHECK(f.h->Mnt(kRoot, "/target").status == MountStat3::kNotdir);
  CHECK(f.h->Dump(kRoot).size() == 2);  // one per machine and path: "/" and "/sub"
  f.h->Umntall(kRoot);
  CHECK(f.h->Dump(kRoot).empty());
  CHECK(f.h->Export(kRoot).at(0).directory == "/");

  FsinfoRes info = f.h->Fsinfo(kRoot, FhArgs{f.root});
  CHECK(info.status == Nfsstat3::kOk);
  CHECK(info.rtmax == 1U << 20);
  CHECK(info.wtmax == 1U << 20);
  FsstatRes st = f.h->Fsstat(kRoot, FhArgs{f.root});
  CHECK(st.status == Nfsstat3::kOk);
  CHECK(st.tbytes >= st.fbytes);
  CHECK(st.tfiles > 0);
  PathconfRes pc = f.h->Pathconf(kRoot, FhArgs{f.root});
  CHECK(pc.name_max == 255);
  CHECK(pc.no_trunc);
}

}  // namespace
}  // namespace zerofs::nfs
