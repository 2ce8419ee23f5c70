// Checks of directories: mkdir, rmdir, rename (with renameat2 flags), readdir.
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "suite.h"

namespace zerofs::posix {
namespace {

using P = Profile;

constexpr const char* kNoRenameFlags =
    "the kernel's v9fs and NFS clients refuse every renameat2 flag with EINVAL before asking "
    "the server";
constexpr const char* kFuseNoExchange =
    "zerofs-mount speaks 9P, whose rename carries no flags: it cannot swap two names "
    "atomically, so RENAME_EXCHANGE is EINVAL";

long long Nlink(Ctx& c, std::string_view rel) {
  return static_cast<long long>(c.Lstat(rel).st_nlink);
}
long long Ino(Ctx& c, std::string_view rel) {
  return static_cast<long long>(c.Lstat(rel).st_ino);
}

int Mkdir(Ctx& c, std::string_view rel, mode_t mode) {
  return ::mkdir(c.P(rel).c_str(), mode);
}
int Rmdir(Ctx& c, std::string_view rel) {
  return ::rmdir(c.P(rel).c_str());
}
int Rename(Ctx& c, std::string_view from, std::string_view to) {
  return ::rename(c.P(from).c_str(), c.P(to).c_str());
}
int Rename2(Ctx& c, std::string_view from, std::string_view to, unsigned flags) {
  return ::renameat2(AT_FDCWD, c.P(from).c_str(), AT_FDCWD, c.P(to).c_str(), flags);
}

// The names in a directory (without . and ..), each with how often it was returned.
std::map<std::string, int> List(Ctx& c, std::string_view rel) {
  DIR* d = ::opendir(c.P(rel).c_str());
  if (d == nullptr) Fail("opendir " + std::string(rel) + " failed: " + ErrnoName(errno));
  std::map<std::string, int> names;
  errno = 0;
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") ++names[n];
  }
  int err = errno;
  ::closedir(d);
  if (err != 0) Fail("readdir " + std::string(rel) + " failed: " + ErrnoName(err));
  return names;
}

void RegisterMkdir(Registry& r) {
  r.Add("mkdir.basic", [](Ctx& c) {
    ExpectOk(c, "mkdir(d, 0750)", Mkdir(c, "d", 0750));
    struct stat st = c.Lstat("d");
    ExpectTrue("", S_ISDIR(st.st_mode), "a directory", Octal(st.st_mode));
    ExpectMode("mode", st.st_mode & 07777, 0750);
    ExpectEq("nlink of a new directory", static_cast<long long>(st.st_nlink), 2);
    ExpectEq("uid", st.st_uid, ::geteuid());
  });
  r.Add("mkdir.owner-is-caller", [](Ctx& c) {
    c.AsUser([&] { ExpectOk(c, "mkdir(d)", Mkdir(c, "d", 0755)); });
    struct stat st = c.Lstat("d");
    ExpectEq("uid", st.st_uid, c.uid());
    ExpectEq("gid", st.st_gid, c.gid());
  });
  r.Add("mkdir.parent-nlink", [](Ctx& c) {
    long long before = Nlink(c, "");
    ExpectOk(c, "mkdir(d)", Mkdir(c, "d", 0755));
    ExpectEq("parent nlink after mkdir", Nlink(c, ""), before + 1);
    c.File("f", 0644);
    ExpectEq("parent nlink after creating a file", Nlink(c, ""), before + 1);
  });
  r.Add("mkdir.umask", [](Ctx& c) {
    mode_t old = ::umask(077);
    int ret = Mkdir(c, "d", 0777);
    int err = errno;
    ::umask(old);
    errno = err;
    ExpectOk(c, "mkdir(d, 0777) with umask 077", ret);
    ExpectMode("mode", c.Lstat("d").st_mode & 07777, 0700);
  });
  r.Add("mkdir.sticky-kept-setid-dropped", [](Ctx& c) {
    ExpectOk(c, "mkdir(d, 07777)", Mkdir(c, "d", 07777));
    ExpectMode("mode", c.Lstat("d").st_mode & 07777, 01777);
  });
  r.Add("mkdir.eexist-dir", [](Ctx& c) {
    c.Dir("d", 0755);
    ExpectErr(c, "mkdir(d) existing", Mkdir(c, "d", 0755), EEXIST);
  });
  r.Add("mkdir.eexist-file", [](Ctx& c) {
    c.File("f", 0644);
    ExpectErr(c, "mkdir(f) over a file", Mkdir(c, "f", 0755), EEXIST);
  });
  r.Add("mkdir.eexist-dangling-symlink", [](Ctx& c) {
    c.Symlink("nowhere", "l");
    ExpectErr(c, "mkdir(l) over a dangling symlink", Mkdir(c, "l", 0755), EEXIST);
    ExpectTrue("", !c.Exists("nowhere"), "symlink target not created", "it was");
  });
  r.Add("mkdir.enoent",
        [](Ctx& c) { ExpectErr(c, "mkdir(missing/d)", Mkdir(c, "missing/d", 0755), ENOENT); });
  r.Add("mkdir.enotdir", [](Ctx& c) {
    c.File("f", 0644);
    ExpectErr(c, "mkdir(f/d)", Mkdir(c, "f/d", 0755), ENOTDIR);
  });
  r.Add("mkdir.eacces", [](Ctx& c) {
    c.Dir("p", 0555);
    c.AsUser([&] { ExpectErr(c, "mkdir(p/d) in 0555 p", Mkdir(c, "p/d", 0755), EACCES); });
  });
  r.Add("mkdir.trailing-slash", [](Ctx& c) {
    ExpectOk(c, "mkdir(d/)", Mkdir(c, "d/", 0755));
    ExpectTrue("", S_ISDIR(c.Lstat("d").st_mode), "a directory", "not");
  });
  r.Add("mkdir.enametoolong", [](Ctx& c) {
    ExpectErr(c, "mkdir(256-byte name)", Mkdir(c, std::string(256, 'd'), 0755), ENAMETOOLONG);
  });
  r.Add("mkdir.dotdot-resolves-to-parent", [](Ctx& c) {
    c.Dir("d", 0755);
    c.Dir("d/e", 0755);
    ExpectEq("ino of d/e/..", Ino(c, "d/e/.."), Ino(c, "d"));
    ExpectEq("ino of d/.", Ino(c, "d/."), Ino(c, "d"));
  });
}

void RegisterRmdir(Registry& r) {
  r.Add("rmdir.basic", [](Ctx& c) {
    c.Dir("d", 0755);
    long long before = Nlink(c, "");
    ExpectOk(c, "rmdir(d)", Rmdir(c, "d"));
    ExpectTrue("", !c.Exists("d"), "d gone", "it exists");
    ExpectEq("parent nlink after rmdir", Nlink(c, ""), before - 1);
  });
  r.Add("rmdir.enotempty-file", [](Ctx& c) {
    c.Dir("d", 0755);
    c.File("d/f", 0644);
    ExpectErr(c, "rmdir(d) holding a file", Rmdir(c, "d"), ENOTEMPTY);
  });
  r.Add("rmdir.enotempty-subdir", [](Ctx& c) {
    c.Dir("d", 0755);
    c.Dir("d/e", 0755);
    ExpectErr(c, "rmdir(d) holding a directory", Rmdir(c, "d"), ENOTEMPTY);
  });
  r.Add("rmdir.after-emptying", [](Ctx& c) {
    c.Dir("d", 0755);
    c.File("d/f", 0644);
    c.Symlink("x", "d/l");
    ExpectOk(c, "unlink(d/f)", ::unlink(c.P("d/f").c_str()));
    ExpectOk(c, "unlink(d/l)", ::unlink(c.P("d/l").c_str()));
    ExpectOk(c, "rmdir(d) emptied", Rmdir(c, "d"));
  });
  r.Add("rmdir.enotdir", [](Ctx& c) {
    c.File("f", 0644);
    ExpectErr(c, "rmdir(f)", Rmdir(c, "f"), ENOTDIR);
  });
  r.Add("rmdir.symlink-to-dir-enotdir", [](Ctx& c) {
    c.Dir("d", 0755);
    c.Symlink("d", "l");
    ExpectErr(c, "rmdir(l)", Rmdir(c, "l"), ENOTDIR);
  });
  r.Add("rmdir.enoent",
        [](Ctx& c) { ExpectErr(c, "rmdir(missing)", Rmdir(c, "missing"), ENOENT); });
  r.Add("rmdir.dot-einval", [](Ctx& c) {
    c.Dir("d", 0755);
    ExpectErr(c, "rmdir(d/.)", Rmdir(c, "d/."), EINVAL);
  });
  r.Add("rmdir.dotdot-enotempty", [](Ctx& c) {
    c.Dir("d", 0755);
    ExpectErr(c, "rmdir(d/..)", Rmdir(c, "d/.."), ENOTEMPTY);
  });
  r.Add("rmdir.eacces", [](Ctx& c) {
    c.Dir("p", 0755);
    c.Dir("p/d", 0777);
    c.Chmod("p", 0555);
    c.AsUser([&] { ExpectErr(c, "rmdir(p/d) in 0555 p", Rmdir(c, "p/d"), EACCES); });
  });
  r.Add(
      "rmdir.open-dir-becomes-dead",
      [](Ctx& c) {
        c.Dir("d", 0755);
        Fd fd(ExpectFd(c, "open(d)", ::open(c.P("d").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)));
        ExpectOk(c, "rmdir(d) while open", Rmdir(c, "d"));
        struct stat st {};
        ExpectOk(c, "fstat", ::fstat(fd.get(), &st));
        ExpectEq("nlink of a removed directory", static_cast<long long>(st.st_nlink), 0);
        ExpectErr(c, "openat(removed d, x, O_CREAT)",
                  ::openat(fd.get(), "x", O_CREAT | O_WRONLY | O_CLOEXEC, 0644), ENOENT);
      },
      {NotRunOn({P::kNfs},
                "an NFSv3 server holds no open state: the file handle of a removed "
                "directory is stale (ESTALE), not a directory with nlink 0")});
}

void RegisterRename(Registry& r) {
  r.Add("rename.file", [](Ctx& c) {
    c.File("a", 0644, "content");
    long long ino = Ino(c, "a");
    ExpectOk(c, "rename(a, b)", Rename(c, "a", "b"));
    ExpectTrue("", !c.Exists("a"), "a gone", "it exists");
    ExpectEq("ino of b", Ino(c, "b"), ino);
    ExpectStr("content", c.Read("b"), "content");
  });
  r.Add("rename.other-dir", [](Ctx& c) {
    c.Dir("d", 0755);
    c.File("a", 0644, "x");
    ExpectOk(c, "rename(a, d/b)", Rename(c, "a", "d/b"));
    ExpectTrue("", !c.Exists("a") && c.Exists("d/b"), "moved", "not");
  });
  r.Add("rename.replace-file", [](Ctx& c) {
    c.File("a", 0644, "new");
    c.File("b", 0644, "old");
    Fd old(ExpectFd(c, "open(b)", ::open(c.P("b").c_str(), O_RDONLY | O_CLOEXEC)));
    ExpectOk(c, "rename(a, b) over a file", Rename(c, "a", "b"));
    ExpectStr("content of b", c.Read("b"), "new");
    char buf[8];
    ssize_t n = ExpectOk(c, "read the replaced file through its descriptor",
                         ::pread(old.get(), buf, sizeof buf, 0));
    ExpectStr("content of the replaced file", std::string_view(buf, static_cast<std::size_t>(n)),
              "old");
  });
  r.Add("rename.replaced-file-nlink", [](Ctx& c) {
    c.File("a", 0644, "new");
    c.File("b", 0644, "old");
    ExpectOk(c, "link(b, c)", ::link(c.P("b").c_str(), c.P("c").c_str()));
    ExpectOk(c, "rename(a, b)", Rename(c, "a", "b"));
    ExpectEq("nlink of the replaced file", Nlink(c, "c"), 1);
  });
  r.Add("rename.dir-over-empty-dir", [](Ctx& c) {
    c.Dir("a", 0755);
    c.File("a/f", 0644);
    c.Dir("b", 0755);
    long long nlink = Nlink(c, "");
    ExpectOk(c, "rename(a, b) over an empty dir", Rename(c, "a", "b"));
    ExpectTrue("", c.Exists("b/f") && !c.Exists("a"), "b holds f", "otherwise");
    ExpectEq("parent nlink", Nlink(c, ""), nlink - 1);
  });
  r.Add("rename.dir-over-nonempty-enotempty", [](Ctx& c) {
    c.Dir("a", 0755);
    c.Dir("b", 0755);
    c.File("b/f", 0644);
    ExpectErr(c, "rename(a, b) over a non-empty dir", Rename(c, "a", "b"), ENOTEMPTY);
  });
  r.Add("rename.dir-over-file-enotdir", [](Ctx& c) {
    c.Dir("a", 0755);
    c.File("b", 0644);
    ExpectErr(c, "rename(dir, file)", Rename(c, "a", "b"), ENOTDIR);
  });
  r.Add("rename.file-over-dir-eisdir", [](Ctx& c) {
    c.File("a", 0644);
    c.Dir("b", 0755);
    ExpectErr(c, "rename(file, dir)", Rename(c, "a", "b"), EISDIR);
  });
  r.Add("rename.dir-into-itself-einval", [](Ctx& c) {
    c.Dir("a", 0755);
    ExpectErr(c, "rename(a, a/b)", Rename(c, "a", "a/b"), EINVAL);
  });
  r.Add("rename.dir-into-descendant-einval", [](Ctx& c) {
    c.Dir("a", 0755);
    c.Dir("a/b", 0755);
    c.Dir("a/b/c", 0755);
    ExpectErr(c, "rename(a, a/b/c/d)", Rename(c, "a", "a/b/c/d"), EINVAL);
  });
  r.Add("rename.hard-links-same-inode-noop", [](Ctx& c) {
    c.File("a", 0644);
    ExpectOk(c, "link(a, b)", ::link(c.P("a").c_str(), c.P("b").c_str()));
    ExpectOk(c, "rename(a, b) of two links to one inode", Rename(c, "a", "b"));
    ExpectTrue("", c.Exists("a") && c.Exists("b"), "both names kept", "one removed");
    ExpectEq("nlink", Nlink(c, "a"), 2);
  });
  r.Add("rename.onto-itself", [](Ctx& c) {
    c.File("a", 0644, "x");
    ExpectOk(c, "rename(a, a)", Rename(c, "a", "a"));
    ExpectStr("content", c.Read("a"), "x");
  });
  r.Add("rename.enoent",
        [](Ctx& c) { ExpectErr(c, "rename(missing, b)", Rename(c, "missing", "b"), ENOENT); });
  r.Add("rename.enoent-target-dir", [](Ctx& c) {
    c.File("a", 0644);
    ExpectErr(c, "rename(a, missing/b)", Rename(c, "a", "missing/b"), ENOENT);
  });
  r.Add("rename.enotdir-component", [](Ctx& c) {
    c.File("a", 0644);
    c.File("f", 0644);
    ExpectErr(c, "rename(a, f/b)", Rename(c, "a", "f/b"), ENOTDIR);
  });
  r.Add("rename.dot-ebusy", [](Ctx& c) {
    c.Dir("d", 0755);
    ExpectErr(c, "rename(d/., e)", Rename(c, "d/.", "e"), EBUSY);
  });
  r.Add("rename.symlink-itself", [](Ctx& c) {
    c.File("f", 0644);
    c.Symlink("f", "l");
    ExpectOk(c, "rename(l, m)", Rename(c, "l", "m"));
    ExpectTrue("", S_ISLNK(c.Lstat("m").st_mode) && c.Exists("f"), "the symlink moved",
               "otherwise");
  });
  r.Add("rename.dir-moves-nlink-and-dotdot", [](Ctx& c) {
    c.Dir("p", 0755);
    c.Dir("q", 0755);
    c.Dir("p/d", 0755);
    ExpectOk(c, "rename(p/d, q/d)", Rename(c, "p/d", "q/d"));
    ExpectEq("nlink of the old parent", Nlink(c, "p"), 2);
    ExpectEq("nlink of the new parent", Nlink(c, "q"), 3);
    ExpectEq("ino of q/d/..", Ino(c, "q/d/.."), Ino(c, "q"));
  });
  r.Add("rename.eacces-source-dir", [](Ctx& c) {
    c.Dir("p", 0755);
    c.File("p/f", 0666);
    c.Chmod("p", 0555);
    c.AsUser([&] { ExpectErr(c, "rename(p/f, g) out of 0555 p", Rename(c, "p/f", "g"), EACCES); });
  });
  r.Add("rename.eacces-target-dir", [](Ctx& c) {
    c.File("f", 0666);
    c.GiveToUser("f");
    c.Dir("q", 0555);
    c.AsUser([&] { ExpectErr(c, "rename(f, q/f) into 0555 q", Rename(c, "f", "q/f"), EACCES); });
  });
  r.Add("rename.dir-to-other-parent-needs-write-on-dir", [](Ctx& c) {
    // Moving a directory rewrites its "..": the caller needs write permission on it.
    c.NeedRoot();
    c.Dir("p", 0777);
    c.Dir("q", 0777);
    c.Dir("p/d", 0755);
    c.AsUser([&] {
      ExpectErr(c, "rename(p/d, q/d) of root's 0755 d", Rename(c, "p/d", "q/d"), EACCES);
      ExpectOk(c, "rename(p/d, p/e) within its parent", Rename(c, "p/d", "p/e"));
    });
  });
  r.Add("rename.trailing-slash-on-file-enotdir", [](Ctx& c) {
    c.File("a", 0644);
    ExpectErr(c, "rename(a, b/)", Rename(c, "a", "b/"), ENOTDIR);
  });
  r.Add("rename.noreplace-new",
        [](Ctx& c) {
          c.File("a", 0644, "x");
          ExpectOk(c, "renameat2(a, b, NOREPLACE)", Rename2(c, "a", "b", RENAME_NOREPLACE));
          ExpectTrue("", !c.Exists("a") && c.Exists("b"), "moved", "not");
        },
        {AcceptErrnoOn({P::k9p, P::kNfs}, {EINVAL}, kNoRenameFlags)});
  r.Add("rename.noreplace-existing-eexist",
        [](Ctx& c) {
          c.File("a", 0644, "a");
          c.File("b", 0644, "b");
          ExpectErr(c, "renameat2(a, b, NOREPLACE)", Rename2(c, "a", "b", RENAME_NOREPLACE),
                    EEXIST);
          ExpectStr("content of b", c.Read("b"), "b");
        },
        {AcceptErrnoOn({P::k9p, P::kNfs}, {EINVAL}, kNoRenameFlags)});
  r.Add("rename.exchange-files",
        [](Ctx& c) {
          c.File("a", 0644, "A");
          c.File("b", 0600, "B");
          long long ia = Ino(c, "a"), ib = Ino(c, "b");
          ExpectOk(c, "renameat2(a, b, EXCHANGE)", Rename2(c, "a", "b", RENAME_EXCHANGE));
          ExpectEq("ino of a", Ino(c, "a"), ib);
          ExpectEq("ino of b", Ino(c, "b"), ia);
          ExpectStr("content of a", c.Read("a"), "B");
          ExpectMode("mode of a", c.Lstat("a").st_mode & 07777, 0600);
        },
        {AcceptErrnoOn({P::k9p, P::kNfs}, {EINVAL}, kNoRenameFlags),
         AcceptErrnoOn({P::kFuse}, {EINVAL}, kFuseNoExchange)});
  r.Add("rename.exchange-file-and-dir",
        [](Ctx& c) {
          c.Dir("p", 0755);
          c.Dir("q", 0755);
          c.File("p/f", 0644, "F");
          c.Dir("q/d", 0755);
          c.File("q/d/inner", 0644);
          ExpectOk(c, "renameat2(p/f, q/d, EXCHANGE)", Rename2(c, "p/f", "q/d", RENAME_EXCHANGE));
          ExpectTrue("", S_ISDIR(c.Lstat("p/f").st_mode) && c.Exists("p/f/inner"),
                     "p/f is the directory", "not");
          ExpectStr("content of q/d", c.Read("q/d"), "F");
          ExpectEq("nlink of p", Nlink(c, "p"), 3);
          ExpectEq("nlink of q", Nlink(c, "q"), 2);
          ExpectEq("ino of p/f/..", Ino(c, "p/f/.."), Ino(c, "p"));
        },
        {AcceptErrnoOn({P::k9p, P::kNfs}, {EINVAL}, kNoRenameFlags),
         AcceptErrnoOn({P::kFuse}, {EINVAL}, kFuseNoExchange)});
  r.Add("rename.exchange-missing-enoent",
        [](Ctx& c) {
          c.File("a", 0644);
          ExpectErr(c, "renameat2(a, missing, EXCHANGE)",
                    Rename2(c, "a", "missing", RENAME_EXCHANGE), ENOENT);
        },
        {AcceptErrnoOn({P::k9p, P::kNfs}, {EINVAL}, kNoRenameFlags)});
  r.Add("rename.exchange-with-noreplace-einval", [](Ctx& c) {
    c.File("a", 0644);
    c.File("b", 0644);
    ExpectErr(c, "renameat2(a, b, EXCHANGE|NOREPLACE)",
              Rename2(c, "a", "b", RENAME_EXCHANGE | RENAME_NOREPLACE), EINVAL);
  });
  r.Add("rename.over-open-file-keeps-it-readable",
        [](Ctx& c) {
          c.Dir("d", 0755);
          c.File("d/a", 0644, "new");
          c.File("d/b", 0644, "old");
          Fd old(ExpectFd(c, "open(d/b)", ::open(c.P("d/b").c_str(), O_RDONLY | O_CLOEXEC)));
          ExpectOk(c, "rename(d/a, d/b)", Rename(c, "d/a", "d/b"));
          std::map<std::string, int> names = List(c, "d");
          ExpectEq("entries in d", static_cast<long long>(names.size()), 1);
          ExpectOk(c, "unlink(d/b)", ::unlink(c.P("d/b").c_str()));
          ExpectOk(c, "rmdir(d) while the replaced file is open", Rmdir(c, "d"));
        },
        {NotRunOn({P::kNfs},
                  "the NFS client silly-renames a replaced file that is still open "
                  "(.nfsXXXX stays in the directory until the last close)")});
}

void RegisterReaddir(Registry& r) {
  r.Add("readdir.lists-every-entry-once", [](Ctx& c) {
    c.Dir("d", 0755);
    std::set<std::string> expected;
    for (int i = 0; i < 300; ++i) {
      std::string name = "e" + std::to_string(i) + "_" + std::to_string(c.rng()() % 1000000);
      if (!expected.insert(name).second) continue;
      if (i % 3 == 0) {
        c.Dir("d/" + name, 0755);
      } else {
        c.File("d/" + name, 0644);
      }
    }
    std::map<std::string, int> names = List(c, "d");
    for (const auto& [name, count] : names) {
      ExpectTrue(name, expected.count(name) == 1, "only created names", "an unknown name");
      ExpectEq("times " + name + " was listed", count, 1);
    }
    ExpectEq("entries listed", static_cast<long long>(names.size()),
             static_cast<long long>(expected.size()));
  });
  r.Add("readdir.odd-names", [](Ctx& c) {
    // Any byte but '/' and NUL is a valid name byte; names are bytes, not text.
    c.Dir("d", 0755);
    std::vector<std::string> names = {"with space",
                                      "new\nline",
                                      "tab\there",
                                      "\xc3\xbc-\xe6\x97\xa5\xe6\x9c\xac",
                                      "\xff\xfe\x80",
                                      "-leading-dash",
                                      ".hidden",
                                      "...",
                                      "a",
                                      "A",
                                      std::string(255, 'z'),
                                      "back\\slash",
                                      "quote\"'",
                                      "colon:star*?",
                                      "\x01\x02\x7f"};
    std::string all_bytes;
    for (int b = 1; b < 256; ++b) {
      if (b != '/') all_bytes += static_cast<char>(b);
    }
    names.push_back(all_bytes.substr(0, 127));
    names.push_back(all_bytes.substr(127));
    for (const auto& n : names) c.File("d/" + n, 0644, n);
    std::map<std::string, int> listed = List(c, "d");
    for (const auto& n : names) {
      ExpectEq("times a name of " + std::to_string(n.size()) + " bytes was listed", listed[n], 1);
      ExpectStr("content of the file with that name", c.Read("d/" + n), n);
    }
    ExpectEq("entries", static_cast<long long>(listed.size()),
             static_cast<long long>(names.size()));
  });
  r.Add("readdir.dot-and-dotdot", [](Ctx& c) {
    c.Dir("d", 0755);
    DIR* d = ::opendir(c.P("d").c_str());
    if (d == nullptr) Fail("opendir failed: " + ErrnoName(errno));
    long long dot = -1, dotdot = -1;
    while (struct dirent* e = ::readdir(d)) {
      if (std::string(e->d_name) == ".") dot = static_cast<long long>(e->d_ino);
      if (std::string(e->d_name) == "..") dotdot = static_cast<long long>(e->d_ino);
    }
    ::closedir(d);
    ExpectEq("ino of the . entry", dot, Ino(c, "d"));
    ExpectTrue("", dotdot != -1, "a .. entry", "none");
  });
  r.Add("readdir.empty-dir", [](Ctx& c) {
    c.Dir("d", 0755);
    ExpectEq("entries of an empty directory", static_cast<long long>(List(c, "d").size()), 0);
  });
  r.Add("readdir.d-type", [](Ctx& c) {
    c.Dir("d", 0755);
    c.File("d/f", 0644);
    c.Dir("d/s", 0755);
    c.Symlink("f", "d/l");
    c.Fifo("d/p", 0644);
    DIR* d = ::opendir(c.P("d").c_str());
    if (d == nullptr) Fail("opendir failed: " + ErrnoName(errno));
    std::map<std::string, int> types;
    while (struct dirent* e = ::readdir(d)) types[e->d_name] = e->d_type;
    ::closedir(d);
    ExpectEq("d_type of f", types["f"], DT_REG);
    ExpectEq("d_type of s", types["s"], DT_DIR);
    ExpectEq("d_type of l", types["l"], DT_LNK);
    ExpectEq("d_type of p", types["p"], DT_FIFO);
  });
  r.Add("readdir.ino-matches-stat", [](Ctx& c) {
    c.Dir("d", 0755);
    for (int i = 0; i < 20; ++i) c.File("d/f" + std::to_string(i), 0644);
    DIR* d = ::opendir(c.P("d").c_str());
    if (d == nullptr) Fail("opendir failed: " + ErrnoName(errno));
    std::vector<std::pair<std::string, long long>> entries;
    while (struct dirent* e = ::readdir(d)) {
      entries.emplace_back(e->d_name, static_cast<long long>(e->d_ino));
    }
    ::closedir(d);
    for (const auto& [name, ino] : entries) {
      if (name == "." || name == "..") continue;
      ExpectEq("d_ino of " + name, ino, Ino(c, "d/" + name));
    }
  });
  r.Add("readdir.unlink-while-listing", [](Ctx& c) {
    // Entries removed during the listing may or may not appear; the others appear once.
    c.Dir("d", 0755);
    const int n = 400;
    for (int i = 0; i < n; ++i) c.File("d/f" + std::to_string(i), 0644);
    DIR* d = ::opendir(c.P("d").c_str());
    if (d == nullptr) Fail("opendir failed: " + ErrnoName(errno));
    std::map<std::string, int> seen;
    std::set<std::string> removed;
    int k = 0;
    while (struct dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      ++seen[name];
      // Remove a not yet seen entry every other step.
      if (++k % 2 == 0) {
        for (int i = n - 1; i >= 0; --i) {
          std::string victim = "f" + std::to_string(i);
          if (seen.count(victim) == 0 && removed.count(victim) == 0) {
            ::unlink(c.P("d/" + victim).c_str());
            removed.insert(victim);
            break;
          }
        }
      }
    }
    ::closedir(d);
    for (int i = 0; i < n; ++i) {
      std::string name = "f" + std::to_string(i);
      if (removed.count(name) != 0) continue;
      ExpectEq("times the kept entry " + name + " was listed", seen[name], 1);
    }
    for (const auto& [name, count] : seen) {
      ExpectTrue(name, count == 1, "every entry at most once", std::to_string(count) + " times");
    }
  });
  r.Add("readdir.rewind", [](Ctx& c) {
    c.Dir("d", 0755);
    for (int i = 0; i < 50; ++i) c.File("d/f" + std::to_string(i), 0644);
    DIR* d = ::opendir(c.P("d").c_str());
    if (d == nullptr) Fail("opendir failed: " + ErrnoName(errno));
    int first = 0, second = 0;
    while (::readdir(d) != nullptr) ++first;
    ::rewinddir(d);
    while (::readdir(d) != nullptr) ++second;
    ::closedir(d);
    ExpectEq("entries after rewinddir", second, first);
    ExpectEq("entries", first, 52);
  });
  r.Add("readdir.telldir-seekdir", [](Ctx& c) {
    c.Dir("d", 0755);
    for (int i = 0; i < 200; ++i) c.File("d/f" + std::to_string(i), 0644);
    DIR* d = ::opendir(c.P("d").c_str());
    if (d == nullptr) Fail("opendir failed: " + ErrnoName(errno));
    std::vector<std::string> all;
    long pos = -1;
    std::vector<std::string> after_pos;
    while (struct dirent* e = ::readdir(d)) {
      all.emplace_back(e->d_name);
      if (all.size() == 100) pos = ::telldir(d);
      if (all.size() > 100) after_pos.emplace_back(e->d_name);
    }
    ::seekdir(d, pos);
    std::vector<std::string> again;
    while (struct dirent* e = ::readdir(d)) again.emplace_back(e->d_name);
    ::closedir(d);
    ExpectEq("entries", static_cast<long long>(all.size()), 202);
    ExpectTrue("", again == after_pos, "seekdir(telldir) resumes at the same entry",
               std::to_string(again.size()) + " entries, first " +
                   (again.empty() ? std::string("none") : again[0]));
  });
}

}  // namespace

void RegisterDirChecks(Registry& r) {
  RegisterMkdir(r);
  RegisterRmdir(r);
  RegisterRename(r);
  RegisterReaddir(r);
}

}  // namespace zerofs::posix
