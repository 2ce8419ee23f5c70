// zerofs-mount: mounts a zerofs-9p server through FUSE.
//
//   zerofs-mount [-f] [-d] [-o OPTIONS] ADDRESS MOUNTPOINT
//
// Checks that the server answers (Tversion, Tattach, Tgetattr of the root), mounts, then
// goes to the background unless -f. The mount lasts until `umount`/`fusermount3 -u` or
// SIGTERM/SIGINT/SIGHUP, which unmount it. See docs/mount.md.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include "src/address.h"
#include "src/filesystem.h"
#include "src/fuse_ops.h"
#include "src/session.h"
#include "zerofs/common/log.h"

namespace {

constexpr const char* kDescription =
    "zerofs-mount: mounts a zerofs-9p server (9P2000.L) at MOUNTPOINT through FUSE.\n"
    "\n"
    "ADDRESS is HOST:PORT (127.0.0.1:5564, [::1]:5564) or the path of a Unix socket.\n"
    "When the connection drops, the mount reconnects by itself and re-opens open files;\n"
    "an fsync covering writes the server may have lost meanwhile returns EIO.\n"
    "\n"
    "Options (-o, comma-separated, repeatable):\n"
    "  ro                   read-only mount\n"
    "  allow_other          let other users use the mount (root, or user_allow_other\n"
    "                       in /etc/fuse.conf)\n"
    "  attr_timeout=SEC     how long the kernel caches attributes (default 1)\n"
    "  entry_timeout=SEC    how long the kernel caches names, and absent names (default 1)\n"
    "  writeback            the kernel's writeback cache: writes are batched in the page\n"
    "                       cache and sent later (default off: every write goes through)\n"
    "  debug                log every FUSE request and this program's debug lines\n"
    "  server_locks         fcntl() locks are taken on the server (Tlock), so they hold\n"
    "                       across clients (default: kept by this machine's kernel)\n"
    "  msize=BYTES          9P message size to ask for (default 1048576)\n"
    "  aname=NAME           the tree to attach (Tattach aname; default empty)\n"
    "  reconnect_timeout=SEC  how long an operation waits for a lost server before\n"
    "                       failing with EIO (default 120)\n"
    "  rw, nosuid, suid, nodev, dev, noexec, exec, noatime, atime, relatime, sync, async,\n"
    "  dirsync              passed to the kernel as for any mount\n"
    "\n"
    "Example:\n"
    "  zerofs-mount 127.0.0.1:5564 /mnt/zerofs\n"
    "  fusermount3 -u /mnt/zerofs";

struct MountOptions {
  bool read_only = false;
  bool allow_other = false;
  bool writeback = false;
  bool debug = false;
  bool server_locks = false;
  double attr_timeout = 1.0;
  double entry_timeout = 1.0;
  std::uint32_t msize = 1U << 20;
  std::string aname;
  double reconnect_timeout = 120;
  std::vector<std::string> kernel;  // passed through to the mount
};

bool ParseNumber(const std::string& text, double* out) {
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0' || v < 0) return false;
  *out = v;
  return true;
}

// Returns an error message, or "" when every option was understood.
std::string ParseOptions(const std::vector<std::string>& groups, MountOptions* o) {
  static const char* const kPassThrough[] = {"rw",      "nosuid", "suid",  "nodev",
                                             "dev",     "noexec", "exec",  "noatime",
                                             "atime",   "relatime", "sync", "async",
                                             "dirsync"};
  for (const auto& group : groups) {
    std::stringstream ss(group);
    std::string opt;
    while (std::getline(ss, opt, ',')) {
      if (opt.empty()) continue;
      auto eq = opt.find('=');
      std::string key = opt.substr(0, eq);
      std::string value = eq == std::string::npos ? "" : opt.substr(eq + 1);
      double number = 0;
      if (key == "ro" && eq == std::string::npos) {
        o->read_only = true;
      } else if (key == "allow_other" && eq == std::string::npos) {
        o->allow_other = true;
      } else if (key == "writeback" && eq == std::string::npos) {
        o->writeback = true;
      } else if (key == "server_locks" && eq == std::string::npos) {
        o->server_locks = true;
      } else if (key == "debug" && eq == std::string::npos) {
        o->debug = true;
      } else if (key == "attr_timeout" && ParseNumber(value, &number)) {
        o->attr_timeout = number;
      } else if (key == "entry_timeout" && ParseNumber(value, &number)) {
        o->entry_timeout = number;
      } else if (key == "reconnect_timeout" && ParseNumber(value, &number)) {
        o->reconnect_timeout = number;
      } else if (key == "msize" && ParseNumber(value, &number) && number >= 8192 &&
                 number <= 16 * 1024 * 1024) {
        o->msize = static_cast<std::uint32_t>(number);
      } else if (key == "aname" && eq != std::string::npos) {
        o->aname = value;
      } else {
        bool known = false;
        for (const char* p : kPassThrough) known = known || (opt == p);
        if (!known) return "unknown or malformed mount option '" + opt + "'";
        o->kernel.push_back(opt);
      }
    }
  }
  return "";
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "zerofs-mount"};
  app.set_version_flag("--version", "zerofs-mount 0.1.0");
  bool foreground = false;
  bool debug_flag = false;
  std::vector<std::string> option_groups;
  std::string address_text;
  std::string mountpoint;
  app.add_flag("-f,--foreground", foreground, "stay in the foreground (logs on stderr)");
  app.add_flag("-d", debug_flag, "debug: like -o debug, implies -f");
  app.add_option("-o", option_groups, "mount options, see above")->allow_extra_args(false);
  app.add_option("ADDRESS", address_text, "HOST:PORT or a Unix socket path")->required();
  app.add_option("MOUNTPOINT", mountpoint, "an existing directory")->required();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::fprintf(stderr, "zerofs-mount: %s; see --help\n", e.what());
    return 2;
  }

  MountOptions opts;
  if (std::string err = ParseOptions(option_groups, &opts); !err.empty()) {
    std::fprintf(stderr, "zerofs-mount: %s\n", err.c_str());
    return 2;
  }
  if (debug_flag) {
    opts.debug = true;
    foreground = true;
  }
  if (opts.debug) zerofs::log::SetLevel(zerofs::log::Level::kDebug);

  auto address = zerofs::mount::ParseAddress(address_text);
  if (!address.ok()) {
    std::fprintf(stderr, "zerofs-mount: %s\n", address.status().message().c_str());
    return 2;
  }
  zerofs::mount::ClientOptions client_options;
  client_options.msize = opts.msize;
  client_options.aname = opts.aname;
  client_options.reconnect_timeout =
      std::chrono::milliseconds(static_cast<std::int64_t>(opts.reconnect_timeout * 1000));

  // Fail before mounting when the server is not there. This connection's reader thread
  // would not survive going to the background (fork), so it is closed again here.
  std::uint32_t msize = 0;
  {
    zerofs::mount::Client probe(*address, client_options);
    zerofs::Status connected = probe.Connect(getuid());
    if (!connected.ok()) {
      std::fprintf(stderr, "zerofs-mount: %s\n", connected.message().c_str());
      return 1;
    }
    msize = probe.Current()->msize();
  }

  std::string fuse_opts = "fsname=zerofs:" + address->ToString() + ",subtype=zerofs" +
                          ",default_permissions";
  if (opts.read_only) fuse_opts += ",ro";
  if (opts.allow_other) fuse_opts += ",allow_other";
  for (const auto& k : opts.kernel) fuse_opts += "," + k;
  std::vector<std::string> fuse_argv = {argv[0], "-o", fuse_opts};
  if (opts.debug) fuse_argv.push_back("-d");
  std::vector<char*> raw;
  for (auto& s : fuse_argv) raw.push_back(s.data());
  fuse_args args = FUSE_ARGS_INIT(static_cast<int>(raw.size()), raw.data());

  zerofs::mount::FuseContext ctx;
  ctx.attr_timeout = opts.attr_timeout;
  ctx.entry_timeout = opts.entry_timeout;
  ctx.writeback = opts.writeback;
  ctx.max_write = std::min<std::uint32_t>(
      msize - static_cast<std::uint32_t>(zerofs::ninep::kIoHeaderBytes), 1U << 20);

  const fuse_lowlevel_ops ops = zerofs::mount::FuseOperations(opts.server_locks);
  fuse_session* se = fuse_session_new(&args, &ops,
                                      sizeof(fuse_lowlevel_ops), &ctx);
  if (se == nullptr) {
    std::fprintf(stderr, "zerofs-mount: could not create the FUSE session\n");
    return 1;
  }
  if (fuse_set_signal_handlers(se) != 0) {
    fuse_session_destroy(se);
    return 1;
  }
  // fuse_daemonize changes to "/" (even in the foreground): a relative mountpoint would no
  // longer name the mount when it is unmounted at exit.
  if (char* absolute = ::realpath(mountpoint.c_str(), nullptr); absolute != nullptr) {
    mountpoint = absolute;
    std::free(absolute);
  }
  if (fuse_session_mount(se, mountpoint.c_str()) != 0) {
    // libfuse has printed why.
    fuse_remove_signal_handlers(se);
    fuse_session_destroy(se);
    return 1;
  }
  fuse_daemonize(foreground ? 1 : 0);

  int rc = 0;
  {
    zerofs::mount::Client client(*address, client_options);
    zerofs::Status connected = client.Connect(getuid());
    if (!connected.ok()) {
      // The first operation retries; the mount is already there.
      ZEROFS_LOG(kWarn) << connected.message();
    }
    zerofs::mount::FsOptions fs_options;
    fs_options.writeback = opts.writeback;
    char host[256] = {};
    ::gethostname(host, sizeof(host) - 1);
    fs_options.lock_client_id =
        std::string("zerofs-mount:") + host + ":" + std::to_string(::getpid());
    zerofs::mount::Filesystem fs(client, fs_options);
    ctx.fs = &fs;

    fuse_loop_config* loop = fuse_loop_cfg_create();
    fuse_loop_cfg_set_clone_fd(loop, 0);
    fuse_loop_cfg_set_idle_threads(loop, 16);
    rc = fuse_session_loop_mt(se, loop);
    fuse_loop_cfg_destroy(loop);
    fuse_session_unmount(se);
    client.Shutdown();
  }
  fuse_remove_signal_handlers(se);
  fuse_session_destroy(se);
  fuse_opt_free_args(&args);
  // libfuse's signal handlers end the loop with the signal's number: SIGTERM, SIGINT and
  // SIGHUP are an orderly unmount, not a failure.
  if (rc == SIGTERM || rc == SIGINT || rc == SIGHUP) rc = 0;
  return rc == 0 ? 0 : 1;
}
