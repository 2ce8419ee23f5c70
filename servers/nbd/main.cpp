// zerofs-nbd: serves block devices over the NBD protocol.
//
// This build serves memory-backed exports (--memory); serving the files under /.nbd/ of a
// volume is wired in when the filesystem layer lands. The server runs until SIGINT or
// SIGTERM, then lets every connection finish the requests it has read and exits.
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "zerofs/common/config.h"
#include "zerofs/common/log.h"
#include "zerofs/nbd/memory_export_provider.h"
#include "zerofs/nbd/server.h"

namespace {

constexpr const char* kDescription =
    "zerofs-nbd: serves block devices over the NBD protocol (fixed newstyle handshake,\n"
    "NBD_OPT_GO/INFO/LIST, structured replies, READ, WRITE, FLUSH, FUA, TRIM, WRITE_ZEROES,\n"
    "CACHE, pipelined requests, multiple connections).\n"
    "\n"
    "This build serves memory-backed exports only (--memory). They live in RAM and vanish\n"
    "when the server exits; FLUSH succeeds at once because there is nothing more durable to\n"
    "reach. Serving the exports stored under /.nbd/ in a volume will come with the\n"
    "filesystem layer.\n"
    "\n"
    "Example:\n"
    "  zerofs-nbd --memory disk1:256M --memory scratch:1G:slow-zero --listen 127.0.0.1:10809\n"
    "  nbdinfo --list nbd://127.0.0.1:10809";

int Fail(const std::string& message) {
  std::fprintf(stderr, "zerofs-nbd: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "zerofs-nbd"};
  app.set_version_flag("--version", "zerofs-nbd 0.1.0");
  std::vector<std::string> listen;
  std::vector<std::string> unix_sockets;
  std::vector<std::string> memory;
  std::string config_path;
  std::string log_level;
  bool read_only = false;
  zerofs::nbd::ServerOptions options;
  app.add_option("--listen", listen,
                 "TCP address to listen on, ADDR:PORT (repeatable; IPv6 as [ADDR]:PORT; port 0 "
                 "picks a free one). Default 127.0.0.1:10809, or [servers.nbd] listen");
  app.add_option("--unix", unix_sockets, "Unix socket path to listen on (repeatable)");
  app.add_option("--memory", memory,
                 "serve an in-memory export NAME:SIZE[:OPTIONS] (repeatable), e.g. disk1:256M; "
                 "SIZE takes K/M/G/T; OPTIONS: ro, slow-zero (FAST_ZERO requests fail with "
                 "ENOTSUP), min-block=N. The first one is the default export");
  app.add_option("--config", config_path,
                 "config file; this build reads [servers.nbd] listen and [log] level from it");
  app.add_flag("--read-only", read_only, "serve every export read-only");
  app.add_option("--log-level", log_level, "debug, info, warn, error or off (default info)");
  app.add_option("--io-threads", options.io_threads, "network threads")->capture_default_str();
  app.add_option("--worker-threads", options.worker_threads, "threads running device calls")
      ->capture_default_str();
  app.add_option("--max-connections", options.max_connections)->capture_default_str();
  app.add_option("--max-inflight", options.max_inflight_requests,
                 "requests in flight per connection")
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
    if (listen.empty()) listen = config->nbd.listen;
    if (!config->log.level.empty()) level_name = config->log.level;
    if (!config->storage.url.empty()) {
      std::fprintf(stderr,
                   "zerofs-nbd: note: [storage] is not used; this build serves memory-backed "
                   "exports only\n");
    }
  }
  if (!log_level.empty()) level_name = log_level;
  zerofs::Result<zerofs::log::Level> level = zerofs::log::ParseLevel(level_name);
  if (!level.ok()) return Fail(level.status().message());
  zerofs::log::SetLevel(*level);

  if (memory.empty()) {
    return Fail(
        "no exports: give --memory NAME:SIZE (this build serves memory-backed exports "
        "only; see --help)");
  }
  auto provider = std::make_shared<zerofs::nbd::MemoryExportProvider>();
  for (const std::string& spec_text : memory) {
    zerofs::Result<zerofs::nbd::MemoryExportSpec> spec =
        zerofs::nbd::ParseMemoryExportSpec(spec_text);
    if (!spec.ok()) return Fail(spec.status().message());
    zerofs::Status added = provider->AddMemory(*spec);
    if (!added.ok()) return Fail(added.message());
  }
  if (listen.empty() && unix_sockets.empty()) listen.push_back("127.0.0.1:10809");
  for (const std::string& l : listen) {
    zerofs::Result<zerofs::nbd::ListenAddress> parsed = zerofs::nbd::ParseListenAddress(l);
    if (!parsed.ok()) return Fail(parsed.status().message());
  }
  options.listen = listen;
  options.unix_sockets = unix_sockets;
  options.read_only = read_only;

  // Every thread the server starts inherits this mask, so the signals reach sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  zerofs::nbd::Server server(provider, options);
  zerofs::Status started = server.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "zerofs-nbd: %s\n", started.message().c_str());
    return 1;
  }
  int received = 0;
  sigwait(&signals, &received);
  ZEROFS_LOG(kInfo) << "nbd: " << (received == SIGINT ? "SIGINT" : "SIGTERM")
                    << " received; shutting down";
  server.Stop();
  server.Wait();
  return 0;
}
