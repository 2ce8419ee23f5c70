// zerofs ls | cat | get | put | mkdir | rm: the volume's files without mounting it.
//
//   zerofs ls    [-l] [--json] [PATH]       list a directory (or describe one file)
//   zerofs cat   PATH                        a file's bytes to stdout
//   zerofs get   PATH LOCAL                  copy a file out (LOCAL "-": stdout)
//   zerofs put   LOCAL PATH                  copy a file in (LOCAL "-": stdin)
//   zerofs mkdir [-p] PATH...
//   zerofs rm    [-r] PATH...
//
// Every command opens the volume itself, through the VFS, as root (uid 0, gid 0): it has
// root's rights on every file, and new files and directories belong to uid 0 / gid 0 with
// modes 0644 / 0755. Paths are absolute from the volume's root (a relative path starts
// there too); symbolic links are followed as Linux follows them.
//
// ls, cat and get open the volume read-only, as a read replica: they never fence a running
// server and see the state durable in the bucket when they start. put, mkdir and rm open it
// as the writer and make every change durable (and upload an index snapshot) before they
// exit; while a server (or another command) serves the volume they refuse with exit code 6
// and change nothing.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.h"
#include "volume_access.h"
#include "zerofs/vfs/error.h"
#include "zerofs/vfs/paths.h"

namespace zerofs::cli {
namespace {

using vfs::Attr;
using vfs::Credentials;
using vfs::FileType;

// Bytes moved per Read/Write call: large enough for few calls, small enough for memory.
constexpr std::uint64_t kChunkBytes = 4ULL << 20;

struct FsOptions {
  VolumeAccessOptions access;
  std::vector<std::string> paths;
  std::string path;  // the one path of get and put
  std::string local;
  bool long_format = false;
  bool json = false;
  bool parents = false;
  bool recursive = false;
};

// Filesystem errors as exit codes: no such file 3, permission 5, any other refusal (exists,
// not a directory, is a directory, not empty) 1; other failures as ReportError says.
int ReportFsError(const Status& status) {
  switch (vfs::ErrnoOf(status)) {
    case ENOENT:
    case ESTALE: std::fprintf(stderr, "zerofs: %s\n", status.message().c_str()); return 3;
    case EACCES:
    case EPERM: std::fprintf(stderr, "zerofs: %s\n", status.message().c_str()); return 5;
    case EEXIST:
    case ENOTDIR:
    case EISDIR:
    case ENOTEMPTY:
    case EINVAL:
    case ENAMETOOLONG:
    case ELOOP: std::fprintf(stderr, "zerofs: %s\n", status.message().c_str()); return 1;
    default: break;
  }
  return ReportError(status);
}

// Opens the volume; reports a refusal (another writer serves it) with a hint.
Result<std::unique_ptr<server::ServedVolume>> Open(const FsOptions& opts, bool read_only) {
  auto opened = OpenCliVolume(opts.access, read_only);
  if (!opened.ok() && IsVolumeInUse(opened.status())) {
    return opened.status().WithContext(
        "not changing a volume that another process serves (use its mount, stop it first, or "
        "pass --takeover)");
  }
  return opened;
}

// A volume that was never opened for writing has no root directory yet: the readers show
// it as empty instead of failing.
bool IsEmptyVolume(const Status& status) {
  return status.message().find("no root directory yet") != std::string::npos;
}

// Closes the volume, making every change durable; the first failure wins.
int Finish(server::ServedVolume& volume, int code) {
  Status closed = volume.Close();
  if (!closed.ok() && code == 0) return ReportError(closed.WithContext("closing the volume"));
  return code;
}

// As Finish, for the commands that change the volume: after a successful change, also
// uploads an index snapshot, so that the next command (which starts from an empty local
// directory) loads it instead of replaying the whole journal.
int FinishWriter(server::ServedVolume& volume, int code) {
  if (code == 0) {
    Status s = volume.filesystem()->SyncAll();
    if (s.ok()) s = volume.volume().Snapshot();
    if (!s.ok()) code = ReportError(s.WithContext("making the change durable"));
  }
  return Finish(volume, code);
}

// A reader's failure to open the volume; an empty volume has no such file (exit 3).
int ReportReaderOpenError(const Status& status) {
  if (IsEmptyVolume(status)) {
    std::fprintf(stderr, "zerofs: no such file: the volume is empty\n");
    return 3;
  }
  return ReportError(status);
}

std::string TypeName(FileType type) {
  switch (type) {
    case FileType::kRegular: return "file";
    case FileType::kDirectory: return "dir";
    case FileType::kSymlink: return "symlink";
    case FileType::kFifo: return "fifo";
    case FileType::kCharDevice: return "char";
    case FileType::kBlockDevice: return "block";
    case FileType::kSocket: return "socket";
    case FileType::kUnknown: break;
  }
  return "unknown";
}

std::string ModeString(std::uint32_t mode) {
  std::string s = "?---------";
  switch (index::FileTypeOfMode(mode)) {
    case FileType::kRegular: s[0] = '-'; break;
    case FileType::kDirectory: s[0] = 'd'; break;
    case FileType::kSymlink: s[0] = 'l'; break;
    case FileType::kFifo: s[0] = 'p'; break;
    case FileType::kCharDevice: s[0] = 'c'; break;
    case FileType::kBlockDevice: s[0] = 'b'; break;
    case FileType::kSocket: s[0] = 's'; break;
    case FileType::kUnknown: break;
  }
  static constexpr char kRwx[] = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i) {
    if ((mode & (0400U >> i)) != 0) s[static_cast<std::size_t>(i + 1)] = kRwx[i];
  }
  if ((mode & vfs::kModeSetUid) != 0) s[3] = (mode & 0100) != 0 ? 's' : 'S';
  if ((mode & vfs::kModeSetGid) != 0) s[6] = (mode & 0010) != 0 ? 's' : 'S';
  if ((mode & vfs::kModeSticky) != 0) s[9] = (mode & 0001) != 0 ? 't' : 'T';
  return s;
}

std::string TimeString(const index::Timespec& t) {
  const std::time_t secs = static_cast<std::time_t>(t.sec);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return buf;
}

struct Listed {
  std::string name;
  Attr attr;
  std::string target;  // symlinks
};

nlohmann::json ToJson(const Listed& e) {
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", e.attr.mode & 07777);
  nlohmann::json j = {{"name", e.name},
                      {"ino", e.attr.ino},
                      {"type", TypeName(e.attr.type())},
                      {"mode", mode},
                      {"nlink", e.attr.nlink},
                      {"uid", e.attr.uid},
                      {"gid", e.attr.gid},
                      {"size", e.attr.size},
                      {"mtime", e.attr.mtime.sec},
                      {"mtime_nsec", e.attr.mtime.nsec}};
  if (e.attr.is_symlink()) j["target"] = e.target;
  return j;
}

void PrintLong(const Listed& e) {
  std::printf("%s %3u %5u %5u %12llu %s %s", ModeString(e.attr.mode).c_str(), e.attr.nlink,
              e.attr.uid, e.attr.gid, static_cast<unsigned long long>(e.attr.size),
              TimeString(e.attr.mtime).c_str(), e.name.c_str());
  if (e.attr.is_symlink()) std::printf(" -> %s", e.target.c_str());
  std::printf("\n");
}

std::string BaseName(std::string_view path) {
  while (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const std::size_t slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

int RunLs(const FsOptions& opts) {
  auto volume = Open(opts, true);
  if (!volume.ok() && IsEmptyVolume(volume.status())) {
    const std::string path = opts.paths.empty() ? "/" : opts.paths.front();
    if (path.find_first_not_of('/') == std::string::npos) {
      if (opts.json) std::printf("[]\n");
      return 0;
    }
  }
  if (!volume.ok()) return ReportReaderOpenError(volume.status());
  vfs::Filesystem& fs = *(*volume)->filesystem();
  const Credentials root = Credentials::Root();
  const std::string path = opts.paths.empty() ? "/" : opts.paths.front();
  const bool details = opts.long_format || opts.json;

  // As ls(1): a symlink to a directory lists the directory; any other file describes itself.
  auto top = vfs::ResolvePath(fs, root, path, /*follow_last=*/true);
  if (!top.ok() || !top->is_dir()) top = vfs::ResolvePath(fs, root, path, false);
  if (!top.ok()) return Finish(**volume, ReportFsError(top.status()));
  std::vector<Listed> entries;
  if (top->is_dir()) {
    auto listed = vfs::ListDir(fs, root, path);
    if (!listed.ok()) return Finish(**volume, ReportFsError(listed.status()));
    for (const vfs::DirEntry& d : *listed) {
      Listed e{d.name, {}, {}};
      e.attr.ino = d.ino;
      if (details) {
        auto attr = fs.GetAttr(d.ino);
        if (!attr.ok()) return Finish(**volume, ReportFsError(attr.status()));
        e.attr = *attr;
      }
      entries.push_back(std::move(e));
    }
  } else {
    entries.push_back({BaseName(path), *top, {}});
  }
  for (Listed& e : entries) {
    if (details && e.attr.is_symlink()) {
      auto target = fs.ReadLink(root, e.attr.ino);
      if (target.ok()) e.target = *target;
    }
  }
  if (opts.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const Listed& e : entries) out.push_back(ToJson(e));
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    for (const Listed& e : entries) {
      if (opts.long_format) {
        PrintLong(e);
      } else {
        std::printf("%s\n", e.name.c_str());
      }
    }
  }
  return Finish(**volume, 0);
}

// Streams the regular file `path` to `out`.
// A progress line on stderr for get/put of large files, when stderr is a terminal:
// "zerofs: put report.pdf: 120.0 of 512.0 MiB (23%), 85.2 MiB/s", redrawn at most 5 times
// a second and ended with a newline.
class TransferProgress {
 public:
  TransferProgress(std::string what, std::uint64_t total)
      : what_(std::move(what)),
        total_(total),
        enabled_(isatty(STDERR_FILENO) != 0),
        start_(std::chrono::steady_clock::now()),
        last_(start_) {}
  ~TransferProgress() {
    if (drawn_) std::fprintf(stderr, "\n");
  }
  TransferProgress(const TransferProgress&) = delete;
  TransferProgress& operator=(const TransferProgress&) = delete;

  void Update(std::uint64_t done) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_ < std::chrono::milliseconds(200)) return;
    last_ = now;
    drawn_ = true;
    const double mib = static_cast<double>(done) / (1 << 20);
    const double seconds = std::chrono::duration<double>(now - start_).count();
    if (total_ > 0) {
      std::fprintf(stderr, "\rzerofs: %s: %.1f of %.1f MiB (%d%%), %.1f MiB/s   ", what_.c_str(),
                   mib, static_cast<double>(total_) / (1 << 20),
                   static_cast<int>(100 * done / total_), mib / std::max(seconds, 0.001));
    } else {
      std::fprintf(stderr, "\rzerofs: %s: %.1f MiB, %.1f MiB/s   ", what_.c_str(), mib,
                   mib / std::max(seconds, 0.001));
    }
    std::fflush(stderr);
  }

 private:
  std::string what_;
  std::uint64_t total_;
  bool enabled_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
};

Status CopyOut(vfs::Filesystem& fs, const std::string& path, std::FILE* out) {
  const Credentials root = Credentials::Root();
  ZEROFS_ASSIGN_OR_RETURN(Attr attr, vfs::ResolvePath(fs, root, path));
  if (attr.is_dir()) return vfs::Error(EISDIR, "'" + path + "' is a directory");
  ZEROFS_ASSIGN_OR_RETURN(vfs::HandleId h, fs.Open(root, attr.ino, vfs::kOpenReadOnly));
  Status s;
  TransferProgress progress("get " + path, attr.size);
  for (std::uint64_t offset = 0;;) {
    auto data = fs.Read(h, offset, kChunkBytes);
    if (!data.ok()) {
      s = data.status();
      break;
    }
    if (data->empty()) break;
    if (std::fwrite(data->data(), 1, data->size(), out) != data->size()) {
      s = Status::FromErrno(errno, "writing the output");
      break;
    }
    offset += data->size();
    progress.Update(offset);
  }
  Status released = fs.Release(h);
  ZEROFS_RETURN_IF_ERROR(s);
  return released;
}

int RunCat(const FsOptions& opts) {
  auto volume = Open(opts, true);
  if (!volume.ok()) return ReportReaderOpenError(volume.status());
  for (const std::string& path : opts.paths) {
    Status s = CopyOut(*(*volume)->filesystem(), path, stdout);
    if (!s.ok()) return Finish(**volume, ReportFsError(s));
  }
  if (std::fflush(stdout) != 0) {
    return Finish(**volume, ReportError(Status::FromErrno(errno, "writing to stdout")));
  }
  return Finish(**volume, 0);
}

int RunGet(const FsOptions& opts) {
  auto volume = Open(opts, true);
  if (!volume.ok()) return ReportReaderOpenError(volume.status());
  const std::string& path = opts.paths.at(0);
  if (opts.local == "-") {
    Status s = CopyOut(*(*volume)->filesystem(), path, stdout);
    if (s.ok() && std::fflush(stdout) != 0) s = Status::FromErrno(errno, "writing to stdout");
    return Finish(**volume, s.ok() ? 0 : ReportFsError(s));
  }
  // Into a temporary name first, so that a failed copy leaves no half file behind.
  const std::string temp = opts.local + ".zerofs-get";
  std::FILE* out = std::fopen(temp.c_str(), "wb");
  if (out == nullptr) {
    return Finish(**volume, ReportError(Status::FromErrno(errno, "cannot create " + temp)));
  }
  Status s = CopyOut(*(*volume)->filesystem(), path, out);
  if (std::fclose(out) != 0 && s.ok()) s = Status::FromErrno(errno, "writing " + temp);
  if (s.ok() && std::rename(temp.c_str(), opts.local.c_str()) != 0) {
    s = Status::FromErrno(errno, "renaming " + temp + " to " + opts.local);
  }
  if (!s.ok()) {
    std::remove(temp.c_str());
    return Finish(**volume, ReportFsError(s));
  }
  return Finish(**volume, 0);
}

// Streams `in` into the file `path` (created 0644, or truncated).
Status CopyIn(vfs::Filesystem& fs, std::string path, std::FILE* in, std::string_view local) {
  const Credentials root = Credentials::Root();
  // Into an existing directory: keep the local file's name, as cp does.
  auto existing = vfs::ResolvePath(fs, root, path);
  if (existing.ok() && existing->is_dir()) {
    if (local == "-") return vfs::Error(EISDIR, "'" + path + "' is a directory");
    path += "/" + BaseName(local);
  }
  ZEROFS_ASSIGN_OR_RETURN(vfs::ParentAndName where, vfs::ResolveParent(fs, root, path));
  ZEROFS_ASSIGN_OR_RETURN(
      vfs::CreateResult created,
      fs.Create(root, where.parent.ino, where.name, 0644, vfs::kOpenWriteOnly | vfs::kOpenTruncate,
                /*exclusive=*/false));
  Status s;
  std::string buffer(kChunkBytes, '\0');
  std::uint64_t total = 0;
  if (struct stat st{}; fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode)) {
    total = static_cast<std::uint64_t>(st.st_size);
  }
  TransferProgress progress("put " + std::string(local), total);
  for (std::uint64_t offset = 0;;) {
    const std::size_t got = std::fread(buffer.data(), 1, buffer.size(), in);
    if (got > 0) {
      auto wrote = fs.Write(created.handle, offset, std::string_view(buffer.data(), got));
      if (!wrote.ok()) {
        s = wrote.status();
        break;
      }
      offset += *wrote;
      progress.Update(offset);
    }
    if (got < buffer.size()) {
      if (std::ferror(in)) s = Status::FromErrno(errno, "reading " + std::string(local));
      break;
    }
  }
  if (s.ok()) s = fs.Fsync(created.handle, false);
  Status released = fs.Release(created.handle);
  ZEROFS_RETURN_IF_ERROR(s);
  return released;
}

int RunPut(const FsOptions& opts) {
  std::FILE* in = stdin;
  if (opts.local != "-") {
    in = std::fopen(opts.local.c_str(), "rb");
    if (in == nullptr) return ReportError(Status::FromErrno(errno, "cannot read " + opts.local));
  }
  auto volume = Open(opts, false);
  if (!volume.ok()) {
    if (in != stdin) std::fclose(in);
    return ReportError(volume.status());
  }
  Status s = CopyIn(*(*volume)->filesystem(), opts.paths.at(0), in, opts.local);
  if (in != stdin) std::fclose(in);
  return FinishWriter(**volume, s.ok() ? 0 : ReportFsError(s));
}

int RunMkdir(const FsOptions& opts) {
  auto volume = Open(opts, false);
  if (!volume.ok()) return ReportError(volume.status());
  vfs::Filesystem& fs = *(*volume)->filesystem();
  const Credentials root = Credentials::Root();
  for (const std::string& path : opts.paths) {
    Status s;
    if (opts.parents) {
      s = vfs::MakeDirs(fs, root, path, 0755);
    } else {
      auto where = vfs::ResolveParent(fs, root, path);
      s = where.status();
      if (where.ok()) s = fs.Mkdir(root, where->parent.ino, where->name, 0755).status();
    }
    if (!s.ok()) return FinishWriter(**volume, ReportFsError(s));
  }
  return FinishWriter(**volume, 0);
}

int RunRm(const FsOptions& opts) {
  auto volume = Open(opts, false);
  if (!volume.ok()) return ReportError(volume.status());
  vfs::Filesystem& fs = *(*volume)->filesystem();
  const Credentials root = Credentials::Root();
  for (const std::string& path : opts.paths) {
    Status s;
    if (opts.recursive) {
      s = vfs::RemoveAll(fs, root, path);
    } else {
      auto where = vfs::ResolveParent(fs, root, path);
      s = where.status();
      if (where.ok()) {
        auto attr = fs.Lookup(root, where->parent.ino, where->name);
        s = attr.status();
        if (attr.ok() && attr->is_dir()) {
          s = vfs::Error(EISDIR, "'" + path + "' is a directory (use rm -r)");
        } else if (attr.ok()) {
          s = fs.Unlink(root, where->parent.ino, where->name);
        }
      }
    }
    if (!s.ok()) return FinishWriter(**volume, ReportFsError(s));
  }
  return FinishWriter(**volume, 0);
}

void Bind(CLI::App* cmd, CommandRunner& run, const std::shared_ptr<FsOptions>& opts,
          int (*fn)(const FsOptions&)) {
  AddVolumeAccessOptions(cmd, opts->access, false);
  AddTakeoverOption(cmd, opts->access);
  cmd->callback([&run, opts, fn] { run = [opts, fn] { return fn(*opts); }; });
}

}  // namespace

void AddFsCommands(CLI::App& app, CommandRunner& run) {
  auto opts = std::make_shared<FsOptions>();
  const char* kAs =
      "\nWorks on the bucket directly, as root (uid 0). Exit codes: 0 ok, 1 error, 2 usage,\n"
      "3 no such file or volume, 5 permission denied or wrong password";

  CLI::App* ls = app.add_subcommand(
      "ls",
      std::string("List a directory of the volume (read-only; never disturbs a server).") + kAs);
  ls->add_option("PATH", opts->paths, "path in the volume (default /)")->expected(0, 1);
  ls->add_flag("-l,--long", opts->long_format, "mode, links, owner, size, mtime (UTC)");
  ls->add_flag("--json", opts->json, "a JSON array of entries");
  AddVolumeAccessOptions(ls, opts->access, true);
  ls->callback([&run, opts] { run = [opts] { return RunLs(*opts); }; });

  CLI::App* cat = app.add_subcommand(
      "cat", std::string("Write files of the volume to stdout (read-only).") + kAs);
  cat->add_option("PATH", opts->paths, "paths in the volume")->required();
  AddVolumeAccessOptions(cat, opts->access, true);
  cat->callback([&run, opts] { run = [opts] { return RunCat(*opts); }; });

  CLI::App* get = app.add_subcommand(
      "get", std::string("Copy a file of the volume to a local file (read-only).") + kAs);
  get->add_option("PATH", opts->path, "path in the volume")->required();
  get->add_option("LOCAL", opts->local, "local file, - for stdout")->required();
  AddVolumeAccessOptions(get, opts->access, true);
  get->callback([&run, opts] {
    opts->paths = {opts->path};
    run = [opts] { return RunGet(*opts); };
  });

  const char* kWriter =
      "\nOpens the volume as its writer and makes the change durable before exiting;\n"
      "refuses with exit code 6 while another process serves the volume.";
  CLI::App* put = app.add_subcommand(
      "put", std::string("Copy a local file (- for stdin) into the volume.") + kWriter + kAs);
  put->add_option("LOCAL", opts->local, "local file, - for stdin")->required();
  put->add_option("PATH", opts->path, "path in the volume (an existing directory: keep the name)")
      ->required();
  AddVolumeAccessOptions(put, opts->access, false);
  AddTakeoverOption(put, opts->access);
  put->callback([&run, opts] {
    opts->paths = {opts->path};
    run = [opts] { return RunPut(*opts); };
  });

  CLI::App* mkdir = app.add_subcommand(
      "mkdir", std::string("Create directories in the volume (mode 0755).") + kWriter + kAs);
  mkdir->add_option("PATH", opts->paths, "paths in the volume")->required();
  mkdir->add_flag("-p,--parents", opts->parents, "create missing parents; no error if it exists");
  Bind(mkdir, run, opts, RunMkdir);

  CLI::App* rm = app.add_subcommand(
      "rm", std::string("Remove files (with -r, directories and their contents).") + kWriter + kAs);
  rm->add_option("PATH", opts->paths, "paths in the volume")->required();
  rm->add_flag("-r,--recursive", opts->recursive, "remove directories and their contents");
  Bind(rm, run, opts, RunRm);
}

}  // namespace zerofs::cli
