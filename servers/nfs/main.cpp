// zerofs-nfs: serves a filesystem over NFSv3, with MOUNT v3 on the same port.
//
// This build serves an in-memory tree (MemoryNfsHandler); serving a volume comes with the
// filesystem layer. Runs until SIGINT or SIGTERM, then lets every connection finish the
// calls it has read and exits.
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "zerofs/common/config.h"
#include "zerofs/common/log.h"
#include "zerofs/nfs/memory_handler.h"
#include "zerofs/nfs/server.h"

namespace {

constexpr const char* kDescription =
    "zerofs-nfs: serves files over NFSv3 (RFC 1813) with MOUNT v3 on the same TCP port\n"
    "(ONC RPC over TCP, AUTH_SYS; no portmapper: give clients the port for both).\n"
    "\n"
    "This build serves an IN-MEMORY tree only: the export \"/\" starts empty, lives in RAM\n"
    "and vanishes when the server exits. UNSTABLE writes and COMMIT use a verifier that\n"
    "changes on every start, so clients learn that a restart lost their data. Serving a\n"
    "ZeroFS volume from a bucket will come with the filesystem layer.\n"
    "\n"
    "Examples:\n"
    "  zerofs-nfs --listen 127.0.0.1:2049\n"
    "  nfs-ls 'nfs://127.0.0.1/?version=3&nfsport=2049&mountport=2049'\n"
    "  mount -t nfs -o vers=3,tcp,port=2049,mountport=2049,mountproto=tcp,nolock \\\n"
    "        127.0.0.1:/ /mnt";

int Fail(const std::string& message) {
  std::fprintf(stderr, "zerofs-nfs: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "zerofs-nfs"};
  app.set_version_flag("--version", "zerofs-nfs 0.1.0");
  std::vector<std::string> listen;
  std::string config_path;
  std::string log_level;
  std::uint64_t memory_mb = 1024;
  zerofs::nfs::ServerOptions options;
  app.add_option("--listen", listen,
                 "TCP address to listen on, ADDR:PORT (repeatable; IPv6 as [ADDR]:PORT; port 0 "
                 "picks a free one). Default 127.0.0.1:2049, or [servers.nfs] listen");
  app.add_option("--config", config_path,
                 "config file; this build reads [servers.nfs] listen and [log] level from it");
  app.add_option("--memory-mb", memory_mb, "capacity of the in-memory tree")->capture_default_str();
  app.add_option("--log-level", log_level, "debug, info, warn, error or off (default info)");
  app.add_option("--io-threads", options.io_threads, "network threads")->capture_default_str();
  app.add_option("--worker-threads", options.worker_threads, "threads running NFS calls")
      ->capture_default_str();
  app.add_option("--max-connections", options.max_connections)->capture_default_str();
  app.add_option("--max-inflight", options.max_inflight_calls, "calls in flight per connection")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  std::string level_name = "info";
  if (!config_path.empty()) {
    zerofs::Result<zerofs::Config> config = zerofs::LoadConfigFile(config_path);
    if (!config.ok()) return Fail(config.status().message());
    if (listen.empty()) listen = config->nfs.listen;
    if (!config->log.level.empty()) level_name = config->log.level;
    if (!config->storage.url.empty()) {
      std::fprintf(stderr,
                   "zerofs-nfs: note: [storage] is not used; this build serves an in-memory "
                   "tree only\n");
    }
  }
  if (!log_level.empty()) level_name = log_level;
  zerofs::Result<zerofs::log::Level> level = zerofs::log::ParseLevel(level_name);
  if (!level.ok()) return Fail(level.status().message());
  zerofs::log::SetLevel(*level);

  if (listen.empty()) listen.push_back("127.0.0.1:2049");
  for (const std::string& l : listen) {
    zerofs::Result<zerofs::nfs::ListenAddress> parsed = zerofs::nfs::ParseListenAddress(l);
    if (!parsed.ok()) return Fail(parsed.status().message());
  }
  options.listen = listen;
  if (memory_mb == 0 || memory_mb > (1ULL << 24)) return Fail("--memory-mb out of range");

  // Every thread the server starts inherits this mask, so the signals reach sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  zerofs::nfs::MemoryNfsOptions memory;
  memory.max_bytes = memory_mb << 20;
  auto handler = std::make_shared<zerofs::nfs::MemoryNfsHandler>(memory);
  zerofs::nfs::Server server(handler, options);
  zerofs::Status started = server.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "zerofs-nfs: %s\n", started.message().c_str());
    return 1;
  }
  ZEROFS_LOG(kInfo) << "nfs: serving an in-memory tree (" << memory_mb
                    << " MiB); nothing is stored in a bucket by this build";
  int received = 0;
  sigwait(&signals, &received);
  ZEROFS_LOG(kInfo) << "nfs: " << (received == SIGINT ? "SIGINT" : "SIGTERM")
                    << " received; shutting down";
  server.Stop();
  server.Wait();
  return 0;
}
