// zerofs-nfs: serves a ZeroFS volume over NFSv3, with MOUNT v3 on the same port.
//
// Opens the volume named by --url / [storage] (or a fresh in-memory one with --ephemeral),
// serves its filesystem through VfsNfsHandler until SIGINT or SIGTERM, then lets every
// connection finish the calls it has read, makes everything durable and closes the volume.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "zerofs/common/log.h"
#include "zerofs/nfs/server.h"
#include "zerofs/nfs/vfs_handler.h"
#include "zerofs/server/cli.h"
#include "zerofs/server/services.h"
#include "zerofs/server/volume.h"

namespace {

constexpr const char* kDescription =
    "zerofs-nfs: serves a ZeroFS volume over NFSv3 (RFC 1813) with MOUNT v3 on the same TCP\n"
    "port (ONC RPC over TCP; AUTH_SYS, AUTH_NONE as nobody; no portmapper: give clients the\n"
    "port for both). The export is \"/\" (a subdirectory path mounts that directory).\n"
    "\n"
    "Durability (--commit or [servers.nfs] commit):\n"
    "  durable  (default) WRITE UNSTABLE answers UNSTABLE with a write verifier unique to\n"
    "           this server instance and volume epoch; COMMIT, and FILE_SYNC/DATA_SYNC\n"
    "           writes, reply only once the data is in the bucket. A restart changes the\n"
    "           verifier, so clients resend what was not committed.\n"
    "  relaxed  COMMIT and FILE_SYNC/DATA_SYNC writes reply at once; the data reaches the\n"
    "           bucket with the next flush (every 2 s, or when 16 MiB are buffered). RISK: a\n"
    "           crash of the server or its machine in that window loses writes that clients\n"
    "           were told are on stable storage, and they will not resend them. Faster for\n"
    "           many small files; use it only for data you can recreate.\n"
    "Namespace changes (create, mkdir, rename, remove, setattr) never wait for the bucket in\n"
    "either mode: they are durable with the next flush or the next COMMIT.\n"
    "\n"
    "The password comes from [storage] password / password_file, --password-file, or the\n"
    "ZEROFS_PASSWORD environment variable; never from the command line.\n"
    "\n"
    "Examples:\n"
    "  zerofs init --config zerofs.toml && zerofs-nfs --config zerofs.toml\n"
    "  ZEROFS_PASSWORD=... zerofs-nfs --url file:///srv/bucket --listen 127.0.0.1:2049\n"
    "  mount -t nfs -o vers=3,proto=tcp,nolock,port=2049,mountport=2049 127.0.0.1:/ /mnt\n"
    "  nfs-ls 'nfs://127.0.0.1/?version=3&nfsport=2049&mountport=2049'";

const zerofs::server::ProgramInfo kProgram = {
    .program = "zerofs-nfs",
    .section = "nfs",
    .config = &zerofs::server::Config::nfs,
    .default_listen = "127.0.0.1:2049",
    .unix_socket_from_config = false,
    .storage_note = "",
};

int Fail(std::string_view message) {
  return zerofs::server::Fail(kProgram, message);
}

nlohmann::json StatsJson(const zerofs::nfs::VfsNfsHandler& handler) {
  const zerofs::nfs::VfsNfsStats h = handler.Stats();
  return {{"commit", std::string(zerofs::nfs::CommitModeName(h.commit_mode))},
          {"writes_unstable", h.writes_unstable},
          {"writes_stable", h.writes_stable},
          {"commits", h.commits},
          {"acks_without_flush", h.acks_without_flush},
          {"durability_errors", h.durability_errors}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "zerofs-nfs"};
  app.set_version_flag("--version", "zerofs-nfs 0.1.0");
  zerofs::server::CommonFlags flags;
  zerofs::server::VolumeFlags volume_flags;
  zerofs::server::ServiceFlags service_flags;
  zerofs::nfs::ServerOptions options;
  std::string commit;
  bool ephemeral = false;
  zerofs::server::AddListenFlag(app, flags, kProgram);
  zerofs::server::AddConfigFlag(app, flags, kProgram);
  zerofs::server::AddVolumeFlags(app, volume_flags);
  app.add_flag("--ephemeral", ephemeral,
               "serve a new empty volume held in memory (nothing persists; for trying out)");
  app.add_option("--commit", commit,
                 "durable (default) or relaxed; overrides [servers.nfs] commit (see above)")
      ->check(CLI::IsMember({"durable", "relaxed"}));
  zerofs::server::AddServiceFlags(app, service_flags);
  zerofs::server::AddLogLevelFlag(app, flags);
  app.add_option("--io-threads", options.io_threads, "network threads")->capture_default_str();
  app.add_option("--worker-threads", options.worker_threads, "threads running NFS calls")
      ->capture_default_str();
  app.add_option("--max-connections", options.max_connections)->capture_default_str();
  app.add_option("--max-inflight", options.max_inflight_calls, "calls in flight per connection")
      ->capture_default_str();
  std::string portmapper;
  app.add_option("--portmapper", portmapper,
                 "also answer as a portmapper (RPC program 100000 v2, TCP and UDP) on ADDR:PORT, "
                 "usually 127.0.0.1:111, for clients that cannot be given the ports (Windows); "
                 "overrides [servers.nfs] portmapper");
  std::uint32_t idle_timeout_s = options.idle_timeout_ms / 1000;
  app.add_option("--idle-timeout", idle_timeout_s,
                 "seconds after which a connection with nothing in flight that sends nothing "
                 "(or stops halfway through a record) is closed; clients reconnect (0: never)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return zerofs::server::ExitForParseError(app, e, "zerofs-nfs");
  }
  options.idle_timeout_ms = idle_timeout_s * 1000;

  zerofs::Status configured = zerofs::server::ApplyConfig(flags, kProgram);
  if (!configured.ok()) return Fail(configured.message());
  zerofs::Status listen_ok = zerofs::server::FinishListen(flags, kProgram);
  if (!listen_ok.ok()) return Fail(listen_ok.message());
  options.listen = flags.listen;
  options.portmapper = portmapper.empty() ? flags.config.nfs.portmapper : portmapper;
  if (commit.empty()) commit = flags.config.nfs.commit;
  auto mode = zerofs::nfs::ParseCommitMode(commit);
  if (!mode.ok()) return Fail(mode.status().message());

  // Before any thread starts (the volume's included), so that they inherit the signal mask.
  zerofs::server::TerminationSignals signals;

  auto served = ephemeral
                    ? zerofs::server::OpenEphemeralServedVolume()
                    : zerofs::server::OpenServedVolume(volume_flags, flags.config, "zerofs-nfs");
  if (!served.ok()) {
    std::fprintf(stderr, "zerofs-nfs: %s\n", served.status().ToString().c_str());
    return 1;
  }
  int rc = 0;
  {
    zerofs::nfs::VfsNfsOptions handler_options;
    handler_options.commit = *mode;
    auto handler =
        std::make_shared<zerofs::nfs::VfsNfsHandler>((*served)->filesystem(), handler_options);
    zerofs::nfs::Server server(handler, options);
    zerofs::server::Services services(service_flags, flags.config, /*default_control=*/false);
    services.AddVolume(**served);
    services.AddProtocol("nfs", [&server] {
      const zerofs::nfs::ServerStats s = server.Stats();
      return zerofs::server::ProtocolCounters{s.connections_accepted, s.connections_active,
                                              s.connections_refused,  s.calls,
                                              s.protocol_errors,      s.ops};
    });
    services.AddStatsSection("protocol.nfs", [&handler] { return StatsJson(*handler); });
    zerofs::Status started = server.Start();
    if (started.ok()) started = services.Start();
    if (!started.ok()) {
      std::fprintf(stderr, "zerofs-nfs: %s\n", started.message().c_str());
      server.Stop();
      server.Wait();
      rc = 1;
    } else {
      ZEROFS_LOG(kInfo) << "nfs: serving " << (*served)->url()
                        << ((*served)->read_only() ? " read-only" : "")
                        << " with commit=" << zerofs::nfs::CommitModeName(*mode)
                        << (*mode == zerofs::nfs::CommitMode::kRelaxed
                                ? " (COMMIT and stable writes do not wait for the bucket: a "
                                  "crash can lose acknowledged writes)"
                                : " (COMMIT waits until the data is in the bucket)");
      // Wait() outside the log statement: a disabled level skips the whole statement.
      const char* signal_name = signals.Wait();
      ZEROFS_LOG(kInfo) << "nfs: " << signal_name << " received; shutting down";
      services.Stop();
      server.Stop();
      server.Wait();
      const zerofs::nfs::ServerStats s = server.Stats();
      ZEROFS_LOG(kInfo) << "nfs: stats: calls=" << s.calls
                        << " connections=" << s.connections_accepted << " "
                        << StatsJson(*handler).dump();
    }
  }
  // The handler (and with it the filesystem reference) is gone: close the volume.
  zerofs::Status closed = (*served)->Close();
  if (!closed.ok()) {
    ZEROFS_LOG(kError) << "nfs: closing the volume: " << closed;
    return 1;
  }
  ZEROFS_LOG(kInfo) << "nfs: volume closed";
  return rc;
}
