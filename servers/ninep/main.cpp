// zerofs-9p: serves a ZeroFS volume over 9P2000.L.
//
// Opens the volume named by --url / [storage] (or a fresh in-memory one with --ephemeral),
// serves its filesystem through VfsHandler until SIGINT or SIGTERM, then lets every
// connection answer the requests it has read, makes everything durable and closes the
// volume.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "zerofs/common/log.h"
#include "zerofs/ninep/server.h"
#include "zerofs/ninep/vfs_handler.h"
#include "zerofs/server/cli.h"
#include "zerofs/server/services.h"
#include "zerofs/server/volume.h"

namespace {

constexpr const char* kDescription =
    "zerofs-9p: serves a ZeroFS volume over 9P2000.L (the Linux v9fs dialect) on TCP and\n"
    "Unix sockets: negotiated msize, pipelined requests answered in completion order,\n"
    "Tflush, POSIX byte-range locks (Tlock/Tgetlock), xattrs, honest fsync (Tfsync replies\n"
    "once the file's changes are in the bucket).\n"
    "\n"
    "Users: Tattach's n_uname is the uid (mount with access=user and the kernel attaches\n"
    "once per local uid). 9P carries no groups: the primary and supplementary groups of a\n"
    "uid are looked up in this machine's user database (a uid unknown here gets gid = uid\n"
    "and no supplementary groups); files are created with the gid the client sends.\n"
    "The attach name (mount option aname=) may name a directory of the volume to serve.\n"
    "\n"
    "The password comes from [storage] password / password_file, --password-file, or the\n"
    "ZEROFS_PASSWORD environment variable; never from the command line.\n"
    "\n"
    "Example:\n"
    "  zerofs init --config zerofs.toml && zerofs-9p --config zerofs.toml\n"
    "  ZEROFS_PASSWORD=... zerofs-9p --url file:///srv/bucket --listen 127.0.0.1:5564\n"
    "  mount -t 9p -o trans=tcp,port=5564,version=9p2000.L,access=user 127.0.0.1 /mnt";

const zerofs::server::ProgramInfo kProgram = {
    .program = "zerofs-9p",
    .section = "ninep",
    .config = &zerofs::server::Config::ninep,
    .default_listen = zerofs::ninep::kDefaultListen,
    .unix_socket_from_config = true,
    .storage_note = "",
};

int Fail(std::string_view message) {
  return zerofs::server::Fail(kProgram, message);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{kDescription, "zerofs-9p"};
  app.set_version_flag("--version", "zerofs-9p 0.1.0");
  zerofs::server::CommonFlags flags;
  zerofs::server::VolumeFlags volume_flags;
  zerofs::server::ServiceFlags service_flags;
  zerofs::ninep::ServerOptions options;
  zerofs::ninep::VfsHandlerOptions handler_options;
  bool ephemeral = false;
  zerofs::server::AddListenFlag(app, flags, kProgram);
  zerofs::server::AddUnixFlag(app, flags, kProgram);
  zerofs::server::AddConfigFlag(app, flags, kProgram);
  zerofs::server::AddVolumeFlags(app, volume_flags);
  app.add_flag("--ephemeral", ephemeral,
               "serve a new empty volume held in memory (nothing persists; for trying out)");
  zerofs::server::AddServiceFlags(app, service_flags);
  zerofs::server::AddLogLevelFlag(app, flags);
  app.add_option("--msize", options.max_msize, "largest msize offered to clients")
      ->capture_default_str();
  app.add_option("--io-threads", options.io_threads, "network threads")->capture_default_str();
  app.add_option("--worker-threads", options.worker_threads, "threads running operations")
      ->capture_default_str();
  app.add_option("--sync-threads", options.sync_threads,
                 "threads running fsyncs (each waits for the bucket)")
      ->capture_default_str();
  app.add_option("--data-threads", options.data_threads,
                 "threads running reads and writes (a cold read waits for the bucket)")
      ->capture_default_str();
  app.add_option("--max-connections", options.max_connections)->capture_default_str();
  app.add_option("--max-inflight", options.max_inflight_requests,
                 "requests in flight per connection")
      ->capture_default_str();
  app.add_option("--max-fids", options.max_fids, "fids per connection")->capture_default_str();
  app.add_flag("!--no-group-lookup", handler_options.lookup_groups,
               "do not look up groups in the user database: gid = uid, no supplementary "
               "groups");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return zerofs::server::ExitForParseError(app, e, "zerofs-9p");
  }

  zerofs::Status configured = zerofs::server::ApplyConfig(flags, kProgram);
  if (!configured.ok()) return Fail(configured.message());
  zerofs::Status listen_ok = zerofs::server::FinishListen(flags, kProgram);
  if (!listen_ok.ok()) return Fail(listen_ok.message());
  options.listen = flags.listen;
  options.unix_sockets = flags.unix_sockets;

  // Before any thread starts (the volume's included), so that they inherit the signal mask.
  zerofs::server::TerminationSignals signals;

  auto served = ephemeral
                    ? zerofs::server::OpenEphemeralServedVolume()
                    : zerofs::server::OpenServedVolume(volume_flags, flags.config, "zerofs-9p");
  if (!served.ok()) {
    std::fprintf(stderr, "zerofs-9p: %s\n", served.status().ToString().c_str());
    return 1;
  }
  int rc = 0;
  {
    zerofs::ninep::Server server(
        std::make_shared<zerofs::ninep::VfsHandler>((*served)->filesystem(), handler_options),
        options);
    zerofs::server::Services services(service_flags, flags.config, /*default_control=*/false);
    services.AddVolume(**served);
    services.AddProtocol("9p", [&server] {
      const zerofs::ninep::ServerStats s = server.Stats();
      return zerofs::server::ProtocolCounters{s.connections_accepted, s.connections_active,
                                              s.connections_refused,  s.requests,
                                              s.protocol_errors,      s.ops};
    });
    zerofs::Status started = server.Start();
    if (started.ok()) started = services.Start();
    if (!started.ok()) {
      std::fprintf(stderr, "zerofs-9p: %s\n", started.message().c_str());
      server.Stop();
      server.Wait();
      rc = 1;
    } else {
      ZEROFS_LOG(kInfo) << "9p: serving " << (*served)->url()
                        << ((*served)->read_only() ? " (read-only)" : "");
      // Wait() outside the log statement: a disabled level skips the whole statement.
      const char* signal_name = signals.Wait();
      ZEROFS_LOG(kInfo) << "9p: " << signal_name << " received; shutting down";
      services.Stop();
      server.Stop();
      server.Wait();
      const zerofs::ninep::ServerStats s = server.Stats();
      ZEROFS_LOG(kInfo) << "9p: stats: requests=" << s.requests
                        << " connections=" << s.connections_accepted
                        << " protocol_errors=" << s.protocol_errors;
    }
  }
  // The server (and with it the handler's filesystem reference) is gone: close the volume.
  zerofs::Status closed = (*served)->Close();
  if (!closed.ok()) {
    ZEROFS_LOG(kError) << "9p: closing the volume: " << closed;
    return 1;
  }
  ZEROFS_LOG(kInfo) << "9p: volume closed";
  return rc;
}
