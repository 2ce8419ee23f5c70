// The framework of zerofs-posix-suite (see suite.h) and the run loop.
#include "suite.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/statvfs.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <utility>

namespace zerofs::posix {

const char* ProfileName(Profile p) {
  switch (p) {
    case Profile::kExt4: return "ext4";
    case Profile::kFuse: return "fuse";
    case Profile::k9p: return "9p";
    case Profile::kNfs: return "nfs";
  }
  return "?";
}

Relaxation NotRunOn(std::vector<Profile> profiles, std::string reason) {
  Relaxation r;
  r.profiles = std::move(profiles);
  r.not_run = true;
  r.reason = std::move(reason);
  return r;
}

Relaxation AcceptErrnoOn(std::vector<Profile> profiles, std::vector<int> errnos,
                         std::string reason) {
  Relaxation r;
  r.profiles = std::move(profiles);
  r.accepted_errnos = std::move(errnos);
  r.reason = std::move(reason);
  return r;
}

void Registry::Add(std::string name, CheckFn fn, std::vector<Relaxation> relaxations) {
  checks_.push_back(CheckDef{std::move(name), std::move(fn), std::move(relaxations)});
}

// ---------------------------------------------------------------------------------------
// Descriptions and expectations.

std::string ErrnoName(int err) {
  const char* name = strerrorname_np(err);
  return name != nullptr ? name : "errno " + std::to_string(err);
}

std::string Octal(mode_t mode) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0%o", mode);
  return buf;
}

std::string TimeString(const struct timespec& ts) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lld.%09ld", static_cast<long long>(ts.tv_sec), ts.tv_nsec);
  return buf;
}

void Fail(std::string message) {
  throw CheckFailure{std::move(message)};
}

namespace {

std::string From(std::string_view what) {
  return what.empty() ? std::string() : " from " + std::string(what);
}

bool Relaxed(Ctx& c, int err) {
  const std::vector<int>* errs = c.relaxed_errnos();
  return errs != nullptr && std::find(errs->begin(), errs->end(), err) != errs->end();
}

[[noreturn]] void ThrowRelaxed(Ctx& c, int err, std::string_view what) {
  std::string reason = c.relax_reason() != nullptr ? *c.relax_reason() : "";
  throw CheckRelaxed{reason + "; got " + ErrnoName(err) + From(what)};
}

}  // namespace

long ExpectOk(Ctx& c, std::string_view what, long ret) {
  if (ret >= 0) return ret;
  int err = errno;
  if (Relaxed(c, err)) ThrowRelaxed(c, err, what);
  Fail("expected success, got -1 (" + ErrnoName(err) + ")" + From(what));
}

int ExpectFd(Ctx& c, std::string_view what, int ret) {
  ExpectOk(c, what, ret);
  return ret;
}

void ExpectErr(Ctx& c, std::string_view what, long ret, int err) {
  ExpectErrAny(c, what, ret, {err});
}

void ExpectErrAny(Ctx& c, std::string_view what, long ret, std::vector<int> errs) {
  std::string expected;
  for (int e : errs) expected += (expected.empty() ? "" : " or ") + ErrnoName(e);
  if (ret >= 0)
    Fail("expected " + expected + ", got " + std::to_string(ret) + " (success)" + From(what));
  int err = errno;
  if (std::find(errs.begin(), errs.end(), err) != errs.end()) return;
  if (Relaxed(c, err)) ThrowRelaxed(c, err, what);
  Fail("expected " + expected + ", got -1 (" + ErrnoName(err) + ")" + From(what));
}

void ExpectEq(std::string_view what, long long got, long long expected) {
  if (got != expected) {
    Fail("expected " + std::string(what) + " = " + std::to_string(expected) + ", got " +
         std::to_string(got));
  }
}

void ExpectMode(std::string_view what, mode_t got, mode_t expected) {
  if (got != expected) {
    Fail("expected " + std::string(what) + " = " + Octal(expected) + ", got " + Octal(got));
  }
}

void ExpectStr(std::string_view what, std::string_view got, std::string_view expected) {
  if (got != expected) {
    auto show = [](std::string_view s) {
      std::string out = s.size() > 64 ? std::string(s.substr(0, 64)) + "..." : std::string(s);
      return "\"" + out + "\" (" + std::to_string(s.size()) + " bytes)";
    };
    Fail("expected " + std::string(what) + " = " + show(expected) + ", got " + show(got));
  }
}

void ExpectTrue(std::string_view what, bool cond, std::string_view expected, std::string_view got) {
  if (!cond) {
    Fail("expected " + std::string(expected) + ", got " + std::string(got) +
         (what.empty() ? "" : " (" + std::string(what) + ")"));
  }
}

static bool TsLess(const struct timespec& a, const struct timespec& b) {
  return a.tv_sec != b.tv_sec ? a.tv_sec < b.tv_sec : a.tv_nsec < b.tv_nsec;
}

void ExpectLater(std::string_view what, const struct timespec& after,
                 const struct timespec& before) {
  if (!TsLess(before, after)) {
    Fail("expected " + std::string(what) + " > " + TimeString(before) + ", got " +
         TimeString(after));
  }
}

void ExpectSameTime(std::string_view what, const struct timespec& got,
                    const struct timespec& expected) {
  if (got.tv_sec != expected.tv_sec || got.tv_nsec != expected.tv_nsec) {
    Fail("expected " + std::string(what) + " = " + TimeString(expected) + ", got " +
         TimeString(got));
  }
}

// ---------------------------------------------------------------------------------------
// Fd

Fd& Fd::operator=(Fd&& o) noexcept {
  if (this != &o) {
    Close();
    fd_ = o.fd_;
    o.fd_ = -1;
  }
  return *this;
}

Fd::~Fd() {
  Close();
}

void Fd::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

// ---------------------------------------------------------------------------------------
// Ctx

Ctx::Ctx(const Options& options, std::string dir, std::mt19937_64& rng, bool root,
         const std::vector<int>* relaxed_errnos, const std::string* relax_reason)
    : options_(options),
      dir_(std::move(dir)),
      rng_(rng),
      root_(root),
      relaxed_errnos_(relaxed_errnos),
      relax_reason_(relax_reason) {}

std::string Ctx::P(std::string_view rel) const {
  if (rel.empty()) return dir_;
  return dir_ + "/" + std::string(rel);
}

uid_t Ctx::uid() const {
  return root_ ? options_.user_uid : ::getuid();
}
gid_t Ctx::gid() const {
  return root_ ? options_.user_gid : ::getgid();
}

std::string Ctx::RandomBytes(std::size_t n) {
  std::string s(n, '\0');
  for (auto& ch : s) ch = static_cast<char>(rng_() & 0xff);
  return s;
}

namespace {
[[noreturn]] void SetupFail(std::string_view what) {
  int err = errno;
  Fail("setup: " + std::string(what) + " failed: " + ErrnoName(err));
}
}  // namespace

void Ctx::File(std::string_view rel, mode_t mode, std::string_view data) {
  std::string p = P(rel);
  Fd fd(::open(p.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0600));
  if (fd.get() < 0) SetupFail("create " + std::string(rel));
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n <= 0) SetupFail("write " + std::string(rel));
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd.get(), mode) != 0) SetupFail("fchmod " + std::string(rel));
}

void Ctx::Dir(std::string_view rel, mode_t mode) {
  std::string p = P(rel);
  if (::mkdir(p.c_str(), 0700) != 0) SetupFail("mkdir " + std::string(rel));
  if (::chmod(p.c_str(), mode) != 0) SetupFail("chmod " + std::string(rel));
}

void Ctx::Symlink(std::string_view target, std::string_view rel) {
  if (::symlink(std::string(target).c_str(), P(rel).c_str()) != 0) {
    SetupFail("symlink " + std::string(rel));
  }
}

void Ctx::Fifo(std::string_view rel, mode_t mode) {
  if (::mkfifo(P(rel).c_str(), mode) != 0) SetupFail("mkfifo " + std::string(rel));
}

void Ctx::Chown(std::string_view rel, uid_t uid, gid_t gid) {
  if (::lchown(P(rel).c_str(), uid, gid) != 0) SetupFail("lchown " + std::string(rel));
}

void Ctx::Chmod(std::string_view rel, mode_t mode) {
  if (::chmod(P(rel).c_str(), mode) != 0) SetupFail("chmod " + std::string(rel));
}

void Ctx::GiveToUser(std::string_view rel) {
  if (!root_) return;
  // chown drops set-id bits of regular files; put the mode back as it was.
  struct stat st = Lstat(rel);
  Chown(rel, uid(), gid());
  if (!S_ISLNK(st.st_mode)) Chmod(rel, st.st_mode & 07777);
}

void Ctx::SetTimes(std::string_view rel, std::int64_t atime_sec, std::int64_t mtime_sec) {
  struct timespec ts[2] = {{atime_sec, 0}, {mtime_sec, 0}};
  if (::utimensat(AT_FDCWD, P(rel).c_str(), ts, AT_SYMLINK_NOFOLLOW) != 0) {
    SetupFail("utimensat " + std::string(rel));
  }
}

struct stat Ctx::Lstat(std::string_view rel) {
  struct stat st {};
  if (::lstat(P(rel).c_str(), &st) != 0) SetupFail("lstat " + std::string(rel));
  return st;
}

struct stat Ctx::Stat(std::string_view rel) {
  struct stat st {};
  if (::stat(P(rel).c_str(), &st) != 0) SetupFail("stat " + std::string(rel));
  return st;
}

std::string Ctx::Read(std::string_view rel) {
  Fd fd(::open(P(rel).c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) SetupFail("open " + std::string(rel));
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0) SetupFail("read " + std::string(rel));
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

void Ctx::Write(std::string_view rel, std::string_view data, int flags) {
  Fd fd(::open(P(rel).c_str(), O_WRONLY | O_CLOEXEC | flags));
  if (fd.get() < 0) SetupFail("open " + std::string(rel));
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n <= 0) SetupFail("write " + std::string(rel));
    done += static_cast<std::size_t>(n);
  }
}

bool Ctx::Exists(std::string_view rel) {
  struct stat st {};
  return ::lstat(P(rel).c_str(), &st) == 0;
}

void Ctx::NeedRoot() {
  if (!root_) throw CheckNotRun{"needs root"};
}

namespace {

// Child -> parent messages: a kind byte, then the text.
constexpr char kMsgFail = 'F';
constexpr char kMsgRelaxed = 'R';
constexpr char kMsgNotRun = 'N';

void WriteAll(int fd, const std::string& s) {
  std::size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::write(fd, s.data() + done, s.size() - done);
    if (n <= 0) return;
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

void Ctx::AsUser(const std::function<void()>& fn) {
  int pipefd[2];
  if (::pipe2(pipefd, O_CLOEXEC) != 0) SetupFail("pipe");
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = ::fork();
  if (pid < 0) SetupFail("fork");
  if (pid == 0) {
    ::close(pipefd[0]);
    ::signal(SIGALRM, SIG_DFL);
    ::alarm(30);
    std::string msg;
    try {
      if (root_) {
        gid_t g = options_.user_gid;
        if (::setgroups(1, &g) != 0 || ::setresgid(g, g, g) != 0) {
          Fail("setup: setgroups/setresgid failed: " + ErrnoName(errno));
        }
        uid_t u = options_.user_uid;
        if (::setresuid(u, u, u) != 0) Fail("setup: setresuid failed: " + ErrnoName(errno));
      }
      fn();
    } catch (const CheckFailure& f) {
      msg = kMsgFail + f.message;
    } catch (const CheckRelaxed& r) {
      msg = kMsgRelaxed + r.reason;
    } catch (const CheckNotRun& n) {
      msg = kMsgNotRun + n.reason;
    } catch (...) {
      msg = std::string(1, kMsgFail) + "unexpected exception in the unprivileged part";
    }
    WriteAll(pipefd[1], msg);
    ::_exit(0);
  }
  ::close(pipefd[1]);
  std::string msg;
  char buf[4096];
  for (;;) {
    ssize_t n = ::read(pipefd[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    msg.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipefd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFSIGNALED(status)) {
    Fail("unprivileged part killed by signal " + std::to_string(WTERMSIG(status)) +
         (WTERMSIG(status) == SIGALRM ? " (timed out after 30 s)" : ""));
  }
  if (msg.empty()) return;
  std::string text = msg.substr(1);
  if (msg[0] == kMsgRelaxed) throw CheckRelaxed{text};
  if (msg[0] == kMsgNotRun) throw CheckNotRun{text};
  throw CheckFailure{text + " (as uid " + std::to_string(uid()) + ")"};
}

void Ctx::Tick() {
  // Linux takes file timestamps from a clock that may advance only once per jiffy (up to
  // 10 ms); network servers take them from their own clock. 25 ms separates them safely.
  struct timespec ts = {0, 25 * 1000 * 1000};
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

// ---------------------------------------------------------------------------------------
// The run loop.

namespace {

std::string GroupOf(const std::string& name) {
  return name.substr(0, name.find('.'));
}

// A check that hangs (a dead server, a blocking open) must not hang the suite: SIGALRM
// reports it and ends the run. The handler only uses write(2) on preformatted text.
constexpr unsigned kCheckTimeoutSec = 120;
char g_timeout_message[512];
std::size_t g_timeout_message_len = 0;

void OnCheckTimeout(int) {
  ssize_t ignored = ::write(STDOUT_FILENO, g_timeout_message, g_timeout_message_len);
  (void)ignored;
  ::_exit(1);
}

void ArmCheckTimeout(const std::string& name, int passed, int failed, int not_run,
                     Profile profile) {
  int n = std::snprintf(g_timeout_message, sizeof g_timeout_message,
                        "FAIL %s: no answer after %u s (suite stopped; its directory is left "
                        "in place)\nposix-suite: %d passed, %d failed, %d not run (profile %s, "
                        "stopped early)\n",
                        name.c_str(), kCheckTimeoutSec, passed, failed + 1, not_run,
                        ProfileName(profile));
  g_timeout_message_len =
      n < 0 ? 0 : std::min(static_cast<std::size_t>(n), sizeof g_timeout_message - 1);
  ::alarm(kCheckTimeoutSec);
}

// Removes a tree, making directories writable first (checks leave 0000 directories).
bool RemoveTree(const std::string& path, std::string* error) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return true;
    *error = "lstat " + path + ": " + ErrnoName(errno);
    return false;
  }
  if (S_ISDIR(st.st_mode)) {
    if ((st.st_mode & 0700) != 0700) ::chmod(path.c_str(), 0700);
    DIR* d = ::opendir(path.c_str());
    if (d == nullptr) {
      *error = "opendir " + path + ": " + ErrnoName(errno);
      return false;
    }
    std::vector<std::string> names;
    while (struct dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    ::closedir(d);
    bool ok = true;
    for (const auto& n : names) ok = RemoveTree(path + "/" + n, error) && ok;
    if (::rmdir(path.c_str()) != 0) {
      *error = "rmdir " + path + ": " + ErrnoName(errno);
      return false;
    }
    return ok;
  }
  if (::unlink(path.c_str()) != 0) {
    *error = "unlink " + path + ": " + ErrnoName(errno);
    return false;
  }
  return true;
}

}  // namespace

int RunSuite(const Options& options, const std::string& dir, bool list_only) {
  Registry registry;
  RegisterFileChecks(registry);
  RegisterDirChecks(registry);
  RegisterAttrChecks(registry);
  RegisterPermChecks(registry);

  auto selected = [&](const CheckDef& def) {
    if (options.only_groups.empty()) return true;
    return std::find(options.only_groups.begin(), options.only_groups.end(), GroupOf(def.name)) !=
           options.only_groups.end();
  };
  for (const auto& g : options.only_groups) {
    bool known = std::any_of(registry.checks().begin(), registry.checks().end(),
                             [&](const CheckDef& d) { return GroupOf(d.name) == g; });
    if (!known) {
      std::fprintf(stderr, "zerofs-posix-suite: unknown group '%s' (see --list)\n", g.c_str());
      return 2;
    }
  }
  if (list_only) {
    for (const auto& def : registry.checks()) {
      if (selected(def)) std::printf("%s\n", def.name.c_str());
    }
    return 0;
  }

  ::umask(0);
  ::signal(SIGALRM, OnCheckTimeout);
  bool root = ::geteuid() == 0;
  std::mt19937_64 rng(options.seed);
  // Absolute, so that checks can make absolute symlinks.
  char* real = ::realpath(dir.c_str(), nullptr);
  if (real == nullptr) {
    std::fprintf(stderr, "zerofs-posix-suite: %s: %s\n", dir.c_str(), std::strerror(errno));
    return 2;
  }
  std::string abs_dir = real;
  std::free(real);
  std::string base =
      abs_dir + "/posix-suite." + std::to_string(::getpid()) + "." + std::to_string(options.seed);
  if (::mkdir(base.c_str(), 0755) != 0) {
    std::fprintf(stderr, "zerofs-posix-suite: cannot create %s: %s\n", base.c_str(),
                 std::strerror(errno));
    return 2;
  }
  std::printf("posix-suite: seed %llu, profile %s, dir %s, root %s, user %u:%u\n",
              static_cast<unsigned long long>(options.seed), ProfileName(options.profile),
              base.c_str(), root ? "yes" : "no", root ? options.user_uid : ::getuid(),
              root ? options.user_gid : ::getgid());
  std::fflush(stdout);

  // Unprivileged checks that expect EACCES would pass for the wrong reason if the user
  // could not reach the suite's directory at all: refuse to run then.
  if (root) {
    std::string probe = base + "/probe";
    std::string why;
    if (::mkdir(probe.c_str(), 0777) != 0) {
      why = "mkdir " + probe + ": " + ErrnoName(errno);
    } else {
      Ctx ctx(options, probe, rng, root, nullptr, nullptr);
      try {
        ctx.AsUser([&] { ctx.File("f", 0644); });
      } catch (const CheckFailure& f) {
        why = f.message;
      }
    }
    std::string error;
    RemoveTree(probe, &error);
    if (!why.empty()) {
      std::printf(
          "posix-suite: user %u:%u cannot work in %s (%s): every directory above it "
          "must be searchable by that user\n",
          options.user_uid, options.user_gid, base.c_str(), why.c_str());
      RemoveTree(base, &error);
      return 2;
    }
  }

  int passed = 0, failed = 0, not_run = 0, index = 0;
  for (const auto& def : registry.checks()) {
    if (!selected(def)) continue;
    ++index;
    const Relaxation* relax = nullptr;
    for (const auto& r : def.relaxations) {
      if (std::find(r.profiles.begin(), r.profiles.end(), options.profile) != r.profiles.end()) {
        relax = &r;
      }
    }
    if (relax != nullptr && relax->not_run) {
      std::printf("not-run %s: relaxed for %s (%s)\n", def.name.c_str(),
                  ProfileName(options.profile), relax->reason.c_str());
      ++not_run;
      continue;
    }
    if (options.verbose) std::printf("# %s\n", def.name.c_str());
    std::fflush(stdout);
    std::string check_dir = base + "/" + std::to_string(index);
    if (::mkdir(check_dir.c_str(), 0777) != 0) {
      std::printf("FAIL %s: setup: mkdir %s: %s\n", def.name.c_str(), check_dir.c_str(),
                  ErrnoName(errno).c_str());
      ++failed;
      continue;
    }
    Ctx ctx(options, check_dir, rng, root, relax != nullptr ? &relax->accepted_errnos : nullptr,
            relax != nullptr ? &relax->reason : nullptr);
    ArmCheckTimeout(def.name, passed, failed, not_run, options.profile);
    try {
      def.fn(ctx);
      std::printf("ok %s\n", def.name.c_str());
      ++passed;
    } catch (const CheckFailure& f) {
      std::printf("FAIL %s: %s\n", def.name.c_str(), f.message.c_str());
      ++failed;
    } catch (const CheckRelaxed& r) {
      std::printf("ok %s (relaxed for %s: %s)\n", def.name.c_str(), ProfileName(options.profile),
                  r.reason.c_str());
      ++passed;
    } catch (const CheckNotRun& n) {
      std::printf("not-run %s: %s\n", def.name.c_str(), n.reason.c_str());
      ++not_run;
    }
    ::alarm(0);
    std::fflush(stdout);
  }

  std::string error;
  if (!RemoveTree(base, &error)) {
    std::printf("FAIL suite.cleanup: %s (left %s in place)\n", error.c_str(), base.c_str());
    ++failed;
  }
  std::printf("posix-suite: %d passed, %d failed, %d not run (profile %s)\n", passed, failed,
              not_run, ProfileName(options.profile));
  return failed == 0 ? 0 : 1;
}

}  // namespace zerofs::posix
