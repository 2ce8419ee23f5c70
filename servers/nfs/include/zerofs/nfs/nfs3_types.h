// NFSv3 (RFC 1813) and MOUNT v3 (RFC 1813 appendix I) data types, as plain values.
//
// One struct per argument and result of every procedure, shaped like the XDR in the RFC
// so that nfs3_codec.h is a direct transcription. A result carries `status`; the fields
// the RFC sends only on success are ignored by the encoder otherwise, and the fields it
// sends in both cases (post-op attributes, wcc data) always. Plain data: thread-safe to
// copy, no invariants beyond the size limits named below, which the decoders enforce.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace zerofs::nfs {

inline constexpr std::size_t kNfs3FhMaxBytes = 64;      // NFS3_FHSIZE
inline constexpr std::size_t kMaxNameBytes = 255;       // filename3 (server's own limit)
inline constexpr std::size_t kMaxPathBytes = 4096;      // nfspath3 (server's own limit)
inline constexpr std::size_t kMountPathBytes = 1024;    // MNTPATHLEN
inline constexpr std::size_t kMountNameBytes = 255;     // MNTNAMLEN
inline constexpr std::size_t kVerifierBytes = 8;        // NFS3_WRITEVERFSIZE etc.
inline constexpr std::uint32_t kMaxIoBytes = 1U << 20;  // READ/WRITE payload the server allows

enum class Nfsstat3 : std::uint32_t {
  kOk = 0,
  kPerm = 1,
  kNoent = 2,
  kIo = 5,
  kNxio = 6,
  kAcces = 13,
  kExist = 17,
  kXdev = 18,
  kNodev = 19,
  kNotdir = 20,
  kIsdir = 21,
  kInval = 22,
  kFbig = 27,
  kNospc = 28,
  kRofs = 30,
  kMlink = 31,
  kNametoolong = 63,
  kNotempty = 66,
  kDquot = 69,
  kStale = 70,
  kRemote = 71,
  kBadhandle = 10001,
  kNotSync = 10002,
  kBadCookie = 10003,
  kNotsupp = 10004,
  kToosmall = 10005,
  kServerfault = 10006,
  kBadtype = 10007,
  kJukebox = 10008,
};

enum class Ftype3 : std::uint32_t {
  kReg = 1,
  kDir = 2,
  kBlk = 3,
  kChr = 4,
  kLnk = 5,
  kSock = 6,
  kFifo = 7,
};

enum class StableHow : std::uint32_t { kUnstable = 0, kDataSync = 1, kFileSync = 2 };
enum class CreateMode : std::uint32_t { kUnchecked = 0, kGuarded = 1, kExclusive = 2 };
enum class TimeHow : std::uint32_t { kDontChange = 0, kServerTime = 1, kClientTime = 2 };

// ACCESS3_* bits.
inline constexpr std::uint32_t kAccessRead = 0x01, kAccessLookup = 0x02, kAccessModify = 0x04,
                               kAccessExtend = 0x08, kAccessDelete = 0x10, kAccessExecute = 0x20;
// FSINFO properties.
inline constexpr std::uint32_t kFsfLink = 0x01, kFsfSymlink = 0x02, kFsfHomogeneous = 0x08,
                               kFsfCanSetTime = 0x10;

using Verifier = std::array<std::uint8_t, kVerifierBytes>;
using WriteVerf3 = Verifier;   // changes when buffered writes may have been lost (a restart)
using CookieVerf3 = Verifier;  // READDIR(PLUS): changes when old cookies stop being valid
using CreateVerf3 = Verifier;  // CREATE EXCLUSIVE: the client's retransmission token

struct Fh3 {
  std::string data;  // opaque<64>
  bool operator==(const Fh3&) const = default;
};

struct NfsTime3 {
  std::uint32_t seconds = 0;
  std::uint32_t nseconds = 0;
  bool operator==(const NfsTime3&) const = default;
};

struct Fattr3 {
  Ftype3 type = Ftype3::kReg;
  std::uint32_t mode = 0;
  std::uint32_t nlink = 0;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
  std::uint64_t size = 0;
  std::uint64_t used = 0;
  std::uint32_t rdev_major = 0;
  std::uint32_t rdev_minor = 0;
  std::uint64_t fsid = 0;
  std::uint64_t fileid = 0;
  NfsTime3 atime, mtime, ctime;
  bool operator==(const Fattr3&) const = default;
};
using PostOpAttr = std::optional<Fattr3>;

struct WccAttr {
  std::uint64_t size = 0;
  NfsTime3 mtime, ctime;
  bool operator==(const WccAttr&) const = default;
};
struct WccData {
  std::optional<WccAttr> before;
  PostOpAttr after;
  bool operator==(const WccData&) const = default;
};

struct Sattr3 {
  std::optional<std::uint32_t> mode, uid, gid;
  std::optional<std::uint64_t> size;
  TimeHow atime_how = TimeHow::kDontChange;
  NfsTime3 atime;  // when kClientTime
  TimeHow mtime_how = TimeHow::kDontChange;
  NfsTime3 mtime;
  bool operator==(const Sattr3&) const = default;
};

struct DirOpArgs3 {
  Fh3 dir;
  std::string name;
};

// --- arguments --------------------------------------------------------------------------
struct FhArgs {
  Fh3 object;
};  // GETATTR, READLINK, FSSTAT, FSINFO, PATHCONF
struct SetattrArgs {
  Fh3 object;
  Sattr3 attributes;
  std::optional<NfsTime3> guard_ctime;
};
struct LookupArgs {
  DirOpArgs3 what;
};
struct AccessArgs {
  Fh3 object;
  std::uint32_t access = 0;
};
struct ReadArgs {
  Fh3 file;
  std::uint64_t offset = 0;
  std::uint32_t count = 0;
};
struct WriteArgs {
  Fh3 file;
  std::uint64_t offset = 0;
  std::uint32_t count = 0;
  StableHow stable = StableHow::kUnstable;
  std::string data;
};
struct CreateArgs {
  DirOpArgs3 where;
  CreateMode mode = CreateMode::kUnchecked;
  Sattr3 attributes;  // kUnchecked, kGuarded
  Verifier verf{};    // kExclusive
};
struct MkdirArgs {
  DirOpArgs3 where;
  Sattr3 attributes;
};
struct SymlinkArgs {
  DirOpArgs3 where;
  Sattr3 attributes;
  std::string target;
};
struct MknodArgs {
  DirOpArgs3 where;
  Ftype3 type = Ftype3::kFifo;
  Sattr3 attributes;                   // all but kReg/kDir/kLnk
  std::uint32_t major = 0, minor = 0;  // kChr, kBlk
};
struct RemoveArgs {
  DirOpArgs3 object;
};  // REMOVE, RMDIR
struct RenameArgs {
  DirOpArgs3 from, to;
};
struct LinkArgs {
  Fh3 file;
  DirOpArgs3 link;
};
struct ReaddirArgs {
  Fh3 dir;
  std::uint64_t cookie = 0;
  Verifier verf{};
  std::uint32_t count = 0;
};
struct ReaddirplusArgs {
  Fh3 dir;
  std::uint64_t cookie = 0;
  Verifier verf{};
  std::uint32_t dircount = 0;
  std::uint32_t maxcount = 0;
};
struct CommitArgs {
  Fh3 file;
  std::uint64_t offset = 0;
  std::uint32_t count = 0;
};

// --- results ----------------------------------------------------------------------------
struct GetattrRes {
  Nfsstat3 status = Nfsstat3::kOk;
  Fattr3 attributes;
};
struct WccRes {
  Nfsstat3 status = Nfsstat3::kOk;
  WccData wcc;
};  // SETATTR, REMOVE, RMDIR
struct LookupRes {
  Nfsstat3 status = Nfsstat3::kOk;
  Fh3 object;
  PostOpAttr obj_attr, dir_attr;
};
struct AccessRes {
  Nfsstat3 status = Nfsstat3::kOk;
  PostOpAttr attr;
  std::uint32_t access = 0;
};
struct ReadlinkRes {
  Nfsstat3 status = Nfsstat3::kOk;
  PostOpAttr attr;
  std::string target;
};
struct ReadRes {
  Nfsstat3 status = Nfsstat3::kOk;
  PostOpAttr attr;
  bool eof = false;
  std::string data;  // count = data.size()
};
struct WriteRes {
  Nfsstat3 status = Nfsstat3::kOk;
  WccData wcc;
  std::uint32_t count = 0;
  StableHow committed = StableHow::kFileSync;
  Verifier verf{};
};
// CREATE, MKDIR, SYMLINK, MKNOD.
struct DiropRes {
  Nfsstat3 status = Nfsstat3::kOk;
  std::optional<Fh3> object;
  PostOpAttr obj_attr;
  WccData dir_wcc;
};
struct RenameRes {
  Nfsstat3 status = Nfsstat3::kOk;
  WccData from_dir_wcc, to_dir_wcc;
};
struct LinkRes {
  Nfsstat3 status = Nfsstat3::kOk;
  PostOpAttr file_attr;
  WccData link_dir_wcc;
};
struct DirEntry {
  std::uint64_t fileid = 0;
  std::string name;
  std::uint64_t cookie = 0;
  PostOpAttr attr;            // READDIRPLUS only
  std::optional<Fh3> handle;  // READDIRPLUS only
};
// READDIR and READDIRPLUS. The encoder drops trailing entries that do not fit the
// client's byte budget (and then clears eof), so a handler may return too many.
struct ReaddirRes {
  Nfsstat3 status = Nfsstat3::kOk;
  PostOpAttr dir_attr;
  Verifier verf{};
  std::vector<DirEntry> entries;
  bool eof = false;
};
struct FsstatRes {
  Nfsstat3 status = Nfsstat3::kOk;
  PostOpAttr attr;
  std::uint64_t tbytes = 0, fbytes = 0, abytes = 0, tfiles = 0, ffiles = 0, afiles = 0;
  std::uint32_t invarsec = 0;
};
struct FsinfoRes {
  Nfsstat3 status = Nfsstat3::kOk;
  PostOpAttr attr;
  std::uint32_t rtmax = kMaxIoBytes, rtpref = kMaxIoBytes, rtmult = 4096;
  std::uint32_t wtmax = kMaxIoBytes, wtpref = kMaxIoBytes, wtmult = 4096;
  std::uint32_t dtpref = 64 * 1024;
  std::uint64_t maxfilesize = ~std::uint64_t{0} >> 1;
  NfsTime3 time_delta{0, 1};
  std::uint32_t properties = kFsfLink | kFsfSymlink | kFsfHomogeneous | kFsfCanSetTime;
};
struct PathconfRes {
  Nfsstat3 status = Nfsstat3::kOk;
  PostOpAttr attr;
  std::uint32_t linkmax = 65535, name_max = kMaxNameBytes;
  bool no_trunc = true, chown_restricted = true, case_insensitive = false, case_preserving = true;
};
struct CommitRes {
  Nfsstat3 status = Nfsstat3::kOk;
  WccData wcc;
  Verifier verf{};
};

// --- MOUNT v3 ---------------------------------------------------------------------------
enum class MountStat3 : std::uint32_t {
  kOk = 0,
  kPerm = 1,
  kNoent = 2,
  kIo = 5,
  kAcces = 13,
  kNotdir = 20,
  kInval = 22,
  kNametoolong = 63,
  kNotsupp = 10004,
  kServerfault = 10006,
};
struct MntRes {
  MountStat3 status = MountStat3::kOk;
  Fh3 handle;
  std::vector<std::uint32_t> auth_flavors;
};
struct MountEntry {
  std::string hostname, directory;
};  // DUMP
struct ExportEntry {
  std::string directory;
  std::vector<std::string> groups;
};  // EXPORT

// Procedure numbers.
enum class Nfs3Proc : std::uint32_t {
  kNull = 0,
  kGetattr = 1,
  kSetattr = 2,
  kLookup = 3,
  kAccess = 4,
  kReadlink = 5,
  kRead = 6,
  kWrite = 7,
  kCreate = 8,
  kMkdir = 9,
  kSymlink = 10,
  kMknod = 11,
  kRemove = 12,
  kRmdir = 13,
  kRename = 14,
  kLink = 15,
  kReaddir = 16,
  kReaddirplus = 17,
  kFsstat = 18,
  kFsinfo = 19,
  kPathconf = 20,
  kCommit = 21,
};
enum class MountProc : std::uint32_t {
  kNull = 0,
  kMnt = 1,
  kDump = 2,
  kUmnt = 3,
  kUmntall = 4,
  kExport = 5,
};

}  // namespace zerofs::nfs
