// Harness: drives one randomized run of the model-based test (model_test.cpp): generates
// operations by several users, runs each against the Filesystem (in a VfsFixture) and the
// PosixModel, and fails the test at the first difference, printing the recent operations.
#pragma once

#include <deque>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "posix_model.h"
#include "vfs_test_support.h"

namespace zerofs::testing {

using vfs::Attr;
using vfs::Ino;

class Harness {
 public:
  explicit Harness(std::uint64_t seed) : rng_(seed), model_(fix_.clock().Now()) {
    // Everyone may create at the top, so that most operations get past permission checks.
    const vfs::Timespec now = fix_.clock().Tick();
    model_.SetNow(now);
    REQUIRE(fix_.fs().SetAttr(kRoot, vfs::kRootIno, vfs::SetAttrRequest::Chmod(0777)).ok());
    REQUIRE(model_.SetAttr(kRoot, vfs::kRootIno, vfs::SetAttrRequest::Chmod(0777)).err == 0);
  }

  void Run(int ops, int reopen_every) {
    for (step_ = 1; step_ <= ops; ++step_) {
      const vfs::Timespec now = fix_.clock().Tick();
      model_.SetNow(now);
      RandomOp();
      if (step_ % 400 == 0) CompareAll();
      if (reopen_every > 0 && step_ % reopen_every == 0) Reopen();
    }
    CompareAll();
  }

  int ops_run() const { return step_ - 1; }

 private:
  template <typename T>
  T Pick(const std::vector<T>& v) {
    return v[rng_() % v.size()];
  }
  bool Chance(int percent) { return static_cast<int>(rng_() % 100) < percent; }
  std::uint64_t Below(std::uint64_t n) { return n == 0 ? 0 : rng_() % n; }

  vfs::Credentials Cred() {
    return Pick<vfs::Credentials>(
        {kRoot, kRoot, kRoot, kAlice, kAlice, kAlice, kBob, kBob, kCarol});
  }
  std::string Name() {
    if (Chance(94)) return Pick<std::string>({"a", "b", "c", "d", "e", "f"});
    return Pick<std::string>({".", "..", "", std::string(256, 'x'), "g/h"});
  }
  // A name that exists in `dir` most of the time.
  std::string NameIn(Ino dir) {
    auto it = model_.nodes().find(dir);
    if (it == model_.nodes().end() || it->second.entries.empty() || Chance(30)) return Name();
    auto e = it->second.entries.begin();
    std::advance(e, static_cast<std::ptrdiff_t>(Below(it->second.entries.size())));
    return e->first;
  }
  Ino AnyIno() {
    const auto& nodes = model_.nodes();
    if (Chance(3) || nodes.empty()) return 999999;
    auto it = nodes.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(Below(nodes.size())));
    return it->first;
  }
  // An inode of `type` most of the time, else any.
  Ino InoOfType(vfs::FileType type, int percent) {
    std::vector<Ino> found;
    for (const auto& [ino, n] : model_.nodes()) {
      if (n.type() == type) found.push_back(ino);
    }
    if (found.empty() || !Chance(percent)) return AnyIno();
    return Pick(found);
  }
  Ino DirIno() {
    std::vector<Ino> dirs;
    for (const auto& [ino, n] : model_.nodes()) {
      if (n.is_dir()) dirs.push_back(ino);
    }
    if (Chance(8)) return AnyIno();
    return Pick(dirs);
  }
  // Mostly a handle of a regular file.
  vfs::HandleId AnyHandle() {
    const auto& handles = model_.handle_inos();
    if (handles.empty() || Chance(3)) return 777777;
    std::vector<vfs::HandleId> files;
    for (const auto& [h, ino] : handles) {
      auto n = model_.nodes().find(ino);
      if (n != model_.nodes().end() && n->second.is_reg()) files.push_back(h);
    }
    if (!files.empty() && Chance(85)) return Pick(files);
    auto it = handles.begin();
    std::advance(it, static_cast<std::ptrdiff_t>(Below(handles.size())));
    return it->first;
  }
  std::uint32_t Mode() {
    if (Chance(60)) return Pick<std::uint32_t>({0777, 0755, 0775, 0666, 0644, 0664});
    return Pick<std::uint32_t>(
        {0700, 0600, 0444, 0, 01777, 02775, 04755, 02755, 0711, 0070, 0007, 06777, 03777});
  }
  std::uint32_t OpenFlags() {
    std::uint32_t f = Pick<std::uint32_t>(
        {vfs::kOpenReadOnly, vfs::kOpenWriteOnly, vfs::kOpenReadWrite, vfs::kOpenReadWrite});
    if (Chance(15)) f |= vfs::kOpenTruncate;
    if (Chance(15)) f |= vfs::kOpenAppend;
    if (Chance(5)) f |= vfs::kOpenDirectory;
    return f;
  }
  std::string Data() {
    const std::uint64_t n = Chance(10) ? 0 : 1 + Below(Chance(30) ? 70000 : 3000);
    std::string s(n, '\0');
    const int kind = static_cast<int>(Below(4));
    if (kind == 0) return s;  // zeros: the engine keeps holes
    for (std::size_t i = 0; i < n; ++i) {
      s[i] = kind == 1 && (i / 5000) % 2 == 0 ? '\0' : static_cast<char>('A' + rng_() % 26);
    }
    return s;
  }
  std::uint64_t Offset() {
    return Chance(50) ? Below(40000) : Pick<std::uint64_t>({0, 32768, 65536 - 10, 98304, 150000});
  }
  vfs::TimeUpdate Time() {
    switch (Below(3)) {
      case 0: return vfs::TimeUpdate::Omit();
      case 1: return vfs::TimeUpdate::Now();
      default:
        return vfs::TimeUpdate::At({static_cast<std::int64_t>(Below(2000000000)),
                                    static_cast<std::uint32_t>(Below(1000000000))});
    }
  }

  // ---- comparison ----
  void Same(int fs_err, int model_err) {
    history_.push_back(std::to_string(step_) + " " + what_.str() + " -> " +
                       std::string(vfs::ErrnoName(model_err)));
    if (history_.size() > 40) history_.pop_front();
    {
      std::string op = what_.str();
      op = op.substr(0, op.find(' '));
      outcomes_[op][model_err]++;
    }
    if (fs_err == model_err) return;
    std::string recent;
    for (const std::string& line : history_) recent += "\n    " + line;
    FAIL("step " << step_ << ": " << what_.str() << "\n  filesystem: " << vfs::ErrnoName(fs_err)
                 << "  model: " << vfs::ErrnoName(model_err)
                 << "\n  recent operations (model's result):" << recent);
  }
  void SameAttr(const Attr& a, const Attr& b) {
    INFO("step " << step_ << ": " << what_.str() << " (inode " << a.ino << ")");
    REQUIRE(a.ino == b.ino);
    REQUIRE(a.mode == b.mode);
    REQUIRE(a.nlink == b.nlink);
    REQUIRE(a.uid == b.uid);
    REQUIRE(a.gid == b.gid);
    REQUIRE(a.size == b.size);
    REQUIRE(a.rdev == b.rdev);
    REQUIRE(a.mtime == b.mtime);
    REQUIRE(a.ctime == b.ctime);
    REQUIRE(a.atime == b.atime);
  }
  template <typename T, typename U>
  bool Compare(const Result<T>& fs, const Out<U>& m) {
    Same(vfs::ErrnoOf(fs.status()), m.err);
    return fs.ok();
  }
  void Describe(const std::string& op, const vfs::Credentials& c) {
    what_.str({});
    what_ << op << " as uid " << c.uid;
  }

  void RandomOp();
  void OpNamespace(int which);
  void OpData(int which);
  void OpXattr();
  void CompareDir(const vfs::Credentials& c, Ino ino);
  void CompareAll();
  void Reopen();

  VfsFixture fix_;
  std::mt19937_64 rng_;
  PosixModel model_;
  int step_ = 0;
  std::ostringstream what_;
  std::deque<std::string> history_;

 public:
  // Per operation and errno: how often the model expected it (the mix the generator makes).
  std::map<std::string, std::map<int, int>> outcomes_;
};

}  // namespace zerofs::testing
