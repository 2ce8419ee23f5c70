// LockTable: POSIX byte-range locks — conflicts, shared and exclusive, ranges to the end of
// the file, splits and merges, release by owner and by session, the limits — and a seeded
// randomized test against a byte-by-byte model (replay: unit_vfs --rng-seed N "locks:
// random*").
#include "zerofs/vfs/locks.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <thread>
#include <tuple>
#include <vector>

#include "vfs_test_support.h"

using namespace zerofs;
using namespace zerofs::testing;
using vfs::HeldLock;
using vfs::LockOwner;
using vfs::LockSession;
using vfs::LockTable;
using vfs::LockTableOptions;
using vfs::LockType;

namespace {

constexpr LockType kSh = LockType::kShared;
constexpr LockType kEx = LockType::kExclusive;
constexpr std::uint64_t kMax = std::numeric_limits<std::uint64_t>::max();

struct Owners {
  explicit Owners(LockTable& t)
      : a{t.NewSession(), 1, "host"}, a2{a.session, 2, "host"}, b{t.NewSession(), 1, "host"} {}
  LockOwner a;   // a process on one client
  LockOwner a2;  // another process of that client
  LockOwner b;   // the same process id and name on another client: another owner
};

HeldLock Held(const LockOwner& o, LockType t, std::uint64_t start, std::uint64_t length) {
  return HeldLock{o, t, start, length};
}

}  // namespace

namespace Catch {
template <>
struct StringMaker<HeldLock> {
  static std::string convert(const HeldLock& l) {
    return std::string(l.type == LockType::kExclusive ? "ex" : "sh") + " " +
           std::to_string(l.start) + "+" + std::to_string(l.length) + " by (" +
           std::to_string(l.owner.session) + "," + std::to_string(l.owner.process) + ",'" +
           l.owner.client + "')";
  }
};
}  // namespace Catch

TEST_CASE("locks: exclusive conflicts with every other owner, shared only with exclusive") {
  LockTable t;
  Owners o(t);
  REQUIRE_OK(t.Lock(7, o.a, kEx, 0, 100));
  CHECK_ERRNO(t.Lock(7, o.b, kSh, 50, 10), EAGAIN);
  CHECK_ERRNO(t.Lock(7, o.a2, kEx, 99, 1), EAGAIN);  // another process of the same client
  // Outside the range, and on another inode, there is no conflict.
  REQUIRE_OK(t.Lock(7, o.b, kEx, 100, 0));
  REQUIRE_OK(t.Lock(8, o.b, kEx, 0, 0));
  // Shared locks of two owners coexist; an exclusive one over them does not.
  REQUIRE_OK(t.Lock(9, o.a, kSh, 0, 10));
  REQUIRE_OK(t.Lock(9, o.b, kSh, 5, 10));
  CHECK_ERRNO(t.Lock(9, o.a2, kEx, 12, 1), EAGAIN);
  // The owner's own locks never conflict: converting shared to exclusive fails only
  // because of the other owner's shared lock over part of the range.
  CHECK_ERRNO(t.Lock(9, o.a, kEx, 0, 10), EAGAIN);
  REQUIRE_OK(t.Lock(9, o.a, kEx, 0, 5));
  CHECK(t.LocksOn(9) ==
        std::vector<HeldLock>{Held(o.a, kEx, 0, 5), Held(o.a, kSh, 5, 5), Held(o.b, kSh, 5, 10)});
  // A failed lock changed nothing.
  CHECK(t.LocksOn(7) == std::vector<HeldLock>{Held(o.a, kEx, 0, 100), Held(o.b, kEx, 100, 0)});
  CHECK(t.size() == 6);
}

TEST_CASE("locks: GetLock reports the first conflicting lock of another owner") {
  LockTable t;
  Owners o(t);
  REQUIRE_OK(t.Lock(1, o.a, kEx, 0, 100));
  REQUIRE_OK(t.Lock(1, o.b, kSh, 200, 0));
  CHECK(t.GetLock(1, o.b, kSh, 10, 5) == Held(o.a, kEx, 0, 100));
  CHECK(t.GetLock(1, o.a2, kEx, 50, 0) == Held(o.a, kEx, 0, 100));
  CHECK(t.GetLock(1, o.a2, kEx, 150, 0) == Held(o.b, kSh, 200, 0));
  // Shared against shared, the owner's own locks, and free bytes: nothing conflicts.
  CHECK(t.GetLock(1, o.a2, kSh, 150, 0) == std::nullopt);
  CHECK(t.GetLock(1, o.a, kEx, 0, 150) == std::nullopt);
  CHECK(t.GetLock(1, o.a2, kEx, 100, 100) == std::nullopt);
  CHECK(t.GetLock(2, o.a2, kEx, 0, 0) == std::nullopt);
  // GetLock takes nothing.
  CHECK(t.size() == 2);
}

TEST_CASE("locks: length 0, and a range past the largest offset, reach the end of the file") {
  LockTable t;
  Owners o(t);
  REQUIRE_OK(t.Lock(1, o.a, kEx, 10, 0));
  CHECK_ERRNO(t.Lock(1, o.b, kEx, kMax - 1, 1), EAGAIN);
  REQUIRE_OK(t.Lock(1, o.b, kEx, 0, 10));
  // start + length wraps: the range is clamped to the end, not wrapped to the start.
  REQUIRE_OK(t.Lock(2, o.a, kSh, 100, kMax));
  CHECK(t.LocksOn(2) == std::vector<HeldLock>{Held(o.a, kSh, 100, 0)});
  CHECK(t.GetLock(2, o.b, kEx, 0, 100) == std::nullopt);
  CHECK(t.GetLock(2, o.b, kEx, 0, 101) == Held(o.a, kSh, 100, 0));
  // The last byte there is can be locked and unlocked.
  REQUIRE_OK(t.Lock(3, o.a, kEx, kMax - 1, 1));
  REQUIRE_OK(t.Lock(3, o.b, kEx, kMax - 2, 1));
  REQUIRE_OK(t.Unlock(3, o.a, kMax - 1, 0));
  CHECK(t.LocksOn(3) == std::vector<HeldLock>{Held(o.b, kEx, kMax - 2, 1)});
}

TEST_CASE("locks: unlocking the middle of a range splits it") {
  LockTable t;
  Owners o(t);
  REQUIRE_OK(t.Lock(1, o.a, kEx, 0, 100));
  REQUIRE_OK(t.Unlock(1, o.a, 40, 20));
  CHECK(t.LocksOn(1) == std::vector<HeldLock>{Held(o.a, kEx, 0, 40), Held(o.a, kEx, 60, 40)});
  REQUIRE_OK(t.Lock(1, o.b, kEx, 45, 10));
  CHECK_ERRNO(t.Lock(1, o.b, kEx, 30, 20), EAGAIN);
  // Another owner's unlock, and unlocking what is not locked, change nothing.
  REQUIRE_OK(t.Unlock(1, o.a2, 0, 0));
  REQUIRE_OK(t.Unlock(1, o.a, 40, 5));
  REQUIRE_OK(t.Unlock(2, o.a, 0, 0));
  CHECK(t.size() == 3);
  // Unlocking to the end takes the tail and what lies beyond.
  REQUIRE_OK(t.Lock(1, o.a, kSh, 1000, 0));
  REQUIRE_OK(t.Unlock(1, o.a, 20, 0));
  CHECK(t.LocksOn(1) == std::vector<HeldLock>{Held(o.a, kEx, 0, 20), Held(o.b, kEx, 45, 10)});
}

TEST_CASE("locks: a lock of another type inside an owner's range cuts it in three") {
  LockTable t;
  Owners o(t);
  REQUIRE_OK(t.Lock(1, o.a, kEx, 0, 100));
  REQUIRE_OK(t.Lock(1, o.a, kSh, 40, 20));
  CHECK(t.LocksOn(1) == std::vector<HeldLock>{Held(o.a, kEx, 0, 40), Held(o.a, kSh, 40, 20),
                                              Held(o.a, kEx, 60, 40)});
  // The shared middle lets other owners share it, the exclusive ends do not.
  REQUIRE_OK(t.Lock(1, o.b, kSh, 45, 10));
  CHECK_ERRNO(t.Lock(1, o.b, kSh, 35, 10), EAGAIN);
  // Back to exclusive over the whole range needs the other owner gone; then it is one
  // lock again.
  CHECK_ERRNO(t.Lock(1, o.a, kEx, 0, 100), EAGAIN);
  REQUIRE_OK(t.Unlock(1, o.b, 0, 0));
  REQUIRE_OK(t.Lock(1, o.a, kEx, 40, 20));
  CHECK(t.LocksOn(1) == std::vector<HeldLock>{Held(o.a, kEx, 0, 100)});
}

TEST_CASE("locks: an owner's locks of one type merge where they overlap or touch") {
  LockTable t;
  Owners o(t);
  REQUIRE_OK(t.Lock(1, o.a, kSh, 0, 10));
  REQUIRE_OK(t.Lock(1, o.a, kSh, 10, 10));  // adjacent
  REQUIRE_OK(t.Lock(1, o.a, kSh, 30, 10));  // a gap: stays apart
  CHECK(t.LocksOn(1) == std::vector<HeldLock>{Held(o.a, kSh, 0, 20), Held(o.a, kSh, 30, 10)});
  REQUIRE_OK(t.Lock(1, o.a, kSh, 15, 20));  // bridges both
  CHECK(t.LocksOn(1) == std::vector<HeldLock>{Held(o.a, kSh, 0, 40)});
  REQUIRE_OK(t.Lock(1, o.a, kSh, 40, 0));  // adjacent, to the end
  CHECK(t.LocksOn(1) == std::vector<HeldLock>{Held(o.a, kSh, 0, 0)});
  CHECK(t.size() == 1);
  // Neither another owner's touching lock nor one of another type merges.
  REQUIRE_OK(t.Lock(2, o.a, kSh, 0, 10));
  REQUIRE_OK(t.Lock(2, o.a2, kSh, 10, 10));
  CHECK_ERRNO(t.Lock(2, o.a, kEx, 10, 0), EAGAIN);  // o.a2 shares 10..19
  REQUIRE_OK(t.Lock(2, o.a, kEx, 20, 0));
  CHECK(t.LocksOn(2) == std::vector<HeldLock>{Held(o.a, kSh, 0, 10), Held(o.a2, kSh, 10, 10),
                                              Held(o.a, kEx, 20, 0)});
}

TEST_CASE("locks: release by owner on one file, and by session on every file") {
  LockTable t;
  Owners o(t);
  for (vfs::Ino ino : std::initializer_list<vfs::Ino>{1, 2, 3}) {
    REQUIRE_OK(t.Lock(ino, o.a, kSh, 0, 10));
    REQUIRE_OK(t.Lock(ino, o.a, kSh, 20, 10));
    REQUIRE_OK(t.Lock(ino, o.a2, kSh, 40, 10));
    REQUIRE_OK(t.Lock(ino, o.b, kSh, 0, 0));
  }
  CHECK(t.size() == 12);
  t.ReleaseOwner(1, o.a);
  CHECK(t.LocksOn(1) == std::vector<HeldLock>{Held(o.b, kSh, 0, 0), Held(o.a2, kSh, 40, 10)});
  CHECK(t.size() == 10);
  t.ReleaseSession(o.a.session);
  CHECK(t.size() == 3);
  for (vfs::Ino ino : std::initializer_list<vfs::Ino>{1, 2, 3})
    CHECK(t.LocksOn(ino) == std::vector<HeldLock>{Held(o.b, kSh, 0, 0)});
  // What was released can be locked by others at once.
  LockOwner c{t.NewSession(), 9, ""};
  CHECK_ERRNO(t.Lock(2, c, kEx, 5, 1), EAGAIN);
  t.ReleaseSession(o.b.session);
  REQUIRE_OK(t.Lock(2, c, kEx, 5, 1));
  t.ReleaseSession(o.b.session);  // again: nothing left
  t.ReleaseOwner(4, c);
  CHECK(t.size() == 1);
}

TEST_CASE("locks: the limits in all, per inode and per session are ENOLCK and change nothing") {
  LockTableOptions options;
  options.max_locks = 6;
  options.max_locks_per_inode = 4;
  options.max_locks_per_session = 3;
  LockTable t(options);
  Owners o(t);
  LockOwner c{t.NewSession(), 1, ""};
  // Per session: the third lock of session a is the last one.
  REQUIRE_OK(t.Lock(1, o.a, kEx, 0, 1));
  REQUIRE_OK(t.Lock(2, o.a2, kEx, 0, 1));
  REQUIRE_OK(t.Lock(1, o.a, kEx, 10, 1));
  CHECK_ERRNO(t.Lock(3, o.a2, kEx, 0, 1), ENOLCK);
  // A lock that merges into one already held needs no room.
  REQUIRE_OK(t.Lock(1, o.a, kEx, 1, 1));
  // A failed conversion keeps the owner's old locks whole (no partial change).
  CHECK_ERRNO(t.Lock(1, o.a, kSh, 15, 0), ENOLCK);  // would replace nothing, add one
  CHECK_ERRNO(t.Lock(1, o.a, kSh, 1, 1), ENOLCK);   // would split 0..1 and add 1
  CHECK(t.LocksOn(1) == std::vector<HeldLock>{Held(o.a, kEx, 0, 2), Held(o.a, kEx, 10, 1)});
  // Unlocking the middle would split into more locks than the session may hold.
  REQUIRE_OK(t.Unlock(1, o.a, 0, 1));  // 0..1 -> 1..1: no more locks
  REQUIRE_OK(t.Lock(1, o.a, kEx, 0, 3));
  CHECK_ERRNO(t.Unlock(1, o.a, 1, 1), ENOLCK);
  CHECK(t.LocksOn(1) == std::vector<HeldLock>{Held(o.a, kEx, 0, 3), Held(o.a, kEx, 10, 1)});
  // Per inode: inode 1 holds 2 of a's; b and c may add 2 more there.
  REQUIRE_OK(t.Lock(1, o.b, kSh, 20, 1));
  REQUIRE_OK(t.Lock(1, c, kSh, 30, 1));
  CHECK_ERRNO(t.Lock(1, o.b, kSh, 40, 1), ENOLCK);
  // In all: 5 held; one more anywhere, then none.
  REQUIRE_OK(t.Lock(5, o.b, kSh, 0, 1));
  CHECK(t.size() == 6);
  CHECK_ERRNO(t.Lock(6, c, kSh, 0, 1), ENOLCK);
  // A conflict is reported as such even at the limit.
  CHECK_ERRNO(t.Lock(1, c, kSh, 0, 1), EAGAIN);
  // Releasing makes room again.
  t.ReleaseSession(o.a.session);
  REQUIRE_OK(t.Lock(6, c, kSh, 0, 1));
  CHECK(t.size() == 4);
}

TEST_CASE("locks: owners need a session and a bounded client name") {
  LockTableOptions options;
  options.max_client_bytes = 8;
  LockTable t(options);
  CHECK_ERRNO(t.Lock(1, LockOwner{vfs::kNoLockSession, 1, ""}, kEx, 0, 0), EINVAL);
  const LockSession s = t.NewSession();
  CHECK(s != vfs::kNoLockSession);
  CHECK(t.NewSession() != s);
  CHECK_ERRNO(t.Lock(1, LockOwner{s, 1, "123456789"}, kEx, 0, 0), EINVAL);
  REQUIRE_OK(t.Lock(1, LockOwner{s, 1, "12345678"}, kEx, 0, 0));
  // Unlocking as an owner that holds nothing is fine, whatever it is.
  REQUIRE_OK(t.Unlock(1, LockOwner{vfs::kNoLockSession, 1, ""}, 0, 0));
  CHECK(t.size() == 1);
}

TEST_CASE("locks: the Filesystem's table is bounded by FilesystemOptions and shared") {
  VfsFixture f;
  vfs::LockTable& t = f.fs().locks();
  CHECK(&t == &f.fs().locks());
  CHECK(t.options().max_locks == vfs::LockTableOptions{}.max_locks);
  Owners o(t);
  REQUIRE_OK(t.Lock(vfs::kRootIno, o.a, kEx, 0, 1));
  CHECK_ERRNO(f.fs().locks().Lock(vfs::kRootIno, o.b, kEx, 0, 1), EAGAIN);
}

TEST_CASE("locks: threads locking their own bytes and one shared byte keep the counts") {
  LockTable t;
  constexpr int kThreads = 8;
  constexpr std::uint64_t kRounds = 2000;
  std::atomic<int> exclusive_holders{0};
  std::atomic<bool> overlap{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      const LockOwner me{t.NewSession(), static_cast<std::uint64_t>(i), "t"};
      for (std::uint64_t r = 0; r < kRounds; ++r) {
        // Private bytes: always granted.
        if (!t.Lock(1, me, kEx, 1000 + static_cast<std::uint64_t>(i) * kRounds + r, 1).ok())
          overlap = true;
        // The shared byte: at most one holder at a time.
        if (t.Lock(2, me, kEx, 0, 1).ok()) {
          if (exclusive_holders.fetch_add(1) != 0) overlap = true;
          exclusive_holders.fetch_sub(1);
          if (!t.Unlock(2, me, 0, 1).ok()) overlap = true;
        }
      }
      // Adjacent private bytes merged into one lock per thread.
      t.ReleaseSession(me.session);
    });
  }
  for (std::thread& th : threads) th.join();
  CHECK_FALSE(overlap.load());
  CHECK(t.size() == 0);
}

// ---- the randomized test against a model ----

namespace {

// Bytes 0..kCells-2 are single bytes, cell kCells-1 stands for every byte from there on.
constexpr int kCells = 33;
constexpr int kInodes = 2;

struct Model {
  // Each owner's lock type at `cell` of `ino`.
  std::map<int, LockType>& At(int ino, int cell) {
    return cells[static_cast<std::size_t>(ino)][static_cast<std::size_t>(cell)];
  }
  const std::map<int, LockType>& At(int ino, int cell) const {
    return cells[static_cast<std::size_t>(ino)][static_cast<std::size_t>(cell)];
  }
  std::array<std::array<std::map<int, LockType>, kCells>, kInodes> cells;
};

std::uint64_t EndOf(const HeldLock& l) {
  return l.length == 0 ? kMax : l.start + l.length - 1;
}

bool TableOrder(const HeldLock& a, const HeldLock& b) {
  return std::make_tuple(a.start, EndOf(a), a.owner.session, a.owner.process, a.owner.client,
                         a.type) < std::make_tuple(b.start, EndOf(b), b.owner.session,
                                                   b.owner.process, b.owner.client, b.type);
}

struct Range {
  int first = 0;
  int last = 0;  // inclusive cell
  std::uint64_t start = 0;
  std::uint64_t length = 0;
};

class LockModelRun {
 public:
  LockModelRun(std::uint64_t seed, LockTableOptions options)
      : rng_(seed), options_(options), table_(options) {
    const LockSession s1 = table_.NewSession();
    const LockSession s2 = table_.NewSession();
    const LockSession s3 = table_.NewSession();
    owners_ = {LockOwner{s1, 1, "a"}, LockOwner{s1, 2, "a"}, LockOwner{s2, 1, "a"},
               LockOwner{s2, 1, "b"}, LockOwner{s3, 1, "a"}, LockOwner{s3, 7, ""}};
  }

  void Run(int ops) {
    for (int i = 0; i < ops; ++i) {
      Step(i);
      for (int ino = 0; ino < kInodes; ++ino) {
        INFO("after operation " << i << ": " << last_);
        REQUIRE(table_.LocksOn(Ino(ino)) == Expected(model_, ino));
      }
      REQUIRE(table_.size() == Total(model_));
    }
  }

  std::map<std::string, int> outcomes;

 private:
  static vfs::Ino Ino(int ino) { return static_cast<vfs::Ino>(ino) + 100; }

  Range RandomRange() {
    Range r;
    r.first = Pick(kCells);
    if (r.first == kCells - 1 || Pick(4) == 0) {
      r.last = kCells - 1;
      r.start = static_cast<std::uint64_t>(r.first);
      // Length 0, or past the largest offset: both mean to the end (from 0, kMax bytes
      // stop one short of it).
      r.length = Pick(2) == 0 || r.start == 0 ? 0 : kMax;
      return r;
    }
    r.last = r.first + Pick(kCells - 1 - r.first);
    r.start = static_cast<std::uint64_t>(r.first);
    r.length = static_cast<std::uint64_t>(r.last - r.first + 1);
    return r;
  }

  int Pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  // The owner's locks in the model: maximal runs of one type.
  static std::vector<HeldLock> Expected(const Model& m, int ino,
                                        const std::vector<LockOwner>& owners) {
    std::vector<HeldLock> out;
    for (std::size_t k = 0; k < owners.size(); ++k) {
      const int key = static_cast<int>(k);
      int c = 0;
      while (c < kCells) {
        auto it = m.At(ino, c).find(key);
        if (it == m.At(ino, c).end()) {
          ++c;
          continue;
        }
        const LockType type = it->second;
        int last = c;
        while (last + 1 < kCells) {
          auto next = m.At(ino, last + 1).find(key);
          if (next == m.At(ino, last + 1).end() || next->second != type) break;
          ++last;
        }
        const std::uint64_t length =
            last == kCells - 1 ? 0 : static_cast<std::uint64_t>(last - c + 1);
        out.push_back(HeldLock{owners[k], type, static_cast<std::uint64_t>(c), length});
        c = last + 1;
      }
    }
    std::sort(out.begin(), out.end(), TableOrder);
    return out;
  }
  std::vector<HeldLock> Expected(const Model& m, int ino) const {
    return Expected(m, ino, owners_);
  }

  std::size_t Total(const Model& m) const {
    std::size_t n = 0;
    for (int ino = 0; ino < kInodes; ++ino) n += Expected(m, ino).size();
    return n;
  }
  std::size_t SessionCount(const Model& m, LockSession s) const {
    std::size_t n = 0;
    for (int ino = 0; ino < kInodes; ++ino) {
      for (const HeldLock& l : Expected(m, ino)) n += l.owner.session == s ? 1 : 0;
    }
    return n;
  }
  bool WithinLimits(const Model& m, int ino, LockSession s) const {
    return Total(m) <= options_.max_locks &&
           Expected(m, ino).size() <= options_.max_locks_per_inode &&
           SessionCount(m, s) <= options_.max_locks_per_session;
  }

  static bool Conflicts(LockType a, LockType b) {
    return a == LockType::kExclusive || b == LockType::kExclusive;
  }

  // A change the model allows: ENOLCK when `next` passes a limit (the model stays), else
  // OK and the model becomes `next`.
  void Settle(const std::string& op, const Status& s, Model next, int ino, LockSession session) {
    if (!WithinLimits(next, ino, session)) {
      CHECK_ERRNO(s, ENOLCK);
      ++outcomes[op + " ENOLCK"];
      return;
    }
    REQUIRE_OK(s);
    model_ = std::move(next);
    ++outcomes[op + " OK"];
  }

  void Step(int i) {
    const int ino = Pick(kInodes);
    const int who = Pick(static_cast<int>(owners_.size()));
    const LockOwner& owner = owners_[static_cast<std::size_t>(who)];
    const int op = Pick(100);
    const Range r = RandomRange();
    const LockType type = Pick(2) == 0 ? kSh : kEx;
    last_ = "op " + std::to_string(op) + " ino " + std::to_string(ino) + " owner " +
            std::to_string(who) + " type " + std::to_string(static_cast<int>(type)) + " start " +
            std::to_string(r.start) + " length " + std::to_string(r.length);
    INFO("operation " << i << ": " << last_);
    if (op < 45) {  // lock
      bool conflict = false;
      Model next = model_;
      for (int c = r.first; c <= r.last; ++c) {
        for (const auto& [other, t] : model_.At(ino, c)) {
          if (other != who && Conflicts(t, type)) conflict = true;
        }
        next.At(ino, c)[who] = type;
      }
      const Status s = table_.Lock(Ino(ino), owner, type, r.start, r.length);
      if (conflict) {
        CHECK_ERRNO(s, EAGAIN);
        ++outcomes["lock EAGAIN"];
      } else {
        Settle("lock", s, std::move(next), ino, owner.session);
      }
    } else if (op < 70) {  // unlock
      Model next = model_;
      for (int c = r.first; c <= r.last; ++c) next.At(ino, c).erase(who);
      Settle("unlock", table_.Unlock(Ino(ino), owner, r.start, r.length), std::move(next), ino,
             owner.session);
    } else if (op < 94) {  // getlock
      std::optional<HeldLock> want;
      for (const HeldLock& l : Expected(model_, ino)) {
        if (l.owner == owner || !Conflicts(l.type, type)) continue;
        const std::uint64_t end = r.last == kCells - 1 ? kMax : static_cast<std::uint64_t>(r.last);
        if (l.start > end || EndOf(l) < r.start) continue;
        if (!want.has_value() || TableOrder(l, *want)) want = l;
      }
      CHECK(table_.GetLock(Ino(ino), owner, type, r.start, r.length) == want);
      ++outcomes[want.has_value() ? "getlock conflict" : "getlock none"];
    } else if (op < 98) {  // the owner closes the file
      table_.ReleaseOwner(Ino(ino), owner);
      for (int c = 0; c < kCells; ++c) model_.At(ino, c).erase(who);
      ++outcomes["release owner"];
    } else {  // the client disconnects
      table_.ReleaseSession(owner.session);
      for (int n = 0; n < kInodes; ++n) {
        for (int c = 0; c < kCells; ++c) {
          for (std::size_t k = 0; k < owners_.size(); ++k) {
            if (owners_[k].session == owner.session) model_.At(n, c).erase(static_cast<int>(k));
          }
        }
      }
      ++outcomes["release session"];
    }
  }

  std::mt19937_64 rng_;
  LockTableOptions options_;
  LockTable table_;
  std::vector<LockOwner> owners_;
  Model model_;
  std::string last_;
};

}  // namespace

TEST_CASE("locks: random operations by several owners match a byte-by-byte model") {
  const std::uint64_t seed = Catch::rngSeed();
  std::printf("locks model test: seed %llu (replay: unit_vfs --rng-seed %llu \"locks: random*\")\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  CAPTURE(seed);
  // Small limits, so that ENOLCK is met often; then the defaults, which this never reaches.
  LockTableOptions small;
  small.max_locks = 12;
  small.max_locks_per_inode = 8;
  small.max_locks_per_session = 5;
  const std::vector<LockTableOptions> runs = {small, LockTableOptions{}};
  for (std::size_t k = 0; k < runs.size(); ++k) {
    LockModelRun run(seed + k, runs[k]);
    run.Run(20000);
    std::string counts;
    for (const auto& [what, n] : run.outcomes) counts += what + ": " + std::to_string(n) + "; ";
    INFO("run " << k << ": " << counts);
    CHECK(run.outcomes["lock OK"] > 0);
    CHECK(run.outcomes["lock EAGAIN"] > 0);
    CHECK(run.outcomes["unlock OK"] > 0);
    CHECK(run.outcomes["getlock conflict"] > 0);
    CHECK(run.outcomes["getlock none"] > 0);
    CHECK(run.outcomes["release session"] > 0);
    if (k == 0) {
      CHECK(run.outcomes["lock ENOLCK"] > 0);
      CHECK(run.outcomes["unlock ENOLCK"] > 0);
    }
  }
}
