// LockTable: the POSIX byte-range record locks (fcntl F_SETLK / F_GETLK) of a Filesystem's
// files, kept in memory and shared by every protocol served over that Filesystem
// (Filesystem::locks()), so a lock taken over one protocol or connection conflicts with
// the locks of every other.
//
// A lock covers bytes [start, start + length) of one inode, or from `start` to the end of
// the file however far it grows when `length` is 0 (or start + length passes the largest
// offset). It is shared (F_RDLCK) or exclusive (F_WRLCK) and held by a LockOwner: a
// session (one client connection or mount, from NewSession), a process within it and the
// client's name for itself. Locks of one owner never conflict with each other; as POSIX
// says, a new lock of an owner replaces that owner's locks in its range (converting their
// type, splitting the ones it cuts) and merges with the owner's overlapping or adjacent
// locks of the same type, so an owner's locks on a file are disjoint, maximal ranges.
// Unlocking a part of a range splits it. Two owners conflict where their ranges overlap
// and at least one of the two locks is exclusive. Nothing ever waits here: a conflicting
// Lock fails at once with EAGAIN and the protocol (or its client) retries a blocking
// request, so no server thread sleeps on a lock.
//
// Locks live as long as their owner holds them: the protocol releases an owner's locks on a
// file when the owner closes it (ReleaseOwner; POSIX drops a process's locks on any close)
// and every lock of a session when the client disconnects (ReleaseSession). They are not
// written to the volume: a restarted server holds no locks, as a rebooted NFS server does.
//
// Bounds: the locks held in all, on one inode and by one session are limited
// (LockTableOptions); a Lock or Unlock that would pass a limit fails with ENOLCK and changes
// nothing. Owner names are limited too (EINVAL beyond).
//
// Thread-safety: every method may be called from any thread; one mutex of the table's own
// guards its state, held only for the in-memory work of one call.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "zerofs/common/status.h"
#include "zerofs/vfs/types.h"

namespace zerofs::vfs {

enum class LockType : std::uint8_t {
  kShared = 0,     // F_RDLCK: conflicts only with exclusive locks
  kExclusive = 1,  // F_WRLCK: conflicts with every lock of another owner
};

// A client session (connection, mount): NewSession hands them out, never 0.
using LockSession = std::uint64_t;
inline constexpr LockSession kNoLockSession = 0;

// Who holds a lock: equal owners are one owner.
struct LockOwner {
  LockSession session = kNoLockSession;
  // The process within the session (9P proc_id, a FUSE lock owner, an NLM svid).
  std::uint64_t process = 0;
  // The client's name for itself (9P client_id, an NLM caller name); may be empty.
  std::string client;
  friend bool operator==(const LockOwner&, const LockOwner&) = default;
};

// A lock as held: `length` 0 means to the end of the file.
struct HeldLock {
  LockOwner owner;
  LockType type = LockType::kShared;
  std::uint64_t start = 0;
  std::uint64_t length = 0;
  friend bool operator==(const HeldLock&, const HeldLock&) = default;
};

struct LockTableOptions {
  // Locks held at once over all files.
  std::size_t max_locks = 65536;
  // Locks on one inode, so that one file's list stays short to search.
  std::size_t max_locks_per_inode = 4096;
  // Locks of one session over all files, so one client cannot take every lock there is.
  std::size_t max_locks_per_session = 16384;
  // LockOwner::client bytes at most.
  std::size_t max_client_bytes = 1024;
};

class LockTable {
 public:
  explicit LockTable(LockTableOptions options = {});
  LockTable(const LockTable&) = delete;
  LockTable& operator=(const LockTable&) = delete;

  // A session number no other caller of this table gets.
  LockSession NewSession();

  // F_SETLK with F_RDLCK / F_WRLCK: takes (or converts to) `type` over the range for
  // `owner`. EAGAIN when another owner holds a conflicting lock there; ENOLCK when the
  // result would pass a limit; EINVAL for an owner without a session or with too long a
  // client name. On failure nothing changes.
  Status Lock(Ino ino, const LockOwner& owner, LockType type, std::uint64_t start,
              std::uint64_t length);
  // F_SETLK with F_UNLCK: drops `owner`'s locks in the range, keeping the parts outside it.
  // ENOLCK when the split would pass a limit (nothing changes); unlocking what is not
  // locked is OK.
  Status Unlock(Ino ino, const LockOwner& owner, std::uint64_t start, std::uint64_t length);
  // F_GETLK: a lock of another owner that conflicts with `type` over the range (of those,
  // the one that starts first), or nullopt when Lock would succeed as far as other owners
  // go.
  std::optional<HeldLock> GetLock(Ino ino, const LockOwner& owner, LockType type,
                                  std::uint64_t start, std::uint64_t length) const;

  // Drops every lock `owner` holds on `ino` (the owner closed the file).
  void ReleaseOwner(Ino ino, const LockOwner& owner);
  // Drops every lock of `session` on every file (the client disconnected).
  void ReleaseSession(LockSession session);

  // Locks held now, over all files.
  std::size_t size() const;
  // The locks on `ino`, by start (then by owner): what tests and diagnostics look at.
  std::vector<HeldLock> LocksOn(Ino ino) const;
  const LockTableOptions& options() const { return options_; }

 private:
  struct Range {
    LockOwner owner;
    LockType type = LockType::kShared;
    std::uint64_t start = 0;
    std::uint64_t end = 0;  // inclusive; UINT64_MAX: to the end of the file
  };
  struct SessionLocks {
    std::size_t count = 0;
    std::unordered_map<Ino, std::size_t> per_inode;  // locks of the session on each inode
  };

  // Replaces `owner`'s locks on `ino` within [start, end] with `type` (nullopt: unlock),
  // after the conflict and limit checks.
  Status Apply(Ino ino, const LockOwner& owner, std::optional<LockType> type, std::uint64_t start,
               std::uint64_t end);
  // Drops the ranges of `ino` for which `drop` holds and updates the counts; mu_ held.
  template <typename Pred>
  void DropLocked(Ino ino, Pred drop);
  // Adds `delta` to the counts of `session` on `ino` (erasing what reaches 0); mu_ held.
  void CountLocked(LockSession session, Ino ino, std::ptrdiff_t delta);

  const LockTableOptions options_;
  std::atomic<LockSession> next_session_{1};

  mutable std::mutex mu_;
  // Each inode's ranges, sorted by start; an inode without locks has no entry.
  std::unordered_map<Ino, std::vector<Range>> inodes_;      // GUARDED_BY(mu_)
  std::unordered_map<LockSession, SessionLocks> sessions_;  // GUARDED_BY(mu_)
  std::size_t total_ = 0;                                   // GUARDED_BY(mu_)
};

}  // namespace zerofs::vfs
