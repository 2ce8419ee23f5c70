// zerofs-9p: serves a filesystem over 9P2000.L.
//
// This build serves an in-memory tree (MemoryHandler); serving a volume comes with the
// filesystem layer. The server runs until SIGINT or SIGTERM, then answers the requests it
// has read and exits.
#include <pthread.h>
#include <signal.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "zerofs/common/config.h"
#include "zerofs/common/log.h"
#include "zerofs/ninep/memory_handler.h"
#include "zerofs/ninep/server.h"

namespace {

constexpr const char* kDescription =
    "zerofs-9p: serves a filesystem over 9P2000.L (the Linux v9fs dialect) on TCP and Unix\n"
    "sockets: negotiated msize, pipelined requests answered in completion order, Tflush.\n"
    "\n"
    "This build serves an IN-MEMORY tree only: an empty directory that clients can fill\n"
    "with directories, files and symlinks, which vanishes when the server exits. It does\n"
    "not read or write a volume ([storage] is ignored); that comes with the filesystem\n"
    "layer.\n"
    "\n"
    "Example:\n"
    "  zerofs-9p --listen 127.0.0.1:5564\n"
    "  mount -t 9p -o trans=tcp,port=5564,version=9p2000.L 127.0.0.1 /mnt";

int Fail(const std::string& message) {
  std::fprintf(stderr, "zerofs-9p: %s\n", message.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "zerofs-9p"};
  app.set_version_flag("--version", "zerofs-9p 0.1.0");
  std::vector<std::string> listen;
  std::vector<std::string> unix_sockets;
  std::string config_path;
  std::string log_level;
  zerofs::ninep::ServerOptions options;
  app.add_option("--listen", listen,
                 "TCP address to listen on, ADDR:PORT (repeatable; IPv6 as [ADDR]:PORT; port 0 "
                 "picks a free one). Default 127.0.0.1:5564, or [servers.ninep] listen");
  app.add_option("--unix", unix_sockets,
                 "Unix socket path to listen on (repeatable); or [servers.ninep] unix_socket");
  app.add_option("--config", config_path,
                 "config file; this build reads [servers.ninep] listen and unix_socket and "
                 "[log] level from it");
  app.add_option("--log-level", log_level, "debug, info, warn, error or off (default info)");
  app.add_option("--msize", options.max_msize, "largest msize offered to clients")
      ->capture_default_str();
  app.add_option("--io-threads", options.io_threads, "network threads")->capture_default_str();
  app.add_option("--worker-threads", options.worker_threads, "threads running operations")
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
    if (listen.empty()) listen = config->ninep.listen;
    if (unix_sockets.empty() && !config->ninep.unix_socket.empty()) {
      unix_sockets.push_back(config->ninep.unix_socket);
    }
    if (!config->log.level.empty()) level_name = config->log.level;
    if (!config->storage.url.empty()) {
      std::fprintf(stderr,
                   "zerofs-9p: note: [storage] is not used; this build serves an in-memory "
                   "tree only\n");
    }
  }
  if (!log_level.empty()) level_name = log_level;
  zerofs::Result<zerofs::log::Level> level = zerofs::log::ParseLevel(level_name);
  if (!level.ok()) return Fail(level.status().message());
  zerofs::log::SetLevel(*level);

  if (listen.empty() && unix_sockets.empty()) {
    listen.emplace_back(zerofs::ninep::kDefaultListen);
  }
  for (const std::string& l : listen) {
    zerofs::Result<zerofs::ninep::ListenAddress> parsed = zerofs::ninep::ParseListenAddress(l);
    if (!parsed.ok()) return Fail(parsed.status().message());
  }
  options.listen = listen;
  options.unix_sockets = unix_sockets;

  // Every thread the server starts inherits this mask, so the signals reach sigwait below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  zerofs::ninep::Server server(std::make_shared<zerofs::ninep::MemoryHandler>(), options);
  zerofs::Status started = server.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "zerofs-9p: %s\n", started.message().c_str());
    return 1;
  }
  ZEROFS_LOG(kInfo) << "9p: serving an in-memory tree (not a volume)";
  int received = 0;
  sigwait(&signals, &received);
  ZEROFS_LOG(kInfo) << "9p: " << (received == SIGINT ? "SIGINT" : "SIGTERM")
                    << " received; shutting down";
  server.Stop();
  server.Wait();
  return 0;
}
