// zerofs run: serves one volume over any set of NFS, 9P and NBD in one process, from the
// same config file the single-protocol servers read, with the control socket and metrics.
//
// A protocol runs when its [servers.<name>] table is in the config or a --nfs/--9p/--nbd
// flag names an address for it. Everything shares one engine::Volume and vfs::Filesystem,
// so a file written over NFS is seen at once over 9P, and an NBD export created through
// the control socket (`zerofs nbd create`) or as a file in /.nbd/ is served at once.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "zerofs/common/log.h"
#include "zerofs/nbd/control_ops.h"
#include "zerofs/nbd/server.h"
#include "zerofs/nbd/vfs_export_provider.h"
#include "zerofs/nfs/server.h"
#include "zerofs/nfs/vfs_handler.h"
#include "zerofs/ninep/server.h"
#include "zerofs/ninep/vfs_handler.h"
#include "zerofs/server/cli.h"
#include "zerofs/server/endpoint.h"
#include "zerofs/server/services.h"
#include "zerofs/server/volume.h"

namespace zerofs::cli {

namespace {

struct RunOptions {
  std::string config_path;
  std::string log_level;
  std::string log_file;
  server::VolumeFlags volume;
  server::ServiceFlags services;
  std::vector<std::string> nfs_listen;
  std::vector<std::string> ninep_listen;
  std::vector<std::string> ninep_unix;
  std::vector<std::string> nbd_listen;
  std::vector<std::string> nbd_unix;
  std::string nfs_commit;
  bool exit_after_start = false;
};

// One protocol server, type-erased so the run loop treats them alike.
struct Running {
  std::string name;
  std::function<Status()> start;
  std::function<void()> stop;
  std::function<void()> wait;
  std::function<std::vector<std::string>()> endpoints;
};

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : ", ") + p;
  return out;
}

// The addresses a protocol listens on: the flags, else its config table, else (when the
// table is present but names none) its default.
struct Addresses {
  bool enabled = false;
  std::vector<std::string> listen;
  std::vector<std::string> unix_sockets;
};

Addresses Resolve(const std::vector<std::string>& flag_listen,
                  const std::vector<std::string>& flag_unix, const server::ServerConfig& section,
                  std::string_view default_listen) {
  Addresses out;
  out.listen = flag_listen;
  out.unix_sockets = flag_unix;
  if (out.listen.empty() && out.unix_sockets.empty() && section.enabled) {
    out.listen = section.listen;
    if (!section.unix_socket.empty()) out.unix_sockets.push_back(section.unix_socket);
    if (out.listen.empty() && out.unix_sockets.empty()) out.listen.emplace_back(default_listen);
  }
  out.enabled = !out.listen.empty() || !out.unix_sockets.empty();
  return out;
}

Status CheckListen(const std::vector<std::string>& listen, std::string_view example) {
  for (const std::string& l : listen) {
    ZEROFS_RETURN_IF_ERROR(server::ParseListenAddress(l, example).status());
  }
  return Status::Ok();
}

int RunServe(const RunOptions& opts) {
  server::Config config;
  if (!opts.config_path.empty()) {
    auto loaded = server::LoadConfigFile(opts.config_path);
    if (!loaded.ok()) return ReportError(loaded.status());  // 3 when missing, 2 when bad
    config = std::move(*loaded);
  }
  std::string level_name = opts.log_level.empty() ? config.log.level : opts.log_level;
  if (level_name.empty()) level_name = "info";
  auto level = log::ParseLevel(level_name);
  if (!level.ok()) {
    std::fprintf(stderr, "zerofs: %s\n", level.status().message().c_str());
    return kExitUsage;
  }
  log::SetLevel(*level);
  const std::string log_file = opts.log_file.empty() ? config.log.file : opts.log_file;
  if (!log_file.empty()) {
    if (Status opened = server::OpenLogFile(log_file); !opened.ok()) return ReportError(opened);
  }

  const Addresses nfs_at = Resolve(opts.nfs_listen, {}, config.nfs, "127.0.0.1:2049");
  const Addresses ninep_at =
      Resolve(opts.ninep_listen, opts.ninep_unix, config.ninep, ninep::kDefaultListen);
  const Addresses nbd_at = Resolve(opts.nbd_listen, opts.nbd_unix, config.nbd, "127.0.0.1:10809");
  if (!nfs_at.enabled && !ninep_at.enabled && !nbd_at.enabled) {
    std::fprintf(stderr,
                 "zerofs: nothing to serve: add [servers.nfs], [servers.ninep] or "
                 "[servers.nbd] to the config (see `zerofs config example`), or pass --nfs, "
                 "--9p or --nbd ADDR:PORT\n");
    return kExitUsage;
  }
  for (const auto& [addresses, example] :
       {std::pair{&nfs_at, "127.0.0.1:2049"}, std::pair{&ninep_at, "127.0.0.1:5564"},
        std::pair{&nbd_at, "127.0.0.1:10809"}}) {
    if (Status ok = CheckListen(addresses->listen, example); !ok.ok()) {
      std::fprintf(stderr, "zerofs: %s\n", ok.message().c_str());
      return kExitUsage;
    }
  }
  std::string commit_text = opts.nfs_commit.empty() ? config.nfs.commit : opts.nfs_commit;
  auto commit = nfs::ParseCommitMode(commit_text);
  if (!commit.ok()) {
    std::fprintf(stderr, "zerofs: %s\n", commit.status().message().c_str());
    return kExitUsage;
  }

  // Before any thread starts (the volume's included), so that they inherit the signal mask.
  server::TerminationSignals signals;
  auto served = server::OpenServedVolume(opts.volume, config, "zerofs run");
  if (!served.ok()) return ReportError(served.status());
  const std::shared_ptr<vfs::Filesystem>& fs = (*served)->filesystem();

  server::Services services(opts.services, config, /*default_control=*/true);
  services.AddVolume(**served);
  std::vector<Running> running;
  // Declared here so they outlive the Running entries that refer to them.
  std::unique_ptr<nfs::Server> nfs_server;
  std::unique_ptr<ninep::Server> ninep_server;
  std::unique_ptr<nbd::Server> nbd_server;

  if (nfs_at.enabled) {
    nfs::VfsNfsOptions handler_options;
    handler_options.commit = *commit;
    auto handler = std::make_shared<nfs::VfsNfsHandler>(fs, handler_options);
    nfs::ServerOptions options;
    options.listen = nfs_at.listen;
    options.portmapper = config.nfs.portmapper;
    nfs_server = std::make_unique<nfs::Server>(handler, options);
    nfs::Server* s = nfs_server.get();
    services.AddProtocol("nfs", [s] {
      const nfs::ServerStats st = s->Stats();
      return server::ProtocolCounters{st.connections_accepted, st.connections_active,
                                      st.connections_refused,  st.calls,
                                      st.protocol_errors,      st.ops};
    });
    services.AddStatsSection("nfs", [handler] {
      const nfs::VfsNfsStats h = handler->Stats();
      return nlohmann::json{{"commit", std::string(nfs::CommitModeName(h.commit_mode))},
                            {"writes_unstable", h.writes_unstable},
                            {"writes_stable", h.writes_stable},
                            {"commits", h.commits},
                            {"acks_without_flush", h.acks_without_flush},
                            {"durability_errors", h.durability_errors}};
    });
    running.push_back({"nfs", [s] { return s->Start(); }, [s] { s->Stop(); }, [s] { s->Wait(); },
                       [s] { return s->Endpoints(); }});
    if (*commit == nfs::CommitMode::kRelaxed) {
      ZEROFS_LOG(kWarn) << "nfs: commit=relaxed: COMMIT and stable writes do not wait for the "
                           "bucket; a crash can lose writes clients were told are stable";
    }
  }
  if (ninep_at.enabled) {
    ninep::ServerOptions options;
    options.listen = ninep_at.listen;
    options.unix_sockets = ninep_at.unix_sockets;
    ninep_server =
        std::make_unique<ninep::Server>(std::make_shared<ninep::VfsHandler>(fs), options);
    ninep::Server* s = ninep_server.get();
    services.AddProtocol("9p", [s] {
      const ninep::ServerStats st = s->Stats();
      return server::ProtocolCounters{st.connections_accepted, st.connections_active,
                                      st.connections_refused,  st.requests,
                                      st.protocol_errors,      st.ops};
    });
    running.push_back({"9p", [s] { return s->Start(); }, [s] { s->Stop(); }, [s] { s->Wait(); },
                       [s] { return s->Endpoints(); }});
  }
  if (nbd_at.enabled) {
    nbd::VfsExportOptions export_options;
    export_options.read_only = (*served)->read_only();
    auto provider = nbd::VfsExportProvider::Create(fs, export_options);
    if (!provider.ok()) return ReportError(provider.status());
    nbd::ServerOptions options;
    options.listen = nbd_at.listen;
    options.unix_sockets = nbd_at.unix_sockets;
    options.read_only = (*served)->read_only();
    nbd_server = std::make_unique<nbd::Server>(*provider, options);
    nbd::Server* s = nbd_server.get();
    services.AddProtocol("nbd", [s] {
      const nbd::ServerStats st = s->Stats();
      return server::ProtocolCounters{st.connections_accepted, st.connections_active,
                                      st.connections_refused,  st.requests,
                                      st.protocol_errors,      st.ops};
    });
    if (services.control() != nullptr) nbd::RegisterNbdControl(*services.control(), fs);
    running.push_back({"nbd", [s] { return s->Start(); }, [s] { s->Stop(); }, [s] { s->Wait(); },
                       [s] { return s->Endpoints(); }});
  }

  int rc = 0;
  std::size_t started = 0;
  Status status = Status::Ok();
  for (Running& r : running) {
    status = r.start();
    if (!status.ok()) {
      status = status.WithContext(r.name);
      break;
    }
    ++started;
  }
  if (status.ok()) status = services.Start();
  if (!status.ok()) {
    std::fprintf(stderr, "zerofs: %s\n", status.ToString().c_str());
    rc = kExitError;
  } else {
    // For scripts: one line per protocol with its endpoints, on stdout.
    for (Running& r : running) std::printf("%s %s\n", r.name.c_str(), Join(r.endpoints()).c_str());
    if (services.control() != nullptr) {
      std::printf("control %s\n", services.control()->path().c_str());
    }
    std::fflush(stdout);
    if (!opts.exit_after_start) {
      // Wait() outside the log statement: a disabled level skips the whole statement.
      const char* signal_name = signals.Wait();
      ZEROFS_LOG(kInfo) << "zerofs run: " << signal_name << " received; shutting down";
    }
  }
  services.Stop();
  for (std::size_t i = 0; i < started; ++i) running[i].stop();
  for (std::size_t i = 0; i < started; ++i) running[i].wait();
  nbd_server.reset();
  ninep_server.reset();
  nfs_server.reset();
  Status closed = (*served)->Close();
  if (!closed.ok()) {
    std::fprintf(stderr, "zerofs: closing the volume: %s\n", closed.ToString().c_str());
    return kExitError;
  }
  ZEROFS_LOG(kInfo) << "zerofs run: volume closed; every acknowledged change is in the bucket";
  return rc;
}

}  // namespace

void AddRunCommand(CLI::App& app, CommandRunner& run) {
  auto opts = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand(
      "run",
      "Serve one volume over NFS, 9P and NBD in one process.\n"
      "Each protocol whose [servers.<name>] table is in the config (or that a flag below\n"
      "names) is served; all share one volume, so a change made through one is seen at once\n"
      "through the others. The control socket (default " +
          server::DefaultControlSocket() +
          ", or [control] socket) takes `zerofs flush|stats|gc|checkpoint|nbd`; [metrics]\n"
          "listen serves Prometheus metrics. SIGTERM/SIGINT flush and exit; SIGHUP reopens\n"
          "the log file. Prints one line per protocol with its addresses once serving.");
  cmd->add_option("--config", opts->config_path, "config file (see `zerofs config example`)");
  server::AddVolumeFlags(*cmd, opts->volume);
  server::AddServiceFlags(*cmd, opts->services);
  cmd->add_option("--nfs", opts->nfs_listen, "serve NFSv3 (and MOUNT) on ADDR:PORT (repeatable)");
  cmd->add_option("--9p", opts->ninep_listen, "serve 9P2000.L on ADDR:PORT (repeatable)");
  cmd->add_option("--9p-unix", opts->ninep_unix, "serve 9P2000.L on a Unix socket");
  cmd->add_option("--nbd", opts->nbd_listen, "serve NBD on ADDR:PORT (repeatable)");
  cmd->add_option("--nbd-unix", opts->nbd_unix, "serve NBD on a Unix socket");
  cmd->add_option("--nfs-commit", opts->nfs_commit,
                  "durable (default) or relaxed; overrides [servers.nfs] commit (see "
                  "zerofs-nfs --help for what relaxed risks)")
      ->check(CLI::IsMember({"durable", "relaxed"}));
  cmd->add_option("--log-level", opts->log_level,
                  "debug, info, warn, error or off; overrides [log] level (default info)");
  cmd->add_option("--log-file", opts->log_file, "append the log to FILE; overrides [log] file");
  cmd->add_flag("--exit-after-start", opts->exit_after_start,
                "start everything, print the addresses, then shut down cleanly (for checks)");
  cmd->callback([opts, &run] { run = [opts] { return RunServe(*opts); }; });
}

}  // namespace zerofs::cli
