// The decoded form of every 9P2000.L message this server speaks.
//
// Each struct lists its wire fields, in wire order, once: in Fields(), which the codec
// walks to encode and to decode, so the two directions cannot drift apart. Field order
// follows diod's protocol.md and the kernel's net/9p/client.c. `Data` is count[4] +
// bytes (Twrite, Rread, Rreaddir); `std::string` is a 9P string, len[2] + bytes.
//
// Thread-safety: plain value types.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "zerofs/ninep/protocol.h"

namespace zerofs::ninep {

struct Data {
  std::string bytes;
  friend bool operator==(const Data&, const Data&) = default;
};

#define ZEROFS_NINEP_MESSAGE(Name, ...)                      \
  static constexpr MessageType kType = MessageType::k##Name; \
  template <typename F>                                      \
  void Fields(F& f) {                                        \
    f(__VA_ARGS__);                                          \
  }                                                          \
  friend bool operator==(const Name&, const Name&) = default

#define ZEROFS_NINEP_EMPTY_MESSAGE(Name)                     \
  static constexpr MessageType kType = MessageType::k##Name; \
  template <typename F>                                      \
  void Fields(F&) {}                                         \
  friend bool operator==(const Name&, const Name&) = default

// ---- T-messages ----------------------------------------------------------------------

struct Tversion {
  std::uint32_t msize = 0;
  std::string version;
  ZEROFS_NINEP_MESSAGE(Tversion, msize, version);
};
struct Tauth {
  std::uint32_t afid = 0;
  std::string uname, aname;
  std::uint32_t n_uname = kNoUid;
  ZEROFS_NINEP_MESSAGE(Tauth, afid, uname, aname, n_uname);
};
struct Tattach {
  std::uint32_t fid = 0, afid = kNoFid;
  std::string uname, aname;
  std::uint32_t n_uname = kNoUid;
  ZEROFS_NINEP_MESSAGE(Tattach, fid, afid, uname, aname, n_uname);
};
struct Tflush {
  std::uint16_t oldtag = 0;
  ZEROFS_NINEP_MESSAGE(Tflush, oldtag);
};
struct Twalk {
  std::uint32_t fid = 0, newfid = 0;
  std::vector<std::string> names;  // at most kMaxWalkNames
  ZEROFS_NINEP_MESSAGE(Twalk, fid, newfid, names);
};
struct Tread {
  std::uint32_t fid = 0;
  std::uint64_t offset = 0;
  std::uint32_t count = 0;
  ZEROFS_NINEP_MESSAGE(Tread, fid, offset, count);
};
struct Twrite {
  std::uint32_t fid = 0;
  std::uint64_t offset = 0;
  Data data;
  ZEROFS_NINEP_MESSAGE(Twrite, fid, offset, data);
};
struct Tclunk {
  std::uint32_t fid = 0;
  ZEROFS_NINEP_MESSAGE(Tclunk, fid);
};
struct Tremove {
  std::uint32_t fid = 0;
  ZEROFS_NINEP_MESSAGE(Tremove, fid);
};
struct Tstatfs {
  std::uint32_t fid = 0;
  ZEROFS_NINEP_MESSAGE(Tstatfs, fid);
};
struct Tlopen {
  std::uint32_t fid = 0, flags = 0;
  ZEROFS_NINEP_MESSAGE(Tlopen, fid, flags);
};
struct Tlcreate {
  std::uint32_t fid = 0;
  std::string name;
  std::uint32_t flags = 0, mode = 0, gid = 0;
  ZEROFS_NINEP_MESSAGE(Tlcreate, fid, name, flags, mode, gid);
};
struct Tsymlink {
  std::uint32_t fid = 0;
  std::string name, target;
  std::uint32_t gid = 0;
  ZEROFS_NINEP_MESSAGE(Tsymlink, fid, name, target, gid);
};
struct Tmknod {
  std::uint32_t dfid = 0;
  std::string name;
  std::uint32_t mode = 0, major = 0, minor = 0, gid = 0;
  ZEROFS_NINEP_MESSAGE(Tmknod, dfid, name, mode, major, minor, gid);
};
struct Trename {
  std::uint32_t fid = 0, dfid = 0;
  std::string name;
  ZEROFS_NINEP_MESSAGE(Trename, fid, dfid, name);
};
struct Treadlink {
  std::uint32_t fid = 0;
  ZEROFS_NINEP_MESSAGE(Treadlink, fid);
};
struct Tgetattr {
  std::uint32_t fid = 0;
  std::uint64_t request_mask = 0;
  ZEROFS_NINEP_MESSAGE(Tgetattr, fid, request_mask);
};
struct Tsetattr {
  std::uint32_t fid = 0, valid = 0, mode = 0, uid = 0, gid = 0;
  std::uint64_t size = 0, atime_sec = 0, atime_nsec = 0, mtime_sec = 0, mtime_nsec = 0;
  ZEROFS_NINEP_MESSAGE(Tsetattr, fid, valid, mode, uid, gid, size, atime_sec, atime_nsec, mtime_sec,
                       mtime_nsec);
};
struct Txattrwalk {
  std::uint32_t fid = 0, newfid = 0;
  std::string name;  // empty: list the names
  ZEROFS_NINEP_MESSAGE(Txattrwalk, fid, newfid, name);
};
struct Txattrcreate {
  std::uint32_t fid = 0;
  std::string name;
  std::uint64_t attr_size = 0;
  std::uint32_t flags = 0;
  ZEROFS_NINEP_MESSAGE(Txattrcreate, fid, name, attr_size, flags);
};
struct Treaddir {
  std::uint32_t fid = 0;
  std::uint64_t offset = 0;
  std::uint32_t count = 0;
  ZEROFS_NINEP_MESSAGE(Treaddir, fid, offset, count);
};
struct Tfsync {
  std::uint32_t fid = 0, datasync = 0;
  ZEROFS_NINEP_MESSAGE(Tfsync, fid, datasync);
};
struct Tlock {
  std::uint32_t fid = 0;
  std::uint8_t type = 0;
  std::uint32_t flags = 0;
  std::uint64_t start = 0, length = 0;
  std::uint32_t proc_id = 0;
  std::string client_id;
  ZEROFS_NINEP_MESSAGE(Tlock, fid, type, flags, start, length, proc_id, client_id);
};
struct Tgetlock {
  std::uint32_t fid = 0;
  std::uint8_t type = 0;
  std::uint64_t start = 0, length = 0;
  std::uint32_t proc_id = 0;
  std::string client_id;
  ZEROFS_NINEP_MESSAGE(Tgetlock, fid, type, start, length, proc_id, client_id);
};
struct Tlink {
  std::uint32_t dfid = 0, fid = 0;
  std::string name;
  ZEROFS_NINEP_MESSAGE(Tlink, dfid, fid, name);
};
struct Tmkdir {
  std::uint32_t dfid = 0;
  std::string name;
  std::uint32_t mode = 0, gid = 0;
  ZEROFS_NINEP_MESSAGE(Tmkdir, dfid, name, mode, gid);
};
struct Trenameat {
  std::uint32_t olddirfid = 0;
  std::string oldname;
  std::uint32_t newdirfid = 0;
  std::string newname;
  ZEROFS_NINEP_MESSAGE(Trenameat, olddirfid, oldname, newdirfid, newname);
};
struct Tunlinkat {
  std::uint32_t dirfid = 0;
  std::string name;
  std::uint32_t flags = 0;
  ZEROFS_NINEP_MESSAGE(Tunlinkat, dirfid, name, flags);
};

using Request = std::variant<Tversion, Tauth, Tattach, Tflush, Twalk, Tread, Twrite, Tclunk,
                             Tremove, Tstatfs, Tlopen, Tlcreate, Tsymlink, Tmknod, Trename,
                             Treadlink, Tgetattr, Tsetattr, Txattrwalk, Txattrcreate, Treaddir,
                             Tfsync, Tlock, Tgetlock, Tlink, Tmkdir, Trenameat, Tunlinkat>;

// ---- R-messages ----------------------------------------------------------------------

struct Rlerror {
  std::uint32_t ecode = 0;  // a Linux errno
  ZEROFS_NINEP_MESSAGE(Rlerror, ecode);
};
struct Rversion {
  std::uint32_t msize = 0;
  std::string version;
  ZEROFS_NINEP_MESSAGE(Rversion, msize, version);
};
struct Rauth {
  Qid aqid;
  ZEROFS_NINEP_MESSAGE(Rauth, aqid);
};
struct Rattach {
  Qid qid;
  ZEROFS_NINEP_MESSAGE(Rattach, qid);
};
struct Rflush {
  ZEROFS_NINEP_EMPTY_MESSAGE(Rflush);
};
struct Rwalk {
  std::vector<Qid> qids;  // at most kMaxWalkNames
  ZEROFS_NINEP_MESSAGE(Rwalk, qids);
};
struct Rread {
  Data data;
  ZEROFS_NINEP_MESSAGE(Rread, data);
};
struct Rwrite {
  std::uint32_t count = 0;
  ZEROFS_NINEP_MESSAGE(Rwrite, count);
};
struct Rclunk {
  ZEROFS_NINEP_EMPTY_MESSAGE(Rclunk);
};
struct Rremove {
  ZEROFS_NINEP_EMPTY_MESSAGE(Rremove);
};
struct Rstatfs {
  std::uint32_t type = 0, bsize = 0;
  std::uint64_t blocks = 0, bfree = 0, bavail = 0, files = 0, ffree = 0, fsid = 0;
  std::uint32_t namelen = 0;
  ZEROFS_NINEP_MESSAGE(Rstatfs, type, bsize, blocks, bfree, bavail, files, ffree, fsid, namelen);
};
struct Rlopen {
  Qid qid;
  std::uint32_t iounit = 0;
  ZEROFS_NINEP_MESSAGE(Rlopen, qid, iounit);
};
struct Rlcreate {
  Qid qid;
  std::uint32_t iounit = 0;
  ZEROFS_NINEP_MESSAGE(Rlcreate, qid, iounit);
};
struct Rsymlink {
  Qid qid;
  ZEROFS_NINEP_MESSAGE(Rsymlink, qid);
};
struct Rmknod {
  Qid qid;
  ZEROFS_NINEP_MESSAGE(Rmknod, qid);
};
struct Rrename {
  ZEROFS_NINEP_EMPTY_MESSAGE(Rrename);
};
struct Rreadlink {
  std::string target;
  ZEROFS_NINEP_MESSAGE(Rreadlink, target);
};
struct Rgetattr {
  std::uint64_t valid = 0;
  Qid qid;
  std::uint32_t mode = 0, uid = 0, gid = 0;
  std::uint64_t nlink = 0, rdev = 0, size = 0, blksize = 0, blocks = 0;
  std::uint64_t atime_sec = 0, atime_nsec = 0, mtime_sec = 0, mtime_nsec = 0;
  std::uint64_t ctime_sec = 0, ctime_nsec = 0, btime_sec = 0, btime_nsec = 0;
  std::uint64_t gen = 0, data_version = 0;
  ZEROFS_NINEP_MESSAGE(Rgetattr, valid, qid, mode, uid, gid, nlink, rdev, size, blksize, blocks,
                       atime_sec, atime_nsec, mtime_sec, mtime_nsec, ctime_sec, ctime_nsec,
                       btime_sec, btime_nsec, gen, data_version);
};
struct Rsetattr {
  ZEROFS_NINEP_EMPTY_MESSAGE(Rsetattr);
};
struct Rxattrwalk {
  std::uint64_t size = 0;
  ZEROFS_NINEP_MESSAGE(Rxattrwalk, size);
};
struct Rxattrcreate {
  ZEROFS_NINEP_EMPTY_MESSAGE(Rxattrcreate);
};
struct Rreaddir {
  Data data;  // packed entries; see EncodeDirent
  ZEROFS_NINEP_MESSAGE(Rreaddir, data);
};
struct Rfsync {
  ZEROFS_NINEP_EMPTY_MESSAGE(Rfsync);
};
struct Rlock {
  std::uint8_t status = kLockSuccess;
  ZEROFS_NINEP_MESSAGE(Rlock, status);
};
struct Rgetlock {
  std::uint8_t type = kLockTypeUnlock;
  std::uint64_t start = 0, length = 0;
  std::uint32_t proc_id = 0;
  std::string client_id;
  ZEROFS_NINEP_MESSAGE(Rgetlock, type, start, length, proc_id, client_id);
};
struct Rlink {
  ZEROFS_NINEP_EMPTY_MESSAGE(Rlink);
};
struct Rmkdir {
  Qid qid;
  ZEROFS_NINEP_MESSAGE(Rmkdir, qid);
};
struct Rrenameat {
  ZEROFS_NINEP_EMPTY_MESSAGE(Rrenameat);
};
struct Runlinkat {
  ZEROFS_NINEP_EMPTY_MESSAGE(Runlinkat);
};

using Reply = std::variant<Rlerror, Rversion, Rauth, Rattach, Rflush, Rwalk, Rread, Rwrite, Rclunk,
                           Rremove, Rstatfs, Rlopen, Rlcreate, Rsymlink, Rmknod, Rrename, Rreadlink,
                           Rgetattr, Rsetattr, Rxattrwalk, Rxattrcreate, Rreaddir, Rfsync, Rlock,
                           Rgetlock, Rlink, Rmkdir, Rrenameat, Runlinkat>;

#undef ZEROFS_NINEP_MESSAGE
#undef ZEROFS_NINEP_EMPTY_MESSAGE

}  // namespace zerofs::ninep
