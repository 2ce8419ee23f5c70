// VfsNfsHandler: the NfsHandler that serves a ZeroFS volume — every NFSv3 and MOUNT v3
// procedure of RFC 1813 mapped onto zerofs::vfs::Filesystem, whose errno values map 1:1
// onto nfsstat3.
//
// Credentials: the AUTH_SYS uid, gid and gids become vfs::Credentials; AUTH_NONE calls
// arrive as nobody (65534, set by the dispatcher). The Filesystem checks permissions. As
// Linux's knfsd does, the owner of a file may READ and WRITE it (and truncate it) whatever
// its mode bits say, since NFS clients check access at open and then send plain READ/WRITE
// calls: a file created with mode 0444 stays writable through the descriptor that made it.
//
// File handles (28 bytes, layout in servers/nfs/README.md): a magic byte and version, the
// volume id (64 bits of a hash of the volume uuid), the inode number and the inode's
// generation. A handle that does not parse, or names another volume, is NFS3ERR_BADHANDLE;
// a deleted inode or a generation that does not match is NFS3ERR_STALE. Handles stay valid
// across restarts of the server, since inode numbers are never reused.
//
// Durability (DESIGN.md section 3). The write verifier is a hash of a random nonce of this
// handler instance, the volume's writer epoch and the volume id, so it changes whenever a
// server restart may have lost buffered writes. WRITE UNSTABLE answers UNSTABLE; COMMIT
// waits until every change to the file made before it is in the bucket
// (Filesystem::FsyncInode, which the engine group-commits with concurrent ones); WRITE
// DATA_SYNC / FILE_SYNC waits likewise before replying FILE_SYNC. With
// CommitMode::kRelaxed, COMMIT and stable WRITEs reply at once and the data reaches the
// bucket with the engine's next flush: a crash of the server (or its machine) in that window
// loses writes the client was told were on stable storage, and the client will not resend
// them. Namespace and attribute changes (CREATE, MKDIR, REMOVE, RENAME, SETATTR, ...) are
// applied at once and become durable with the next flush or COMMIT (DESIGN.md section 9:
// metadata operations never wait for the bucket).
//
// READDIR(PLUS) cookies are the Filesystem's per-entry cookies, valid for as long as their
// entry exists and across restarts, so the cookie verifier is a constant of the volume.
//
// Thread-safety: every method may be called concurrently (the Filesystem serializes what
// must be); the mount list and the stripes that order SETATTR guards and exclusive CREATEs
// have their own locks.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "zerofs/nfs/handler.h"
#include "zerofs/vfs/filesystem.h"

namespace zerofs::nfs {

enum class CommitMode : std::uint8_t {
  kDurable = 0,  // COMMIT and stable WRITEs reply once the data is in the bucket
  kRelaxed = 1,  // they reply at once; the data follows with the next flush
};

// "durable" / "relaxed".
std::string_view CommitModeName(CommitMode mode);
// InvalidArgument naming the text for anything but "durable" or "relaxed".
Result<CommitMode> ParseCommitMode(std::string_view text);

struct VfsNfsOptions {
  CommitMode commit = CommitMode::kDurable;
  // The write verifier's instance nonce; unset: random. Tests fix it to show that the
  // writer epoch alone changes the verifier.
  std::optional<std::uint64_t> instance_nonce;
};

struct VfsNfsStats {
  CommitMode commit_mode = CommitMode::kDurable;
  std::uint64_t writes_unstable = 0;
  std::uint64_t writes_stable = 0;
  std::uint64_t commits = 0;
  // COMMITs and stable WRITEs answered before their data was durable (relaxed mode).
  std::uint64_t acks_without_flush = 0;
  // COMMITs and stable WRITEs that failed because the data could not be made durable.
  std::uint64_t durability_errors = 0;
};

class VfsNfsHandler final : public NfsHandler {
 public:
  VfsNfsHandler(std::shared_ptr<vfs::Filesystem> fs, VfsNfsOptions options = {});
  ~VfsNfsHandler() override;

  Verifier write_verifier() const { return write_verf_; }
  Verifier cookie_verifier() const { return cookie_verf_; }
  std::uint64_t volume_id() const { return volume_id_; }
  CommitMode commit_mode() const { return options_.commit; }
  Fh3 RootHandle() const;
  Fh3 HandleOf(const vfs::Attr& attr) const;
  VfsNfsStats Stats() const;

  MntRes Mnt(const CallContext& ctx, const std::string& path) override;
  std::vector<MountEntry> Dump(const CallContext& ctx) override;
  void Umnt(const CallContext& ctx, const std::string& path) override;
  void Umntall(const CallContext& ctx) override;
  std::vector<ExportEntry> Export(const CallContext& ctx) override;

  GetattrRes Getattr(const CallContext& ctx, const FhArgs& args) override;
  WccRes Setattr(const CallContext& ctx, const SetattrArgs& args) override;
  LookupRes Lookup(const CallContext& ctx, const LookupArgs& args) override;
  AccessRes Access(const CallContext& ctx, const AccessArgs& args) override;
  ReadlinkRes Readlink(const CallContext& ctx, const FhArgs& args) override;
  ReadRes Read(const CallContext& ctx, const ReadArgs& args) override;
  WriteRes Write(const CallContext& ctx, const WriteArgs& args) override;
  DiropRes Create(const CallContext& ctx, const CreateArgs& args) override;
  DiropRes Mkdir(const CallContext& ctx, const MkdirArgs& args) override;
  DiropRes Symlink(const CallContext& ctx, const SymlinkArgs& args) override;
  DiropRes Mknod(const CallContext& ctx, const MknodArgs& args) override;
  WccRes Remove(const CallContext& ctx, const RemoveArgs& args) override;
  WccRes Rmdir(const CallContext& ctx, const RemoveArgs& args) override;
  RenameRes Rename(const CallContext& ctx, const RenameArgs& args) override;
  LinkRes Link(const CallContext& ctx, const LinkArgs& args) override;
  ReaddirRes Readdir(const CallContext& ctx, const ReaddirArgs& args) override;
  ReaddirRes Readdirplus(const CallContext& ctx, const ReaddirplusArgs& args) override;
  FsstatRes Fsstat(const CallContext& ctx, const FhArgs& args) override;
  FsinfoRes Fsinfo(const CallContext& ctx, const FhArgs& args) override;
  PathconfRes Pathconf(const CallContext& ctx, const FhArgs& args) override;
  CommitRes Commit(const CallContext& ctx, const CommitArgs& args) override;

 private:
  static constexpr std::size_t kStripes = 64;

  // The attributes of the inode `fh` names; BADHANDLE / STALE as the header says.
  Nfsstat3 Resolve(const Fh3& fh, vfs::Attr* attr) const;
  Fattr3 ToFattr(const vfs::Attr& attr) const;
  PostOpAttr PostOp(vfs::Ino ino) const;
  std::optional<WccAttr> PreOp(vfs::Ino ino) const;
  // Fills `res` for a CREATE/MKDIR/SYMLINK/MKNOD that made (or found) `made`.
  // `extra` holds the attributes still to set on a new object (CREATE applied the mode).
  void FinishDirop(const vfs::Credentials& cred, Result<vfs::Attr> made,
                   const vfs::SetAttrRequest& extra, vfs::Ino dir, DiropRes& res) const;
  // Makes the file's changes durable as the commit mode says; false when that failed.
  bool MakeDurable(vfs::Ino ino);
  ReaddirRes List(const CallContext& ctx, const Fh3& dir, std::uint64_t cookie,
                  const Verifier& verf, std::size_t max_entries, bool plus);
  std::mutex& Stripe(std::uint64_t key) { return stripes_[key % kStripes]; }

  const std::shared_ptr<vfs::Filesystem> fs_;
  const VfsNfsOptions options_;
  const std::uint64_t volume_id_;
  Verifier write_verf_{};
  Verifier cookie_verf_{};
  std::array<std::mutex, kStripes> stripes_;

  std::atomic<std::uint64_t> writes_unstable_{0}, writes_stable_{0}, commits_{0},
      acks_without_flush_{0}, durability_errors_{0};

  std::mutex mounts_mu_;
  std::set<std::pair<std::string, std::string>> mounts_;  // GUARDED_BY(mounts_mu_)
};

}  // namespace zerofs::nfs
