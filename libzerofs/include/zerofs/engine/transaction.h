// Transaction: one atomic change to a volume, as the VFS or the NBD server builds it.
//
// A transaction is an ordered list of operations on the index key space (put and delete of
// keys from zerofs/index/keys.h) and on file data (write bytes, drop a range of extents,
// truncate). Volume::Commit applies all of it at once: readers see either none or all of
// it, and it becomes durable in one segment (never split across two), so a crash keeps or
// loses it whole.
//
// Data operations are expressed in bytes of one inode's data; the engine maps them onto
// 32 KiB extents, reads what a partial write must merge with, and never stores all-zero
// extents (they read back as zeros, i.e. holes).
//
// A transaction must fit in one segment: at most about 64 thousand extents (2 GiB of data,
// or a truncate/punch over that many stored extents) and 32 MiB of keys and values.
// Commit refuses a larger one (kInvalidArgument); callers split big truncates and punches
// into several transactions.
//
// Thread-safety: a plain value type, built by one thread and handed to Commit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace zerofs::engine {

struct TxnOp {
  enum class Kind : std::uint8_t {
    kPut = 1,         // key, value
    kDelete = 2,      // key
    kWrite = 3,       // inode, offset, data
    kZeroRange = 4,   // inode, offset, length: reads back zeros, storage released
    kTruncate = 5,    // inode, offset = new size, length = old size
    kDropData = 6,    // inode: all its data is released in the background
  };
  Kind kind;
  std::string key;
  std::string value;  // kPut: the value; kWrite: the data
  std::uint64_t inode = 0;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

class Transaction {
 public:
  void Put(std::string key, std::string value) {
    ops_.push_back({TxnOp::Kind::kPut, std::move(key), std::move(value)});
  }
  void Delete(std::string key) { ops_.push_back({TxnOp::Kind::kDelete, std::move(key), {}}); }
  // Writes `data` at `offset` of the inode's data.
  void Write(std::uint64_t inode, std::uint64_t offset, std::string_view data) {
    ops_.push_back({TxnOp::Kind::kWrite, {}, std::string(data), inode, offset, data.size()});
  }
  // Makes [offset, offset + length) read as zeros and releases whole extents inside it.
  void ZeroRange(std::uint64_t inode, std::uint64_t offset, std::uint64_t length) {
    ops_.push_back({TxnOp::Kind::kZeroRange, {}, {}, inode, offset, length});
  }
  // The data shrinks or grows from `old_size` to `new_size`: extents past the new end are
  // released and the tail of the last one is zeroed, so a later extension reads zeros.
  void Truncate(std::uint64_t inode, std::uint64_t old_size, std::uint64_t new_size) {
    ops_.push_back({TxnOp::Kind::kTruncate, {}, {}, inode, new_size, old_size});
  }

  // Releases all of the inode's data, however large, without making this transaction large:
  // a small file's extents (at most 1024) are released by this transaction itself; for a
  // larger one it commits a pending-drop record, and the volume's collector releases the
  // extents in bounded rounds afterwards (resumed after a restart). For a deleted inode
  // only: its data must no longer be read or written.
  void DropData(std::uint64_t inode) {
    ops_.push_back({TxnOp::Kind::kDropData, {}, {}, inode, 0, 0});
  }

  bool empty() const { return ops_.empty(); }
  const std::vector<TxnOp>& ops() const { return ops_; }

 private:
  std::vector<TxnOp> ops_;
};

}  // namespace zerofs::engine
