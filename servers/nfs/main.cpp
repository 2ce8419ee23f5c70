// zerofs-nfs: serves a filesystem over NFSv3, with MOUNT v3 on the same port.
//
// This build serves an in-memory tree (MemoryNfsHandler); serving a volume comes with the
// filesystem layer. Runs until SIGINT or SIGTERM, then lets every connection finish the
// calls it has read and exits.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "zerofs/common/log.h"
#include "zerofs/nfs/memory_handler.h"
#include "zerofs/nfs/server.h"
#include "zerofs/server/cli.h"

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

const zerofs::server::ProgramInfo kProgram = {
    .program = "zerofs-nfs",
    .section = "nfs",
    .config = &zerofs::Config::nfs,
    .default_listen = "127.0.0.1:2049",
    .unix_socket_from_config = false,
    .storage_note = "[storage] is not used; this build serves an in-memory tree only",
};

int Fail(std::string_view message) {
  return zerofs::server::Fail(kProgram, message);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "zerofs-nfs"};
  app.set_version_flag("--version", "zerofs-nfs 0.1.0");
  zerofs::server::CommonFlags flags;
  std::uint64_t memory_mb = 1024;
  zerofs::nfs::ServerOptions options;
  zerofs::server::AddListenFlag(app, flags, kProgram);
  zerofs::server::AddConfigFlag(app, flags, kProgram);
  app.add_option("--memory-mb", memory_mb, "capacity of the in-memory tree")->capture_default_str();
  zerofs::server::AddLogLevelFlag(app, flags);
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

  zerofs::Status configured = zerofs::server::ApplyConfig(flags, kProgram);
  if (!configured.ok()) return Fail(configured.message());

  zerofs::Status listen_ok = zerofs::server::FinishListen(flags, kProgram);
  if (!listen_ok.ok()) return Fail(listen_ok.message());
  options.listen = flags.listen;
  if (memory_mb == 0 || memory_mb > (1ULL << 24)) return Fail("--memory-mb out of range");

  // Before the server starts its threads, so that they inherit the signal mask.
  zerofs::server::TerminationSignals signals;

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
  ZEROFS_LOG(kInfo) << "nfs: " << signals.Wait() << " received; shutting down";
  server.Stop();
  server.Wait();
  return 0;
}
