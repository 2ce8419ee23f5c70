// Embeds the ZeroFS filesystem: opens (or creates) a password-protected volume in a bucket,
// writes a small tree of files, reads it back through a symbolic link, lists a directory and
// makes everything durable. Each run adds to what the previous runs left.
//
//   ZEROFS_PASSWORD=... embed-vfs [URL]      (default file:///tmp/zerofs-embed-vfs)
//
// The password comes from the environment, never from the command line.
#include <zerofs/engine/volume.h>
#include <zerofs/objstore/open.h>
#include <zerofs/vfs/error.h>
#include <zerofs/vfs/filesystem.h>
#include <zerofs/vfs/paths.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

namespace {

int Fail(const char* what, const zerofs::Status& status) {
  std::fprintf(stderr, "%s: %s\n", what, status.ToString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  namespace vfs = zerofs::vfs;
  const std::string url = argc > 1 ? argv[1] : "file:///tmp/zerofs-embed-vfs";
  const char* password_env = std::getenv("ZEROFS_PASSWORD");
  if (password_env == nullptr || *password_env == '\0') {
    std::fprintf(stderr, "set ZEROFS_PASSWORD to the volume's password\n");
    return 2;
  }
  const zerofs::Secret password(password_env);

  auto store = zerofs::objstore::Open(url);
  if (!store.ok()) return Fail("open bucket", store.status());

  // Open the volume; the first run creates its key file.
  zerofs::engine::VolumeOptions options;
  options.store = *store;
  options.password = password;
  auto volume = zerofs::engine::Volume::Open(options);
  if (!volume.ok() && volume.status().IsNotFound()) {
    auto created = zerofs::engine::Volume::Create(**store, password);
    if (!created.ok()) return Fail("create volume", created.status());
    std::printf("created a new volume in %s\n", url.c_str());
    volume = zerofs::engine::Volume::Open(options);
  }
  if (!volume.ok()) return Fail("open volume", volume.status());
  std::shared_ptr<zerofs::engine::Volume> shared_volume = std::move(*volume);

  vfs::FilesystemOptions fs_options;
  fs_options.volume = shared_volume;
  auto opened = vfs::Filesystem::Open(fs_options);
  if (!opened.ok()) return Fail("open filesystem", opened.status());
  vfs::Filesystem& fs = **opened;
  const vfs::Credentials me = vfs::Credentials::Root();

  // How many runs came before this one.
  int run = 1;
  if (auto previous = vfs::ReadFile(fs, me, "/embed/runs"); previous.ok()) {
    run = std::atoi(previous->c_str()) + 1;
  } else if (vfs::ErrnoOf(previous.status()) != ENOENT) {
    return Fail("read /embed/runs", previous.status());
  }

  // A small tree: two files, a counter, and a symlink that is replaced atomically.
  const std::string greeting = "hello from run " + std::to_string(run);
  zerofs::Status s = vfs::MakeDirs(fs, me, "/embed/docs/notes");
  if (s.ok())
    s = vfs::WriteFile(fs, me, "/embed/docs/hello-" + std::to_string(run) + ".txt", greeting);
  if (s.ok()) s = vfs::WriteFile(fs, me, "/embed/docs/notes/todo.txt", "- embed zerofs\n");
  if (s.ok()) s = vfs::WriteFile(fs, me, "/embed/runs", std::to_string(run));
  if (!s.ok()) return Fail("write the tree", s);
  auto embed = vfs::ResolvePath(fs, me, "/embed");
  if (!embed.ok()) return Fail("resolve /embed", embed.status());
  (void)fs.Unlink(me, embed->ino, "latest.tmp");
  auto link =
      fs.Symlink(me, embed->ino, "latest.tmp", "docs/hello-" + std::to_string(run) + ".txt");
  if (!link.ok()) return Fail("symlink", link.status());
  s = fs.Rename(me, embed->ino, "latest.tmp", embed->ino, "latest", 0);
  if (!s.ok()) return Fail("rename", s);

  // Read it back through the symlink, and list what every run wrote.
  auto back = vfs::ReadFile(fs, me, "/embed/latest");
  if (!back.ok()) return Fail("read /embed/latest", back.status());
  if (*back != greeting) {
    std::fprintf(stderr, "read back '%s', expected '%s'\n", back->c_str(), greeting.c_str());
    return 1;
  }
  auto listing = vfs::ListDir(fs, me, "/embed/docs");
  if (!listing.ok()) return Fail("list /embed/docs", listing.status());
  std::printf("/embed/docs:");
  for (const vfs::DirEntry& e : *listing) std::printf(" %s", e.name.c_str());
  std::printf("\n");

  // Durable before we say so.
  s = fs.SyncAll();
  if (!s.ok()) return Fail("sync", s);
  auto stat = fs.StatFilesystem();
  if (!stat.ok()) return Fail("statfs", stat.status());
  std::printf(
      "run %d: read back '%s' through /embed/latest; %llu inodes, %llu bytes in the volume\n", run,
      back->c_str(), static_cast<unsigned long long>(stat->inodes),
      static_cast<unsigned long long>(stat->used_bytes));
  opened->reset();
  s = shared_volume->Close();
  if (!s.ok()) return Fail("close", s);
  return 0;
}
