// Checks of attributes: chmod, chown, utimensat, xattr, times (who updates which
// timestamp, by ext4's rules), nlink.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <string>
#include <vector>

#include "suite.h"

namespace zerofs::posix {
namespace {

using P = Profile;

// A gid that is neither root's nor the unprivileged user's.
constexpr gid_t kOtherGid = 12345;
constexpr uid_t kOtherUid = 12345;
// A past time, far from "now", used to see that an operation set a timestamp.
constexpr std::int64_t kPast = 1000000000;  // 2001-09-09

constexpr const char* kNoXattrs =
    "NFSv3 has no extended attributes: the client answers EOPNOTSUPP without asking";

const char* C(const std::string& s) {
  return s.c_str();
}

struct Times {
  struct timespec a, m, c;
};
Times TimesOf(Ctx& c, std::string_view rel) {
  struct stat st = c.Lstat(rel);
  return Times{st.st_atim, st.st_mtim, st.st_ctim};
}

// ---------------------------------------------------------------------------------------

// Linux's v9fs (6.1) leaves the superblock's time granularity at one second, so the kernel
// truncates explicit times to whole seconds before the server sees them.
constexpr const char* kV9fsSeconds =
    "v9fs truncates explicit times to whole seconds (s_time_gran is 1 s in the client)";

struct timespec SecondsOn9p(const Ctx& c, struct timespec ts) {
  if (c.profile() == Profile::k9p) ts.tv_nsec = 0;
  return ts;
}

void RelaxedOn9p(const Ctx& c) {
  if (c.profile() == Profile::k9p) throw CheckRelaxed{kV9fsSeconds};
}

void RegisterChmod(Registry& r) {
  r.Add("chmod.basic", [](Ctx& c) {
    c.File("f", 0644);
    ExpectOk(c, "chmod(f, 0600)", ::chmod(C(c.P("f")), 0600));
    ExpectMode("mode", c.Lstat("f").st_mode & 07777, 0600);
  });
  r.Add("chmod.all-bits", [](Ctx& c) {
    c.File("f", 0644);
    ExpectOk(c, "chmod(f, 07777)", ::chmod(C(c.P("f")), 07777));
    ExpectMode("mode", c.Lstat("f").st_mode & 07777, 07777);
    ExpectOk(c, "chmod(f, 0)", ::chmod(C(c.P("f")), 0));
    ExpectMode("mode", c.Lstat("f").st_mode & 07777, 0);
  });
  r.Add("chmod.fchmod", [](Ctx& c) {
    c.File("f", 0644);
    Fd fd(ExpectFd(c, "open(f)", ::open(C(c.P("f")), O_RDONLY | O_CLOEXEC)));
    ExpectOk(c, "fchmod(0751)", ::fchmod(fd.get(), 0751));
    ExpectMode("mode", c.Lstat("f").st_mode & 07777, 0751);
  });
  r.Add("chmod.dir", [](Ctx& c) {
    c.Dir("d", 0755);
    ExpectOk(c, "chmod(d, 01700)", ::chmod(C(c.P("d")), 01700));
    ExpectMode("mode", c.Lstat("d").st_mode & 07777, 01700);
  });
  r.Add("chmod.follows-symlink", [](Ctx& c) {
    c.File("f", 0644);
    c.Symlink("f", "l");
    ExpectOk(c, "chmod(l, 0600)", ::chmod(C(c.P("l")), 0600));
    ExpectMode("mode of the target", c.Lstat("f").st_mode & 07777, 0600);
    ExpectMode("mode of the symlink", c.Lstat("l").st_mode & 07777, 0777);
  });
  r.Add("chmod.by-owner", [](Ctx& c) {
    c.File("f", 0644);
    c.GiveToUser("f");
    c.AsUser([&] { ExpectOk(c, "chmod(own f, 0604)", ::chmod(C(c.P("f")), 0604)); });
    ExpectMode("mode", c.Lstat("f").st_mode & 07777, 0604);
  });
  r.Add("chmod.non-owner-eperm", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 0666);
    c.AsUser([&] { ExpectErr(c, "chmod(root's f)", ::chmod(C(c.P("f")), 0777), EPERM); });
    ExpectMode("mode", c.Lstat("f").st_mode & 07777, 0666);
  });
  r.Add("chmod.root-on-others-file", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 0644);
    c.GiveToUser("f");
    ExpectOk(c, "chmod(user's f) as root", ::chmod(C(c.P("f")), 0600));
    ExpectMode("mode", c.Lstat("f").st_mode & 07777, 0600);
  });
  r.Add("chmod.setgid-dropped-for-non-member", [](Ctx& c) {
    // An owner who is not in the file's group cannot set S_ISGID: it is silently dropped.
    c.NeedRoot();
    c.File("f", 0644);
    c.Chown("f", c.uid(), kOtherGid);
    c.AsUser([&] { ExpectOk(c, "chmod(f, 02755)", ::chmod(C(c.P("f")), 02755)); });
    ExpectMode("mode", c.Lstat("f").st_mode & 07777, 0755);
  });
  r.Add("chmod.setgid-kept-for-member", [](Ctx& c) {
    c.File("f", 0644);
    c.GiveToUser("f");
    c.AsUser([&] { ExpectOk(c, "chmod(f, 02755)", ::chmod(C(c.P("f")), 02755)); });
    ExpectMode("mode", c.Lstat("f").st_mode & 07777, 02755);
  });
  r.Add("chmod.enoent",
        [](Ctx& c) { ExpectErr(c, "chmod(missing)", ::chmod(C(c.P("missing")), 0644), ENOENT); });
  r.Add("chmod.enotdir", [](Ctx& c) {
    c.File("f", 0644);
    ExpectErr(c, "chmod(f/x)", ::chmod(C(c.P("f/x")), 0644), ENOTDIR);
  });
}

void RegisterChown(Registry& r) {
  r.Add("chown.root-sets-owner", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 0644);
    ExpectOk(c, "chown(f, 12345, 12345)", ::chown(C(c.P("f")), kOtherUid, kOtherGid));
    struct stat st = c.Lstat("f");
    ExpectEq("uid", st.st_uid, kOtherUid);
    ExpectEq("gid", st.st_gid, kOtherGid);
  });
  r.Add("chown.minus-one-keeps", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 0644);
    c.Chown("f", kOtherUid, kOtherGid);
    ExpectOk(c, "chown(f, -1, 0)", ::chown(C(c.P("f")), static_cast<uid_t>(-1), 0));
    struct stat st = c.Lstat("f");
    ExpectEq("uid", st.st_uid, kOtherUid);
    ExpectEq("gid", st.st_gid, 0);
  });
  r.Add("chown.user-to-other-uid-eperm", [](Ctx& c) {
    c.File("f", 0644);
    c.GiveToUser("f");
    c.AsUser([&] {
      ExpectErr(c, "chown(own f, 12345, -1)",
                ::chown(C(c.P("f")), kOtherUid, static_cast<gid_t>(-1)), EPERM);
    });
  });
  r.Add("chown.user-same-uid-ok", [](Ctx& c) {
    c.File("f", 0644);
    c.GiveToUser("f");
    c.AsUser([&] {
      ExpectOk(c, "chown(own f, own uid, -1)",
               ::chown(C(c.P("f")), c.uid(), static_cast<gid_t>(-1)));
    });
  });
  r.Add("chown.user-chgrp-member-ok", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 0644);
    c.Chown("f", c.uid(), kOtherGid);
    c.AsUser([&] {
      ExpectOk(c, "chown(own f, -1, own gid)",
               ::chown(C(c.P("f")), static_cast<uid_t>(-1), c.gid()));
    });
    ExpectEq("gid", c.Lstat("f").st_gid, c.gid());
  });
  r.Add("chown.user-chgrp-non-member-eperm", [](Ctx& c) {
    c.File("f", 0644);
    c.GiveToUser("f");
    c.AsUser([&] {
      ExpectErr(c, "chown(own f, -1, 12345)",
                ::chown(C(c.P("f")), static_cast<uid_t>(-1), kOtherGid), EPERM);
    });
  });
  r.Add("chown.non-owner-chgrp-eperm", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 0666);
    c.AsUser([&] {
      ExpectErr(c, "chown(root's f, -1, own gid)",
                ::chown(C(c.P("f")), static_cast<uid_t>(-1), c.gid()), EPERM);
    });
  });
  r.Add("chown.lchown-symlink", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 0644);
    c.Symlink("f", "l");
    ExpectOk(c, "lchown(l)", ::lchown(C(c.P("l")), kOtherUid, kOtherGid));
    ExpectEq("uid of the symlink", c.Lstat("l").st_uid, kOtherUid);
    ExpectEq("uid of the target", c.Lstat("f").st_uid, 0);
  });
  r.Add("chown.follows-symlink", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 0644);
    c.Symlink("f", "l");
    ExpectOk(c, "chown(l)", ::chown(C(c.P("l")), kOtherUid, kOtherGid));
    ExpectEq("uid of the target", c.Lstat("f").st_uid, kOtherUid);
    ExpectEq("uid of the symlink", c.Lstat("l").st_uid, 0);
  });
  r.Add("chown.clears-setuid-even-by-root", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 06755);
    ExpectOk(c, "chown(f 06755, 12345, 12345)", ::chown(C(c.P("f")), kOtherUid, kOtherGid));
    ExpectMode("mode", c.Lstat("f").st_mode & 07777, 0755);
  });
  r.Add("chown.keeps-setgid-without-group-exec", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 02644);
    ExpectOk(c, "chown(f 02644, 12345, 12345)", ::chown(C(c.P("f")), kOtherUid, kOtherGid));
    ExpectMode("mode", c.Lstat("f").st_mode & 07777, 02644);
  });
  r.Add("chown.dir-keeps-setid", [](Ctx& c) {
    c.NeedRoot();
    c.Dir("d", 06755);
    ExpectOk(c, "chown(d 06755, 12345, 12345)", ::chown(C(c.P("d")), kOtherUid, kOtherGid));
    ExpectMode("mode", c.Lstat("d").st_mode & 07777, 06755);
  });
  r.Add("chown.by-owner-clears-setuid", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 0755);
    c.Chown("f", c.uid(), kOtherGid);
    c.Chmod("f", 04755);
    c.AsUser([&] {
      ExpectOk(c, "chown(own f 04755, -1, own gid)",
               ::chown(C(c.P("f")), static_cast<uid_t>(-1), c.gid()));
    });
    ExpectMode("mode", c.Lstat("f").st_mode & 07777, 0755);
  });
  r.Add("chown.enoent",
        [](Ctx& c) { ExpectErr(c, "chown(missing)", ::chown(C(c.P("missing")), 0, 0), ENOENT); });
}

void RegisterUtimensat(Registry& r) {
  r.Add("utimensat.explicit", [](Ctx& c) {
    c.File("f", 0644);
    struct timespec ts[2] = {{1500000000, 123456789}, {1600000000, 987654321}};
    ExpectOk(c, "utimensat(f, explicit)", ::utimensat(AT_FDCWD, C(c.P("f")), ts, 0));
    Times t = TimesOf(c, "f");
    ExpectSameTime("atime", t.a, SecondsOn9p(c, ts[0]));
    ExpectSameTime("mtime", t.m, SecondsOn9p(c, ts[1]));
    RelaxedOn9p(c);
  });
  r.Add("utimensat.after-2038", [](Ctx& c) {
    c.File("f", 0644);
    struct timespec ts[2] = {{4000000000, 5}, {4100000000, 7}};
    ExpectOk(c, "utimensat(f, year 2096/2099)", ::utimensat(AT_FDCWD, C(c.P("f")), ts, 0));
    Times t = TimesOf(c, "f");
    ExpectSameTime("atime", t.a, SecondsOn9p(c, ts[0]));
    ExpectSameTime("mtime", t.m, SecondsOn9p(c, ts[1]));
    RelaxedOn9p(c);
  });
  r.Add("utimensat.omit-atime", [](Ctx& c) {
    c.File("f", 0644);
    c.SetTimes("f", kPast, kPast);
    struct timespec ts[2] = {{0, UTIME_OMIT}, {1600000000, 0}};
    ExpectOk(c, "utimensat(f, {OMIT, explicit})", ::utimensat(AT_FDCWD, C(c.P("f")), ts, 0));
    Times t = TimesOf(c, "f");
    ExpectSameTime("atime", t.a, {kPast, 0});
    ExpectSameTime("mtime", t.m, ts[1]);
  });
  r.Add("utimensat.omit-both-changes-nothing", [](Ctx& c) {
    c.File("f", 0644);
    c.SetTimes("f", kPast, kPast);
    Times before = TimesOf(c, "f");
    c.Tick();
    struct timespec ts[2] = {{0, UTIME_OMIT}, {0, UTIME_OMIT}};
    ExpectOk(c, "utimensat(f, {OMIT, OMIT})", ::utimensat(AT_FDCWD, C(c.P("f")), ts, 0));
    Times t = TimesOf(c, "f");
    ExpectSameTime("atime", t.a, before.a);
    ExpectSameTime("mtime", t.m, before.m);
    ExpectSameTime("ctime", t.c, before.c);
  });
  r.Add("utimensat.now", [](Ctx& c) {
    c.File("f", 0644);
    c.SetTimes("f", kPast, kPast);
    Times before = TimesOf(c, "f");
    c.Tick();
    struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    ExpectOk(c, "utimensat(f, {NOW, NOW})", ::utimensat(AT_FDCWD, C(c.P("f")), ts, 0));
    Times t = TimesOf(c, "f");
    ExpectLater("atime", t.a, {kPast, 0});
    ExpectLater("mtime", t.m, {kPast, 0});
    ExpectLater("ctime", t.c, before.c);
    ExpectSameTime("mtime (set together with ctime)", t.m, t.c);
  });
  r.Add("utimensat.null-times-is-now", [](Ctx& c) {
    c.File("f", 0644);
    c.SetTimes("f", kPast, kPast);
    ExpectOk(c, "utimensat(f, NULL)", ::utimensat(AT_FDCWD, C(c.P("f")), nullptr, 0));
    Times t = TimesOf(c, "f");
    ExpectLater("atime", t.a, {kPast, 0});
    ExpectLater("mtime", t.m, {kPast, 0});
  });
  r.Add("utimensat.futimens", [](Ctx& c) {
    c.File("f", 0644);
    Fd fd(ExpectFd(c, "open(f)", ::open(C(c.P("f")), O_RDONLY | O_CLOEXEC)));
    struct timespec ts[2] = {{1234567890, 0}, {1234567891, 0}};
    ExpectOk(c, "futimens", ::futimens(fd.get(), ts));
    ExpectSameTime("mtime", TimesOf(c, "f").m, ts[1]);
  });
  r.Add("utimensat.nofollow-symlink", [](Ctx& c) {
    c.File("f", 0644);
    c.SetTimes("f", kPast, kPast);
    c.Symlink("f", "l");
    struct timespec ts[2] = {{1300000000, 0}, {1300000001, 0}};
    ExpectOk(c, "utimensat(l, AT_SYMLINK_NOFOLLOW)",
             ::utimensat(AT_FDCWD, C(c.P("l")), ts, AT_SYMLINK_NOFOLLOW));
    ExpectSameTime("mtime of the symlink", TimesOf(c, "l").m, ts[1]);
    ExpectSameTime("mtime of the target", TimesOf(c, "f").m, {kPast, 0});
  });
  r.Add("utimensat.einval-nsec", [](Ctx& c) {
    c.File("f", 0644);
    struct timespec ts[2] = {{0, 1000000000}, {0, 0}};
    ExpectErr(c, "utimensat(f, tv_nsec 1e9)", ::utimensat(AT_FDCWD, C(c.P("f")), ts, 0), EINVAL);
  });
  r.Add("utimensat.owner-explicit", [](Ctx& c) {
    c.File("f", 0444);
    c.GiveToUser("f");
    struct timespec ts[2] = {{1400000000, 0}, {1400000001, 0}};
    c.AsUser([&] {
      ExpectOk(c, "utimensat(own read-only f, explicit)",
               ::utimensat(AT_FDCWD, C(c.P("f")), ts, 0));
    });
    ExpectSameTime("mtime", TimesOf(c, "f").m, ts[1]);
  });
  r.Add("utimensat.owner-now-readonly", [](Ctx& c) {
    c.File("f", 0444);
    c.GiveToUser("f");
    c.SetTimes("f", kPast, kPast);
    c.AsUser([&] {
      ExpectOk(c, "utimensat(own read-only f, NULL)",
               ::utimensat(AT_FDCWD, C(c.P("f")), nullptr, 0));
    });
    ExpectLater("mtime", TimesOf(c, "f").m, {kPast, 0});
  });
  r.Add("utimensat.non-owner-explicit-eperm", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 0666);
    struct timespec ts[2] = {{1400000000, 0}, {1400000001, 0}};
    c.AsUser([&] {
      ExpectErr(c, "utimensat(root's writable f, explicit)",
                ::utimensat(AT_FDCWD, C(c.P("f")), ts, 0), EPERM);
    });
  });
  r.Add("utimensat.non-owner-writable-now", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 0666);
    c.SetTimes("f", kPast, kPast);
    struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
    c.AsUser([&] {
      ExpectOk(c, "utimensat(root's writable f, {NOW, NOW})",
               ::utimensat(AT_FDCWD, C(c.P("f")), ts, 0));
    });
    ExpectLater("mtime", TimesOf(c, "f").m, {kPast, 0});
  });
  r.Add("utimensat.non-owner-readonly-now-eacces", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 0644);
    c.AsUser([&] {
      ExpectErr(c, "utimensat(root's read-only f, NULL)",
                ::utimensat(AT_FDCWD, C(c.P("f")), nullptr, 0), EACCES);
    });
  });
  r.Add("utimensat.non-owner-now-and-omit-eperm",
        [](Ctx& c) {
          // Only {NOW, NOW} (or NULL) is the "touch" a writer may do; a partial NOW counts as
          // setting times explicitly.
          c.NeedRoot();
          c.File("f", 0666);
          struct timespec ts[2] = {{0, UTIME_NOW}, {0, UTIME_OMIT}};
          c.AsUser([&] {
            ExpectErr(c, "utimensat(root's writable f, {NOW, OMIT})",
                      ::utimensat(AT_FDCWD, C(c.P("f")), ts, 0), EPERM);
          });
        },
        {NotRunOn({P::kNfs},
                  "NFSv3 SETATTR has only 'set to server time' per timestamp: the "
                  "client sends the same request as for a touch, the server cannot "
                  "tell them apart")});
}

// ---------------------------------------------------------------------------------------

ssize_t Get(Ctx& c, std::string_view rel, const char* name, std::string* value) {
  char buf[65536];
  ssize_t n = ::lgetxattr(C(c.P(rel)), name, buf, sizeof buf);
  if (n >= 0) value->assign(buf, static_cast<std::size_t>(n));
  return n;
}

int Set(Ctx& c, std::string_view rel, const char* name, std::string_view value, int flags) {
  return ::lsetxattr(C(c.P(rel)), name, value.data(), value.size(), flags);
}

std::vector<std::string> ListX(Ctx& c, std::string_view rel) {
  char buf[65536];
  ssize_t n = ::llistxattr(C(c.P(rel)), buf, sizeof buf);
  if (n < 0) Fail("llistxattr failed: " + ErrnoName(errno));
  std::vector<std::string> names;
  for (ssize_t i = 0; i < n;) {
    std::string name(buf + i);
    i += static_cast<ssize_t>(name.size()) + 1;
    if (name.rfind("user.", 0) == 0) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

void RegisterXattr(Registry& r) {
  std::vector<Relaxation> nfs = {NotRunOn({P::kNfs}, kNoXattrs)};
  r.Add(
      "xattr.set-get",
      [](Ctx& c) {
        c.File("f", 0644);
        ExpectOk(c, "setxattr(user.a)", Set(c, "f", "user.a", "value-a", 0));
        std::string v;
        ExpectOk(c, "getxattr(user.a)", Get(c, "f", "user.a", &v));
        ExpectStr("value", v, "value-a");
      },
      nfs);
  r.Add(
      "xattr.replace-value",
      [](Ctx& c) {
        c.File("f", 0644);
        ExpectOk(c, "setxattr(user.a)", Set(c, "f", "user.a", "a long first value", 0));
        ExpectOk(c, "setxattr(user.a) again", Set(c, "f", "user.a", "short", 0));
        std::string v;
        ExpectOk(c, "getxattr(user.a)", Get(c, "f", "user.a", &v));
        ExpectStr("value", v, "short");
      },
      nfs);
  r.Add(
      "xattr.binary-value",
      [](Ctx& c) {
        c.File("f", 0644);
        std::string bin = c.RandomBytes(200) + std::string("\0\0", 2);
        ExpectOk(c, "setxattr(user.bin)", Set(c, "f", "user.bin", bin, 0));
        std::string v;
        ExpectOk(c, "getxattr(user.bin)", Get(c, "f", "user.bin", &v));
        ExpectStr("binary value", v, bin);
      },
      nfs);
  r.Add("xattr.empty-value",
        [](Ctx& c) {
          c.File("f", 0644);
          ExpectOk(c, "setxattr(user.empty, \"\")", Set(c, "f", "user.empty", "", 0));
          std::string v;
          ExpectEq("size of the empty value",
                   ExpectOk(c, "getxattr(user.empty)", Get(c, "f", "user.empty", &v)), 0);
          std::vector<std::string> names = ListX(c, "f");
          ExpectEq("names listed", static_cast<long long>(names.size()), 1);
        },
        {NotRunOn({P::kNfs}, kNoXattrs),
         AcceptErrnoOn({P::k9p}, {ENODATA},
                       "9P2000.L removes an attribute with a zero-size Txattrcreate, which is "
                       "also what setting an empty value sends")});
  r.Add(
      "xattr.large-value",
      [](Ctx& c) {
        c.File("f", 0644);
        std::string big = c.RandomBytes(3000);
        ExpectOk(c, "setxattr(user.big, 3000 bytes)", Set(c, "f", "user.big", big, 0));
        std::string v;
        ExpectOk(c, "getxattr(user.big)", Get(c, "f", "user.big", &v));
        ExpectStr("value", v, big);
      },
      nfs);
  r.Add(
      "xattr.list",
      [](Ctx& c) {
        c.File("f", 0644);
        ExpectEq("user.* names of a new file", static_cast<long long>(ListX(c, "f").size()), 0);
        for (const char* n : {"user.one", "user.two", "user.three"}) {
          ExpectOk(c, std::string("setxattr ") + n, Set(c, "f", n, "v", 0));
        }
        std::vector<std::string> names = ListX(c, "f");
        std::string joined;
        for (const auto& n : names) joined += n + " ";
        ExpectStr("names", joined, "user.one user.three user.two ");
      },
      nfs);
  r.Add(
      "xattr.size-query-and-erange",
      [](Ctx& c) {
        c.File("f", 0644);
        ExpectOk(c, "setxattr(user.a)", Set(c, "f", "user.a", "0123456789", 0));
        ExpectEq("getxattr(size 0)",
                 ExpectOk(c, "getxattr(user.a, NULL, 0)",
                          ::lgetxattr(C(c.P("f")), "user.a", nullptr, 0)),
                 10);
        char small[4];
        ExpectErr(c, "getxattr(user.a, 4-byte buffer)",
                  ::lgetxattr(C(c.P("f")), "user.a", small, sizeof small), ERANGE);
        ssize_t list_size =
            ExpectOk(c, "listxattr(NULL, 0)", ::llistxattr(C(c.P("f")), nullptr, 0));
        ExpectTrue("", list_size >= 7, "listxattr size >= 7", std::to_string(list_size));
        ExpectErr(c, "listxattr(1-byte buffer)", ::llistxattr(C(c.P("f")), small, 1), ERANGE);
      },
      nfs);
  r.Add(
      "xattr.create-existing-eexist",
      [](Ctx& c) {
        c.File("f", 0644);
        ExpectOk(c, "setxattr(user.a, XATTR_CREATE)", Set(c, "f", "user.a", "1", XATTR_CREATE));
        ExpectErr(c, "setxattr(user.a, XATTR_CREATE) again",
                  Set(c, "f", "user.a", "2", XATTR_CREATE), EEXIST);
        std::string v;
        ExpectOk(c, "getxattr", Get(c, "f", "user.a", &v));
        ExpectStr("value", v, "1");
      },
      nfs);
  r.Add(
      "xattr.replace-missing-enodata",
      [](Ctx& c) {
        c.File("f", 0644);
        ExpectErr(c, "setxattr(user.a, XATTR_REPLACE)", Set(c, "f", "user.a", "1", XATTR_REPLACE),
                  ENODATA);
        ExpectOk(c, "setxattr(user.a)", Set(c, "f", "user.a", "1", 0));
        ExpectOk(c, "setxattr(user.a, XATTR_REPLACE)", Set(c, "f", "user.a", "2", XATTR_REPLACE));
      },
      nfs);
  r.Add(
      "xattr.get-missing-enodata",
      [](Ctx& c) {
        c.File("f", 0644);
        std::string v;
        ExpectErr(c, "getxattr(user.none)", Get(c, "f", "user.none", &v), ENODATA);
      },
      nfs);
  r.Add(
      "xattr.remove",
      [](Ctx& c) {
        c.File("f", 0644);
        ExpectOk(c, "setxattr(user.a)", Set(c, "f", "user.a", "1", 0));
        ExpectOk(c, "removexattr(user.a)", ::lremovexattr(C(c.P("f")), "user.a"));
        std::string v;
        ExpectErr(c, "getxattr(user.a) after remove", Get(c, "f", "user.a", &v), ENODATA);
        ExpectErr(c, "removexattr(user.a) again", ::lremovexattr(C(c.P("f")), "user.a"), ENODATA);
      },
      nfs);
  r.Add(
      "xattr.dir",
      [](Ctx& c) {
        c.Dir("d", 0755);
        ExpectOk(c, "setxattr(d, user.a)", Set(c, "d", "user.a", "dir value", 0));
        std::string v;
        ExpectOk(c, "getxattr(d, user.a)", Get(c, "d", "user.a", &v));
        ExpectStr("value", v, "dir value");
      },
      nfs);
  r.Add(
      "xattr.user-on-symlink-eperm",
      [](Ctx& c) {
        c.File("f", 0644);
        c.Symlink("f", "l");
        ExpectErr(c, "lsetxattr(symlink, user.a)", Set(c, "l", "user.a", "1", 0), EPERM);
      },
      nfs);
  r.Add(
      "xattr.user-on-fifo-eperm",
      [](Ctx& c) {
        c.Fifo("p", 0644);
        ExpectErr(c, "lsetxattr(fifo, user.a)", Set(c, "p", "user.a", "1", 0), EPERM);
      },
      nfs);
  r.Add("xattr.unknown-namespace-eopnotsupp", [](Ctx& c) {
    c.File("f", 0644);
    ExpectErr(c, "setxattr(f, bogus.a)", Set(c, "f", "bogus.a", "1", 0), EOPNOTSUPP);
  });
  r.Add("xattr.name-too-long-erange", [](Ctx& c) {
    c.File("f", 0644);
    std::string name = "user." + std::string(251, 'n');
    ExpectErr(c, "setxattr(256-byte name)", Set(c, "f", name.c_str(), "1", 0), ERANGE);
  });
  r.Add(
      "xattr.non-owner-without-write-eacces",
      [](Ctx& c) {
        c.NeedRoot();
        c.File("f", 0644);
        c.AsUser([&] {
          ExpectErr(c, "setxattr(root's 0644 f, user.a)", Set(c, "f", "user.a", "1", 0), EACCES);
        });
      },
      nfs);
  r.Add(
      "xattr.non-owner-writable-ok",
      [](Ctx& c) {
        c.NeedRoot();
        c.File("f", 0666);
        c.AsUser(
            [&] { ExpectOk(c, "setxattr(root's 0666 f, user.a)", Set(c, "f", "user.a", "1", 0)); });
      },
      nfs);
  r.Add(
      "xattr.read-needs-read-permission",
      [](Ctx& c) {
        c.File("f", 0644);
        ExpectOk(c, "setxattr(user.a)", Set(c, "f", "user.a", "1", 0));
        c.Chmod("f", 0200);
        c.GiveToUser("f");
        c.AsUser([&] {
          std::string v;
          ExpectErr(c, "getxattr(0200 f, user.a)", Get(c, "f", "user.a", &v), EACCES);
        });
      },
      nfs);
  r.Add(
      "xattr.survive-rename-and-link",
      [](Ctx& c) {
        c.File("f", 0644);
        ExpectOk(c, "setxattr(user.a)", Set(c, "f", "user.a", "kept", 0));
        ExpectOk(c, "rename(f, g)", ::rename(C(c.P("f")), C(c.P("g"))));
        ExpectOk(c, "link(g, h)", ::link(C(c.P("g")), C(c.P("h"))));
        std::string v;
        ExpectOk(c, "getxattr(h, user.a)", Get(c, "h", "user.a", &v));
        ExpectStr("value", v, "kept");
      },
      nfs);
}

// ---------------------------------------------------------------------------------------

void RegisterTimes(Registry& r) {
  r.Add("times.create-sets-all-and-parent", [](Ctx& c) {
    c.Dir("d", 0755);
    c.SetTimes("d", kPast, kPast);
    Times dir_before = TimesOf(c, "d");
    c.Tick();
    Fd fd(ExpectFd(c, "open(d/f, O_CREAT)",
                   ::open(C(c.P("d/f")), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)));
    Times f = TimesOf(c, "d/f");
    ExpectSameTime("mtime of a new file (= its ctime)", f.m, f.c);
    ExpectSameTime("atime of a new file (= its ctime)", f.a, f.c);
    Times d = TimesOf(c, "d");
    ExpectLater("mtime of the parent", d.m, {kPast, 0});
    ExpectLater("ctime of the parent", d.c, dir_before.c);
    ExpectSameTime("atime of the parent", d.a, {kPast, 0});
  });
  r.Add("times.write-updates-mtime-ctime", [](Ctx& c) {
    c.File("f", 0644, "abc");
    c.SetTimes("f", kPast, kPast);
    Times before = TimesOf(c, "f");
    c.Tick();
    c.Write("f", "x");
    Times t = TimesOf(c, "f");
    ExpectLater("mtime", t.m, {kPast, 0});
    ExpectLater("ctime", t.c, before.c);
    ExpectSameTime("atime", t.a, {kPast, 0});
  });
  r.Add("times.empty-write-changes-nothing", [](Ctx& c) {
    c.File("f", 0644, "abc");
    c.SetTimes("f", kPast, kPast);
    Times before = TimesOf(c, "f");
    c.Tick();
    Fd fd(ExpectFd(c, "open(f, O_WRONLY)", ::open(C(c.P("f")), O_WRONLY | O_CLOEXEC)));
    ExpectOk(c, "write(0 bytes)", ::write(fd.get(), "", 0));
    fd.Close();
    Times t = TimesOf(c, "f");
    ExpectSameTime("mtime", t.m, before.m);
    ExpectSameTime("ctime", t.c, before.c);
  });
  r.Add("times.read-keeps-mtime-ctime", [](Ctx& c) {
    c.File("f", 0644, "abc");
    c.SetTimes("f", kPast, kPast);
    Times before = TimesOf(c, "f");
    c.Tick();
    c.Read("f");
    Times t = TimesOf(c, "f");
    ExpectSameTime("mtime", t.m, before.m);
    ExpectSameTime("ctime", t.c, before.c);
  });
  r.Add("times.read-updates-atime",
        [](Ctx& c) {
          struct statvfs sv {};
          if (::statvfs(C(c.P("")), &sv) == 0 && (sv.f_flag & ST_NOATIME) != 0) {
            throw CheckNotRun{"mounted noatime"};
          }
          // relatime (the default) updates an atime older than the mtime or a day.
          c.File("f", 0644, "abc");
          c.SetTimes("f", kPast, kPast);
          c.Read("f");
          ExpectLater("atime after a read", TimesOf(c, "f").a, {kPast, 0});
        },
        {NotRunOn({P::kFuse, P::k9p, P::kNfs},
                  "atime is the client's: v9fs and NFS cache it, FUSE never sends a read's atime "
                  "to the server")});
  r.Add("times.open-existing-changes-nothing", [](Ctx& c) {
    c.Dir("d", 0755);
    c.File("d/f", 0644, "abc");
    c.SetTimes("d/f", kPast, kPast);
    c.SetTimes("d", kPast, kPast);
    Times f0 = TimesOf(c, "d/f"), d0 = TimesOf(c, "d");
    c.Tick();
    Fd fd(ExpectFd(c, "open(d/f, O_CREAT|O_RDWR)",
                   ::open(C(c.P("d/f")), O_CREAT | O_RDWR | O_CLOEXEC, 0644)));
    fd.Close();
    Times f1 = TimesOf(c, "d/f"), d1 = TimesOf(c, "d");
    ExpectSameTime("mtime of the file", f1.m, f0.m);
    ExpectSameTime("ctime of the file", f1.c, f0.c);
    ExpectSameTime("mtime of the directory", d1.m, d0.m);
    ExpectSameTime("ctime of the directory", d1.c, d0.c);
  });
  r.Add("times.open-trunc-updates", [](Ctx& c) {
    c.File("f", 0644, "abc");
    c.SetTimes("f", kPast, kPast);
    Times before = TimesOf(c, "f");
    c.Tick();
    Fd fd(ExpectFd(c, "open(f, O_TRUNC)", ::open(C(c.P("f")), O_TRUNC | O_WRONLY | O_CLOEXEC)));
    Times t = TimesOf(c, "f");
    ExpectLater("mtime", t.m, {kPast, 0});
    ExpectLater("ctime", t.c, before.c);
  });
  r.Add("times.open-trunc-empty-file-updates", [](Ctx& c) {
    c.File("f", 0644);
    c.SetTimes("f", kPast, kPast);
    Times before = TimesOf(c, "f");
    c.Tick();
    Fd fd(
        ExpectFd(c, "open(empty f, O_TRUNC)", ::open(C(c.P("f")), O_TRUNC | O_WRONLY | O_CLOEXEC)));
    Times t = TimesOf(c, "f");
    ExpectLater("mtime", t.m, {kPast, 0});
    ExpectLater("ctime", t.c, before.c);
  });
  r.Add("times.truncate-updates", [](Ctx& c) {
    c.File("f", 0644, "abc");
    c.SetTimes("f", kPast, kPast);
    Times before = TimesOf(c, "f");
    c.Tick();
    ExpectOk(c, "truncate(f, 1)", ::truncate(C(c.P("f")), 1));
    Times t = TimesOf(c, "f");
    ExpectLater("mtime", t.m, {kPast, 0});
    ExpectLater("ctime", t.c, before.c);
  });
  r.Add("times.chmod-updates-ctime-only", [](Ctx& c) {
    c.File("f", 0644);
    c.SetTimes("f", kPast, kPast);
    Times before = TimesOf(c, "f");
    c.Tick();
    ExpectOk(c, "chmod(f)", ::chmod(C(c.P("f")), 0600));
    Times t = TimesOf(c, "f");
    ExpectLater("ctime", t.c, before.c);
    ExpectSameTime("mtime", t.m, {kPast, 0});
    ExpectSameTime("atime", t.a, {kPast, 0});
  });
  r.Add("times.chown-updates-ctime-only", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 0644);
    c.SetTimes("f", kPast, kPast);
    Times before = TimesOf(c, "f");
    c.Tick();
    ExpectOk(c, "chown(f)", ::chown(C(c.P("f")), kOtherUid, kOtherGid));
    Times t = TimesOf(c, "f");
    ExpectLater("ctime", t.c, before.c);
    ExpectSameTime("mtime", t.m, {kPast, 0});
  });
  r.Add("times.link-updates-ctime-and-parent", [](Ctx& c) {
    c.File("f", 0644);
    c.Dir("d", 0755);
    c.SetTimes("f", kPast, kPast);
    c.SetTimes("d", kPast, kPast);
    Times f0 = TimesOf(c, "f");
    c.Tick();
    ExpectOk(c, "link(f, d/g)", ::link(C(c.P("f")), C(c.P("d/g"))));
    Times f1 = TimesOf(c, "f"), d1 = TimesOf(c, "d");
    ExpectLater("ctime of the file", f1.c, f0.c);
    ExpectSameTime("mtime of the file", f1.m, {kPast, 0});
    ExpectLater("mtime of the new parent", d1.m, {kPast, 0});
  });
  r.Add("times.unlink-updates-parent-and-ctime", [](Ctx& c) {
    c.Dir("d", 0755);
    c.File("d/f", 0644);
    ExpectOk(c, "link(d/f, g)", ::link(C(c.P("d/f")), C(c.P("g"))));
    c.SetTimes("d", kPast, kPast);
    c.SetTimes("g", kPast, kPast);
    Times g0 = TimesOf(c, "g");
    c.Tick();
    ExpectOk(c, "unlink(d/f)", ::unlink(C(c.P("d/f"))));
    ExpectLater("mtime of the parent", TimesOf(c, "d").m, {kPast, 0});
    Times g1 = TimesOf(c, "g");
    ExpectLater("ctime of the remaining link", g1.c, g0.c);
    ExpectSameTime("mtime of the remaining link", g1.m, {kPast, 0});
  });
  r.Add("times.rename-updates-ctime-and-parents", [](Ctx& c) {
    c.Dir("p", 0755);
    c.Dir("q", 0755);
    c.File("p/f", 0644);
    c.SetTimes("p", kPast, kPast);
    c.SetTimes("q", kPast, kPast);
    c.SetTimes("p/f", kPast, kPast);
    Times f0 = TimesOf(c, "p/f");
    c.Tick();
    ExpectOk(c, "rename(p/f, q/f)", ::rename(C(c.P("p/f")), C(c.P("q/f"))));
    Times f1 = TimesOf(c, "q/f");
    ExpectLater("ctime of the renamed file", f1.c, f0.c);
    ExpectSameTime("mtime of the renamed file", f1.m, {kPast, 0});
    ExpectLater("mtime of the old parent", TimesOf(c, "p").m, {kPast, 0});
    ExpectLater("mtime of the new parent", TimesOf(c, "q").m, {kPast, 0});
  });
  r.Add("times.rename-within-dir-updates-parent", [](Ctx& c) {
    c.Dir("d", 0755);
    c.File("d/a", 0644);
    c.SetTimes("d", kPast, kPast);
    ExpectOk(c, "rename(d/a, d/b)", ::rename(C(c.P("d/a")), C(c.P("d/b"))));
    ExpectLater("mtime of the directory", TimesOf(c, "d").m, {kPast, 0});
  });
  r.Add("times.mkdir-rmdir-update-parent", [](Ctx& c) {
    c.Dir("d", 0755);
    c.SetTimes("d", kPast, kPast);
    ExpectOk(c, "mkdir(d/e)", ::mkdir(C(c.P("d/e")), 0755));
    ExpectLater("mtime of the parent after mkdir", TimesOf(c, "d").m, {kPast, 0});
    c.SetTimes("d", kPast, kPast);
    ExpectOk(c, "rmdir(d/e)", ::rmdir(C(c.P("d/e"))));
    ExpectLater("mtime of the parent after rmdir", TimesOf(c, "d").m, {kPast, 0});
  });
  r.Add("times.symlink-updates-parent", [](Ctx& c) {
    c.Dir("d", 0755);
    c.SetTimes("d", kPast, kPast);
    ExpectOk(c, "symlink(x, d/l)", ::symlink("x", C(c.P("d/l"))));
    ExpectLater("mtime of the parent", TimesOf(c, "d").m, {kPast, 0});
  });
  r.Add("times.setxattr-updates-ctime",
        [](Ctx& c) {
          c.File("f", 0644);
          c.SetTimes("f", kPast, kPast);
          Times before = TimesOf(c, "f");
          c.Tick();
          ExpectOk(c, "setxattr(user.t)", ::setxattr(C(c.P("f")), "user.t", "1", 1, 0));
          Times t = TimesOf(c, "f");
          ExpectLater("ctime", t.c, before.c);
          ExpectSameTime("mtime", t.m, {kPast, 0});
        },
        {NotRunOn({P::kNfs}, kNoXattrs)});
  r.Add("times.utimensat-updates-ctime", [](Ctx& c) {
    c.File("f", 0644);
    Times before = TimesOf(c, "f");
    c.Tick();
    c.SetTimes("f", kPast, kPast);
    ExpectLater("ctime", TimesOf(c, "f").c, before.c);
  });
  r.Add("times.mmap-write-updates-mtime",
        [](Ctx& c) {
          c.File("f", 0644, std::string(4096, 'a'));
          c.SetTimes("f", kPast, kPast);
          Fd fd(ExpectFd(c, "open(f, O_RDWR)", ::open(C(c.P("f")), O_RDWR | O_CLOEXEC)));
          void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0);
          if (p == MAP_FAILED) ExpectOk(c, "mmap(PROT_WRITE, MAP_SHARED)", -1);
          static_cast<char*>(p)[10] = 'Z';
          int ret = ::msync(p, 4096, MS_SYNC);
          int err = errno;
          ::munmap(p, 4096);
          errno = err;
          ExpectOk(c, "msync(MS_SYNC)", ret);
          fd.Close();
          ExpectLater("mtime after a write through mmap", TimesOf(c, "f").m, {kPast, 0});
          ExpectStr("byte 10", c.Read("f").substr(10, 1), "Z");
        },
        {AcceptErrnoOn(
            {P::k9p}, {EINVAL},
            "v9fs without cache=mmap or cache=loose refuses shared mappings of a file open "
            "for writing")});
}

void RegisterNlink(Registry& r) {
  r.Add("nlink.file-links", [](Ctx& c) {
    c.File("f", 0644);
    ExpectEq("nlink of a new file", static_cast<long long>(c.Lstat("f").st_nlink), 1);
    for (int i = 0; i < 5; ++i) {
      std::string n = "l" + std::to_string(i);
      ExpectOk(c, "link", ::link(C(c.P("f")), C(c.P(n))));
    }
    ExpectEq("nlink after 5 links", static_cast<long long>(c.Lstat("f").st_nlink), 6);
    ExpectOk(c, "unlink(l0)", ::unlink(C(c.P("l0"))));
    ExpectOk(c, "unlink(f)", ::unlink(C(c.P("f"))));
    ExpectEq("nlink after 2 unlinks", static_cast<long long>(c.Lstat("l1").st_nlink), 4);
  });
  r.Add("nlink.dir-counts-subdirs", [](Ctx& c) {
    c.Dir("d", 0755);
    for (int i = 0; i < 4; ++i) c.Dir("d/s" + std::to_string(i), 0755);
    for (int i = 0; i < 3; ++i) c.File("d/f" + std::to_string(i), 0644);
    c.Symlink("s0", "d/l");
    ExpectEq("nlink of a dir with 4 subdirs", static_cast<long long>(c.Lstat("d").st_nlink), 6);
    ExpectOk(c, "rmdir(d/s0)", ::rmdir(C(c.P("d/s0"))));
    ExpectEq("nlink after one rmdir", static_cast<long long>(c.Lstat("d").st_nlink), 5);
  });
  r.Add("nlink.fstat-follows-links", [](Ctx& c) {
    c.File("f", 0644);
    Fd fd(ExpectFd(c, "open(f)", ::open(C(c.P("f")), O_RDONLY | O_CLOEXEC)));
    ExpectOk(c, "link(f, g)", ::link(C(c.P("f")), C(c.P("g"))));
    struct stat st {};
    ExpectOk(c, "fstat", ::fstat(fd.get(), &st));
    ExpectEq("nlink seen through the descriptor", static_cast<long long>(st.st_nlink), 2);
  });
  r.Add("nlink.rename-over-dir", [](Ctx& c) {
    c.Dir("p", 0755);
    c.Dir("p/a", 0755);
    c.Dir("p/b", 0755);
    ExpectEq("nlink of p", static_cast<long long>(c.Lstat("p").st_nlink), 4);
    ExpectOk(c, "rename(p/a, p/b)", ::rename(C(c.P("p/a")), C(c.P("p/b"))));
    ExpectEq("nlink of p after replacing a dir", static_cast<long long>(c.Lstat("p").st_nlink), 3);
  });
  r.Add("nlink.root-of-check-dir", [](Ctx& c) {
    long long base = static_cast<long long>(c.Lstat("").st_nlink);
    ExpectEq("nlink of an empty directory", base, 2);
  });
}

}  // namespace

void RegisterAttrChecks(Registry& r) {
  RegisterChmod(r);
  RegisterChown(r);
  RegisterUtimensat(r);
  RegisterXattr(r);
  RegisterTimes(r);
  RegisterNlink(r);
}

}  // namespace zerofs::posix
