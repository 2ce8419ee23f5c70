// The framework of zerofs-posix-suite: a registry of named checks, the context each check
// runs in (its own directory, setup helpers, running a part as the unprivileged user) and
// the expectations that end a check with a failure message.
//
// A check is a function that returns normally when the filesystem behaved as ext4 does and
// throws CheckFailure (through the Expect* helpers) when it did not. Single-threaded: the
// suite runs one check at a time; parts that need another identity run in a forked child.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace zerofs::posix {

// The client the mount goes through; decides which relaxations apply.
enum class Profile : std::uint8_t { kExt4, kFuse, k9p, kNfs };

const char* ProfileName(Profile p);

// A documented, protocol-inherent difference of one client: either the check is not run
// on that profile, or an errno is accepted in place of ext4's answer (the check then ends
// as a relaxed pass at that point).
struct Relaxation {
  std::vector<Profile> profiles;
  bool not_run = false;
  std::vector<int> accepted_errnos;
  std::string reason;
};

Relaxation NotRunOn(std::vector<Profile> profiles, std::string reason);
Relaxation AcceptErrnoOn(std::vector<Profile> profiles, std::vector<int> errnos,
                         std::string reason);

// Thrown by the Expect* helpers: the check failed, `message` says how.
struct CheckFailure {
  std::string message;
};
// Thrown when a check cannot run here (needs root, mounted noatime...).
struct CheckNotRun {
  std::string reason;
};
// Thrown when a relaxation accepted a different answer: the check passes, relaxed.
struct CheckRelaxed {
  std::string reason;
};

struct Options {
  Profile profile = Profile::kExt4;
  uid_t user_uid = 65534;
  gid_t user_gid = 65534;
  std::vector<std::string> only_groups;
  std::uint64_t seed = 0;
  bool verbose = false;
};

class Ctx;
using CheckFn = std::function<void(Ctx&)>;

struct CheckDef {
  std::string name;  // "group.what"
  CheckFn fn;
  std::vector<Relaxation> relaxations;
};

// Every check of the suite, in the order they run.
class Registry {
 public:
  void Add(std::string name, CheckFn fn, std::vector<Relaxation> relaxations = {});
  const std::vector<CheckDef>& checks() const { return checks_; }

 private:
  std::vector<CheckDef> checks_;
};

// What a check works with: its own fresh directory (mode 0777, owned by the caller), the
// suite's options and randomness, and helpers. Setup helpers fail the check with
// "setup: ..." when the filesystem refuses them.
class Ctx {
 public:
  Ctx(const Options& options, std::string dir, std::mt19937_64& rng, bool root,
      const std::vector<int>* relaxed_errnos, const std::string* relax_reason);

  // DIR/rel (rel may be empty: the check's directory itself).
  std::string P(std::string_view rel) const;
  const std::string& dir() const { return dir_; }
  const Options& options() const { return options_; }
  Profile profile() const { return options_.profile; }
  bool root() const { return root_; }
  // The unprivileged identity: --user when running as root, else the process's own.
  uid_t uid() const;
  gid_t gid() const;
  std::mt19937_64& rng() { return rng_; }
  std::string RandomBytes(std::size_t n);

  // Setup helpers (modes are exact: the suite runs with umask 0).
  void File(std::string_view rel, mode_t mode, std::string_view data = {});
  void Dir(std::string_view rel, mode_t mode);
  void Symlink(std::string_view target, std::string_view rel);
  void Fifo(std::string_view rel, mode_t mode);
  void Chown(std::string_view rel, uid_t uid, gid_t gid);
  void Chmod(std::string_view rel, mode_t mode);
  // Hands rel to the unprivileged identity (lchown when root; already so otherwise).
  void GiveToUser(std::string_view rel);
  void SetTimes(std::string_view rel, std::int64_t atime_sec, std::int64_t mtime_sec);
  struct stat Lstat(std::string_view rel);
  struct stat Stat(std::string_view rel);
  std::string Read(std::string_view rel);
  void Write(std::string_view rel, std::string_view data, int flags = 0);
  bool Exists(std::string_view rel);

  // Ends the check as not run unless the suite runs as root.
  void NeedRoot();
  // Runs fn as the unprivileged identity in a forked child (even when the suite itself is
  // unprivileged, so fn cannot disturb the parent). A failure or relaxation inside fn is
  // carried back to the check. The child is killed after 30 s.
  void AsUser(const std::function<void()>& fn);
  // Sleeps long enough for the next timestamp the filesystem takes to differ.
  void Tick();

  // Used by the Expect* helpers.
  const std::vector<int>* relaxed_errnos() const { return relaxed_errnos_; }
  const std::string* relax_reason() const { return relax_reason_; }

 private:
  const Options& options_;
  std::string dir_;
  std::mt19937_64& rng_;
  bool root_;
  const std::vector<int>* relaxed_errnos_;
  const std::string* relax_reason_;
};

// "EACCES" for EACCES, "0 (success)"-style descriptions.
std::string ErrnoName(int err);
std::string Octal(mode_t mode);
std::string TimeString(const struct timespec& ts);

// The expectations. `what` names the call ("open(f, O_RDONLY)"); on failure the message is
// "expected X, got Y (ERRNO) from what".
[[noreturn]] void Fail(std::string message);
// ret >= 0 expected (errno read at the call).
long ExpectOk(Ctx& c, std::string_view what, long ret);
// ExpectOk for calls that return a file descriptor.
int ExpectFd(Ctx& c, std::string_view what, int ret);
// ret == -1 with errno == err expected.
void ExpectErr(Ctx& c, std::string_view what, long ret, int err);
// One of several errnos accepted (only where ext4 itself is not deterministic).
void ExpectErrAny(Ctx& c, std::string_view what, long ret, std::vector<int> errs);
void ExpectEq(std::string_view what, long long got, long long expected);
void ExpectMode(std::string_view what, mode_t got, mode_t expected);
void ExpectStr(std::string_view what, std::string_view got, std::string_view expected);
void ExpectTrue(std::string_view what, bool cond, std::string_view expected, std::string_view got);
// Timestamps: `after` strictly later than `before`, or equal.
void ExpectLater(std::string_view what, const struct timespec& after,
                 const struct timespec& before);
void ExpectSameTime(std::string_view what, const struct timespec& got,
                    const struct timespec& expected);

// A file descriptor closed on scope exit.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept;
  ~Fd();
  int get() const { return fd_; }
  void Close();

 private:
  int fd_ = -1;
};

// The check groups, one registration function per source file.
void RegisterFileChecks(
    Registry& r);                     // open io truncate fallocate unlink link symlink mkfifo mknod
void RegisterDirChecks(Registry& r);  // mkdir rmdir rename readdir
void RegisterAttrChecks(Registry& r);  // chmod chown utimensat xattr times nlink
void RegisterPermChecks(Registry& r);  // perm sticky setgid suid

// Runs the suite; returns the exit status.
int RunSuite(const Options& options, const std::string& dir, bool list_only);

}  // namespace zerofs::posix
