// Checks of permission rules: perm (mode bits, search permission, access(2)), sticky
// directories, setgid directories, and the clearing of set-id bits on write/truncate.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "suite.h"

namespace zerofs::posix {
namespace {

constexpr uid_t kOtherUid = 12345;
constexpr gid_t kOtherGid = 12345;

const char* C(const std::string& s) {
  return s.c_str();
}

int OpenR(Ctx& c, std::string_view rel) {
  return ::open(C(c.P(rel)), O_RDONLY | O_CLOEXEC);
}

void RegisterPerm(Registry& r) {
  r.Add("perm.owner-bits-decide-for-owner", [](Ctx& c) {
    // The owner gets the owner bits even when group and other would allow more.
    c.File("f", 0077, "x");
    c.GiveToUser("f");
    c.AsUser([&] { ExpectErr(c, "open(own f 0077)", OpenR(c, "f"), EACCES); });
  });
  r.Add("perm.group-bits-decide-for-group", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 0604, "x");
    c.Chown("f", kOtherUid, c.gid());
    c.AsUser([&] { ExpectErr(c, "open(f 0604 of my group)", OpenR(c, "f"), EACCES); });
  });
  r.Add("perm.group-bits-grant", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 0040, "x");
    c.Chown("f", kOtherUid, c.gid());
    c.AsUser([&] { Fd fd(ExpectFd(c, "open(f 0040 of my group)", OpenR(c, "f"))); });
  });
  r.Add("perm.other-bits-grant", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 0004, "x");
    c.Chown("f", kOtherUid, kOtherGid);
    c.AsUser([&] { Fd fd(ExpectFd(c, "open(f 0004 of others)", OpenR(c, "f"))); });
  });
  r.Add("perm.search-needed-for-lookup", [](Ctx& c) {
    c.Dir("d", 0755);
    c.File("d/f", 0644);
    c.Chmod("d", 0644);
    c.AsUser([&] {
      struct stat st {};
      ExpectErr(c, "stat(d/f) with d 0644", ::stat(C(c.P("d/f")), &st), EACCES);
    });
  });
  r.Add("perm.search-without-read", [](Ctx& c) {
    // x without r: names can be looked up, not listed.
    c.Dir("d", 0755);
    c.File("d/f", 0644, "x");
    c.Chmod("d", 0711);
    c.GiveToUser("d");
    c.Chmod("d", 0311);
    c.AsUser([&] {
      Fd fd(ExpectFd(c, "open(d/f) with d 0311", OpenR(c, "d/f")));
      ExpectErr(c, "open(d, O_DIRECTORY) with d 0311",
                ::open(C(c.P("d")), O_RDONLY | O_DIRECTORY | O_CLOEXEC), EACCES);
    });
  });
  r.Add("perm.write-needs-search-too", [](Ctx& c) {
    c.Dir("d", 0666);
    c.AsUser([&] {
      ExpectErr(c, "open(d/f, O_CREAT) with d 0666",
                ::open(C(c.P("d/f")), O_CREAT | O_WRONLY | O_CLOEXEC, 0644), EACCES);
    });
  });
  r.Add("perm.chdir-needs-search", [](Ctx& c) {
    c.Dir("d", 0666);
    c.AsUser([&] { ExpectErr(c, "chdir(d 0666)", ::chdir(C(c.P("d"))), EACCES); });
  });
  r.Add("perm.access", [](Ctx& c) {
    c.File("f", 0640);
    c.GiveToUser("f");
    c.AsUser([&] {
      ExpectOk(c, "access(f 0640, R_OK|W_OK)", ::access(C(c.P("f")), R_OK | W_OK));
      ExpectErr(c, "access(f 0640, X_OK)", ::access(C(c.P("f")), X_OK), EACCES);
      ExpectOk(c, "access(f, F_OK)", ::access(C(c.P("f")), F_OK));
      ExpectErr(c, "access(missing, F_OK)", ::access(C(c.P("missing")), F_OK), ENOENT);
    });
  });
  r.Add("perm.root-exec-needs-an-x-bit", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 0644);
    ExpectErr(c, "access(f 0644, X_OK) as root", ::access(C(c.P("f")), X_OK), EACCES);
    c.Chmod("f", 0010);
    ExpectOk(c, "access(f 0010, X_OK) as root", ::access(C(c.P("f")), X_OK));
    ExpectOk(c, "access(f 0010, R_OK|W_OK) as root", ::access(C(c.P("f")), R_OK | W_OK));
  });
  r.Add("perm.root-searches-any-dir", [](Ctx& c) {
    c.NeedRoot();
    c.Dir("d", 0755);
    c.File("d/f", 0644, "x");
    c.Chmod("d", 0000);
    Fd fd(ExpectFd(c, "open(d/f) with d 0000 as root", OpenR(c, "d/f")));
  });
  r.Add("perm.exec-denied", [](Ctx& c) {
    c.File("f", 0644, "#!/bin/sh\nexit 0\n");
    c.GiveToUser("f");
    c.AsUser([&] {
      char* const argv[] = {nullptr};
      ExpectErr(c, "execve(f 0644)", ::execve(C(c.P("f")), argv, argv), EACCES);
    });
  });
}

void RegisterSticky(Registry& r) {
  // A sticky directory owned by root, writable by all, like /tmp.
  auto sticky_dir = [](Ctx& c) {
    c.NeedRoot();
    c.Dir("t", 01777);
  };
  r.Add("sticky.owner-deletes-own-file", [sticky_dir](Ctx& c) {
    sticky_dir(c);
    c.AsUser([&] {
      Fd fd(ExpectFd(c, "open(t/f, O_CREAT)",
                     ::open(C(c.P("t/f")), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)));
      ExpectOk(c, "unlink(own t/f)", ::unlink(C(c.P("t/f"))));
    });
  });
  r.Add("sticky.others-file-unlink-eperm", [sticky_dir](Ctx& c) {
    sticky_dir(c);
    c.File("t/f", 0666);
    c.Chown("t/f", kOtherUid, kOtherGid);
    c.AsUser([&] { ExpectErr(c, "unlink(other's t/f)", ::unlink(C(c.P("t/f"))), EPERM); });
    ExpectTrue("", c.Exists("t/f"), "t/f kept", "removed");
  });
  r.Add("sticky.others-file-rename-eperm", [sticky_dir](Ctx& c) {
    sticky_dir(c);
    c.File("t/f", 0666);
    c.Chown("t/f", kOtherUid, kOtherGid);
    c.AsUser([&] {
      ExpectErr(c, "rename(other's t/f, t/g)", ::rename(C(c.P("t/f")), C(c.P("t/g"))), EPERM);
    });
  });
  r.Add("sticky.replace-others-file-eperm", [sticky_dir](Ctx& c) {
    sticky_dir(c);
    c.File("t/f", 0666);
    c.Chown("t/f", kOtherUid, kOtherGid);
    c.AsUser([&] {
      Fd fd(ExpectFd(c, "open(t/mine, O_CREAT)",
                     ::open(C(c.P("t/mine")), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)));
      ExpectErr(c, "rename(t/mine, other's t/f)", ::rename(C(c.P("t/mine")), C(c.P("t/f"))), EPERM);
    });
  });
  r.Add("sticky.others-dir-rmdir-eperm", [sticky_dir](Ctx& c) {
    sticky_dir(c);
    c.Dir("t/d", 0777);
    c.Chown("t/d", kOtherUid, kOtherGid);
    c.AsUser([&] { ExpectErr(c, "rmdir(other's t/d)", ::rmdir(C(c.P("t/d"))), EPERM); });
  });
  r.Add("sticky.dir-owner-deletes-any", [](Ctx& c) {
    c.NeedRoot();
    c.Dir("t", 01777);
    c.GiveToUser("t");
    c.File("t/f", 0644);
    c.Chown("t/f", kOtherUid, kOtherGid);
    c.AsUser([&] { ExpectOk(c, "unlink(t/f) in my sticky t", ::unlink(C(c.P("t/f")))); });
  });
  r.Add("sticky.root-deletes-any", [sticky_dir](Ctx& c) {
    sticky_dir(c);
    c.File("t/f", 0644);
    c.Chown("t/f", kOtherUid, kOtherGid);
    ExpectOk(c, "unlink(other's t/f) as root", ::unlink(C(c.P("t/f"))));
  });
  r.Add("sticky.without-sticky-anyone-deletes", [](Ctx& c) {
    c.NeedRoot();
    c.Dir("t", 0777);
    c.File("t/f", 0644);
    c.Chown("t/f", kOtherUid, kOtherGid);
    c.AsUser([&] { ExpectOk(c, "unlink(other's t/f) in 0777 t", ::unlink(C(c.P("t/f")))); });
  });
  r.Add("sticky.bit-on-file-by-owner", [](Ctx& c) {
    c.File("f", 0644);
    c.GiveToUser("f");
    c.AsUser([&] { ExpectOk(c, "chmod(own f, 01644)", ::chmod(C(c.P("f")), 01644)); });
    ExpectMode("mode", c.Lstat("f").st_mode & 07777, 01644);
  });
}

void RegisterSetgid(Registry& r) {
  // A setgid directory of group kOtherGid that the user may write in.
  auto sgid_dir = [](Ctx& c) {
    c.NeedRoot();
    c.Dir("g", 0777);
    c.Chown("g", 0, kOtherGid);
    c.Chmod("g", 02777);
  };
  r.Add("setgid.file-inherits-group", [sgid_dir](Ctx& c) {
    sgid_dir(c);
    c.AsUser([&] {
      Fd fd(ExpectFd(c, "open(g/f, O_CREAT)",
                     ::open(C(c.P("g/f")), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)));
    });
    struct stat st = c.Lstat("g/f");
    ExpectEq("gid of the new file", st.st_gid, kOtherGid);
    ExpectEq("uid of the new file", st.st_uid, c.uid());
    ExpectMode("mode of the new file", st.st_mode & 07777, 0644);
  });
  r.Add("setgid.subdir-inherits-group-and-bit", [sgid_dir](Ctx& c) {
    sgid_dir(c);
    c.AsUser([&] { ExpectOk(c, "mkdir(g/d, 0755)", ::mkdir(C(c.P("g/d")), 0755)); });
    struct stat st = c.Lstat("g/d");
    ExpectEq("gid of the new directory", st.st_gid, kOtherGid);
    ExpectMode("mode of the new directory", st.st_mode & 07777, 02755);
  });
  r.Add("setgid.symlink-and-node-inherit-group", [sgid_dir](Ctx& c) {
    sgid_dir(c);
    c.AsUser([&] {
      ExpectOk(c, "symlink(x, g/l)", ::symlink("x", C(c.P("g/l"))));
      ExpectOk(c, "mkfifo(g/p)", ::mkfifo(C(c.P("g/p")), 0644));
    });
    ExpectEq("gid of the symlink", c.Lstat("g/l").st_gid, kOtherGid);
    ExpectEq("gid of the fifo", c.Lstat("g/p").st_gid, kOtherGid);
  });
  r.Add("setgid.create-with-sgid-by-non-member-drops-it", [sgid_dir](Ctx& c) {
    sgid_dir(c);
    c.AsUser([&] {
      Fd fd(ExpectFd(c, "open(g/f, O_CREAT, 02755)",
                     ::open(C(c.P("g/f")), O_CREAT | O_WRONLY | O_CLOEXEC, 02755)));
    });
    ExpectMode("mode", c.Lstat("g/f").st_mode & 07777, 0755);
  });
  r.Add("setgid.root-creates-with-sgid-kept", [sgid_dir](Ctx& c) {
    sgid_dir(c);
    Fd fd(ExpectFd(c, "open(g/f, O_CREAT, 02755) as root",
                   ::open(C(c.P("g/f")), O_CREAT | O_WRONLY | O_CLOEXEC, 02755)));
    ExpectMode("mode", c.Lstat("g/f").st_mode & 07777, 02755);
  });
  r.Add("setgid.plain-dir-gives-caller-group", [](Ctx& c) {
    c.AsUser([&] {
      Fd fd(ExpectFd(c, "open(f, O_CREAT)",
                     ::open(C(c.P("f")), O_CREAT | O_WRONLY | O_CLOEXEC, 0644)));
    });
    ExpectEq("gid", c.Lstat("f").st_gid, c.gid());
  });
  r.Add("setgid.rename-keeps-group", [sgid_dir](Ctx& c) {
    sgid_dir(c);
    c.File("f", 0644);
    ExpectOk(c, "rename(f, g/f)", ::rename(C(c.P("f")), C(c.P("g/f"))));
    ExpectEq("gid of a moved-in file", c.Lstat("g/f").st_gid, 0);
  });
}

void RegisterSuid(Registry& r) {
  // A file of the unprivileged user with the given set-id mode.
  auto user_file = [](Ctx& c, mode_t mode) {
    c.File("f", 0755, "0123456789");
    c.GiveToUser("f");
    c.Chmod("f", mode);
  };
  r.Add("suid.write-clears-setuid", [user_file](Ctx& c) {
    user_file(c, 04755);
    c.AsUser([&] { c.Write("f", "x"); });
    ExpectMode("mode after write", c.Lstat("f").st_mode & 07777, 0755);
  });
  r.Add("suid.write-clears-setgid-with-group-exec", [user_file](Ctx& c) {
    user_file(c, 02755);
    c.AsUser([&] { c.Write("f", "x"); });
    ExpectMode("mode after write", c.Lstat("f").st_mode & 07777, 0755);
  });
  r.Add("suid.write-keeps-setgid-without-group-exec", [user_file](Ctx& c) {
    user_file(c, 02745);
    c.AsUser([&] { c.Write("f", "x"); });
    ExpectMode("mode after write", c.Lstat("f").st_mode & 07777, 02745);
  });
  r.Add("suid.write-by-root-keeps", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 06755, "0123456789");
    c.Write("f", "x");
    ExpectMode("mode after write by root", c.Lstat("f").st_mode & 07777, 06755);
  });
  r.Add("suid.write-by-non-owner-clears", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 06777, "0123456789");
    c.AsUser([&] { c.Write("f", "x"); });
    ExpectMode("mode after write", c.Lstat("f").st_mode & 07777, 0777);
  });
  r.Add("suid.truncate-clears", [user_file](Ctx& c) {
    user_file(c, 06755);
    c.AsUser([&] { ExpectOk(c, "truncate(f, 3)", ::truncate(C(c.P("f")), 3)); });
    ExpectMode("mode after truncate", c.Lstat("f").st_mode & 07777, 0755);
  });
  r.Add("suid.open-trunc-clears", [user_file](Ctx& c) {
    user_file(c, 04755);
    c.AsUser([&] {
      Fd fd(ExpectFd(c, "open(f, O_TRUNC)", ::open(C(c.P("f")), O_WRONLY | O_TRUNC | O_CLOEXEC)));
    });
    ExpectMode("mode after O_TRUNC", c.Lstat("f").st_mode & 07777, 0755);
  });
  r.Add("suid.empty-write-keeps", [user_file](Ctx& c) {
    user_file(c, 04755);
    c.AsUser([&] {
      Fd fd(ExpectFd(c, "open(f, O_WRONLY)", ::open(C(c.P("f")), O_WRONLY | O_CLOEXEC)));
      ExpectOk(c, "write(0 bytes)", ::write(fd.get(), "", 0));
    });
    ExpectMode("mode after an empty write", c.Lstat("f").st_mode & 07777, 04755);
  });
  r.Add("suid.chmod-by-owner-sets-setuid", [user_file](Ctx& c) {
    user_file(c, 0755);
    c.AsUser([&] { ExpectOk(c, "chmod(own f, 04755)", ::chmod(C(c.P("f")), 04755)); });
    ExpectMode("mode", c.Lstat("f").st_mode & 07777, 04755);
  });
}

}  // namespace

void RegisterPermChecks(Registry& r) {
  RegisterPerm(r);
  RegisterSticky(r);
  RegisterSetgid(r);
  RegisterSuid(r);
}

}  // namespace zerofs::posix
