// LockTable; see zerofs/vfs/locks.h.
#include "zerofs/vfs/locks.h"

#include <algorithm>
#include <cerrno>
#include <limits>
#include <string>
#include <tuple>
#include <utility>

#include "zerofs/vfs/error.h"

namespace zerofs::vfs {
namespace {

constexpr std::uint64_t kToEnd = std::numeric_limits<std::uint64_t>::max();

// The inclusive last byte of [start, start + length); kToEnd for 0 or past the largest offset.
std::uint64_t EndOf(std::uint64_t start, std::uint64_t length) {
  if (length == 0 || length - 1 > kToEnd - start) return kToEnd;
  return start + length - 1;
}

std::uint64_t LengthOf(std::uint64_t start, std::uint64_t end) {
  return end == kToEnd ? 0 : end - start + 1;
}

bool Overlaps(std::uint64_t a_start, std::uint64_t a_end, std::uint64_t b_start,
              std::uint64_t b_end) {
  return a_start <= b_end && b_start <= a_end;
}

// Overlapping or adjacent: one range the two could merge into.
bool Touches(std::uint64_t a_start, std::uint64_t a_end, std::uint64_t b_start,
             std::uint64_t b_end) {
  return Overlaps(a_start, a_end, b_start, b_end) || (a_end != kToEnd && a_end + 1 == b_start) ||
         (b_end != kToEnd && b_end + 1 == a_start);
}

bool Conflict(LockType a, LockType b) {
  return a == LockType::kExclusive || b == LockType::kExclusive;
}

std::string Describe(Ino ino, std::uint64_t start, std::uint64_t end) {
  std::string s = "lock of bytes " + std::to_string(start) + "..";
  s += end == kToEnd ? std::string("end") : std::to_string(end);
  s += " of inode " + std::to_string(ino);
  return s;
}

}  // namespace

LockTable::LockTable(LockTableOptions options) : options_(options) {}

LockSession LockTable::NewSession() {
  return next_session_.fetch_add(1, std::memory_order_relaxed);
}

Status LockTable::Lock(Ino ino, const LockOwner& owner, LockType type, std::uint64_t start,
                       std::uint64_t length) {
  if (owner.session == kNoLockSession) {
    return Error(EINVAL, Describe(ino, start, EndOf(start, length)) + ": the owner has no session");
  }
  if (owner.client.size() > options_.max_client_bytes) {
    return Error(EINVAL, Describe(ino, start, EndOf(start, length)) + ": a client name of " +
                             std::to_string(owner.client.size()) + " bytes (at most " +
                             std::to_string(options_.max_client_bytes) + ")");
  }
  return Apply(ino, owner, type, start, EndOf(start, length));
}

Status LockTable::Unlock(Ino ino, const LockOwner& owner, std::uint64_t start,
                         std::uint64_t length) {
  return Apply(ino, owner, std::nullopt, start, EndOf(start, length));
}

Status LockTable::Apply(Ino ino, const LockOwner& owner, std::optional<LockType> type,
                        std::uint64_t start, std::uint64_t end) {
  std::lock_guard lock(mu_);
  auto it = inodes_.find(ino);
  if (it == inodes_.end() && !type.has_value()) return Status::Ok();
  static const std::vector<Range> kNone;
  const std::vector<Range>& ranges = it == inodes_.end() ? kNone : it->second;
  if (type.has_value()) {
    for (const Range& r : ranges) {
      if (!(r.owner == owner) && Overlaps(r.start, r.end, start, end) && Conflict(r.type, *type)) {
        return Error(EAGAIN,
                     Describe(ino, start, end) + ": another owner holds a conflicting lock");
      }
    }
  }

  // The owner's ranges give way to the new one: cut where they have another type, merged
  // into it where they touch it with the same type.
  std::vector<Range> next;
  next.reserve(ranges.size() + 2);
  std::size_t mine_before = 0;
  std::size_t mine_after = 0;
  Range added{owner, type.value_or(LockType::kShared), start, end};
  for (const Range& r : ranges) {
    if (!(r.owner == owner)) {
      next.push_back(r);
      continue;
    }
    ++mine_before;
    if (type.has_value() && r.type == *type && Touches(r.start, r.end, start, end)) {
      added.start = std::min(added.start, r.start);
      added.end = std::max(added.end, r.end);
      continue;
    }
    if (!Overlaps(r.start, r.end, start, end)) {
      next.push_back(r);
      ++mine_after;
      continue;
    }
    if (r.start < start) {
      Range left = r;
      left.end = start - 1;
      next.push_back(std::move(left));
      ++mine_after;
    }
    if (r.end > end) {
      Range right = r;
      right.start = end + 1;
      next.push_back(std::move(right));
      ++mine_after;
    }
  }
  if (type.has_value()) {
    next.push_back(std::move(added));
    ++mine_after;
  }
  if (mine_before == 0 && mine_after == 0) return Status::Ok();  // unlocked what was not locked

  if (mine_after > mine_before) {
    const std::size_t more = mine_after - mine_before;
    const auto s = sessions_.find(owner.session);
    const std::size_t session_count = s == sessions_.end() ? 0 : s->second.count;
    const char* limit = nullptr;
    std::size_t max = 0;
    if (total_ + more > options_.max_locks) {
      limit = "in all";
      max = options_.max_locks;
    } else if (next.size() > options_.max_locks_per_inode) {
      limit = "on the inode";
      max = options_.max_locks_per_inode;
    } else if (session_count + more > options_.max_locks_per_session) {
      limit = "by the session";
      max = options_.max_locks_per_session;
    }
    if (limit != nullptr) {
      return Error(ENOLCK, Describe(ino, start, end) + ": would pass the limit of " +
                               std::to_string(max) + " byte-range locks held " + limit);
    }
  }

  std::sort(next.begin(), next.end(), [](const Range& a, const Range& b) {
    return std::tie(a.start, a.end, a.owner.session, a.owner.process, a.owner.client, a.type) <
           std::tie(b.start, b.end, b.owner.session, b.owner.process, b.owner.client, b.type);
  });
  if (next.empty()) {
    inodes_.erase(ino);
  } else {
    inodes_[ino] = std::move(next);
  }
  CountLocked(owner.session, ino,
              static_cast<std::ptrdiff_t>(mine_after) - static_cast<std::ptrdiff_t>(mine_before));
  return Status::Ok();
}

std::optional<HeldLock> LockTable::GetLock(Ino ino, const LockOwner& owner, LockType type,
                                           std::uint64_t start, std::uint64_t length) const {
  const std::uint64_t end = EndOf(start, length);
  std::lock_guard lock(mu_);
  auto it = inodes_.find(ino);
  if (it == inodes_.end()) return std::nullopt;
  for (const Range& r : it->second) {
    if (r.start > end) break;  // sorted by start: nothing later overlaps
    if (r.owner == owner || !Overlaps(r.start, r.end, start, end) || !Conflict(r.type, type)) {
      continue;
    }
    return HeldLock{r.owner, r.type, r.start, LengthOf(r.start, r.end)};
  }
  return std::nullopt;
}

template <typename Pred>
void LockTable::DropLocked(Ino ino, Pred drop) {
  auto it = inodes_.find(ino);
  if (it == inodes_.end()) return;
  std::vector<Range>& ranges = it->second;
  std::vector<Range> kept;
  kept.reserve(ranges.size());
  for (Range& r : ranges) {
    if (drop(r)) {
      CountLocked(r.owner.session, ino, -1);
    } else {
      kept.push_back(std::move(r));
    }
  }
  if (kept.empty()) {
    inodes_.erase(it);
  } else {
    ranges = std::move(kept);
  }
}

void LockTable::CountLocked(LockSession session, Ino ino, std::ptrdiff_t delta) {
  if (delta == 0) return;
  SessionLocks& s = sessions_[session];
  const auto add = [delta](std::size_t& n) {
    n = static_cast<std::size_t>(static_cast<std::ptrdiff_t>(n) + delta);
  };
  add(total_);
  add(s.count);
  std::size_t& on_inode = s.per_inode[ino];
  add(on_inode);
  if (on_inode == 0) s.per_inode.erase(ino);
  if (s.count == 0) sessions_.erase(session);
}

void LockTable::ReleaseOwner(Ino ino, const LockOwner& owner) {
  std::lock_guard lock(mu_);
  DropLocked(ino, [&owner](const Range& r) { return r.owner == owner; });
}

void LockTable::ReleaseSession(LockSession session) {
  std::lock_guard lock(mu_);
  auto s = sessions_.find(session);
  if (s == sessions_.end()) return;
  std::vector<Ino> inodes;
  inodes.reserve(s->second.per_inode.size());
  for (const auto& [ino, count] : s->second.per_inode) inodes.push_back(ino);
  // DropLocked erases the session's entry once its last lock is gone: `s` is not used again.
  for (Ino ino : inodes) {
    DropLocked(ino, [session](const Range& r) { return r.owner.session == session; });
  }
}

std::size_t LockTable::size() const {
  std::lock_guard lock(mu_);
  return total_;
}

std::vector<HeldLock> LockTable::LocksOn(Ino ino) const {
  std::lock_guard lock(mu_);
  std::vector<HeldLock> out;
  auto it = inodes_.find(ino);
  if (it == inodes_.end()) return out;
  out.reserve(it->second.size());
  for (const Range& r : it->second) {
    out.push_back(HeldLock{r.owner, r.type, r.start, LengthOf(r.start, r.end)});
  }
  return out;
}

}  // namespace zerofs::vfs
