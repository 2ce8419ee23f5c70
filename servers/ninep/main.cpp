// zerofs-9p: serves a filesystem over 9P2000.L.
//
// This build serves an in-memory tree (MemoryHandler); serving a volume comes with the
// filesystem layer. The server runs until SIGINT or SIGTERM, then answers the requests it
// has read and exits.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "zerofs/common/log.h"
#include "zerofs/ninep/memory_handler.h"
#include "zerofs/ninep/server.h"
#include "zerofs/server/cli.h"

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

const zerofs::server::ProgramInfo kProgram = {
    .program = "zerofs-9p",
    .section = "ninep",
    .config = &zerofs::Config::ninep,
    .default_listen = zerofs::ninep::kDefaultListen,
    .unix_socket_from_config = true,
    .storage_note = "[storage] is not used; this build serves an in-memory tree only",
};

int Fail(std::string_view message) {
  return zerofs::server::Fail(kProgram, message);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "zerofs-9p"};
  app.set_version_flag("--version", "zerofs-9p 0.1.0");
  zerofs::server::CommonFlags flags;
  zerofs::ninep::ServerOptions options;
  zerofs::server::AddListenFlag(app, flags, kProgram);
  zerofs::server::AddUnixFlag(app, flags, kProgram);
  zerofs::server::AddConfigFlag(app, flags, kProgram);
  zerofs::server::AddLogLevelFlag(app, flags);
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

  zerofs::Status configured = zerofs::server::ApplyConfig(flags, kProgram);
  if (!configured.ok()) return Fail(configured.message());

  zerofs::Status listen_ok = zerofs::server::FinishListen(flags, kProgram);
  if (!listen_ok.ok()) return Fail(listen_ok.message());
  options.listen = flags.listen;
  options.unix_sockets = flags.unix_sockets;

  // Before the server starts its threads, so that they inherit the signal mask.
  zerofs::server::TerminationSignals signals;

  zerofs::ninep::Server server(std::make_shared<zerofs::ninep::MemoryHandler>(), options);
  zerofs::Status started = server.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "zerofs-9p: %s\n", started.message().c_str());
    return 1;
  }
  ZEROFS_LOG(kInfo) << "9p: serving an in-memory tree (not a volume)";
  ZEROFS_LOG(kInfo) << "9p: " << signals.Wait() << " received; shutting down";
  server.Stop();
  server.Wait();
  return 0;
}
