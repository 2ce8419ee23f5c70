// zerofs-nbd: serves the block devices of a volume over the NBD protocol.
//
// Each export is a regular file in /.nbd/ of the volume (VfsExportProvider); the list is
// read at every handshake, so `zerofs nbd create` makes a device that the next client sees.
// --memory serves in-memory exports instead (tests and demos), without a volume. The server
// runs until SIGINT or SIGTERM, lets every connection finish the requests it has read, then
// closes the volume (everything acknowledged is made durable first).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "zerofs/common/log.h"
#include "zerofs/nbd/control_ops.h"
#include "zerofs/nbd/memory_export_provider.h"
#include "zerofs/nbd/server.h"
#include "zerofs/nbd/vfs_export_provider.h"
#include "zerofs/server/cli.h"
#include "zerofs/server/services.h"
#include "zerofs/server/volume.h"

namespace {

constexpr const char* kDescription =
    "zerofs-nbd: serves the block devices of a ZeroFS volume over the NBD protocol (fixed\n"
    "newstyle handshake, NBD_OPT_GO/INFO/LIST, structured replies, READ, WRITE, FLUSH, FUA,\n"
    "TRIM, WRITE_ZEROES, CACHE, pipelined requests, multiple connections).\n"
    "\n"
    "Every regular file in the directory /.nbd/ of the volume is an export: its name is the\n"
    "export name, its size the device size. Create devices with `zerofs nbd create NAME\n"
    "SIZE` (or any file made in /.nbd/ over NFS or 9P); new ones are served to the next\n"
    "client without a restart. FLUSH and FUA answer only once the data is in the bucket;\n"
    "TRIM and WRITE_ZEROES release the storage of the range. The volume comes from --config\n"
    "([storage], [cache]) or --url; the password from the config, --password-file or the\n"
    "ZEROFS_PASSWORD environment variable, never from the command line.\n"
    "\n"
    "--memory NAME:SIZE serves in-memory exports instead of a volume (for tests: they vanish\n"
    "when the server exits, and FLUSH has nothing more durable to reach).\n"
    "\n"
    "Examples:\n"
    "  zerofs init --config zerofs.toml && zerofs nbd create --config zerofs.toml vm1 10G\n"
    "  zerofs-nbd --config zerofs.toml --listen 127.0.0.1:10809\n"
    "  nbdinfo --list nbd://127.0.0.1:10809\n"
    "  zerofs-nbd --memory disk1:256M --memory scratch:1G:slow-zero";

const zerofs::server::ProgramInfo kProgram = {
    .program = "zerofs-nbd",
    .section = "nbd",
    .config = &zerofs::server::Config::nbd,
    .default_listen = "127.0.0.1:10809",
    .unix_socket_from_config = true,
    .storage_note = "",
};

int Fail(std::string_view message) {
  return zerofs::server::Fail(kProgram, message);
}

// Serves `provider` until SIGINT or SIGTERM. `signals` was set up before any thread started.
// Runs the server with `services` (control socket, metrics) beside it until a signal.
int Serve(std::shared_ptr<zerofs::nbd::ExportProvider> provider,
          const zerofs::nbd::ServerOptions& options, zerofs::server::TerminationSignals& signals,
          zerofs::server::Services& services) {
  zerofs::nbd::Server server(std::move(provider), options);
  services.AddProtocol("nbd", [&server] {
    const zerofs::nbd::ServerStats s = server.Stats();
    return zerofs::server::ProtocolCounters{s.connections_accepted, s.connections_active,
                                            s.connections_refused,  s.requests,
                                            s.protocol_errors,      s.ops};
  });
  zerofs::Status started = server.Start();
  if (started.ok()) started = services.Start();
  if (!started.ok()) {
    std::fprintf(stderr, "zerofs-nbd: %s\n", started.message().c_str());
    server.Stop();
    server.Wait();
    return 1;
  }
  // Not inside the log statement: that is skipped entirely below the info level.
  const char* signal_name = signals.Wait();
  ZEROFS_LOG(kInfo) << "nbd: " << signal_name << " received; shutting down";
  services.Stop();
  server.Stop();
  server.Wait();
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "zerofs-nbd"};
  app.set_version_flag("--version", "zerofs-nbd 0.1.0");
  zerofs::server::CommonFlags flags;
  zerofs::server::VolumeFlags volume_flags;
  zerofs::server::ServiceFlags service_flags;
  std::vector<std::string> memory;
  zerofs::nbd::ServerOptions options;
  zerofs::server::AddConfigFlag(app, flags, kProgram);
  zerofs::server::AddVolumeFlags(app, volume_flags);
  zerofs::server::AddListenFlag(app, flags, kProgram);
  zerofs::server::AddUnixFlag(app, flags, kProgram);
  app.add_option("--memory", memory,
                 "serve an in-memory export NAME:SIZE[:OPTIONS] instead of a volume "
                 "(repeatable), e.g. disk1:256M; SIZE takes K/M/G/T; OPTIONS: ro, slow-zero "
                 "(FAST_ZERO requests fail with ENOTSUP), min-block=N. The first one is the "
                 "default export");
  zerofs::server::AddServiceFlags(app, service_flags);
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
    return zerofs::server::ExitForParseError(app, e, "zerofs-nbd");
  }

  zerofs::Status configured = zerofs::server::ApplyConfig(flags, kProgram);
  if (!configured.ok()) return Fail(configured.message());
  zerofs::Status listen_ok = zerofs::server::FinishListen(flags, kProgram);
  if (!listen_ok.ok()) return Fail(listen_ok.message());
  options.listen = flags.listen;
  options.unix_sockets = flags.unix_sockets;
  options.read_only = volume_flags.read_only;

  if (!memory.empty()) {
    auto provider = std::make_shared<zerofs::nbd::MemoryExportProvider>();
    for (const std::string& spec_text : memory) {
      zerofs::Result<zerofs::nbd::MemoryExportSpec> spec =
          zerofs::nbd::ParseMemoryExportSpec(spec_text);
      if (!spec.ok()) return Fail(spec.status().message());
      zerofs::Status added = provider->AddMemory(*spec);
      if (!added.ok()) return Fail(added.message());
    }
    zerofs::server::TerminationSignals signals;
    zerofs::server::Services services(service_flags, flags.config, /*default_control=*/false);
    return Serve(provider, options, signals, services);
  }

  // Before the volume starts its threads, so that they inherit the signal mask.
  zerofs::server::TerminationSignals signals;
  auto served = zerofs::server::OpenServedVolume(volume_flags, flags.config, "zerofs-nbd");
  if (!served.ok()) {
    std::fprintf(stderr, "zerofs-nbd: %s\n", served.status().ToString().c_str());
    return served.status().code() == zerofs::StatusCode::kInvalidArgument ? 2 : 1;
  }
  int rc = 0;
  {
    auto provider = zerofs::nbd::VfsExportProvider::Create((*served)->filesystem());
    if (!provider.ok()) {
      std::fprintf(stderr, "zerofs-nbd: %s\n", provider.status().ToString().c_str());
      rc = 1;
    } else {
      auto exports = (*provider)->List();
      if (exports.ok()) {
        ZEROFS_LOG(kInfo) << "nbd: " << exports->size() << " export(s) in /"
                          << zerofs::nbd::kExportDirName;
      }
      zerofs::server::Services services(service_flags, flags.config, /*default_control=*/false);
      services.AddVolume(**served);
      if (services.control() != nullptr) {
        zerofs::nbd::RegisterNbdControl(*services.control(), (*served)->filesystem());
      }
      rc = Serve(std::move(*provider), options, signals, services);
    }
  }
  // Every connection has released its device: make everything durable and close.
  zerofs::Status closed = (*served)->Close();
  if (!closed.ok()) {
    std::fprintf(stderr, "zerofs-nbd: closing the volume: %s\n", closed.ToString().c_str());
    if (rc == 0) rc = 1;
  }
  return rc;
}
