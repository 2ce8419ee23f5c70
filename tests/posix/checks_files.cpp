// Checks of files and their names: open, io, truncate, fallocate, unlink, link, symlink,
// mkfifo, mknod.
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <string>
#include <vector>

#include "suite.h"

namespace zerofs::posix {
namespace {

using P = Profile;

int Open(Ctx& c, std::string_view rel, int flags, mode_t mode = 0) {
  return ::open(c.P(rel).c_str(), flags | O_CLOEXEC, mode);
}

std::string ReadFd(int fd) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) Fail("read failed: " + ErrnoName(errno));
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

void WriteFd(Ctx& c, int fd, std::string_view data) {
  ExpectEq("write() result", ExpectOk(c, "write", ::write(fd, data.data(), data.size())),
           static_cast<long long>(data.size()));
}

constexpr const char* kSillyRename =
    "the NFS client silly-renames a file unlinked while open (.nfsXXXX stays in the "
    "directory until the last close)";

void RegisterOpen(Registry& r) {
  r.Add("open.creat-new", [](Ctx& c) {
    Fd fd(ExpectFd(c, "open(f, O_CREAT|O_WRONLY, 0640)", Open(c, "f", O_CREAT | O_WRONLY, 0640)));
    struct stat st = c.Lstat("f");
    ExpectTrue("", S_ISREG(st.st_mode), "a regular file", Octal(st.st_mode));
    ExpectMode("mode", st.st_mode & 07777, 0640);
    ExpectEq("size", st.st_size, 0);
    ExpectEq("nlink", static_cast<long long>(st.st_nlink), 1);
    ExpectEq("uid", st.st_uid, ::geteuid());
    ExpectEq("gid", st.st_gid, ::getegid());
  });
  r.Add("open.creat-owner-is-caller", [](Ctx& c) {
    c.AsUser(
        [&] { Fd fd(ExpectFd(c, "open(f, O_CREAT)", Open(c, "f", O_CREAT | O_WRONLY, 0600))); });
    struct stat st = c.Lstat("f");
    ExpectEq("uid", st.st_uid, c.uid());
    ExpectEq("gid", st.st_gid, c.gid());
  });
  r.Add("open.creat-umask", [](Ctx& c) {
    mode_t old = ::umask(027);
    int ret = Open(c, "f", O_CREAT | O_WRONLY, 0777);
    int err = errno;
    ::umask(old);
    errno = err;
    Fd fd(ExpectFd(c, "open(f, O_CREAT, 0777) with umask 027", ret));
    ExpectMode("mode", c.Lstat("f").st_mode & 07777, 0750);
  });
  r.Add("open.creat-excl-existing", [](Ctx& c) {
    c.File("f", 0644, "data");
    ExpectErr(c, "open(f, O_CREAT|O_EXCL)", Open(c, "f", O_CREAT | O_EXCL | O_WRONLY, 0644),
              EEXIST);
    ExpectStr("content", c.Read("f"), "data");
  });
  r.Add("open.creat-excl-dangling-symlink", [](Ctx& c) {
    c.Symlink("target", "link");
    ExpectErr(c, "open(link, O_CREAT|O_EXCL)", Open(c, "link", O_CREAT | O_EXCL | O_WRONLY, 0644),
              EEXIST);
    ExpectTrue("", !c.Exists("target"), "symlink target not created", "it exists");
  });
  r.Add("open.creat-through-dangling-symlink", [](Ctx& c) {
    c.Symlink("target", "link");
    Fd fd(ExpectFd(c, "open(link, O_CREAT)", Open(c, "link", O_CREAT | O_WRONLY, 0600)));
    ExpectTrue("", c.Exists("target"), "target created through the symlink", "no target");
    ExpectTrue("", S_ISLNK(c.Lstat("link").st_mode), "link still a symlink", "changed");
  });
  r.Add("open.creat-existing-keeps-content-and-mode", [](Ctx& c) {
    c.File("f", 0640, "data");
    Fd fd(ExpectFd(c, "open(f, O_CREAT|O_RDWR, 0777)", Open(c, "f", O_CREAT | O_RDWR, 0777)));
    ExpectStr("content", ReadFd(fd.get()), "data");
    ExpectMode("mode", c.Lstat("f").st_mode & 07777, 0640);
  });
  r.Add("open.excl-without-creat", [](Ctx& c) {
    c.File("f", 0644, "x");
    Fd fd(ExpectFd(c, "open(f, O_EXCL|O_RDONLY)", Open(c, "f", O_EXCL | O_RDONLY)));
  });
  r.Add("open.creat-readonly-mode-fd-writable", [](Ctx& c) {
    // A newly created file's open is not checked against its mode.
    c.AsUser([&] {
      Fd fd(ExpectFd(c, "open(f, O_CREAT|O_RDWR, 0444)", Open(c, "f", O_CREAT | O_RDWR, 0444)));
      WriteFd(c, fd.get(), "written");
    });
    ExpectStr("content", c.Read("f"), "written");
    ExpectMode("mode", c.Lstat("f").st_mode & 07777, 0444);
  });
  r.Add("open.trunc", [](Ctx& c) {
    c.File("f", 0644, "some data");
    Fd fd(ExpectFd(c, "open(f, O_TRUNC|O_WRONLY)", Open(c, "f", O_TRUNC | O_WRONLY)));
    ExpectEq("size", c.Lstat("f").st_size, 0);
  });
  r.Add("open.trunc-rdonly-truncates", [](Ctx& c) {
    c.File("f", 0644, "some data");
    Fd fd(ExpectFd(c, "open(f, O_TRUNC|O_RDONLY)", Open(c, "f", O_TRUNC | O_RDONLY)));
    ExpectEq("size", c.Lstat("f").st_size, 0);
  });
  r.Add("open.trunc-rdonly-needs-write-permission", [](Ctx& c) {
    c.File("f", 0444, "some data");
    c.GiveToUser("f");
    c.AsUser([&] {
      ExpectErr(c, "open(f, O_TRUNC|O_RDONLY)", Open(c, "f", O_TRUNC | O_RDONLY), EACCES);
    });
    ExpectEq("size", c.Lstat("f").st_size, 9);
  });
  r.Add("open.append", [](Ctx& c) {
    c.File("f", 0644, "abc");
    Fd fd(ExpectFd(c, "open(f, O_APPEND|O_RDWR)", Open(c, "f", O_APPEND | O_RDWR)));
    ExpectOk(c, "lseek", ::lseek(fd.get(), 0, SEEK_SET));
    WriteFd(c, fd.get(), "def");
    ExpectEq("offset after append", ::lseek(fd.get(), 0, SEEK_CUR), 6);
    ExpectStr("content", c.Read("f"), "abcdef");
  });
  r.Add("open.append-pwrite-appends", [](Ctx& c) {
    // Linux ignores pwrite's offset on an O_APPEND descriptor.
    c.File("f", 0644, "abc");
    Fd fd(ExpectFd(c, "open(f, O_APPEND|O_WRONLY)", Open(c, "f", O_APPEND | O_WRONLY)));
    ExpectEq("pwrite", ExpectOk(c, "pwrite", ::pwrite(fd.get(), "X", 1, 0)), 1);
    ExpectStr("content", c.Read("f"), "abcX");
  });
  r.Add("open.directory-on-file", [](Ctx& c) {
    c.File("f", 0644);
    ExpectErr(c, "open(f, O_DIRECTORY)", Open(c, "f", O_DIRECTORY | O_RDONLY), ENOTDIR);
  });
  r.Add("open.directory-on-dir", [](Ctx& c) {
    c.Dir("d", 0755);
    Fd fd(ExpectFd(c, "open(d, O_DIRECTORY)", Open(c, "d", O_DIRECTORY | O_RDONLY)));
  });
  r.Add("open.directory-on-symlink-to-dir", [](Ctx& c) {
    c.Dir("d", 0755);
    c.Symlink("d", "l");
    Fd fd(ExpectFd(c, "open(l, O_DIRECTORY)", Open(c, "l", O_DIRECTORY | O_RDONLY)));
  });
  r.Add("open.nofollow-symlink", [](Ctx& c) {
    c.File("f", 0644);
    c.Symlink("f", "l");
    ExpectErr(c, "open(l, O_NOFOLLOW)", Open(c, "l", O_NOFOLLOW | O_RDONLY), ELOOP);
  });
  r.Add("open.nofollow-regular", [](Ctx& c) {
    c.File("f", 0644);
    Fd fd(ExpectFd(c, "open(f, O_NOFOLLOW)", Open(c, "f", O_NOFOLLOW | O_RDONLY)));
  });
  r.Add("open.nofollow-only-last-component", [](Ctx& c) {
    c.Dir("d", 0755);
    c.File("d/f", 0644);
    c.Symlink("d", "l");
    Fd fd(ExpectFd(c, "open(l/f, O_NOFOLLOW)", Open(c, "l/f", O_NOFOLLOW | O_RDONLY)));
  });
  r.Add("open.rdonly-dir", [](Ctx& c) {
    c.Dir("d", 0755);
    Fd fd(ExpectFd(c, "open(d, O_RDONLY)", Open(c, "d", O_RDONLY)));
  });
  r.Add("open.wronly-dir", [](Ctx& c) {
    c.Dir("d", 0755);
    ExpectErr(c, "open(d, O_WRONLY)", Open(c, "d", O_WRONLY), EISDIR);
  });
  r.Add("open.rdwr-dir", [](Ctx& c) {
    c.Dir("d", 0755);
    ExpectErr(c, "open(d, O_RDWR)", Open(c, "d", O_RDWR), EISDIR);
  });
  r.Add("open.creat-on-dir", [](Ctx& c) {
    c.Dir("d", 0755);
    ExpectErr(c, "open(d, O_CREAT|O_RDONLY)", Open(c, "d", O_CREAT | O_RDONLY, 0644), EISDIR);
  });
  r.Add("open.enoent",
        [](Ctx& c) { ExpectErr(c, "open(missing)", Open(c, "missing", O_RDONLY), ENOENT); });
  r.Add("open.creat-missing-parent", [](Ctx& c) {
    ExpectErr(c, "open(missing/f, O_CREAT)", Open(c, "missing/f", O_CREAT | O_WRONLY, 0644),
              ENOENT);
  });
  r.Add("open.enotdir-component", [](Ctx& c) {
    c.File("f", 0644);
    ExpectErr(c, "open(f/x)", Open(c, "f/x", O_RDONLY), ENOTDIR);
    ExpectErr(c, "open(f/x, O_CREAT)", Open(c, "f/x", O_CREAT | O_WRONLY, 0644), ENOTDIR);
  });
  r.Add("open.trailing-slash-on-file", [](Ctx& c) {
    c.File("f", 0644);
    ExpectErr(c, "open(f/)", Open(c, "f/", O_RDONLY), ENOTDIR);
  });
  r.Add("open.symlink-loop", [](Ctx& c) {
    c.Symlink("b", "a");
    c.Symlink("a", "b");
    ExpectErr(c, "open(a)", Open(c, "a", O_RDONLY), ELOOP);
  });
  r.Add("open.name-255", [](Ctx& c) {
    std::string name(255, 'n');
    Fd fd(ExpectFd(c, "open(255-byte name, O_CREAT)", Open(c, name, O_CREAT | O_WRONLY, 0644)));
    ExpectTrue("", c.Exists(name), "the file exists", "it does not");
  });
  r.Add("open.name-256-enametoolong", [](Ctx& c) {
    std::string name(256, 'n');
    ExpectErr(c, "open(256-byte name, O_CREAT)", Open(c, name, O_CREAT | O_WRONLY, 0644),
              ENAMETOOLONG);
    ExpectErr(c, "open(256-byte name)", Open(c, name, O_RDONLY), ENAMETOOLONG);
  });
  r.Add("open.path-max-enametoolong", [](Ctx& c) {
    std::string path;
    while (path.size() <= PATH_MAX) path += "a/";
    ExpectErr(c, "open(path longer than PATH_MAX)", Open(c, path, O_RDONLY), ENAMETOOLONG);
  });
  r.Add("open.eacces-read", [](Ctx& c) {
    c.File("f", 0200);
    c.GiveToUser("f");
    c.AsUser([&] { ExpectErr(c, "open(f 0200, O_RDONLY)", Open(c, "f", O_RDONLY), EACCES); });
  });
  r.Add("open.eacces-write", [](Ctx& c) {
    c.File("f", 0444);
    c.GiveToUser("f");
    c.AsUser([&] { ExpectErr(c, "open(f 0444, O_WRONLY)", Open(c, "f", O_WRONLY), EACCES); });
  });
  r.Add("open.eacces-rdwr-readonly", [](Ctx& c) {
    c.File("f", 0644);
    c.NeedRoot();
    c.AsUser([&] { ExpectErr(c, "open(root's f 0644, O_RDWR)", Open(c, "f", O_RDWR), EACCES); });
  });
  r.Add("open.eacces-creat-in-readonly-dir", [](Ctx& c) {
    c.Dir("d", 0555);
    c.AsUser([&] {
      ExpectErr(c, "open(d/f, O_CREAT) in 0555 dir", Open(c, "d/f", O_CREAT | O_WRONLY, 0644),
                EACCES);
    });
  });
  r.Add("open.eacces-search", [](Ctx& c) {
    c.Dir("d", 0755);
    c.File("d/f", 0644);
    c.Chmod("d", 0666);
    c.AsUser([&] { ExpectErr(c, "open(d/f) with d 0666", Open(c, "d/f", O_RDONLY), EACCES); });
  });
  r.Add("open.root-ignores-mode", [](Ctx& c) {
    c.NeedRoot();
    c.File("f", 0000, "x");
    c.GiveToUser("f");
    Fd fd(ExpectFd(c, "open(f 0000, O_RDWR) as root", Open(c, "f", O_RDWR)));
  });
}

void RegisterIo(Registry& r) {
  r.Add("io.write-read-back", [](Ctx& c) {
    std::string data = c.RandomBytes(300000);
    c.File("f", 0644);
    c.Write("f", data);
    ExpectStr("content", c.Read("f"), data);
    ExpectEq("size", c.Lstat("f").st_size, static_cast<long long>(data.size()));
  });
  r.Add("io.pwrite-pread", [](Ctx& c) {
    c.File("f", 0644, std::string(10000, 'a'));
    Fd fd(ExpectFd(c, "open(f, O_RDWR)", Open(c, "f", O_RDWR)));
    ExpectOk(c, "pwrite", ::pwrite(fd.get(), "XYZ", 3, 5000));
    char buf[5] = {};
    ExpectEq("pread", ExpectOk(c, "pread", ::pread(fd.get(), buf, 5, 4999)), 5);
    ExpectStr("bytes 4999..5003", std::string_view(buf, 5), "aXYZa");
    ExpectEq("size", c.Lstat("f").st_size, 10000);
  });
  r.Add("io.write-past-eof-leaves-zeros", [](Ctx& c) {
    c.File("f", 0644, "ab");
    Fd fd(ExpectFd(c, "open(f, O_WRONLY)", Open(c, "f", O_WRONLY)));
    ExpectOk(c, "pwrite at 100000", ::pwrite(fd.get(), "z", 1, 100000));
    fd.Close();
    std::string expected = "ab" + std::string(99998, '\0') + "z";
    ExpectStr("content", c.Read("f"), expected);
  });
  r.Add("io.read-at-eof", [](Ctx& c) {
    c.File("f", 0644, "abc");
    Fd fd(ExpectFd(c, "open(f)", Open(c, "f", O_RDONLY)));
    char buf[8];
    ExpectEq("pread at eof", ExpectOk(c, "pread", ::pread(fd.get(), buf, 8, 3)), 0);
    ExpectEq("pread past eof", ExpectOk(c, "pread", ::pread(fd.get(), buf, 8, 1000)), 0);
    ExpectEq("short pread", ExpectOk(c, "pread", ::pread(fd.get(), buf, 8, 1)), 2);
  });
  r.Add("io.lseek-end", [](Ctx& c) {
    c.File("f", 0644, "12345");
    Fd fd(ExpectFd(c, "open(f)", Open(c, "f", O_RDONLY)));
    ExpectEq("lseek(0, SEEK_END)", ::lseek(fd.get(), 0, SEEK_END), 5);
  });
  r.Add("io.ebadf-read-on-wronly", [](Ctx& c) {
    c.File("f", 0644, "abc");
    Fd fd(ExpectFd(c, "open(f, O_WRONLY)", Open(c, "f", O_WRONLY)));
    char buf[4];
    ExpectErr(c, "read on O_WRONLY", ::read(fd.get(), buf, 4), EBADF);
  });
  r.Add("io.ebadf-write-on-rdonly", [](Ctx& c) {
    c.File("f", 0644, "abc");
    Fd fd(ExpectFd(c, "open(f, O_RDONLY)", Open(c, "f", O_RDONLY)));
    ExpectErr(c, "write on O_RDONLY", ::write(fd.get(), "x", 1), EBADF);
  });
  r.Add("io.read-dir-eisdir", [](Ctx& c) {
    c.Dir("d", 0755);
    Fd fd(ExpectFd(c, "open(d)", Open(c, "d", O_RDONLY)));
    char buf[4];
    ExpectErr(c, "read on a directory", ::read(fd.get(), buf, 4), EISDIR);
  });
  r.Add("io.fsync-fdatasync", [](Ctx& c) {
    c.File("f", 0644);
    Fd fd(ExpectFd(c, "open(f)", Open(c, "f", O_RDWR)));
    WriteFd(c, fd.get(), "abc");
    ExpectOk(c, "fsync", ::fsync(fd.get()));
    ExpectOk(c, "fdatasync", ::fdatasync(fd.get()));
    Fd dfd(ExpectFd(c, "open(.)", Open(c, "", O_RDONLY | O_DIRECTORY)));
    ExpectOk(c, "fsync(dir)", ::fsync(dfd.get()));
  });
  r.Add("io.two-descriptors-see-writes", [](Ctx& c) {
    c.File("f", 0644);
    Fd w(ExpectFd(c, "open(f, O_WRONLY)", Open(c, "f", O_WRONLY)));
    Fd rd(ExpectFd(c, "open(f, O_RDONLY)", Open(c, "f", O_RDONLY)));
    WriteFd(c, w.get(), "hello");
    ExpectStr("read through the other descriptor", ReadFd(rd.get()), "hello");
  });
}

void RegisterFallocate(Registry& r) {
  std::vector<Relaxation> no_falloc = {AcceptErrnoOn(
      {P::k9p, P::kNfs}, {EOPNOTSUPP}, "the kernel's v9fs and NFSv3 clients have no fallocate")};
  r.Add(
      "fallocate.grows-with-zeros",
      [](Ctx& c) {
        c.File("f", 0644, "ab");
        Fd fd(ExpectFd(c, "open(f, O_RDWR)", Open(c, "f", O_RDWR)));
        ExpectOk(c, "fallocate(0, 0, 10000)", ::fallocate(fd.get(), 0, 0, 10000));
        ExpectEq("size", c.Lstat("f").st_size, 10000);
        ExpectStr("content", c.Read("f"), "ab" + std::string(9998, '\0'));
      },
      no_falloc);
  r.Add(
      "fallocate.keep-size",
      [](Ctx& c) {
        c.File("f", 0644, "ab");
        Fd fd(ExpectFd(c, "open(f, O_RDWR)", Open(c, "f", O_RDWR)));
        ExpectOk(c, "fallocate(KEEP_SIZE, 0, 10000)",
                 ::fallocate(fd.get(), FALLOC_FL_KEEP_SIZE, 0, 10000));
        ExpectEq("size", c.Lstat("f").st_size, 2);
        ExpectStr("content", c.Read("f"), "ab");
      },
      no_falloc);
  r.Add(
      "fallocate.punch-hole",
      [](Ctx& c) {
        c.File("f", 0644, std::string(16384, 'x'));
        Fd fd(ExpectFd(c, "open(f, O_RDWR)", Open(c, "f", O_RDWR)));
        ExpectOk(c, "fallocate(PUNCH_HOLE|KEEP_SIZE, 4000, 5000)",
                 ::fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4000, 5000));
        ExpectEq("size", c.Lstat("f").st_size, 16384);
        ExpectStr("content", c.Read("f"),
                  std::string(4000, 'x') + std::string(5000, '\0') + std::string(7384, 'x'));
      },
      no_falloc);
  r.Add(
      "fallocate.punch-past-eof-keeps-size",
      [](Ctx& c) {
        c.File("f", 0644, std::string(5000, 'x'));
        Fd fd(ExpectFd(c, "open(f, O_RDWR)", Open(c, "f", O_RDWR)));
        ExpectOk(c, "fallocate(PUNCH_HOLE|KEEP_SIZE, 4096, 100000)",
                 ::fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 100000));
        ExpectStr("content", c.Read("f"), std::string(4096, 'x') + std::string(904, '\0'));
      },
      no_falloc);
  r.Add("fallocate.punch-needs-keep-size", [](Ctx& c) {
    c.File("f", 0644, "abc");
    Fd fd(ExpectFd(c, "open(f, O_RDWR)", Open(c, "f", O_RDWR)));
    ExpectErr(c, "fallocate(PUNCH_HOLE)", ::fallocate(fd.get(), FALLOC_FL_PUNCH_HOLE, 0, 1),
              EOPNOTSUPP);
  });
  r.Add("fallocate.rdonly-ebadf", [](Ctx& c) {
    c.File("f", 0644, "abc");
    Fd fd(ExpectFd(c, "open(f, O_RDONLY)", Open(c, "f", O_RDONLY)));
    ExpectErr(c, "fallocate on O_RDONLY", ::fallocate(fd.get(), 0, 0, 100), EBADF);
  });
}

void RegisterTmpfile(Registry& r) {
  std::vector<Relaxation> no_tmpfile = {
      AcceptErrnoOn({P::k9p, P::kNfs}, {EOPNOTSUPP},
                    "the kernel's v9fs and NFSv3 clients have no O_TMPFILE"),
      AcceptErrnoOn({P::kFuse}, {EOPNOTSUPP},
                    "libfuse 3.14's low-level API has no tmpfile operation")};
  r.Add(
      "open.tmpfile-then-link",
      [](Ctx& c) {
        Fd fd(ExpectFd(c, "open(., O_TMPFILE|O_RDWR)", Open(c, "", O_TMPFILE | O_RDWR, 0640)));
        WriteFd(c, fd.get(), "anonymous");
        struct stat st {};
        ExpectOk(c, "fstat", ::fstat(fd.get(), &st));
        ExpectEq("nlink of an O_TMPFILE file", static_cast<long long>(st.st_nlink), 0);
        ExpectMode("mode", st.st_mode & 07777, 0640);
        std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
        ExpectOk(
            c, "linkat(/proc/self/fd/N, name, AT_SYMLINK_FOLLOW)",
            ::linkat(AT_FDCWD, proc.c_str(), AT_FDCWD, c.P("named").c_str(), AT_SYMLINK_FOLLOW));
        ExpectStr("content of the linked file", c.Read("named"), "anonymous");
        ExpectEq("nlink after linkat", static_cast<long long>(c.Lstat("named").st_nlink), 1);
      },
      no_tmpfile);
  r.Add(
      "open.tmpfile-invisible",
      [](Ctx& c) {
        c.Dir("d", 0755);
        Fd fd(ExpectFd(c, "open(d, O_TMPFILE|O_RDWR)", Open(c, "d", O_TMPFILE | O_RDWR, 0600)));
        ExpectOk(c, "rmdir(d) with an O_TMPFILE file open in it", ::rmdir(c.P("d").c_str()));
      },
      no_tmpfile);
  r.Add("open.tmpfile-needs-write-access", [](Ctx& c) {
    ExpectErr(c, "open(., O_TMPFILE|O_RDONLY)", Open(c, "", O_TMPFILE | O_RDONLY, 0600), EINVAL);
  });
}

void RegisterStatvfs(Registry& r) {
  r.Add("statvfs.sane", [](Ctx& c) {
    struct statvfs sv {};
    ExpectOk(c, "statvfs(dir)", ::statvfs(c.P("").c_str(), &sv));
    ExpectEq("f_namemax", static_cast<long long>(sv.f_namemax), 255);
    ExpectTrue("", sv.f_bsize > 0 && sv.f_frsize > 0, "block sizes > 0", "0");
    ExpectTrue("", sv.f_blocks > 0, "f_blocks > 0", "0");
    ExpectTrue("", sv.f_bavail <= sv.f_bfree && sv.f_bfree <= sv.f_blocks,
               "f_bavail <= f_bfree <= f_blocks",
               std::to_string(sv.f_bavail) + ", " + std::to_string(sv.f_bfree) + ", " +
                   std::to_string(sv.f_blocks));
    ExpectTrue("", sv.f_ffree <= sv.f_files, "f_ffree <= f_files",
               std::to_string(sv.f_ffree) + " > " + std::to_string(sv.f_files));
  });
  r.Add("statvfs.fstatvfs-matches", [](Ctx& c) {
    c.File("f", 0644);
    Fd fd(ExpectFd(c, "open(f)", Open(c, "f", O_RDONLY)));
    struct statvfs a {
    }, b{};
    ExpectOk(c, "statvfs(f)", ::statvfs(c.P("f").c_str(), &a));
    ExpectOk(c, "fstatvfs", ::fstatvfs(fd.get(), &b));
    ExpectEq("f_blocks of statvfs and fstatvfs", static_cast<long long>(a.f_blocks),
             static_cast<long long>(b.f_blocks));
    ExpectEq("f_fsid of statvfs and fstatvfs", static_cast<long long>(a.f_fsid),
             static_cast<long long>(b.f_fsid));
  });
}

void RegisterTruncate(Registry& r) {
  r.Add("truncate.shrink", [](Ctx& c) {
    c.File("f", 0644, "0123456789");
    ExpectOk(c, "truncate(f, 4)", ::truncate(c.P("f").c_str(), 4));
    ExpectStr("content", c.Read("f"), "0123");
  });
  r.Add("truncate.grow-zero-filled", [](Ctx& c) {
    c.File("f", 0644, "ab");
    ExpectOk(c, "truncate(f, 5000)", ::truncate(c.P("f").c_str(), 5000));
    ExpectStr("content", c.Read("f"), "ab" + std::string(4998, '\0'));
  });
  r.Add("truncate.shrink-then-grow-zeros", [](Ctx& c) {
    c.File("f", 0644, std::string(8192, 'x'));
    ExpectOk(c, "truncate(f, 100)", ::truncate(c.P("f").c_str(), 100));
    ExpectOk(c, "truncate(f, 8192)", ::truncate(c.P("f").c_str(), 8192));
    ExpectStr("content", c.Read("f"), std::string(100, 'x') + std::string(8092, '\0'));
  });
  r.Add("truncate.ftruncate", [](Ctx& c) {
    c.File("f", 0644, "0123456789");
    Fd fd(ExpectFd(c, "open(f, O_RDWR)", Open(c, "f", O_RDWR)));
    ExpectOk(c, "ftruncate(3)", ::ftruncate(fd.get(), 3));
    struct stat st {};
    ExpectOk(c, "fstat", ::fstat(fd.get(), &st));
    ExpectEq("size", st.st_size, 3);
    ExpectStr("content", ReadFd(fd.get()), "012");
  });
  r.Add("truncate.ftruncate-rdonly-einval", [](Ctx& c) {
    c.File("f", 0644, "0123456789");
    Fd fd(ExpectFd(c, "open(f, O_RDONLY)", Open(c, "f", O_RDONLY)));
    ExpectErr(c, "ftruncate on O_RDONLY", ::ftruncate(fd.get(), 3), EINVAL);
  });
  r.Add("truncate.negative-einval", [](Ctx& c) {
    c.File("f", 0644, "abc");
    ExpectErr(c, "truncate(f, -1)", ::truncate(c.P("f").c_str(), -1), EINVAL);
  });
  r.Add("truncate.dir-eisdir", [](Ctx& c) {
    c.Dir("d", 0755);
    ExpectErr(c, "truncate(d, 0)", ::truncate(c.P("d").c_str(), 0), EISDIR);
  });
  r.Add("truncate.eacces", [](Ctx& c) {
    c.File("f", 0444, "abc");
    c.GiveToUser("f");
    c.AsUser([&] { ExpectErr(c, "truncate(f 0444)", ::truncate(c.P("f").c_str(), 0), EACCES); });
  });
  r.Add("truncate.sparse-large", [](Ctx& c) {
    c.File("f", 0644);
    const off_t size = off_t{1} << 32;
    ExpectOk(c, "truncate(f, 4 GiB)", ::truncate(c.P("f").c_str(), size));
    ExpectEq("size", c.Lstat("f").st_size, size);
    Fd fd(ExpectFd(c, "open(f)", Open(c, "f", O_RDWR)));
    ExpectOk(c, "pwrite near the end", ::pwrite(fd.get(), "E", 1, size - 1));
    char buf[4] = {1, 1, 1, 1};
    ExpectEq("pread", ExpectOk(c, "pread", ::pread(fd.get(), buf, 4, size - 4)), 4);
    ExpectStr("last 4 bytes", std::string_view(buf, 4), std::string("\0\0\0E", 4));
  });
}

void RegisterUnlink(Registry& r) {
  r.Add("unlink.basic", [](Ctx& c) {
    c.File("f", 0644);
    ExpectOk(c, "unlink(f)", ::unlink(c.P("f").c_str()));
    ExpectTrue("", !c.Exists("f"), "f gone", "it exists");
  });
  r.Add("unlink.enoent",
        [](Ctx& c) { ExpectErr(c, "unlink(missing)", ::unlink(c.P("missing").c_str()), ENOENT); });
  r.Add("unlink.dir-eisdir", [](Ctx& c) {
    c.Dir("d", 0755);
    ExpectErr(c, "unlink(d)", ::unlink(c.P("d").c_str()), EISDIR);
  });
  r.Add("unlink.enotdir", [](Ctx& c) {
    c.File("f", 0644);
    ExpectErr(c, "unlink(f/x)", ::unlink(c.P("f/x").c_str()), ENOTDIR);
  });
  r.Add("unlink.eacces-readonly-dir", [](Ctx& c) {
    c.Dir("d", 0755);
    c.File("d/f", 0666);
    c.Chmod("d", 0555);
    c.AsUser([&] { ExpectErr(c, "unlink(d/f) in 0555 d", ::unlink(c.P("d/f").c_str()), EACCES); });
  });
  r.Add("unlink.symlink-not-target", [](Ctx& c) {
    c.File("f", 0644);
    c.Symlink("f", "l");
    ExpectOk(c, "unlink(l)", ::unlink(c.P("l").c_str()));
    ExpectTrue("", c.Exists("f") && !c.Exists("l"), "link gone, target kept", "otherwise");
  });
  r.Add("unlink.open-file-still-readable", [](Ctx& c) {
    std::string data = c.RandomBytes(20000);
    c.File("f", 0644, data);
    Fd fd(ExpectFd(c, "open(f, O_RDWR)", Open(c, "f", O_RDWR)));
    ExpectOk(c, "unlink(f)", ::unlink(c.P("f").c_str()));
    ExpectTrue("", !c.Exists("f"), "f gone from its directory", "still there");
    ExpectStr("content after unlink", ReadFd(fd.get()), data);
    ExpectOk(c, "pwrite after unlink", ::pwrite(fd.get(), "Z", 1, 0));
    char ch = 0;
    ExpectOk(c, "pread after unlink", ::pread(fd.get(), &ch, 1, 0));
    ExpectEq("byte 0", ch, 'Z');
  });
  r.Add("unlink.open-file-nlink-zero",
        [](Ctx& c) {
          c.File("f", 0644, "abc");
          Fd fd(ExpectFd(c, "open(f)", Open(c, "f", O_RDONLY)));
          ExpectOk(c, "unlink(f)", ::unlink(c.P("f").c_str()));
          struct stat st {};
          ExpectOk(c, "fstat", ::fstat(fd.get(), &st));
          ExpectEq("nlink of an unlinked open file", static_cast<long long>(st.st_nlink), 0);
        },
        {NotRunOn({P::kNfs}, kSillyRename)});
  r.Add("unlink.open-file-dir-removable",
        [](Ctx& c) {
          c.Dir("d", 0755);
          c.File("d/f", 0644, "abc");
          Fd fd(ExpectFd(c, "open(d/f)", Open(c, "d/f", O_RDONLY)));
          ExpectOk(c, "unlink(d/f)", ::unlink(c.P("d/f").c_str()));
          ExpectOk(c, "rmdir(d) while d/f is open", ::rmdir(c.P("d").c_str()));
          ExpectStr("content", ReadFd(fd.get()), "abc");
        },
        {NotRunOn({P::kNfs}, kSillyRename)});
}

void RegisterLink(Registry& r) {
  r.Add("link.basic", [](Ctx& c) {
    c.File("f", 0644, "abc");
    ExpectOk(c, "link(f, g)", ::link(c.P("f").c_str(), c.P("g").c_str()));
    struct stat a = c.Lstat("f"), b = c.Lstat("g");
    ExpectEq("ino of g", static_cast<long long>(b.st_ino), static_cast<long long>(a.st_ino));
    ExpectEq("nlink", static_cast<long long>(a.st_nlink), 2);
    ExpectStr("content of g", c.Read("g"), "abc");
  });
  r.Add("link.shared-content", [](Ctx& c) {
    c.File("f", 0644, "abc");
    ExpectOk(c, "link(f, g)", ::link(c.P("f").c_str(), c.P("g").c_str()));
    c.Write("g", "XY");
    ExpectStr("content of f after writing g", c.Read("f"), "XYc");
  });
  r.Add("link.other-dir", [](Ctx& c) {
    c.File("f", 0644, "abc");
    c.Dir("d", 0755);
    ExpectOk(c, "link(f, d/g)", ::link(c.P("f").c_str(), c.P("d/g").c_str()));
    ExpectEq("nlink", static_cast<long long>(c.Lstat("d/g").st_nlink), 2);
  });
  r.Add("link.eexist", [](Ctx& c) {
    c.File("f", 0644);
    c.File("g", 0644);
    ExpectErr(c, "link(f, g) with g existing", ::link(c.P("f").c_str(), c.P("g").c_str()), EEXIST);
  });
  r.Add("link.dir-eperm", [](Ctx& c) {
    c.Dir("d", 0755);
    ExpectErr(c, "link(d, e)", ::link(c.P("d").c_str(), c.P("e").c_str()), EPERM);
  });
  r.Add("link.enoent", [](Ctx& c) {
    ExpectErr(c, "link(missing, g)", ::link(c.P("missing").c_str(), c.P("g").c_str()), ENOENT);
  });
  r.Add("link.enoent-target-dir", [](Ctx& c) {
    c.File("f", 0644);
    ExpectErr(c, "link(f, missing/g)", ::link(c.P("f").c_str(), c.P("missing/g").c_str()), ENOENT);
  });
  r.Add("link.symlink-itself", [](Ctx& c) {
    // link(2) does not follow a symlink: the new name is another link to the symlink.
    c.File("f", 0644);
    c.Symlink("f", "l");
    ExpectOk(c, "link(l, m)", ::link(c.P("l").c_str(), c.P("m").c_str()));
    struct stat m = c.Lstat("m");
    ExpectTrue("", S_ISLNK(m.st_mode), "m a symlink", Octal(m.st_mode));
    ExpectEq("nlink of the symlink", static_cast<long long>(m.st_nlink), 2);
    ExpectEq("nlink of f", static_cast<long long>(c.Lstat("f").st_nlink), 1);
  });
  r.Add("link.at-symlink-follow", [](Ctx& c) {
    c.File("f", 0644);
    c.Symlink("f", "l");
    ExpectOk(c, "linkat(l, m, AT_SYMLINK_FOLLOW)",
             ::linkat(AT_FDCWD, c.P("l").c_str(), AT_FDCWD, c.P("m").c_str(), AT_SYMLINK_FOLLOW));
    ExpectTrue("", S_ISREG(c.Lstat("m").st_mode), "m a regular file", "not");
    ExpectEq("nlink of f", static_cast<long long>(c.Lstat("f").st_nlink), 2);
  });
  r.Add("link.eacces-readonly-dir", [](Ctx& c) {
    c.File("f", 0644);
    c.GiveToUser("f");
    c.Dir("d", 0555);
    c.AsUser([&] {
      ExpectErr(c, "link(f, d/g) into 0555 d", ::link(c.P("f").c_str(), c.P("d/g").c_str()),
                EACCES);
    });
  });
}

void RegisterSymlink(Registry& r) {
  r.Add("symlink.basic", [](Ctx& c) {
    ExpectOk(c, "symlink(target/x, l)", ::symlink("target/x", c.P("l").c_str()));
    struct stat st = c.Lstat("l");
    ExpectTrue("", S_ISLNK(st.st_mode), "a symlink", Octal(st.st_mode));
    ExpectMode("mode of a symlink", st.st_mode & 07777, 0777);
    ExpectEq("size of a symlink", st.st_size, 8);
    char buf[64];
    ssize_t n = ExpectOk(c, "readlink(l)", ::readlink(c.P("l").c_str(), buf, sizeof buf));
    ExpectStr("target", std::string_view(buf, static_cast<std::size_t>(n)), "target/x");
  });
  r.Add("symlink.follow", [](Ctx& c) {
    c.File("f", 0644, "via link");
    c.Symlink("f", "l");
    ExpectStr("content through l", c.Read("l"), "via link");
    ExpectTrue("", S_ISREG(c.Stat("l").st_mode), "stat follows to a regular file", "not");
  });
  r.Add("symlink.relative-to-its-dir", [](Ctx& c) {
    c.Dir("d", 0755);
    c.File("d/f", 0644, "inner");
    c.Symlink("f", "d/l");
    ExpectStr("content through d/l", c.Read("d/l"), "inner");
  });
  r.Add("symlink.absolute", [](Ctx& c) {
    c.File("f", 0644, "abs");
    c.Symlink(c.P("f"), "l");
    ExpectStr("content through l", c.Read("l"), "abs");
  });
  r.Add("symlink.dir-with-trailing-slash", [](Ctx& c) {
    c.Dir("d", 0755);
    c.Symlink("d", "l");
    struct stat st {};
    ExpectOk(c, "lstat(l/)", ::lstat(c.P("l/").c_str(), &st));
    ExpectTrue("", S_ISDIR(st.st_mode), "l/ resolves to the directory", Octal(st.st_mode));
  });
  r.Add("symlink.eexist", [](Ctx& c) {
    c.File("f", 0644);
    ExpectErr(c, "symlink(x, f)", ::symlink("x", c.P("f").c_str()), EEXIST);
  });
  r.Add("symlink.enoent-parent", [](Ctx& c) {
    ExpectErr(c, "symlink(x, missing/l)", ::symlink("x", c.P("missing/l").c_str()), ENOENT);
  });
  r.Add("symlink.eacces", [](Ctx& c) {
    c.Dir("d", 0555);
    c.AsUser([&] {
      ExpectErr(c, "symlink(x, d/l) in 0555 d", ::symlink("x", c.P("d/l").c_str()), EACCES);
    });
  });
  r.Add("symlink.owner-is-caller", [](Ctx& c) {
    c.AsUser([&] { ExpectOk(c, "symlink(x, l)", ::symlink("x", c.P("l").c_str())); });
    struct stat st = c.Lstat("l");
    ExpectEq("uid", st.st_uid, c.uid());
    ExpectEq("gid", st.st_gid, c.gid());
  });
  r.Add("symlink.long-target", [](Ctx& c) {
    std::string target;
    while (target.size() < 4095) target += "abcdefgh/";
    target.resize(4095);
    ExpectOk(c, "symlink(4095-byte target, l)", ::symlink(target.c_str(), c.P("l").c_str()));
    std::string buf(8192, '\0');
    ssize_t n = ExpectOk(c, "readlink", ::readlink(c.P("l").c_str(), buf.data(), buf.size()));
    ExpectStr("target", std::string_view(buf.data(), static_cast<std::size_t>(n)), target);
  });
  r.Add("symlink.target-too-long", [](Ctx& c) {
    std::string target(4096, 'a');
    ExpectErr(c, "symlink(4096-byte target, l)", ::symlink(target.c_str(), c.P("l").c_str()),
              ENAMETOOLONG);
  });
  r.Add("symlink.readlink-on-file-einval", [](Ctx& c) {
    c.File("f", 0644);
    char buf[16];
    ExpectErr(c, "readlink(f)", ::readlink(c.P("f").c_str(), buf, sizeof buf), EINVAL);
  });
  r.Add("symlink.readlink-truncates", [](Ctx& c) {
    c.Symlink("0123456789", "l");
    char buf[4];
    ExpectEq("readlink into 4 bytes",
             ExpectOk(c, "readlink", ::readlink(c.P("l").c_str(), buf, sizeof buf)), 4);
    ExpectStr("bytes", std::string_view(buf, 4), "0123");
  });
  r.Add("symlink.dangling-stat-enoent", [](Ctx& c) {
    c.Symlink("nowhere", "l");
    struct stat st {};
    ExpectErr(c, "stat(dangling l)", ::stat(c.P("l").c_str(), &st), ENOENT);
  });
}

void RegisterMkfifo(Registry& r) {
  r.Add("mkfifo.basic", [](Ctx& c) {
    ExpectOk(c, "mkfifo(p, 0640)", ::mkfifo(c.P("p").c_str(), 0640));
    struct stat st = c.Lstat("p");
    ExpectTrue("", S_ISFIFO(st.st_mode), "a fifo", Octal(st.st_mode));
    ExpectMode("mode", st.st_mode & 07777, 0640);
  });
  r.Add("mkfifo.eexist", [](Ctx& c) {
    c.File("f", 0644);
    ExpectErr(c, "mkfifo(f)", ::mkfifo(c.P("f").c_str(), 0644), EEXIST);
  });
  r.Add("mkfifo.eacces", [](Ctx& c) {
    c.Dir("d", 0555);
    c.AsUser(
        [&] { ExpectErr(c, "mkfifo(d/p) in 0555 d", ::mkfifo(c.P("d/p").c_str(), 0644), EACCES); });
  });
  r.Add("mkfifo.nonblock-write-no-reader-enxio", [](Ctx& c) {
    c.Fifo("p", 0666);
    ExpectErr(c, "open(p, O_WRONLY|O_NONBLOCK)", Open(c, "p", O_WRONLY | O_NONBLOCK), ENXIO);
  });
  r.Add("mkfifo.data-passes", [](Ctx& c) {
    c.Fifo("p", 0666);
    Fd rd(ExpectFd(c, "open(p, O_RDONLY|O_NONBLOCK)", Open(c, "p", O_RDONLY | O_NONBLOCK)));
    Fd wr(ExpectFd(c, "open(p, O_WRONLY)", Open(c, "p", O_WRONLY)));
    WriteFd(c, wr.get(), "through the fifo");
    char buf[64];
    ssize_t n = ExpectOk(c, "read", ::read(rd.get(), buf, sizeof buf));
    ExpectStr("data", std::string_view(buf, static_cast<std::size_t>(n)), "through the fifo");
    ExpectEq("fifo size on the filesystem", c.Lstat("p").st_size, 0);
  });
}

void RegisterMknod(Registry& r) {
  r.Add("mknod.regular", [](Ctx& c) {
    c.AsUser(
        [&] { ExpectOk(c, "mknod(f, S_IFREG)", ::mknod(c.P("f").c_str(), S_IFREG | 0640, 0)); });
    struct stat st = c.Lstat("f");
    ExpectTrue("", S_ISREG(st.st_mode), "a regular file", Octal(st.st_mode));
    ExpectMode("mode", st.st_mode & 07777, 0640);
  });
  r.Add("mknod.fifo", [](Ctx& c) {
    c.AsUser(
        [&] { ExpectOk(c, "mknod(p, S_IFIFO)", ::mknod(c.P("p").c_str(), S_IFIFO | 0600, 0)); });
    ExpectTrue("", S_ISFIFO(c.Lstat("p").st_mode), "a fifo", Octal(c.Lstat("p").st_mode));
  });
  r.Add("mknod.socket", [](Ctx& c) {
    c.AsUser(
        [&] { ExpectOk(c, "mknod(s, S_IFSOCK)", ::mknod(c.P("s").c_str(), S_IFSOCK | 0600, 0)); });
    ExpectTrue("", S_ISSOCK(c.Lstat("s").st_mode), "a socket", Octal(c.Lstat("s").st_mode));
  });
  r.Add("mknod.char-device", [](Ctx& c) {
    c.NeedRoot();
    dev_t dev = makedev(1, 3);
    ExpectOk(c, "mknod(c, S_IFCHR, 1:3)", ::mknod(c.P("c").c_str(), S_IFCHR | 0644, dev));
    struct stat st = c.Lstat("c");
    ExpectTrue("", S_ISCHR(st.st_mode), "a character device", Octal(st.st_mode));
    ExpectEq("rdev major", major(st.st_rdev), 1);
    ExpectEq("rdev minor", minor(st.st_rdev), 3);
    ExpectMode("mode", st.st_mode & 07777, 0644);
  });
  r.Add("mknod.block-device", [](Ctx& c) {
    c.NeedRoot();
    dev_t dev = makedev(7, 200);
    ExpectOk(c, "mknod(b, S_IFBLK, 7:200)", ::mknod(c.P("b").c_str(), S_IFBLK | 0600, dev));
    struct stat st = c.Lstat("b");
    ExpectTrue("", S_ISBLK(st.st_mode), "a block device", Octal(st.st_mode));
    ExpectEq("rdev major", major(st.st_rdev), 7);
    ExpectEq("rdev minor", minor(st.st_rdev), 200);
  });
  r.Add("mknod.char-device-large-numbers", [](Ctx& c) {
    c.NeedRoot();
    dev_t dev = makedev(300, 70000);
    ExpectOk(c, "mknod(c, S_IFCHR, 300:70000)", ::mknod(c.P("c").c_str(), S_IFCHR | 0600, dev));
    struct stat st = c.Lstat("c");
    ExpectEq("rdev major", major(st.st_rdev), 300);
    ExpectEq("rdev minor", minor(st.st_rdev), 70000);
  });
  r.Add("mknod.device-as-user-eperm", [](Ctx& c) {
    c.AsUser([&] {
      ExpectErr(c, "mknod(c, S_IFCHR) unprivileged",
                ::mknod(c.P("c").c_str(), S_IFCHR | 0644, makedev(1, 3)), EPERM);
    });
  });
  r.Add("mknod.eexist", [](Ctx& c) {
    c.File("f", 0644);
    ExpectErr(c, "mknod(f, S_IFIFO)", ::mknod(c.P("f").c_str(), S_IFIFO | 0644, 0), EEXIST);
  });
  r.Add("mknod.dir-eperm", [](Ctx& c) {
    ExpectErr(c, "mknod(d, S_IFDIR)", ::mknod(c.P("d").c_str(), S_IFDIR | 0755, 0), EPERM);
  });
}

}  // namespace

void RegisterFileChecks(Registry& r) {
  RegisterOpen(r);
  RegisterTmpfile(r);
  RegisterIo(r);
  RegisterTruncate(r);
  RegisterFallocate(r);
  RegisterUnlink(r);
  RegisterLink(r);
  RegisterSymlink(r);
  RegisterMkfifo(r);
  RegisterMknod(r);
  RegisterStatvfs(r);
}

}  // namespace zerofs::posix
