// zerofs-nbd: serves block devices over the NBD protocol.
//
// This build serves memory-backed exports (--memory); serving the files under /.nbd/ of a
// volume is wired in when the filesystem layer lands. The server runs until SIGINT or
// SIGTERM, then lets every connection finish the requests it has read and exits.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "zerofs/common/log.h"
#include "zerofs/nbd/memory_export_provider.h"
#include "zerofs/nbd/server.h"
#include "zerofs/server/cli.h"

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

const zerofs::server::ProgramInfo kProgram = {
    .program = "zerofs-nbd",
    .section = "nbd",
    .config = &zerofs::Config::nbd,
    .default_listen = "127.0.0.1:10809",
    .unix_socket_from_config = false,
    .storage_note = "[storage] is not used; this build serves memory-backed exports only",
};

int Fail(std::string_view message) {
  return zerofs::server::Fail(kProgram, message);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "zerofs-nbd"};
  app.set_version_flag("--version", "zerofs-nbd 0.1.0");
  zerofs::server::CommonFlags flags;
  std::vector<std::string> memory;
  bool read_only = false;
  zerofs::nbd::ServerOptions options;
  zerofs::server::AddListenFlag(app, flags, kProgram);
  zerofs::server::AddUnixFlag(app, flags, kProgram);
  app.add_option("--memory", memory,
                 "serve an in-memory export NAME:SIZE[:OPTIONS] (repeatable), e.g. disk1:256M; "
                 "SIZE takes K/M/G/T; OPTIONS: ro, slow-zero (FAST_ZERO requests fail with "
                 "ENOTSUP), min-block=N. The first one is the default export");
  zerofs::server::AddConfigFlag(app, flags, kProgram);
  app.add_flag("--read-only", read_only, "serve every export read-only");
  zerofs::server::AddLogLevelFlag(app, flags);
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

  zerofs::Status configured = zerofs::server::ApplyConfig(flags, kProgram);
  if (!configured.ok()) return Fail(configured.message());

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
  zerofs::Status listen_ok = zerofs::server::FinishListen(flags, kProgram);
  if (!listen_ok.ok()) return Fail(listen_ok.message());
  options.listen = flags.listen;
  options.unix_sockets = flags.unix_sockets;
  options.read_only = read_only;

  // Before the server starts its threads, so that they inherit the signal mask.
  zerofs::server::TerminationSignals signals;

  zerofs::nbd::Server server(provider, options);
  zerofs::Status started = server.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "zerofs-nbd: %s\n", started.message().c_str());
    return 1;
  }
  ZEROFS_LOG(kInfo) << "nbd: " << signals.Wait() << " received; shutting down";
  server.Stop();
  server.Wait();
  return 0;
}
