// PosixModel: a deliberately simple in-memory POSIX filesystem, written for the model-based
// test from Linux's rules (not from the VFS code): a map of inodes, directories as maps of
// names, file data as strings. Every operation returns the errno it expects (0 on success)
// and the value; the test runs the same operation against the Filesystem and compares.
//
// Inode numbers and handle ids come from the Filesystem (the model takes them as arguments
// when an operation creates one), so the two can be compared directly. Time is whatever
// SetNow said last, as the test's clock tells the Filesystem.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "zerofs/vfs/types.h"

namespace zerofs::testing {

template <typename T>
struct Out {
  int err = 0;
  T value{};
  static Out Fail(int e) { return {e, T{}}; }
};

struct MEntry {
  std::string name;
  vfs::Ino ino = 0;
  vfs::FileType type = vfs::FileType::kUnknown;
  std::uint64_t cookie = 0;
  friend bool operator==(const MEntry&, const MEntry&) = default;
};

class PosixModel {
 public:
  struct Node {
    vfs::Ino ino = 0;
    std::uint32_t mode = 0;
    std::uint32_t uid = 0;
    std::uint32_t gid = 0;
    std::uint32_t nlink = 0;
    std::uint64_t rdev = 0;
    vfs::Timespec atime, mtime, ctime;
    std::string data;                                                   // regular files
    std::string target;                                                 // symlinks
    vfs::Ino parent = 0;                                                // directories
    std::map<std::string, std::pair<vfs::Ino, std::uint64_t>> entries;  // name -> ino, cookie
    std::uint64_t next_cookie = 3;
    std::map<std::string, std::string> xattrs;
    int open_count = 0;

    vfs::FileType type() const { return index::FileTypeOfMode(mode); }
    bool is_dir() const { return type() == vfs::FileType::kDirectory; }
    bool is_reg() const { return type() == vfs::FileType::kRegular; }
    std::uint64_t size() const;
  };

  PosixModel(vfs::Timespec root_time);

  void SetNow(vfs::Timespec now) { now_ = now; }

  Out<vfs::Attr> Lookup(const vfs::Credentials& c, vfs::Ino parent, const std::string& name);
  Out<vfs::Attr> GetAttr(vfs::Ino ino) const;
  Out<vfs::Attr> SetAttr(const vfs::Credentials& c, vfs::Ino ino, const vfs::SetAttrRequest& r);
  int Access(const vfs::Credentials& c, vfs::Ino ino, std::uint32_t mask) const;
  // `new_ino` / `handle`: what the Filesystem returned (used only if the model succeeds).
  Out<vfs::CreateResult> Create(const vfs::Credentials& c, vfs::Ino parent, const std::string& name,
                                std::uint32_t mode, std::uint32_t flags, bool exclusive, bool open,
                                vfs::Ino new_ino, vfs::HandleId handle);
  Out<vfs::Attr> Mkdir(const vfs::Credentials& c, vfs::Ino parent, const std::string& name,
                       std::uint32_t mode, vfs::Ino new_ino);
  Out<vfs::Attr> Mknod(const vfs::Credentials& c, vfs::Ino parent, const std::string& name,
                       std::uint32_t mode, std::uint64_t rdev, vfs::Ino new_ino);
  Out<vfs::Attr> Symlink(const vfs::Credentials& c, vfs::Ino parent, const std::string& name,
                         const std::string& target, vfs::Ino new_ino);
  Out<std::string> ReadLink(vfs::Ino ino);
  Out<vfs::Attr> Link(const vfs::Credentials& c, vfs::Ino ino, vfs::Ino parent,
                      const std::string& name);
  int Unlink(const vfs::Credentials& c, vfs::Ino parent, const std::string& name);
  int Rmdir(const vfs::Credentials& c, vfs::Ino parent, const std::string& name);
  int Rename(const vfs::Credentials& c, vfs::Ino parent, const std::string& name,
             vfs::Ino new_parent, const std::string& new_name, std::uint32_t flags);

  int Open(const vfs::Credentials& c, vfs::Ino ino, std::uint32_t flags, vfs::HandleId handle);
  int Release(vfs::HandleId handle);
  Out<std::string> Read(vfs::HandleId h, std::uint64_t offset, std::uint64_t length);
  Out<std::uint64_t> Write(vfs::HandleId h, std::uint64_t offset, const std::string& data);
  Out<std::string> ReadInode(const vfs::Credentials& c, vfs::Ino ino, std::uint64_t offset,
                             std::uint64_t length);
  Out<std::uint64_t> WriteInode(const vfs::Credentials& c, vfs::Ino ino, std::uint64_t offset,
                                const std::string& data);
  int Fallocate(vfs::HandleId h, std::uint32_t mode, std::uint64_t offset, std::uint64_t length);
  Out<std::uint64_t> Seek(vfs::HandleId h, std::uint64_t offset, int whence);
  // The whole listing as ReadDirInode returns it, "." and ".." first.
  Out<std::vector<MEntry>> ListDir(const vfs::Credentials& c, vfs::Ino ino);

  Out<std::string> GetXattr(const vfs::Credentials& c, vfs::Ino ino, const std::string& name);
  int SetXattr(const vfs::Credentials& c, vfs::Ino ino, const std::string& name,
               const std::string& value, std::uint32_t flags);
  Out<std::vector<std::string>> ListXattr(const vfs::Credentials& c, vfs::Ino ino);
  int RemoveXattr(const vfs::Credentials& c, vfs::Ino ino, const std::string& name);

  std::uint64_t UsedBytes() const;
  // What statfs counts: a directory removed while open is gone from the count at rmdir.
  std::uint64_t InodeCount() const {
    std::uint64_t count = 0;
    for (const auto& [ino, n] : nodes_) {
      if (!(n.is_dir() && n.nlink == 0)) ++count;
    }
    return count;
  }
  // The Filesystem went away and came back: handles are gone, orphans reclaimed.
  void Restart();

  // For generating operations.
  const std::map<vfs::Ino, Node>& nodes() const { return nodes_; }
  const std::map<vfs::HandleId, vfs::Ino>& handle_inos() const { return handle_inos_; }
  vfs::Attr AttrOf(const Node& n) const;

 private:
  struct Handle {
    vfs::Ino ino = 0;
    vfs::Credentials cred;
    bool readable = false, writable = false, append = false, dir = false;
  };

  Node* Find(vfs::Ino ino);
  const Node* Find(vfs::Ino ino) const;
  int Perm(const vfs::Credentials& c, const Node& n, std::uint32_t mask) const;
  int MayDelete(const vfs::Credentials& c, const Node& dir, const Node& victim,
                bool expect_dir) const;
  int CreateChecks(const vfs::Credentials& c, vfs::Ino parent, const std::string& name);
  Node& AddNode(const vfs::Credentials& c, Node& parent, const std::string& name,
                std::uint32_t mode, vfs::Ino ino);
  void DropLink(Node& n);
  void Touch(Node& n);
  void KillOnWrite(const vfs::Credentials& c, Node& n);
  Out<std::string> ReadData(vfs::Ino ino, std::uint64_t offset, std::uint64_t length);
  Out<std::uint64_t> WriteData(const vfs::Credentials& c, vfs::Ino ino, std::uint64_t offset,
                               const std::string& data, bool append);
  int OpenChecks(const vfs::Credentials& c, Node& n, std::uint32_t flags, bool created,
                 Handle* out);
  int XattrCheck(const vfs::Credentials& c, const Node& n, const std::string& name,
                 bool write) const;

  vfs::Timespec now_;
  std::map<vfs::Ino, Node> nodes_;
  std::map<vfs::HandleId, Handle> handles_;
  std::map<vfs::HandleId, vfs::Ino> handle_inos_;
};

}  // namespace zerofs::testing
