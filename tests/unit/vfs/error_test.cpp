// VFS errors: the errno a Status stands for is a field, so context added on the way to a
// protocol never changes what the client is told.
#include "zerofs/vfs/error.h"

#include "vfs_test_support.h"
#include "zerofs/vfs/paths.h"

using namespace zerofs;
using namespace zerofs::testing;
using vfs::kRootIno;

TEST_CASE("vfs::Error records its errno and the nearest code") {
  const Status e = vfs::Error(ENOTEMPTY, "rmdir 'a' in directory 7: not empty");
  CHECK(vfs::ErrnoOf(e) == ENOTEMPTY);
  CHECK(e.posix_errno() == ENOTEMPTY);
  CHECK(e.code() == StatusCode::kInvalidArgument);
  CHECK(e.message() == "[ENOTEMPTY] rmdir 'a' in directory 7: not empty");
  CHECK(vfs::Error(ENOENT, "x").code() == StatusCode::kNotFound);
  CHECK(vfs::Error(EACCES, "x").code() == StatusCode::kPermissionDenied);
  CHECK(vfs::Error(EROFS, "x").code() == StatusCode::kCancelled);
  // An errno this build has no name for keeps its number.
  CHECK(vfs::ErrnoOf(vfs::Error(EHWPOISON, "x")) == EHWPOISON);
  CHECK(vfs::ErrnoOf(Status::Ok()) == 0);
}

TEST_CASE("ErrnoOf survives WithContext and copies") {
  Status e = vfs::Error(ENOENT, "lookup 'missing' in directory 1");
  for (int i = 0; i < 3; ++i) e = e.WithContext("layer " + std::to_string(i));
  CHECK(vfs::ErrnoOf(e) == ENOENT);
  Result<int> r = e;
  CHECK(vfs::ErrnoOf(r.status()) == ENOENT);
  // Text that looks like a marker is only text.
  CHECK(vfs::ErrnoOf(Status::InvalidArgument("[ENOENT] not an errno")) == EIO);
  CHECK(vfs::ErrnoOf(Status::Internal("[2] not an errno")) == EIO);
}

TEST_CASE("A Status without an errno maps by its code") {
  CHECK(vfs::ErrnoOf(Status::NoSpace("disk cache full")) == ENOSPC);
  CHECK(vfs::ErrnoOf(Status::NotSupported("no conditional writes")) == EOPNOTSUPP);
  // Store and engine failures under a file are I/O errors to the application: a missing
  // segment object is lost data, not a missing file; a fenced writer is not a permission.
  CHECK(vfs::ErrnoOf(Status::NotFound("segments/0000000000000007")) == EIO);
  CHECK(vfs::ErrnoOf(Status::PermissionDenied("AccessDenied")) == EIO);
  CHECK(vfs::ErrnoOf(Status::Cancelled("fenced")) == EIO);
  CHECK(vfs::ErrnoOf(Status::Corruption("bad tag")) == EIO);
  CHECK(vfs::ErrnoOf(Status::Unavailable("503")) == EIO);
  CHECK(vfs::ErrnoOf(Status::FromErrno(ENOENT, "open cache file")) == EIO);
}

TEST_CASE("A Filesystem error keeps its errno when a caller adds context") {
  VfsFixture f;
  auto& fs = f.fs();
  auto missing = fs.Lookup(kRoot, kRootIno, "missing");
  REQUIRE_FALSE(missing.ok());
  const Status wrapped = missing.status().WithContext("opening export 'missing'");
  CHECK_ERRNO(wrapped, ENOENT);
  CHECK(wrapped.message().find("opening export 'missing': ") == 0);

  REQUIRE_OK(vfs::MakeDirs(fs, kRoot, "/d/e"));
  REQUIRE_OK(vfs::WriteFile(fs, kRoot, "/d/e/f", "x"));
  auto rmdir = fs.Rmdir(kRoot, vfs::ResolvePath(fs, kRoot, "/d")->ino, "e");
  CHECK_ERRNO(rmdir.WithContext("removing /d/e"), ENOTEMPTY);
  auto nested = vfs::ReadFile(fs, kRoot, "/d/nope/f");
  CHECK_ERRNO(nested.status().WithContext("zerofs fs cat"), ENOENT);
}
