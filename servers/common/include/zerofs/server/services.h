// The operational side of a running server: its control socket (control.h) and its
// Prometheus metrics (metrics.h), with the operations and metrics every server shares —
// those of the volume it serves and of each protocol it runs.
//
// Where they listen: --control-socket / --metrics-listen, else [control] socket and
// [metrics] listen from the config; with neither, metrics are off and the control socket
// is the default path for `zerofs run` only (so that several single-protocol servers on one
// machine do not compete for it).
//
// The volume's operations: flush, stats, gc, checkpoint.create|list|info|delete (see
// docs/operations.md for their arguments and replies).
//
// Thread-safety: configure (Add*, control()->Register) before Start; Stop from any thread.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "zerofs/common/status.h"
#include "zerofs/engine/space.h"
#include "zerofs/server/config.h"
#include "zerofs/server/control.h"
#include "zerofs/server/metrics.h"
#include "zerofs/server/op_counters.h"
#include "zerofs/server/volume.h"

namespace zerofs::server {

struct ServiceFlags {
  std::string control_socket;
  std::string metrics_listen;
};

void AddServiceFlags(CLI::App& app, ServiceFlags& flags);

// What a protocol server reports about itself (every server's ServerStats has these).
struct ProtocolCounters {
  std::uint64_t connections_accepted = 0;
  std::uint64_t connections_active = 0;
  std::uint64_t connections_refused = 0;
  std::uint64_t requests = 0;
  std::uint64_t protocol_errors = 0;
  std::vector<OpCount> ops;  // requests and errors by operation
};

class Services {
 public:
  // `default_control`: use DefaultControlSocket() when nothing names a control socket.
  Services(const ServiceFlags& flags, const Config& config, bool default_control);
  ~Services();
  Services(const Services&) = delete;
  Services& operator=(const Services&) = delete;

  // The volume's operations (flush, stats) and metrics. `volume` outlives Stop().
  void AddVolume(ServedVolume& volume);
  // A protocol's counters, in `stats` and the metrics under protocol="<name>".
  void AddProtocol(std::string name, std::function<ProtocolCounters()> counters);
  // More sections of the `stats` reply (e.g. the NFS commit mode).
  void AddStatsSection(std::string name, std::function<nlohmann::json()> section);

  // Null when no control socket is configured.
  ControlServer* control() { return control_.get(); }
  MetricsRegistry& metrics() { return *registry_; }

  Status Start();
  void Stop();

 private:
  std::unique_ptr<ControlServer> control_;
  std::shared_ptr<MetricsRegistry> registry_;
  std::unique_ptr<MetricsServer> metrics_server_;
  std::vector<std::pair<std::string, std::function<nlohmann::json()>>> stats_sections_;
};

// The JSON `stats` reports for a volume (also used by `zerofs stats` on a closed volume).
nlohmann::json VolumeStatsJson(ServedVolume& volume);
// The engine's space, GC and checkpoint reports as JSON (the control socket's replies and
// the CLI's --json output).
nlohmann::json SpaceStatsJson(const engine::SpaceStats& space);
nlohmann::json GcStatsJson(const engine::GcStats& stats);
nlohmann::json CheckpointJson(const engine::CheckpointInfo& info);

}  // namespace zerofs::server
